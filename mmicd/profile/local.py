"""A subdivision's brief: the local profile (key figures, migrants by sex and age, origins, emigration
and returns) as a :class:`CountryProfile`, so that :mod:`mmicd.profile.brief` writes it in its four
formats. Every figure stands beside the national one (the same dataset version where it has one);
a block whose data are synthetic (demo) says so in its warnings, which every format prints."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from mmicd import codes
from mmicd import subdivisions as sub
from mmicd.engine import catalogue
from mmicd.i18n import format_datetime, t
from mmicd.profile.model import Block, CountryProfile, Section, SourceRef
from mmicd.ui.local_profile import KEY, MOVEMENTS, TOTAL_CELL, _cell, headline

T = codes.TOTAL
TOP = 10


def _n(value):
    """A count as a whole number (printed without decimals); anything else as it is."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _refs(rows: pd.DataFrame, versions: dict) -> list[SourceRef]:
    """The dataset versions of ``rows`` (source and edition from the rows; kind and scope from the store)."""
    out = []
    for i, g in rows.groupby(rows["dataset_id"].astype(int), sort=True):
        v = versions.get(i)
        out.append(SourceRef(dataset_id=i, source=str(g["source"].iloc[0]), edition=str(g["edition"].iloc[0] or ""),
                             kind=v.kind.value if v else "", national=bool(v and v.scope != "_ALL"),
                             estimate=bool((g["obs_status"] == "E").any())))
    return out


def _fill(block: Block, rows: list[dict], used: pd.DataFrame, versions: dict, lang: str, *notes: str) -> Block:
    """``block`` with its rows, the sources of ``used`` and, when they are synthetic, the warning."""
    if not rows:
        return block
    text = used["source"].astype(str) + " " + used["edition"].astype(str)
    block.rows = rows
    block.sources = _refs(used, versions)
    block.notes = [n for n in notes if n]
    if text.str.contains("synthetic", case=False).any():
        block.warnings = [t("local.synthetic", lang)]
    return block


def _key(table: pd.DataFrame, area: str, country: str, lang: str, empty: str, versions: dict) -> Block:
    defs = catalogue()
    block = Block(id="local_key", title=t("localbrief.block.key", lang),
                  columns=["figure", "value", "ci_lower", "ci_upper", "national_value", "time_period", "note"],
                  empty_message=empty)
    rows, used = [], []
    for ind in KEY:
        local = headline(table, ind, area)
        if local is None:
            continue
        nat = headline(table, ind, country, dataset=local["dataset_id"])
        aggregated = nat is not None and "aggregated from" in str(nat["note"] or "")
        rows.append({"figure": defs[ind].name.get(lang) or defs[ind].name["en"], "value": _n(local["value"]),
                     "ci_lower": local["ci_lower"], "ci_upper": local["ci_upper"],
                     "national_value": None if nat is None else _n(nat["value"]), "time_period": local["time_period"],
                     "note": t("local.aggregated", lang) if aggregated else ""})
        used += [local] + ([nat] if nat is not None else [])
    return _fill(block, rows, pd.DataFrame(used), versions, lang,
                 t("localbrief.note.key", lang, country=codes.area_name(country, lang)))


def _sex_age(table: pd.DataFrame, area: str, country: str, lang: str, empty: str, versions: dict) -> Block:
    """Migrants by five-year age group: the area's women, men and both sexes, the share of the area's
    migrants and the national share (latest year of the area, same dataset version)."""
    block = Block(id="local_sex_age", title=t("localbrief.block.sex_age", lang), unit="persons",
                  columns=["age", "F", "M", "total", "pct", "national_pct"], empty_message=empty)
    rows = _cell(table, indicator="imm_stock", ref_area=area, migrant_status=T, counterpart_area=T)
    rows = rows.loc[rows["value"].notna() & rows["sex"].isin(["F", "M"])]
    if rows.empty:
        return block
    year, dataset = rows["time_period"].max(), rows["dataset_id"].iloc[0]
    ages = list(codes.codelist("age").query("kind == '5y'")["code"])
    got, wide = {}, {}
    for where in (area, country):
        part = _cell(table, indicator="imm_stock", ref_area=where, migrant_status=T, counterpart_area=T,
                     time_period=year, dataset_id=dataset)
        got[where] = part.loc[part["sex"].isin(["F", "M", T]) & part["age"].isin(ages)]
        wide[where] = got[where].pivot_table(index="age", columns="sex", values="value", aggfunc="first") \
            .reindex(index=ages, columns=["F", "M", T])
        # both sexes as published (a cell suppressed by sex, e.g. 100+, still counts in the total)
        wide[where]["total"] = wide[where][T].fillna(wide[where][["F", "M"]].sum(axis=1, min_count=1))
    here, nat = wide[area], wide[country]
    out = [{"age": age, "F": _n(r["F"]), "M": _n(r["M"]), "total": _n(r["total"]),
            "pct": r["total"] / here["total"].sum() * 100,
            "national_pct": nat.at[age, "total"] / nat["total"].sum() * 100 if nat["total"].sum() else None}
           for age, r in here.iterrows() if r["total"] > 0]
    return _fill(block, out, pd.concat(got.values()), versions, lang, t("localbrief.note.year", lang, year=year))


