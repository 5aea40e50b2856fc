"""Data sources: every dataset version with its provenance, and its rows to download (CSV, JSON)."""

import streamlit as st

from mmicd.ui import auth, components, filters, sources, store, tr
from mmicd.workflow import visible_datasets

f = filters()
s = store()
user = auth.current_user(s)
versions = visible_datasets(s, user)

st.title(tr("sources.title"))
st.caption(tr("sources.caption"))
if not versions:
    st.info(tr("sources.empty"))
    st.stop()

st.dataframe(components.datasets_table(versions, f.lang), hide_index=True, width="stretch")

chosen = st.selectbox(
    tr("sources.details"),
    options=[v.id for v in versions],
    format_func=lambda i: next(f"#{v.id} · {v.source} {v.edition} · {v.title}" for v in versions if v.id == i),
    key="sources_detail",
)
version = next(v for v in versions if v.id == chosen)
details = {
    tr("ds.title"): version.title,
    tr("ds.source"): version.source,
    tr("ds.edition"): version.edition,
    tr("ds.basis"): version.basis,
    tr("ds.licence"): version.licence,
    tr("ds.url"): version.url,
    tr("ds.provenance"): version.provenance,
    tr("ds.file_name"): version.file_name,
    tr("ds.sha256"): version.sha256,
    tr("ds.status"): tr(f"status.{version.status.value}"),
    tr("ds.notes"): version.notes,
}
st.table({tr("sources.field"): list(details), tr("sources.value"): [components.plain(v) for v in details.values()]})
sources.downloads(s, user, version)
