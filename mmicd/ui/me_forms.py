"""What changes the M&E framework from the Interventions page: the Excel import and the review of reports."""

from __future__ import annotations

import streamlit as st

from mmicd.i18n import format_number
from mmicd.me.progress import (
    format_date,
)
from mmicd.me.repository import Portfolio
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.me_common import issues_frame, wide_columns


def importer(store: Store, user) -> None:
    """Upload a filled template: dry run with every problem listed, then store it in one transaction."""
    from mmicd.auth import Action, can, require
    from mmicd.me.workbook_read import import_workbook

    if not can(user, Action.EDIT_TARGETS):
        st.caption(tr("me.import.need_role"))
        return
    upload = st.file_uploader(tr("me.import.upload"), type=["xlsx"], key="me_import_file")
    if upload is None:
        return
    data = upload.getvalue()
    lang = current_lang()
    check = import_workbook(store, data, actor=user.label, lang=lang, file=upload.name, dry_run=True)
    errors = [i for i in check.issues if i.level == "error"]
    st.markdown(tr("me.import.counts", **{k: format_number(v, lang) for k, v in check.counts.items()}))
    if check.issues:
        st.dataframe(issues_frame(check.issues), hide_index=True, width="stretch",
                     column_config=wide_columns(issues_frame(check.issues[:1]), "me.issue.message"))
    if errors:
        st.error(tr("me.import.refused", n=format_number(len(errors), lang)))
        return
    if st.button(tr("me.import.store"), type="primary", key="me_import_store"):
        require(user, Action.EDIT_TARGETS)
        done = import_workbook(store, data, actor=user.label, lang=lang, file=upload.name, dry_run=False)
        if done.stored:
            st.success(tr("me.import.stored"))
        else:
            st.error(tr("me.import.refused", n=format_number(len(done.issues), lang)))
            st.dataframe(issues_frame(done.issues), hide_index=True, width="stretch")



def review_reports(store: Store, p: Portfolio, intervention_id: str, user) -> None:
    """Reviewers approve submitted reports of the intervention, or return them with a note."""
    from mmicd.auth import Action, can, require
    from mmicd.me.repository import MeError, set_report_state

    flash = st.session_state.pop("_me_review_flash", None)
    if flash:
        st.success(tr(flash))
    pending = [r for ind in p.indicators_of(intervention_id) for r in p.reports_of(ind.id)
               if r.state == "submitted"]
    if not pending:
        return
    st.markdown(f"**{tr('me.review.title')}**")
    if not can(user, Action.REVIEW):
        st.caption(tr("me.review.need_role", n=len(pending)))
        return
    lang = current_lang()
    names = {i.id: i.name for i in p.indicators}
    chosen = st.selectbox(tr("me.review.report"), [r.id for r in pending], key="me_review_report",
                          format_func=lambda rid: next(
                              f"{names[r.indicator_id]} · {format_date(r.period_start, lang)} – "
                              f"{format_date(r.period_end, lang)}" for r in pending if r.id == rid))
    note = st.text_input(tr("me.review.note"), key="me_review_note")
    left, right, _ = st.columns([1, 1, 3])
    approve = left.button(tr("me.review.approve"), type="primary", key="me_review_approve")
    send_back = right.button(tr("me.review.return"), key="me_review_return")
    if approve or send_back:
        require(user, Action.REVIEW)
        if send_back and not note.strip():
            st.error(tr("me.error.note_required", id=chosen))
            return
        try:
            set_report_state(store, chosen, "approved" if approve else "returned", actor=user.label, note=note)
        except MeError as err:
            st.error(tr(err.key, **err.fields))
            return
        st.session_state["_me_review_flash"] = "me.review.done_approved" if approve else "me.review.done_returned"
        st.rerun()  # the statuses above now count the approved report
