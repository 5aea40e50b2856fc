"""Renderers shared by pages: key-figure cards, sourced trend charts, empty states; :func:`plain`,
the one way user text reaches Markdown."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from mmicd import charts, codes
from mmicd.i18n import format_number, format_value, t
from mmicd.overview import KeyFigure
from mmicd.ui import tr

# Markdown/HTML metacharacters anywhere in a line; ':' before a word (Streamlit's :red[…], :material/…:)
_MARKDOWN = re.compile(r"[\\`*_{}\[\]()<>#!|~$&]|:(?=\w)")
# what starts a list, a heading underline or a numbered item only at the start of a line
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=\.))", re.MULTILINE)
# what GitHub Markdown turns into a link by itself (http://…, www.…, a@b.c): a word joiner (U+2060,
# invisible) after "http", "www" or "@" keeps it plain text
_AUTOLINK = re.compile(r"((?i:https?|ftp|www)(?=\\?[:.])|@)")


def plain(text: object) -> str:
    """User text (names, titles, notes, file names, user names, sources) made inert for Markdown:
    every Markdown and HTML metacharacter backslash-escaped (``-``, ``+``, ``=`` and ``1.`` where
    they begin a line), so Streamlit shows the text as typed — no image, link, emphasis, list or
    HTML (nor an address made a link: an invisible word joiner follows "http", "www" and "@").
    For every element that renders Markdown: ``st.markdown``, ``st.caption``, ``st.info`` and the
    like, titles, the labels of widgets, metrics, expanders and tabs, ``help`` tooltips, ``st.table``
    cells. (Data frames and select options show text as it is: no escaping there.)"""
    out = _MARKDOWN.sub(lambda m: "\\" + m.group(), str(text))
    out = _LINE_START.sub(lambda m: m.group(1) + (m.group(2) + "\\" if m.group(2)[0].isdigit() else "\\" + m.group(2)),
                          out)
    return _AUTOLINK.sub("\\1\u2060", out)


def source_line(fig: KeyFigure) -> str:
    if not fig.source:
        return ""
    ids = ", ".join(f"#{i}" for i in fig.dataset_ids)
    return tr("source.line", source=plain(fig.source), edition=plain(fig.edition or "–"), ids=ids)


def demo_marked(fig: KeyFigure, text: str) -> str:
    """``text`` with the synthetic-data marker in front when ``fig`` comes from synthetic demo data."""
    return f"{tr('rv.demo.marker')} {text}" if fig.synthetic else text


METRIC_CHARACTERS = 16   # what a card of three per row shows whole at 1400 px ("US$10.8 billion")


def metric(fig: KeyFigure, lang: str) -> None:
    """One key figure as a metric card: value, reference year, change since the previous year."""
    label = tr(f"figure.{fig.id}")
    if not fig.available:
        st.metric(label, "–", help=tr("figure.no_data"), border=True)
        return
    delta, arrow = None, "off"
    if fig.change is not None:
        size = abs(fig.change)   # the sign goes first, before a currency ("-$471,060", not "$-471,060")
        if fig.unit == "percent":
            change = tr("delta.points", n=format_number(size, lang, 1))
        else:
            change = format_value(size, fig.unit, lang, compact=True)
        sign = "+" if fig.change > 0 else "-" if fig.change < 0 else ""
        delta = tr("delta.since", change=f"{sign}{change}", year=fig.previous_year)
        # the arrow from the number, not from the text (a delta beginning with "US$" read as a rise)
        arrow = "up" if fig.change > 0 else "down" if fig.change < 0 else "off"
    spark = fig.trend.loc[fig.trend["series"] == "_T"].sort_values("time_period")["value"].dropna()
    also = ("\n\n" + demo_marked(fig.alternative, tr("figure.other_value", source=plain(fig.alternative.source),
                         edition=plain(fig.alternative.edition or "–"),
                         value=format_value(fig.alternative.value, fig.unit, lang), year=fig.alternative.year))
            if fig.alternative is not None else "")
    st.metric(
        demo_marked(fig, f"{label} ({fig.year})"),
        format_value(fig.value, fig.unit, lang, fit=METRIC_CHARACTERS),
        delta=delta,
        delta_color="off",
        delta_arrow=arrow,
        help=f"{tr(f'figure.{fig.id}.help')}\n\n{source_line(fig)}{also}",
        border=True,
        chart_data=spark.tolist() if len(spark) > 1 else None,
        chart_type="line",
    )


def trend(fig: KeyFigure, lang: str, key: str) -> None:
    """A trend chart with its source beneath and its data table one click away; never a blank chart."""
    st.markdown(f"**{tr(f'figure.{fig.id}')}**")
    if fig.trend.empty:
        st.info(tr("figure.empty", figure=tr(f"figure.{fig.id}")))
        return
    alt = fig.alternative
    other = alt.trend.loc[alt.trend["series"] == "_T"] if alt is not None else None
    other_label = demo_marked(alt, tr("figure.other_source", source=alt.source, edition=alt.edition or "–")) \
        if alt is not None else ""
    if fig.synthetic:
        st.warning(tr("rv.demo.chart"), icon=":material/science:")
    chart, table = _trend_parts(fig.trend, fig.unit, lang, other, other_label)
    st.plotly_chart(chart, key=key, width="stretch", config={"displaylogo": False})
    st.caption(source_line(fig))
    if alt is not None:
        st.caption(demo_marked(alt, tr("figure.other_value", source=plain(alt.source), edition=plain(alt.edition or "–"),
                                       value=format_value(alt.value, alt.unit, lang), year=alt.year)))
    with st.expander(tr("table.show")):
        st.dataframe(table, width="stretch")


@st.cache_resource(max_entries=2000, show_spinner=False)
def _trend_parts(trend: pd.DataFrame, unit: str, lang: str, other: pd.DataFrame | None,
                 other_label: str) -> tuple:
    """A trend's chart and its table, built once per content and language and shared by every
    session (building them was a third of the Overview's CPU per view: bench/load_bench.py). Neither
    is changed after: Streamlit reads the figure (``to_dict``) and the table."""
    chart = charts.trend_chart(trend, unit, lang, other=other, other_label=other_label)
    table = trend.pivot_table(index="time_period", columns="series", values="value")
    table.columns = [charts.series_label(c, lang) for c in table.columns]
    table.index.name = t("axis.year", lang)
    return chart, table


def datasets_table(versions: list, lang: str) -> pd.DataFrame:
    """The dataset versions as a frame with translated column names."""
    rows = [
        {
            tr("ds.id"): v.id,
            tr("ds.kind"): tr(f"kind.{v.kind.value}"),
            tr("ds.source"): v.source,
            tr("ds.edition"): v.edition,
            tr("ds.title"): v.title,
            tr("ds.scope"): codes.area_name(v.scope, lang) if v.scope != "_ALL" else tr("ds.all_areas"),
            tr("ds.version"): v.version,
            tr("ds.status"): tr(f"status.{v.status.value}"),
            tr("ds.rows"): v.rows,
            tr("ds.loaded_by"): v.loaded_by,
            tr("ds.created_at"): v.created_at.strftime("%Y-%m-%d %H:%M"),
            tr("ds.sha256"): v.sha256[:12],
        }
        for v in versions
    ]
    return pd.DataFrame(rows)


def translated_columns(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The frame with its columns named in the user's language (keys ``<prefix>.<column>``)."""
    return frame.rename(columns={c: tr(f"{prefix}.{c}") for c in frame.columns})
