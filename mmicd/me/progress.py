"""On/off-track logic of the results framework.

- The **current value** of an indicator combines its counted (approved) actuals by its period rule:
  *latest* takes the most recent report; *cumulative* adds up all reports since the baseline;
  *per period* adds up the reports of the target period of the most recent report (each target
  period starts afresh). Percentages are always combined from numerators and denominators.
- **Achievement** = (current − baseline) / (next milestone target − baseline); this is
  direction-aware by construction (a decreasing indicator has its target below its baseline).
- **Expected progress** at the date of the latest actual = the share of time elapsed on the straight
  line from the baseline date to the next milestone date.
- **Status**: *achieved* when the end target is met; *overdue* when the latest reporting period that
  is due (ended more than ``grace_days`` ago) has no report; *no data* without an approved actual;
  otherwise *on track* when achievement ≥ 85% of expected, *at risk* from 60% to 85%, *off track*
  below 60% (thresholds in ``data/me/config.yml``).
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from mmicd.i18n import format_date, format_number, format_percent, t
from mmicd.i18n import format_month as month_year  # and format_date: the M&E pages import both from here
from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import (
    FREQUENCY_MONTHS,
    Direction,
    Frequency,
    Indicator,
    Intervention,
    InterventionStatus,
    PeriodRule,
    Report,
    Unit,
)


class ProgressStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    OVERDUE = "overdue"
    ACHIEVED = "achieved"


# Colour-blind-safe (Okabe-Ito) colours, the same in every view.
STATUS_COLOURS = {
    ProgressStatus.ACHIEVED: "#009E73",  # bluish green
    ProgressStatus.ON_TRACK: "#56B4E9",  # sky blue
    ProgressStatus.AT_RISK: "#E69F00",  # orange
    ProgressStatus.OFF_TRACK: "#D55E00",  # vermillion
    ProgressStatus.OVERDUE: "#CC79A7",  # reddish purple
    ProgressStatus.NO_DATA: "#BBBBBB",  # grey
}
STATUS_ORDER = [ProgressStatus.ACHIEVED, ProgressStatus.ON_TRACK, ProgressStatus.AT_RISK,
                ProgressStatus.OFF_TRACK, ProgressStatus.OVERDUE, ProgressStatus.NO_DATA]
STATUS_SYMBOLS = {
    ProgressStatus.ACHIEVED: "★", ProgressStatus.ON_TRACK: "●", ProgressStatus.AT_RISK: "▲",
    ProgressStatus.OFF_TRACK: "■", ProgressStatus.OVERDUE: "◆", ProgressStatus.NO_DATA: "○",
}


@dataclass(frozen=True)
class Combined:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Progress:
    indicator_id: str
    status: ProgressStatus
    current: float | None = None  # current value by the period rule
    eval_date: date | None = None  # period end of the latest counted actual
    target: float | None = None  # next milestone (or end) target
    target_date: date | None = None
    expected_value: float | None = None
    expected_fraction: float | None = None
    achievement: float | None = None
    ratio: float | None = None  # achievement / expected fraction
    due_period_end: date | None = None  # the reporting period found missing (overdue) or next due
    due_by: date | None = None
    reports: int = 0
    # linked indicators: the latest published figure the status uses (value, CI, obs_status, provenance)
    statistic: object | None = None
    from_statistics: bool = False


# ---- periods ----------------------------------------------------------------------------------
def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Shift a date by whole months; a month's last day stays its month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    was_last = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if was_last else min(day.day, last))


def reporting_periods(frequency: Frequency, after: date, until: date) -> list[tuple[date, date]]:
    """Calendar reporting periods (start, end) whose end falls after ``after`` and by ``until``."""
    step = FREQUENCY_MONTHS[Frequency(frequency)]
    periods = []
    year, month = after.year, step * math.ceil(after.month / step)
    while True:
        end = month_end(year, month)
        if end > until:
            return periods
        if end > after:
            start_month = month - step + 1
            periods.append((date(year, start_month, 1), end))
        month += step
        if month > 12:
            year, month = year + 1, month - 12


# ---- combining actuals ------------------------------------------------------------------------
def combine(reports: list[Report], unit: Unit) -> Combined:
    """Numbers are added up; percentages are numerator sum / denominator sum × 100."""
    if not reports:
        return Combined(None)
    if unit == Unit.PERCENTAGE:
        num = sum(r.numerator or 0.0 for r in reports)
        den = sum(r.denominator or 0.0 for r in reports)
        return Combined(num / den * 100 if den else None, num, den)
    values = [r.value for r in reports if r.value is not None]
    return Combined(sum(values) if values else None)


def _next_point(indicator: Indicator, when: date) -> tuple[date, float, date]:
    """The next milestone (or the end target) at or after ``when``, and the start of its target period."""
    path = indicator.path()
    previous = indicator.baseline_date
    for point in path:
        if point.due >= when:
            return point.due, point.target, previous
        previous = point.due
    last = path[-1]
    return last.due, last.target, path[-2].due if len(path) > 1 else indicator.baseline_date


def current_value(indicator: Indicator, counted: list[Report]) -> tuple[Combined, date | None]:
    """The current value by the indicator's period rule, and the date it stands for."""
    if not counted:
        return Combined(None), None
    ordered = sorted(counted, key=lambda r: (r.period_end, r.period_start))
    latest = ordered[-1]
    rule = PeriodRule(indicator.period_rule)
    if rule == PeriodRule.LATEST:
        chosen = [latest]
    elif rule == PeriodRule.CUMULATIVE:
        chosen = ordered
    else:
        _, _, period_start = _next_point(indicator, latest.period_end)
        chosen = [r for r in ordered if r.period_end > period_start]
    return combine(chosen, indicator.unit), latest.period_end


