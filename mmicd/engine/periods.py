"""Annual values from monthly (``2023-07``) and quarterly (``2023-Q3``) observations, by a stated rule.

The sub-annual rows are kept (charts show them); an annual row is added per cell and year:

- a **flow** (measure ``nature`` = ``flow`` in ``data/codelists/measure.csv``: immigrants, arrivals,
  asylum applications, …) is the sum over the year, only when every month (or every quarter) is
  present with a value; otherwise there is no annual value and an Issue names the missing periods;
- a **stock** (``nature`` = ``stock``: refugees, population, …) is the end-of-period value: December
  (or Q4); when it is absent there is no annual value and an Issue says so;
- a share or ratio published by month is never turned into an annual value (an Issue says so).

Months are used before quarters; a derived value is never added where the dataset version already
reports the annual cell: the reported figure is kept and a difference becomes an Issue.
Each derived row is remembered in :data:`Derived` so the output can say how it was made
(:func:`note_text`, the ``note`` column of the engine's output).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine.config import EngineConfig
from mmicd.issues import Issue

CELL = ["dataset_id", "measure", "ref_area", "sex", "age", "migrant_status", "counterpart_area", "labour_status",
        "breakdown"]
FULL = {"M": 12, "Q": 4}
LAST = {"M": 12, "Q": 4}
NOTES = {
    ("flow", "M"): "annual: sum of the 12 months",
    ("flow", "Q"): "annual: sum of the 4 quarters",
    ("stock", "M"): "annual: end-of-year value (December)",
    ("stock", "Q"): "annual: end-of-year value (Q4)",
}
# (dataset_id, measure, year) -> the rule's note, for rows derived by this module
Derived = dict[tuple[int, str, str], str]


def nature(measure: str) -> str:
    frame = codes.codelist("measure")
    return str(frame.at[measure, "nature"]) if measure in frame.index else ""


def _period_name(year: str, freq: str, n: int) -> str:
    return f"{year}-{n:02d}" if freq == "M" else f"{year}-Q{n}"


def _example(row) -> str:
    return ", ".join(f"{c}={getattr(row, c)}" for c in CELL[2:] if getattr(row, c) != codes.TOTAL) or "totals"


def annualise(obs: pd.DataFrame, issues: list[Issue], cfg: EngineConfig) -> tuple[pd.DataFrame, Derived]:
    """``obs`` with annual rows added from complete sub-annual series, and what was derived."""
    derived: Derived = {}
    tp = obs["time_period"].astype(str)
    sub_mask = tp.str.len() > 4
    if not sub_mask.any():
        return obs, derived
    sub = obs.loc[sub_mask].copy()
    sub["yr"] = tp[sub_mask].str[:4]
    sub["_freq"] = np.where(tp[sub_mask].str[5] == "Q", "Q", "M")
    sub["_n"] = tp[sub_mask].str[-2:].str.lstrip("Q-").astype(int)
    sub["_nature"] = sub["measure"].map(nature)
    annual = obs.loc[~sub_mask]
    existing = annual[[*CELL, "time_period", "value"]].rename(columns={"time_period": "yr"})
    added = []
    for freq in ("M", "Q"):
        part = sub.loc[sub["_freq"] == freq]
        if part.empty:
            continue
        other = part.loc[~part["_nature"].isin(["flow", "stock"])]
        for ds, measure in other[["dataset_id", "measure"]].drop_duplicates().itertuples(index=False):
            issues.append(Issue(
                "info", f"{measure} is published by {'month' if freq == 'M' else 'quarter'} and is neither a flow "
                        f"nor a stock: no annual value is derived from it", file=f"dataset #{ds}", column="time_period"))
        for kind in ("flow", "stock"):
            rows = part.loc[part["_nature"] == kind]
            if rows.empty:
                continue
            made = _derive(rows, kind, freq, issues)
            if made.empty:
                continue
            merged = made.merge(existing, on=[*CELL, "yr"], how="left", suffixes=("", "_reported"))
            reported = merged["value_reported"].notna()
            diff = (merged["value"] - merged["value_reported"]).abs()
            bad = reported & (diff > cfg.tolerance_abs) & (diff > cfg.tolerance_rel * merged["value_reported"].abs())
            for row in merged.loc[bad].head(cfg.max_issues).itertuples(index=False):
                issues.append(Issue(
                    "warning", f"{row.measure} {row.yr}: the reported annual value {row.value_reported:,.6g} differs "
                               f"from the value derived from the {'months' if freq == 'M' else 'quarters'} "
                               f"{row.value:,.6g} ({_example(row)}); the reported value is kept",
                    file=f"dataset #{row.dataset_id}", column="time_period", value=row.yr))
            new = merged.loc[~reported].drop(columns=["value_reported"])
            if new.empty:
                continue
            for ds, measure, year in new[["dataset_id", "measure", "yr"]].drop_duplicates().itertuples(index=False):
                derived[(int(ds), str(measure), str(year))] = NOTES[(kind, freq)]
            new = new.rename(columns={"yr": "time_period"})
            added.append(new)
            existing = pd.concat([existing, new[[*CELL, "time_period", "value"]].rename(
                columns={"time_period": "yr"})], ignore_index=True)
    if not added:
        return obs, derived
    extra = pd.concat(added, ignore_index=True)
    first = obs.drop_duplicates(["dataset_id"])[[c for c in ("dataset_id", "source", "edition", "kind", "scope")
                                                 if c in obs.columns]]
    extra = extra.merge(first, on="dataset_id", how="left")
    return pd.concat([obs, extra[[c for c in obs.columns if c in extra.columns]]], ignore_index=True), derived


def _derive(rows: pd.DataFrame, kind: str, freq: str, issues: list[Issue]) -> pd.DataFrame:
    """Annual values of complete cells (KEY columns, yr, value, obs_status); Issues for the rest."""
    key = [*CELL, "yr"]
    work = rows.assign(_nan=rows["value"].isna())
    grouped = work.groupby(key, sort=False, observed=True, dropna=False)
    if kind == "flow":
        agg = grouped.agg(value=("value", "sum"), _count=("_n", "nunique"), _nan=("_nan", "any"),
                          _smin=("obs_status", "min"), _smax=("obs_status", "max")).reset_index()
        ok = (agg["_count"] == FULL[freq]) & ~agg["_nan"]
        agg["obs_status"] = np.where(agg["_smin"] == agg["_smax"], agg["_smin"], "E")
    else:
        last = work.loc[work["_n"] == LAST[freq]]
        agg = grouped.agg(_count=("_n", "nunique")).reset_index().merge(
            last[[*key, "value", "obs_status", "_nan"]], on=key, how="left")
        ok = agg["value"].notna()
    bad = agg.loc[~ok]
    if not bad.empty:
        present = work.groupby(key, sort=False, observed=True, dropna=False)["_n"].agg(frozenset)
        bad = bad.merge(present.rename("_present").reset_index(), on=key, how="left")
        for (ds, measure, year), g in bad.groupby(["dataset_id", "measure", "yr"], sort=False):
            missing = sorted(set().union(*[set(range(1, FULL[freq] + 1)) - set(p) for p in g["_present"]]))
            unit = "month" if freq == "M" else "quarter"
            if kind == "flow":
                gap = ", ".join(_period_name(year, freq, n) for n in missing) or f"none (a {unit} has no value)"
                message = (f"{measure} {year}: no annual value for {len(g)} cell(s): a flow is summed over the year "
                           f"only when every {unit} is present; missing: {gap}")
            else:
                message = (f"{measure} {year}: no annual value for {len(g)} cell(s): a stock's annual value is its "
                           f"end-of-year value and {_period_name(year, freq, LAST[freq])} is absent (or has no value)")
            row = next(g.itertuples(index=False))
            issues.append(Issue("warning", f"{message} (e.g. {_example(row)})", file=f"dataset #{ds}",
                                column="time_period", value=str(year)))
    return agg.loc[ok, [*key, "value", "obs_status"]].reset_index(drop=True)
