"""Indicators from published aggregate observations (tidy tables), one dataset version at a time.

Totals and broad age groups missing from a table are derived from its finer cells; where a table
reports a total *and* its parts, the two are compared and every difference becomes an
:class:`~mmicd.issues.Issue` naming the cell; the reported figure is kept, never re-scaled.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine.config import EngineConfig
from mmicd.issues import Issue

T = codes.TOTAL
U = codes.UNKNOWN
GROUP_DIMS = ["sex", "age", "migrant_status", "counterpart_area", "labour_status"]
KEY = ["dataset_id", "ref_area", "time_period", *GROUP_DIMS]
OPEN_UPPER = 999  # an open-ended age group (Y_GE65) runs to this year in coverage arithmetic
REQUIRED = {
    "sex": ({"F", "M", U}, {"F", "M"}),
    "migrant_status": ({"MS_MIGRANT", "MS_NOMIGRANT", U}, {"MS_MIGRANT", "MS_NOMIGRANT"}),
    "labour_status": ({"EMP", "UNE", "INA", U}, {"EMP", "UNE", "INA"}),
}


@cache
def age_table() -> pd.DataFrame:
    """Age codes with integer bounds (upper = OPEN_UPPER for open-ended groups) and kind."""
    frame = codes.codelist("age")
    out = pd.DataFrame({
        "code": frame["code"],
        "kind": frame["kind"],
        "lower": pd.to_numeric(frame["lower"], errors="coerce"),
        "upper": pd.to_numeric(frame["upper"], errors="coerce"),
    }).set_index("code", drop=False)
    out.loc[out["kind"].isin(["5y", "broad", "total"]) & out["upper"].isna(), "upper"] = OPEN_UPPER
    return out


@cache
def bounds() -> dict[str, tuple[int, int]]:
    """Lower and upper year of every age code with bounds (open-ended: upper = OPEN_UPPER)."""
    table = age_table().dropna(subset=["lower"])
    return {c: (int(lo), int(up)) for c, lo, up in zip(table["code"], table["lower"], table["upper"], strict=True)}


def age_range(selection: tuple[str, ...]) -> tuple[int, int]:
    """The year range [lower, upper] covered by the age codes of a selection."""
    b = bounds()
    return min(b[c][0] for c in selection), max(b[c][1] for c in selection)


def within(code: str, lower: int, upper: int) -> bool:
    b = bounds().get(code)
    return b is not None and b[0] >= lower and b[1] <= upper


def _status_of(grouped: pd.DataFrame) -> np.ndarray:
    """One status per derived cell: the parts' common status, else E (mixed statuses)."""
    lo, hi = grouped["_smin"].to_numpy(dtype=object), grouped["_smax"].to_numpy(dtype=object)
    return np.where(lo == hi, lo, "E")


def _age_mapping(present: set[str]) -> pd.DataFrame:
    """(part, target, cover, need): which finer age cells add up to which broader ones."""
    table = age_table()
    fine = [c for c in present if c in table.index and table.at[c, "kind"] == "5y"]
    # an open-ended broad code present with no finer code above its lower bound is a part too (Y_GE75)
    for code in present:
        if code in table.index and table.at[code, "kind"] == "broad" and table.at[code, "upper"] == OPEN_UPPER:
            low = table.at[code, "lower"]
            if not any(table.at[f, "lower"] >= low for f in fine):
                fine.append(code)
    targets = [c for c in table.index if table.at[c, "kind"] in ("broad", "total") and c not in fine]
    rows = []
    for target in targets:
        t_low, t_up = table.at[target, "lower"], table.at[target, "upper"]
        need = t_up - t_low + 1
        for part in fine:
            p_low, p_up = table.at[part, "lower"], table.at[part, "upper"]
            if p_low >= t_low and p_up <= t_up:
                rows.append((part, target, p_up - p_low + 1, need))
        if target == T and U in present:
            rows.append((U, T, 0, need))
    return pd.DataFrame(rows, columns=["part", "target", "cover", "need"])


def _mapping(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    present = set(frame[dim].unique())
    if dim == "age":
        return _age_mapping(present)
    if dim == "counterpart_area":
        parts = [c for c in present if c != T and codes.area_kind(c) in ("country", "other")]
        return pd.DataFrame({"part": parts, "target": T, "cover": 0, "need": 0})
    allowed, required = REQUIRED[dim]
    parts = [c for c in present if c in allowed]
    return pd.DataFrame({"part": parts, "target": T, "cover": [int(p in required) for p in parts],
                         "need": len(required)})


def _cell(row: pd.Series | tuple, names: list[str]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True))


