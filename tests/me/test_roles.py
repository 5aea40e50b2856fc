"""Every M&E write checks the user's role on the server: a forbidden call raises PermissionDenied and
leaves the store (tables and audit trail) exactly as it was."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

import mmicd.me.schema as me_schema
from mmicd.auth import ANONYMOUS, PermissionDenied
from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio
from mmicd.me.model import Report, StageRecord
from mmicd.me.workbook_read import import_workbook
from mmicd.me.workbook_write import export_workbook
from tests.me.test_repository import IND, IV
from tests.me.users import ADMIN, ANALYST, OTHER_ANALYST, PLANNER, REVIEWER, VIEWER


def snapshot(store) -> tuple:
    """Every M&E row and the audit trail's length."""
    with store.engine.connect() as conn:
        rows = tuple(tuple(map(tuple, conn.execute(select(t)).all())) for t in me_schema.metadata.sorted_tables
                     if t.name.startswith("me_"))
        audit = conn.execute(select(func.count()).select_from(me_schema.metadata.tables["audit"])).scalar_one()
    return rows, audit


def refused(store, call) -> None:
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        call()
    assert snapshot(store) == before


def report(**kw) -> Report:
    return Report(indicator_id=IND.id, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=310, **kw)


@pytest.fixture
def framework(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    return store


def test_only_reviewers_edit_interventions_indicators_targets_and_stages(framework):
    store = framework
    renamed = IV.model_copy(update={"title": "Renamed"})
    for who in (ANONYMOUS, VIEWER, ANALYST):
        refused(store, lambda who=who: repo.save_intervention(store, renamed, user=who))
        refused(store, lambda who=who: repo.save_indicator(store, IND.model_copy(update={"name": "x"}), user=who))
        refused(store, lambda who=who: repo.change_targets(store, IND.id, user=who, reason="why", end_target=5.0))
        refused(store, lambda who=who: repo.save_stage(store, StageRecord(country="NPL", stage="assessment"),
                                                        user=who))
    repo.save_intervention(store, renamed, user=REVIEWER)
    repo.change_targets(store, IND.id, user=ADMIN, reason="new plan", end_target=1100.0)
    p = repo.load_portfolio(store)
    assert p.interventions[0].title == "Renamed" and p.indicators[0].end_target == 1100
    assert p.changes[-1].actor == "root"


def test_viewers_and_reviewers_cannot_report_and_analysts_only_for_their_country(framework):
    store = framework
    for who in (ANONYMOUS, VIEWER, REVIEWER, OTHER_ANALYST):
        refused(store, lambda who=who: repo.record_report(store, report(state="submitted"), user=who))
    rid = repo.record_report(store, report(), user=ANALYST)
    assert repo.load_portfolio(store).reports[0].acted_by == "analyst"
    # a viewer cannot submit the draft; the analyst of another country neither
    for who in (VIEWER, OTHER_ANALYST, ANONYMOUS):
        refused(store, lambda who=who: repo.set_report_state(store, rid, "submitted", user=who))
    repo.set_report_state(store, rid, "submitted", user=ANALYST)
    # an analyst cannot approve or return (even their own report); a viewer neither
    for who in (ANALYST, VIEWER, OTHER_ANALYST):
        refused(store, lambda who=who: repo.set_report_state(store, rid, "approved", user=who))
        refused(store, lambda who=who: repo.set_report_state(store, rid, "returned", user=who, note="no"))
    approved = repo.set_report_state(store, rid, "approved", user=REVIEWER)
    assert (approved.state, approved.acted_by) == ("approved", "reviewer")


def test_storing_an_imported_workbook_needs_a_reviewer_but_the_dry_run_does_not(store):
    data = export_workbook(demo_portfolio(date(2026, 11, 24))[0], "en")
    assert import_workbook(store, data, user=ANONYMOUS, dry_run=True).counts["interventions"] == 12
    for who in (ANONYMOUS, VIEWER, ANALYST):
        refused(store, lambda who=who: import_workbook(store, data, user=who, dry_run=False))
    assert repo.is_empty(store)
    assert import_workbook(store, data, user=REVIEWER, dry_run=False).stored
    assert len(repo.load_portfolio(store).interventions) == 12
