"""Entry point: `streamlit run app.py`. Builds the shared sidebar and the navigation."""

import streamlit as st

from mmicd import ui

st.set_page_config(page_title="MMICD – Migration & development", page_icon="🌍", layout="wide")

store = ui.store()
ui.sidebar(store)

pages = [
    st.Page("pages/overview.py", title=ui.tr("nav.overview"), icon=":material/public:", url_path="overview",
            default=True),
    st.Page("pages/data_sources.py", title=ui.tr("nav.data_sources"), icon=":material/database:",
            url_path="data-sources"),
]
st.navigation(pages).run()