def complete(frame: pd.DataFrame, dim: str, issues: list[Issue], cfg: EngineConfig) -> pd.DataFrame:
    """Add the totals (and broad age groups) of ``dim`` derivable from complete sets of parts;
    compare those also reported with the sum of their parts."""
    if frame.empty:
        return frame
    mapping = _mapping(frame, dim)
    if mapping.empty:
        return frame
    others = [c for c in KEY if c != dim]
    parts = frame.loc[frame["value"].notna()].merge(mapping, left_on=dim, right_on="part")
    if parts.empty:
        return frame
    grouped = parts.groupby([*others, "target"], sort=False, observed=True).agg(
        value=("value", "sum"), cover=("cover", "sum"), need=("need", "first"), n=("part", "size"),
        _smin=("obs_status", "min"), _smax=("obs_status", "max"))
    grouped = grouped.reset_index()
    grouped["obs_status"] = _status_of(grouped)
    ok = grouped["cover"] >= grouped["need"]
    if dim == "counterpart_area":
        ok = grouped["n"] > 0
    derived = grouped.loc[ok, [*others, "target", "value", "obs_status"]].rename(columns={"target": dim})
    if derived.empty:
        return frame
    merged = derived.merge(frame[[*KEY, "value"]], on=KEY, how="left", suffixes=("", "_reported"))
    reported = merged["value_reported"].notna()
    diff = (merged["value"] - merged["value_reported"]).abs()
    bad = reported & (diff > cfg.tolerance_abs) & (diff > cfg.tolerance_rel * merged["value_reported"].abs())
    for row in merged.loc[bad].head(cfg.max_issues).itertuples(index=False):
        cell = _cell([getattr(row, c) for c in KEY[1:]], KEY[1:])
        issues.append(Issue(
            "warning",
            f"reported {dim} total {row.value_reported:,.6g} differs from the sum of its parts "
            f"{row.value:,.6g} ({cell})",
            file=f"dataset #{row.dataset_id}", column=dim, value=cell))
    new = merged.loc[~reported, [*KEY, "value", "obs_status"]]
    return pd.concat([frame, new], ignore_index=True) if not new.empty else frame


def _collapse(frame: pd.DataFrame, dim: str) -> pd.DataFrame:
    """Sum over the codes of ``dim`` kept by a selection; the result is labelled ``_T``."""
    others = [c for c in KEY if c != dim]
    work = frame.assign(_nan=frame["value"].isna())
    out = work.groupby(others, sort=False, observed=True).agg(
        value=("value", "sum"), _nan=("_nan", "any"), _smin=("obs_status", "min"), _smax=("obs_status", "max"))
    out = out.reset_index()
    out["obs_status"] = _status_of(out)
    out.loc[out["_nan"], "value"] = np.nan
    return out.assign(**{dim: T})[[*KEY, "value", "obs_status"]]


