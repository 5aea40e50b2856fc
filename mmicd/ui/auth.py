"""Signed-in user of this browser session: local accounts or OpenID Connect (``st.login``).

The session expires after ``MMICD_SESSION_MINUTES`` (default 60) without activity. Anonymous
visitors are viewers; ``MMICD_ALLOW_ANONYMOUS=0`` makes sign-in compulsory.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime, timedelta

import streamlit as st

from mmicd.api.limits import client_address as forwarded_address
from mmicd.auth import ANONYMOUS, Role, User
from mmicd.auth.accounts import SignInError, authenticate, identity_provider_user
from mmicd.i18n import format_number
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain

log = logging.getLogger("mmicd.ui")
SESSION_KEY = "_auth"


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


def _remember(user: User) -> None:
    st.session_state[SESSION_KEY] = {
        "user": user,
        "expires": datetime.now(UTC) + timedelta(minutes=session_minutes()),
    }


def current_user(store) -> User:
    """The signed-in user, or the anonymous viewer; an idle session past its expiry is signed out."""
    entry = st.session_state.get(SESSION_KEY)
    if entry:
        if entry["expires"] < datetime.now(UTC):
            st.session_state.pop(SESSION_KEY, None)
            st.session_state["_auth_expired"] = True
            return ANONYMOUS
        _remember(entry["user"])  # sliding expiry
        return entry["user"]
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        user = identity_provider_user(store, st.user.get("email"), bool(st.user.get("email_verified")))
        if user:
            _remember(user)
            return user
    return ANONYMOUS


def sign_in_form(store) -> None:
    """Local sign-in form (and the identity-provider button when configured)."""
    if st.session_state.pop("_auth_expired", False):
        st.info(tr("auth.expired"))
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
        _remember(user)
        st.rerun()
    if oidc_configured():
        st.button(tr("auth.sign_in_provider"), on_click=st.login)


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def sidebar_account(user: User) -> None:
    with st.sidebar:
        if user.is_anonymous:
            st.caption(tr("auth.anonymous"))
        else:
            st.caption(tr("auth.signed_in_as", name=plain(user.display_name or user.username),
                          role=tr(f"role.{user.role.value}")))
            st.button(tr("auth.sign_out"), on_click=sign_out, key="sign_out")


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
