"""The M&E pages in-process (AppTest) on the seeded store with the illustrative demo portfolio."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd.demo import ensure_demo_uploads
from mmicd.engine import compute
from mmicd.me.demo import ensure_demo
from mmicd.me.progress import format_value
from mmicd.store import Store
from tests.conftest import DASHBOARD
from tests.me.test_demo import EXPECTED

APP = str(Path(__file__).resolve().parents[2] / DASHBOARD)
LABELS = {"on_track": "● On track", "at_risk": "▲ At risk", "off_track": "■ Off track", "overdue": "◆ Overdue",
          "achieved": "★ Achieved", "no_data": "○ No data"}


@pytest.fixture
def me_env(app_env, monkeypatch):
    """The app's store (a copy of the seeded baseline) with what the first start adds: the demo
    uploads (the synthetic Nepal LFS 2023, published) and the demo portfolio."""
    monkeypatch.setenv("MMICD_RAISE_ERRORS", "1")
    store = Store(app_env)
    ensure_demo_uploads(store)
    ensure_demo(store)
    store.engine.dispose()
    return app_env


# the two linked indicators have their actuals from the published statistics (demo LFS, WDI)
ON_THE_PAGE = EXPECTED | {"EMP-01-3": "on_track", "REM-01-2": "on_track"}


def lfs_migrant_unemployment(url: str) -> tuple[float, float, float]:
    """The engine's unemployment rate of migrants in Nepal (value, CI) from the published statistics."""
    store = Store(url)
    table = compute(store, country="NPL", indicators=["unemp_rate"]).table
    store.engine.dispose()
    row = table.loc[(table["sex"] == "_T") & (table["age"] == "_T") & (table["migrant_status"] == "MS_MIGRANT")]
    return tuple(row.iloc[0][["value", "ci_lower", "ci_upper"]])


def lfs_version(url: str) -> int:
    store = Store(url)
    # the national demo LFS (the provincial one, loaded beside it, has a source of its own)
    (version,) = [v.id for v in store.datasets() if v.kind.value == "lfs" and v.status.value == "published"
                  and v.source == "Demo: Nepal statistics office (synthetic)"]
    store.engine.dispose()
    return version


