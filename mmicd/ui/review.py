"""Renderers of the review page; every action goes through mmicd.workflow (roles checked there)."""

from __future__ import annotations

import streamlit as st

from mmicd import workflow
from mmicd.auth import PermissionDenied, User
from mmicd.guards import DropNotConfirmed
from mmicd.model import DatasetVersion, Form, Status
from mmicd.store import SeriesChanged, Store
from mmicd.ui import guards as ui_guards
from mmicd.ui import tr
from mmicd.ui.components import plain

PREVIEW_ROWS = 200


def reviewable(store: Store, user: User) -> list[DatasetVersion]:
    """Drafts, submitted and superseded versions the user may see (published ones are on Data sources)."""
    return [v for v in workflow.visible_datasets(store, user) if v.status != Status.PUBLISHED]


def pick(rows: list[DatasetVersion], key: str) -> DatasetVersion:
    chosen = st.selectbox(
        tr("review.pick"), options=[v.id for v in rows], key=key,
        format_func=lambda i: next(f"#{v.id} · {v.source} {v.edition} · v{v.version}" for v in rows if v.id == i),
    )
    version = next(v for v in rows if v.id == chosen)
    if version.status_note:
        st.warning(tr("review.note", note=plain(version.status_note), who=plain(version.status_changed_by or "–")))
    return version


def preview(store: Store, version: DatasetVersion) -> None:
    with st.expander(tr("review.preview", n=PREVIEW_ROWS)):
        if version.form == Form.MICRODATA:
            frame = store.microdata(version.id).head(PREVIEW_ROWS)
        else:
            frame = store.observations(dataset_ids=[version.id], status=None, breakdown=None).head(PREVIEW_ROWS)
        st.dataframe(frame, hide_index=True, width="stretch")


def _act(action, *args, **kwargs) -> None:
    """Run a workflow step and report its outcome in the user's language."""
    try:
        done = action(*args, **kwargs)
    except PermissionDenied:
        st.error(tr("auth.error.forbidden"))
        return
    except DropNotConfirmed:
        st.error(tr("guards.drop.refused"))
        return
    except SeriesChanged:
        st.error(tr("guards.series_changed"))
        return
    except workflow.TransitionError as err:
        st.error(tr(f"review.error.{err.reason}"))
        return
    st.success(tr("review.done", id=done.id, status=tr(f"status.{done.status.value}")))


def _drops(store: Store, version: DatasetVersion):
    """What publishing the version would drop of its series' published version, shown when it is
    more than the allowed share (publishing it then needs the confirmation box)."""
    report = ui_guards.version_report(store, version)
    if report.needs_confirmation:
        ui_guards.drop_panel(report, key=f"drops_{version.id}")
    return report


def submit_form(store: Store, user: User, version: DatasetVersion) -> None:
    if _drops(store, version).needs_confirmation:
        st.caption(tr("guards.drop.submit_note"))
    if st.button(tr("review.submit"), key=f"submit_{version.id}", type="primary"):
        _act(workflow.submit, store, user, version.id)


def decide_form(store: Store, user: User, version: DatasetVersion) -> None:
    report = _drops(store, version)
    with st.form(f"decide_{version.id}"):
        note = st.text_area(tr("review.note_label"), help=tr("review.note_help"))
        confirmed = ui_guards.confirm_box(report, key=f"confirm_drop_{version.id}")
        publish, back = st.columns(2)
        do_publish = publish.form_submit_button(tr("review.publish"), type="primary")
        do_return = back.form_submit_button(tr("review.return"))
    if do_publish:
        _act(workflow.publish, store, user, version.id, note, confirm_drop=confirmed)
    elif do_return:
        _act(workflow.return_to_draft, store, user, version.id, note)


def republish_form(store: Store, user: User, version: DatasetVersion) -> None:
    report = _drops(store, version)
    with st.form(f"republish_{version.id}"):
        note = st.text_input(tr("review.republish_reason"))
        confirmed = ui_guards.confirm_box(report, key=f"confirm_drop_re_{version.id}")
        if st.form_submit_button(tr("review.republish")):
            _act(workflow.publish, store, user, version.id, note, confirm_drop=confirmed)
