"""Pieces shared by the M&E pages: the portfolio, status labels and colours, filters, downloads."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from mmicd.me import views
from mmicd.me.linked import linked_statistics
from mmicd.me.model import Indicator, sector_name
from mmicd.me.progress import (
    STATUS_COLOURS,
    STATUS_SYMBOLS,
    ProgressStatus,
    period_rule_text,
    rule_sentence,
    status_label,
)
from mmicd.me.repository import Portfolio, load_portfolio
from mmicd.safe_export import to_csv, xlsx_bytes
from mmicd.store import Store
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain

TEXT_ON = {ProgressStatus.NO_DATA: "#000000", ProgressStatus.ON_TRACK: "#000000", ProgressStatus.AT_RISK: "#000000"}


def today() -> date:
    return date.today()


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _statistics(url: str, published: tuple[int, ...], country: str, links: tuple) -> dict[str, list]:
    """Linked indicators' actuals, cached by the published dataset versions and the links (a new
    published version, or a changed link, computes them afresh)."""
    from mmicd.ui import _store

    return linked_statistics(_store(url), load_portfolio(_store(url), country))


def portfolio(store: Store, country: str) -> Portfolio:
    """The country's portfolio (the illustrative demo is loaded at first start, mmicd.bootstrap), with
    the actuals of its linked indicators from the published statistics."""
    p = load_portfolio(store, country)
    links = tuple(sorted((i.id, i.intervention_id, i.link.indicator, tuple(sorted(i.link.selection.items())))
                         for i in p.indicators if i.link is not None))
    if links:
        p.statistics = _statistics(store.url, store.published_ids(), country, links)
    return p


def status_text(status: str) -> str:
    return f"{STATUS_SYMBOLS[ProgressStatus(status)]} {status_label(status, current_lang())}"


def _style_status(value: str) -> str:
    for status in ProgressStatus:
        if value == status_text(status.value):
            colour = STATUS_COLOURS[status]
            text = TEXT_ON.get(status, "#FFFFFF")
            return f"background-color: {colour}; color: {text}"
    return ""


def styled(frame: pd.DataFrame, status_column: str | None):
    if status_column is None or status_column not in frame.columns:
        return frame
    return frame.style.map(_style_status, subset=[status_column])


def downloads(frame: pd.DataFrame, name: str, key: str) -> None:
    """CSV and Excel downloads of exactly the table shown (text never run as a formula)."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(tr("me.download.csv"), to_csv(frame).encode("utf-8"), file_name=f"{name}.csv",
                         mime="text/csv", key=f"{key}_csv", icon=":material/download:")
    right.download_button(tr("me.download.xlsx"), xlsx_bytes(frame, name), file_name=f"{name}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          key=f"{key}_xlsx", icon=":material/download:")


def illustrative_banner(p: Portfolio) -> None:
    if any(i.illustrative for i in p.interventions):
        st.warning(tr("me.illustrative_banner"), icon=":material/science:")


def filter_bar(p: Portfolio, key: str) -> views.Selection:
    lang = current_lang()
    opts = views.options(p)
    cols = st.columns(5)
    sectors = cols[0].multiselect(tr("me.filter.sector"), opts.sectors, format_func=lambda c: sector_name(c, lang),
                                  key=f"{key}_sector", placeholder=tr("me.filter.all"))
    leads = cols[1].multiselect(tr("me.filter.lead"), opts.leads, key=f"{key}_lead", placeholder=tr("me.filter.all"))
    funders = cols[2].multiselect(tr("me.filter.funder"), opts.funders, key=f"{key}_funder",
                                  placeholder=tr("me.filter.all"))
    statuses = cols[3].multiselect(tr("me.filter.status"), opts.statuses, format_func=lambda s: tr(f"me.iv_status.{s}"),
                                   key=f"{key}_status", placeholder=tr("me.filter.all"))
    sdgs = cols[4].multiselect(tr("me.filter.sdg"), opts.sdg_targets, key=f"{key}_sdg", placeholder=tr("me.filter.all"))
    return views.Selection(tuple(sectors), tuple(leads), tuple(funders), tuple(statuses), tuple(sdgs))


def rule() -> None:
    st.caption(tr("me.rule_label") + " " + rule_sentence(current_lang()))


def wide_columns(frame: pd.DataFrame, *keys: str) -> dict:
    """Column settings giving the long text columns room."""
    return {tr(k): st.column_config.TextColumn(width="large") for k in keys if tr(k) in frame.columns}


def show_indicator_status(ind: Indicator, status: str, explanation: str) -> None:
    st.markdown(f"**{status_text(status)}** — {plain(explanation)}")
    st.caption(period_rule_text(ind.period_rule, current_lang()))


def issues_frame(issues: list) -> pd.DataFrame:
    return pd.DataFrame({
        tr("me.issue.level"): [tr(f"me.issue.level.{i.level}") for i in issues],
        tr("me.issue.sheet"): [i.sheet or "" for i in issues],
        tr("me.issue.row"): [str(i.row) if i.row else "" for i in issues],
        tr("me.issue.column"): [i.column or "" for i in issues],
        tr("me.issue.value"): [i.value or "" for i in issues],
        tr("me.issue.message"): [i.message for i in issues],
    })
