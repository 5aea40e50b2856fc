"""The sign-in form starts a server-side session, looked up at every run (AppTest)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user, update_user
from mmicd.auth.sessions import exchange, user_of
from mmicd.auth.web import secret
from mmicd.i18n import t
from mmicd.store import Store

ACCOUNT = str(Path(__file__).resolve().parents[2] / "pages" / "account.py")


def test_the_form_starts_a_session_whose_code_sets_the_cookie_and_disabling_the_account_ends_it(app_env):
    s = Store(app_env)
    create_user(s, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1")
    at = AppTest.from_file(ACCOUNT, default_timeout=120)
    at.run()
    at.text_input(key="sign_in_username").set_value("rev")
    at.text_input(key="sign_in_password").set_value("long enough 1")
    at.button[0].click().run()
    assert not at.exception, at.exception
    sid = at.session_state["_auth"]["sid"]
    assert user_of(s, sid).username == "rev"
    assert at.info[0].value == t("session.keep_help", "en")
    [link] = at.get("link_button")
    url = urlsplit(link.proto.url)
    assert url.path == "/auth/session"
    code = parse_qs(url.query)["code"][0]
    assert exchange(s, secret(), code).startswith(f"{sid}.")  # (no browser here: no XSRF binding)

    update_user(s, SYSTEM, "rev", active=False)
    at.run()
    assert "_auth" not in at.session_state
    assert at.info[0].value == t("session.ended", "en")
    assert [w.label for w in at.text_input] == ["User name (or e-mail)", "Password"]
