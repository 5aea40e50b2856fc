"""The on/off-track rules on small hand-computed cases."""

from __future__ import annotations

from datetime import date

import pytest

from mmicd.me.config import MeConfig
from mmicd.me.model import (
    BreakdownValue,
    Indicator,
    Intervention,
    Milestone,
    Report,
    check_report,
)
from mmicd.me.progress import (
    ProgressStatus,
    add_months,
    combine,
    current_value,
    evaluate,
    explain,
    reporting_periods,
    rule_sentence,
)

CONFIG = MeConfig()


def indicator(**kw) -> Indicator:
    fields = {
        "id": "I1", "intervention_id": "X1", "name": "People placed in jobs", "level": "output",
        "baseline_value": 0, "baseline_date": date(2025, 3, 31),
        "milestones": [Milestone(due=date(2027, 3, 31), target=84)], "end_target": 120,
        "end_date": date(2028, 3, 31), "frequency": "annual",
    }
    fields.update(kw)
    return Indicator(**fields)


def report(start, end, value=None, num=None, den=None, state="approved", **kw) -> Report:
    return Report(indicator_id=kw.pop("indicator_id", "I1"), period_start=start, period_end=end, value=value,
                  numerator=num, denominator=den, state=state, **kw)


def test_the_issue_example_is_at_risk_with_its_explanation():
    # baseline 0 on 31 March 2025, milestone 84 on 31 March 2027: half way on 31 March 2026 -> expected 42
    p = evaluate(indicator(), [report(date(2025, 4, 1), date(2026, 3, 31), 30)], as_of=date(2026, 4, 15),
                 config=CONFIG)
    assert p.status == ProgressStatus.AT_RISK
    assert p.expected_value == pytest.approx(42)
    assert p.expected_fraction == pytest.approx(0.5)
    assert p.ratio == pytest.approx(30 / 42)
    assert explain(p, indicator(), "en") == "Expected 42 by March 2026, reported 30: 71% of expected → At risk."
    assert explain(p, indicator(), "fr") == (
        "Attendu 42 pour mars 2026, rapporté 30 : 71\u00a0% de l'attendu → À risque.")


@pytest.mark.parametrize(("actual", "status"), [(36, "on_track"), (35.7, "on_track"), (35.6, "at_risk"),
                                                (25.2, "at_risk"), (25.1, "off_track"), (-5, "off_track")])
def test_thresholds_85_and_60_percent_of_expected(actual, status):
    # expected 42: 85% = 35.7, 60% = 25.2
    p = evaluate(indicator(), [report(date(2025, 4, 1), date(2026, 3, 31), actual)], as_of=date(2026, 4, 15),
                 config=CONFIG)
    assert p.status == status


def test_thresholds_come_from_configuration():
    strict = MeConfig(on_track=0.95, at_risk=0.9)
    p = evaluate(indicator(), [report(date(2025, 4, 1), date(2026, 3, 31), 38)], as_of=date(2026, 4, 15),
                 config=strict)
    assert p.status == ProgressStatus.AT_RISK  # 38/42 = 90.5%


def test_a_decreasing_percentage_indicator():
    # share of recruitment fees above the legal cap: baseline 20% -> 10% by 31 March 2027
    ind = indicator(unit="percentage", direction="decrease", baseline_value=20,
                    milestones=[Milestone(due=date(2027, 3, 31), target=10)], end_target=8)
    # half way: expected 15%. 36 of 200 = 18% -> achievement (18-20)/(10-20) = 0.2 -> 40% of expected
    p = evaluate(ind, [report(date(2025, 4, 1), date(2026, 3, 31), num=36, den=200)], as_of=date(2026, 4, 1),
                 config=CONFIG)
    assert p.current == pytest.approx(18)
    assert p.achievement == pytest.approx(0.2)
    assert p.status == ProgressStatus.OFF_TRACK
    assert "Expected 15.0% by March 2026, reported 18.0%: 40% of expected" in explain(p, ind)
    # 31 of 200 = 15.5% -> 0.45 / 0.5 = 90% -> on track
    p = evaluate(ind, [report(date(2025, 4, 1), date(2026, 3, 31), num=31, den=200)], as_of=date(2026, 4, 1),
                 config=CONFIG)
    assert p.status == ProgressStatus.ON_TRACK
    # 7.5% is below the end target of 8%: achieved (direction-aware)
    p = evaluate(ind, [report(date(2025, 4, 1), date(2026, 3, 31), num=15, den=200)], as_of=date(2026, 4, 1),
                 config=CONFIG)
    assert p.status == ProgressStatus.ACHIEVED


def test_percentages_are_combined_from_numerators_and_denominators():
    reports = [report(date(2025, 1, 1), date(2025, 6, 30), num=10, den=20),
               report(date(2025, 7, 1), date(2025, 12, 31), num=90, den=300)]
    combined = combine(reports, "percentage")
    assert (combined.numerator, combined.denominator) == (100, 320)
    assert combined.value == pytest.approx(31.25)  # not the mean of 50% and 30%


