"""Users: accounts, roles and country scopes (admins only; every change is audited)."""

import streamlit as st

from mmicd import codes
from mmicd.auth import Action, Role, require
from mmicd.auth.accounts import AccountError, create_user, list_users, update_user
from mmicd.mail import set_email
from mmicd.ui import auth, components, filters, store, tr

s = store()
admin = auth.current_user(s)
require(admin, Action.MANAGE_USERS)
lang = filters().lang
roles = list(Role)
countries = codes.country_codes()

st.title(tr("users.title"))
accounts = list_users(s)
st.dataframe(components.translated_columns(accounts, "users.col"), hide_index=True, width="stretch")


def _scope(chosen: list[str]) -> str:
    return ",".join(chosen) if chosen else "*"


with st.form("create_user", clear_on_submit=True):
    st.subheader(tr("users.create"))
    username = st.text_input(tr("auth.username"), help=tr("users.username_help"))
    display = st.text_input(tr("users.display_name"))
    role = st.selectbox(tr("auth.role"), roles, format_func=auth.role_label)
    scope = st.multiselect(tr("auth.countries"), countries, format_func=lambda c: codes.area_name(c, lang),
                           help=tr("users.countries_help"))
    password = st.text_input(tr("auth.password"), type="password", help=tr("users.password_help"))
    if st.form_submit_button(tr("users.create"), type="primary"):
        try:
            create_user(s, admin, username=username, role=role, password=password or None,
                        countries=_scope(scope), display_name=display)
            st.success(tr("users.created", name=components.plain(username)))
        except AccountError as err:
            st.error(tr(f"auth.error.{err.reason}"))

if not accounts.empty:
    st.subheader(tr("users.edit"))
    name = st.selectbox(tr("auth.username"), accounts["username"].tolist(), key="edit_user_name")
    row = accounts.set_index("username").loc[name]
    with st.form(f"edit_user_{name}"):
        role = st.selectbox(tr("auth.role"), roles, format_func=auth.role_label, index=roles.index(Role(row["role"])))
        scope = st.multiselect(tr("auth.countries"), countries, format_func=lambda c: codes.area_name(c, lang),
                               default=[c for c in str(row["countries"]).split(",") if c in countries],
                               help=tr("users.countries_help"))
        active = st.checkbox(tr("users.active"), value=bool(row["active"]))
        password = st.text_input(tr("users.reset_password"), type="password", help=tr("users.password_help"))
        if st.form_submit_button(tr("users.save")):
            try:
                update_user(s, admin, name, role=role, countries=_scope(scope), active=active,
                            password=password or None)
                st.success(tr("users.saved", name=components.plain(name)))
            except AccountError as err:
                st.error(tr(f"auth.error.{err.reason}"))
    with st.form(f"email_{name}"):  # the address of the inbox digest (mmicd.mail)
        email = st.text_input(tr("inbox.email"), value=str(row.get("email") or ""), help=tr("inbox.email_help"))
        if st.form_submit_button(tr("users.save")):
            try:
                set_email(s, admin, name, email)
                st.success(tr("inbox.email_saved"))
            except AccountError as err:
                st.error(tr("inbox.error.email" if err.reason == "email" else f"auth.error.{err.reason}"))
