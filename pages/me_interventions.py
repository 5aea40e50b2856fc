"""Interventions: the register, one intervention in detail with its forms (progress report, intervention,
baseline and targets) and the review of reports, exports (Excel, IATI) and the Excel import."""

import streamlit as st

from mmicd import codes
from mmicd.me.views import select
from mmicd.ui import auth, filters, me_common, me_forms, me_register, store, tr

f = filters()
as_of = me_common.today()
st.title(tr("me.interventions.title", area=codes.area_name(f.country, f.lang)))
portfolio = me_common.portfolio(store(), f.country)
register, detail, exchange = st.tabs([tr("me.tab.register"), tr("me.tab.detail"), tr("me.tab.exchange")])
with exchange:
    me_register.exports(portfolio, f.country)
    st.divider()
    me_forms.importer(store(), auth.current_user(store()))
if not portfolio.interventions:
    with register:
        st.info(tr("me.empty_country", area=codes.area_name(f.country, f.lang)))
    st.stop()
with register:
    me_common.illustrative_banner(portfolio)
    shown = select(portfolio, me_common.filter_bar(portfolio, key="me_reg"))
    me_register.register(shown, as_of)
with detail:
    me_common.rule()
    chosen = me_register.detail(portfolio, as_of)
    me_forms.review_reports(store(), portfolio, chosen, auth.current_user(store()))
    me_forms.forms(store(), portfolio, chosen, auth.current_user(store()))
