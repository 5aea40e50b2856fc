"""The reporting status page: national data / baseline only / none by indicator and year for the
chosen country (with counts across countries for the chosen year), and the M&E reports on time,
late or missing per period (:mod:`mmicd.reporting`). Colours always come with a symbol and a text
legend; each table downloads as CSV (:mod:`mmicd.safe_export`)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from mmicd import codes, reporting
from mmicd.engine.catalogue import catalogue
from mmicd.i18n import format_month
from mmicd.reporting import (
    DATA_COLOURS,
    DATA_SYMBOLS,
    REPORT_COLOURS,
    REPORT_SYMBOLS,
    DataStatus,
    ReportStatus,
)
from mmicd.safe_export import to_csv
from mmicd.ui import _store, filters, tr
from mmicd.ui.inbox import last_change

YEARS_SHOWN = 15  # the grid's last years, this one included
ROW_PX = 35


@st.cache_data(ttl=3600, max_entries=4, show_spinner=False)
def _data_status(url: str, published: tuple[int, ...], years: tuple[str, ...]) -> pd.DataFrame:
    s = _store(url)
    versions = [v for v in s.datasets() if v.id in published]
    return reporting.data_status(catalogue(), versions, reporting.coverage(s, versions), codes.country_codes(),
                                 list(years))


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _report_status(url: str, country: str, today: date, last_change: int | None) -> pd.DataFrame:
    from mmicd.me.repository import load_portfolio

    return reporting.report_status(load_portfolio(_store(url), country), today)


def _grid(frame: pd.DataFrame, columns: str, labels: dict[str, str], symbols: dict, colours: dict):
    """Show a compact grid of symbols, one row per indicator (named by ``labels``), each cell coloured
    by its status."""
    grid = frame.pivot(index="indicator", columns=columns, values="status")
    grid = grid.set_axis(grid.index.map(labels), axis=0).rename_axis(index=tr("reporting.col.row"), columns=None)
    by_value = {status.value: symbol for status, symbol in symbols.items()}
    by_symbol = {symbols[status]: colours[status] for status in symbols}
    shown = grid.map(lambda value: by_value.get(value, ""))
    styled = shown.style.map(lambda v: f"background-color: {by_symbol[v]}; color: #000; text-align: center"
                             if v in by_symbol else "")
    st.dataframe(styled, width="stretch", height=ROW_PX * (len(grid) + 1) + 3)


def _counts(counts: dict[str, int], kind: str, symbols: dict) -> None:
    for column, status in zip(st.columns(len(symbols)), symbols, strict=True):
        column.metric(f"{symbols[status]} {tr(f'reporting.{kind}.{status.value}')}", counts[status.value])


def data_section(s, country: str, year: str | None, lang: str) -> None:
    st.subheader(tr("reporting.data.title", country=codes.area_name(country, lang)))
    st.caption(tr("reporting.data.rule"))
    this_year = date.today().year
    years = tuple(str(y) for y in range(this_year - YEARS_SHOWN + 1, this_year + 1))
    table = _data_status(s.url, s.published_ids(), years)
    mine = table[table["country"] == country]
    if (mine["status"] == DataStatus.NONE).all():
        st.info(tr("reporting.data.nothing"))
        return
    _counts(reporting.counts(mine, DataStatus), "data", DATA_SYMBOLS)
    st.caption(reporting.legend(DATA_SYMBOLS, "data", lang))
    names = {i.id: i.name.get(lang) for i in catalogue().values()}
    _grid(mine, "year", names, DATA_SYMBOLS, DATA_COLOURS)
    named = mine.assign(indicator=mine["indicator"].map(names))
    out = named.assign(status=named["status"].map(lambda v: tr(f"reporting.data.{v}")))
    st.download_button(tr("reporting.download"), to_csv(out).encode("utf-8"),
                       file_name=f"reporting-status-{country}.csv", mime="text/csv", key="reporting_data_csv")
    if year:
        st.subheader(tr("reporting.across.title", year=year))
        one = table[table["year"] == year]
        across = one.pivot_table(index="indicator", columns="status", values="country", aggfunc="count",
                                 fill_value=0).reindex(columns=[s.value for s in DataStatus], fill_value=0)
        across.index = across.index.map(names)
        across.columns = [f"{DATA_SYMBOLS[DataStatus(c)]} {tr(f'reporting.data.{c}')}" for c in across.columns]
        st.dataframe(across.rename_axis(tr("reporting.col.row")), width="stretch",
                     height=ROW_PX * (len(across) + 1) + 3)


def report_section(s, country: str, lang: str) -> None:
    st.subheader(tr("reporting.me.title", country=codes.area_name(country, lang)))
    st.caption(tr("reporting.me.rule"))
    table = _report_status(s.url, country, date.today(), last_change(s))
    if table.empty:
        st.info(tr("reporting.me.nothing"))
        return
    _counts(reporting.counts(table, ReportStatus), "me", REPORT_SYMBOLS)
    st.caption(reporting.legend(REPORT_SYMBOLS, "me", lang))
    labels = dict(zip(table["indicator"], table["intervention"] + " · " + table["name"], strict=True))
    _grid(table.assign(period=table["period_end"].map(lambda d: d.strftime("%Y-%m"))), "period", labels,
          REPORT_SYMBOLS, REPORT_COLOURS)
    out = table.assign(status=table["status"].map(lambda v: tr(f"reporting.me.{v}")),
                       period_end=table["period_end"].map(lambda d: format_month(d, lang)))
    st.download_button(tr("reporting.download"), to_csv(out).encode("utf-8"),
                       file_name=f"reporting-me-{country}.csv", mime="text/csv", key="reporting_me_csv")


def page(s) -> None:
    f = filters()
    st.title(tr("reporting.title"))
    st.caption(tr("reporting.caption"))
    data_tab, me_tab = st.tabs([tr("reporting.tab.data"), tr("reporting.tab.me")])
    with data_tab:
        data_section(s, f.country, f.year, f.lang)
    with me_tab:
        report_section(s, f.country, f.lang)
