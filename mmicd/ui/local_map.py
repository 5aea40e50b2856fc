"""The local map: any catalogue indicator across the subdivisions of a country, drawn on the stored
boundaries (no base map, no outside request), with a ranked table (95% confidence intervals when the
indicator has them), a "no data" message, and the data download; and, for admins, the boundary
versions with the upload of a new one.

Subdivision results are the engine's output rows whose ``ref_area`` is a subdivision code (e.g.
NP-P1), computed by the engine's local level (:func:`local_results`).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import shapely
import streamlit as st
from shapely.geometry import shape

from mmicd import codes, subdivisions
from mmicd.auth import User
from mmicd.boundaries import (
    Boundaries,
    BoundaryRefused,
    CodeList,
    codes_from_boundaries,
    load_boundaries,
    make_current,
    read_boundaries,
    versions,
)
from mmicd.engine.local import compute_local, read_local_inputs
from mmicd.i18n import format_number, format_percent, plotly_separators
from mmicd.issues import IssuesError
from mmicd.safe_export import to_csv
from mmicd.store import Store
from mmicd.ui import _store, tr
from mmicd.ui.components import plain

T = "_T"
NO_DATA_COLOUR = "#d9d9d9"
# A geo subplot makes plotly.js fetch its world topojson (from a CDN by default) when a base layer is
# shown or when its first trace has a ``locationmode`` — which a choropleth always has, even on its
# own geojson. The maps here therefore show no base layer and begin with an invisible scattergeo
# trace (no locationmode): plotly.js 2.x looks at the first trace only, so nothing is fetched (the
# browser test checks it). Should a later plotly.js ask anyway, it asks the app, never a CDN: the
# topojson the world maps use (mmicd.profile.charts).
MAP_CONFIG = {"displaylogo": False, "topojsonURL": "/app/static/topojson/", "scrollZoom": False}
NO_BASE_MAP = {"visible": False, "showframe": False, "showland": False, "showcoastlines": False,
               "showcountries": False, "showocean": False, "showlakes": False, "showrivers": False,
               "showsubunits": False, "fitbounds": "locations", "projection_type": "mercator"}


def offline_map(boundaries: Boundaries) -> go.Figure:
    """A figure for maps of ``boundaries``: no base layer, and first an invisible trace at the
    corners of the boundaries' extent, so that plotly fetches no world topojson (see MAP_CONFIG)."""
    minx, miny, maxx, maxy = shapely.union_all([shape(f["geometry"]) for f in
                                                boundaries.feature_collection()["features"]]).bounds
    fig = go.Figure(go.Scattergeo(lon=[minx, maxx], lat=[miny, maxy], mode="markers", marker={"opacity": 0},
                                  hoverinfo="skip", showlegend=False))
    fig.update_geos(**NO_BASE_MAP)
    return fig


def area_name(code: str, names: dict[str, str], lang: str) -> str:
    """ISO 3166-2 subdivisions in the user's language; an office's own codes by the stored name."""
    return subdivisions.subdivision_name(code, lang) if subdivisions.is_subdivision(code) else names.get(code, code)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _local(url: str, published: tuple[int, ...], country: str, codes: tuple[str, ...], indicator: str) -> pd.DataFrame:
    inputs = read_local_inputs(_store(url), country)
    table = compute_local(inputs.own, inputs.microdata, country=country, indicators=[indicator]).table
    return table.loc[table["ref_area"].isin(codes)].reset_index(drop=True)


def local_results(s: Store, country: str, codes: list[str], indicator: str) -> pd.DataFrame:
    """The indicator's engine rows for each subdivision code of ``country`` (published data; survey
    microdata by subdivision as domains of the whole design, :func:`mmicd.engine.local.compute_local`),
    cached by the published versions."""
    return _local(s.url, s.published_ids(), country, tuple(codes), indicator)


