"""The inbox on screen: a count in the sidebar (plain text), a notice on sign-in, and the inbox page
listing each item with a link to the page where to act (:mod:`mmicd.inbox` decides what awaits)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from mmicd import inbox
from mmicd.auth import User
from mmicd.ui import _store, current_lang, tr
from mmicd.ui.components import plain

# the page file of each url_path an item links to
PAGE_FILES = {"review": "pages/review.py", "interventions": "pages/me_interventions.py"}


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _items(url: str, user: User, today: date, last_change: int | None) -> list[inbox.Item]:
    return inbox.load(_store(url), user, today)


def last_change(store) -> int | None:
    """The latest entry of the audit trail: every submission, return, approval or report changes it."""
    from sqlalchemy import func, select

    from mmicd.store.schema import audit

    with store.engine.connect() as conn:
        return conn.execute(select(func.max(audit.c.id))).scalar_one()


def items(store, user: User, today: date | None = None) -> list[inbox.Item]:
    """What awaits ``user``, cached per user and day until the store changes (the sidebar asks on
    every page)."""
    return _items(store.url, user, today or date.today(), last_change(store))


def sidebar(store, user: User) -> None:
    """The count in the sidebar; on the first page after signing in, a notice saying it too."""
    if user.is_anonymous:
        return
    waiting = items(store, user)
    text = inbox.badge(waiting, current_lang())
    with st.sidebar:
        st.caption(plain(text))
    if waiting and st.session_state.get("_inbox_told") != user.username:
        st.toast(plain(text))
    st.session_state["_inbox_told"] = user.username


def page(store, user: User) -> None:
    lang = current_lang()
    st.title(tr("inbox.title"))
    st.caption(tr("inbox.caption"))
    if user.is_anonymous:
        st.info(tr("inbox.anonymous"))
        return
    waiting = items(store, user)
    if not waiting:
        st.info(tr("inbox.empty"))
        return
    counts = inbox.counts(waiting)
    for kind, n in counts.items():
        st.subheader(inbox.kind_label(kind, lang, n))
        for item in (i for i in waiting if i.kind == kind):
            with st.container(border=True):
                st.markdown(plain(inbox.item_text(item, lang)))
                if item.note:
                    st.caption(plain(tr("inbox.note", note=item.note)))
                st.page_link(PAGE_FILES[item.page], label=tr("inbox.open"), icon=":material/arrow_forward:",
                             query_params=item.params)
