"""The dashboard's navigation script, run by `streamlit run app.py` (which hands it to st.App, beside
the data API). Builds the shared sidebar and the navigation for the user's role.

A page a role may not use is not in the navigation, so it cannot be opened by URL either; every
state-changing action checks the role again on the server (mmicd.auth.require).
"""

import streamlit as st

from mmicd import ui
from mmicd.auth import Action, can
from mmicd.ui import auth
from mmicd.ui import inbox as inbox_ui

st.set_page_config(page_title="MMICD – Migration & development", page_icon="🌍", layout="wide")

store = ui.store()
user = auth.current_user(store)
if user.is_anonymous and not auth.anonymous_allowed():
    # sign-in compulsory: nothing but the sign-in form (no sidebar, no navigation, no public texts)
    auth.run_page(st.navigation([st.Page("pages/account.py", title=ui.tr("nav.sign_in"), icon=":material/person:",
                                         url_path="account", default=True)], position="hidden"))
    st.stop()
ui.sidebar(store)
auth.sidebar_account(store, user)
inbox_ui.sidebar(store, user)

# Pages for everybody who may read published data (viewers, donors, the public).
pages = [
    st.Page("pages/overview.py", title=ui.tr("nav.overview"), icon=":material/public:", url_path="overview",
            default=True),
    st.Page("pages/data_sources.py", title=ui.tr("nav.data_sources"), icon=":material/database:",
            url_path="data-sources"),
    st.Page("pages/profile.py", title=ui.tr("nav.profile"), icon=":material/travel_explore:", url_path="profile"),
    st.Page("pages/local_profile.py", title=ui.tr("nav.local_profile"), icon=":material/location_city:",
            url_path="local"),
    st.Page("pages/summary.py", title=ui.tr("nav.summary"), icon=":material/compare:", url_path="summary"),
    st.Page("pages/indicators.py", title=ui.tr("nav.indicators"), icon=":material/query_stats:", url_path="indicators"),
    st.Page("pages/local_map.py", title=ui.tr("lmap.nav"), icon=":material/map:", url_path="local-map"),
    st.Page("pages/me_dashboard.py", title=ui.tr("nav.me_dashboard"), icon=":material/monitoring:", url_path="me"),
    st.Page("pages/me_interventions.py", title=ui.tr("nav.me_interventions"), icon=":material/assignment:",
            url_path="interventions"),
    st.Page("pages/reporting_status.py", title=ui.tr("reporting.nav"), icon=":material/grid_view:",
            url_path="reporting-status"),
]
if not user.is_anonymous:  # what awaits the user, second in the navigation
    pages.insert(1, st.Page("pages/inbox.py", title=ui.tr("inbox.nav"), icon=":material/inbox:", url_path="inbox"))
# Pages that need a role: shown only to users who may do one of the actions.
restricted = [
    (st.Page("pages/upload.py", title=ui.tr("nav.upload"), icon=":material/upload_file:", url_path="upload"),
     (Action.UPLOAD,)),
    (st.Page("pages/review.py", title=ui.tr("nav.review"), icon=":material/fact_check:", url_path="review"),
     (Action.SUBMIT, Action.REVIEW)),
    (st.Page("pages/audit.py", title=ui.tr("nav.audit"), icon=":material/history:", url_path="audit"),
     (Action.VIEW_AUDIT,)),
    (st.Page("pages/users.py", title=ui.tr("nav.users"), icon=":material/group:", url_path="users"),
     (Action.MANAGE_USERS,)),
]
pages += [page for page, actions in restricted if any(can(user, a) for a in actions)]
account = st.Page("pages/account.py", title=ui.tr("nav.sign_in" if user.is_anonymous else "nav.account"),
                  icon=":material/person:", url_path="account")
# every entry shown (an admin has 16; Streamlit folds a list of more than 12 behind "View more")
auth.run_page(st.navigation([*pages, account], expanded=True))