def numbers(data) -> list[float]:
    """A plotly array from the chart's JSON (a list, or typed binary ``{"dtype", "bdata"}``)."""
    import base64

    import numpy as np

    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def frame_with(at: AppTest, column: str):
    """The first table shown that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


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
        "2", "1", "2", "2")  # the two linked indicators have published statistics
    table = at.dataframe[0].value
    from mmicd.me.demo import demo_portfolio

    names = {i.id: i.name for i in demo_portfolio()[0].indicators}
    statuses = dict(zip(table["Indicator"], table["Status"], strict=True))
    assert statuses == {names[i]: LABELS[s] for i, s in ON_THE_PAGE.items()}
    why = dict(zip(table["Indicator"], table["Why"], strict=True))
    assert why[names["HLT-01-1"]].endswith("69% of expected → At risk.")
    # the linked indicator: its actual is the engine's figure from the published demo LFS, with its CI
    value, low, high = lfs_migrant_unemployment(me_env)
    figure = f"{format_value(value, 'percentage', 'en')} (95% CI {format_value(low, 'percentage', 'en')} – " \
             f"{format_value(high, 'percentage', 'en')})"
    assert figure == "10.2% (95% CI 7.4% – 12.9%)"
    linked = table.loc[table["Indicator"] == names["EMP-01-3"]].iloc[0]
    assert linked["Current value"] == figure
    assert f"national statistics {figure} for 2023" in linked["Why"] and linked["Why"].endswith("→ On track.")
    assert linked["Statistics"] == ("from national statistics (unemp_rate): Demo: Nepal statistics office "
                                    "(synthetic), Labour Force Survey 2023 (synthetic), 2023 (dataset version "
                                    f"{lfs_version(me_env)})")
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
    # the demo's dates move with the loading day: the submitted report ends 2026-09-30 shifted by
    # the months between the file's reference date (2026-11-15) and today
    from datetime import date

    from mmicd.me.demo import months_between
    from mmicd.me.progress import add_months

    end = add_months(date(2026, 9, 30), months_between(date(2026, 11, 15), date.today()))
    report = next(r for r in load_portfolio(store).reports if r.indicator_id == "GOV-01-2"
                  and r.period_end == end)
    store.engine.dispose()
    assert (report.state, report.acted_by) == ("approved", "rev")


def test_anonymous_visitors_see_pending_reports_but_cannot_review(me_env):
    at = open_page("pages/me_interventions.py")
    at.selectbox(key="me_detail_iv").set_value("NPL-GOV-01").run()
    assert any("1 report awaits review" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "me_review_approve"]


def test_trajectory_of_a_linked_indicator_draws_the_published_figures_with_their_ci(me_env):
    import json

    at = open_page("pages/me_dashboard.py")
    at.selectbox(key="me_traj_indicator").set_value("EMP-01-3").run()
    assert not at.exception
    value, low, high = lfs_migrant_unemployment(me_env)
    table = frame_with(at, "Series")
    stats = table.loc[table["Series"] == "From national statistics (95% CI)"]
    assert stats["Value"].tolist() == ["10.2% (95% CI 7.4% – 12.9%)"]
    assert stats["Source"].tolist() == ["Demo: Nepal statistics office (synthetic), Labour Force Survey 2023 "
                                        "(synthetic) (2023)"]
    (trace,) = [t for chart in at.get("plotly_chart") for t in json.loads(chart.proto.spec)["data"]
                if t.get("name") == "From national statistics (95% CI)"]
    assert numbers(trace["y"]) == [value]
    assert numbers(trace["error_y"]["array"]) == [high - value]
    assert numbers(trace["error_y"]["arrayminus"]) == [value - low]


def test_results_by_sex_and_by_age(me_env):
    at = open_page("pages/me_dashboard.py")
    assert any(s.value == "Results by age group" for s in at.subheader)
    by_age = frame_with(at, "15-24").set_index("Indicator")
    from mmicd.me.demo import demo_portfolio

    names = {i.id: i.name for i in demo_portfolio()[0].indicators}
    # reported, cumulative: the age parts of the four approved reports added up (by hand: 150+160+180+170)
    assert by_age.loc[names["EMP-01-1"], ["15-24", "25-54", "55-64", "All ages"]].tolist() == [
        "660", "2,030", "160", "2,850"]
    assert by_age.at[names["EMP-01-1"], "Actuals"] == "reported"
    # percentage, latest: 2,300 / 10,000 for 15-24
    assert by_age.at[names["HLT-01-1"], "15-24"] == "23.0%"
    # linked: the demo LFS by age, flagged U where unreliable and never a number when suppressed (Q)
    linked = by_age.loc[names["EMP-01-3"]]
    assert linked["Actuals"] == "from national statistics"
    assert linked["15-24"].endswith("(U)") and linked["55-64"] == "suppressed (Q)"
    assert linked["All ages"] == "10.2%"
    by_sex = frame_with(at, "Women's share").set_index("Indicator")
    assert by_sex.at[names["EMP-01-3"], "Actuals"] == "from national statistics"


def signed_in(user) -> AppTest:
    from datetime import UTC, datetime, timedelta

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    assert not at.exception, at.exception
    return at


def test_an_analyst_enters_a_report_refused_until_the_breakdown_adds_up_or_is_justified(me_env):
    from mmicd.auth import Role, User
    from mmicd.me.repository import load_portfolio

    at = signed_in(User("ana", Role.ANALYST, countries="NPL", id=4))
    at.selectbox(key="me_detail_iv").set_value("NPL-RUR-01").run()
    assert any(m.value == "**Enter a progress report**" for m in at.markdown)
    # the overdue quarter is offered first
    period = at.selectbox(key="me_form_period_RUR-01-1")
    assert period.format_func(period.value) == "1 Jul\u2009–\u200930 Sept 2026"  # a CLDR interval
    at.number_input(key="me_form_total_RUR-01-1").set_value(500)
    at.number_input(key="me_form_sex_RUR-01-1_F").set_value(300)
    at.number_input(key="me_form_sex_RUR-01-1_M").set_value(190)
    at.text_area(key="me_form_comment_RUR-01-1").set_value("Third quarter")
    at.button(key="me_form_submit_RUR-01-1").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Breakdown by sex does not add up: parts 490, total 500, difference -10. Correct it or record a "
        "justification."]
    store = Store(me_env)
    before = [r for r in load_portfolio(store).reports if r.indicator_id == "RUR-01-1"]
    store.engine.dispose()
    assert len(before) == 3  # nothing stored
    at.text_input(key="me_form_justification_RUR-01-1").set_value("10 grants to households headed by a child")
    at.button(key="me_form_submit_RUR-01-1").click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Submitted for review: the report for 1 Jul\u2009–\u200930 Sept 2026") for s in at.success), [
        x.value for x in [*at.success, *at.error, *at.warning, *at.info]]
    store = Store(me_env)
    reports = [r for r in load_portfolio(store).reports if r.indicator_id == "RUR-01-1"]
    store.engine.dispose()
    new = reports[-1]
    assert (new.state, new.acted_by, new.value, new.justification) == (
        "submitted", "ana", 500, "10 grants to households headed by a child")
    shown = [d.value for d in at.dataframe if "Report state" in d.value.columns]
    assert any(((t["Report state"] == "Submitted") & (t["Value"] == "500")).any() for t in shown)


def test_an_age_breakdown_that_does_not_add_up_shows_the_difference(me_env):
    from mmicd.auth import Role, User

    at = signed_in(User("ana", Role.ANALYST, countries="NPL", id=4))
    at.selectbox(key="me_detail_iv").set_value("NPL-EMP-01").run()
    at.number_input(key="me_form_total_EMP-01-1").set_value(400)
    at.number_input(key="me_form_age_EMP-01-1_Y15T24").set_value(100)
    at.number_input(key="me_form_age_EMP-01-1_Y25T54").set_value(310)
    at.button(key="me_form_draft_EMP-01-1").click().run()
    assert [e.value for e in at.error] == [
        "Breakdown by age group does not add up: parts 410, total 400, difference +10. Correct it or record a "
        "justification."]


def test_anonymous_visitors_get_no_form_and_a_reviewer_edits_and_changes_targets_with_a_reason(me_env):
    from mmicd.auth import Role, User
    from mmicd.me.repository import load_portfolio

    at = open_page("pages/me_interventions.py")
    assert any("Entering progress reports needs an analyst account" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key and b.key.startswith(("me_form_submit", "me_form_iv_", "me_form_t_save", "forms_"))]
    at = signed_in(User("rev", Role.REVIEWER, id=3))
    at.selectbox(key="me_detail_iv").set_value("NPL-RUR-01").run()
    at.number_input(key="me_form_iv_NPL-RUR-01_disbursed").set_value(900000.0)
    at.text_input(key="me_form_iv_NPL-RUR-01_reason").set_value("Second instalment paid")
    at.button(key="me_form_iv_NPL-RUR-01_save").click().run()
    assert any(s.value.startswith("Intervention NPL-RUR-01 saved") for s in at.success)
    at.selectbox(key="me_form_targets_indicator_NPL-RUR-01").set_value("RUR-01-1").run()
    at.number_input(key="me_form_t_end_RUR-01-1").set_value(4200.0)
    at.button(key="me_form_t_save_RUR-01-1").click().run()
    assert [e.value for e in at.error] == ["Indicator RUR-01-1: a change of baseline or target needs a reason."]
    at.text_input(key="me_form_t_reason_RUR-01-1").set_value("Second funding round")
    at.button(key="me_form_t_save_RUR-01-1").click().run()
    assert any(s.value.startswith("1 change recorded") for s in at.success)
    store = Store(me_env)
    p = load_portfolio(store)
    store.engine.dispose()
    assert p.intervention("NPL-RUR-01").budget_disbursed == 900000
    change = p.changes[-1]
    assert (change.field, change.old, change.new, change.reason, change.actor) == (
        "end_target", 4000.0, 4200.0, "Second funding round", "rev")


def test_budgets_in_two_currencies_are_never_added_up(me_env):
    # one demo intervention budgeted in euros: the dashboard shows each currency's total and share
    # disbursed apart (the demo's 29,100,000 would be a sum of dollars and euros), says so, and draws
    # one budget chart per currency, its axis naming the currency
    from mmicd.auth import SYSTEM
    from mmicd.me.repository import load_portfolio, save_intervention
    from mmicd.me.views import budget_totals

    store = Store(me_env)
    iv = next(i for i in load_portfolio(store, "NPL").interventions if i.budget_planned > 0)
    save_intervention(store, iv.model_copy(update={"currency": "EUR"}), user=SYSTEM)
    totals = budget_totals(load_portfolio(store, "NPL")).set_index("currency")
    store.engine.dispose()
    assert totals.loc["EUR", "planned"] == iv.budget_planned
    assert totals.loc["USD", "planned"] == 29_100_000 - iv.budget_planned
    assert totals.loc["EUR", "disbursed_pct"] == round(iv.budget_disbursed / iv.budget_planned * 100, 1)

    at = open_page("pages/me_dashboard.py")
    shown = metrics(at)
    assert "Budget planned (USD/EUR)" not in shown and "Budget planned (EUR/USD)" not in shown
    usd, eur = f"{totals.loc['USD', 'planned']:,.0f}", f"{iv.budget_planned:,.0f}"
    assert (shown["Budget planned (USD)"], shown["Budget planned (EUR)"]) == (usd, eur)
    assert shown["Budget disbursed (EUR)"] == f"{totals.loc['EUR', 'disbursed_pct']:.1f}%"
    assert "29,100,000" not in shown.values() and "Budget disbursed" not in shown
    assert any("several currencies (USD, EUR)" in c.value for c in at.caption)
    axes = [c.proto.spec for c in at.get("plotly_chart") if '"Amount (' in c.proto.spec]
    assert len(axes) == 2 and '"Amount (USD)"' in axes[0] and '"Amount (EUR)"' in axes[1]