def headline(table: pd.DataFrame, sex: str = T) -> pd.DataFrame:
    """One row per subdivision and period: both sexes (or ``sex``), all ages, every origin, and the
    indicator's own migrant status (total when it has one); the first source when several give it."""
    if table.empty:
        return table
    part = table.loc[(table["sex"] == sex) & (table["age"] == T) & (table["counterpart_area"] == T)]
    if (part["migrant_status"] == T).any():
        part = part.loc[part["migrant_status"] == T]
    return part.drop_duplicates(["ref_area", "time_period"])


def ranked(part: pd.DataFrame, names: dict[str, str], lang: str) -> pd.DataFrame:
    """The subdivisions of one period, highest value first, with rank, code, name, value, the 95%
    confidence interval (when the indicator has one), status and source (codes kept for download)."""
    part = part.dropna(subset=["value"]).sort_values("value", ascending=False, kind="stable")
    out = pd.DataFrame({
        "rank": range(1, len(part) + 1),
        "code": part["ref_area"].to_numpy(),
        "name": [area_name(c, names, lang) for c in part["ref_area"]],
        "time_period": part["time_period"].to_numpy(),
        "value": part["value"].to_numpy(),
        "ci_lower": part["ci_lower"].to_numpy(),
        "ci_upper": part["ci_upper"].to_numpy(),
        "obs_status": part["obs_status"].to_numpy(),
        "source": (part["source"] + ", " + part["edition"].fillna("")).to_numpy(),
    })
    if out["ci_lower"].isna().all():
        out = out.drop(columns=["ci_lower", "ci_upper"])
    return out


def _fmt(value: float, unit: str, lang: str) -> str:
    if unit in ("percent", "percent_per_year"):
        return format_percent(value, lang, 1)
    return format_number(value, lang, 1 if unit in ("years", "per_1000", "per_100000") else 0)


def figure(boundaries: Boundaries, table: pd.DataFrame, names: dict[str, str], unit: str, title: str,
           lang: str) -> go.Figure:
    """The choropleth: every subdivision of the stored boundaries (grey where there is no value),
    fitted to them, no base map (land, coast, countries, frame all off)."""
    collection = boundaries.feature_collection()
    codes = [f["id"] for f in collection["features"]]
    values = dict(zip(table.get("code", []), table.get("value", []), strict=True))
    fig = offline_map(boundaries)
    fig.add_trace(go.Choropleth(
        geojson=collection, featureidkey="id", locations=codes, z=[0] * len(codes), showscale=False,
        colorscale=[[0, NO_DATA_COLOUR], [1, NO_DATA_COLOUR]], marker_line_color="white", marker_line_width=1,
        hovertext=[f"{area_name(c, names, lang)}: {tr('lmap.no_value')}" for c in codes], hoverinfo="text"))
    with_data = [c for c in codes if c in values]
    if with_data:
        fig.add_trace(go.Choropleth(
            geojson=collection, featureidkey="id", locations=with_data, z=[values[c] for c in with_data],
            colorscale="Blues", marker_line_color="white", marker_line_width=1, colorbar={"title": {"text": title}},
            hovertext=[f"{area_name(c, names, lang)}: {_fmt(values[c], unit, lang)}" for c in with_data],
            hoverinfo="text"))
    fig.update_layout(height=520, margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=plotly_separators(lang))
    return fig


def display(table: pd.DataFrame) -> pd.DataFrame:
    """The ranked table with translated column names."""
    return table.rename(columns={c: tr(f"lmap.col.{c}") for c in table.columns})


def download(table: pd.DataFrame, country: str, indicator: str) -> None:
    st.download_button(tr("lmap.download"), to_csv(table).encode("utf-8"), file_name=f"{indicator}_{country}_local.csv",
                       mime="text/csv", key="lmap_download")


def query_choice(name: str, options: list, default):
    """A choice restored from the URL's query parameter ``name`` (when it is one of ``options``)."""
    value = st.query_params.get(name)
    for option in options:
        if str(option) == value:
            return option
    return default