def by_breakdown(frame: pd.DataFrame, wanted: tuple[str, ...], issues: list[Issue], cfg: EngineConfig,
                 required: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of the selected source breakdown codes (default ``_T``: figures not split by one), summed
    over them. A cell is summed only when every selected code (and every code of ``required``: a
    ratio's numerator and denominator need the same cells) is present with a value: a sum with a part
    missing (decisions without the rejections) is no value and an Issue, never a smaller number."""
    needed = tuple(dict.fromkeys([*wanted, *required]))
    if "breakdown" not in frame.columns:
        return frame if tuple(needed) == (T,) else frame.iloc[0:0]
    f = frame.loc[frame["breakdown"].isin(needed)]
    if len(needed) == 1 or f.empty:
        return f
    work = f.assign(_nan=f["value"].isna(), _part=f["value"].where(f["breakdown"].isin(wanted), 0.0))
    out = work.groupby(KEY, sort=False, observed=True).agg(
        value=("_part", "sum"), _nan=("_nan", "any"), _n=("breakdown", "nunique"),
        _codes=("breakdown", frozenset), _smin=("obs_status", "min"), _smax=("obs_status", "max")).reset_index()
    out["obs_status"] = _status_of(out)
    ok = (out["_n"] == len(needed)) & ~out["_nan"]
    for ds, g in out.loc[~ok].groupby("dataset_id", sort=False):
        row = g.iloc[0]
        missing = sorted(set(needed) - set(row["_codes"])) or ["a value"]
        cell = _cell([row[c] for c in KEY[1:]], KEY[1:])
        issues.append(Issue(
            "warning", f"{len(g)} cell(s) lack part of the breakdown {' + '.join(needed)}: no value is computed "
                       f"for them (e.g. {cell}: missing {', '.join(missing)})",
            file=f"dataset #{ds}", column="breakdown", value=cell))
    return out.loc[ok, [*KEY, "value", "obs_status"]]


def table(frame: pd.DataFrame, selection: dict[str, tuple[str, ...]], disaggregations: tuple[str, ...],
          issues: list[Issue], cfg: EngineConfig, *, derive: bool = True,
          require_breakdown: tuple[str, ...] = ()) -> pd.DataFrame:
    """The cells of a selection by the given disaggregations (others at ``_T``), per dataset version.

    Returns KEY + value + obs_status. ``derive=False`` keeps the published cells only (passthrough).
    """
    f = frame
    if f.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in [*KEY, "value", "obs_status"]})
    for dim, values in selection.items():
        if dim not in ("age", "breakdown"):
            f = f.loc[f[dim].isin(values)]
    f = by_breakdown(f, selection.get("breakdown", (T,)), issues, cfg, require_breakdown)
    f = f[[*KEY, "value", "obs_status"]]
    if derive:
        for dim in ["age", "sex", "migrant_status", "counterpart_area", "labour_status"]:
            if dim in selection and dim != "age":
                continue
            if dim in disaggregations or (f[dim] != T).any():
                f = complete(f, dim, issues, cfg)
    for dim in GROUP_DIMS:
        if dim == "age" and "age" in selection:
            lower, upper = age_range(selection["age"])
            target = selection["age"][0]
            if "age" in disaggregations:
                inside = {c for c in f["age"].unique() if within(c, lower, upper)}
                keep = f["age"].isin(inside)
                total = f.loc[f["age"] == target].assign(age=T)
                f = pd.concat([f.loc[keep], total], ignore_index=True)
            else:
                f = f.loc[f["age"] == target].assign(age=T)
        elif dim in disaggregations:
            continue
        elif dim in selection:
            if set(selection[dim]) != {T}:
                f = _collapse(f, dim)
        else:
            f = f.loc[f[dim] == T]
    return f.reset_index(drop=True)


def ratio(num: pd.DataFrame, den: pd.DataFrame, factor: float) -> pd.DataFrame:
    """num / den × factor cell by cell, within the same dataset version only."""
    merged = num.merge(den, on=KEY, suffixes=("_n", "_d"))
    d = merged["value_d"].to_numpy(dtype=float)
    n = merged["value_n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(d > 0, n / d * factor, np.nan)
    status = np.where(merged["obs_status_n"] == merged["obs_status_d"], merged["obs_status_n"], "E")
    return merged[KEY].assign(value=value, obs_status=status)


def growth(base: pd.DataFrame) -> pd.DataFrame:
    """r = 100·ln(N2/N1)/(t2−t1) between consecutive reference years of each series; labelled t2."""
    f = base.loc[base["time_period"].str.fullmatch(r"\d{4}")].copy()
    f["_t"] = f["time_period"].astype(int)
    series = [c for c in KEY if c != "time_period"]
    f = f.sort_values([*series, "_t"])
    same = (f[series].shift() == f[series]).all(axis=1)
    prev_v, prev_t = f["value"].shift(), f["_t"].shift()
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 100 * np.log(f["value"] / prev_v) / (f["_t"] - prev_t)
    ok = same & (prev_v > 0) & (f["value"] > 0)
    out = f.loc[ok, KEY].assign(value=r[ok].to_numpy(), obs_status=f.loc[ok, "obs_status"].to_numpy())
    return out.reset_index(drop=True)


def median_age(base: pd.DataFrame) -> pd.DataFrame:
    """Median age interpolated within the median five-year group; needs groups covering 0 upward."""
    table = age_table()
    fine = base.loc[base["age"].map(lambda c: c in table.index and table.at[c, "kind"] == "5y")
                    | base["age"].isin(["Y_GE75"])].copy()
    if fine.empty:
        return base.iloc[0:0][[*KEY, "value", "obs_status"]]
    fine["_lo"] = fine["age"].map(table["lower"])
    fine["_up"] = fine["age"].map(table["upper"])
    rows = []
    series = [c for c in KEY if c != "age"]
    for key, g in fine.groupby(series, sort=False):
        g = g.sort_values("_lo")
        if "Y_GE75" in set(g["age"]) and (g["_lo"] >= 75).sum() > 1:
            g = g.loc[g["age"] != "Y_GE75"]
        lo, up, v = g["_lo"].to_numpy(), g["_up"].to_numpy(), g["value"].to_numpy(dtype=float)
        if lo[0] != 0 or np.any(lo[1:] != up[:-1] + 1) or np.isnan(v).any() or v.sum() <= 0:
            continue  # not a complete age distribution from 0
        cum = np.cumsum(v)
        half = cum[-1] / 2
        i = int(np.searchsorted(cum, half))
        if up[i] == OPEN_UPPER or v[i] <= 0:
            continue
        below = cum[i - 1] if i > 0 else 0.0
        value = lo[i] + (half - below) / v[i] * (up[i] - lo[i] + 1)
        rows.append((*key, T, value, "E"))
    out = pd.DataFrame(rows, columns=[*series, "age", "value", "obs_status"])
    return out[[*KEY, "value", "obs_status"]]
