"""Blocks as display tables: labels instead of codes, column names in the profile's language."""

from __future__ import annotations

import pandas as pd

from mmicd import codes
from mmicd.charts import series_label
from mmicd.engine import catalogue
from mmicd.i18n import t
from mmicd.profile.model import Block

PROFILE_SERIES = ("REM_IN", "REM_OUT", "rem_per_emigrant")  # series named by the profile, not the catalogue
LABELLED = {"sex": "sex", "migrant_status": "migrant_status", "age": "age"}


def display(block: Block, lang: str) -> pd.DataFrame:
    frame = block.frame().copy()
    for col, listname in LABELLED.items():
        if col in frame.columns:
            frame[col] = frame[col].map(lambda c, ln=listname: codes.label(ln, c, lang) if isinstance(c, str) else c)
    if "design" in frame.columns:
        frame["design"] = frame["design"].map(lambda d: t(f"ind.design.{d}", lang) if isinstance(d, str) else d)
    if "indicator" in frame.columns:
        frame["indicator"] = frame["indicator"].map(lambda i: t(f"profile.indicator.{i}", lang))
    if "series" in frame.columns:
        frame["series"] = frame["series"].map(lambda c: series_name(c, lang))
    if "origin" in frame.columns:
        frame["origin"] = frame["origin"].map(lambda o: t(f"profile.origin.{o}", lang))
    return frame.rename(columns={c: t(f"profile.col.{c}", lang) for c in frame.columns})


def top_by_sex(rows: pd.DataFrame, key: str, lang: str, n: int) -> list[dict]:
    """The ``n`` largest areas of column ``key`` (both sexes; the sum of women and men where the file
    gives no total), as rows ``area, name, F, M, total``."""
    wide = rows.pivot_table(index=key, columns="sex", values="value", aggfunc="sum")
    for s in ("F", "M", codes.TOTAL):
        if s not in wide.columns:
            wide[s] = float("nan")
    wide[codes.TOTAL] = wide[codes.TOTAL].fillna(wide[["F", "M"]].sum(axis=1, min_count=1))
    wide = wide[["F", "M", codes.TOTAL]].reset_index().sort_values(codes.TOTAL, ascending=False).head(n)
    wide = wide.rename(columns={key: "area", codes.TOTAL: "total"})
    wide.insert(1, "name", wide["area"].map(lambda c: codes.area_name(c, lang)))
    return wide[["area", "name", "F", "M", "total"]].to_dict("records")


def series_name(code: str, lang: str) -> str:
    """A series as readers name it: a catalogue indicator's name, a remittance series, or a sex or
    migrant status."""
    if code in PROFILE_SERIES:
        return t(f"profile.series.{code}", lang)
    defs = catalogue()
    return defs[code].name.get(lang) if code in defs else series_label(code, lang)


def sources_text(block_or_refs, lang: str) -> str:
    refs = block_or_refs.sources if isinstance(block_or_refs, Block) else block_or_refs
    items = []
    for ref in refs:
        flags = (t("profile.source_national", lang) if ref.national else "") + \
                (t("profile.source_estimate", lang) if ref.estimate else "")
        items.append(t("profile.source_item", lang, source=ref.source, edition=ref.edition or "–", id=ref.dataset_id,
                       flags=flags))
    return t("profile.sources", lang, sources="; ".join(dict.fromkeys(items))) if items else ""
