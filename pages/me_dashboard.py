"""Joint M&E dashboard: portfolio overview, timeline, trajectories, results by sex, alerts, GMG stages, and the
interventions by subdivision (filter and map)."""

import streamlit as st

from mmicd import codes
from mmicd.me.views import select
from mmicd.ui import filters, me_common, me_dashboard, me_local, store, tr

f = filters()
as_of = me_common.today()
st.title(tr("me.title", area=codes.area_name(f.country, f.lang)))
portfolio = me_common.portfolio(store(), f.country)
if not portfolio.interventions:
    st.info(tr("me.empty_country", area=codes.area_name(f.country, f.lang)))
    st.stop()
me_common.illustrative_banner(portfolio)
shown = select(portfolio, me_common.filter_bar(portfolio, key="me_dash"))
shown, _area = me_local.area_filter(shown, f.country, key="me_dash_area")
me_common.rule()
if not shown.interventions:
    st.info(tr("me.empty_selection"))
    st.stop()

overview, timeline, trajectory, by_sex, alerts, stages, local_map = st.tabs([
    tr("me.tab.overview"), tr("me.tab.timeline"), tr("me.tab.trajectory"), tr("me.tab.sex"), tr("me.tab.alerts"),
    tr("me.tab.stages"), tr("lmap.me.tab_map"),
])
with overview:
    me_dashboard.overview_tab(shown, as_of)
with timeline:
    me_dashboard.timeline_tab(shown, as_of)
with trajectory:
    me_dashboard.trajectory_tab(shown, as_of)
with by_sex:
    me_dashboard.sex_tab(shown)
with alerts:
    me_dashboard.alerts_tab(shown, as_of)
with stages:
    me_dashboard.stages_tab(portfolio, f.country)
with local_map:
    me_local.map_tab(store(), shown, f.country)
