"""Plotly figures of the profile blocks: colour-blind-safe colours per sex and migrant status
(:data:`mmicd.charts.SERIES_COLOURS`), numbers per language, axis titles with units, and world maps
drawn with plotly ``geo`` traces on the topojson the app serves itself (``static/topojson``)."""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mmicd import ROOT, codes
from mmicd.charts import LINE_COLOURS, SERIES_COLOURS, series_label
from mmicd.i18n import format_number, plotly_separators, t
from mmicd.profile.model import Block

TOPOJSON = ROOT / "static" / "topojson" / "world_110m.json"
TOPOJSON_URL = "/app/static/topojson/"  # plotly.js appends world_110m.json
PLOTLY_CONFIG = {"displaylogo": False, "topojsonURL": TOPOJSON_URL}
# Okabe-Ito colours not used for sex or migrant status
EXTRA = {"REM_IN": "#0072B2", "REM_OUT": "#CC79A7", "country": "#333333", "region": "#56B4E9", "world": "#E69F00",
         "bar": "#56B4E9"}
AXIS_KEYS = {"persons": "profile.axis.persons", "percent": "profile.axis.percent", "usd": "profile.axis.usd",
             "points": "profile.unit.points", "per_1000": "ind.unit.per_1000", "per_100000": "ind.unit.per_100000"}


@cache
def centroids() -> dict[str, tuple[float, float]]:
    """ISO3 -> (lon, lat) of each country's label point in the served topojson (read once)."""
    with open(TOPOJSON, encoding="utf-8") as fh:
        topo = json.load(fh)
    out = {}
    for geom in topo["objects"]["countries"]["geometries"]:
        ct = (geom.get("properties") or {}).get("ct")
        if geom.get("id") and ct:
            out[geom["id"]] = (float(ct[0]), float(ct[1]))
    return out


def _layout(fig: go.Figure, lang: str, height: int = 340, legend: bool = True) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      separators=plotly_separators(lang), showlegend=legend,
                      legend={"orientation": "h", "y": -0.25})
    return fig


def _axis(unit: str, lang: str) -> str:
    return t(AXIS_KEYS.get(unit, "profile.axis.persons"), lang)


def trend(block: Block, lang: str) -> go.Figure:
    """Series by sex over time: international baseline as lines, national uploads as large markers."""
    frame = block.frame()
    fig = go.Figure()
    for origin in ("international", "national"):
        for code in ("_T", "F", "M"):
            part = frame.loc[(frame["series"] == code) & (frame.get("origin", "international") == origin)] \
                if "origin" in frame.columns else frame.loc[frame["series"] == code]
            if origin == "national" and "origin" not in frame.columns:
                continue
            part = part.sort_values("time_period")
            if part.empty:
                continue
            national = origin == "national"
            fig.add_trace(go.Scatter(
                x=part["time_period"], y=part["value"],
                name=f"{series_label(code, lang)} ({t(f'profile.origin.{origin}', lang)})",
                mode="markers" if national else "lines+markers",
                marker={"symbol": "diamond" if national else "circle", "size": 12 if national else 6,
                        "color": SERIES_COLOURS[code]},
                line={"color": SERIES_COLOURS[code], "width": 3 if code == "_T" else 2}))
    fig.update_xaxes(type="category", title=t("axis.year", lang), categoryorder="category ascending")
    fig.update_yaxes(title=_axis(block.unit, lang), rangemode="tozero",
                     ticksuffix="%" if block.unit == "percent" else None)
    return _layout(fig, lang)


def lines(block: Block, lang: str) -> go.Figure:
    """One line per series (catalogue indicators), periods as categories (years, or months and
    quarters where a series is published so)."""
    from mmicd.profile.tables import series_name

    frame = block.frame()
    fig = go.Figure()
    for n, (code, part) in enumerate(frame.groupby("series", sort=False)):
        part = part.sort_values("time_period")
        fig.add_trace(go.Scatter(x=part["time_period"], y=part["value"], name=series_name(str(code), lang),
                                 mode="lines+markers", line={"color": LINE_COLOURS[n % len(LINE_COLOURS)], "width": 2}))
    fig.update_xaxes(type="category", title=t("axis.period", lang), categoryorder="category ascending")
    negative = bool((frame["value"] < 0).any())
    fig.update_yaxes(title=_axis(block.unit, lang), rangemode="normal" if negative else "tozero",
                     ticksuffix="%" if block.unit == "percent" else None)
    fig = _layout(fig, lang)
    if (frame["time_period"].astype(str).str.len() > 4).any():   # slanted month labels: the legend below them
        fig.update_layout(height=400, legend={"orientation": "h", "y": -0.5})
    return fig


