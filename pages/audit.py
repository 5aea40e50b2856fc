"""Audit trail: who did what, when, to what, with old and new values and the reason. Read-only."""

import streamlit as st

from mmicd.auth import Action, require
from mmicd.safe_export import to_csv
from mmicd.ui import auth, components, store, tr

s = store()
require(auth.current_user(s), Action.VIEW_AUDIT)

st.title(tr("audit.title"))
st.caption(tr("audit.caption"))
trail = s.audit()
if trail.empty:
    st.info(tr("audit.empty"))
    st.stop()

left, middle, right = st.columns(3)
entity = left.multiselect(tr("audit.entity_type"), sorted(trail["entity_type"].unique()), key="audit_entity")
actor = middle.multiselect(tr("audit.actor"), sorted(trail["actor"].unique()), key="audit_actor")
action = right.multiselect(tr("audit.action"), sorted(trail["action"].unique()), key="audit_action")
shown = trail
for column, chosen in (("entity_type", entity), ("actor", actor), ("action", action)):
    if chosen:
        shown = shown.loc[shown[column].isin(chosen)]
shown = shown.sort_values("id", ascending=False)

st.dataframe(components.translated_columns(shown, "audit.col"), hide_index=True, width="stretch")
st.download_button(tr("audit.download"), to_csv(shown).encode("utf-8"), file_name="mmicd-audit.csv",
                   mime="text/csv")
