"""Interventions: the register (and a new intervention), one intervention in detail with its forms
(progress report, intervention, indicators with milestones, baseline and targets) and the review of
reports, the country's GMG stages with their evidence, exports (Excel, IATI) and the Excel import."""

import streamlit as st

from mmicd import codes
from mmicd.me.views import select
from mmicd.ui import auth, filters, me_common, me_forms, me_register, store, tr

f = filters()
as_of = me_common.today()
user = auth.current_user(store())
st.title(tr("me.interventions.title", area=codes.area_name(f.country, f.lang)))
portfolio = me_common.portfolio(store(), f.country)
me_forms.flash()
register, detail, stages, exchange = st.tabs([tr("me.tab.register"), tr("me.tab.detail"), tr("forms.tab.stages"),
                                              tr("me.tab.exchange")])
with exchange:
    me_register.exports(portfolio, f.country)
    st.divider()
    me_forms.importer(store(), user)
with stages:
    me_forms.stage_form(store(), portfolio, f.country, user)
with register:
    me_forms.new_intervention_form(store(), f.country, user)
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
    me_forms.review_reports(store(), portfolio, chosen, user)
    me_forms.forms(store(), portfolio, chosen, user)
