"""Reporting status, as Open SDG shows it: which indicators have national data, only the
international baseline, or nothing, for each country and year; and for the M&E portfolio, which
reports came on time, late, or are missing, per reporting period of each intervention indicator.

*National data*: a published version uploaded by a statistics office (any published version that is
not the baseline seed of :mod:`mmicd.baseline`) holds a value of the indicator's numerator for the
country and year; *baseline only*: only the baseline (UN DESA, World Bank...) does; *none*: neither.
A microdata version counts for its country in the years its edition names ("Labour Force Survey
2023"). M&E: a report received (submitted or approved) by the period's end plus the grace days
(``data/me/config.yml``) is *on time*, after it *late*; a due period without one is *missing*; a
period ended but not yet due without one is *pending*.

Pure: :func:`data_status` takes the versions, their coverage and the catalogue; :func:`coverage`
reads the coverage from a store.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

import pandas as pd
from sqlalchemy import func, select

from mmicd.baseline import SYSTEM_ACTOR as BASELINE_ACTOR
from mmicd.i18n import t
from mmicd.me.config import MeConfig, me_config
from mmicd.me.model import InterventionStatus
from mmicd.me.progress import reporting_periods
from mmicd.model import DatasetVersion, Form, Status


class DataStatus(StrEnum):
    NATIONAL = "national"
    BASELINE = "baseline"
    NONE = "none"


class ReportStatus(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    PENDING = "pending"


# Colour-blind-safe (Okabe-Ito) colours, each with a symbol so that colour is never the only carrier
DATA_COLOURS = {DataStatus.NATIONAL: "#009E73", DataStatus.BASELINE: "#56B4E9", DataStatus.NONE: "#EEEEEE"}
DATA_SYMBOLS = {DataStatus.NATIONAL: "●", DataStatus.BASELINE: "◐", DataStatus.NONE: "○"}
REPORT_COLOURS = {ReportStatus.ON_TIME: "#009E73", ReportStatus.LATE: "#E69F00", ReportStatus.MISSING: "#D55E00",
                  ReportStatus.PENDING: "#EEEEEE"}
REPORT_SYMBOLS = {ReportStatus.ON_TIME: "●", ReportStatus.LATE: "▲", ReportStatus.MISSING: "■",
                  ReportStatus.PENDING: "○"}
RANK = {DataStatus.NATIONAL: 2, DataStatus.BASELINE: 1, DataStatus.NONE: 0}
COVERAGE_COLUMNS = ["dataset_id", "measure", "area", "year", "areas_from"]


def is_baseline(version: DatasetVersion) -> bool:
    return version.loaded_by == BASELINE_ACTOR


def edition_years(edition: str) -> list[str]:
    return re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", edition or "")


def coverage(store, versions: list[DatasetVersion]) -> pd.DataFrame:
    """Which published observation versions hold which measure for which area (as ``ref_area`` and
    as ``counterpart_area``) and year."""
    from mmicd.store.schema import observations as obs

    ids = [v.id for v in versions if v.status == Status.PUBLISHED and v.form == Form.OBSERVATIONS]
    frames = []
    year = func.substr(obs.c.time_period, 1, 4)
    with store.engine.connect() as conn:
        for column in ("ref_area", "counterpart_area"):
            area = obs.c[column]
            query = (select(obs.c.dataset_id, obs.c.measure, area.label("area"), year.label("year"))
                     .where(obs.c.dataset_id.in_(ids), obs.c.value.is_not(None)).distinct())
            frame = pd.DataFrame(conn.execute(query).all(), columns=COVERAGE_COLUMNS[:4])
            frame["areas_from"] = column
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def data_status(catalogue: dict, versions: list[DatasetVersion], cover: pd.DataFrame,
                countries: list[str], years: list[str]) -> pd.DataFrame:
    """Long table: indicator, country, year, status (:class:`DataStatus`), one row per combination."""
    published = {v.id: v for v in versions if v.status == Status.PUBLISHED}
    found: dict[tuple[str, str, str], DataStatus] = {}

    def mark(key, status):
        if RANK[status] > RANK[found.get(key, DataStatus.NONE)]:
            found[key] = status

    wanted_countries, wanted_years = set(countries), set(years)
    cover = cover[cover["area"].isin(wanted_countries) & cover["year"].isin(wanted_years)]
    for ind in catalogue.values():
        kinds = {str(k) for k in ind.kinds}
        measures = set(ind.numerator.get("measure", ()))
        ids = [i for i, v in published.items() if str(v.kind.value) in kinds]
        rows = cover[cover["dataset_id"].isin(ids) & (cover["areas_from"] == ind.areas_from)]
        if measures:
            rows = rows[rows["measure"].isin(measures)]
        for dataset_id, area, year in rows[["dataset_id", "area", "year"]].drop_duplicates().itertuples(index=False):
            status = DataStatus.BASELINE if is_baseline(published[dataset_id]) else DataStatus.NATIONAL
            mark((ind.id, area, year), status)
        if Form.MICRODATA in ind.forms:
            for v in published.values():
                if v.form == Form.MICRODATA and str(v.kind.value) in kinds and v.scope in wanted_countries:
                    for year in edition_years(v.edition):
                        if year in wanted_years:
                            mark((ind.id, v.scope, year), DataStatus.NATIONAL)
    rows = [(ind_id, country, year, found.get((ind_id, country, year), DataStatus.NONE).value)
            for ind_id in catalogue for country in countries for year in years]
    return pd.DataFrame(rows, columns=["indicator", "country", "year", "status"])


def report_status(portfolio, today: date, config: MeConfig | None = None) -> pd.DataFrame:
    """Long table: intervention, indicator, period_end, due_by, received, status (:class:`ReportStatus`),
    one row per reporting period ended by ``today`` of each indicator reported on (not the ones
    linked to published statistics, nor interventions in the pipeline, suspended or cancelled)."""
    config = config or me_config()
    grace = timedelta(days=config.grace_days)
    rows = []
    for iv in portfolio.interventions:
        if iv.status not in (InterventionStatus.ONGOING, InterventionStatus.COMPLETED):
            continue
        for ind in portfolio.indicators_of(iv.id):
            if ind.link is not None:
                continue
            received = [r for r in portfolio.reports_of(ind.id) if r.state in config.received_states]
            for start, end in reporting_periods(ind.frequency, max(ind.baseline_date, iv.start),
                                                min(ind.end_date, iv.end, today)):
                due_by = end + grace
                mine = [r for r in received if start <= r.period_end <= end]
                when = min((r.acted_at.date() for r in mine if r.acted_at), default=None) if mine else None
                if mine:
                    status = ReportStatus.LATE if when is not None and when > due_by else ReportStatus.ON_TIME
                else:
                    status = ReportStatus.MISSING if due_by < today else ReportStatus.PENDING
                rows.append((iv.id, iv.country, ind.id, ind.name, end, due_by, when, status.value))
    return pd.DataFrame(rows, columns=["intervention", "country", "indicator", "name", "period_end", "due_by",
                                       "received", "status"])


def counts(frame: pd.DataFrame, order) -> dict[str, int]:
    """How many rows have each status, in the statuses' order (zeros included)."""
    found = frame["status"].value_counts()
    return {s.value: int(found.get(s.value, 0)) for s in order}


def legend(symbols: dict, kind: str, lang: str) -> str:
    """The text legend: "● National data · ◐ Baseline only · ○ None"."""
    return " · ".join(f"{symbol} {t(f'reporting.{kind}.{status.value}', lang)}" for status, symbol in symbols.items())
