"""Plotly figures of the M&E views. Status colours are colour-blind safe (Okabe-Ito) and the same in
every view; each status also has its own marker symbol, so colour is never the only cue."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from mmicd.charts import SERIES_COLOURS, label_text
from mmicd.i18n import format_date, plotly_separators, t
from mmicd.me.model import Indicator, Unit
from mmicd.me.progress import STATUS_COLOURS, STATUS_ORDER, ProgressStatus, status_label

MARKER_SYMBOLS = {
    ProgressStatus.ACHIEVED: "star", ProgressStatus.ON_TRACK: "circle", ProgressStatus.AT_RISK: "triangle-up",
    ProgressStatus.OFF_TRACK: "square", ProgressStatus.OVERDUE: "diamond", ProgressStatus.NO_DATA: "circle-open",
}
INTERVENTION_COLOURS = {"pipeline": "#BBBBBB", "ongoing": "#0072B2", "completed": "#009E73",
                        "suspended": "#E69F00", "cancelled": "#D55E00"}


def _layout(fig: go.Figure, lang: str, height: int) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      separators=plotly_separators(lang), legend={"orientation": "h", "y": -0.12})
    return fig


def _short(text: str, n: int = 48) -> str:
    """A category label (user text, escaped for plotly), cut to ``n`` characters."""
    return label_text(text if len(text) <= n else text[: n - 1] + "…")


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """User text for hover (``customdata``), escaped for plotly."""
    return frame.map(label_text)


def status_matrix(table: pd.DataFrame, lang: str) -> go.Figure:
    """Interventions (rows) × their indicators (columns, in results-framework order), one marker per
    indicator coloured and shaped by its status; the explanation on hover."""
    fig = go.Figure()
    order = list(dict.fromkeys(table["intervention"]))
    for status in STATUS_ORDER:
        part = table.loc[table["status"] == status.value]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=[f"#{p + 1}" for p in part["position"]], y=[_short(s) for s in part["intervention"]], mode="markers",
            name=status_label(status, lang),
            marker={"size": 22, "color": STATUS_COLOURS[status], "symbol": MARKER_SYMBOLS[status],
                    "line": {"width": 1.5, "color": STATUS_COLOURS[status] if status == ProgressStatus.NO_DATA
                             else "#333333"}},
            customdata=_escaped(part[["indicator", "explanation"]]).to_numpy(),
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>",
        ))
    fig.update_yaxes(categoryorder="array", categoryarray=[_short(s) for s in reversed(order)], title=None)
    columns = [f"#{k + 1}" for k in range(int(table["position"].max()) + 1)] if not table.empty else []
    fig.update_xaxes(title=t("me.axis.indicator_no", lang), type="category", categoryorder="array",
                     categoryarray=columns, side="top")
    return _layout(fig, lang, max(300, 34 * len(order) + 120))


def budget_bars(frame: pd.DataFrame, lang: str, labels: dict[str, str] | None = None,
                currency: str = "") -> go.Figure:
    """Budget planned and disbursed side by side per category, in one ``currency`` (the axis says which)."""
    labels = labels or {}
    keys = [labels.get(k, k) for k in frame["key"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=[_short(k, 40) for k in keys], x=frame["planned"], orientation="h",
                         name=t("me.budget.planned", lang), marker_color="#999999"))
    fig.add_trace(go.Bar(y=[_short(k, 40) for k in keys], x=frame["disbursed"], orientation="h",
                         name=t("me.budget.disbursed", lang), marker_color="#0072B2"))
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=t("me.axis.amount", lang, currency=currency))
    fig = _layout(fig, lang, max(260, 48 * len(frame) + 100))
    # the legend above the bars: below them it covered the amounts of a chart with one or two bars
    return fig.update_layout(legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0})


def status_donut(counts: dict[str, int], lang: str) -> go.Figure:
    statuses = [s for s in STATUS_ORDER if counts.get(s.value)]
    fig = go.Figure(go.Pie(labels=[status_label(s, lang) for s in statuses], values=[counts[s.value] for s in statuses],
                           marker={"colors": [STATUS_COLOURS[s] for s in statuses]}, hole=0.55, sort=False,
                           textinfo="value"))
    return _layout(fig, lang, 280)


def gantt(interventions: list, milestones: pd.DataFrame, today: date, lang: str,
          status_labels: dict[str, str]) -> go.Figure:
    """Interventions from start to end coloured by their status, today marked, milestone dates as diamonds."""
    fig = go.Figure()
    shown = set()
    for iv in interventions:
        status = str(iv.status)
        start, end = pd.Timestamp(iv.start), pd.Timestamp(iv.end)
        fig.add_trace(go.Bar(
            y=[_short(iv.title)], x=[(end - start).total_seconds() * 1000], base=[start], orientation="h",
            marker_color=INTERVENTION_COLOURS[status], name=status_labels[status], legendgroup=status,
            showlegend=status not in shown, customdata=[[label_text(iv.title), format_date(iv.start, lang), format_date(iv.end, lang)]],
            hovertemplate="<b>%{customdata[0]}</b><br>%{customdata[1]} – %{customdata[2]}<extra></extra>",
        ))
        shown.add(status)
    if not milestones.empty:
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(milestones["due"]), y=[_short(s) for s in milestones["intervention"]], mode="markers",
            marker={"symbol": "diamond", "size": 10, "color": "#333333"}, name=t("me.timeline.milestone", lang),
            customdata=_escaped(milestones[["indicator", "target_text"]].assign(
                due=[format_date(d, lang) for d in pd.to_datetime(milestones["due"]).dt.date])).to_numpy(),
            hovertemplate="%{customdata[2]}<br>%{customdata[0]}: %{customdata[1]}<extra></extra>",
        ))
    today_ts = pd.Timestamp(today)
    fig.add_shape(type="line", x0=today_ts, x1=today_ts, y0=0, y1=1, yref="paper",
                  line={"color": "#D55E00", "width": 2, "dash": "dash"})
    fig.add_annotation(x=today_ts, y=1, yref="paper", text=t("me.timeline.today", lang), showarrow=False,
                       yanchor="bottom", font={"color": "#D55E00"})
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=[_short(i.title) for i in interventions])
    return _layout(fig, lang, max(320, 34 * len(interventions) + 140))


def trajectory_chart(indicator: Indicator, points: pd.DataFrame, lang: str) -> go.Figure:
    """Baseline, milestone and end targets (dashed path from the baseline), and the actuals over time."""
    pct = indicator.unit == Unit.PERCENTAGE
    fig = go.Figure()
    base = points.loc[points["series"] == "baseline"]
    targets = points.loc[points["series"] == "target"]
    path = pd.concat([base, targets])
    fig.add_trace(go.Scatter(x=path["date"], y=path["value"], mode="lines+markers", name=t("me.series.target", lang),
                             line={"color": "#999999", "dash": "dash"},
                             marker={"symbol": "diamond", "size": 10, "color": "#999999"}))
    fig.add_trace(go.Scatter(x=base["date"], y=base["value"], mode="markers", name=t("me.series.baseline", lang),
                             marker={"size": 12, "color": "#333333"}))
    actual = points.loc[points["series"] == "actual"]
    if not actual.empty:
        fig.add_trace(go.Scatter(x=actual["date"], y=actual["value"], mode="lines+markers",
                                 name=t("me.series.actual", lang), line={"color": "#0072B2", "width": 3}))
    stats = points.loc[(points["series"] == "statistics") & points["value"].notna()]
    if not stats.empty:
        # published figures with their 95% confidence intervals as error bars; U-flagged ones hollow
        upper = (stats["ci_upper"] - stats["value"]).where(stats["ci_upper"].notna())
        lower = (stats["value"] - stats["ci_lower"]).where(stats["ci_lower"].notna())
        flagged = stats["obs_status"] == "U"
        fig.add_trace(go.Scatter(
            x=stats["date"], y=stats["value"], mode="lines+markers", name=t("me.series.statistics", lang),
            line={"color": "#0072B2", "width": 3},
            marker={"size": 10, "symbol": ["circle-open" if f else "circle" for f in flagged], "color": "#0072B2"},
            error_y={"type": "data", "symmetric": False, "array": upper.fillna(0).tolist(),
                     "arrayminus": lower.fillna(0).tolist(), "visible": bool(upper.notna().any()),
                     "color": "#0072B2", "thickness": 1.5, "width": 6},
            customdata=_escaped(stats[["time_period", "source", "edition"]].fillna("")).to_numpy(),
            hovertemplate="%{customdata[0]}: %{y}<br>%{customdata[1]}, %{customdata[2]}<extra></extra>",
        ))
    fig.update_yaxes(title=t("unit.percent" if pct else "me.unit.number", lang), ticksuffix="%" if pct else "",
                     rangemode="tozero")
    fig.update_xaxes(type="date")
    return _layout(fig, lang, 340)


AGE_COLOURS = ["#56B4E9", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#F0E442"]


def breakdown_bars(rows: pd.DataFrame, lang: str, labels: dict[str, str], unit: str, column: str = "sex",
                   colours: dict[str, str] | None = None) -> go.Figure:
    """The groups of a breakdown (women, men; or age groups) and the total side by side, for
    indicators of one unit."""
    colours = colours or {}
    fig = go.Figure()
    for k, group in enumerate(labels):
        part = rows.loc[rows[column] == group]
        if part.empty or part["value"].isna().all():
            continue
        colour = colours.get(group) or SERIES_COLOURS.get(group) or AGE_COLOURS[k % len(AGE_COLOURS)]
        flags = part["obs_status"].fillna("") if "obs_status" in part.columns else pd.Series("", index=part.index)
        fig.add_trace(go.Bar(y=[_short(s, 44) for s in part["indicator"]], x=part["value"], orientation="h",
                             name=labels[group], marker_color=colour,
                             text=["U" if f == "U" else "" for f in flags], textposition="outside"))  # low reliability
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    if unit == Unit.PERCENTAGE.value:
        fig.update_xaxes(ticksuffix="%", title=t("unit.percent", lang))
    else:
        fig.update_xaxes(title=t("me.unit.number", lang))
    n = rows["indicator_id"].nunique()
    per_bar = max(70, 18 * len(labels))
    _layout(fig, lang, max(260, per_bar * n + 100))
    fig.update_layout(legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})  # clear of the axis title
    return fig


def sex_bars(rows: pd.DataFrame, lang: str, sex_labels: dict[str, str], unit: str) -> go.Figure:
    """Women, men and total side by side for indicators of one unit."""
    return breakdown_bars(rows, lang, {s: sex_labels[s] for s in ("F", "M", "_T")}, unit, "sex")


def stage_chart(stages: pd.DataFrame, lang: str) -> go.Figure:
    """The six GMG stages as a row of boxes coloured by status (text on each box says the status too)."""
    fills = {"completed": ("#009E73", "#FFFFFF"), "in_progress": ("#56B4E9", "#000000"),
             "not_started": ("#EEEEEE", "#000000")}
    fig = go.Figure()
    for k, row in enumerate(stages.itertuples()):
        fill, ink = fills[row.status]
        fig.add_shape(type="rect", x0=k + 0.04, x1=k + 0.96, y0=0, y1=1, fillcolor=fill,
                      line={"color": "#FFFFFF", "width": 0})
        fig.add_annotation(x=k + 0.5, y=0.5, showarrow=False, font={"size": 12, "color": ink},
                           text=f"<b>{k + 1}</b><br><b>{t(f'me.stage.{row.stage}', lang)}</b><br>"
                                f"{t(f'me.stage_status.{row.status}', lang)}")
    fig.update_xaxes(visible=False, range=[0, len(stages)], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, 1], fixedrange=True)
    fig.update_layout(height=120, margin={"l": 0, "r": 0, "t": 0, "b": 0}, plot_bgcolor="rgba(0,0,0,0)",
                      paper_bgcolor="rgba(0,0,0,0)")
    return fig
