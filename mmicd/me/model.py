"""The joint M&E domain: interventions, their results frameworks, progress reports, target changes.

Plain pydantic models (no Streamlit, no database). Closed vocabularies are enums; sectors are a
configurable code list (``data/me/sectors.csv``). Percentages are stored as numerator and
denominator so that they can be aggregated across periods and breakdowns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from functools import cache

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mmicd import DATA_DIR, subdivisions
from mmicd.i18n import format_number, t
from mmicd.issues import Issue

ME_DATA = DATA_DIR / "me"


class InterventionStatus(StrEnum):
    PIPELINE = "pipeline"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class Level(StrEnum):
    IMPACT = "impact"
    OUTCOME = "outcome"
    OUTPUT = "output"


class Unit(StrEnum):
    NUMBER = "number"
    PERCENTAGE = "percentage"


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"


class PeriodRule(StrEnum):
    PER_PERIOD = "per_period"
    CUMULATIVE = "cumulative"
    LATEST = "latest"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


FREQUENCY_MONTHS = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.SEMIANNUAL: 6, Frequency.ANNUAL: 12}


class ReportState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class GmgStage(StrEnum):
    """The six stages of the GMG handbook's mainstreaming cycle."""

    ASSESSMENT = "assessment"
    OBJECTIVES = "objectives"
    ACTION_PLAN = "action_plan"
    CAPACITY = "capacity"
    IMPLEMENTATION = "implementation"
    MONITORING = "monitoring"


class StageStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class OrgType(StrEnum):
    """The kind of a lead or partner institution (local authorities: provinces, districts, municipalities)."""

    GOVERNMENT = "government"
    LOCAL_AUTHORITY = "local_authority"
    CIVIL_SOCIETY = "civil_society"
    INTERNATIONAL = "international"
    PRIVATE = "private"
    ACADEMIC = "academic"
    OTHER = "other"


DISAGGREGATIONS = ("sex", "age")


@cache
def sectors() -> pd.DataFrame:
    """The sector code list (code, name_en, name_fr, name_es)."""
    return pd.read_csv(ME_DATA / "sectors.csv", dtype=str, keep_default_na=False)


def sector_codes() -> frozenset[str]:
    return frozenset(sectors()["code"])


@cache
def languages() -> frozenset[str]:
    """ISO 639-1 codes of the IATI Language code list (``data/me/iati_languages.csv``)."""
    return frozenset(pd.read_csv(ME_DATA / "iati_languages.csv", dtype=str, keep_default_na=False)["code"])


def sector_name(code: str, lang: str = "en") -> str:
    table = sectors().set_index("code")
    column = f"name_{lang}" if f"name_{lang}" in table.columns else "name_en"
    return str(table.at[code, column]) if code in table.index else code


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True)


class Intervention(_Model):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    country: str = Field(min_length=3, max_length=3)
    title: str = Field(min_length=1)
    description: str = ""
    sector: str
    lead: str = Field(min_length=1, description="lead ministry or agency")
    partners: list[str] = []
    funders: list[str] = []
    ndp_goal: str = ""
    sdg_targets: list[str] = []
    gmg_stage: GmgStage = GmgStage.IMPLEMENTATION
    geographic_scope: str = ""
    # where it works: subdivision codes of ``country`` (ISO 3166-2, e.g. NP-P1), or ``country`` itself
    # for the whole country (national); empty: not stated
    scope_areas: list[str] = []
    lead_type: OrgType = OrgType.GOVERNMENT
    partner_types: list[OrgType] = []  # one per partner, in their order (empty: not stated)
    start: date
    end: date
    # when it really started and ended (IATI actual dates); empty: not recorded (never guessed from start/end)
    actual_start: date | None = None
    actual_end: date | None = None
    budget_planned: float = Field(default=0.0, ge=0)
    budget_disbursed: float = Field(default=0.0, ge=0)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    status: InterventionStatus
    illustrative: bool = False
    language: str = Field(default="en", description="ISO 639-1 code of the language of the texts")

    @field_validator("sector")
    @classmethod
    def _known_sector(cls, value: str) -> str:
        if value not in sector_codes():
            raise ValueError(f"unknown sector '{value}' (known: {', '.join(sorted(sector_codes()))})")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in languages():
            raise ValueError(f"'{value}' is not an ISO 639-1 language code (e.g. en, fr, es, ne)")
        return value

    @model_validator(mode="after")
    def _check(self) -> Intervention:
        if self.end < self.start:
            raise ValueError("end date before start date")
        if self.actual_end is not None and (self.actual_start is None or self.actual_end < self.actual_start):
            raise ValueError("actual end date without an actual start date, or before it")
        unknown = [a for a in self.scope_areas if a != self.country and subdivisions.country_of(a) != self.country]
        if unknown:
            raise ValueError(f"not a subdivision of {self.country}: {', '.join(unknown)}")
        if self.partner_types and len(self.partner_types) != len(self.partners):
            raise ValueError(f"{len(self.partner_types)} partner types for {len(self.partners)} partners")
        return self

    def national(self) -> bool:
        return self.country in self.scope_areas


