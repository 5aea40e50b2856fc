"""Renderers of the joint M&E dashboard (pages ``me_dashboard`` and ``me_interventions``)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd.i18n import format_number, format_percent
from mmicd.me import charts as me_charts
from mmicd.me import views
from mmicd.me.model import GmgStage, Indicator, InterventionStatus, sector_name
from mmicd.me.progress import (
    STATUS_COLOURS,
    STATUS_ORDER,
    STATUS_SYMBOLS,
    ProgressStatus,
    format_date,
    format_value,
    period_rule_text,
    rule_sentence,
    status_label,
)
from mmicd.me.repository import Portfolio, load_portfolio
from mmicd.store import Store
from mmicd.ui import current_lang, tr

TEXT_ON = {ProgressStatus.NO_DATA: "#000000", ProgressStatus.ON_TRACK: "#000000", ProgressStatus.AT_RISK: "#000000"}


def today() -> date:
    return date.today()


def portfolio(store: Store, country: str) -> Portfolio:
    """The country's portfolio (the illustrative demo is loaded at first start, mmicd.bootstrap)."""
    return load_portfolio(store, country)


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
    """CSV and Excel downloads of exactly the table shown."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(tr("me.download.csv"), frame.to_csv(index=False).encode("utf-8"), file_name=f"{name}.csv",
                         mime="text/csv", key=f"{key}_csv", icon=":material/download:")
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name=name[:31])
    right.download_button(tr("me.download.xlsx"), buffer.getvalue(), file_name=f"{name}.xlsx",
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


def _indicator_frame(table: pd.DataFrame) -> pd.DataFrame:
    lang = current_lang()
    units = table["unit"].tolist()
    return pd.DataFrame({
        tr("me.col.status"): [status_text(s) for s in table["status"]],
        tr("me.col.indicator"): table["indicator"],
        tr("me.col.explanation"): table["explanation"],
        tr("me.col.intervention"): table["intervention"],
        tr("me.col.level"): [tr(f"me.level.{v}") for v in table["level"]],
        tr("me.col.baseline"): [format_value(v, u, lang) for v, u in zip(table["baseline"], units, strict=True)],
        tr("me.col.current"): [format_value(v, u, lang) for v, u in zip(table["current"], units, strict=True)],
        tr("me.col.end_target"): [format_value(v, u, lang) for v, u in zip(table["end_target"], units, strict=True)],
        tr("me.col.linked"): [tr("me.linked_to", indicator=v) if v else "" for v in table["linked_to"]],
    })


def wide_columns(frame: pd.DataFrame, *keys: str) -> dict:
    """Column settings giving the long text columns room."""
    return {tr(k): st.column_config.TextColumn(width="large") for k in keys if tr(k) in frame.columns}


# ---- tabs of the dashboard ----------------------------------------------------------------------
def overview_tab(p: Portfolio, as_of: date) -> None:
    lang = current_lang()
    table = views.status_table(p, as_of, lang)
    counts = views.status_counts(table)
    planned = sum(i.budget_planned for i in p.interventions)
    disbursed = sum(i.budget_disbursed for i in p.interventions)
    currencies = sorted({i.currency for i in p.interventions})
    cols = st.columns(4)
    cols[0].metric(tr("me.kpi.interventions"), format_number(len(p.interventions), lang), border=True)
    cols[1].metric(tr("me.kpi.indicators"), format_number(len(p.indicators), lang), border=True)
    cols[2].metric(tr("me.kpi.planned", currency="/".join(currencies)), format_number(planned, lang), border=True)
    cols[3].metric(tr("me.kpi.disbursed"), format_percent(disbursed / planned * 100 if planned else None, lang),
                   border=True, help=tr("me.kpi.disbursed_help"))
    st.markdown(" · ".join(f"{status_text(s.value)}: **{counts[s.value]}**" for s in STATUS_ORDER))

    st.subheader(tr("me.matrix.title"))
    st.caption(tr("me.matrix.caption"))
    st.plotly_chart(me_charts.status_matrix(table, lang), width="stretch", key="me_matrix",
                    config={"displaylogo": False})
    shown = _indicator_frame(table)
    st.dataframe(styled(shown, tr("me.col.status")), hide_index=True, width="stretch",
                 column_config=wide_columns(shown, "me.col.indicator", "me.col.explanation"))
    downloads(shown, "me-indicator-status", "me_dl_status")

    st.subheader(tr("me.budget.title"))
    left, right = st.columns([1, 2])
    with left:
        st.plotly_chart(me_charts.status_donut(counts, lang), width="stretch", key="me_donut",
                        config={"displaylogo": False})
    dimension = right.radio(tr("me.budget.by"), ["status", "sector", "lead", "funder"], horizontal=True,
                            format_func=lambda d: tr(f"me.dimension.{d}"), key="me_budget_dim")
    frame = views.by_dimension(p, dimension, lang)
    labels = {s.value: tr(f"me.iv_status.{s.value}") for s in InterventionStatus} if dimension == "status" else {}
    with right:
        st.plotly_chart(me_charts.budget_bars(frame, lang, labels), width="stretch", key="me_budget",
                        config={"displaylogo": False})
    if dimension == "funder":
        st.caption(tr("me.budget.funder_note"))
    table_b = pd.DataFrame({
        tr(f"me.dimension.{dimension}"): [labels.get(k, k) for k in frame["key"]],
        tr("me.col.currency"): frame["currency"],
        tr("me.kpi.interventions"): frame["interventions"],
        tr("me.budget.planned"): frame["planned"],
        tr("me.budget.disbursed"): frame["disbursed"],
        tr("me.budget.disbursed_pct"): frame["disbursed_pct"],
    })
    formatted = table_b.copy()
    for key in ("me.budget.planned", "me.budget.disbursed"):
        formatted[tr(key)] = [format_number(v, lang) for v in table_b[tr(key)]]
    formatted[tr("me.budget.disbursed_pct")] = [format_percent(v, lang) for v in table_b[tr("me.budget.disbursed_pct")]]
    st.dataframe(formatted, hide_index=True, width="stretch")
    downloads(table_b, f"me-budget-by-{dimension}", "me_dl_budget")


def timeline_tab(p: Portfolio, as_of: date) -> None:
    lang = current_lang()
    rows = []
    for ind in p.indicators:
        iv = p.intervention(ind.intervention_id)
        for m in ind.path():
            rows.append({"intervention": iv.title, "indicator": ind.name, "due": m.due,
                         "target_text": format_value(m.target, ind.unit, lang)})
    milestones = pd.DataFrame(rows, columns=["intervention", "indicator", "due", "target_text"])
    ivs = sorted(p.interventions, key=lambda i: (i.start, i.id))
    labels = {s.value: tr(f"me.iv_status.{s.value}") for s in InterventionStatus}
    st.caption(tr("me.timeline.caption", today=format_date(as_of, lang)))
    st.plotly_chart(me_charts.gantt(ivs, milestones, as_of, lang, labels), width="stretch", key="me_gantt",
                    config={"displaylogo": False})
    shown = pd.DataFrame({
        tr("me.col.intervention"): [i.title for i in ivs],
        tr("me.col.lead"): [i.lead for i in ivs],
        tr("me.col.start"): [i.start.isoformat() for i in ivs],
        tr("me.col.end"): [i.end.isoformat() for i in ivs],
        tr("me.col.iv_status"): [labels[str(i.status)] for i in ivs],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, "me-timeline", "me_dl_timeline")


def trajectory_tab(p: Portfolio, as_of: date) -> None:
    lang = current_lang()
    if not p.indicators:
        st.info(tr("me.empty_selection"))
        return
    table = views.status_table(p, as_of, lang).set_index("indicator_id")
    ids = [i.id for i in p.indicators]
    chosen = st.selectbox(tr("me.trajectory.choose"), ids, key="me_traj_indicator",
                          format_func=lambda i: f"{table.at[i, 'intervention']} · {table.at[i, 'indicator']}")
    ind = p.indicator(chosen)
    show_indicator_status(ind, table.at[chosen, "status"], table.at[chosen, "explanation"])
    points = views.trajectory(ind, p.reports)
    st.plotly_chart(me_charts.trajectory_chart(ind, points, lang), width="stretch", key="me_traj_chart",
                    config={"displaylogo": False})
    if ind.link is not None:
        st.caption(tr("me.trajectory.linked_note", indicator=ind.link.indicator))
    shown = pd.DataFrame({
        tr("me.col.date"): points["date"].dt.date.astype(str),
        tr("me.col.series"): [tr(f"me.series.{s}") for s in points["series"]],
        tr("me.col.value"): [format_value(v, ind.unit, lang) for v in points["value"]],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, f"me-trajectory-{ind.id}", "me_dl_traj")


def show_indicator_status(ind: Indicator, status: str, explanation: str) -> None:
    st.markdown(f"**{status_text(status)}** — {explanation}")
    st.caption(period_rule_text(ind.period_rule, current_lang()))


def sex_tab(p: Portfolio) -> None:
    lang = current_lang()
    rows = views.results_by_sex(p, lang)
    if rows.empty:
        st.info(tr("me.sex.empty"))
        return
    st.caption(tr("me.sex.caption"))
    sex_labels = {c: codes.label("sex", c, lang) for c in ("F", "M", "_T")}
    for unit in ("number", "percentage"):
        part = rows.loc[rows["unit"] == unit]
        if part.empty:
            continue
        st.markdown(f"**{tr(f'me.unit.{unit}_plural')}**")
        st.plotly_chart(me_charts.sex_bars(part, lang, sex_labels, unit), width="stretch", key=f"me_sex_{unit}",
                        config={"displaylogo": False})
    wide = rows.pivot_table(index=["indicator_id", "indicator", "unit"], columns="sex", values="value",
                            aggfunc="first").reset_index()
    shares = views.female_share(rows).set_index("indicator_id")["female_share"]
    shown = pd.DataFrame({
        tr("me.col.indicator"): wide["indicator"],
        sex_labels["F"]: [format_value(v, u, lang) for v, u in zip(wide.get("F"), wide["unit"], strict=True)],
        sex_labels["M"]: [format_value(v, u, lang) for v, u in zip(wide.get("M"), wide["unit"], strict=True)],
        sex_labels["_T"]: [format_value(v, u, lang) for v, u in zip(wide.get("_T"), wide["unit"], strict=True)],
        tr("me.sex.female_share"): [format_percent(shares.get(i), lang) if i in shares.index else "–"
                                    for i in wide["indicator_id"]],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, "me-results-by-sex", "me_dl_sex")


def alerts_tab(p: Portfolio, as_of: date) -> None:
    lang = current_lang()
    frame = views.alerts(p, as_of, lang)
    counts = frame["alert"].value_counts().to_dict()
    cols = st.columns(4)
    for col, kind in zip(cols, ("off_track", "overdue", "no_data", "ending_soon"), strict=True):
        col.metric(tr(f"me.alert.{kind}"), format_number(counts.get(kind, 0), lang), border=True)
    if frame.empty:
        st.success(tr("me.alert.none"))
        return
    detail = [format_date(date.fromisoformat(d), lang) if k == "ending_soon" else d
              for k, d in zip(frame["alert"], frame["detail"], strict=True)]
    shown = pd.DataFrame({
        tr("me.col.alert"): [tr(f"me.alert.{k}") for k in frame["alert"]],
        tr("me.col.explanation"): [tr("me.alert.ends_on", date=d) if k == "ending_soon" else d
                                   for k, d in zip(frame["alert"], detail, strict=True)],
        tr("me.col.indicator"): frame["indicator"],
        tr("me.col.intervention"): frame["intervention"],
    })
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config=wide_columns(shown, "me.col.explanation"))
    downloads(shown, "me-alerts", "me_dl_alerts")


def stages_tab(p: Portfolio, country: str) -> None:
    lang = current_lang()
    stages = views.stage_table(p, country)
    st.caption(tr("me.stages.caption"))
    st.plotly_chart(me_charts.stage_chart(stages, lang), width="stretch", key="me_stages_chart",
                    config={"displaylogo": False, "staticPlot": True})
    shown = pd.DataFrame({
        tr("me.col.stage"): [f"{k + 1}. {tr(f'me.stage.{s}')}" for k, s in enumerate(stages["stage"])],
        tr("me.col.stage_status"): [tr(f"me.stage_status.{s}") for s in stages["status"]],
        tr("me.col.start"): [format_date(d, lang) if d else "–" for d in stages["start"]],
        tr("me.col.end"): [format_date(d, lang) if d else "–" for d in stages["end"]],
        tr("me.col.evidence"): stages["evidence"],
    })
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, "me-gmg-stages", "me_dl_stages")
    ivs = pd.Series([str(i.gmg_stage) for i in p.interventions]).value_counts()
    st.caption(tr("me.stages.interventions") + " " + " · ".join(
        f"{tr(f'me.stage.{s.value}')}: {int(ivs.get(s.value, 0))}" for s in GmgStage))


# ---- interventions page ------------------------------------------------------------------------
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
        tr("me.budget.planned"): [format_number(i.budget_planned, lang) + f" {i.currency}" for i in ivs],
        tr("me.budget.disbursed"): [format_number(i.budget_disbursed, lang) + f" {i.currency}" for i in ivs],
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
    st.subheader(iv.title)
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
        tr("me.budget.planned"): f"{format_number(iv.budget_planned, lang)} {iv.currency}",
        tr("me.budget.disbursed"): f"{format_number(iv.budget_disbursed, lang)} {iv.currency}",
        tr("me.col.iv_status"): tr(f"me.iv_status.{iv.status}"),
    }
    st.table(pd.DataFrame({tr("me.detail.field"): list(fields), tr("me.col.value"): list(fields.values())}))

    st.markdown(f"**{tr('me.detail.framework')}**")
    table = views.status_table(Portfolio([iv], p.indicators_of(iv.id), p.reports), as_of, lang)
    for ind, row in zip(p.indicators_of(iv.id), table.itertuples(), strict=True):
        with st.container(border=True):
            st.markdown(f"**{tr(f'me.level.{ind.level}')} · {ind.name}**")
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
            st.caption(" · ".join(facts))
            reports = p.reports_of(ind.id)
            if reports:
                st.dataframe(reports_frame(reports, ind), hide_index=True, width="stretch")
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
    data[tr("me.xl.col.state")] = [tr(f"me.report_state.{r.state}") for r in reports]
    data[tr("me.xl.col.acted_by")] = [r.acted_by for r in reports]
    data[tr("me.xl.col.acted_at")] = [r.acted_at.strftime("%Y-%m-%d") if r.acted_at else "" for r in reports]
    data[tr("me.xl.col.comment")] = [r.comment for r in reports]
    data[tr("me.xl.col.justification")] = [r.justification for r in reports]
    return pd.DataFrame(data)


def exports(p: Portfolio, country: str) -> None:
    """Full Excel export (the template layout), the empty template, and the IATI 2.03 XML."""
    from mmicd.me.iati import iati_xml
    from mmicd.me.workbook import export_workbook

    lang = current_lang()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cols = st.columns(3)
    cols[0].download_button(tr("me.export.xlsx"), export_workbook(p, lang), file_name=f"me-portfolio-{country}.xlsx",
                            mime=xlsx, key="me_export_xlsx", icon=":material/table:")
    cols[1].download_button(tr("me.export.template"), export_workbook(Portfolio(), lang),
                            file_name=f"me-template-{lang}.xlsx", mime=xlsx, key="me_export_template",
                            icon=":material/draft:")
    cols[2].download_button(tr("me.export.iati"), iati_xml(p, lang=lang), file_name=f"me-iati-{country}.xml",
                            mime="application/xml", key="me_export_iati", icon=":material/code:")
    st.caption(tr("me.export.caption"))


def issues_frame(issues: list) -> pd.DataFrame:
    return pd.DataFrame({
        tr("me.issue.level"): [tr(f"me.issue.level.{i.level}") for i in issues],
        tr("me.issue.sheet"): [i.sheet or "" for i in issues],
        tr("me.issue.row"): [str(i.row) if i.row else "" for i in issues],
        tr("me.issue.column"): [i.column or "" for i in issues],
        tr("me.issue.value"): [i.value or "" for i in issues],
        tr("me.issue.message"): [i.message for i in issues],
    })


def importer(store: Store, user) -> None:
    """Upload a filled template: dry run with every problem listed, then store it in one transaction."""
    from mmicd.auth import Action, can, require
    from mmicd.me.workbook import import_workbook

    if not can(user, Action.EDIT_TARGETS):
        st.caption(tr("me.import.need_role"))
        return
    upload = st.file_uploader(tr("me.import.upload"), type=["xlsx"], key="me_import_file")
    if upload is None:
        return
    data = upload.getvalue()
    lang = current_lang()
    check = import_workbook(store, data, actor=user.label, lang=lang, file=upload.name, dry_run=True)
    errors = [i for i in check.issues if i.level == "error"]
    st.markdown(tr("me.import.counts", **{k: format_number(v, lang) for k, v in check.counts.items()}))
    if check.issues:
        st.dataframe(issues_frame(check.issues), hide_index=True, width="stretch",
                     column_config=wide_columns(issues_frame(check.issues[:1]), "me.issue.message"))
    if errors:
        st.error(tr("me.import.refused", n=format_number(len(errors), lang)))
        return
    if st.button(tr("me.import.store"), type="primary", key="me_import_store"):
        require(user, Action.EDIT_TARGETS)
        done = import_workbook(store, data, actor=user.label, lang=lang, file=upload.name, dry_run=False)
        if done.stored:
            st.success(tr("me.import.stored"))
        else:
            st.error(tr("me.import.refused", n=format_number(len(done.issues), lang)))
            st.dataframe(issues_frame(done.issues), hide_index=True, width="stretch")


def review_reports(store: Store, p: Portfolio, intervention_id: str, user) -> None:
    """Reviewers approve submitted reports of the intervention, or return them with a note."""
    from mmicd.auth import Action, can, require
    from mmicd.me.repository import MeError, set_report_state

    flash = st.session_state.pop("_me_review_flash", None)
    if flash:
        st.success(tr(flash))
    pending = [r for ind in p.indicators_of(intervention_id) for r in p.reports_of(ind.id)
               if r.state == "submitted"]
    if not pending:
        return
    st.markdown(f"**{tr('me.review.title')}**")
    if not can(user, Action.REVIEW):
        st.caption(tr("me.review.need_role", n=len(pending)))
        return
    lang = current_lang()
    names = {i.id: i.name for i in p.indicators}
    chosen = st.selectbox(tr("me.review.report"), [r.id for r in pending], key="me_review_report",
                          format_func=lambda rid: next(
                              f"{names[r.indicator_id]} · {format_date(r.period_start, lang)} – "
                              f"{format_date(r.period_end, lang)}" for r in pending if r.id == rid))
    note = st.text_input(tr("me.review.note"), key="me_review_note")
    left, right, _ = st.columns([1, 1, 3])
    approve = left.button(tr("me.review.approve"), type="primary", key="me_review_approve")
    send_back = right.button(tr("me.review.return"), key="me_review_return")
    if approve or send_back:
        require(user, Action.REVIEW)
        if send_back and not note.strip():
            st.error(tr("me.error.note_required", id=chosen))
            return
        try:
            set_report_state(store, chosen, "approved" if approve else "returned", actor=user.label, note=note)
        except MeError as err:
            st.error(tr(err.key, **err.fields))
            return
        st.session_state["_me_review_flash"] = "me.review.done_approved" if approve else "me.review.done_returned"
        st.rerun()  # the statuses above now count the approved report
