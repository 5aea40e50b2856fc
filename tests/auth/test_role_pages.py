"""Each role sees exactly its pages; forbidden pages cannot be opened; drafts never reach viewers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mmicd import workflow
from mmicd.auth import SYSTEM, PermissionDenied, Role, User
from mmicd.auth.accounts import create_user
from mmicd.i18n import t
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store
from tests.conftest import DASHBOARD

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / DASHBOARD)
ALL_PAGES = ["overview", "data_sources", "review", "audit", "users", "account"]
EXPECTED = {
    "anonymous": {"overview", "data_sources", "account"},
    Role.VIEWER: {"overview", "data_sources", "account"},
    Role.ANALYST: {"overview", "data_sources", "review", "account"},
    Role.REVIEWER: {"overview", "data_sources", "review", "audit", "account"},
    Role.ADMIN: set(ALL_PAGES),
}


def session(user: User | None, minutes: int = 30) -> dict | None:
    return None if user is None else {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=minutes)}


def app(user: User | None = None, page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py") if page else APP, default_timeout=120)
    if user is not None:
        at.session_state["_auth"] = session(user)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at


def reachable(at: AppTest) -> set[str]:
    found = set()
    for name in ALL_PAGES:
        try:
            at.switch_page(f"pages/{name}.py")
        except ValueError:
            continue
        found.add(name)
    return found


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_exactly_its_pages(app_env, role):
    user = None if role == "anonymous" else User(f"u-{role}", role, id=7)
    at = app(user)
    assert not at.exception, at.exception
    assert reachable(at) == EXPECTED[role]


def test_forbidden_pages_opened_directly_refuse(app_env):
    for page in ("users", "audit"):
        at = app(User("vic", Role.VIEWER, id=5), page=page)
        assert at.exception and "may not" in at.exception[0].value


def test_sign_in_with_the_form_then_the_role_pages_appear(app_env):
    s = Store(app_env)
    create_user(s, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")
    at = app(page="account")
    at.text_input(key="sign_in_username").set_value("rev")
    at.text_input(key="sign_in_password").set_value("long enough 1")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["_auth"]["user"].role == Role.REVIEWER


def test_a_wrong_password_is_refused_with_a_message(app_env):
    s = Store(app_env)
    create_user(s, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")
    at = app(page="account")
    at.text_input(key="sign_in_username").set_value("rev")
    at.text_input(key="sign_in_password").set_value("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "Wrong user name or password."
    assert "_auth" not in at.session_state


def test_an_idle_session_expires(app_env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["_auth"] = {"user": User("rev", Role.REVIEWER, id=3),
                                 "expires": datetime.now(UTC) - timedelta(seconds=1)}
    at.run()
    assert reachable(at) == EXPECTED["anonymous"]


def test_anonymous_access_off_shows_nothing_but_the_sign_in_form(app_env, monkeypatch):
    monkeypatch.setenv("MMICD_ALLOW_ANONYMOUS", "0")
    create_user(Store(app_env), SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")
    at = app()
    assert not at.exception, at.exception
    assert reachable(at) == {"account"}
    # no sidebar (language, country, year, about text, account caption, navigation), no public texts
    assert not at.sidebar.children
    # the language choice, the title, the form
    assert [type(e).__name__ for e in at.main.children.values()] == ["Selectbox", "Title", "Block"]
    assert at.title[0].value == "Sign in" and not at.caption and not at.markdown
    assert [w.label for w in at.text_input] == ["User name (or e-mail)", "Password"]
    at.selectbox(key="lang").set_value("fr").run()  # a person who reads French says so before signing in
    assert at.title[0].value == t("auth.sign_in", "fr") != "Sign in"
    assert [w.label for w in at.text_input] == [t("auth.username", "fr"), t("auth.password", "fr")]
    at.selectbox(key="lang").set_value("en").run()
    at.text_input(key="sign_in_username").set_value("rev")
    at.text_input(key="sign_in_password").set_value("long enough 1")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["_auth"]["user"].role == Role.REVIEWER
    # a signed-in session gets the sidebar and its role's pages back
    signed_in = app(at.session_state["_auth"]["user"])
    assert "Signed in as rev (Reviewer)" in [c.value for c in signed_in.sidebar.caption]
    assert reachable(signed_in) == EXPECTED[Role.REVIEWER]


def test_sign_in_from_a_throttled_address_is_refused_with_a_message(app_env, monkeypatch):
    from mmicd.auth.accounts import SignInError, authenticate
    from mmicd.ui import auth as ui_auth

    s = Store(app_env)
    create_user(s, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")
    for i in range(20):  # twenty failures from one address, on as many names
        with pytest.raises(SignInError):
            authenticate(s, f"guess{i}", "wrong", address="203.0.113.7", sleep=lambda _: None)
    monkeypatch.setattr(ui_auth, "client_address", lambda: "203.0.113.7")
    at = app(page="account")
    at.text_input(key="sign_in_username").set_value("rev")
    at.text_input(key="sign_in_password").set_value("long enough 1")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        "Too many failed sign-ins from your network address: sign-in is refused from it for 15 minutes."]
    assert "_auth" not in at.session_state
    monkeypatch.setattr(ui_auth, "client_address", lambda: "198.51.100.2")  # another address
    at.button[0].click().run()
    assert at.session_state["_auth"]["user"].username == "rev"


def test_the_client_address_behind_proxies(monkeypatch):
    import streamlit

    from mmicd.ui.auth import client_address

    class Context:
        ip_address = "10.0.0.2"  # the proxy
        headers = {"X-Forwarded-For": "198.51.100.66, 203.0.113.7, 10.0.0.1"}

    monkeypatch.setattr(streamlit, "context", Context())
    monkeypatch.delenv("MMICD_PROXY_HOPS", raising=False)
    assert client_address() == "10.0.0.2"
    monkeypatch.setenv("MMICD_PROXY_HOPS", "2")  # the outer proxy added 203.0.113.7; the first is client-made
    assert client_address() == "203.0.113.7"


def test_drafts_never_reach_viewers(app_env):
    s = Store(app_env)
    meta = DatasetMeta(kind=Kind.MIGRANT_STOCK, source="UN DESA, International Migrant Stock", edition="2024")
    draft = s.add_dataset(meta, pd.DataFrame({"measure": "POP", "ref_area": "DEU", "time_period": "2020",
                                              "sex": "_T", "migrant_status": "MS_MIGRANT", "value": [1.0]}),
                          actor="ana")
    at = app(User("vic", Role.VIEWER, id=5), country="DEU", year="2020")
    shown = {m.label: m.value for m in at.metric}
    assert shown["International migrant stock (2020)"] == "15,762,457"
    at.switch_page("pages/data_sources.py").run()
    assert draft.id not in at.dataframe[0].value["Id"].tolist()


def test_review_page_publishes_a_submitted_version(app_env):
    s = Store(app_env)
    analyst = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1",
                          countries="NPL")
    meta = DatasetMeta(kind=Kind.CENSUS, source="Nepal NSO", edition="2021", scope="NPL")
    v = s.add_dataset(meta, pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": "2021",
                                          "value": [29_164_578.0]}), actor="ana")
    workflow.submit(s, analyst, v.id)
    at = app(User("rev", Role.REVIEWER, id=3), page="review")
    assert not at.exception, at.exception
    at.text_area[0].set_value("Checked against the census report")
    next(b for b in at.button if b.label == "Approve and publish").click().run()
    assert not at.exception, at.exception
    assert s.dataset(v.id).status == Status.PUBLISHED
    assert s.audit(dataset_id=v.id)["reason"].iloc[-1] == "Checked against the census report"


def test_admin_creates_an_account_from_the_users_page(app_env):
    s = Store(app_env)
    at = app(SYSTEM, page="users")
    assert not at.exception, at.exception
    form_inputs = at.text_input
    form_inputs[0].set_value("new.analyst@nso.gov.np")
    form_inputs[1].set_value("New Analyst")
    at.selectbox[0].set_value(Role.ANALYST)
    form_inputs[2].set_value("long enough 1")
    next(b for b in at.button if b.label == "Create an account").click().run()
    assert not at.exception, at.exception
    from mmicd.auth.accounts import get_user

    assert get_user(s, "new.analyst@nso.gov.np").role == Role.ANALYST


def test_errors_show_an_incident_number_not_a_traceback(app_env, monkeypatch):
    import mmicd.ui

    monkeypatch.delenv("MMICD_RAISE_ERRORS")
    monkeypatch.setattr(mmicd.ui, "key_figures", lambda *a, **k: 1 / 0)
    at = app()
    assert not at.exception
    assert "incident" in at.error[0].value and "ZeroDivision" not in at.error[0].value


def test_a_viewer_cannot_publish_even_by_calling_the_workflow(app_env):
    s = Store(app_env)
    before = [(v.id, v.status) for v in s.datasets()]
    with pytest.raises(PermissionDenied):
        workflow.publish(s, User("vic", Role.VIEWER, id=5), s.datasets()[0].id)
    assert [(v.id, v.status) for v in s.datasets()] == before


OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test", "client_id": "mmicd",
        "client_secret": "test", "server_metadata_url": "http://localhost/.well-known/openid-configuration"}


@pytest.mark.parametrize(("verified", "expected"), [(True, EXPECTED[Role.REVIEWER]), (False, EXPECTED["anonymous"])])
def test_identity_provider_sign_in_gives_the_role_of_the_verified_email(app_env, verified, expected):
    create_user(Store(app_env), SYSTEM, username="reviewer@planning.gov.np", role=Role.REVIEWER)
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "Reviewer@planning.gov.np", "email_verified": verified}
    at.run()
    assert not at.exception, at.exception
    assert reachable(at) == expected


def test_an_unknown_identity_provider_user_stays_a_viewer(app_env):
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = OIDC
    at.user = {"is_logged_in": True, "email": "stranger@example.org", "email_verified": True}
    at.run()
    assert reachable(at) == EXPECTED["anonymous"]