class Milestone(_Model):
    due: date
    target: float


class CatalogueLink(_Model):
    """A link to an indicator of the statistical catalogue, with the selection of its breakdown."""

    indicator: str = Field(min_length=1)
    selection: dict[str, str] = {}


class Indicator(_Model):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    intervention_id: str
    name: str = Field(min_length=1)
    level: Level
    unit: Unit = Unit.NUMBER
    direction: Direction = Direction.INCREASE
    baseline_value: float
    baseline_date: date
    milestones: list[Milestone] = []
    end_target: float
    end_date: date
    period_rule: PeriodRule = PeriodRule.LATEST
    disaggregation: list[str] = []
    data_source: str = ""
    frequency: Frequency = Frequency.ANNUAL
    responsible: str = ""
    link: CatalogueLink | None = None
    position: int = 0

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        unknown = set(self.disaggregation) - set(DISAGGREGATIONS)
        if unknown:
            raise ValueError(f"unknown disaggregation {sorted(unknown)}")
        if self.end_date <= self.baseline_date:
            raise ValueError("end date must be after the baseline date")
        dues = [m.due for m in self.milestones]
        if len(set(dues)) != len(dues):
            raise ValueError("two milestones on the same date")
        if any(d <= self.baseline_date or d > self.end_date for d in dues):
            raise ValueError("milestones must fall after the baseline date and by the end date")
        self.milestones.sort(key=lambda m: m.due)
        return self

    def path(self) -> list[Milestone]:
        """Milestones then the end target, in date order (the end target replaces a milestone on its date)."""
        points = [m for m in self.milestones if m.due != self.end_date]
        return [*points, Milestone(due=self.end_date, target=self.end_target)]


class BreakdownValue(_Model):
    """One part of a report: a sex and/or age group with its value (or numerator and denominator)."""

    sex: str = "_T"
    age: str = "_T"
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None


class Report(_Model):
    """Actuals of one indicator for one reporting period, with their breakdown and approval state."""

    id: int | None = None
    indicator_id: str
    period_start: date
    period_end: date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    breakdown: list[BreakdownValue] = []
    comment: str = ""
    evidence: str = ""
    justification: str = ""
    state: ReportState = ReportState.DRAFT
    acted_by: str = ""
    acted_at: datetime | None = None
    note: str = ""

    @model_validator(mode="after")
    def _check(self) -> Report:
        if self.period_end < self.period_start:
            raise ValueError("period end before period start")
        return self

    def total(self, unit: Unit) -> float | None:
        """The reported value (percentages: numerator / denominator × 100)."""
        if unit == Unit.PERCENTAGE:
            if self.numerator is None or not self.denominator:
                return None
            return self.numerator / self.denominator * 100
        return self.value


class TargetChange(_Model):
    indicator_id: str
    field: str  # baseline_value, baseline_date, end_target, end_date, milestone:<date>
    old: str | float | None
    new: str | float | None
    reason: str
    actor: str
    at: datetime


