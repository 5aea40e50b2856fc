"""The Review page as a reviewer and as an analyst (AppTest on the seeded store): the validation
report the analyst saw, the change from the published version, the international baseline and the
analyst's notes; approving and returning (audited); M&E reports with the status approval would give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd import workflow
from mmicd.auth import SYSTEM, Role, User
from mmicd.auth.accounts import create_user
from mmicd.ingest import Upload, commit, prepare
from mmicd.me.model import Indicator, Intervention, Milestone, Report
from mmicd.me.repository import (
    load_portfolio,
    record_report,
    save_indicator,
    save_intervention,
    set_report_state,
)
from mmicd.model import Status
from mmicd.store import Store
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)
NOTES = "Census 2023, preliminary count; the 2020 figure is revised."
PUBLISHED = b"ref_area,time_period,migrant_status,value\nSEN,2015,MS_MIGRANT,250000\nSEN,2020,MS_MIGRANT,260000\n"
# 2020 revised to 272,556; parts by sex added that do not add up to the total (a warning)
REVISED = (b"ref_area,time_period,sex,migrant_status,value\nSEN,2015,_T,MS_MIGRANT,250000\n"
           b"SEN,2020,_T,MS_MIGRANT,272556\nSEN,2020,F,MS_MIGRANT,100\nSEN,2020,M,MS_MIGRANT,100\n")


def signed_in(user: User, page: str = "review", lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def upload(data: bytes, **kw):
    return prepare([Upload("senegal_stock.csv", data)], kind="migrant_stock", source="ANSD", country="SEN", **kw)


@pytest.fixture
def submitted(app_env):
    s = Store(app_env)
    [published] = commit(upload(PUBLISHED), s, actor="cli", publish=True)
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="SEN")
    [draft] = workflow.commit_upload(s, ana, upload(REVISED, store=s, notes=NOTES))
    workflow.submit(s, ana, draft.id)
    yield s, published, draft, ana
    s.engine.dispose()


def frame_with(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_a_reviewer_sees_the_change_the_baseline_the_warnings_and_the_notes(submitted):
    s, published, draft, _ = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3))
    assert any(m.value.startswith(f"Compared with published version #{published.id} (v1) of the same series. "
                                  "Added: 2 · changed: 1 · removed: 0 · unchanged: 1.") for m in at.markdown)
    diff = frame_with(at, "% change")
    assert diff[["Change", "Detail", "Year", "Published", "New", "Difference", "% change"]].values.tolist() == [
        ["Changed", "Migrants", "2020", "260,000", "272,556", "+12,556", "+4.8%"],
        ["Added", "Female · Migrants", "2020", "–", "100", "+100", "–"],
        ["Added", "Male · Migrants", "2020", "–", "100", "+100", "–"]]
    baseline = frame_with(at, "National vs baseline").set_index("Year")
    assert baseline.loc["2020", ["National figure", "Baseline (year)", "National vs baseline"]].tolist() \
        == ["272,556", "274,929 (2020)", "−0.9%"]
    assert baseline.loc["2020", "Baseline source"].startswith("UN DESA")
    assert any(w.value == "The analyst saw 1 warning when loading this version." for w in at.warning)
    report = frame_with(at, "Message")
    assert report["Message"].tolist() == ["The parts by sex add up to 200, not to the total 272,556."]
    assert NOTES in [t.value for t in at.text]
    chart = next(c for c in at.get("plotly_chart"))
    assert '"This version"' in chart.proto.spec and '"Published"' in chart.proto.spec


def test_the_comparison_in_french(submitted):
    s, published, draft, _ = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3), lang="fr")
    assert any("Ajoutées : 2 · modifiées : 1 · supprimées : 0 · inchangées : 1" in m.value for m in at.markdown)
    diff = frame_with(at, "Variation en %")
    assert diff.iloc[0][["Modification", "Publié", "Nouveau", "Variation en %"]].tolist() == [
        "Modifiée", "260\u202f000", "272\u202f556", "+4,8\u00a0%"]


def test_a_reviewer_approves_and_it_is_audited(submitted):
    s, published, draft, _ = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3))
    at.text_area[0].set_value("Matches the census report")
    next(b for b in at.button if b.label == "Approve and publish").click().run()
    assert not at.exception, at.exception
    assert s.dataset(draft.id).status == Status.PUBLISHED
    assert s.dataset(published.id).status == Status.SUPERSEDED
    entry = s.audit(dataset_id=draft.id).iloc[-1]
    assert (entry["actor"], entry["reason"]) == ("rev", "Matches the census report")


def test_a_reviewer_returns_with_a_note_and_it_is_audited(submitted):
    s, _, draft, _ = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3))
    next(b for b in at.button if b.label == "Return to the analyst").click().run()
    assert any(e.value.startswith("Write a note") for e in at.error)
    assert s.dataset(draft.id).status == Status.SUBMITTED
    at.text_area[0].set_value("Check the parts by sex")
    next(b for b in at.button if b.label == "Return to the analyst").click().run()
    assert not at.exception, at.exception
    assert s.dataset(draft.id).status == Status.DRAFT
    entry = s.audit(dataset_id=draft.id).iloc[-1]
    assert (entry["actor"], entry["reason"]) == ("rev", "Check the parts by sex")


def test_an_analyst_sees_the_comparison_but_cannot_approve(submitted):
    s, _, draft, ana = submitted
    at = signed_in(ana)
    assert frame_with(at, "% change")["New"].iloc[0] == "272,556"
    assert not [b for b in at.button if b.label in ("Approve and publish", "Return to the analyst")]
    assert any(c.value == "Publishing or returning this version needs a reviewer." for c in at.caption)
    from mmicd.auth import PermissionDenied

    with pytest.raises(PermissionDenied):
        workflow.publish(s, ana, draft.id)
    assert s.dataset(draft.id).status == Status.SUBMITTED


# ---- M&E reports ----------------------------------------------------------------------------------
def plant_report(s: Store) -> int:
    """An intervention in Nepal with one indicator (0 → 84 by March 2027, 120 by March 2028), an
    approved report of 30 for the year to March 2026 and a submitted one of 90 for the next year."""
    save_intervention(s, Intervention(id="X1", title="Jobs for returnees", country="NPL", sector="employment",
                                      lead="Ministry of Labour", start=date(2025, 1, 1), end=date(2028, 12, 31),
                                      status="ongoing"), user=SYSTEM)
    save_indicator(s, Indicator(id="I1", intervention_id="X1", name="People placed in jobs", level="output",
                                baseline_value=0, baseline_date=date(2025, 3, 31),
                                milestones=[Milestone(due=date(2027, 3, 31), target=84)], end_target=120,
                                end_date=date(2028, 3, 31), frequency="annual"), user=SYSTEM)
    first = record_report(s, Report(indicator_id="I1", period_start=date(2025, 4, 1), period_end=date(2026, 3, 31),
                                    value=30, state="submitted"), user=SYSTEM)
    set_report_state(s, first, "approved", user=User("lead", Role.REVIEWER, id=9))
    return record_report(s, Report(indicator_id="I1", period_start=date(2026, 4, 1), period_end=date(2027, 3, 31),
                                   value=90, state="submitted", comment="Two job fairs"), user=SYSTEM)


@pytest.fixture
def me_report(app_env, monkeypatch):
    import mmicd.ui.review

    monkeypatch.setattr(mmicd.ui.review, "today", lambda: date(2027, 4, 15))  # a fixed clock
    s = Store(app_env)
    yield s, plant_report(s)
    s.engine.dispose()


def test_an_me_report_shows_previous_periods_target_and_the_status_approval_gives(me_report):
    s, pending = me_report
    at = signed_in(User("rev", Role.REVIEWER, id=3))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reported value"] == "90" and metrics["Next target"] == "84"
    # today 30 of an expected ~42: at risk; with 90 reported for March 2027 (target 84): on track
    assert metrics["Status once approved"] == "On track"
    assert next(m for m in at.metric if m.label == "Status once approved").proto.delta == "today: At risk"
    previous = frame_with(at, "Acted on by")
    assert previous[["Value", "State", "Acted on by"]].values.tolist() == [["30", "Approved", "lead"]]
    assert "Two job fairs" in [t.value for t in at.text]
    approve = next(b for b in at.button if b.label == "Approve" and "rv_me" in (b.form_id or ""))
    approve.click().run()
    assert not at.exception, at.exception
    report = next(r for r in load_portfolio(s).reports if r.id == pending)
    assert (report.state, report.acted_by) == ("approved", "rev")
    assert s.audit(entity_type="report", entity_id=pending)["action"].iloc[-1] == "me:report_approved"


def test_an_analyst_cannot_approve_an_me_report(me_report):
    s, pending = me_report
    at = signed_in(User("ana", Role.ANALYST, countries="NPL", id=5))
    assert {m.label: m.value for m in at.metric}["Status once approved"] == "On track"
    assert not [b for b in at.button if b.label == "Approve"]
    assert any(c.value == "Approving or returning a report needs a reviewer." for c in at.caption)
