"""Review: analysts submit their drafts; reviewers publish, return with a note, or re-publish."""

import streamlit as st

from mmicd.auth import Action, can
from mmicd.model import Status
from mmicd.ui import auth, components, filters, store, tr
from mmicd.ui import review as view

s = store()
user = auth.current_user(s)
f = filters()

st.title(tr("review.title"))
st.caption(tr("review.caption"))
versions = view.reviewable(s, user)

tabs = st.tabs([tr("review.tab.drafts"), tr("review.tab.submitted"), tr("review.tab.superseded")])
for tab, status in zip(tabs, (Status.DRAFT, Status.SUBMITTED, Status.SUPERSEDED), strict=True):
    with tab:
        rows = [v for v in versions if v.status == status]
        if not rows:
            st.info(tr(f"review.empty.{status.value}"))
            continue
        st.dataframe(components.datasets_table(rows, f.lang), hide_index=True, width="stretch")
        chosen = view.pick(rows, key=f"review_pick_{status.value}")
        view.preview(s, chosen)
        if status == Status.DRAFT and can(user, Action.SUBMIT, chosen.scope):
            view.submit_form(s, user, chosen)
        elif status == Status.SUBMITTED and can(user, Action.REVIEW, chosen.scope):
            view.decide_form(s, user, chosen)
        elif status == Status.SUPERSEDED and can(user, Action.REVIEW, chosen.scope):
            view.republish_form(s, user, chosen)
