"""What the M&E views show, as plain frames: the status of every indicator, counts and budgets,
alerts, results by sex, trajectories. Column names are codes; pages translate them for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import Indicator, InterventionStatus, Report, StageStatus, Unit, sector_name
from mmicd.me.progress import (
    STATUS_ORDER,
    Progress,
    current_value,
    evaluate,
    explain,
    status_label,
)
from mmicd.me.repository import Portfolio

STAT_COLUMNS = ["from_statistics", "ci_lower", "ci_upper", "obs_status", "time_period", "source", "edition",
                "dataset_id"]


@dataclass(frozen=True)
class Selection:
    """The page filters; an empty tuple means 'all'."""

    sectors: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()
    funders: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sdg_targets: tuple[str, ...] = ()


@dataclass
class Options:
    sectors: list[str] = field(default_factory=list)
    leads: list[str] = field(default_factory=list)
    funders: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    sdg_targets: list[str] = field(default_factory=list)


def _sdg_key(target: str) -> tuple:
    goal, _, rest = target.partition(".")
    return (int(goal) if goal.isdigit() else 99, rest.zfill(3))


def options(portfolio: Portfolio) -> Options:
    ivs = portfolio.interventions
    return Options(
        sectors=sorted({i.sector for i in ivs}),
        leads=sorted({i.lead for i in ivs}),
        funders=sorted({f for i in ivs for f in i.funders}),
        statuses=[s.value for s in InterventionStatus if any(i.status == s for i in ivs)],
        sdg_targets=sorted({s for i in ivs for s in i.sdg_targets}, key=_sdg_key),
    )


def select(portfolio: Portfolio, selection: Selection) -> Portfolio:
    """The interventions matching every filter, with their indicators, reports and changes."""
    def keep(iv) -> bool:
        return ((not selection.sectors or iv.sector in selection.sectors)
                and (not selection.leads or iv.lead in selection.leads)
                and (not selection.funders or set(iv.funders) & set(selection.funders))
                and (not selection.statuses or str(iv.status) in selection.statuses)
                and (not selection.sdg_targets or set(iv.sdg_targets) & set(selection.sdg_targets)))

    ivs = [i for i in portfolio.interventions if keep(i)]
    ids = {i.id for i in ivs}
    inds = [i for i in portfolio.indicators if i.intervention_id in ids]
    ind_ids = {i.id for i in inds}
    return Portfolio(ivs, inds, [r for r in portfolio.reports if r.indicator_id in ind_ids],
                     [c for c in portfolio.changes if c.indicator_id in ind_ids], portfolio.stages,
                     {k: v for k, v in portfolio.statistics.items() if k in ind_ids})


def progress_all(portfolio: Portfolio, as_of: date, config: MeConfig | None = None) -> dict[str, Progress]:
    return {i.id: evaluate(i, portfolio.reports, as_of, portfolio.intervention(i.intervention_id), config,
                           statistics=portfolio.statistics.get(i.id))
            for i in portfolio.indicators}


def status_table(portfolio: Portfolio, as_of: date, lang: str, config: MeConfig | None = None) -> pd.DataFrame:
    """One row per indicator with its status and the sentence that explains it; for an indicator
    linked to the statistics, the published figure used with its CI, flag and provenance."""
    progress = progress_all(portfolio, as_of, config)
    rows = []
    for ind in portfolio.indicators:
        iv = portfolio.intervention(ind.intervention_id)
        p = progress[ind.id]
        stat = p.statistic
        rows.append({
            "intervention_id": iv.id, "intervention": iv.title, "sector": sector_name(iv.sector, lang),
            "lead": iv.lead, "intervention_status": str(iv.status), "indicator_id": ind.id, "indicator": ind.name,
            "position": ind.position, "level": str(ind.level), "unit": str(ind.unit), "period_rule": str(ind.period_rule),
            "baseline": ind.baseline_value, "current": p.current, "target": p.target if p.target is not None
            else ind.end_target, "end_target": ind.end_target, "status": p.status.value,
            "status_label": status_label(p.status, lang),
            "explanation": explain(p, ind, lang, portfolio.statistics.get(ind.id)),
            "linked_to": ind.link.indicator if ind.link else "", "illustrative": iv.illustrative,
            "from_statistics": p.from_statistics, "ci_lower": stat.ci_lower if stat else None,
            "ci_upper": stat.ci_upper if stat else None, "obs_status": stat.obs_status if stat else "",
            "time_period": stat.time_period if stat else "", "source": stat.source if stat else "",
            "edition": stat.edition if stat else "", "dataset_id": stat.dataset_id if stat else "",
        })
    columns = ["intervention_id", "intervention", "sector", "lead", "intervention_status", "indicator_id", "indicator",
               "position", "level", "unit", "period_rule", "baseline", "current", "target", "end_target", "status",
               "status_label", "explanation", "linked_to", "illustrative", *STAT_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def status_counts(table: pd.DataFrame) -> dict[str, int]:
    counts = table["status"].value_counts().to_dict() if not table.empty else {}
    return {s.value: int(counts.get(s.value, 0)) for s in STATUS_ORDER}


def budget_totals(portfolio: Portfolio) -> pd.DataFrame:
    """Budget planned and disbursed per currency (never added up across currencies: no exchange rate
    is known here), with the share disbursed; one row per currency, largest planned first."""
    rows = [{"currency": iv.currency, "interventions": 1, "planned": iv.budget_planned,
             "disbursed": iv.budget_disbursed} for iv in portfolio.interventions]
    if not rows:
        return pd.DataFrame(columns=["currency", "interventions", "planned", "disbursed", "disbursed_pct"])
    frame = pd.DataFrame(rows).groupby("currency", as_index=False).sum()
    frame["disbursed_pct"] = (frame["disbursed"] / frame["planned"].where(frame["planned"] > 0) * 100).round(1)
    return frame.sort_values(["planned", "currency"], ascending=[False, True]).reset_index(drop=True)


def by_dimension(portfolio: Portfolio, dimension: str, lang: str) -> pd.DataFrame:
    """Interventions, budget planned and disbursed by status, sector, lead or funder.

    An intervention with several funders is counted (with its whole budget) under each of them.
    """
    rows = []
    for iv in portfolio.interventions:
        if dimension == "funder":
            keys = iv.funders or ["–"]
        elif dimension == "sector":
            keys = [sector_name(iv.sector, lang)]
        elif dimension == "status":
            keys = [str(iv.status)]
        else:
            keys = [iv.lead]
        for key in keys:
            rows.append({"key": key, "currency": iv.currency, "interventions": 1, "planned": iv.budget_planned,
                         "disbursed": iv.budget_disbursed})
    if not rows:
        return pd.DataFrame(columns=["key", "currency", "interventions", "planned", "disbursed", "disbursed_pct"])
    frame = pd.DataFrame(rows).groupby(["key", "currency"], as_index=False).sum()
    frame["disbursed_pct"] = (frame["disbursed"] / frame["planned"].where(frame["planned"] > 0) * 100).round(1)
    return frame.sort_values(["planned", "key"], ascending=[False, True]).reset_index(drop=True)


def alerts(portfolio: Portfolio, as_of: date, lang: str, config: MeConfig | None = None) -> pd.DataFrame:
    """Off-track indicators, overdue reports, indicators without data, interventions ending soon."""
    config = config or me_config()
    table = status_table(portfolio, as_of, lang, config)
    rows = []
    for kind in ("off_track", "overdue", "no_data"):
        for r in table.loc[table["status"] == kind].itertuples():
            rows.append({"alert": kind, "intervention_id": r.intervention_id, "intervention": r.intervention,
                         "indicator_id": r.indicator_id, "indicator": r.indicator, "detail": r.explanation})
    horizon = as_of + timedelta(days=config.ending_soon_days)
    for iv in portfolio.interventions:
        if iv.status == InterventionStatus.ONGOING and as_of <= iv.end <= horizon:
            rows.append({"alert": "ending_soon", "intervention_id": iv.id, "intervention": iv.title,
                         "indicator_id": "", "indicator": "", "detail": iv.end.isoformat()})
    return pd.DataFrame(rows, columns=["alert", "intervention_id", "intervention", "indicator_id", "indicator",
                                       "detail"])


def trajectory(indicator: Indicator, reports: list[Report], config: MeConfig | None = None,
               statistics: list | None = None) -> pd.DataFrame:
    """Points of an indicator over time: baseline, milestone/end targets, and the current value by
    its period rule after each counted report (what the status compares). For an indicator linked to
    the statistics: every published figure with its 95% CI, flag and provenance (series
    ``statistics``; suppressed figures have no value)."""
    config = config or me_config()
    rows = [{"date": indicator.baseline_date, "series": "baseline", "value": indicator.baseline_value}]
    rows += [{"date": m.due, "series": "target", "value": m.target} for m in indicator.path()]
    if indicator.link is not None:
        for a in statistics or []:
            rows.append({"date": a.period_end, "series": "statistics", "value": a.value, "ci_lower": a.ci_lower,
                         "ci_upper": a.ci_upper, "obs_status": a.obs_status, "time_period": a.time_period,
                         "source": a.source, "edition": a.edition, "dataset_id": a.dataset_id})
    else:
        counted = sorted((r for r in reports if r.indicator_id == indicator.id and r.state in config.counted_states),
                         key=lambda r: r.period_end)
        for k in range(len(counted)):
            combined, when = current_value(indicator, counted[: k + 1])
            rows.append({"date": when, "series": "actual", "value": combined.value})
    frame = pd.DataFrame(rows, columns=["date", "series", "value", "ci_lower", "ci_upper", "obs_status",
                                        "time_period", "source", "edition", "dataset_id"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


RESULT_COLUMNS = ["intervention_id", "indicator_id", "indicator", "unit", "group", "value", "as_of",
                  "from_statistics", "obs_status"]


def results_by(portfolio: Portfolio, dimension: str, config: MeConfig | None = None) -> pd.DataFrame:
    """For every indicator with a breakdown by ``dimension`` (``sex`` or ``age``): its current value
    per group (women and men; the age groups) and in total, each combined by the indicator's period
    rule (percentages from numerators and denominators). Linked indicators: the groups of the latest
    published figure."""
    config = config or me_config()
    groups = ("F", "M") if dimension == "sex" else tuple(config.age_groups)
    rows = []

    def key(sex: str, age: str) -> str:
        return sex if dimension == "sex" else age

    def row(ind: Indicator, group: str, value, when, linked: bool, status: str = "") -> dict:
        return {"intervention_id": ind.intervention_id, "indicator_id": ind.id, "indicator": ind.name,
                "unit": str(ind.unit), "group": group, "value": value, "as_of": when, "from_statistics": linked,
                "obs_status": status}

    for ind in portfolio.indicators:
        if ind.link is not None:
            figures = [a for a in portfolio.statistics.get(ind.id, []) if a.counted]
            latest = figures[-1] if figures else None
            if latest is None:
                continue
            sel_sex, sel_age = latest.selected
            found = {key(sex, age): v for (sex, age), v in latest.parts.items()
                     if (age == sel_age if dimension == "sex" else sex == sel_sex)}
            if not any(g in found for g in groups):
                continue
            rows += [row(ind, g, *found[g][:1], latest.period_end, True, found[g][1]) for g in groups if g in found]
            rows.append(row(ind, "_T", latest.value, latest.period_end, True, latest.obs_status))
            continue
        counted = [r for r in portfolio.reports if r.indicator_id == ind.id and r.state in config.counted_states]

        def part_of(b, group: str) -> bool:
            return (b.sex == group and b.age == "_T") if dimension == "sex" else (b.age == group and b.sex == "_T")

        present = [g for g in groups if any(part_of(b, g) for r in counted for b in r.breakdown)]
        if not present:
            continue
        total, when = current_value(ind, counted)
        for group in groups:
            parts = []
            for r in counted:
                part = next((b for b in r.breakdown if part_of(b, group)), None)
                if part is not None:
                    parts.append(Report(indicator_id=ind.id, period_start=r.period_start, period_end=r.period_end,
                                        value=part.value, numerator=part.numerator, denominator=part.denominator,
                                        state=r.state))
            value = current_value(ind, parts)[0].value if parts else None
            if group in present or dimension == "sex":
                rows.append(row(ind, group, value, when, False))
        rows.append(row(ind, "_T", total.value, when, False))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def results_by_sex(portfolio: Portfolio, lang: str, config: MeConfig | None = None) -> pd.DataFrame:
    """:func:`results_by` sex, with the group in a ``sex`` column (F, M, _T)."""
    return results_by(portfolio, "sex", config).rename(columns={"group": "sex"})


def results_by_age(portfolio: Portfolio, lang: str, config: MeConfig | None = None) -> pd.DataFrame:
    """:func:`results_by` age group, with the group in an ``age`` column (the configured groups and _T)."""
    return results_by(portfolio, "age", config).rename(columns={"group": "age"})


def female_share(rows: pd.DataFrame) -> pd.DataFrame:
    """Women's share of a number indicator (female / (female + male) × 100)."""
    numbers = rows.loc[rows["unit"] == Unit.NUMBER.value].pivot_table(index="indicator_id", columns="sex",
                                                                      values="value")
    if numbers.empty or not {"F", "M"} <= set(numbers.columns):
        return pd.DataFrame(columns=["indicator_id", "female_share"])
    share = numbers["F"] / (numbers["F"] + numbers["M"]) * 100
    return share.rename("female_share").reset_index()


def stage_table(portfolio: Portfolio, country: str) -> pd.DataFrame:
    from mmicd.me.model import GmgStage

    known = {s.stage: s for s in portfolio.stages if s.country == country}
    rows = []
    for stage in GmgStage:
        record = known.get(stage)
        rows.append({"stage": stage.value,
                     "status": str(record.status) if record else StageStatus.NOT_STARTED.value,
                     "start": record.start if record else None, "end": record.end if record else None,
                     "evidence": record.evidence if record else "", "note": record.note if record else ""})
    return pd.DataFrame(rows)
