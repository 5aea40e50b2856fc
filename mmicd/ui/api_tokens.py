"""The Account page's personal API tokens (:mod:`mmicd.api.tokens`): create one (shown once), list
and revoke one's own."""

from __future__ import annotations

import streamlit as st

from mmicd.api.tokens import create_token, list_tokens, revoke_token
from mmicd.auth import User
from mmicd.auth.accounts import AccountError
from mmicd.ui import tr

NEW, REVOKED = "_api_token_new", "_api_token_revoked"


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "–"


def section(store, user: User) -> None:
    st.subheader(tr("api.token.title"))
    st.caption(tr("api.token.caption"))
    if NEW in st.session_state:  # shown once, right after it was made
        st.success(tr("api.token.created"))
        st.code(st.session_state.pop(NEW), language=None)
    if st.session_state.pop(REVOKED, False):
        st.success(tr("api.token.revoked"))
    with st.form("api_token_create", clear_on_submit=True):
        name = st.text_input(tr("api.token.name"), max_chars=100, key="api_token_name")
        if st.form_submit_button(tr("api.token.create")):
            try:
                st.session_state[NEW] = create_token(store, user, name)
                st.rerun()
            except AccountError as err:
                st.error(tr(f"api.token.error.{err.reason}"))
    tokens = list_tokens(store, user)
    if not tokens:
        st.caption(tr("api.token.none"))
        return
    st.dataframe({tr("api.token.col.name"): [t.name for t in tokens],
                  tr("api.token.col.prefix"): [f"{t.prefix}…" for t in tokens],
                  tr("api.token.col.created"): [_when(t.created_at) for t in tokens],
                  tr("api.token.col.expires"): [_when(t.expires_at) for t in tokens],
                  tr("api.token.col.last_used"): [_when(t.last_used_at) for t in tokens]},
                 hide_index=True, width="stretch")
    chosen = st.selectbox(tr("api.token.revoke"), [t.id for t in tokens], key="api_token_pick",
                          format_func=lambda i: next(f"{t.name} ({t.prefix}…)" for t in tokens if t.id == i))
    if st.button(tr("api.token.revoke"), key="api_token_revoke"):
        try:
            revoke_token(store, user, chosen)
            st.session_state[REVOKED] = True
            st.rerun()
        except AccountError as err:
            st.error(tr(f"api.token.error.{err.reason}"))
