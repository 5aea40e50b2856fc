"""Country summaries for donors: one screen per country, or up to four compared in one table."""

import streamlit as st

from mmicd import codes
from mmicd.profile.summary import TARGETS, compare_frame
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
profiles = [view.country_profile(s, country, f.year, f.lang) for country in chosen]
if len(profiles) == 1:
    st.subheader(profiles[0].name)
    view.summary(s, profiles[0])
    view.download(profiles[0], key=f"summary_brief_{chosen[0]}")
elif profiles:
    # indicators as rows, one column per country; a static table wraps its cells, so every value
    # is visible at once on a 1400-pixel screen (a grid would cut them or scroll sideways)
    st.table(compare_frame(profiles).set_index(tr("summary.indicator")))
    st.caption("  \n".join([tr("rv.cmp.caption")] + [tr(key) for key in TARGETS.values()]))
    for tab, profile, country in zip(st.tabs([p.name for p in profiles]), profiles, chosen, strict=True):
        with tab:
            view.summary(s, profile, table=False)
            view.download(profile, key=f"summary_brief_{country}")
