"""Migration profile of the country chosen in the sidebar: key figures, immigration, emigration,
remittances, labour market, data availability and quality; the brief to download."""

import streamlit as st

from mmicd import codes
from mmicd.ui import filters, store, tr
from mmicd.ui import profile as view

f = filters()
s = store()
profile = view.country_profile(s, f.country, f.year, f.lang)

st.title(tr("profile.title", area=profile.name))
st.caption(tr("profile.caption", year=f.year or "–"))
if not codes.is_country(f.country):
    st.info(tr("profile.aggregate_note"))
st.header(tr("profile.section.key_figures"))
view.key_figures(profile)
view.download(profile, key="profile_brief")
view.sections(profile)
