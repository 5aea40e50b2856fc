"""IATI 2.03 activity XML of the portfolio, with results: result → indicator → baseline → period →
target / actual, and ``dimension`` for the sex breakdown of actuals.

Codes: ActivityStatus (1 pipeline, 2 implementation, 4 closed, 5 cancelled, 6 suspended),
ActivityDateType (1 planned start, 3 planned end), ResultType (1 output, 2 outcome, 3 impact),
IndicatorMeasure (1 unit, 2 percentage), OrganisationRole (1 funding, 2 accountable, 4 implementing),
Vocabulary 99 (reporting organisation) for sectors and indicator references, TagVocabulary 3 (SDG
targets). The reporting organisation is configured in ``data/me/config.yml``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from mmicd import codes
from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import Indicator, Intervention, Level, Report, Unit, sector_name
from mmicd.me.repository import Portfolio

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ACTIVITY_STATUS = {"pipeline": "1", "ongoing": "2", "completed": "4", "cancelled": "5", "suspended": "6"}
RESULT_TYPE = {Level.OUTPUT: "1", Level.OUTCOME: "2", Level.IMPACT: "3"}


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _narrative(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "narrative").text = text
    return element


def _iso2(country: str) -> str | None:
    areas = codes.areas()
    row = areas.loc[areas["code"] == country]
    if row.empty or "iso2" not in row.columns:
        return None
    value = str(row.iloc[0]["iso2"])
    return value if len(value) == 2 else None


def _report_value(report: Report, unit: Unit) -> float | None:
    return report.total(unit)


def _add_indicator(result: ET.Element, ind: Indicator, reports: list[Report], config: MeConfig,
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
    periods: dict[tuple[date, date], dict] = {}
    start = ind.baseline_date + timedelta(days=1)
    for point in ind.path():
        periods.setdefault((start, point.due), {"target": None, "actuals": []})["target"] = point.target
        start = point.due + timedelta(days=1)
    if ind.link is not None:
        # linked: the published figures (never a suppressed one) are the actuals
        counted = [Report(indicator_id=ind.id, period_start=a.period_start, period_end=a.period_end, value=a.value,
                          comment=f"{a.source}, {a.edition}" + (" (low reliability, U)" if a.obs_status == "U" else ""))
                   for a in statistics or [] if a.counted]
        unit = Unit.NUMBER  # a published rate is its own value
    else:
        counted = [r for r in reports if r.indicator_id == ind.id and r.state in config.counted_states]
        unit = ind.unit
    for rep in sorted(counted, key=lambda r: (r.period_start, r.period_end)):
        periods.setdefault((rep.period_start, rep.period_end), {"target": None, "actuals": []})["actuals"].append(rep)
    for (p_start, p_end), content in sorted(periods.items()):
        period = ET.SubElement(element, "period")
        ET.SubElement(period, "period-start", {"iso-date": p_start.isoformat()})
        ET.SubElement(period, "period-end", {"iso-date": p_end.isoformat()})
        if content["target"] is not None:
            ET.SubElement(period, "target", {"value": _number(content["target"])})
        for rep in content["actuals"]:
            actual = ET.SubElement(period, "actual", {"value": _number(_report_value(rep, unit))})
            if rep.comment:
                _narrative(actual, "comment", rep.comment)
            for part in rep.breakdown:
                if part.sex in ("F", "M") and part.age == "_T":
                    value = part.value if ind.unit == Unit.NUMBER else (
                        part.numerator / part.denominator * 100 if part.denominator else None)
                    if value is None:
                        continue
                    sub = ET.SubElement(period, "actual", {"value": _number(value)})
                    ET.SubElement(sub, "dimension", {"name": "sex", "value": part.sex})


def _activity(root: ET.Element, iv: Intervention, p: Portfolio, config: MeConfig, lang: str) -> None:
    org = config.reporting_org
    activity = ET.SubElement(root, "iati-activity", {
        "last-updated-datetime": datetime.now(UTC).replace(microsecond=0).isoformat(),
        XML_LANG: lang, "default-currency": iv.currency,
    })
    ET.SubElement(activity, "iati-identifier").text = f"{org.get('ref', 'XM-MMICD')}-{iv.id}"
    _narrative(activity, "reporting-org", org.get("name", "MMICD"), ref=org.get("ref", "XM-MMICD"),
               type=org.get("type", "10"))
    _narrative(activity, "title", iv.title + (" (illustrative)" if iv.illustrative else ""))
    _narrative(activity, "description", iv.description or iv.title, type="1")
    for funder in iv.funders:
        _narrative(activity, "participating-org", funder, role="1")
    _narrative(activity, "participating-org", iv.lead, role="2")
    for partner in iv.partners:
        _narrative(activity, "participating-org", partner, role="4")
    ET.SubElement(activity, "activity-status", {"code": ACTIVITY_STATUS[str(iv.status)]})
    ET.SubElement(activity, "activity-date", {"type": "1", "iso-date": iv.start.isoformat()})
    ET.SubElement(activity, "activity-date", {"type": "3", "iso-date": iv.end.isoformat()})
    iso2 = _iso2(iv.country)
    if iso2:
        ET.SubElement(activity, "recipient-country", {"code": iso2, "percentage": "100"})
    _narrative(activity, "sector", sector_name(iv.sector, "en"), vocabulary="99", code=iv.sector, percentage="100")
    for target in iv.sdg_targets:
        ET.SubElement(activity, "tag", {"vocabulary": "3", "code": target})
    budget = ET.SubElement(activity, "budget", {"type": "1", "status": "1"})
    ET.SubElement(budget, "period-start", {"iso-date": iv.start.isoformat()})
    ET.SubElement(budget, "period-end", {"iso-date": iv.end.isoformat()})
    ET.SubElement(budget, "value", {"value-date": iv.start.isoformat()}).text = _number(iv.budget_planned)
    indicators = p.indicators_of(iv.id)
    for level in (Level.IMPACT, Level.OUTCOME, Level.OUTPUT):
        mine = [i for i in indicators if i.level == level]
        if not mine:
            continue
        result = ET.SubElement(activity, "result", {"type": RESULT_TYPE[level]})
        _narrative(result, "title", f"{level.value.capitalize()}: {iv.title}")
        for ind in mine:
            _add_indicator(result, ind, p.reports, config, p.statistics.get(ind.id))


def iati_xml(portfolio: Portfolio, *, lang: str = "en", config: MeConfig | None = None) -> bytes:
    """The portfolio as an ``iati-activities`` document (UTF-8 bytes)."""
    config = config or me_config()
    root = ET.Element("iati-activities", {"version": "2.03",
                                          "generated-datetime": datetime.now(UTC).replace(microsecond=0).isoformat()})
    for iv in sorted(portfolio.interventions, key=lambda i: i.id):
        _activity(root, iv, portfolio, config, lang)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
