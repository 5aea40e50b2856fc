"""Sign in, or see your account and change your password."""

import streamlit as st

from mmicd.auth.accounts import AccountError, SignInError, change_own_password
from mmicd.ui import api_tokens, auth, language_picker, store, tr

s = store()
user = auth.current_user(s)

if user.is_anonymous:
    if not auth.anonymous_allowed():  # no sidebar then: the language is chosen here
        language_picker()
    st.title(tr("auth.sign_in"))
    if auth.anonymous_allowed():
        st.caption(tr("auth.sign_in_caption"))
    auth.sign_in_form(s)
    st.stop()

st.title(tr("nav.account"))
auth.keep_signed_in()
st.table({
    tr("auth.username"): [user.username],
    tr("auth.role"): [auth.role_label(user.role)],
    tr("auth.countries"): [tr("auth.all_countries") if user.countries == "*" else user.countries],
})
with st.form("change_password", clear_on_submit=True):
    st.subheader(tr("auth.change_password"))
    current = st.text_input(tr("auth.current_password"), type="password")
    new = st.text_input(tr("auth.new_password"), type="password", help=tr("auth.password_rule"))
    if st.form_submit_button(tr("auth.change_password")):
        try:
            change_own_password(s, user, current, new, address=auth.client_address(),
                                keep_session=auth.current_session())
            st.success(tr("auth.password_changed"))
        except SignInError as err:
            st.error(auth.refusal_message(err))
        except AccountError as err:
            st.error(tr(f"auth.error.{err.reason}"))
api_tokens.section(s, user)
