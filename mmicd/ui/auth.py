"""Signed-in user of this browser session: local accounts or OpenID Connect (``st.login``).

A local sign-in starts a server-side session (:mod:`mmicd.auth.sessions`), looked up again at every
run (so that a sign-out, a password change or a disabled account ends it at once); the "Continue"
button then takes its one-time code to ``/auth/session``, which sets the HttpOnly session cookie, so
that a reload or a new tab stays signed in. The session expires after ``MMICD_SESSION_MINUTES``
(default 60) without activity. Anonymous visitors are viewers; ``MMICD_ALLOW_ANONYMOUS=0`` makes
sign-in compulsory.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import streamlit as st

from mmicd.api.limits import client_address as forwarded_address
from mmicd.auth import ANONYMOUS, Role, User, sessions
from mmicd.auth.accounts import SignInError, authenticate, identity_provider_user
from mmicd.auth.web import XSRF_COOKIE, secret
from mmicd.i18n import format_number
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain

log = logging.getLogger("mmicd.ui")
SESSION_KEY = "_auth"
CODE_KEY = "_auth_code"  # the one-time code of the session just started, and when it stops working


def session_minutes() -> int:
    return int(os.environ.get("MMICD_SESSION_MINUTES", "60"))


def client_address() -> str | None:
    """The client's network address, for sign-in throttling (None on localhost).

    Behind reverse proxies, ``MMICD_PROXY_HOPS`` (their number) takes the address the outermost
    of them saw from ``X-Forwarded-For``; without it every client would share the proxy's address.
    """
    forwarded = st.context.headers.get("X-Forwarded-For")
    address = forwarded_address(st.context.ip_address, forwarded if isinstance(forwarded, str) else None)
    return address if isinstance(address, str) else None  # (a test run has no connection)


def refusal_message(err: SignInError) -> str:
    """A refused sign-in, in the user's language (how long a lock lasts, in minutes)."""
    return tr(f"auth.error.{err.reason}", minutes=format_number(err.minutes_left(), current_lang()))


def anonymous_allowed() -> bool:
    return os.environ.get("MMICD_ALLOW_ANONYMOUS", "1").lower() not in ("0", "false", "no")


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _remember(user: User, sid: str | None = None) -> None:
    st.session_state[SESSION_KEY] = {
        "user": user, "sid": sid,
        "expires": datetime.now(UTC) + timedelta(minutes=session_minutes()),
    }


def _cookie(name: str) -> str | None:
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no connection (a test run)
        return None
    return value if isinstance(value, str) else None


def _ended(sid: str | None, *, say: bool = True) -> User:
    """Sign this tab out (``say``: tell the user their session has ended); a dead session cookie is
    not looked up again in this tab."""
    st.session_state.pop(SESSION_KEY, None)
    st.session_state["_auth_ended"] = sid
    if say:
        st.session_state["_auth_expired"] = True
    return ANONYMOUS


def current_user(store) -> User:
    """The signed-in user, or the anonymous viewer: from this tab's session, else from the session
    cookie; a session that has ended (idle, too old, revoked, account disabled) is signed out."""
    entry = st.session_state.get(SESSION_KEY)
    if entry:
        sid = entry.get("sid")
        if sid:  # a server-side session: looked up at every run
            user = sessions.user_of(store, sid)
            if user is None:
                return _ended(sid)
            _remember(user, sid)
            return user
        if entry["expires"] < datetime.now(UTC):
            return _ended(None)
        _remember(entry["user"])  # sliding expiry
        return entry["user"]
    cookie = _cookie(sessions.COOKIE)
    sid = sessions.unsign(secret(), cookie) if cookie else None
    if sid and sid != st.session_state.get("_auth_ended"):
        user = sessions.user_of(store, sid)
        if user is None:  # signed out, expired or revoked before this tab opened: silently anonymous
            return _ended(sid, say=False)
        _remember(user, sid)
        return user
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        user = identity_provider_user(store, st.user.get("email"), bool(st.user.get("email_verified")))
        if user:
            _remember(user)
            return user
    return ANONYMOUS


def current_session() -> str | None:
    """The id of this tab's server-side session, if any."""
    entry = st.session_state.get(SESSION_KEY)
    return entry.get("sid") if entry else None


def _page_path() -> str:
    """The page shown, with its query (language, country, year), for the redirect after
    ``/auth/session`` (which accepts nothing but a path of this app)."""
    try:
        path = urlsplit(st.context.url or "").path or "/"
        query = urlencode(st.query_params.to_dict())
    except Exception:  # no connection (a test run)
        return "/"
    return f"{path}?{query}" if query else path


def keep_signed_in() -> None:
    """After a sign-in, while its code works: the button that sets the session cookie."""
    pending = st.session_state.get(CODE_KEY)
    if not pending or pending["until"] <= datetime.now(UTC) or not current_session():
        st.session_state.pop(CODE_KEY, None)
        return
    st.info(tr("session.keep_help"))
    st.link_button(tr("session.keep"), "/auth/session?" + urlencode({"code": pending["code"], "next": _page_path()}),
                   type="primary")


def sign_in_form(store) -> None:
    """Local sign-in form (and the identity-provider button when configured)."""
    if st.session_state.pop("_auth_expired", False):
        st.info(tr("session.ended"))
    with st.form("sign_in"):
        username = st.text_input(tr("auth.username"), key="sign_in_username")
        password = st.text_input(tr("auth.password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(tr("auth.sign_in"), type="primary")
    if submitted:
        try:
            user = authenticate(store, username, password, address=client_address())
        except SignInError as err:
            st.error(refusal_message(err))
            return
        started = sessions.start(store, secret(), user, bound_to=sessions.binding(_cookie(XSRF_COOKIE)))
        _remember(user, started.sid)
        st.session_state[CODE_KEY] = {"code": started.code,
                                      "until": datetime.now(UTC) + timedelta(seconds=sessions.CODE_SECONDS - 5)}
        st.rerun()
    if oidc_configured():
        st.button(tr("auth.sign_in_provider"), on_click=st.login)


def sign_out(store) -> None:
    """End this tab's session on the server (its cookie, if any, is dead from now on)."""
    sid = current_session()
    sessions.revoke(store, sid)
    st.session_state["_auth_ended"] = sid
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(CODE_KEY, None)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def sidebar_account(store, user: User) -> None:
    with st.sidebar:
        if user.is_anonymous:
            st.caption(tr("auth.anonymous"))
        else:
            st.caption(tr("auth.signed_in_as", name=plain(user.display_name or user.username),
                          role=tr(f"role.{user.role.value}")))
            st.button(tr("auth.sign_out"), on_click=sign_out, args=(store,), key="sign_out")


def role_label(role: Role) -> str:
    return tr(f"role.{role.value}")


def run_page(page) -> None:
    """Run the page; an unexpected error is logged with an incident number, never shown as a traceback.

    ``MMICD_RAISE_ERRORS=1`` (set by the test suite) lets errors through so that tests see them.
    """
    if os.environ.get("MMICD_RAISE_ERRORS") == "1":
        page.run()
        return
    try:
        page.run()
    except Exception:
        incident = uuid.uuid4().hex[:8]
        log.exception("page error, incident %s", incident)
        st.error(tr("error.generic", incident=incident))
