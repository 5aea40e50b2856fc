"""The inbox of a reviewer, an analyst and a viewer on a hand-made state (fixed date)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mmicd import inbox
from mmicd.auth import Role, User
from mmicd.inbox import Kind
from mmicd.me.config import MeConfig
from mmicd.me.model import Indicator, Intervention, Report
from mmicd.me.repository import Portfolio
from mmicd.model import DatasetVersion

TODAY = date(2026, 6, 10)
CONFIG = MeConfig()  # grace 45 days
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def version(id_, scope, status, note="", by=None, title="Census 2021"):
    return DatasetVersion(id=id_, kind="population", source="NSO", scope=scope, title=title, version=1,
                          status=status, rows=10, loaded_by="ana", created_at=AT, status_changed_at=AT,
                          status_changed_by=by, status_note=note)


VERSIONS = [
    version(1, "SEN", "submitted", title="**Census** <b>2021</b>"),
    version(2, "SEN", "draft", note="Wrong year in row 3", by="rev"),  # returned to ana
    version(3, "SEN", "draft"),  # a fresh draft: nothing awaits anybody
    version(4, "SEN", "published", by="rev"),
    version(5, "NPL", "submitted"),
]
# X1 (SEN) ends on 31 August 2026: 82 days after TODAY; its quarter to 30 June 2026 has no report (due by
# 14 August, the grace of 45 days). X2 (NPL) runs to 2028; its 2025 report was returned, so the year to
# 31 December 2025 has no report received: overdue since 14 February 2026.
IVS = [
    Intervention(id="X1", country="SEN", title="Jobs for returnees", sector="employment", lead="MoL",
                 start=date(2025, 1, 1), end=date(2026, 8, 31), status="ongoing"),
    Intervention(id="X2", country="NPL", title="Safer migration", sector="employment", lead="MoLESS",
                 start=date(2024, 1, 1), end=date(2028, 12, 31), status="ongoing"),
]
INDS = [
    Indicator(id="I1", intervention_id="X1", name="People placed", level="output", baseline_value=0,
              baseline_date=date(2025, 1, 1), end_target=100, end_date=date(2026, 8, 31), frequency="quarterly"),
    Indicator(id="I2", intervention_id="X2", name="Migrants trained", level="output", baseline_value=0,
              baseline_date=date(2024, 1, 1), end_target=500, end_date=date(2028, 12, 31), frequency="annual"),
]
REPORTS = [
    Report(id=11, indicator_id="I1", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31), value=20,
           state="approved"),
    Report(id=12, indicator_id="I1", period_start=date(2025, 10, 1), period_end=date(2025, 12, 31), value=15,
           state="submitted"),
    Report(id=13, indicator_id="I2", period_start=date(2025, 1, 1), period_end=date(2025, 12, 31), value=80,
           state="returned", note="Attach the attendance lists"),
]
PORTFOLIO = Portfolio(interventions=IVS, indicators=INDS, reports=REPORTS)


def kinds(user):
    return [(i.kind, i.what, i.ref) for i in inbox.inbox_items(user, VERSIONS, PORTFOLIO, TODAY, CONFIG)]


def test_a_reviewer_sees_what_to_review_in_their_countries_and_interventions_ending():
    reviewer = User("rev", Role.REVIEWER, countries="SEN", id=2)
    assert kinds(reviewer) == [
        (Kind.TO_REVIEW, "report", "12"),  # oldest first: period to 31 December 2025
        (Kind.TO_REVIEW, "dataset", "1"),  # submitted on 1 June 2026; the NPL version 5 is not theirs
        (Kind.ENDING, "intervention", "X1"),
    ]
    everywhere = User("rev2", Role.REVIEWER, id=3)
    assert [k for k in kinds(everywhere) if k[0] == Kind.TO_REVIEW] == [
        (Kind.TO_REVIEW, "report", "12"), (Kind.TO_REVIEW, "dataset", "1"), (Kind.TO_REVIEW, "dataset", "5")]


def test_an_analyst_sees_returned_work_reports_due_or_overdue_and_interventions_ending():
    analyst = User("ana", Role.ANALYST, countries="SEN,NPL", id=4)
    items = inbox.inbox_items(analyst, VERSIONS, PORTFOLIO, TODAY, CONFIG)
    assert [(i.kind, i.what, i.ref) for i in items] == [
        (Kind.RETURNED, "report", "13"),
        (Kind.RETURNED, "dataset", "2"),
        (Kind.OVERDUE, "indicator", "I2"),
        (Kind.DUE, "indicator", "I1"),
        (Kind.ENDING, "intervention", "X1"),
    ]
    report, returned, overdue, due, ending = items
    assert returned.note == "Wrong year in row 3" and returned.link == "review?dataset=2"
    assert report.note == "Attach the attendance lists"
    assert overdue.when == date(2026, 2, 14) and due.when == date(2026, 8, 14)
    assert ending.when == date(2026, 8, 31)
    assert ending.link == "interventions?country=SEN&intervention=X1"
    assert inbox.counts(items) == {Kind.RETURNED: 2, Kind.OVERDUE: 1, Kind.DUE: 1, Kind.ENDING: 1}
    # an analyst of Nepal only: nothing of Senegal (and version 2 is ana's, not theirs)
    nepal = User("ram", Role.ANALYST, countries="NPL", id=5)
    assert kinds(nepal) == [(Kind.RETURNED, "report", "13"), (Kind.OVERDUE, "indicator", "I2")]
    # once the 2025 report is submitted again, I2 is no longer overdue
    again = Portfolio(IVS, INDS, [*REPORTS[:2], REPORTS[2].model_copy(update={"state": "submitted"})])
    assert inbox.inbox_items(nepal, VERSIONS, again, TODAY, CONFIG) == []


def test_a_viewer_and_an_anonymous_visitor_have_nothing_waiting():
    assert kinds(User("vic", Role.VIEWER, id=6)) == []
    assert kinds(User("anonymous", Role.VIEWER)) == []


def test_items_and_badge_are_translated_text_with_user_text_kept_literally():
    reviewer = User("rev", Role.REVIEWER, countries="SEN", id=2)
    first = inbox.inbox_items(reviewer, VERSIONS, PORTFOLIO, TODAY, CONFIG)[1]
    assert inbox.item_text(first, "en") == (
        "Dataset version 1 of SEN submitted for review: **Census** <b>2021</b> (1 June 2026)")
    assert inbox.item_text(first, "fr").startswith("Version 1 de jeu de données (SEN) soumise pour validation : ")
    assert inbox.badge([], "en") == "Inbox: nothing awaits you"
    assert inbox.badge([first], "fr") == "Boîte de réception : 1 élément vous attend"
    assert inbox.badge([first] * 3, "es") == "Bandeja de entrada: 3 elementos le esperan"
