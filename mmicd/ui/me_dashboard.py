"""Tabs of the M&E dashboard page: overview, timeline, trajectory, results by sex, alerts, GMG stages."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd.i18n import format_number, format_percent
from mmicd.me import charts as me_charts
from mmicd.me import views
from mmicd.me.model import GmgStage, InterventionStatus
from mmicd.me.progress import (
    STATUS_ORDER,
    format_date,
    format_value,
)
from mmicd.me.repository import Portfolio
from mmicd.ui import current_lang, tr
from mmicd.ui.me_common import downloads, show_indicator_status, status_text, styled, wide_columns


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
