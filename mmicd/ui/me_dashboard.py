"""Tabs of the M&E dashboard page: overview, timeline, trajectory, results by sex, alerts, GMG stages."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import streamlit as st

from mmicd import codes
from mmicd.i18n import format_number, format_percent
from mmicd.me import charts as me_charts
from mmicd.me import views
from mmicd.me.config import me_config
from mmicd.me.model import GmgStage, InterventionStatus
from mmicd.me.progress import (
    STATUS_ORDER,
    format_date,
    format_value,
    statistic_text,
)
from mmicd.me.repository import Portfolio
from mmicd.ui import current_lang, tr
from mmicd.ui.components import plain
from mmicd.ui.me_common import downloads, show_indicator_status, status_text, styled, wide_columns


def statistics_note(row) -> str:
    """Where a linked indicator's actual comes from ("from national statistics: source, edition, ..."),
    or that it is linked but has no published figure yet."""
    if not row.linked_to:
        return ""
    if not row.from_statistics:
        return tr("me.linked_to", indicator=row.linked_to)
    return tr("me.stat.from", indicator=row.linked_to, source=row.source, edition=row.edition,
              period=row.time_period, dataset=row.dataset_id)


def current_text(row, lang: str) -> str:
    """The current value; a figure from the statistics with its 95% CI and flag."""
    if row.from_statistics:
        return statistic_text(SimpleNamespace(value=row.current, ci_lower=_none(row.ci_lower),
                                              ci_upper=_none(row.ci_upper), obs_status=row.obs_status),
                              row.unit, lang)
    return format_value(row.current, row.unit, lang)


def _none(value):
    return None if value is None or pd.isna(value) else float(value)


def _indicator_frame(table: pd.DataFrame) -> pd.DataFrame:
    lang = current_lang()
    units = table["unit"].tolist()
    rows = list(table.itertuples())
    return pd.DataFrame({
        tr("me.col.status"): [status_text(s) for s in table["status"]],
        tr("me.col.indicator"): table["indicator"],
        tr("me.col.explanation"): table["explanation"],
        tr("me.col.intervention"): table["intervention"],
        tr("me.col.level"): [tr(f"me.level.{v}") for v in table["level"]],
        tr("me.col.baseline"): [format_value(v, u, lang) for v, u in zip(table["baseline"], units, strict=True)],
        tr("me.col.current"): [current_text(r, lang) for r in rows],
        tr("me.col.end_target"): [format_value(v, u, lang) for v, u in zip(table["end_target"], units, strict=True)],
        tr("me.col.linked"): [statistics_note(r) for r in rows],
    })


def overview_tab(p: Portfolio, as_of: date) -> None:
    lang = current_lang()
    table = views.status_table(p, as_of, lang)
    counts = views.status_counts(table)
    totals = views.budget_totals(p)  # one row per currency: amounts in two currencies are never added
    cols = st.columns(4)
    cols[0].metric(tr("me.kpi.interventions"), format_number(len(p.interventions), lang), border=True)
    cols[1].metric(tr("me.kpi.indicators"), format_number(len(p.indicators), lang), border=True)
    for n, total in enumerate(totals.itertuples()):  # a row of its own for each further currency
        row = cols if n == 0 else st.columns(4)
        disbursed = tr("me.kpi.disbursed_in", currency=plain(total.currency)) if len(totals) > 1 else \
            tr("me.kpi.disbursed")
        row[2].metric(tr("me.kpi.planned", currency=plain(total.currency)), format_number(total.planned, lang),
                      border=True)
        row[3].metric(disbursed, format_percent(total.disbursed_pct, lang), border=True,
                      help=tr("me.kpi.disbursed_help"))
    if len(totals) > 1:
        st.caption(tr("me.budget.currencies_apart", currencies=plain(", ".join(totals["currency"]))))
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
        for currency in frame["currency"].drop_duplicates():  # one chart per currency: one axis, one unit
            st.plotly_chart(me_charts.budget_bars(frame[frame["currency"] == currency], lang, labels, currency),
                            width="stretch", key=f"me_budget_{currency}", config={"displaylogo": False})
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
    points = views.trajectory(ind, p.reports, statistics=p.statistics.get(ind.id)).sort_values(
        "date", kind="stable").reset_index(drop=True)
    st.plotly_chart(me_charts.trajectory_chart(ind, points, lang), width="stretch", key="me_traj_chart",
                    config={"displaylogo": False})
    if ind.link is not None:
        st.caption(tr("me.trajectory.linked_note", indicator=plain(ind.link.indicator)))
    shown = pd.DataFrame({
        tr("me.col.date"): points["date"].dt.date.astype(str),
        tr("me.col.series"): [tr(f"me.series.{s}") for s in points["series"]],
        tr("me.col.value"): [
            statistic_text(SimpleNamespace(value=_none(r.value), ci_lower=_none(r.ci_lower), ci_upper=_none(r.ci_upper),
                                           obs_status=r.obs_status), ind.unit, lang)
            if r.series == "statistics" else format_value(r.value, ind.unit, lang) for r in points.itertuples()],
    })
    if ind.link is not None:
        shown[tr("me.col.source")] = [f"{r.source}, {r.edition} ({r.time_period})" if r.series == "statistics"
                                      else "" for r in points.itertuples()]
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, f"me-trajectory-{ind.id}", "me_dl_traj")


def sex_tab(p: Portfolio) -> None:
    """Results by sex, then results by age group (every indicator with such a breakdown)."""
    lang = current_lang()
    rows = views.results_by_sex(p, lang)
    st.subheader(tr("me.sex.title"))
    if rows.empty:
        st.info(tr("me.sex.empty"))
    else:
        st.caption(tr("me.sex.caption"))
        labels = {c: codes.label("sex", c, lang) for c in ("F", "M", "_T")}
        _breakdown(rows, "sex", labels, "me_sex")
        shares = views.female_share(rows).set_index("indicator_id")["female_share"]
        shown = _breakdown_table(rows, "sex", labels)
        shown[tr("me.sex.female_share")] = [format_percent(shares.get(i), lang) if i in shares.index else "–"
                                            for i in _wide(rows, "sex")["indicator_id"]]
        st.dataframe(shown, hide_index=True, width="stretch")
        downloads(shown, "me-results-by-sex", "me_dl_sex")
    age_tab(p)


def age_tab(p: Portfolio) -> None:
    lang = current_lang()
    rows = views.results_by_age(p, lang)
    st.subheader(tr("me.age.title"))
    if rows.empty:
        st.info(tr("me.age.empty"))
        return
    st.caption(tr("me.age.caption"))
    groups = [g for g in me_config().age_groups if g in set(rows["age"])]
    labels = {g: codes.label("age", g, lang) for g in [*groups, "_T"]}
    _breakdown(rows, "age", labels, "me_age")
    shown = _breakdown_table(rows, "age", labels)
    st.dataframe(shown, hide_index=True, width="stretch")
    downloads(shown, "me-results-by-age", "me_dl_age")


def _breakdown(rows: pd.DataFrame, column: str, labels: dict[str, str], key: str) -> None:
    lang = current_lang()
    for unit in ("number", "percentage"):
        part = rows.loc[rows["unit"] == unit]
        if part.empty:
            continue
        st.markdown(f"**{tr(f'me.unit.{unit}_plural')}**")
        st.plotly_chart(me_charts.breakdown_bars(part, lang, labels, unit, column), width="stretch",
                        key=f"{key}_{unit}", config={"displaylogo": False})


def _wide(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per indicator, one column per group (values) and per group + ``:status`` (flags)."""
    order = list(dict.fromkeys(rows["indicator_id"]))
    index = ["indicator_id", "indicator", "unit"]
    keyed = rows.drop_duplicates([*index, column]).set_index([*index, column])
    values = keyed["value"].astype("float64").unstack(column)
    flags = keyed["obs_status"].fillna("").unstack(column)
    flags.columns = [f"{c}:status" for c in flags.columns]
    wide = values.join(flags).reset_index().set_index("indicator_id").loc[order].reset_index()
    linked = rows.groupby("indicator_id")["from_statistics"].any()
    wide["from_statistics"] = [bool(linked.get(i, False)) for i in wide["indicator_id"]]
    return wide


def flagged(value, status, unit: str, lang: str) -> str:
    """A value with its observation flag: U marked, Q (suppressed) never shown as a number."""
    status = status if isinstance(status, str) else ""
    if status == "Q":
        return tr("me.stat.suppressed")
    text = format_value(_none(value), unit, lang)
    return f"{text} (U)" if status == "U" and text != "–" else text


def _breakdown_table(rows: pd.DataFrame, column: str, labels: dict[str, str]) -> pd.DataFrame:
    lang = current_lang()
    wide = _wide(rows, column)
    shown = pd.DataFrame({tr("me.col.indicator"): wide["indicator"]})
    empty = [None] * len(wide)
    for group, label in labels.items():
        values = wide[group] if group in wide.columns else empty
        flags = wide[f"{group}:status"] if f"{group}:status" in wide.columns else empty
        shown[label] = [flagged(v, f, u, lang) for v, f, u in zip(values, flags, wide["unit"], strict=True)]
    shown[tr("me.col.actuals_from")] = [tr("me.stat.national") if f else tr("me.stat.reported")
                                        for f in wide["from_statistics"]]
    return shown


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