def pyramid(block: Block, lang: str) -> go.Figure:
    """Two pyramids side by side (migrants | non-migrants), men to the left, % of each group."""
    frame = block.frame()
    ages = list(dict.fromkeys(frame["age"]))
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[t("profile.label.migrants", lang), t("profile.label.non_migrants", lang)])
    for col, status in enumerate(("MS_MIGRANT", "MS_NOMIGRANT"), start=1):
        for sex in ("M", "F"):
            part = frame.loc[(frame["migrant_status"] == status) & (frame["sex"] == sex)]
            part = part.set_index("age").reindex(ages)
            sign = -1 if sex == "M" else 1
            fig.add_trace(go.Bar(
                y=[codes.label("age", a, lang) for a in ages], x=sign * part["pct"], orientation="h",
                name=series_label(sex, lang), marker_color=SERIES_COLOURS[sex], showlegend=col == 1,
                customdata=part["value"], hovertemplate="%{y}: %{customdata:,.0f}<extra></extra>"), row=1, col=col)
    fig.update_layout(barmode="relative", bargap=0.05)
    top = max(float(frame["pct"].max() or 0), 1.0)
    step = 1 if top <= 4 else (2 if top <= 10 else 5)
    ticks = [v for v in range(-int(top // step + 1) * step, int(top // step + 1) * step + 1, step)]
    fig.update_xaxes(title=t("profile.axis.share_group", lang), tickvals=ticks,
                     ticktext=[format_number(abs(v), lang, 0) for v in ticks])
    fig.update_yaxes(title=t("profile.axis.age", lang), row=1, col=1)
    return _layout(fig, lang, height=480)


def top_bar(block: Block, lang: str) -> go.Figure:
    """Horizontal bars, largest on top, split by sex where known."""
    frame = block.frame().iloc[::-1]
    fig = go.Figure()
    if "F" in frame.columns and frame[["F", "M"]].notna().any().any():
        for sex in ("F", "M"):
            fig.add_trace(go.Bar(y=frame["name"], x=frame[sex], orientation="h", name=series_label(sex, lang),
                                 marker_color=SERIES_COLOURS[sex]))
        fig.update_layout(barmode="stack")
    else:
        col = "total" if "total" in frame.columns else "value"
        hatch = ["/" if s == "E" else "" for s in frame.get("obs_status", pd.Series([""] * len(frame)))]
        fig.add_trace(go.Bar(y=frame["name"], x=frame[col], orientation="h", marker_color=EXTRA["bar"],
                             marker_pattern_shape=hatch, name=block.title, showlegend=False))
    fig.update_xaxes(title=_axis(block.unit, lang))
    return _layout(fig, lang, height=110 + 28 * max(len(frame), 3))  # room for the axis and the legend


def world_map(block: Block, lang: str, country: str | None = None) -> go.Figure:
    """A choropleth of the block's countries (origins, destinations, corridors) on the served topojson."""
    frame = block.frame()
    frame = frame.loc[frame["area"].map(codes.is_country)]
    col = "total" if "total" in frame.columns else "value"
    fig = go.Figure(go.Choropleth(
        locations=frame["area"], z=frame[col], text=frame["name"], locationmode="ISO-3",
        colorscale="Blues", marker_line_color="#ffffff", marker_line_width=0.5,
        colorbar={"title": {"text": _axis(block.unit, lang)}, "thickness": 12},
        hovertemplate="%{text}: %{z:,.0f}<extra></extra>"))
    if country and country in centroids():
        lon, lat = centroids()[country]
        ends = [(centroids()[a], v) for a, v in zip(frame["area"], frame[col], strict=True) if a in centroids()]
        for (lon2, lat2), _ in ends:
            fig.add_trace(go.Scattergeo(lon=[lon2, lon], lat=[lat2, lat], mode="lines", hoverinfo="skip",
                                        line={"width": 1.5, "color": EXTRA["world"]}, showlegend=False))
        fig.add_trace(go.Scattergeo(lon=[lon], lat=[lat], mode="markers", showlegend=False,
                                    text=[codes.area_name(country, lang)], hoverinfo="text",
                                    marker={"size": 10, "color": SERIES_COLOURS["_T"], "symbol": "star"}))
    fig.update_geos(scope="world", resolution=110, projection_type="natural earth", projection_rotation_lon=0,
                    center={"lon": 0, "lat": 15}, lataxis_range=[-58, 85], lonaxis_range=[-180, 180], showcountries=True,
                    countrycolor="#bbbbbb", showcoastlines=False, showland=True, landcolor="#f2f2f2",
                    showframe=False)
    return _layout(fig, lang, height=380, legend=False)


def _years(part: pd.DataFrame):
    """Annual periods as numbers (a linear axis thins its labels); others stay text."""
    periods = part["time_period"].astype(str)
    return periods.astype(int) if periods.str.fullmatch(r"\d{4}").all() else periods


def rem_trend(block: Block, lang: str) -> go.Figure:
    frame = block.frame()
    fig = go.Figure()
    for series in ("REM_IN", "REM_OUT"):
        part = frame.loc[frame["series"] == series].sort_values("time_period")
        if not part.empty:
            fig.add_trace(go.Scatter(x=_years(part), y=part["value"], mode="lines+markers",
                                     name=t(f"profile.series.{series}", lang), line={"color": EXTRA[series]}))
    fig.update_xaxes(title=t("axis.year", lang), tickformat="d")
    fig.update_yaxes(title=_axis("usd", lang), rangemode="tozero")
    return _layout(fig, lang)


def rem_gdp(block: Block, lang: str, country: str) -> go.Figure:
    frame = block.frame()
    fig = go.Figure()
    for area, part in frame.groupby("area", sort=False):
        role = "country" if area == country else ("world" if area == "WLD" else "region")
        part = part.sort_values("time_period")
        fig.add_trace(go.Scatter(x=_years(part), y=part["value"], mode="lines+markers",
                                 name=str(part["name"].iloc[0]),
                                 line={"color": EXTRA[role], "width": 3 if role == "country" else 2,
                                       "dash": "solid" if role == "country" else "dot"}))
    fig.update_xaxes(title=t("axis.year", lang), tickformat="d")
    fig.update_yaxes(title=_axis("percent", lang), ticksuffix="%", rangemode="tozero")
    return _layout(fig, lang)


def cost(block: Block, lang: str) -> go.Figure:
    frame = block.frame().iloc[::-1]
    fig = go.Figure(go.Bar(y=frame["name"], x=frame["value"], orientation="h", marker_color=EXTRA["bar"],
                           showlegend=False))
    for x, key, dash in ((3, "profile.label.target_3", "dash"), (5, "profile.label.ceiling", "dot")):
        fig.add_vline(x=x, line_dash=dash, line_color=SERIES_COLOURS["F"], annotation_text=t(key, lang))
    fig.update_xaxes(title=_axis("percent", lang), ticksuffix="%", rangemode="tozero")
    return _layout(fig, lang, height=110 + 28 * max(len(frame), 3))  # room for the axis and the legend


def labour(block: Block, lang: str, age: str = "_T") -> go.Figure:
    """One panel per indicator: bars by sex, coloured by migrant status, 95% CI as error bars;
    low-reliability values hatched and marked U, suppressed ones (Q) left out and marked."""
    frame = block.frame()
    frame = frame.loc[frame["age"] == age]
    inds = [i for i in ("lfpr", "emp_pop_ratio", "unemp_rate") if i in set(frame["indicator"])]
    fig = make_subplots(rows=1, cols=max(len(inds), 1), subplot_titles=[t(f"profile.indicator.{i}", lang) for i in inds])
    sexes = ["_T", "F", "M"]
    for col, ind in enumerate(inds, start=1):
        for status in ("MS_MIGRANT", "MS_NOMIGRANT"):
            part = frame.loc[(frame["indicator"] == ind) & (frame["migrant_status"] == status)].set_index("sex")
            part = part.reindex(sexes)
            flags = part["obs_status"].fillna("")
            fig.add_trace(go.Bar(
                x=[series_label(s, lang) for s in sexes], y=part["value"], name=series_label(status, lang),
                marker_color=SERIES_COLOURS[status], showlegend=col == 1, legendgroup=status,
                marker_pattern_shape=["/" if f == "U" else "" for f in flags],
                error_y={"type": "data", "symmetric": False, "array": part["ci_upper"] - part["value"],
                         "arrayminus": part["value"] - part["ci_lower"], "color": "#555555"},
                text=[t("profile.label.low_reliability", lang) if f == "U" else
                      (t("profile.label.suppressed", lang) if f == "Q" else "") for f in flags],
                textposition="outside"), row=1, col=col)
        fig.update_yaxes(title=_axis("percent", lang) if col == 1 else None, ticksuffix="%", rangemode="tozero",
                         row=1, col=col)
    fig.update_layout(barmode="group")
    return _layout(fig, lang, height=380)
