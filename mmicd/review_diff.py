"""What a reviewer compares before approving a dataset version: its difference from the published
version of the same series (added, changed and removed values, the largest changes first), the
series' totals new against published for a chart, the international baseline beside the national
figures, and the validation report the analyst saw when loading it.

A value's key is every dimension (:data:`mmicd.model.DIMENSIONS`). A key is *added* when only the
new version holds it, *removed* when only the published one does, *changed* when both hold it with
different values (a value becoming missing is a change). The size of a change is ``|new − old|``
with a missing side counted as 0, so a removed 5,000 ranks beside a change of 5,000; the
percentage change is ``(new − old) / |old| × 100``, undefined for an added key, an old value of 0 or
a value that became missing (a removed key is −100%).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from mmicd.baseline import SYSTEM_ACTOR
from mmicd.guards import published_versions
from mmicd.me.config import MeConfig
from mmicd.me.model import Indicator, Intervention, Report, ReportState
from mmicd.me.progress import Progress, evaluate
from mmicd.me.repository import Portfolio
from mmicd.model import DIMENSIONS, DatasetVersion, Form, Status
from mmicd.store import Store

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
DIFF_COLUMNS = [*DIMENSIONS, "change", "old", "new", "delta", "pct"]
# dimensions besides measure, area and period: a key at the total of all of them is a headline figure
DETAIL_DIMS = [d for d in DIMENSIONS if d not in ("measure", "ref_area", "time_period")]
BASELINE_COLUMNS = ["measure", "ref_area", "time_period", *DETAIL_DIMS, "national", "baseline", "baseline_year",
                    "baseline_source", "pct"]
MAX_BASELINE_YEARS_APART = 3  # a census of 2021 beside UN DESA's 2020 estimate; no further
MAX_STORED_ISSUES = 500


@dataclass(frozen=True)
class Diff:
    """The difference of a version from the published version of its series."""

    published: DatasetVersion | None  # None: nothing of the series is published (every value is added)
    rows: pd.DataFrame                # DIFF_COLUMNS, the largest change first
    unchanged: int

    def count(self, change: str) -> int:
        return int((self.rows["change"] == change).sum())


def _keys(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[[*DIMENSIONS, "value"]].copy()
    out[DIMENSIONS] = out[DIMENSIONS].astype(str)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    return out.drop_duplicates(DIMENSIONS, keep="last")


def diff_frames(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows that differ between two sets of observations (``DIFF_COLUMNS``, the largest change
    first; ties in key order) and how many keys are unchanged."""
    joined = _keys(old).merge(_keys(new), on=DIMENSIONS, how="outer", suffixes=("_old", "_new"), indicator=True)
    o, n = joined["value_old"], joined["value_new"]
    same = (joined["_merge"] == "both") & ((o == n) | (o.isna() & n.isna()))
    joined = joined.loc[~same].copy()
    o, n = joined["value_old"], joined["value_new"]
    joined["change"] = np.select([joined["_merge"] == "left_only", joined["_merge"] == "right_only"],
                                 [REMOVED, ADDED], CHANGED)
    joined["delta"] = n.fillna(0) - o.fillna(0)
    valid = o.notna() & (o != 0) & (n.notna() | (joined["change"] == REMOVED))
    joined["pct"] = np.where(valid, (n.fillna(0) - o) / o.abs() * 100, np.nan)
    joined = joined.rename(columns={"value_old": "old", "value_new": "new"})
    joined["_size"] = joined["delta"].abs()
    ordered = joined.sort_values(["_size", *DIMENSIONS], ascending=[False, *[True] * len(DIMENSIONS)],
                                 kind="stable")
    return ordered[DIFF_COLUMNS].reset_index(drop=True), int(same.sum())


def _values(store: Store, version: DatasetVersion) -> pd.DataFrame:
    return store.observations(dataset_ids=[version.id], status=None, breakdown=None)


def version_diff(store: Store, version: DatasetVersion) -> Diff | None:
    """The difference of a stored version from its series' published version (None for microdata,
    whose person records have no keys; :mod:`mmicd.guards` counts what they drop)."""
    if version.form == Form.MICRODATA:
        return None
    published = (published_versions(store, *version.series, exclude=version.id) or [None])[-1]
    old = _values(store, published) if published is not None and published.form == Form.OBSERVATIONS \
        else pd.DataFrame(columns=[*DIMENSIONS, "value"])
    rows, unchanged = diff_frames(old, _values(store, version))
    return Diff(published, rows, unchanged)


