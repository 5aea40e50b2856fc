"""Plotly figures. Consistent, colour-blind-safe colours (Okabe-Ito) for sex and migrant status."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from mmicd import codes
from mmicd.i18n import plotly_separators, t

SERIES_COLOURS = {
    "F": "#D55E00",  # vermillion
    "M": "#0072B2",  # blue
    "_T": "#333333",  # near black
    "MS_MIGRANT": "#E69F00",  # orange
    "MS_NOMIGRANT": "#009E73",  # bluish green
}
# lines of several indicators in one chart (Okabe-Ito, in order; the sex colours come last)
LINE_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#333333")
UNIT_KEYS = {"persons": "unit.persons", "percent": "unit.percent", "usd": "unit.usd"}


def label_text(text: object) -> str:
    """User text (a title, a name, a source) for a plotly label, legend or hover: plotly reads
    ``<b>``, ``<a href>`` and the like in them, so ``&``, ``<`` and ``>`` are escaped (shown as typed)."""
    return html.escape(str(text), quote=False)


def series_label(code: str, lang: str) -> str:
    listname = "migrant_status" if code.startswith("MS_") else "sex"
    return codes.label(listname, code, lang)


def trend_chart(trend: pd.DataFrame, unit: str, lang: str, title: str = "", other: pd.DataFrame | None = None,
                other_label: str = "") -> go.Figure:
    """Lines over time, one per series (sex), total drawn thicker; axis titles carry the unit.

    ``other``: the total of another source for the same figure, drawn as a dashed grey line under
    its own label (two sources side by side, never blended)."""
    fig = go.Figure()
    if other is not None and not other.empty:
        part = other.sort_values("time_period")
        fig.add_trace(go.Scatter(x=part["time_period"], y=part["value"], name=label_text(other_label), mode="lines+markers",
                                 line={"color": "#9e9e9e", "width": 2, "dash": "dash"}, marker={"size": 5}))
    for code in ("_T", "F", "M", "MS_MIGRANT", "MS_NOMIGRANT"):
        part = trend.loc[trend["series"] == code].sort_values("time_period")
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["time_period"],
                y=part["value"],
                name=series_label(code, lang),
                mode="lines+markers",
                line={"color": SERIES_COLOURS[code], "width": 3 if code == "_T" else 2},
            )
        )
    fig.update_layout(
        title=title or None,
        xaxis_title=t("axis.year", lang),
        yaxis_title=t(UNIT_KEYS[unit], lang),
        legend={"orientation": "h", "yanchor": "top", "y": -0.3 if other is not None else -0.2},
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        height=360 if other is not None else 320,
        separators=plotly_separators(lang),
    )
    fig.update_xaxes(type="category", categoryorder="category ascending")
    if unit == "percent":
        fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig
