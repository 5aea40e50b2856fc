"""Entry point: `streamlit run app.py`. One server for the dashboard (the navigation script
``dashboard.py``), the read-only data API under ``/api`` (:mod:`mmicd.api`) and the session cookie's
routes under ``/auth`` (:mod:`mmicd.auth.web`): Streamlit's ``st.App`` serves them all, so neither
needs a second process."""

import streamlit as st

from mmicd.api.routes import routes
from mmicd.auth.web import session_routes

app = st.App("dashboard.py", routes=[*routes(), *session_routes()])