def headline(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that are headline figures: at the total of every detail dimension except
    migrant status (a migrant stock is ``MS_MIGRANT`` at the total of sex and age)."""
    others = [d for d in DETAIL_DIMS if d != "migrant_status"]
    return frame.loc[(frame[others].astype(str) == "_T").all(axis=1)]


def chart_frame(store: Store, version: DatasetVersion, published: DatasetVersion | None) -> pd.DataFrame:
    """Headline values of the new and the published version, long: measure, ref_area,
    migrant_status, time_period, value, which ("new" / "published")."""
    parts = []
    for which, v in (("published", published), ("new", version)):
        if v is None or v.form != Form.OBSERVATIONS:
            continue
        rows = headline(_values(store, v))
        parts.append(rows[["measure", "ref_area", "migrant_status", "time_period", "value"]].assign(which=which))
    if not parts:
        return pd.DataFrame(columns=["measure", "ref_area", "migrant_status", "time_period", "value", "which"])
    out = pd.concat(parts, ignore_index=True)
    return out.loc[out["value"].notna()].sort_values(["measure", "ref_area", "migrant_status", "time_period"])


def baseline_beside(store: Store, version: DatasetVersion) -> pd.DataFrame:
    """Each headline value of the version beside the international baseline's value for the same
    key (every dimension but the period) in the same year, or else the nearest year at most
    :data:`MAX_BASELINE_YEARS_APART` away (the earlier one on a tie), with the % difference
    ``(national − baseline) / baseline × 100``. Only keys the baseline holds are listed."""
    if version.form != Form.OBSERVATIONS:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    mine = headline(_values(store, version))
    mine = mine.loc[mine["value"].notna() & mine["time_period"].str.fullmatch(r"\d{4}")]
    baseline_ids = [v.id for v in store.datasets(status=Status.PUBLISHED)
                    if v.loaded_by == SYSTEM_ACTOR and v.id != version.id]
    if mine.empty or not baseline_ids:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    theirs = store.observations(dataset_ids=baseline_ids, measures=sorted(set(mine["measure"])),
                                ref_areas=sorted(set(mine["ref_area"])))
    theirs = headline(theirs.loc[theirs["value"].notna() & theirs["time_period"].str.fullmatch(r"\d{4}")])
    key = ["measure", "ref_area", *DETAIL_DIMS]
    pairs = mine[[*key, "time_period", "value"]].merge(
        theirs[[*key, "time_period", "value", "source", "edition"]], on=key, suffixes=("", "_b"))
    if pairs.empty:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    year, other = pairs["time_period"].astype(int), pairs["time_period_b"].astype(int)
    pairs = pairs.assign(_apart=(year - other).abs(), _later=other > year)
    pairs = pairs.loc[pairs["_apart"] <= MAX_BASELINE_YEARS_APART]
    pairs = pairs.sort_values([*key, "time_period", "_apart", "_later"]).drop_duplicates([*key, "time_period"])
    out = pd.DataFrame({
        **{c: pairs[c] for c in ("measure", "ref_area", "time_period", *DETAIL_DIMS)},
        "national": pairs["value"], "baseline": pairs["value_b"], "baseline_year": pairs["time_period_b"],
        "baseline_source": pairs["source"] + " " + pairs["edition"].fillna(""),
    })
    out["baseline_source"] = out["baseline_source"].str.strip()
    out["pct"] = np.where(out["baseline"] != 0, (out["national"] - out["baseline"]) / out["baseline"].abs() * 100,
                          np.nan)
    return out[BASELINE_COLUMNS].sort_values(["measure", "ref_area", "time_period"]).reset_index(drop=True)


# ---- the validation report the analyst saw --------------------------------------------------------
def issues_for(issues: list, file: str, sheet: str | None) -> list[dict]:
    """The warnings and notes of an upload that concern one of its datasets (same file, and same
    sheet or none), as stored with the version (at most :data:`MAX_STORED_ISSUES`)."""
    mine = [i.as_dict() for i in issues
            if i.level != "error" and (i.file in (None, file)) and (i.sheet is None or i.sheet == sheet)]
    # as JSON (a row number may be a numpy integer)
    return json.loads(json.dumps(mine[:MAX_STORED_ISSUES], default=lambda x: x.item() if hasattr(x, "item") else str(x)))


def validation_report(store: Store, dataset_id: int) -> tuple[list[dict], bool]:
    """The warnings the analyst saw when loading the version, and whether they were stored (versions
    loaded before the report was kept, or by the command line's store API, have none recorded)."""
    created = store.audit(dataset_id=dataset_id, action="created")
    if created.empty:
        return [], False
    detail = created.iloc[0]["detail"] or {}
    return list(detail.get("issues") or []), "issues" in detail


# ---- an M&E progress report -----------------------------------------------------------------------
@dataclass(frozen=True)
class ReportReview:
    """What a reviewer needs to decide on a submitted progress report."""

    report: Report
    indicator: Indicator
    intervention: Intervention | None
    previous: list[Report]  # the indicator's other reports, oldest period first
    now: Progress           # the indicator's status today
    if_approved: Progress   # its status once this report is approved (counted)


def report_review(portfolio: Portfolio, report_id: int, as_of: date, config: MeConfig | None = None) -> ReportReview:
    """The previous periods, the target and the status approving report ``report_id`` would produce
    (on ``as_of``, or at the end of the report's period when that is later: a report counts once its
    period has ended)."""
    report = next(r for r in portfolio.reports if r.id == report_id)
    indicator = portfolio.indicator(report.indicator_id)
    intervention = portfolio.intervention(indicator.intervention_id)
    own = portfolio.reports_of(indicator.id)
    approved = [r.model_copy(update={"state": ReportState.APPROVED}) if r.id == report_id else r for r in own]
    statistics = portfolio.statistics.get(indicator.id)
    return ReportReview(
        report, indicator, intervention, [r for r in own if r.id != report_id],
        evaluate(indicator, own, as_of, intervention, config, statistics),
        evaluate(indicator, approved, max(as_of, report.period_end), intervention, config, statistics))
