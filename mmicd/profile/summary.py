"""Donor country summaries: the key indicators of a profile condensed into rows (latest value,
reference year, trend, SDG target, one-line reading), and a comparison with the region, the income
group and the world computed from summed numerators and denominators."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, Field

from mmicd import codes
from mmicd.i18n import format_number, format_value, t
from mmicd.overview import key_figures
from mmicd.profile.model import Block, CountryProfile, SourceRef
from mmicd.profile.regions import groups_of
from mmicd.profile.remittances import country_totals, group_ratio

T = codes.TOTAL
SUMMARY_IDS = ("imm_stock", "imm_share", "imm_female_share", "emig_stock", "rem_in_usd", "rem_in_gdp", "rem_cost",
               "lm_gap")
TARGETS = {"rem_in_gdp": "summary.target.rem_in_gdp", "rem_cost": "summary.target.rem_cost"}


class SummaryRow(BaseModel):
    id: str
    title: str
    unit: str
    value: float | None = None
    year: str | None = None
    trend: list[float] = Field(default_factory=list)
    target: str = ""
    reading: str = ""
    sources: list[SourceRef] = Field(default_factory=list)




def _reading(fid: str, value: float | None, unit: str, year: str | None, lang: str, **extra) -> str:
    if value is None:
        return t("summary.read.none", lang)
    shown = format_value(value, unit, lang)
    if fid == "imm_share":
        change, prev = extra.get("change"), extra.get("prev")
        if change is None or prev is None or abs(change) < 0.05:
            return t("summary.read.imm_share.flat", lang, value=shown, year=year)
        key = "summary.read.imm_share.up" if change > 0 else "summary.read.imm_share.down"
        return t(key, lang, value=shown, year=year, change=format_number(abs(change), lang, 1), prev=prev)
    if fid == "imm_stock":
        return t("summary.read.imm_stock", lang, value=shown, year=year, female=extra.get("female", "–"))
    if fid == "rem_cost":
        return t("summary.read.rem_cost.met" if value < 3 else "summary.read.rem_cost.missed", lang, value=shown,
                 year=year)
    if fid in ("emig_stock", "rem_in_usd", "rem_in_gdp", "lm_gap", "imm_female_share"):
        return t(f"summary.read.{fid}", lang, value=shown, year=year)
    return ""


def summary_rows(profile: CountryProfile) -> list[SummaryRow]:
    lang = profile.lang
    rows = []
    figs = {f.id: f for f in profile.key_figures}
    for fid in SUMMARY_IDS:
        if fid == "rem_cost":
            cost = profile.block("cost")
            avg = [r for r in cost.rows if r.get("area") == T]
            value = avg[0]["value"] if avg else None
            year = avg[0]["time_period"] if avg else None
            rows.append(SummaryRow(id=fid, title=t("summary.indicator.rem_cost", lang), unit="percent", value=value,
                                   year=year, target=t(TARGETS[fid], lang), sources=cost.sources,
                                   reading=_reading(fid, value, "percent", year, lang)))
            continue
        f = figs[fid]
        trend = [float(r["value"]) for r in sorted(f.trend, key=lambda r: r["time_period"])
                 if r.get("series") == T and r.get("value") is not None]
        extra = {"change": f.change, "prev": f.previous_year}
        if fid == "imm_stock":
            extra["female"] = format_value(figs["imm_female_share"].value, "percent", lang)
        rows.append(SummaryRow(id=fid, title=f.title, unit=f.unit, value=f.value, year=f.year, trend=trend,
                               target=t(TARGETS[fid], lang) if fid in TARGETS else "", sources=f.sources,
                               reading=_reading(fid, f.value, f.unit, f.year, lang, **extra)))
    return rows


UNIT_KEYS = {"persons": "unit.persons", "percent": "unit.percent", "usd": "unit.usd", "points": "profile.unit.points"}


def country_cell(row: SummaryRow, lang: str) -> str:
    """A value with its reference year, as one cell of the comparison table ("18.8% (2020)")."""
    if row.value is None:
        return "–"
    return t("rv.cmp.cell", lang, value=format_value(row.value, row.unit, lang), year=row.year or "–")


def compare_frame(profiles: list[CountryProfile]) -> pd.DataFrame:
    """Several countries side by side: the summary's indicators as rows with their unit, one column
    per country holding the latest value and its reference year (columns and labels in the
    profiles' language)."""
    lang = profiles[0].lang
    rows = [summary_rows(p) for p in profiles]
    frame = pd.DataFrame({t("summary.indicator", lang): [r.title for r in rows[0]],
                          t("rv.cmp.unit", lang): [t(UNIT_KEYS.get(r.unit, "rv.cmp.no_unit"), lang) for r in rows[0]]})
    for profile, mine in zip(profiles, rows, strict=True):
        frame[profile.name] = [country_cell(r, lang) for r in mine]
    return frame


def comparison(profile: CountryProfile, aggregates: pd.DataFrame, rem_world: pd.DataFrame | None) -> Block:
    """Migrant share and remittances/GDP of the country beside its region, income group and the world.

    ``aggregates``: migrant-stock observations whose ref_area is one of the aggregates (as the source
    publishes them: numerator and denominator of the same dataset); remittances/GDP of aggregates are
    recomputed from member countries (:func:`group_ratio`).
    """
    lang, year = profile.lang, profile.year
    groups = groups_of(profile.country)
    areas = [profile.country] + [g for g in (groups["sdg_region"], groups["income_group"], "WLD") if g]
    rows = []
    totals = country_totals(rem_world) if rem_world is not None and not rem_world.empty else None
    if totals is not None and year is not None:
        totals = totals.loc[totals["time_period"] <= str(year)]
    for area in areas:
        row = {"area": area, "name": codes.area_name(area, lang), "imm_share": None, "imm_share_year": None,
               "rem_in_gdp": None, "rem_in_gdp_year": None}
        if area == profile.country:
            f = profile.figure("imm_share")
            row["imm_share"], row["imm_share_year"] = f.value, f.year
        elif not aggregates.empty:
            own = aggregates.loc[aggregates["ref_area"] == area]
            if not own.empty:
                kf = key_figures(own, own.iloc[0:0], year)["imm_share"]
                row["imm_share"], row["imm_share_year"] = kf.value, kf.year
        if totals is not None:
            if area == profile.country:
                mine = totals.loc[(totals["ref_area"] == area) & totals["REM_IN"].notna() & (totals["GDP"] > 0)]
                if not mine.empty:
                    last = mine.sort_values("time_period").iloc[-1]
                    row["rem_in_gdp"], row["rem_in_gdp_year"] = last["REM_IN"] / last["GDP"] * 100, last["time_period"]
            else:
                ratio = group_ratio(totals, area)
                if not ratio.empty:
                    row["rem_in_gdp"], row["rem_in_gdp_year"] = ratio["value"].iloc[-1], ratio["time_period"].iloc[-1]
        rows.append(row)
    usable = [r for r in rows[1:] if r["imm_share"] is not None or r["rem_in_gdp"] is not None]
    return Block(id="comparison", title=t("summary.comparison", lang), unit="percent",
                 columns=["area", "name", "imm_share", "imm_share_year", "rem_in_gdp", "rem_in_gdp_year"],
                 rows=rows if usable else [], notes=[t("summary.comparison_caption", lang)],
                 empty_message=t("summary.no_comparison", lang))
