"""The Interventions page: the register, one intervention in detail, and the exports."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd.i18n import format_currency
from mmicd.me import views
from mmicd.me.config import me_config
from mmicd.me.model import Indicator, sector_name
from mmicd.me.progress import (
    STATUS_ORDER,
    STATUS_SYMBOLS,
    format_date,
    format_value,
    statistic_text,
)
from mmicd.me.repository import Portfolio
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain
from mmicd.ui.me_common import downloads, show_indicator_status, wide_columns


def register(p: Portfolio, as_of: date) -> None:
    """The register of interventions, with the statuses of their indicators."""
    lang = current_lang()
    table = views.status_table(p, as_of, lang)
    summary = table.groupby("intervention_id")["status"].apply(list).to_dict() if not table.empty else {}

    def statuses(iv_id: str) -> str:
        found = summary.get(iv_id, [])
        return "  ".join(f"{STATUS_SYMBOLS[s]} {found.count(s.value)}" for s in STATUS_ORDER if s.value in found)

    ivs = sorted(p.interventions, key=lambda i: i.id)
    shown = pd.DataFrame({
        tr("me.xl.col.id"): [i.id for i in ivs],
        tr("me.col.intervention"): [i.title for i in ivs],
        tr("me.filter.sector"): [sector_name(i.sector, lang) for i in ivs],
        tr("me.col.lead"): [i.lead for i in ivs],
        tr("me.filter.funder"): ["; ".join(i.funders) for i in ivs],
        tr("me.col.iv_status"): [tr(f"me.iv_status.{i.status}") for i in ivs],
        tr("me.col.start"): [i.start.isoformat() for i in ivs],
        tr("me.col.end"): [i.end.isoformat() for i in ivs],
        tr("me.budget.planned"): [format_currency(i.budget_planned, i.currency, lang, 0) for i in ivs],
        tr("me.budget.disbursed"): [format_currency(i.budget_disbursed, i.currency, lang, 0) for i in ivs],
        tr("me.register.indicator_statuses"): [statuses(i.id) for i in ivs],
    })
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config=wide_columns(shown, "me.col.intervention"))
    downloads(shown, "me-interventions", "me_dl_register")


def detail(p: Portfolio, as_of: date) -> str:
    """One intervention: its fields, results framework with statuses, reports and target changes."""
    lang = current_lang()
    ivs = sorted(p.interventions, key=lambda i: i.id)
    chosen = st.selectbox(tr("me.detail.choose"), [i.id for i in ivs], key="me_detail_iv",
                          format_func=lambda i: f"{i} · {p.intervention(i).title}")
    iv = p.intervention(chosen)
    st.subheader(plain(iv.title))
    if iv.illustrative:
        st.caption(tr("me.detail.illustrative"))
    fields = {
        tr("me.xl.col.description"): iv.description,
        tr("me.filter.sector"): sector_name(iv.sector, lang),
        tr("me.col.lead"): iv.lead,
        tr("me.xl.col.partners"): "; ".join(iv.partners),
        tr("me.xl.col.funders"): "; ".join(iv.funders),
        tr("me.xl.col.ndp_goal"): iv.ndp_goal,
        tr("me.xl.col.sdg_targets"): "; ".join(iv.sdg_targets),
        tr("me.xl.col.gmg_stage"): tr(f"me.stage.{iv.gmg_stage}"),
        tr("me.xl.col.geographic_scope"): iv.geographic_scope,
        tr("me.col.start"): format_date(iv.start, lang),
        tr("me.col.end"): format_date(iv.end, lang),
        tr("me.budget.planned"): format_currency(iv.budget_planned, iv.currency, lang, 0),
        tr("me.budget.disbursed"): format_currency(iv.budget_disbursed, iv.currency, lang, 0),
        tr("me.col.iv_status"): tr(f"me.iv_status.{iv.status}"),
    }
    st.table(pd.DataFrame({tr("me.detail.field"): list(fields), tr("me.col.value"): [plain(v) for v in fields.values()]}))

    st.markdown(f"**{tr('me.detail.framework')}**")
    table = views.status_table(Portfolio([iv], p.indicators_of(iv.id), p.reports, statistics=p.statistics), as_of,
                               lang)
    for ind, row in zip(p.indicators_of(iv.id), table.itertuples(), strict=True):
        with st.container(border=True):
            st.markdown(f"**{tr(f'me.level.{ind.level}')} · {plain(ind.name)}**")
            show_indicator_status(ind, row.status, row.explanation)
            facts = [
                tr("me.detail.baseline", value=format_value(ind.baseline_value, ind.unit, lang),
                   date=format_date(ind.baseline_date, lang)),
                tr("me.detail.end_target", value=format_value(ind.end_target, ind.unit, lang),
                   date=format_date(ind.end_date, lang)),
                tr("me.detail.milestones", list=", ".join(
                    f"{format_value(m.target, ind.unit, lang)} ({format_date(m.due, lang)})" for m in ind.milestones)
                   or "–"),
                tr("me.detail.source", source=ind.data_source or "–", frequency=tr(f"me.frequency.{ind.frequency}"),
                   responsible=ind.responsible or "–"),
            ]
            if ind.link is not None:
                selection = ", ".join(f"{k}={v}" for k, v in ind.link.selection.items())
                facts.append(tr("me.linked_to", indicator=ind.link.indicator) + (f" ({selection})" if selection
                                                                                  else ""))
            st.caption(plain(" · ".join(facts)))  # user text (sources, names) shown as typed
            reports = p.reports_of(ind.id)
            if reports:
                st.dataframe(reports_frame(reports, ind), hide_index=True, width="stretch")
            figures = p.statistics.get(ind.id, [])
            if ind.link is not None and figures:
                st.caption(tr("me.stat.table_caption"))
                st.dataframe(statistics_frame(figures, ind), hide_index=True, width="stretch")
    history = [c for c in p.changes if p.indicator(c.indicator_id) and p.indicator(c.indicator_id).intervention_id
               == iv.id]
    st.markdown(f"**{tr('me.detail.changes')}**")
    if not history:
        st.caption(tr("me.detail.no_changes"))
    else:
        st.dataframe(pd.DataFrame({
            tr("me.col.indicator"): [c.indicator_id for c in history],
            tr("me.detail.changed_field"): [c.field for c in history],
            tr("me.detail.old"): [str(c.old) for c in history],
            tr("me.detail.new"): [str(c.new) for c in history],
            tr("me.detail.reason"): [c.reason for c in history],
            tr("me.detail.who"): [c.actor for c in history],
            tr("me.detail.when"): [c.at.strftime("%Y-%m-%d %H:%M") for c in history],
        }), hide_index=True, width="stretch")
    return iv.id


def statistics_frame(figures: list, ind: Indicator) -> pd.DataFrame:
    """A linked indicator's published figures: period, value with 95% CI and flag, provenance."""
    lang = current_lang()
    return pd.DataFrame({
        tr("me.col.period"): [a.time_period for a in figures],
        tr("me.col.value"): [statistic_text(a, ind.unit, lang) for a in figures],
        tr("me.col.obs_status"): [codes.label("obs_status", a.obs_status, lang) for a in figures],
        tr("me.col.source"): [a.source for a in figures],
        tr("me.col.edition"): [a.edition for a in figures],
        tr("me.col.dataset"): [a.dataset_id for a in figures],
        tr("me.col.actuals_from"): [tr("me.stat.national")] * len(figures),
    })


