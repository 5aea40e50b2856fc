"""IATI 2.03 activity XML of the portfolio, with results: result → indicator → baseline → period →
target / actual, and ``dimension`` for the sex breakdown of actuals. It passes the XSD and the IATI
Standard Ruleset 2.03 with no error and no warning (``tests/me/test_iati_rules.py``).

- **Reporting organisation**: ``reporting_org`` of ``data/me/config.yml``; ``MMICD_IATI_REPORTING_ORG``
  (and ``MMICD_IATI_REPORTING_ORG_NAME``) override it. The identifier must start with a
  registration-agency prefix of the IATI Organisation Identifier list
  (``data/me/iati_organisation_agencies.csv``: the two first hyphen-separated parts, e.g. ``XM-DAC``),
  then a hyphen and the organisation's own identifier, without spaces or ``/ & | ?``. Each activity
  identifier is ``<reporting org>-<intervention id>``.
- **Language**: ``xml:lang`` of each activity is the intervention's ``language`` (ISO 639-1).
- **Dates and status** (ActivityStatus 1 pipeline, 2 implementation, 4 closed, 5 cancelled,
  6 suspended; ActivityDateType 1/3 planned start/end, 2/4 actual start/end), as of the generation
  day. The actual dates are the intervention's recorded ``actual_start`` / ``actual_end``, never its
  planned dates: an ongoing, suspended or completed intervention without an actual start, a
  completed one without an actual end, or an actual date after today, refuses the export with the
  intervention and the field named.
- **Budgets**: one ``budget`` per budget year (``iati.budget_year_start``, calendar years by
  default), each at most a year long; the planned budget is prorated by days in whole cents, the
  cents left over going to the periods with the largest remainders (the earlier one on a tie), so
  the periods add up exactly to the total.
- **Sectors**: the OECD DAC CRS purpose codes of the project's sector (vocabulary 1, column
  ``dac_crs`` of ``data/me/sectors.csv``) beside the project's own code (vocabulary 99 with
  ``vocabulary-uri``), each vocabulary adding up to 100%.
- **Results**: one period per milestone interval (the day after the baseline → first milestone,
  → next milestone … → end target), holding its target and, once reports fall in it, its actual: the
  indicator's value at the interval's end by its period rule (cumulative: every report so far;
  per period: the reports of the interval; latest: the latest report), with the sex parts combined
  the same way. A linked indicator's actual is its published figure (never a suppressed one).
- **Generation time**: now, or ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC) for a reproducible file.

Codes: ResultType (1 output, 2 outcome, 3 impact), IndicatorMeasure (1 unit, 2 percentage),
OrganisationRole (1 funding, 2 accountable, 4 implementing), TagVocabulary 3 (SDG targets).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache

import pandas as pd

from mmicd import codes
from mmicd.i18n import t
from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import (
    ME_DATA,
    Indicator,
    Intervention,
    InterventionStatus,
    Level,
    PeriodRule,
    Report,
    Unit,
    languages,
    sector_name,
    sectors,
)
from mmicd.me.progress import Combined, combine
from mmicd.me.repository import Portfolio, load_portfolio

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RESULT_TYPE = {Level.OUTPUT: "1", Level.OUTCOME: "2", Level.IMPACT: "3"}
FORBIDDEN = re.compile(r"[\s/&|?]")


class IatiError(ValueError):
    """The export cannot be written; ``key`` and ``fields`` make the translated message."""

    def __init__(self, key: str, **fields: object):
        self.key, self.fields = key, fields
        super().__init__(t(key, "en", **fields))

    def message(self, lang: str) -> str:
        return t(self.key, lang, **self.fields)


@dataclass(frozen=True)
class ReportingOrg:
    ref: str
    name: str
    type: str


@cache
def registration_agencies() -> frozenset[str]:
    """Codes of the IATI Organisation Identifier list (OrganisationRegistrationAgency, active ones)."""
    return frozenset(pd.read_csv(ME_DATA / "iati_organisation_agencies.csv", dtype=str,
                                 keep_default_na=False)["code"])


def check_org_ref(ref: str) -> str:
    """``ref`` if it is a well-formed IATI organisation identifier, else :class:`IatiError`."""
    if not ref:
        raise IatiError("iati.error.org_missing")
    if FORBIDDEN.search(ref):
        raise IatiError("iati.error.org_characters", ref=ref)
    parts = ref.split("-")
    prefix = "-".join(parts[:2])
    if len(parts) < 2 or prefix not in registration_agencies():
        raise IatiError("iati.error.org_prefix", ref=ref, prefix=prefix)
    if len(parts) < 3 or not "-".join(parts[2:]):
        raise IatiError("iati.error.org_identifier", ref=ref, prefix=prefix)
    return ref


def reporting_org(config: MeConfig | None = None, env: Mapping[str, str] | None = None) -> ReportingOrg:
    """The configured reporting organisation (the environment overrides ``data/me/config.yml``)."""
    config = config or me_config()
    env = os.environ if env is None else env
    org = config.reporting_org
    ref = (env.get("MMICD_IATI_REPORTING_ORG") or org.get("ref", "")).strip()
    name = (env.get("MMICD_IATI_REPORTING_ORG_NAME") or org.get("name", "")).strip()
    return ReportingOrg(check_org_ref(ref), name or ref, org.get("type", "10"))


def generation_time(env: Mapping[str, str] | None = None) -> datetime:
    """Now (UTC, whole seconds), or ``SOURCE_DATE_EPOCH`` when set (a reproducible file)."""
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return moment.replace(microsecond=0)


# ---- budgets ------------------------------------------------------------------------------------
def _year_start(config: MeConfig) -> tuple[int, int]:
    text = config.iati.get("budget_year_start", "01-01")
    try:
        month, day = (int(x) for x in text.split("-"))
        date(2001, month, day)  # a day every year has (not 29 February)
    except ValueError:
        raise IatiError("iati.error.budget_year_start", value=text) from None
    return month, day


def budget_periods(start: date, end: date, total: float, year_start: tuple[int, int] = (1, 1)
                   ) -> list[tuple[date, date, Decimal]]:
    """``total`` split into budget years (at most a year each) from ``start`` to ``end``, prorated by
    days in whole cents with the largest remainders, so that the amounts add up exactly to ``total``."""
    spans = []
    current = start
    while current <= end:
        boundary = date(current.year, *year_start)
        if boundary <= current:
            boundary = date(current.year + 1, *year_start)
        last = min(end, boundary - timedelta(days=1))
        spans.append((current, last))
        current = last + timedelta(days=1)
    cents = int((Decimal(repr(total)) * 100).to_integral_value(ROUND_HALF_EVEN))
    days = [(b - a).days + 1 for a, b in spans]
    whole = sum(days)
    shares = [cents * d // whole for d in days]
    by_remainder = sorted(range(len(spans)), key=lambda i: (-(cents * days[i] % whole), i))
    for i in by_remainder[:cents - sum(shares)]:
        shares[i] += 1
    return [(a, b, Decimal(share) / 100) for (a, b), share in zip(spans, shares, strict=True)]


def _amount(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value:.2f}"


# ---- sectors ------------------------------------------------------------------------------------
def dac_sectors(sector: str) -> list[tuple[str, int]]:
    """The OECD DAC CRS purpose codes (5 digits) and percentages of a project sector (``dac_crs``)."""
    table = sectors().set_index("code")
    text = str(table.at[sector, "dac_crs"]) if "dac_crs" in table.columns and sector in table.index else ""
    pairs = [re.fullmatch(r"(\d{5}):(\d{1,3})", item) for item in text.split()]
    out = [(m[1], int(m[2])) for m in pairs if m]
    if not out or len(out) != len(pairs) or sum(p for _, p in out) != 100:
        raise IatiError("iati.error.dac_mapping", sector=sector, value=text)
    return out


# ---- dates and status ---------------------------------------------------------------------------
def activity_dates(iv: Intervention, today: date) -> tuple[str, date | None, date | None]:
    """The IATI activity status and the actual start and end dates as of ``today``: the recorded ones,
    never the planned dates; :class:`IatiError` when the status needs one that is not recorded (an
    ongoing, suspended or completed intervention has started, a completed one has ended) or when one
    is after ``today``."""
    status = InterventionStatus(iv.status)
    needed = {InterventionStatus.ONGOING: ("actual_start",), InterventionStatus.SUSPENDED: ("actual_start",),
              InterventionStatus.COMPLETED: ("actual_start", "actual_end")}.get(status, ())
    for field in ("actual_start", "actual_end"):
        day = getattr(iv, field)
        if day is None and field in needed:
            raise IatiError(f"iati.error.missing.{field}", id=iv.id, status=status.value)
        if day is not None and day > today:
            raise IatiError(f"iati.error.future.{field}", id=iv.id, date=day.isoformat())
    code = {InterventionStatus.PIPELINE: "1", InterventionStatus.ONGOING: "2", InterventionStatus.COMPLETED: "4",
            InterventionStatus.CANCELLED: "5", InterventionStatus.SUSPENDED: "6"}[status]
    return code, iv.actual_start, iv.actual_end


# ---- results ------------------------------------------------------------------------------------
def _number(value: float | None) -> str:
    """A decimal as IATI wants it (xsd:decimal: never an exponent), to 6 decimals."""
    if value is None:
        return ""
    return format(Decimal(repr(float(value))).quantize(Decimal("0.000001")).normalize(), "f")


def _narrative(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "narrative").text = text
    return element


def _window(ind: Indicator, reports: list, start: date) -> list:
    """The reports (ending by the interval's end) that make the value by the period rule."""
    ordered = sorted(reports, key=lambda r: (r.period_end, r.period_start))
    rule = PeriodRule(ind.period_rule)
    if rule == PeriodRule.LATEST:
        return ordered[-1:]
    if rule == PeriodRule.PER_PERIOD:
        return [r for r in ordered if r.period_end >= start]
    return ordered


def result_periods(ind: Indicator, reports: list[Report], statistics: list | None, config: MeConfig,
                   lang: str) -> list[dict]:
    """One period per milestone interval: start, end, target, actual (:class:`Combined` or None),
    sex parts {"F": Combined, "M": Combined} and comment."""
    if ind.link is not None:  # the published figures, as reports; a published rate is the latest figure
        counted = [Report(indicator_id=ind.id, period_start=a.period_start, period_end=a.period_end, value=a.value,
                          comment=f"{a.source}, {a.edition}" + (t("iati.low_reliability", lang)
                                                                 if a.obs_status == "U" else ""))
                   for a in statistics or [] if a.counted]
        ind = ind.model_copy(update={"unit": Unit.NUMBER, "period_rule": PeriodRule.LATEST}
                             if ind.unit == Unit.PERCENTAGE else {"unit": Unit.NUMBER})
    else:
        counted = [r for r in reports if r.indicator_id == ind.id and r.state in config.counted_states]
    periods = []
    start = ind.baseline_date + timedelta(days=1)
    for point in ind.path():
        so_far = [r for r in counted if ind.baseline_date < r.period_end <= point.due]
        inside = [r for r in so_far if r.period_end >= start]
        period = {"start": start, "end": point.due, "target": point.target, "actual": None, "parts": {},
                  "comment": " ".join(r.comment for r in inside if r.comment)}
        if inside:
            window = _window(ind, so_far, start)
            period["actual"] = combine(window, ind.unit)
            for sex in ("F", "M"):
                parts = [next((p for p in r.breakdown if p.sex == sex and p.age == "_T"), None) for r in window]
                if all(parts):
                    period["parts"][sex] = combine(
                        [Report(indicator_id=ind.id, period_start=r.period_start, period_end=r.period_end,
                                value=p.value, numerator=p.numerator, denominator=p.denominator)
                         for r, p in zip(window, parts, strict=True)], ind.unit)
        periods.append(period)
        start = point.due + timedelta(days=1)
    return periods


def _add_indicator(result: ET.Element, ind: Indicator, reports: list[Report], config: MeConfig, lang: str,
                   statistics: list | None = None) -> None:
    element = ET.SubElement(result, "indicator", {
        "measure": "2" if ind.unit == Unit.PERCENTAGE else "1",
        "ascending": "true" if ind.direction == "increase" else "false",
    })
    _narrative(element, "title", ind.name)
    if ind.data_source:
        _narrative(element, "description", ind.data_source)
    ET.SubElement(element, "reference", {"vocabulary": "99", "code": ind.id})
    if ind.link is not None:
        ET.SubElement(element, "reference", {"vocabulary": "99", "code": ind.link.indicator})
    ET.SubElement(element, "baseline", {"year": str(ind.baseline_date.year), "iso-date": ind.baseline_date.isoformat(),
                                        "value": _number(ind.baseline_value)})
    for content in result_periods(ind, reports, statistics, config, lang):
        period = ET.SubElement(element, "period")
        ET.SubElement(period, "period-start", {"iso-date": content["start"].isoformat()})
        ET.SubElement(period, "period-end", {"iso-date": content["end"].isoformat()})
        ET.SubElement(period, "target", {"value": _number(content["target"])})
        actual: Combined | None = content["actual"]
        if actual is None or actual.value is None:
            continue
        total = ET.SubElement(period, "actual", {"value": _number(actual.value)})
        if content["comment"]:
            _narrative(total, "comment", content["comment"])
        for sex, part in content["parts"].items():
            if part.value is not None:
                sub = ET.SubElement(period, "actual", {"value": _number(part.value)})
                ET.SubElement(sub, "dimension", {"name": "sex", "value": sex})


# ---- activities ---------------------------------------------------------------------------------
def _iso2(country: str) -> str | None:
    areas = codes.areas()
    row = areas.loc[areas["code"] == country]
    if row.empty or "iso2" not in row.columns:
        return None
    value = str(row.iloc[0]["iso2"])
    return value if len(value) == 2 else None


def _activity(root: ET.Element, iv: Intervention, p: Portfolio, config: MeConfig, org: ReportingOrg,
              generated: datetime) -> None:
    lang = iv.language
    if lang not in languages():
        raise IatiError("iati.error.language", id=iv.id, value=lang)
    status, actual_start, actual_end = activity_dates(iv, generated.date())
    activity = ET.SubElement(root, "iati-activity", {
        "last-updated-datetime": generated.isoformat(), XML_LANG: lang, "default-currency": iv.currency,
    })
    ET.SubElement(activity, "iati-identifier").text = f"{org.ref}-{iv.id}"
    _narrative(activity, "reporting-org", org.name, ref=org.ref, type=org.type)
    _narrative(activity, "title", iv.title + (t("iati.illustrative", lang) if iv.illustrative else ""))
    _narrative(activity, "description", iv.description or iv.title, type="1")
    for funder in iv.funders:
        _narrative(activity, "participating-org", funder, role="1")
    _narrative(activity, "participating-org", iv.lead, role="2")
    for partner in iv.partners:
        _narrative(activity, "participating-org", partner, role="4")
    ET.SubElement(activity, "activity-status", {"code": status})
    for kind, day in (("1", iv.start), ("2", actual_start), ("3", iv.end), ("4", actual_end)):
        if day is not None:
            ET.SubElement(activity, "activity-date", {"type": kind, "iso-date": day.isoformat()})
    iso2 = _iso2(iv.country)
    if iso2:
        ET.SubElement(activity, "recipient-country", {"code": iso2, "percentage": "100"})
    for code, percentage in dac_sectors(iv.sector):
        ET.SubElement(activity, "sector", {"vocabulary": "1", "code": code, "percentage": str(percentage)})
    own = {"vocabulary": "99", "code": iv.sector, "percentage": "100"}
    if config.iati.get("sector_vocabulary_uri"):
        own["vocabulary-uri"] = config.iati["sector_vocabulary_uri"]
    _narrative(activity, "sector", sector_name(iv.sector, lang), **own)
    for target in iv.sdg_targets:
        ET.SubElement(activity, "tag", {"vocabulary": "3", "code": target})
    for start, end, amount in budget_periods(iv.start, iv.end, iv.budget_planned, _year_start(config)):
        budget = ET.SubElement(activity, "budget", {"type": "1", "status": "1"})
        ET.SubElement(budget, "period-start", {"iso-date": start.isoformat()})
        ET.SubElement(budget, "period-end", {"iso-date": end.isoformat()})
        ET.SubElement(budget, "value", {"value-date": start.isoformat()}).text = _amount(amount)
    indicators = p.indicators_of(iv.id)
    for level in (Level.IMPACT, Level.OUTCOME, Level.OUTPUT):
        mine = [i for i in indicators if i.level == level]
        if not mine:
            continue
        result = ET.SubElement(activity, "result", {"type": RESULT_TYPE[level]})
        _narrative(result, "title", t(f"iati.result.{level.value}", lang, title=iv.title))
        for ind in mine:
            _add_indicator(result, ind, p.reports, config, lang, p.statistics.get(ind.id))


def iati_xml(portfolio: Portfolio, *, config: MeConfig | None = None, env: Mapping[str, str] | None = None,
             generated: datetime | None = None) -> bytes:
    """The portfolio as an ``iati-activities`` document (UTF-8 bytes); :class:`IatiError` (nothing
    produced) when the reporting organisation, a language, or an intervention's status or actual dates
    are wrong."""
    config = config or me_config()
    org = reporting_org(config, env)
    generated = generated or generation_time(env)
    root = ET.Element("iati-activities", {"version": "2.03", "generated-datetime": generated.isoformat()})
    for iv in sorted(portfolio.interventions, key=lambda i: i.id):
        _activity(root, iv, portfolio, config, org, generated)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_portfolio(store, country: str) -> Portfolio:
    """The country's portfolio as the Interventions page exports it: with the actuals of its linked
    indicators from the published statistics."""
    from mmicd.me.linked import with_statistics

    portfolio = load_portfolio(store, country)
    if any(i.link is not None for i in portfolio.indicators):
        with_statistics(store, portfolio)
    return portfolio
