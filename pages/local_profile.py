"""Local profile: a subdivision (province, district) of the country chosen in the sidebar, each figure
beside the national one; ``?area=NP-P3`` in the URL opens that subdivision (and its country)."""

import streamlit as st

from mmicd import codes, subdivision_lists
from mmicd import subdivisions as sub
from mmicd.ui import auth, filters, store, tr
from mmicd.ui import local_profile as view

f = filters()
s = store()
subdivision_lists.apply(s)   # an office's own codes, where one is in force
asked = st.query_params.get("area")
country = sub.country_of(asked) if asked and sub.is_current(asked) else f.country
options = list(sub.of_country(country)["code"]) if codes.is_country(country) else []
st.title(tr("local.title", country=codes.area_name(country, f.lang)))
if asked and country != f.country:
    st.caption(tr("local.country_from_url", area=asked, country=codes.area_name(country, f.lang)))
if not options:
    st.info(tr("local.no_subdivisions", country=codes.area_name(country, f.lang)))
    st.stop()
table = view.local_table(s, country)
with_data = view.areas_with_data(table, country)
if "local_area" not in st.session_state or st.session_state["local_area"] not in options:
    st.session_state["local_area"] = asked if asked in options else (with_data or options)[0]
area = st.selectbox(tr("local.choose", country=codes.area_name(country, f.lang)), options, key="local_area",
                    format_func=lambda c: f"{sub.subdivision_name(c, f.lang)} ({c})")
st.query_params["area"] = area
view.code_list_form(s, auth.current_user(s), country, f.lang)
if not with_data:
    st.info(tr("local.no_data_country", country=codes.area_name(country, f.lang)))
    st.stop()
name = sub.subdivision_name(area, f.lang)
if view.synthetic(table, area):
    st.warning(tr("local.synthetic"), icon=":material/science:")
figures = view.key_figures(table, area, country, f.lang)
view.section(tr("local.section.key", area=name), figures, tr("local.no_data", area=name))
view.section(tr("local.section.sex_age", area=name), view.by_sex_and_age(table, area, country, f.lang),
             tr("local.no_data_section", area=name))
view.section(tr("local.section.origins", area=name), view.origins(table, area, country, f.lang),
             tr("local.no_data_section", area=name))
view.section(tr("local.section.movements", area=name), view.movements(table, area, country, f.lang),
             tr("local.no_data_section", area=name))
st.caption(tr("local.rules"))
view.download(table, area, country, f.lang)
view.brief_and_exports(s, table, area, country, f.lang)
