"""What a new version would drop of a published series, shown where it matters: on the upload page
(before storing a draft), and on the Review page (before submitting; publishing asks for an explicit
confirmation). The rule itself is in :mod:`mmicd.guards` and is enforced by the workflow."""

from __future__ import annotations

import streamlit as st

from mmicd import guards
from mmicd.model import DatasetVersion
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _version_report(url: str, dataset_id: int, status: str, published: tuple[int, ...],
                    threshold: float) -> guards.DropReport:
    from mmicd.ui import _store

    s = _store(url)
    return guards.version_drop_report(s, s.dataset(dataset_id), threshold=threshold)


def version_report(store: Store, version: DatasetVersion) -> guards.DropReport:
    """The drop report of a stored version, cached by its id and the published versions of its series."""
    published = tuple(v.id for v in guards.published_versions(store, *version.series, exclude=version.id))
    return _version_report(store.url, version.id, version.status.value, published, guards.max_drop_share())


def upload_reports(store: Store, prep) -> list[guards.DropReport]:
    """Drop reports of a prepared upload stored as replacing versions, kept in the session per files
    and published versions (so a rerun of the page reads nothing again)."""
    from mmicd.ingest import dataset_label

    datasets = prep.datasets
    key = (tuple((d.meta.sha256, d.sheet, d.meta.kind.value, d.meta.scope, d.meta.source, d.rows) for d in datasets),
           store.published_ids(), guards.max_drop_share())
    cache = st.session_state.setdefault("_upload_drops", {})
    if key not in cache:
        cache.clear()
        cache[key] = guards.stored_frames_reports(store, [(d.meta, d.form, d.frame) for d in datasets],
                                                  [dataset_label(d) for d in datasets])
    return cache[key]


def drop_panel(report: guards.DropReport, key: str) -> None:
    """The sentence (how many of the published values disappear) and the table of what disappears."""
    lang = current_lang()
    st.warning(plain(guards.describe(report, lang)), icon=":material/delete_sweep:")
    with st.expander(tr("guards.drop.title"), expanded=True):
        st.caption(tr("guards.drop.caption"))
        st.dataframe(guards.groups_frame(report, lang), hide_index=True, width="stretch", key=key)


def confirm_box(report: guards.DropReport, key: str) -> bool:
    """The explicit confirmation (inside the publishing form), only when the drop needs one."""
    if not report.needs_confirmation:
        return False
    return st.checkbox(tr("guards.drop.confirm"), key=key, value=False)
