"""The session cookie against `streamlit run app.py`: the /auth routes over HTTP (cookie flags, 303
targets, one-time codes), then in headless Chromium: sign in, reload, new tab, sign out.

Screenshots go to /tmp/session_*.png.
"""

from __future__ import annotations

import http.client
import shutil
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select

from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.auth.sessions import COOKIE, load_secret, start, unsign, user_of
from mmicd.store import Store
from mmicd.store.schema import web_sessions
from tests.e2e.test_browser import (
    ADMIN,
    CHROMIUM_ARGS,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)


def _get(base_url: str, path: str, cookie: str | None = None, fetch_site: str | None = None):
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if fetch_site:
        headers["Sec-Fetch-Site"] = fetch_site
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _set_cookie(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


@pytest.mark.e2e
def test_the_session_routes_over_http(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = Store(f"sqlite:///{data / 'mmicd.sqlite'}")
    ana = create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="correct horse 1")
    with streamlit_server(data, tmp_path / "streamlit.log") as base_url:
        secret = load_secret(data)  # the server's, made at its first start or by this call
        new = start(store, secret, ana)
        query = urlencode({"code": new.code, "next": "/profile?country=SEN&lang=fr"})
        response = _get(base_url, f"/auth/session?{query}")
        assert response.status == 303
        assert response.headers["Location"] == "/profile?country=SEN&lang=fr"
        header = response.headers["Set-Cookie"]
        flags = {f.strip().lower() for f in header.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/"} <= flags and "secure" not in flags  # plain http here
        value = _set_cookie(response)[COOKIE].value
        assert unsign(secret, value) == new.sid

        replay = _get(base_url, f"/auth/session?{query}")
        assert replay.status == 303 and replay.headers["Location"] == "/account"
        assert replay.headers.get("Set-Cookie") is None

        other = start(store, secret, ana)
        evil = _get(base_url, "/auth/session?" + urlencode({"code": other.code, "next": "//evil.example/x"}))
        assert evil.status == 303 and evil.headers["Location"] == "/"

        forced = _get(base_url, "/auth/signout", cookie=f"{COOKIE}={value}", fetch_site="cross-site")
        assert forced.status == 303 and user_of(store, new.sid) is not None  # not from another site
        out = _get(base_url, "/auth/signout?next=/overview", cookie=f"{COOKIE}={value}")
        assert out.status == 303 and out.headers["Location"] == "/overview"
        cleared = _set_cookie(out)[COOKIE]
        assert cleared.value == "" and cleared["max-age"] == "0"
        assert user_of(store, new.sid) is None  # revoked on the server
        assert user_of(store, other.sid).username == "ana"
    store.engine.dispose()


def _sidebar(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def _shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/session_{name}.png")


@pytest.mark.e2e
def test_sign_in_survives_a_reload_and_a_new_tab_until_sign_out(seeded_file, tmp_path: Path) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(seeded_file, data / "mmicd.sqlite")  # seeded already: no first-start load
    blocked: list[str] = []
    signed_in = "Signed in as Administrator"
    with streamlit_server(data, tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000}, service_workers="block")
        try:
            context.route("**/*", local_only(blocked))
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{base_url}/account")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.get_by_label("User name (or e-mail)").fill(ADMIN[0])
            page.get_by_label("Password", exact=True).fill(ADMIN[1])
            page.get_by_role("button", name="Sign in", exact=True).click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            _shot(page, "1_signed_in")
            assert signed_in in _sidebar(page)
            with context.expect_page() as opened:  # Streamlit's link buttons open a new tab
                page.get_by_role("link", name="Continue").click()
            tab = opened.value
            wait_for_app_idle(tab, PAGE_RUN_TIMEOUT_S)
            assert urlsplit(tab.url).path == "/account" and "country=NPL" in tab.url  # the same view
            cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
            _shot(tab, "2_after_continue")
            with Store(f"sqlite:///{data / 'mmicd.sqlite'}", upgrade=False).engine.connect() as conn:
                # the code was bound to this browser's XSRF token (a code from elsewhere is refused)
                assert len(conn.execute(select(web_sessions.c.binding)).scalar_one()) == 64
            assert signed_in in _sidebar(tab)

            tab.reload()
            wait_for_app_idle(tab, PAGE_RUN_TIMEOUT_S)
            _shot(tab, "3_reloaded")
            assert signed_in in _sidebar(tab)
            assert tab.evaluate("document.cookie").find(COOKIE) == -1  # HttpOnly: not readable by scripts

            other = context.new_page()
            other.goto(f"{base_url}/users")  # an admin-only page, typed into a new tab
            wait_for_app_idle(other, PAGE_RUN_TIMEOUT_S)
            _shot(other, "4_new_tab")
            assert signed_in in _sidebar(other)
            assert other.get_by_role("heading", name="Users").count() == 1

            other.get_by_role("button", name="Sign out").click()
            wait_for_app_idle(other, PAGE_RUN_TIMEOUT_S)
            other.reload()
            wait_for_app_idle(other, PAGE_RUN_TIMEOUT_S)
            _shot(other, "5_signed_out_reloaded")
            assert signed_in not in _sidebar(other)
            assert "Viewing published data" in _sidebar(other)
            tab.reload()  # the other tab too, from the same (now revoked) cookie
            wait_for_app_idle(tab, PAGE_RUN_TIMEOUT_S)
            assert signed_in not in _sidebar(tab)
        finally:
            context.close()
    assert not blocked, blocked
