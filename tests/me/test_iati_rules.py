"""The demo portfolio's IATI 2.03 export passes the IATI Standard Ruleset 2.03 (vendored in
tests/fixtures/iati, see its README) with no error and no warning; the evaluator catches the defects of
issue #14 and refuses a rule type it does not know."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from mmicd.me.demo import demo_portfolio
from mmicd.me.iati import iati_xml, registration_agencies
from tests.me.iati_rules import Evaluator, UnknownRule

TODAY = date(2026, 11, 24)
GENERATED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "iati"
RULESET = json.loads((FIXTURES / "standard.json").read_text())


def evaluator(ruleset: dict = RULESET) -> Evaluator:
    return Evaluator(ruleset, now=GENERATED + timedelta(hours=1), org_id_prefixes=registration_agencies())


@pytest.fixture(scope="module")
def document() -> etree._Element:
    portfolio, _ = demo_portfolio(TODAY)
    return etree.fromstring(iati_xml(portfolio, generated=GENERATED, env={}))


def failures(doc: etree._Element, ev: Evaluator | None = None) -> set[tuple[str, str, str]]:
    return {(f.rule_id, f.severity, f.where) for f in (ev or evaluator()).failures(doc)}


def test_the_demo_export_passes_the_standard_ruleset_without_error_or_warning(document):
    ev = evaluator()
    assert ev.failures(document) == []
    activities = document.findall("iati-activity")
    assert len(activities) == 12
    # the rules that matter here were evaluated, not skipped: one budget length check per calendar year
    # of each intervention (EMP-01 2024-07..2028-06: 5, REM-01 3, HLT-01 4, EDU-01 4, GOV-01 4, RUR-01 5,
    # URB-01 4, ENV-01 4, SEC-01 4, EMP-02 3, PSD-01 3, HLT-02 4)...
    assert ev.applied["7.5.3"] == len(document.findall("iati-activity/budget")) == 47
    # ... the DAC sector recommendation, the approved agency prefix and the identifier prefix per activity
    assert ev.applied["102.1.1"] == ev.applied["1.14.8"] == ev.applied["1.1.21"] == 12
    # sector percentages summed per vocabulary where an activity has several DAC codes (employment x2,
    # private sector x2)
    assert ev.applied["2.1.2"] == 4
    # an actual start date is checked against today for every started activity (all but the pipeline one)
    assert ev.applied["11.1.4"] == 11 and ev.applied["11.1.5"] == 2
    assert ev.applied["8.6.1"] == len(document.findall(".//result/indicator/period"))


def _one(doc: etree._Element, identifier_end: str) -> etree._Element:
    return next(a for a in doc.findall("iati-activity") if a.findtext("iati-identifier").endswith(identifier_end))


def test_the_evaluator_catches_the_defects_of_issue_14(document):
    doc = copy.deepcopy(document)
    emp = _one(doc, "NPL-EMP-01")
    ident = emp.findtext("iati-identifier")
    # one budget over the whole activity (4 years): 7.5.3, an error
    budgets = emp.findall("budget")
    budgets[0].find("period-end").set("iso-date", budgets[-1].find("period-end").get("iso-date"))
    for extra in budgets[1:]:
        emp.remove(extra)
    # only the project's own sector vocabulary: 102.1.1, a warning
    for sector in emp.findall("sector[@vocabulary='1']"):
        emp.remove(sector)
    # an actual start in the future: 11.1.4; a result period ending before it starts: 8.6.1
    emp.find("activity-date[@type='2']").set("iso-date", "2027-01-01")
    period = emp.find("result/indicator/period")
    period.find("period-end").set("iso-date", "2020-01-01")
    assert failures(doc) == {("7.5.3", "error", ident), ("102.1.1", "warning", ident), ("11.1.4", "error", ident),
                             ("8.6.1", "error", ident)}

    # DAC percentages that do not add up to 100 within vocabulary 1
    doc = copy.deepcopy(document)
    rem = _one(doc, "NPL-REM-01")
    rem.find("sector[@vocabulary='1']").set("percentage", "40")
    assert failures(doc) == {("2.1.2", "error", rem.findtext("iati-identifier"))}

    # the old reporting organisation: XM-MMICD is not a registration agency (1.14.8, a warning)
    doc = copy.deepcopy(document)
    for activity in doc.findall("iati-activity"):
        activity.find("reporting-org").set("ref", "XM-MMICD-TASKFORCE")
        activity.find("iati-identifier").text = "XM-MMICD-TASKFORCE-" + activity.findtext("iati-identifier").split(
            "-DEMO-")[1]
    found = failures(doc)
    assert {rule for rule, _, _ in found} == {"1.14.8"} and len(found) == 12
    # and an activity identifier that does not start with the reporting organisation's (1.1.21)
    doc = copy.deepcopy(document)
    _one(doc, "NPL-URB-01").find("iati-identifier").text = "NPL-URB-01"
    assert failures(doc) == {("1.1.21", "warning", "NPL-URB-01")}


@pytest.mark.parametrize(("start", "end", "passes"), [
    ("2024-01-01", "2024-12-31", True),  # a leap year: 365 days from start to end
    ("2025-07-16", "2026-07-15", True),  # a fiscal year: 364 days
    ("2023-07-01", "2024-06-30", True),  # 365 days (29 February 2024 inside)
    ("2023-07-01", "2024-07-01", False),  # 366 days
    ("2025-01-01", "2026-01-01", True),  # 365 days: the limit (the validator counts days from start to end)
    ("2025-01-01", "2026-01-02", False),  # 366 days
])
def test_time_limit_is_at_most_365_days(document, start, end, passes):
    doc = copy.deepcopy(document)
    budget = _one(doc, "NPL-EDU-01").find("budget")
    budget.find("period-start").set("iso-date", start)
    budget.find("period-end").set("iso-date", end)
    budget.find("value").set("value-date", start)
    expected = set() if passes else {("7.5.3", "error", _one(doc, "NPL-EDU-01").findtext("iati-identifier"))}
    assert failures(doc) == expected


def test_a_rule_type_the_evaluator_does_not_know_fails_loudly(document):
    unknown = {"/iati-activities/iati-activity": {"frobnicate": {"cases": [{"paths": ["title"]}]}}}
    with pytest.raises(UnknownRule, match="frobnicate"):
        evaluator(unknown).failures(document)
    in_a_loop = {"/iati-activities/iati-activity": {"loop": {"cases": [
        {"foreach": "sector/@vocabulary", "do": {"frobnicate": {"cases": [{"paths": ["sector[@vocabulary = '$1']"]}]}},
         "subs": ["paths"]}]}}}
    with pytest.raises(UnknownRule, match="frobnicate"):
        evaluator(in_a_loop).failures(document)


def test_every_rule_type_of_the_standard_ruleset_is_known_to_the_evaluator():
    from tests.me.iati_rules import KNOWN

    used = set()

    def walk(rules: dict) -> None:
        for name, body in rules.items():
            used.add(name)
            if name == "loop":
                for case in body["cases"]:
                    walk(case["do"])

    for rules in RULESET.values():
        walk(rules)
    assert used <= KNOWN
    assert {"time_limit", "strict_sum", "startswith", "if_then", "loop", "date_order", "one_or_all"} <= used


def meta_tests() -> list[tuple[str, str, bool]]:
    """The ruleset maintainers' own checks (IATI-Rulesets ``meta_tests.sh``: a ruleset, a file, whether
    it passes), vendored with their files."""
    script = (FIXTURES / "meta_tests.sh").read_text()
    return [(rules, xml, expected == "True") for _, rules, xml, expected in
            (line.split() for line in script.splitlines() if line.startswith("test "))]


@pytest.mark.parametrize(("rules", "xml", "expected"), meta_tests())
def test_the_evaluator_agrees_with_the_rulesets_own_meta_tests(rules, xml, expected):
    ruleset = json.loads((FIXTURES / "meta_tests" / f"{rules}.json").read_text())
    doc = etree.parse(str(FIXTURES / "meta_tests" / f"{xml}.xml")).getroot()
    assert (evaluator(ruleset).failures(doc) == []) is expected