def test_the_three_period_rules():
    # a flow of 50 per year; reports: 40 in 2025, then 10 and 15 in the first two quarters of 2026
    reports = [report(date(2025, 1, 1), date(2025, 12, 31), 40),
               report(date(2026, 1, 1), date(2026, 3, 31), 10),
               report(date(2026, 4, 1), date(2026, 6, 30), 15)]
    kw = {"baseline_date": date(2024, 12, 31), "frequency": "quarterly",
          "milestones": [Milestone(due=date(2025, 12, 31), target=50), Milestone(due=date(2026, 12, 31), target=50)],
          "end_target": 50, "end_date": date(2027, 12, 31)}
    assert current_value(indicator(period_rule="per_period", **kw), reports)[0].value == 25
    assert current_value(indicator(period_rule="cumulative", **kw), reports)[0].value == 65
    assert current_value(indicator(period_rule="latest", **kw), reports)[0].value == 15
    # the cumulative 65 meets the end target of 50; per period 25 does not
    assert evaluate(indicator(period_rule="cumulative", **kw), reports, date(2026, 7, 1),
                    config=CONFIG).status == ProgressStatus.ACHIEVED
    per_period = evaluate(indicator(period_rule="per_period", **kw), reports, date(2026, 7, 1), config=CONFIG)
    assert per_period.status != ProgressStatus.ACHIEVED
    assert per_period.current == 25 and per_period.target == 50 and per_period.target_date == date(2026, 12, 31)


def test_only_approved_actuals_count():
    reports = [report(date(2025, 4, 1), date(2026, 3, 31), 200, state="submitted")]
    p = evaluate(indicator(), reports, as_of=date(2026, 4, 15), config=CONFIG)
    assert p.status == ProgressStatus.NO_DATA  # submitted, not yet approved: received, but not counted


def test_overdue_when_the_latest_due_period_has_no_report():
    ongoing = Intervention(id="X1", country="NPL", title="t", sector="employment", lead="MoLESS",
                           start=date(2025, 1, 1), end=date(2027, 12, 31), status="ongoing")
    ind = indicator(frequency="quarterly")
    q4 = report(date(2025, 10, 1), date(2025, 12, 31), 20)
    # 31 March 2026 + 45 days = 15 May 2026: on 16 May the Q1 report is overdue
    assert evaluate(ind, [q4], date(2026, 5, 15), ongoing, CONFIG).status != ProgressStatus.OVERDUE
    p = evaluate(ind, [q4], date(2026, 5, 16), ongoing, CONFIG)
    assert p.status == ProgressStatus.OVERDUE
    assert (p.due_period_end, p.due_by) == (date(2026, 3, 31), date(2026, 5, 15))
    assert explain(p, ind) == ("The report for the period ending March 2026 was due by 15 May 2026 and has "
                               "not been received → Overdue.")
    # a submitted report (awaiting approval) counts as received
    q1 = report(date(2026, 1, 1), date(2026, 3, 31), 30, state="submitted")
    assert evaluate(ind, [q4, q1], date(2026, 5, 16), ongoing, CONFIG).status != ProgressStatus.OVERDUE
    # a suspended or pipeline intervention is not chased for reports
    paused = ongoing.model_copy(update={"status": "suspended"})
    assert evaluate(ind, [q4], date(2026, 5, 16), paused, CONFIG).status != ProgressStatus.OVERDUE


def test_no_data_says_when_the_first_report_is_due():
    p = evaluate(indicator(), [], as_of=date(2025, 6, 1), config=CONFIG)
    assert p.status == ProgressStatus.NO_DATA
    assert p.due_by == date(2026, 2, 14)  # calendar year 2025 ends 31 Dec, + 45 days
    assert explain(p, indicator()) == "No approved report yet; the next one is due by 14 February 2026 → No data."


def test_achieved_when_the_end_target_is_met():
    p = evaluate(indicator(), [report(date(2025, 4, 1), date(2026, 12, 31), 121)], as_of=date(2027, 1, 5),
                 config=CONFIG)
    assert p.status == ProgressStatus.ACHIEVED
    assert explain(p, indicator()) == "End target 120 met: reported 121 by December 2026 → Achieved."


def test_reporting_periods_are_calendar_periods():
    assert reporting_periods("quarterly", date(2025, 2, 10), date(2025, 12, 31)) == [
        (date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 9, 30)), (date(2025, 10, 1), date(2025, 12, 31))]
    assert reporting_periods("annual", date(2024, 12, 31), date(2026, 6, 30)) == [
        (date(2025, 1, 1), date(2025, 12, 31))]
    assert add_months(date(2026, 2, 28), 1) == date(2026, 3, 31)
    assert add_months(date(2026, 1, 15), -2) == date(2025, 11, 15)


def test_a_breakdown_that_does_not_add_up_is_refused_unless_justified():
    ind = indicator(disaggregation=["sex"])
    r = report(date(2025, 1, 1), date(2025, 12, 31), 30,
               breakdown=[BreakdownValue(sex="F", value=10), BreakdownValue(sex="M", value=15)])
    issues = check_report(r, ind)
    assert [(i.level, i.column, i.value) for i in issues] == [("error", "value", "-5")]
    assert "parts 25, total 30, difference -5" in issues[0].message
    justified = r.model_copy(update={"justification": "5 participants did not state their sex"})
    assert [i.level for i in check_report(justified, ind)] == ["warning"]
    ok = r.model_copy(update={"value": 25})
    assert check_report(ok, ind) == []


def test_a_percentage_breakdown_adds_numerators_and_denominators():
    ind = indicator(unit="percentage")
    r = report(date(2025, 1, 1), date(2025, 12, 31), num=30, den=100,
               breakdown=[BreakdownValue(sex="F", numerator=10, denominator=40),
                          BreakdownValue(sex="M", numerator=20, denominator=50)])
    issues = check_report(r, ind)
    assert [(i.column, i.value) for i in issues] == [("denominator", "-10")]


def test_the_rule_sentence_names_the_configured_thresholds():
    assert "at least 85% of the progress expected" in rule_sentence("en", CONFIG)
    assert "from 60% to 85%" in rule_sentence("en", CONFIG)
