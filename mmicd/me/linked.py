"""Actuals of indicators linked to the statistical catalogue, taken from the PUBLISHED statistics.

An M&E indicator may be linked to a catalogue indicator (``unemp_rate``, ``rem_in_gdp`` …) with a
selection of its breakdown: ``country`` (default: the intervention's country), ``sex``, ``age``,
``migrant_status`` and ``counterpart_area`` (each ``_T`` when not given). Its actuals are then the
engine's figures (:func:`mmicd.engine.compute`, published dataset versions only), one per time
period, each with its confidence interval, observation status and provenance (source, edition,
dataset version). Nobody types them and nobody approves them: they change when a new version of the
statistics is published.

- An estimate flagged ``U`` (low reliability) is counted and shown with its flag.
- A suppressed estimate (``Q``) has no number (the engine blanks it); it is listed with its flag and
  never shown or counted as a number.
- When the same period comes from several sources, the most recently published dataset version is
  used (the highest version id).
- The sex and age breakdowns (where the indicator requires them) come from the same table: the
  sexes at the selected age, and the broad age groups of ``data/me/config.yml`` at the selected sex.
- A count of a flow (permits issued, migrants returned) is an actual for whole years only: a month or
  quarter of it is not comparable with a target set for a year, so its monthly and quarterly rows
  are left out (the engine gives the year's value once every month is present).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from mmicd.me.config import me_config
from mmicd.me.model import Indicator, Intervention

SELECTION_KEYS = ("country", "sex", "age", "migrant_status", "counterpart_area")
SOURCE_STATE = "statistics"  # how the views tell these actuals from reported ones


@dataclass(frozen=True)
class StatActual:
    """One published figure of a linked indicator for one time period."""

    indicator_id: str
    time_period: str
    period_start: date
    period_end: date
    value: float | None  # None when suppressed (Q) or missing
    ci_lower: float | None = None
    ci_upper: float | None = None
    obs_status: str = "A"
    source: str = ""
    edition: str = ""
    dataset_id: str = ""
    catalogue_id: str = ""
    selected: tuple[str, str] = ("_T", "_T")  # the sex and age of the link's selection
    # (sex, age) -> (value or None when suppressed, obs_status): the breakdown the indicator requires
    parts: dict[tuple[str, str], tuple[float | None, str]] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        """A number the status may use (not suppressed, not missing)."""
        return self.value is not None and self.obs_status not in ("Q", "M")


def _float(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def month_end_of(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_dates(time_period: str) -> tuple[date, date] | None:
    """The first and last day of an SDMX time period: ``2023``, ``2023-Q3``, ``2023-S2``, ``2023-07``."""
    text = str(time_period).strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        return date(year, 1, 1), date(year, 12, 31)
    match = re.fullmatch(r"(\d{4})-([QS])([1-4])", text)
    if match:
        year, kind, n = int(match[1]), match[2], int(match[3])
        months = 3 if kind == "Q" else 6
        if kind == "S" and n > 2:
            return None
        first = (n - 1) * months + 1
        return date(year, first, 1), month_end_of(year, first + months - 1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), month_end_of(year, month)
    return None


def selection_of(indicator: Indicator, intervention: Intervention | None) -> dict[str, str]:
    """The complete selection of a link: every key of :data:`SELECTION_KEYS`, ``_T`` when not given."""
    chosen = dict(indicator.link.selection) if indicator.link else {}
    if "ref_area" in chosen and "country" not in chosen:
        chosen["country"] = chosen.pop("ref_area")
    out = {key: str(chosen.get(key, "_T")) for key in SELECTION_KEYS}
    if "country" not in chosen:
        out["country"] = intervention.country if intervention else ""
    return out


def actuals_from_table(indicator: Indicator, intervention: Intervention | None, table: pd.DataFrame,
                       age_groups: Iterable[str] | None = None) -> list[StatActual]:
    """The actuals of a linked indicator from an engine output table (:data:`mmicd.engine.OUTPUT_COLUMNS`)."""
    if indicator.link is None or table.empty:
        return []
    sel = selection_of(indicator, intervention)
    frame = table.loc[(table["indicator"] == indicator.link.indicator) & (table["ref_area"] == sel["country"])
                      & (table["migrant_status"] == sel["migrant_status"])
                      & (table["counterpart_area"] == sel["counterpart_area"])]
    if frame.empty:
        return []
    if _annual_only(indicator.link.indicator):
        frame = frame.loc[frame["time_period"].astype(str).str.fullmatch(r"\d{4}")]
        if frame.empty:
            return []
    frame = frame.assign(_version=pd.to_numeric(frame["dataset_id"], errors="coerce").fillna(-1))
    ages = list(age_groups if age_groups is not None else me_config().age_groups)
    out = []
    for time_period, rows in frame.groupby("time_period", sort=True):
        dates = period_dates(time_period)
        if dates is None:
            continue
        newest = rows.loc[rows["_version"] == rows["_version"].max()]
        main = newest.loc[(newest["sex"] == sel["sex"]) & (newest["age"] == sel["age"])]
        if main.empty:
            continue
        row = main.iloc[0]
        parts: dict[tuple[str, str], tuple[float | None, str]] = {}
        if "sex" in indicator.disaggregation and sel["sex"] == "_T":
            for sex in ("F", "M"):
                found = newest.loc[(newest["sex"] == sex) & (newest["age"] == sel["age"])]
                if not found.empty:
                    parts[(sex, sel["age"])] = (_shown(found.iloc[0]), _status(found.iloc[0]))
        if "age" in indicator.disaggregation and sel["age"] == "_T":
            for age in ages:
                found = newest.loc[(newest["sex"] == sel["sex"]) & (newest["age"] == age)]
                if not found.empty:
                    parts[(sel["sex"], age)] = (_shown(found.iloc[0]), _status(found.iloc[0]))
        status = _status(row)
        out.append(StatActual(
            indicator_id=indicator.id, time_period=str(time_period), period_start=dates[0], period_end=dates[1],
            value=_shown(row), ci_lower=None if status == "Q" else _float(row["ci_lower"]),
            ci_upper=None if status == "Q" else _float(row["ci_upper"]), obs_status=status,
            source=str(row["source"] or ""), edition=str(row["edition"] or ""),
            dataset_id=str(row["dataset_id"] or ""), catalogue_id=indicator.link.indicator, parts=parts,
            selected=(sel["sex"], sel["age"])))
    return sorted(out, key=lambda a: (a.period_end, a.period_start))


def _annual_only(catalogue_id: str) -> bool:
    """A catalogue count or difference of flows (measure nature ``flow``): actuals by whole year."""
    from mmicd.engine import catalogue
    from mmicd.engine.periods import nature

    ind = catalogue().get(catalogue_id)
    if ind is None or ind.type not in ("count", "difference"):
        return False
    measures = [*ind.numerator.get("measure", ()), *(ind.minus or {}).get("measure", ())]
    return bool(measures) and all(nature(m) == "flow" for m in measures)


def _status(row: pd.Series) -> str:
    return str(row["obs_status"]) if isinstance(row["obs_status"], str) and row["obs_status"] else "A"


def _shown(row: pd.Series) -> float | None:
    """The value of an engine row, never a number for a suppressed (Q) one."""
    return None if row["obs_status"] == "Q" else _float(row["value"])


def linked_requests(portfolio) -> dict[str, list[str]]:
    """Country -> the catalogue indicators its linked M&E indicators need (known to the catalogue)."""
    from mmicd.engine import catalogue

    known = catalogue()
    wanted: dict[str, list[str]] = {}
    for ind in portfolio.indicators:
        if ind.link is None or ind.link.indicator not in known:
            continue
        country = selection_of(ind, portfolio.intervention(ind.intervention_id))["country"]
        if country and ind.link.indicator not in wanted.setdefault(country, []):
            wanted[country].append(ind.link.indicator)
    return wanted


def linked_statistics(store, portfolio) -> dict[str, list[StatActual]]:
    """M&E indicator id -> its actuals from the published statistics (one engine run per country)."""
    from mmicd.engine import compute

    out: dict[str, list[StatActual]] = {}
    for country, ids in linked_requests(portfolio).items():
        table = compute(store, country=country, indicators=ids).table
        for ind in portfolio.indicators:
            if ind.link is None:
                continue
            iv = portfolio.intervention(ind.intervention_id)
            if selection_of(ind, iv)["country"] == country and ind.link.indicator in ids:
                out[ind.id] = actuals_from_table(ind, iv, table)
    return out


def with_statistics(store, portfolio):
    """The portfolio with the actuals of its linked indicators filled in from the published statistics."""
    portfolio.statistics = linked_statistics(store, portfolio)
    return portfolio
