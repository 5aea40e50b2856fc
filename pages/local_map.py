"""Local map: any indicator across the subdivisions of a country (choropleth on the stored boundaries,
ranked table, download); country, level and indicator kept in the URL (?country=NPL&indicator=...)."""

import streamlit as st

from mmicd import codes
from mmicd.auth import Role
from mmicd.boundaries import countries_with_boundaries, current_boundaries
from mmicd.engine import catalogue
from mmicd.ui import auth, filters, store, synthetic_ids, tr
from mmicd.ui import indicators as ind_view
from mmicd.ui import local_map as view
from mmicd.ui.components import plain

f = filters()
s = store()
user = auth.current_user(s)
cat = catalogue()
available = countries_with_boundaries(s)
countries = sorted(available, key=lambda c: codes.area_name(c, f.lang))
default = f.country if f.country in available else (countries[0] if countries else f.country)
country = view.query_choice("country", countries, default)
st.title(tr("lmap.title", area=codes.area_name(country, f.lang)))
if not countries:
    st.info(tr("lmap.no_boundaries_anywhere"))
else:
    columns = st.columns([2, 1, 3])
    country = columns[0].selectbox(tr("lmap.country"), countries, index=countries.index(country),
                                   format_func=lambda c: codes.area_name(c, f.lang), key="lmap_country")
    levels = available[country]
    level = columns[1].selectbox(tr("lmap.level"), levels, index=levels.index(view.query_choice("level", levels, levels[0])),
                                 key="lmap_level_pick")
    options = ind_view.indicator_options()
    indicator = columns[2].selectbox(tr("lmap.indicator"), options, key="lmap_indicator",
                                     index=options.index(view.query_choice("indicator", options, "imm_stock")),
                                     format_func=lambda i: cat[i].name.get(f.lang))
    st.query_params.update({"country": country, "level": str(level), "indicator": indicator})
    ind = cat[indicator]
    boundaries = current_boundaries(s, country, level)
    names = boundaries.names()
    part = view.headline(view.local_results(s, country, boundaries.codes, indicator))
    if f.year and not part.empty:
        part = part.loc[part["time_period"].str[:4] <= f.year]
    table = part.iloc[0:0]
    if part.empty:
        st.info(tr("lmap.no_data", indicator=ind.name.get(f.lang), area=codes.area_name(country, f.lang)))
    else:
        periods = sorted(part["time_period"].unique(), reverse=True)
        period = st.selectbox(tr("lmap.period"), periods, key="lmap_period")
        shown = part.loc[part["time_period"] == period]
        if set(shown["dataset_id"].dropna().astype(int)) & synthetic_ids(s):
            st.warning(tr("local.synthetic"), icon=":material/science:")
        table = view.ranked(shown, names, f.lang)
    st.plotly_chart(view.figure(boundaries, table, names, ind.unit, ind.name.get(f.lang), f.lang),
                    key="lmap_chart", width="stretch", config=view.MAP_CONFIG)
    st.caption(tr("lmap.boundaries_source", source=plain(boundaries.source or boundaries.file_name),
                  licence=plain(boundaries.licence or "–"), version=boundaries.version))
    if not table.empty:
        st.dataframe(view.display(table), hide_index=True, width="stretch")
        view.download(table, country, indicator)
if user.role == Role.ADMIN:
    view.admin_boundaries(s, user, f.country, f.lang)
