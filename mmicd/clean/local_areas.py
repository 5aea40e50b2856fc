"""Subnational areas in an upload: a column of provinces, districts, regions (codes or names) placed
within the upload's country, and the subdivisions' sums checked against the national figures.

:func:`place` turns the source column ``subdivision`` (header synonyms in
``data/mappings/synonyms.yml``) into ``ref_area`` codes: the ISO 3166-2 code (or the office's code,
see :mod:`mmicd.subdivision_lists`) of the subdivision named in each row, resolved within the row's
country among the codes valid in the row's year; a blank, "Total" or the country itself is the
country. A name nobody knows, a name of two subdivisions, a code of another country's subdivision
or a code used outside its validity dates is an error at its cell, with close names suggested.

:func:`check_totals` compares the subdivisions' sums with the national figure of the same cell,
in the same upload or, when the upload has none, in the published national series: a warning with
the difference and its share of the national figure (the rules of :mod:`mmicd.rules.totals` tell
parts against their total the same way).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd import subdivisions as sub
from mmicd.clean.mapping import key as match_key
from mmicd.i18n import format_number, t
from mmicd.issues import Issue
from mmicd.rules.base import ADDITIVE_UNITS, MAX_PER_CHECK, SUM_TOLERANCE

TOTAL_WORDS = {"total", "all", "national", "ensemble", "todos", "nacional", "whole country", "pays entier"}
DIMS = ["measure", "time_period", "sex", "age", "migrant_status", "counterpart_area", "labour_status", "breakdown"]


def _is_total(text: str, country: str) -> bool:
    return not text or text == codes.TOTAL or match_key(text) in TOTAL_WORDS or codes.resolve_area(text) == country


def place(ctx, src: pd.DataFrame, country: str | None) -> None:
    """Replace ``src['subdivision']`` by ``src['ref_area']`` codes (errors at the cells, see module)."""
    text = src.pop("subdivision").astype("string").fillna("").str.strip()
    if country:
        countries = pd.Series(country, index=src.index, dtype="string")
    elif "ref_area" in src:
        countries = src["ref_area"].astype("string").fillna("").str.strip()
        countries = countries.map({c: codes.resolve_area(c) or "" for c in pd.unique(countries)})
    else:
        ctx.add("error", "subdivision_no_country", column=ctx.col("subdivision"))
        src["ref_area"] = ""
        return
    year = src["time_period"].astype("string").str.extract(r"((?:1[89]|20)\d\d)", expand=False) \
        if "time_period" in src else pd.Series(pd.NA, index=src.index, dtype="string")
    distinct = [str(v) for v in pd.unique(text) if v]
    if distinct and sum(bool(codes.resolve_area(v)) for v in distinct) > len(distinct) / 2:
        # world regions or countries ("Region: Asia"), not areas within a country: not a subnational column
        ctx.add("info", "subdivision_ignored", column=ctx.col("subdivision"), value=distinct[0])
        if "ref_area" not in src:
            src["ref_area"] = countries
        return
    keys = pd.DataFrame({"c": countries, "t": text, "y": year.fillna("")})
    out = pd.Series(countries.to_numpy(), index=src.index, dtype="string")
    view = pd.DataFrame({"_row": src["_row"].to_numpy() if "_row" in src else np.arange(len(src)) + 2},
                        index=src.index)
    for (c, written, y), rows in keys.groupby(["c", "t", "y"], sort=False).groups.items():
        if not c or _is_total(written, c):
            continue
        found = sub.resolve_subdivision(written, c, year=y or None)
        if found:
            out.loc[rows] = found
            continue
        mask = src.index.isin(rows)
        where = {"country": codes.area_name(c, ctx.lang)}
        owner = sub.other_country(written, c)
        if owner:
            ctx.cells("error", "subdivision_other_country", view, mask, "subdivision", source_values=text,
                      owner=codes.area_name(owner, ctx.lang), **where)
        elif sub.ambiguous(written, c, year=y or None):
            ctx.cells("error", "subdivision_ambiguous", view, mask, "subdivision", source_values=text,
                      codes=", ".join(sub.ambiguous(written, c, year=y or None)), **where)
        elif y and sub.not_valid_then(written, c, y):
            code = sub.not_valid_then(written, c, y)[0]
            row = sub.subdivisions().loc[code]
            ctx.cells("error", "subdivision_not_valid", view, mask, "subdivision", source_values=text, code=code,
                      year=y, start=row["valid_from"] or "…", end=row["valid_to"] or "…", **where)
        else:
            close = sub.suggestions(written, c)
            ctx.cells("error", "unknown_subdivision_hint" if close else "unknown_subdivision", view, mask,
                      "subdivision", source_values=text, hint=", ".join(close), **where)
    src["ref_area"] = out


# ---- sums of subdivisions against the national figure -------------------------------------------
def _label(row: pd.Series) -> str:
    parts = [str(row["measure"]), str(row["time_period"])]
    parts += [f"{d}={row[d]}" for d in DIMS[2:] if row[d] != codes.TOTAL]
    return ", ".join(parts)


def subdivision_sums(frame: pd.DataFrame) -> pd.DataFrame:
    """Per parent area (a country, or a subdivision for its children) and cell of :data:`DIMS`: the
    sum of the subdivisions' values (``sum``), how many subdivisions gave one (``n``) and whether
    every current subdivision of the parent did (``complete``). Additive units only; a parent's
    children are the subdivisions whose parent it is (old codes included: a split code counts in
    its parent's sum)."""
    if frame.empty or not any(sub.is_subdivision(a) for a in pd.unique(frame["ref_area"])):
        return pd.DataFrame(columns=["parent", *DIMS, "sum", "n", "complete"])
    areas = frame["ref_area"].astype(str)
    is_sub = areas.isin(sub.subdivisions().index) & frame["unit_measure"].isin(ADDITIVE_UNITS) & frame["value"].notna()
    parts = frame.loc[is_sub].copy()
    if parts.empty:
        return pd.DataFrame(columns=["parent", *DIMS, "sum", "n", "complete"])
    parents = {a: sub.parent_of(a) for a in pd.unique(parts["ref_area"])}
    parts["parent"] = parts["ref_area"].map(parents)
    sums = parts.groupby(["parent", *DIMS], sort=False).agg(sum=("value", "sum"), n=("value", "size"),
                                                            children=("ref_area", frozenset)).reset_index()
    sums["complete"] = [sub.covers_all(p, ch) for p, ch in zip(sums["parent"], sums["children"], strict=True)]
    return sums.drop(columns="children")


def check_totals(frame: pd.DataFrame, *, store=None, country: str | None = None, file: str | None = None,
                 lang: str = "en") -> list[Issue]:
    """Warnings where the subdivisions' sum differs from the national figure (see module)."""
    sums = subdivision_sums(frame)
    if sums.empty:
        return []
    totals = frame.loc[frame["value"].notna(), ["ref_area", *DIMS, "value"]].rename(
        columns={"ref_area": "parent", "value": "total"})
    joined = sums.merge(totals, on=["parent", *DIMS], how="left")
    joined["published"] = ""
    lacking = joined["total"].isna() & (joined["parent"] == country)
    if store is not None and country and lacking.any():
        from mmicd.engine.inputs import read_inputs

        national = read_inputs(store, country, microdata=False).own
        national = national.loc[national["value"].notna()].drop_duplicates(["ref_area", *DIMS])
        pub = national.rename(columns={"ref_area": "parent", "value": "pub"})[["parent", *DIMS, "pub", "source"]]
        joined = joined.merge(pub, on=["parent", *DIMS], how="left")
        use = lacking & joined["pub"].notna()
        joined.loc[use, "total"] = joined.loc[use, "pub"]
        joined.loc[use, "published"] = joined.loc[use, "source"].astype(str)
    joined = joined.loc[joined["total"].notna()]
    diff = joined["sum"] - joined["total"]
    tol = np.maximum(SUM_TOLERANCE * joined["total"].abs(), 0.5)
    hit = joined.loc[(joined["complete"] & (diff.abs() > tol)) | (~joined["complete"] & (diff > tol))]
    issues = []
    for _, r in hit.head(MAX_PER_CHECK).iterrows():
        d = r["sum"] - r["total"]
        key = ("local.totals.published" if r["published"] else "local.totals.mismatch") if r["complete"] \
            else "local.totals.exceeds"
        issues.append(Issue("warning", t(key, lang, area=codes.area_name(r["parent"], lang)
                                         if codes.area_kind(r["parent"]) else sub.subdivision_name(r["parent"], lang),
                                         cell=_label(r), sum=format_number(r["sum"], lang),
                                         total=format_number(r["total"], lang), diff=format_number(d, lang),
                                         pct=format_number(100 * d / r["total"], lang, 1) if r["total"] else "–",
                                         source=r["published"]),
                            file=file, value=_label(r), check="subdivision_totals"))
    if len(hit) > MAX_PER_CHECK:
        issues.append(Issue("warning", t("local.totals.more", lang, n=len(hit) - MAX_PER_CHECK), file=file,
                            check="subdivision_totals"))
    return issues

