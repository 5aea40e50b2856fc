"""The M&E dashboard at the local level: the subdivision filter and the map of interventions by
subdivision with their status (drawn on the stored boundaries, no outside request)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import shapely
import streamlit as st
from shapely.geometry import shape

from mmicd import codes, subdivisions
from mmicd.boundaries import Boundaries, current_boundaries
from mmicd.me.charts import INTERVENTION_COLOURS
from mmicd.me.local import by_area, in_area
from mmicd.me.model import InterventionStatus
from mmicd.me.repository import Portfolio
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain
from mmicd.ui.local_map import MAP_CONFIG, area_name, offline_map

ALL = "_ALL"


def area_options(country: str) -> list[str]:
    """The country itself (national), then its first-level subdivisions, then the second level."""
    frame = subdivisions.of_country(country).reset_index(drop=True)
    return [country, *frame.sort_values(["level", "code"])["code"]]


def area_label(code: str, lang: str) -> str:
    if code == ALL:
        return tr("lmap.me.area_all")
    if subdivisions.is_subdivision(code):
        return subdivisions.subdivision_name(code, lang)
    return tr("lmap.me.national")


def area_filter(p: Portfolio, country: str, key: str) -> tuple[Portfolio, str]:
    """A subdivision picker (the URL's ``area`` restored): the interventions working there, national
    ones included; the portfolio unchanged for every subdivision."""
    named = {a for iv in p.interventions for a in iv.scope_areas if a != country}
    options = [ALL, *[c for c in area_options(country)[1:] if c in named]]
    wanted = st.query_params.get("area")
    lang = current_lang()
    area = st.selectbox(tr("lmap.me.area_filter"), options, index=options.index(wanted) if wanted in options else 0,
                        format_func=lambda c: area_label(c, lang), key=key)
    if area == ALL:
        st.query_params.pop("area", None)
        return p, area
    st.query_params["area"] = area
    shown = in_area(p, area)
    st.caption(tr("lmap.me.area_caption", n=len(shown.interventions), area=plain(area_label(area, lang))))
    return shown, area


def _points(boundaries: Boundaries) -> dict[str, tuple[float, float]]:
    """A point inside each subdivision (lon, lat) for its status dots."""
    out = {}
    for f in boundaries.feature_collection()["features"]:
        point = shapely.point_on_surface(shape(f["geometry"]))
        out[f["id"]] = (point.x, point.y)
    return out


def figure(boundaries: Boundaries, table: pd.DataFrame, lang: str) -> go.Figure:
    """Subdivisions coloured by the number of interventions working there by name; beside each, one
    dot per intervention status present, sized and labelled with its count."""
    collection = boundaries.feature_collection()
    names = boundaries.names()
    codes_ = [f["id"] for f in collection["features"]]
    counts = table.groupby("area")["intervention"].nunique().reindex(codes_, fill_value=0)
    titles = table.groupby("area")["intervention"].apply(lambda s: ", ".join(s)).to_dict()
    fig = offline_map(boundaries)
    fig.add_trace(go.Choropleth(
        geojson=collection, featureidkey="id", locations=codes_, z=counts.tolist(), colorscale="Purples", zauto=False, zmin=0,
        zmax=max(int(counts.max()), 1),
        marker_line_color="white", marker_line_width=1, colorbar={"title": {"text": tr("lmap.me.count")}},
        hovertext=[f"{area_name(c, names, lang)}: {counts[c]} ({titles.get(c, '–')})" for c in codes_],
        hoverinfo="text", showlegend=False))
    points = _points(boundaries)
    step = (fig.data[0].lon[1] - fig.data[0].lon[0]) * 0.032  # dots of one subdivision side by side
    statuses = [s.value for s in InterventionStatus if s.value in set(table["status"])]
    for k, status in enumerate(statuses):
        part = table.loc[table["status"] == status].groupby("area")["intervention"].apply(list)
        part = part.reindex([c for c in codes_ if c in part.index])
        fig.add_trace(go.Scattergeo(
            lon=[points[c][0] + (k - (len(statuses) - 1) / 2) * step for c in part.index],
            lat=[points[c][1] for c in part.index], mode="markers+text", text=[str(len(v)) for v in part],
            textfont={"color": "white", "size": 10}, name=tr(f"me.iv_status.{status}"),
            marker={"size": [12 + 3 * len(v) for v in part], "color": INTERVENTION_COLOURS[status],
                    "line": {"color": "#333333", "width": 1}},
            hovertext=[f"{area_name(c, names, lang)} · {tr(f'me.iv_status.{status}')}: {', '.join(v)}"
                       for c, v in part.items()], hoverinfo="text"))
    fig.update_layout(height=480, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      legend={"orientation": "h", "y": -0.02})
    return fig


def map_tab(store: Store, p: Portfolio, country: str) -> None:
    """The map of interventions by subdivision with their status, and the same as a table."""
    lang = current_lang()
    boundaries = current_boundaries(store, country, 1)
    if boundaries is None:
        st.info(tr("lmap.me.no_boundaries", area=codes.area_name(country, lang)))
        return
    table = by_area(p, boundaries.codes)
    national = sum(iv.national() for iv in p.interventions)
    if table.empty:
        st.info(tr("lmap.me.no_scope"))
        return
    st.plotly_chart(figure(boundaries, table, lang), width="stretch", key="me_local_map", config=MAP_CONFIG)
    st.caption(tr("lmap.me.map_caption", n=national))
    names = boundaries.names()
    st.dataframe(pd.DataFrame({
        tr("lmap.me.col.area"): [area_name(a, names, lang) for a in table["area"]],
        tr("lmap.me.col.intervention"): table["intervention"],
        tr("lmap.me.col.title"): table["title"],
        tr("lmap.me.col.status"): [tr(f"me.iv_status.{s}") for s in table["status"]],
        tr("lmap.me.col.lead"): table["lead"],
        tr("lmap.me.col.lead_type"): [tr(f"lmap.org.{o}") for o in table["lead_type"]],
    }), hide_index=True, width="stretch")
