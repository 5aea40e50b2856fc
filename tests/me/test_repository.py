"""The M&E tables on SQLite and (in CI) PostgreSQL: round trips, reasons for target changes, approvals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, inspect, select

import mmicd.me.schema as me_schema
from mmicd.issues import IssuesError
from mmicd.me import repository as repo
from mmicd.me.model import BreakdownValue, Indicator, Intervention, Milestone, Report, StageRecord
from mmicd.me.repository import MeError
from tests.me.users import ANALYST, PLANNER, REVIEWER, TASK_FORCE

IV = Intervention(id="NPL-EMP-01", country="NPL", title="Skills for returnees", sector="employment",
                  lead="Ministry of Labour", partners=["ILO"], funders=["Donor A", "Donor B"], sdg_targets=["8.8", "10.7"],
                  start=date(2025, 1, 1), end=date(2027, 12, 31), budget_planned=1_000_000, budget_disbursed=250_000,
                  status="ongoing", illustrative=True)
IND = Indicator(id="EMP-01-1", intervention_id=IV.id, name="Returnees placed in jobs", level="output",
                baseline_value=0, baseline_date=date(2024, 12, 31), end_target=1000, end_date=date(2027, 12, 31),
                milestones=[Milestone(due=date(2025, 12, 31), target=300), Milestone(due=date(2026, 12, 31), target=650)],
                period_rule="cumulative", disaggregation=["sex"], frequency="annual",
                link={"indicator": "unemp_rate", "selection": {"migrant_status": "MS_MIGRANT", "sex": "_T"}})


def me_tables():
    return [t for t in me_schema.metadata.sorted_tables if t.name.startswith("me_")]


def test_migration_0002_creates_the_tables_described_in_me_schema(store):
    found = inspect(store.engine)
    assert len(me_tables()) == 6
    for table in me_tables():
        assert {c["name"] for c in found.get_columns(table.name)} == {c.name for c in table.columns}
        indexes = {i["name"] for i in found.get_indexes(table.name) if not i.get("duplicates_constraint")}
        assert indexes == {i.name for i in table.indexes}


def test_round_trip_of_a_portfolio(store):
    assert repo.is_empty(store)
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    report = Report(indicator_id=IND.id, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=310,
                    breakdown=[BreakdownValue(sex="F", value=130), BreakdownValue(sex="M", value=180)],
                    comment="first year", evidence="https://example.org/r1", state="submitted")
    report_id = repo.record_report(store, report, user=ANALYST)
    repo.save_stage(store, StageRecord(country="NPL", stage="assessment", status="completed",
                                       start=date(2023, 1, 1), end=date(2023, 12, 31), evidence="Migration profile"),
                    user=PLANNER)
    p = repo.load_portfolio(store, "NPL")
    assert not repo.is_empty(store)
    assert p.interventions == [IV]
    assert p.indicators == [IND]
    (stored,) = p.reports
    assert stored.id == report_id and stored.acted_by == "analyst" and stored.acted_at is not None
    assert stored.model_dump(exclude={"id", "acted_by", "acted_at"}) == report.model_dump(
        exclude={"id", "acted_by", "acted_at"})
    assert p.stages[0].evidence == "Migration profile"
    assert repo.load_portfolio(store, "SEN").interventions == []


def test_target_changes_need_a_reason_and_keep_old_and_new(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    raised = IND.model_copy(update={"end_target": 1200.0})
    with pytest.raises(MeError) as err:
        repo.save_indicator(store, raised, user=REVIEWER)
    assert err.value.key == "me.error.reason_required"
    assert repo.load_portfolio(store).indicators[0].end_target == 1000  # nothing changed
    repo.change_targets(store, IND.id, user=REVIEWER, reason="Second donor joined",
                        end_target=1200.0, milestones=[Milestone(due=date(2025, 12, 31), target=300),
                                                       Milestone(due=date(2026, 12, 31), target=700)])
    p = repo.load_portfolio(store)
    assert p.indicators[0].end_target == 1200
    assert [(c.field, c.old, c.new, c.reason, c.actor) for c in p.changes] == [
        ("end_target", 1000.0, 1200.0, "Second donor joined", "reviewer"),
        ("milestone:2026-12-31", 650.0, 700.0, "Second donor joined", "reviewer")]
    audit = store.audit(entity_type="indicator", entity_id=IND.id)
    assert (audit["action"] == "me:target_changed").sum() == 2
    # other fields change without a reason
    repo.save_indicator(store, p.indicators[0].model_copy(update={"responsible": "CBS"}), user=PLANNER)
    assert repo.load_portfolio(store).indicators[0].responsible == "CBS"


def test_a_breakdown_that_does_not_add_up_is_refused_and_nothing_stored(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    bad = Report(indicator_id=IND.id, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=300,
                 breakdown=[BreakdownValue(sex="F", value=130), BreakdownValue(sex="M", value=180)])
    with pytest.raises(IssuesError) as err:
        repo.record_report(store, bad, user=ANALYST)
    assert "difference +10" in err.value.issues[0].message
    assert repo.load_portfolio(store).reports == []
    justified = bad.model_copy(update={"justification": "10 counted twice in the district lists"})
    repo.record_report(store, justified, user=ANALYST)
    assert len(repo.load_portfolio(store).reports) == 1


def test_the_approval_cycle_stores_who_acted(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    rid = repo.record_report(store, Report(indicator_id=IND.id, period_start=date(2025, 1, 1),
                                           period_end=date(2025, 12, 31), value=310), user=ANALYST)
    with pytest.raises(MeError):
        repo.set_report_state(store, rid, "approved", user=REVIEWER)  # a draft must be submitted first
    repo.set_report_state(store, rid, "submitted", user=ANALYST)
    with pytest.raises(MeError) as err:
        repo.set_report_state(store, rid, "returned", user=REVIEWER)
    assert err.value.key == "me.error.note_required"
    returned = repo.set_report_state(store, rid, "returned", user=REVIEWER, note="Add the evidence link")
    assert (returned.state, returned.acted_by, returned.note) == ("returned", "reviewer", "Add the evidence link")
    repo.set_report_state(store, rid, "submitted", user=ANALYST)
    approved = repo.set_report_state(store, rid, "approved", user=TASK_FORCE)
    assert approved.state == "approved" and approved.acted_by == "task force reviewer (demo)"
    # an approved report is final
    with pytest.raises(MeError):
        repo.record_report(store, Report(indicator_id=IND.id, period_start=date(2025, 1, 1),
                                         period_end=date(2025, 12, 31), value=1), user=ANALYST)
    actions = store.audit(entity_type="report", entity_id=rid)["action"].tolist()
    assert actions == ["me:report_recorded", "me:report_submitted", "me:report_returned", "me:report_submitted",
                       "me:report_approved"]


def test_an_indicator_needs_its_intervention_and_a_failed_write_changes_nothing(store):
    orphan = IND.model_copy(update={"intervention_id": "NOPE"})
    with pytest.raises(MeError):
        repo.save_indicator(store, orphan, user=PLANNER)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(me_schema.me_indicators)).scalar_one() == 0