def _origins(table: pd.DataFrame, area: str, country: str, lang: str, empty: str, versions: dict) -> Block:
    """Migrants by country of birth (the largest :data:`TOP`), women and men, the share of the area's
    migrants and the national share. The id ``origins`` draws the country profile's bar chart."""
    block = Block(id="origins", title=t("localbrief.block.origins", lang), unit="persons",
                  columns=["area", "name", "F", "M", "total", "pct", "national_pct"], empty_message=empty)
    rows = _cell(table, indicator="imm_stock", ref_area=area, age=T, migrant_status=T)
    rows = rows.loc[rows["value"].notna() & (rows["counterpart_area"] != T)]
    if rows.empty:
        return block
    year, dataset = rows["time_period"].max(), rows["dataset_id"].iloc[0]
    rows = rows.loc[(rows["time_period"] == year) & (rows["dataset_id"] == dataset)]
    nat = _cell(table, indicator="imm_stock", ref_area=country, sex=T, age=T, migrant_status=T, time_period=year,
                dataset_id=dataset)
    nat = nat.loc[nat["counterpart_area"] != T]
    wide = rows.pivot_table(index="counterpart_area", columns="sex", values="value", aggfunc="first")
    wide = wide.reindex(columns=["F", "M", T])
    wide[T] = wide[T].fillna(wide[["F", "M"]].sum(axis=1, min_count=1))
    national = nat.set_index("counterpart_area")["value"]
    out = [{"area": c, "name": codes.area_name(c, lang), "F": _n(r["F"]), "M": _n(r["M"]), "total": _n(r[T]),
            "pct": r[T] / wide[T].sum() * 100,
            "national_pct": national[c] / national.sum() * 100 if c in national.index and national.sum() else None}
           for c, r in wide.sort_values(T, ascending=False).head(TOP).iterrows()]
    return _fill(block, out, pd.concat([rows, nat]), versions, lang, t("profile.note.top", lang, n=TOP, year=year))


def _movements(table: pd.DataFrame, area: str, country: str, lang: str, empty: str, versions: dict) -> Block:
    """Emigrants, workers deployed abroad and returned migrants by year where data exist, beside the
    national figure of the same year and dataset version, and the area's share of it."""
    defs = catalogue()
    block = Block(id="local_movements", title=t("localbrief.block.movements", lang), unit="persons",
                  columns=["figure", "time_period", "value", "national_value", "share_of_national"], empty_message=empty)
    out, used = [], []
    for ind in MOVEMENTS:
        rows = _cell(table, indicator=ind, ref_area=area, **TOTAL_CELL)
        for r in rows.loc[rows["value"].notna()].sort_values("time_period").itertuples(index=False):
            nat = _cell(table, indicator=ind, ref_area=country, time_period=r.time_period, dataset_id=r.dataset_id,
                        **TOTAL_CELL)
            national = float(nat["value"].iloc[0]) if len(nat) else None
            out.append({"figure": defs[ind].name.get(lang) or defs[ind].name["en"], "time_period": r.time_period,
                        "value": _n(r.value), "national_value": _n(national),
                        "share_of_national": r.value / national * 100 if national else None})
            used += [rows.loc[rows["time_period"] == r.time_period], nat]
    return _fill(block, out, pd.concat(used) if used else table.iloc[0:0], versions, lang)


def local_profile(table: pd.DataFrame, area: str, lang: str = "en", versions: dict | None = None,
                  generated_at: str | None = None) -> CountryProfile:
    """The brief of subdivision ``area`` from :func:`mmicd.ui.local_profile.local_table`'s rows (the
    country's and its subdivisions'); ``versions``: {dataset id: DatasetVersion} for the sources' kind and
    scope."""
    country = sub.country_of(area)
    versions = versions or {}
    name = sub.subdivision_name(area, lang)
    empty = t("local.no_data_section", lang, area=name)
    args = (table, area, country, lang, empty, versions)
    sections = [
        Section(id="local_key", title=t("local.section.key", lang, area=name), blocks=[_key(*args)]),
        Section(id="local_immigration", title=t("localbrief.section.immigration", lang),
                blocks=[_sex_age(*args), _origins(*args)]),
        Section(id="local_movements", title=t("local.section.movements", lang, area=name), blocks=[_movements(*args)]),
    ]
    used = table.loc[table["ref_area"].isin([area, country]), "dataset_id"]
    return CountryProfile(country=area, parent=country, lang=lang, year=None,
                          name=t("localbrief.name", lang, area=name, country=codes.area_name(country, lang)),
                          generated_at=generated_at or format_datetime(datetime.now(UTC), lang),
                          sections=sections, dataset_ids=sorted({int(i) for i in used}))
