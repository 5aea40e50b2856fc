"""Country summaries for donors: one screen per country, or several side by side."""

import streamlit as st

from mmicd import codes
from mmicd.ui import filters, store, tr
from mmicd.ui import profile as view

f = filters()
s = store()
st.title(tr("summary.title"))
st.caption(tr("summary.caption", year=f.year or "–"))
chosen = st.multiselect(tr("summary.countries"), codes.country_codes(), default=[f.country] if codes.is_country(
    f.country) else [], format_func=lambda c: codes.area_name(c, f.lang), key="summary_countries",
    help=tr("summary.countries_help"), max_selections=4)
if not chosen:
    st.info(tr("summary.pick_one"))
for column, country in zip(st.columns(len(chosen)) if chosen else [], chosen, strict=False):
    with column:
        profile = view.country_profile(s, country, f.year, f.lang)
        st.subheader(profile.name)
        view.summary(s, profile)
        view.download(profile, key=f"summary_brief_{country}")
