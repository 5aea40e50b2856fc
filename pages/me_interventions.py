"""Interventions: the register, one intervention in detail, exports (Excel, IATI) and the Excel import."""

import streamlit as st

from mmicd import codes
from mmicd.me.views import select
from mmicd.ui import auth, filters, me, store, tr

f = filters()
as_of = me.today()
st.title(tr("me.interventions.title", area=codes.area_name(f.country, f.lang)))
portfolio = me.portfolio(store(), f.country)
register, detail, exchange = st.tabs([tr("me.tab.register"), tr("me.tab.detail"), tr("me.tab.exchange")])
with exchange:
    me.exports(portfolio, f.country)
    st.divider()
    me.importer(store(), auth.current_user(store()))
if not portfolio.interventions:
    with register:
        st.info(tr("me.empty_country", area=codes.area_name(f.country, f.lang)))
    st.stop()
with register:
    me.illustrative_banner(portfolio)
    shown = select(portfolio, me.filter_bar(portfolio, key="me_reg"))
    me.register(shown, as_of)
with detail:
    me.rule()
    chosen = me.detail(portfolio, as_of)
    me.review_reports(store(), portfolio, chosen, auth.current_user(store()))