def reports_frame(reports: list, ind: Indicator) -> pd.DataFrame:
    lang = current_lang()
    sexes = ("F", "M", "_U")
    data = {
        tr("me.xl.col.period_start"): [r.period_start.isoformat() for r in reports],
        tr("me.xl.col.period_end"): [r.period_end.isoformat() for r in reports],
        tr("me.col.value"): [format_value(r.total(ind.unit), ind.unit, lang) for r in reports],
    }
    for sex in sexes:
        values = []
        for r in reports:
            part = next((b for b in r.breakdown if b.sex == sex and b.age == "_T"), None)
            if part is None:
                values.append("")
            elif ind.unit == "percentage":
                values.append(format_value(part.numerator / part.denominator * 100 if part.denominator else None,
                                           ind.unit, lang))
            else:
                values.append(format_value(part.value, ind.unit, lang))
        if any(values):
            data[codes.label("sex", sex, lang)] = values
    for age in me_config().age_groups:
        values = [_part_text(next((b for b in r.breakdown if b.age == age and b.sex == "_T"), None), ind)
                  for r in reports]
        if any(values):
            data[codes.label("age", age, lang)] = values
    data[tr("me.xl.col.state")] = [tr(f"me.report_state.{r.state}") for r in reports]
    data[tr("me.xl.col.acted_by")] = [r.acted_by for r in reports]
    data[tr("me.xl.col.acted_at")] = [r.acted_at.strftime("%Y-%m-%d") if r.acted_at else "" for r in reports]
    data[tr("me.xl.col.comment")] = [r.comment for r in reports]
    data[tr("me.xl.col.justification")] = [r.justification for r in reports]
    return pd.DataFrame(data)


def _part_text(part, ind: Indicator) -> str:
    if part is None:
        return ""
    lang = current_lang()
    if ind.unit == "percentage":
        return format_value(part.numerator / part.denominator * 100 if part.denominator else None, ind.unit, lang)
    return format_value(part.value, ind.unit, lang)


def exports(p: Portfolio, country: str) -> None:
    """Full Excel export (the template layout), the empty template, and the IATI 2.03 XML."""
    from mmicd.me.iati import IatiError, iati_xml
    from mmicd.me.workbook_write import export_workbook

    lang = current_lang()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cols = st.columns(3)
    cols[0].download_button(tr("me.export.xlsx"), export_workbook(p, lang), file_name=f"me-portfolio-{country}.xlsx",
                            mime=xlsx, key="me_export_xlsx", icon=":material/table:")
    cols[1].download_button(tr("me.export.template"), export_workbook(Portfolio(), lang),
                            file_name=f"me-template-{lang}.xlsx", mime=xlsx, key="me_export_template",
                            icon=":material/draft:")
    try:
        iati = iati_xml(p)
    except IatiError as err:  # the message names what is wrong (reporting organisation, language, status)
        cols[2].error(err.message(lang))
    else:
        cols[2].download_button(tr("me.export.iati"), iati, file_name=f"me-iati-{country}.xml",
                                mime="application/xml", key="me_export_iati", icon=":material/code:")
    st.caption(tr("me.export.caption"))
