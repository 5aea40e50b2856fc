"""The layout of the M&E workbook, shared by the export (:mod:`mmicd.me.workbook_write`) and the
import (:mod:`mmicd.me.workbook_read`).

One layout for both directions, so that a ministry can round-trip its portfolio: sheets
``interventions``, ``indicators``, ``targets``, ``actuals`` (one row per total and per sex/age part)
and ``stages``, headers in English, French or Spanish (any of them, or the column code, is read back),
drop-down lists for every closed vocabulary, and an instructions sheet. Cells hold codes, never
translated labels, so a file exported in French imports anywhere.
"""

from __future__ import annotations

from mmicd.config import LANGUAGES
from mmicd.i18n import t
from mmicd.me.model import (
    Direction,
    Frequency,
    GmgStage,
    InterventionStatus,
    Level,
    OrgType,
    PeriodRule,
    ReportState,
    StageStatus,
    Unit,
    languages,
    sector_codes,
)

SHEETS: dict[str, list[str]] = {
    "interventions": ["id", "country", "title", "description", "sector", "lead", "lead_type", "partners",
                      "partner_types", "funders", "ndp_goal", "sdg_targets", "gmg_stage", "geographic_scope",
                      "scope_areas", "start", "end", "actual_start", "actual_end", "budget_planned",
                      "budget_disbursed", "currency", "status", "illustrative", "language"],
    "indicators": ["id", "intervention_id", "position", "name", "level", "unit", "direction", "baseline_value",
                   "baseline_date", "end_target", "end_date", "period_rule", "disaggregation", "data_source",
                   "frequency", "responsible", "link_indicator", "link_selection", "change_reason"],
    "targets": ["indicator_id", "due", "target"],
    "actuals": ["indicator_id", "period_start", "period_end", "sex", "age", "value", "numerator", "denominator",
                "comment", "evidence", "justification", "state", "acted_by", "acted_at", "note"],
    "stages": ["country", "stage", "status", "start", "end", "evidence", "note"],
}
LIST_SEPARATOR = "; "
DATE_COLUMNS = {"start", "end", "actual_start", "actual_end", "baseline_date", "end_date", "due", "period_start",
                "period_end"}
NUMBER_COLUMNS = {"budget_planned", "budget_disbursed", "baseline_value", "end_target", "target", "value",
                  "numerator", "denominator", "position"}
LIST_COLUMNS = {"partners", "partner_types", "funders", "sdg_targets", "disaggregation", "scope_areas"}


def is_portfolio(sheet_names) -> bool:
    """A workbook with the portfolio's own sheets (this template or its export), whatever else it holds."""
    return {"interventions", "indicators", "actuals"} <= set(sheet_names)


def vocabularies() -> dict[tuple[str, str], list[str]]:
    return {
        ("interventions", "sector"): sorted(sector_codes()),
        ("interventions", "lead_type"): [s.value for s in OrgType],
        ("interventions", "gmg_stage"): [s.value for s in GmgStage],
        ("interventions", "status"): [s.value for s in InterventionStatus],
        ("interventions", "illustrative"): ["yes", "no"],
        ("interventions", "language"): sorted(languages()),
        ("indicators", "level"): [s.value for s in Level],
        ("indicators", "unit"): [s.value for s in Unit],
        ("indicators", "direction"): [s.value for s in Direction],
        ("indicators", "period_rule"): [s.value for s in PeriodRule],
        ("indicators", "frequency"): [s.value for s in Frequency],
        ("actuals", "sex"): ["_T", "F", "M", "_U"],
        ("actuals", "state"): [s.value for s in ReportState],
        ("stages", "stage"): [s.value for s in GmgStage],
        ("stages", "status"): [s.value for s in StageStatus],
    }


def header(column: str, lang: str) -> str:
    return t(f"me.xl.col.{column}", lang)


def header_lookup(sheet: str) -> dict[str, str]:
    """Header text (code or label in any language, case-insensitive) -> column code."""
    lookup = {}
    for column in SHEETS[sheet]:
        lookup[column.lower()] = column
        for lang in LANGUAGES:
            lookup[header(column, lang).strip().lower()] = column
    return lookup


