"""Review: analysts submit their drafts; reviewers compare a submitted version with the published one
and the international baseline, then publish, return with a note, or re-publish; M&E progress
reports are approved or returned here too."""

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

STATUSES = (Status.SUBMITTED, Status.DRAFT, Status.SUPERSEDED)
*tabs, me_tab = st.tabs([tr("review.tab.submitted"), tr("review.tab.drafts"), tr("review.tab.superseded"),
                         tr("rv.tab.me")])
for tab, status in zip(tabs, STATUSES, strict=True):
    with tab:
        rows = [v for v in versions if v.status == status]
        if not rows:
            st.info(tr(f"review.empty.{status.value}"))
            continue
        # (the tab says the status; the checksum is on Data sources: the columns fit the screen)
        st.dataframe(components.datasets_table(rows, f.lang), hide_index=True, width="stretch",
                     column_config={tr("ds.status"): None, tr("ds.sha256"): None})
        chosen = view.pick(rows, key=f"review_pick_{status.value}")
        view.details(s, chosen)
        view.preview(s, chosen)
        if status == Status.DRAFT and can(user, Action.SUBMIT, chosen.scope):
            view.submit_form(s, user, chosen)
        elif status == Status.SUBMITTED and can(user, Action.REVIEW, chosen.scope):
            view.decide_form(s, user, chosen)
        elif status == Status.SUBMITTED:
            st.caption(tr("rv.need_reviewer"))
        elif status == Status.SUPERSEDED and can(user, Action.REVIEW, chosen.scope):
            view.republish_form(s, user, chosen)
with me_tab:
    view.me_reports(s, user)
