"""Indicators: any catalogue indicator for the selected country, with its definition, sources,
uncertainty (95% confidence intervals), flagged and suppressed values marked, table and downloads."""

import streamlit as st

from mmicd import codes
from mmicd.engine import catalogue
from mmicd.ui import components, filters, store, tr
from mmicd.ui import indicators as view

f = filters()
s = store()
cat = catalogue()
st.title(tr("ind.title", area=codes.area_name(f.country, f.lang)))
indicator = st.selectbox(tr("ind.pick"), view.indicator_options(), format_func=lambda i: cat[i].name.get(f.lang),
                         key="ind_pick")
ind = cat[indicator]
table, found = view.indicator_result(s, f.country, indicator)
view.definition(ind, f.lang, table)
if table.empty:
    st.info(tr("ind.empty", indicator=ind.name.get(f.lang), area=codes.area_name(f.country, f.lang)))
    st.stop()

sources = list(dict.fromkeys(zip(table["source"], table["edition"], strict=True)))
chosen = sources[0]
if len(sources) > 1:
    chosen = st.radio(tr("ind.source_pick"), sources, format_func=lambda p: components.plain(f"{p[0]}, {p[1]}"), horizontal=True,
                      key="ind_source")
part = table.loc[(table["source"] == chosen[0]) & (table["edition"] == chosen[1])]
if f.year:
    part = part.loc[part["time_period"].str[:4] <= f.year]
if part.empty:
    st.info(tr("ind.no_year", year=f.year))
    st.stop()
migrant = "_T"
if "migrant_status" in ind.disaggregations and (part["migrant_status"] != "_T").any():
    migrant = st.segmented_control(tr("ind.migrant_pick"), ["_T", "MS_MIGRANT", "MS_NOMIGRANT"],
                                   format_func=lambda c: view.label("migrant_status", c, f.lang), default="_T",
                                   key="ind_migrant") or "_T"
broad = False
if view.fine_ages(set(part["age"])) and view.broad_ages(set(part["age"])):
    broad = st.segmented_control(tr("ind.age_pick"), [False, True], default=False, key="ind_broad",
                                 format_func=lambda b: tr("ind.age_broad" if b else "ind.age_fine")) or False
view.design_warnings(part, f.lang)
st.plotly_chart(view.chart(part, ind, f.lang, migrant, broad), key="ind_chart", width="stretch",
                config={"displaylogo": False})
st.caption(tr("ind.legend"))
st.dataframe(view.display_table(part, f.lang), hide_index=True, width="stretch")
view.downloads(part, indicator, f.country, f.lang)
view.issues(found)
