"""Upload: templates to download; national files checked, previewed, mapped and stored as drafts."""

import streamlit as st

from mmicd.auth import Action, can
from mmicd.ui import auth, store, tr
from mmicd.ui import upload as view

s = store()
user = auth.current_user(s)
if not can(user, Action.UPLOAD):
    st.error(tr("auth.error.forbidden"))
    st.stop()
view.page(s, user)
