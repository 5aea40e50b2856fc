"""The M&E pages in-process (AppTest) on the seeded store with the illustrative demo portfolio."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd.me.demo import ensure_demo
from mmicd.store import Store
from tests.me.test_demo import EXPECTED

APP = str(Path(__file__).resolve().parents[2] / "app.py")
LABELS = {"on_track": "● On track", "at_risk": "▲ At risk", "off_track": "■ Off track", "overdue": "◆ Overdue",
          "achieved": "★ Achieved", "no_data": "○ No data"}


@pytest.fixture
def me_env(app_env, monkeypatch):
    """The app's store (a copy of the seeded baseline) with the demo portfolio loaded before the first run."""
    monkeypatch.setenv("MMICD_RAISE_ERRORS", "1")
    store = Store(app_env)
    ensure_demo(store)
    store.engine.dispose()
    return app_env


def open_page(page: str, country: str = "NPL", lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = country
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_dashboard_shows_the_status_of_every_demo_indicator(me_env):
    at = open_page("pages/me_dashboard.py")
    assert at.title[0].value == "Joint M&E dashboard: Nepal"
    assert any("Illustrative data" in w.value for w in at.warning)
    assert any("at least 85% of the progress expected" in c.value for c in at.caption)
    shown = metrics(at)
    assert (shown["Interventions"], shown["Indicators"]) == ("12", "18")
    assert (shown["Off track"], shown["Overdue reports"], shown["Without data"], shown["Ending soon"]) == (
        "2", "1", "4", "2")
    table = at.dataframe[0].value
    from mmicd.me.demo import demo_portfolio

    names = {i.id: i.name for i in demo_portfolio()[0].indicators}
    statuses = dict(zip(table["Indicator"], table["Status"], strict=True))
    assert statuses == {names[i]: LABELS[s] for i, s in EXPECTED.items()}
    why = dict(zip(table["Indicator"], table["Why"], strict=True))
    assert why[names["HLT-01-1"]].endswith("69% of expected → At risk.")
    assert why[names["EMP-01-3"]].startswith("Linked to unemp_rate")
    assert table.loc[table["Indicator"] == names["EMP-01-3"], "Statistics"].item() == "linked to unemp_rate"
    matrix = at.get("plotly_chart")[0].proto.spec
    assert all(label in matrix for label in ("Achieved", "On track", "At risk", "Off track", "Overdue", "No data"))


def test_dashboard_filters_by_sector(me_env):
    at = open_page("pages/me_dashboard.py")
    at.multiselect(key="me_dash_sector").set_value(["employment"]).run()
    assert not at.exception
    assert metrics(at)["Interventions"] == "2"
    assert set(at.dataframe[0].value["Intervention"]) == {
        "Skills recognition and job placement for returnee migrant workers",
        "Pre-departure orientation and information for prospective migrant workers"}


def test_dashboard_in_french_and_spanish(me_env):
    at = open_page("pages/me_dashboard.py", lang="fr")
    assert at.title[0].value == "Tableau de bord conjoint de S&E : Népal"
    assert metrics(at)["Budget prévu (USD)"] == "29\u202f100\u202f000"
    assert "▲ À risque" in set(at.dataframe[0].value["Statut"])
    at = open_page("pages/me_dashboard.py", lang="es")
    assert "★ Logrado" in set(at.dataframe[0].value["Estado"])


def test_dashboard_for_a_country_without_interventions(me_env):
    at = open_page("pages/me_dashboard.py", country="SEN")
    assert any("No intervention is registered for Senegal" in i.value for i in at.info)


def test_interventions_register_detail_and_exports(me_env):
    at = open_page("pages/me_interventions.py")
    assert at.title[0].value == "Interventions: Nepal"
    register = at.dataframe[0].value
    assert len(register) == 12
    assert register.set_index("Id").at["NPL-RUR-01", "Indicator statuses"] == "● 1  ◆ 1"
    # the detail of the first intervention (by id): education, achieved
    assert any(m.value.startswith("**★ Achieved**") for m in at.markdown)
    assert any("Importing a portfolio needs a reviewer" in c.value for c in at.caption)  # anonymous visitor
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Portfolio (Excel)", "Empty template (Excel)", "IATI 2.03 XML"} <= set(labels)


def test_a_reviewer_approves_a_submitted_report_and_returning_needs_a_note(me_env):
    from datetime import UTC, datetime, timedelta

    from mmicd.auth import Role, User
    from mmicd.me.repository import load_portfolio

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["_auth"] = {"user": User("rev", Role.REVIEWER, id=3),
                                 "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    at.selectbox(key="me_detail_iv").set_value("NPL-GOV-01").run()
    assert any(m.value == "**Reports awaiting review**" for m in at.markdown)
    at.button(key="me_review_return").click().run()  # no note
    assert any("needs a note" in e.value for e in at.error)
    at.button(key="me_review_approve").click().run()
    assert not at.exception
    assert any(s.value.startswith("Approved") for s in at.success)
    store = Store(me_env)
    report = next(r for r in load_portfolio(store).reports if r.indicator_id == "GOV-01-2"
                  and r.period_end.month == 9)
    store.engine.dispose()
    assert (report.state, report.acted_by) == ("approved", "rev")


def test_anonymous_visitors_see_pending_reports_but_cannot_review(me_env):
    at = open_page("pages/me_interventions.py")
    at.selectbox(key="me_detail_iv").set_value("NPL-GOV-01").run()
    assert any("1 report(s) await review" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "me_review_approve"]