def statistics_value(indicator: Indicator, actuals: list) -> tuple[Combined, date | None]:
    """The current value of a linked indicator from its published figures (:class:`mmicd.me.linked.StatActual`).

    Numbers follow the indicator's period rule; a published rate or share cannot be re-aggregated
    without its numerator and denominator, so a percentage is always the latest figure.
    """
    if not actuals:
        return Combined(None), None
    reports = [Report(indicator_id=indicator.id, period_start=a.period_start, period_end=a.period_end,
                      value=a.value) for a in actuals]
    update = {"unit": Unit.NUMBER}
    if indicator.unit == Unit.PERCENTAGE:
        update["period_rule"] = PeriodRule.LATEST
    return current_value(indicator.model_copy(update=update), reports)


def counted_statistics(indicator: Indicator, actuals: list | None, as_of: date) -> list:
    """The published figures a linked indicator's status uses: with a number (not suppressed),
    for a period ending after the baseline date (earlier ones describe the starting point) and by ``as_of``."""
    return [a for a in actuals or [] if a.counted and indicator.baseline_date < a.period_end <= as_of]


def _better_or_equal(value: float, target: float, direction: Direction) -> bool:
    return value >= target if direction == Direction.INCREASE else value <= target


def evaluate(
    indicator: Indicator,
    reports: list[Report],
    as_of: date,
    intervention: Intervention | None = None,
    config: MeConfig | None = None,
    statistics: list | None = None,
) -> Progress:
    """The status of one indicator on ``as_of``, with the figures that explain it.

    A linked indicator takes its actuals from ``statistics`` (its published figures,
    :mod:`mmicd.me.linked`) instead of reports, by the same rules.
    """
    config = config or me_config()
    own = [r for r in reports if r.indicator_id == indicator.id]
    received = [r for r in own if r.state in config.received_states]
    latest_stat = None
    if indicator.link is not None:
        figures = counted_statistics(indicator, statistics, as_of)
        combined, eval_date = statistics_value(indicator, figures)
        counted = figures
        latest_stat = figures[-1] if figures else None
    else:
        counted = [r for r in own if r.state in config.counted_states and r.period_end <= as_of]
        combined, eval_date = current_value(indicator, counted)
    current = combined.value
    direction = Direction(indicator.direction)
    base = indicator.baseline_value

    # overdue: the latest reporting period that is due has no report
    due_end = due_by = None
    # linked indicators take their actuals from published statistics: nobody is chased for a report
    check_overdue = indicator.link is None and (intervention is None or intervention.status in (
        InterventionStatus.ONGOING, InterventionStatus.COMPLETED))
    window_start = max(indicator.baseline_date, intervention.start if intervention else indicator.baseline_date)
    window_end = min(indicator.end_date, intervention.end if intervention else indicator.end_date)
    periods = reporting_periods(indicator.frequency, window_start, window_end)
    grace = timedelta(days=config.grace_days)
    due = [p for p in periods if p[1] + grace < as_of]  # due by end + grace, overdue the day after
    overdue = False
    if due and check_overdue:
        start, end = due[-1]
        if not any(r.period_end >= start for r in received):
            overdue, due_end, due_by = True, end, end + grace
    if not overdue:
        upcoming = [p for p in periods if p[1] + grace >= as_of]
        if upcoming:
            due_end, due_by = upcoming[0][1], upcoming[0][1] + grace

    common = {"indicator_id": indicator.id, "reports": len(counted), "due_period_end": due_end, "due_by": due_by,
              "statistic": latest_stat, "from_statistics": latest_stat is not None}
    if current is not None and _better_or_equal(current, indicator.end_target, direction):
        return Progress(status=ProgressStatus.ACHIEVED, current=current, eval_date=eval_date,
                        target=indicator.end_target, target_date=indicator.end_date, **common)
    if overdue:
        return Progress(status=ProgressStatus.OVERDUE, current=current, eval_date=eval_date, **common)
    if current is None or eval_date is None:
        return Progress(status=ProgressStatus.NO_DATA, **common)

    target_date, target, _ = _next_point(indicator, eval_date)
    span = (target_date - indicator.baseline_date).days
    fraction = min(1.0, max(0.0, (eval_date - indicator.baseline_date).days / span)) if span > 0 else 1.0
    if target == base:
        achievement = 1.0 if _better_or_equal(current, target, direction) else 0.0
    else:
        achievement = (current - base) / (target - base)
    expected_value = base + fraction * (target - base)
    ratio = achievement / fraction if fraction > 0 else (math.inf if achievement >= 0 else -math.inf)
    if ratio >= config.on_track:
        status = ProgressStatus.ON_TRACK
    elif ratio >= config.at_risk:
        status = ProgressStatus.AT_RISK
    else:
        status = ProgressStatus.OFF_TRACK
    return Progress(status=status, current=current, eval_date=eval_date, target=target, target_date=target_date,
                    expected_value=expected_value, expected_fraction=fraction, achievement=achievement,
                    ratio=ratio, **common)