def admin_boundaries(s: Store, user: User, country: str, lang: str) -> None:
    """Admins: the stored versions of the country's boundaries, making an earlier one current, and
    the upload of a new one (checked; refused with every reason, nothing stored)."""
    with st.expander(tr("lmap.admin.title", area=codes.area_name(country, lang))):
        stored = versions(s, country)
        if stored:
            st.dataframe(pd.DataFrame([{
                tr("lmap.admin.col.level"): b.level, tr("lmap.admin.col.version"): b.version,
                tr("lmap.admin.col.current"): "✓" if b.current else "", tr("lmap.admin.col.file"): b.file_name,
                tr("lmap.admin.col.features"): len(b.codes), tr("lmap.admin.col.kb"): round(len(b.geojson) / 1000),
                tr("lmap.admin.col.source"): b.source, tr("lmap.admin.col.licence"): b.licence,
                tr("lmap.admin.col.by"): b.loaded_by, tr("lmap.admin.col.at"): b.created_at} for b in stored]),
                hide_index=True, width="stretch")
            earlier = [b for b in stored if not b.current]
            if earlier:
                with st.form("lmap_current"):
                    chosen = st.selectbox(tr("lmap.admin.make_current"), earlier, key="lmap_earlier",
                                          format_func=lambda b: f"{b.level} · v{b.version} · {b.file_name}")
                    reason = st.text_input(tr("lmap.admin.reason"), key="lmap_reason")
                    if st.form_submit_button(tr("lmap.admin.make_current_button")) and chosen is not None:
                        make_current(s, chosen.id, user=user, reason=reason)
                        st.success(tr("lmap.admin.made_current", version=chosen.version))
        with st.form("lmap_upload", clear_on_submit=False):
            upload = st.file_uploader(tr("lmap.admin.file"), type=["geojson", "json", "topojson", "zip"],
                                      key="lmap_file", help=tr("lmap.admin.file_help"))
            level = st.number_input(tr("lmap.admin.level"), min_value=1, max_value=3, value=1, step=1, key="lmap_level")
            prop = st.text_input(tr("lmap.admin.property"), key="lmap_property", help=tr("lmap.admin.property_help"))
            own = st.checkbox(tr("lmap.admin.own_codes"), key="lmap_own", help=tr("lmap.admin.own_codes_help"))
            name_prop = st.text_input(tr("lmap.admin.name_property"), key="lmap_name_property")
            parent_prop = st.text_input(tr("lmap.admin.parent_property"), key="lmap_parent_property")
            source = st.text_input(tr("lmap.admin.source"), key="lmap_source")
            licence = st.text_input(tr("lmap.admin.licence"), key="lmap_licence")
            if not st.form_submit_button(tr("lmap.admin.load"), type="primary") or upload is None:
                return
        try:
            with st.spinner(tr("lmap.admin.checking")):
                own_codes = None
                if own:  # the office's codes and names, as the file gives them (code property required)
                    if not prop.strip() or not name_prop.strip():
                        st.error(tr("lmap.admin.own_codes_needs"))
                        return
                    rows = codes_from_boundaries(read_boundaries(upload, upload.name), code_property=prop.strip(),
                                                 name_property=name_prop.strip(), level=int(level),
                                                 parent_property=parent_prop.strip() or None)
                    own_codes = CodeList.from_rows(country, int(level), rows)
                stored_now = load_boundaries(s, upload, file_name=upload.name, country=country, level=int(level),
                                             user=user, code_property=prop.strip() or None, codes=own_codes,
                                             source_name=source, licence=licence, lang=lang)
        except BoundaryRefused as err:
            st.error(plain(err.message(lang)))
            return
        except IssuesError as err:
            st.error(tr("lmap.admin.refused", n=len([i for i in err.issues if i.level == "error"])))
            for issue in err.issues:
                (st.error if issue.level == "error" else st.warning)(plain(issue.message))
            return
        st.success(tr("lmap.admin.loaded", version=stored_now.version, n=len(stored_now.codes),
                      kb=round(len(stored_now.geojson) / 1000)))
        for note in stored_now.notes:
            st.warning(plain(note))
