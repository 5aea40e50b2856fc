"""Entry point: `streamlit run app.py`. One server for the dashboard (the navigation script
``dashboard.py``) and the read-only data API under ``/api`` (:mod:`mmicd.api`): Streamlit's
``st.App`` serves both, so the API needs no second process."""

import streamlit as st

from mmicd.api.routes import routes

app = st.App("dashboard.py", routes=routes())