class StageRecord(_Model):
    """Where a country stands in one stage of the GMG mainstreaming cycle."""

    country: str
    stage: GmgStage
    status: StageStatus = StageStatus.NOT_STARTED
    start: date | None = None
    end: date | None = None
    evidence: str = ""
    note: str = ""


def milestone_problems(milestones: list[Milestone], baseline_date: object, end_date: object,
                       intervention: Intervention | None, lang: str = "en") -> list[tuple[date, str]]:
    """(date, message) of each milestone on the same date as another, not after the baseline date, after
    the end date, or outside the intervention's dates (the rules of the import and of the forms)."""
    out, seen = [], set()
    for m in milestones:
        due = m.due.isoformat()
        if m.due in seen:
            out.append((m.due, t("forms.issue.milestone_twice", lang, date=due)))
        seen.add(m.due)
        if isinstance(baseline_date, date) and m.due <= baseline_date:
            out.append((m.due, t("forms.issue.milestone_before_baseline", lang, date=due,
                                 baseline=baseline_date.isoformat())))
        if isinstance(end_date, date) and m.due > end_date:
            out.append((m.due, t("forms.issue.milestone_after_end", lang, date=due, end=end_date.isoformat())))
        if intervention is not None and not intervention.start <= m.due <= intervention.end:
            out.append((m.due, t("forms.issue.milestone_outside", lang, date=due, id=intervention.id,
                                 start=intervention.start.isoformat(), end=intervention.end.isoformat())))
    return out


def check_report(report: Report, indicator: Indicator, *, lang: str = "en", sheet: str | None = None,
                 row: int | None = None, file: str | None = None) -> list[Issue]:
    """Problems of a report: missing values, and a breakdown that does not add up to the total.

    A breakdown that does not add up is an error showing the difference, unless a justification is
    recorded (then a warning). Parts are grouped by dimension: the sexes at all ages, the age groups
    of both sexes; each group present must add up to the total.
    """
    issues: list[Issue] = []
    pct = indicator.unit == Unit.PERCENTAGE

    def issue(level, message, column, value=None):
        issues.append(Issue(level, message, file=file, sheet=sheet, row=row, column=column,
                            value=None if value is None else str(value)))

    if pct:
        if report.numerator is None or report.denominator is None:
            issue("error", t("me.issue.pct_needs_parts", lang), "numerator")
            return issues
        if report.denominator <= 0:
            issue("error", t("me.issue.denominator_positive", lang), "denominator", report.denominator)
            return issues
        if not 0 <= report.numerator <= report.denominator:
            issue("error", t("me.issue.numerator_range", lang), "numerator", report.numerator)
    elif report.value is None:
        issue("error", t("me.issue.value_missing", lang), "value")
        return issues
    groups: dict[str, list[BreakdownValue]] = {"sex": [], "age": []}
    for part in report.breakdown:
        if part.sex != "_T" and part.age == "_T":
            groups["sex"].append(part)
        elif part.age != "_T" and part.sex == "_T":
            groups["age"].append(part)
    for dim, parts in groups.items():
        if not parts:
            continue
        fields = ("numerator", "denominator") if pct else ("value",)
        for field in fields:
            total = getattr(report, field)
            values = [getattr(p, field) for p in parts]
            if any(v is None for v in values):
                issue("error", t("me.issue.part_missing", lang, dim=t(f"me.dim.{dim}", lang)), field)
                continue
            difference = sum(values) - total
            if abs(difference) > 1e-9 * max(1.0, abs(total)):
                level = "warning" if report.justification.strip() else "error"
                sign = "+" if difference > 0 else ""
                issue(level, t("me.issue.breakdown_sum", lang, dim=t(f"me.dim.{dim}", lang),
                               parts=format_number(sum(values), lang, 2 if pct else 0),
                               total=format_number(total, lang, 2 if pct else 0),
                               difference=sign + format_number(difference, lang, 2 if pct else 0)),
                      field, f"{difference:+g}")
    return issues