# ---- words ------------------------------------------------------------------------------------
def format_value(value: float | None, unit: Unit, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if Unit(unit) == Unit.PERCENTAGE:
        return format_percent(value, lang, 1)
    return format_number(value, lang, 0 if abs(value) >= 100 or abs(value - round(value)) < 0.05 else 1)


def status_label(status: ProgressStatus | str, lang: str) -> str:
    return t(f"me.status.{ProgressStatus(status).value}", lang)


def statistic_text(stat, unit: Unit | str, lang: str) -> str:
    """A published figure as text: value, 95% CI and its flag ("10.2% (95% CI 7.4% – 12.9%)");
    a suppressed (Q) figure is never written as a number."""
    if stat is None:
        return "–"
    if stat.obs_status == "Q" or stat.value is None:
        return t("me.stat.suppressed", lang)
    text = format_value(stat.value, unit, lang)
    extras = []
    if stat.ci_lower is not None and stat.ci_upper is not None:
        extras.append(t("me.stat.ci", lang, low=format_value(stat.ci_lower, unit, lang),
                        high=format_value(stat.ci_upper, unit, lang)))
    if stat.obs_status == "U":
        extras.append(t("me.stat.flag_u", lang))
    return f"{text} ({'; '.join(extras)})" if extras else text


def explain(progress: Progress, indicator: Indicator, lang: str = "en", statistics: list | None = None) -> str:
    """One sentence saying why the indicator has its status (``statistics``: a linked indicator's figures)."""
    unit = indicator.unit
    status = status_label(progress.status, lang)
    stat = progress.statistic
    if progress.status == ProgressStatus.ACHIEVED:
        if stat is not None:
            return t("me.explain.achieved_stats", lang, target=format_value(indicator.end_target, unit, lang),
                     actual=statistic_text(stat, unit, lang), period=stat.time_period, status=status)
        return t("me.explain.achieved", lang, target=format_value(indicator.end_target, unit, lang),
                 actual=format_value(progress.current, unit, lang), date=month_year(progress.eval_date, lang),
                 status=status)
    if progress.status == ProgressStatus.OVERDUE:
        return t("me.explain.overdue", lang, period=month_year(progress.due_period_end, lang),
                 due=format_date(progress.due_by, lang), status=status)
    if progress.status == ProgressStatus.NO_DATA:
        if indicator.link is not None:
            figures = list(statistics or [])
            if figures and not figures[-1].counted:
                return t("me.explain.no_data_linked_suppressed", lang, indicator=indicator.link.indicator,
                         period=figures[-1].time_period, status=status)
            if figures:
                return t("me.explain.no_data_linked_before", lang, indicator=indicator.link.indicator,
                         actual=statistic_text(figures[-1], unit, lang), period=figures[-1].time_period,
                         baseline=format_date(indicator.baseline_date, lang), status=status)
            return t("me.explain.no_data_linked", lang, indicator=indicator.link.indicator, status=status)
        if progress.due_by is not None:
            return t("me.explain.no_data_due", lang, due=format_date(progress.due_by, lang), status=status)
        return t("me.explain.no_data", lang, status=status)
    ratio = progress.ratio if progress.ratio is not None and math.isfinite(progress.ratio) else None
    ratio_text = format_percent(ratio * 100, lang, 0) if ratio is not None else "–"
    if stat is not None:
        return t("me.explain.progress_stats", lang, expected=format_value(progress.expected_value, unit, lang),
                 date=month_year(progress.eval_date, lang), actual=statistic_text(stat, unit, lang),
                 period=stat.time_period, ratio=ratio_text, status=status)
    return t("me.explain.progress", lang, expected=format_value(progress.expected_value, unit, lang),
             date=month_year(progress.eval_date, lang), actual=format_value(progress.current, unit, lang),
             ratio=ratio_text, status=status)


def rule_sentence(lang: str = "en", config: MeConfig | None = None) -> str:
    config = config or me_config()
    return t("me.rule", lang, on=format_percent(config.on_track * 100, lang, 0),
             risk=format_percent(config.at_risk * 100, lang, 0), grace=config.grace_days)


def period_rule_text(rule: PeriodRule | str, lang: str = "en") -> str:
    return t(f"me.period_rule.{PeriodRule(rule).value}.text", lang)
