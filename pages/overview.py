"""Overview: real key figures of the selected country, each with its source, edition and trend."""

import streamlit as st

from mmicd import codes
from mmicd.ui import components, country_key_figures, filters, store, tr

f = filters()
figures = country_key_figures(store(), f.country, f.year)

st.title(tr("overview.title", area=codes.area_name(f.country, f.lang)))
st.caption(tr("overview.caption", year=f.year or "–"))
if not codes.is_country(f.country):
    st.info(tr("overview.aggregate_note"))
# real figures come first (mmicd.overview.key_figures); synthetic demo data is never shown unannounced
if any(fig.synthetic for fig in figures.values()):
    st.warning(tr("rv.demo.banner_headline"), icon=":material/science:")
elif any(fig.alternative is not None and fig.alternative.synthetic for fig in figures.values()):
    st.warning(tr("rv.demo.banner_beside"), icon=":material/science:")

rows = [
    ("pop_total", "imm_stock", "imm_share"),
    ("imm_female_share", "emig_stock", "net_mig"),
    ("rem_in_usd", "rem_in_gdp"),
]
for row in rows:
    for column, fid in zip(st.columns(3), row, strict=False):
        with column:
            components.metric(figures[fid], f.lang)

st.divider()
left, right = st.columns(2)
with left:
    components.trend(figures["imm_stock"], f.lang, key="trend_imm_stock")
    components.trend(figures["emig_stock"], f.lang, key="trend_emig_stock")
    components.trend(figures["rem_in_usd"], f.lang, key="trend_rem_in_usd")
    components.trend(figures["net_mig"], f.lang, key="trend_net_mig")
with right:
    components.trend(figures["imm_share"], f.lang, key="trend_imm_share")
    components.trend(figures["imm_female_share"], f.lang, key="trend_imm_female_share")
    components.trend(figures["rem_in_gdp"], f.lang, key="trend_rem_in_gdp")
    components.trend(figures["pop_total"], f.lang, key="trend_pop_total")
