"""Validation of mapped tables: every problem of a file at once, as translated :class:`Issue` values.

Input is a canonical frame (observations or microdata) with two helper columns: ``_row`` (the
1-based row number as the spreadsheet shows it) and optionally ``_col`` (the source header of
the cell the value came from, for wide layouts). ``columns`` maps canonical -> source header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.clean.keys import Keys
from mmicd.i18n import t
from mmicd.issues import Issue
from mmicd.model import DIMENSIONS, TIME_PERIOD_PATTERN

MAX_PER_CHECK = 100          # cell-level issues per check and column; then one summary issue
SUM_TOLERANCE = 0.005        # parts vs total: more than 0.5 % off -> "does not add up"
JUMP_FACTOR = 10.0           # a value 10 times larger or smaller than the previous period
JUMP_MIN = 1000.0
EQUAL_MIN = 1000.0           # equal female and male counts flagged from this size on
COUNT_UNITS = {"PS"}
SIGNED_MEASURES = {"NET_MIG"}


@dataclass
class Context:
    file: str
    sheet: str | None
    lang: str
    columns: dict[str, str] = field(default_factory=dict)   # canonical -> source header
    issues: list[Issue] = field(default_factory=list)

    def col(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    def add(self, level: str, key: str, *, row: int | None = None, column: str | None = None,
            value: object = None, sheet: str | None = None, **fields: object) -> None:
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
        fields.setdefault("value", text)
        fields.setdefault("column", column or "")
        self.issues.append(Issue(level, t(f"ingest.issue.{key}", self.lang, **fields), file=self.file,
                                 sheet=sheet or self.sheet, row=row, column=column, value=text or None))

    def cells(self, level: str, key: str, frame: pd.DataFrame, mask: pd.Series, canonical: str,
              *, value_col: str | None = None, source_values: pd.Series | None = None, **fields) -> None:
        """One issue per offending cell (up to MAX_PER_CHECK), then a count."""
        flags = mask.to_numpy(dtype=bool, na_value=False) if isinstance(mask, pd.Series) else np.asarray(mask, bool)
        idx = np.flatnonzero(flags)
        if not len(idx):
            return
        values = source_values if source_values is not None else frame[value_col or canonical]
        rows = frame["_row"].to_numpy() if "_row" in frame else np.arange(len(frame)) + 2
        cols = frame["_col"].to_numpy() if "_col" in frame and canonical == "value" else None
        sheets = frame["_sheet"].to_numpy() if "_sheet" in frame else None
        for i in idx[:MAX_PER_CHECK]:
            column = str(cols[i]) if cols is not None else self.col(canonical)
            self.add(level, key, row=int(rows[i]), column=column, value=values.iloc[i],
                     sheet=str(sheets[i]) if sheets is not None else None, **fields)
        if len(idx) > MAX_PER_CHECK:
            self.add(level, "more", column=self.col(canonical), n=len(idx) - MAX_PER_CHECK, check=key)


REQUIRED = {
    "observations": ["ref_area", "time_period", "value"],
    "microdata": ["time_period", "sex", "age", "weight"],
}


def check_required(ctx: Context, present: set[str], form: str, kind: str) -> bool:
    needed = list(REQUIRED[form])
    if form == "microdata" and "ref_area" not in present:
        needed.append("ref_area")
    if form == "observations" and kind in ("remittances",):
        needed.append("measure")
    missing = [c for c in needed if c not in present]
    for c in missing:
        ctx.add("error", "missing_column", column=c)
    return not missing


def check_codes(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series], columns: list[str],
                unknown_ok: bool, keys: Keys | None = None, periods: bool = True) -> None:
    keys = keys or Keys(frame)
    lists = {"measure": "measure", "ref_area": "areas", "counterpart_area": "areas", "sex": "sex", "age": "age",
             "migrant_status": "migrant_status", "labour_status": "labour_status", "obs_status": "obs_status"}
    for col in columns:
        if col not in frame or col not in lists:
            continue
        allowed = codes.codes(lists[col]) | ({codes.TOTAL} if col != "obs_status" else set())
        if unknown_ok:
            allowed = allowed | {codes.UNKNOWN}
        bad = ~keys.isin(col, allowed)
        key = "unknown_area" if col in ("ref_area", "counterpart_area") else "unknown_code"
        ctx.cells("error", key, frame, bad, col, source_values=raw.get(col, frame[col]))
    if "time_period" in frame and periods:
        ok = keys.map("time_period", lambda u: bool(re.match(TIME_PERIOD_PATTERN, u)))
        ctx.cells("error", "bad_period", frame, ~ok, "time_period", source_values=raw.get("time_period"))


def check_observations(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series], keys: Keys | None = None,
                       codes_checked: list[str] | tuple[str, ...] = ()) -> None:
    """Errors and warnings of a canonical observation frame (with ``_row``/``_col``); ``keys``: the
    dimension codes when the caller has them (see :mod:`mmicd.clean.keys`); ``codes_checked``:
    columns whose codes (and, for ``time_period``, periods) the caller checked already."""
    keys = keys or Keys(frame)
    check_codes(ctx, frame, raw, [c for c in [*DIMENSIONS, "obs_status"] if c != "time_period" and c not in codes_checked],
                unknown_ok=False, keys=keys, periods="time_period" not in codes_checked)
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    counts = keys.isin("unit_measure", COUNT_UNITS) & ~keys.isin("measure", SIGNED_MEASURES)
    with np.errstate(invalid="ignore"):
        ctx.cells("error", "negative", frame, counts & (value < 0), "value", source_values=raw.get("value"))
        share = keys.equals("unit_measure", "PT")
        ctx.cells("error", "share_range", frame, share & ((value < 0) | (value > 100)), "value",
                  source_values=raw.get("value"))
    check_duplicates(ctx, frame, DIMENSIONS, keys)
    check_age_bands(ctx, frame, keys)
    check_sums(ctx, frame, keys)
    check_equal_sexes(ctx, frame, keys)
    check_jumps(ctx, frame, keys)


def check_duplicates(ctx: Context, frame: pd.DataFrame, key: list[str], keys: Keys | None = None) -> None:
    keys = keys or Keys(frame)
    ids, k = keys.group(key)
    dup = np.bincount(ids, minlength=k)[ids] > 1 if len(ids) else np.zeros(0, bool)
    if not dup.any():
        return
    where = np.flatnonzero(dup)
    order = where[np.argsort(ids[where], kind="stable")]        # duplicate rows by key, in frame order
    starts = np.flatnonzero(np.r_[True, ids[order][1:] != ids[order][:-1]])
    groups = sorted(np.split(order, starts[1:]), key=lambda g: g[0])   # keys in order of first appearance
    rows = frame["_row"].to_numpy()
    for n, members in enumerate(groups):
        if n >= MAX_PER_CHECK:
            ctx.add("error", "more", n=len(groups) - MAX_PER_CHECK, check="duplicate", column="")
            break
        found = [int(rows[i]) for i in members]
        ctx.add("error", "duplicate", row=found[1], column=None, value=None, rows=", ".join(str(r) for r in found[:5]))


def _group_cols(frame: pd.DataFrame, without: str) -> list[str]:
    return [c for c in DIMENSIONS if c != without]


def _distinct(values: np.ndarray, size: int) -> np.ndarray:
    """The distinct values (sorted) of non-negative integers below ``size``."""
    if size <= 4 * len(values) + 1024:
        present = np.zeros(size, dtype=bool)
        present[values] = True
        return np.flatnonzero(present)
    return np.unique(values)


def _sorted_by(key: np.ndarray, size: int, where: np.ndarray) -> np.ndarray:
    """``where`` ordered by ``key`` (non-negative integers below ``size``): by a table over the key
    range when the keys are distinct, else by a stable sort."""
    if size <= 4 * len(key) + 1024:
        table = np.full(size, -1, dtype=np.int64)
        table[key] = np.arange(len(key))
        found = table[table >= 0]
        if len(found) == len(key):
            return where[found]
    return where[np.argsort(key, kind="stable")]


def _first_rows(ids: np.ndarray, where: np.ndarray, k: int) -> np.ndarray:
    """Per group, the first position in ``where`` (positions of rows) of that group; len(frame) if none."""
    first = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, ids[where], where)
    return first


def check_age_bands(ctx: Context, frame: pd.DataFrame, keys: Keys | None = None) -> None:
    """Age bands of one breakdown must neither overlap nor leave gaps (each set of bands checked once)."""
    keys = keys or Keys(frame)
    acodes, labels = keys.codes("age")
    is_band = np.array([a not in (codes.TOTAL, codes.UNKNOWN) for a in labels], dtype=bool)
    present = np.bincount(acodes, minlength=len(labels)) > 0
    bands = [i for i in range(len(labels)) if is_band[i] and present[i]]
    if len(bands) < 2:
        return
    bounds = {i: codes.age_bounds(labels[i]) for i in bands}
    if any(lo is None for lo, _ in bounds.values()):
        return
    ids, k = keys.group(_group_cols(frame, "age"))
    where = np.flatnonzero(is_band[acodes])
    # the set of bands of each group as bit masks (exact in floats: 52 bands per mask)
    slot = np.full(len(labels), -1, dtype=np.int64)
    slot[bands] = np.arange(len(bands))
    pairs = _distinct(ids[where] * len(labels) + acodes[where], k * len(labels))
    g, a = pairs // len(labels), pairs % len(labels)
    masks = [np.bincount(g, weights=np.where((slot >= 0) & (slot // 52 == c), np.exp2(slot % 52), 0.0)[a],
                         minlength=k) for c in range((len(bands) + 51) // 52)]
    has = np.bincount(g, minlength=k) > 0
    first = _first_rows(ids, where, k)
    groups = np.flatnonzero(has)
    groups = groups[np.argsort(first[groups], kind="stable")]          # in order of first appearance
    signatures = np.stack([m[groups] for m in masks], axis=1)
    _, firsts = np.unique(signatures[:, 0], return_index=True) if signatures.shape[1] == 1 else \
        np.unique(signatures, axis=0, return_index=True)
    rows = frame["_row"].to_numpy()
    for rep in groups[np.sort(firsts)]:
        members = [i for i in bands if (int(masks[slot[i] // 52][rep]) >> int(slot[i] % 52)) & 1]
        ordered = sorted((bounds[i][0], bounds[i][1] if bounds[i][1] is not None else 10_000, i) for i in members)
        for (_lo1, hi1, a1), (lo2, _hi2, a2) in zip(ordered, ordered[1:], strict=False):
            if lo2 <= hi1 or lo2 > hi1 + 1:
                at = np.flatnonzero((ids == rep) & (acodes == a2))
                row = int(rows[at[-1]])
                if lo2 <= hi1:
                    ctx.add("error", "age_overlap", row=row, column=ctx.col("age"), value=labels[a2], other=labels[a1])
                else:
                    ctx.add("error", "age_gap", row=row, column=ctx.col("age"), value=labels[a2], other=labels[a1],
                            lower=hi1 + 1, upper=lo2 - 1)


PARTS = {
    "sex": (["F", "M", codes.UNKNOWN], "sex"),
    "migrant_status": (["MS_MIGRANT", "MS_NOMIGRANT", codes.UNKNOWN], "migrant_status"),
}


def check_sums(ctx: Context, frame: pd.DataFrame, keys: Keys | None = None) -> None:
    """Parts (sex, migrant status, complete age bands) against their total: warnings."""
    keys = keys or Keys(frame)
    for dim, (parts, _) in PARTS.items():
        _check_sum(ctx, frame, keys, dim, keys.isin(dim, parts))
    kinds = codes.codelist("age")["kind"].to_dict()
    five = keys.map("age", lambda a: kinds.get(a, "") == "5y")
    _check_sum(ctx, frame, keys, "age", five | keys.equals("age", codes.UNKNOWN), complete_ages=True)


def _check_sum(ctx: Context, frame: pd.DataFrame, keys: Keys, dim: str, is_part: np.ndarray,
               complete_ages: bool = False) -> None:
    is_total = keys.equals(dim, codes.TOTAL)
    if not is_total.any() or not is_part.any():
        return
    ids, k = keys.group(_group_cols(frame, dim))
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    ok = is_part & ~np.isnan(value)
    # weighted counts over every row (no compaction of the parts): rows, valued rows, sum per group
    n = np.bincount(ids, weights=is_part, minlength=k)
    parts = np.bincount(ids, weights=np.where(ok, value, 0.0), minlength=k)
    parts[np.bincount(ids, weights=ok, minlength=k) == 0] = np.nan
    covered = n > 0
    if complete_ages:
        open_ = keys.map("age", lambda a: a.startswith("Y_GE")) & is_part
        zero = keys.map("age", lambda a: a.startswith("Y0T")) & is_part
        covered &= (np.bincount(ids[open_], minlength=k) > 0) & (np.bincount(ids[zero], minlength=k) > 0)
    at = np.flatnonzero(is_total)
    at = at[covered[ids[at]]]
    total, summed = value[at], parts[ids[at]]
    keep = ~np.isnan(total) & ~np.isnan(summed)
    at, total, summed = at[keep], total[keep], summed[keep]
    if not len(at):
        return
    mult = frame["unit_mult"].to_numpy()[at].astype(float)
    diff = np.abs(summed - total)
    rounding = n[ids[at]] * 0.5 * np.power(10.0, mult)
    big = diff > np.maximum(SUM_TOLERANCE * np.abs(total), rounding)
    small = (diff > 1e-6 * np.maximum(np.abs(total), 1)) & ~big
    rows = frame["_row"].to_numpy()
    cols = frame.get("_col")
    sheets = frame.get("_sheet")
    for level_mask, key in ((big, "sum_mismatch"), (small, "rounding")):
        hits = np.flatnonzero(level_mask)
        for n_hit, j in enumerate(hits):
            if n_hit >= MAX_PER_CHECK:
                ctx.add("warning", "more", n=len(hits) - MAX_PER_CHECK, check=key, column="")
                break
            i = at[j]
            ctx.add("warning", key, row=int(rows[i]), column=str(cols.iloc[i]) if cols is not None else ctx.col("value"),
                    value=_fmt(total[j]), sheet=sheets.iloc[i] if sheets is not None else None,
                    dimension=dim, parts=_fmt(summed[j]), total=_fmt(total[j]))


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.3f}"


def check_equal_sexes(ctx: Context, frame: pd.DataFrame, keys: Keys | None = None) -> None:
    """Equal female and male counts (over all partner areas when there is no partner total)."""
    keys = keys or Keys(frame)
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    sub = keys.isin("sex", ["F", "M"]) & keys.isin("unit_measure", COUNT_UNITS) & ~np.isnan(value)
    if not sub.any():
        return
    partner_total = keys.equals("counterpart_area", codes.TOTAL)
    if (sub & partner_total).any():
        sub &= partner_total
    ids, k = keys.group([c for c in DIMENSIONS if c not in ("sex", "counterpart_area")])
    sums, firsts = {}, {}
    for sex in ("F", "M"):
        where = np.flatnonzero(sub & keys.equals("sex", sex))
        sums[sex] = np.where(np.bincount(ids[where], minlength=k) > 0,
                             np.bincount(ids[where], weights=value[where], minlength=k), np.nan)
        firsts[sex] = _first_rows(ids, where, k)
    same = np.flatnonzero((sums["F"] == sums["M"]) & (sums["F"] >= EQUAL_MIN))
    rows = frame["_row"].to_numpy()
    cols = frame.get("_col")
    (area_codes, areas), (period_codes, periods) = keys.codes("ref_area"), keys.codes("time_period")
    for n, g in enumerate(same):
        if n >= MAX_PER_CHECK:
            break
        where = np.flatnonzero(sub & keys.equals("sex", "F") & (ids == g))
        first = firsts["F"][g]
        ctx.add("warning", "equal_sexes", row=int(rows[where].min()),
                column=str(cols.iloc[first]) if cols is not None else ctx.col("value"),
                value=_fmt(sums["F"][g]), area=areas[area_codes[first]], period=periods[period_codes[first]])


def check_jumps(ctx: Context, frame: pd.DataFrame, keys: Keys | None = None) -> None:
    """A value ten times larger or smaller than the previous period of the same series."""
    keys = keys or Keys(frame)
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        where = np.flatnonzero(~np.isnan(value) & (np.abs(value) >= JUMP_MIN))
    if not len(where):
        return
    tcodes, periods = keys.codes("time_period")
    if np.count_nonzero(np.bincount(tcodes[where], minlength=len(periods))) < 2:
        return
    ids, k = keys.group([c for c in DIMENSIONS if c != "time_period"])
    order = _sorted_by(ids[where] * len(periods) + tcodes[where], k * len(periods), where)   # series, then period
    v, g = value[order], ids[order]
    prev = np.r_[np.nan, v[:-1]]
    prev[np.r_[True, g[1:] != g[:-1]]] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = v / prev
        hits = np.flatnonzero((ratio > JUMP_FACTOR) | (ratio < 1 / JUMP_FACTOR))
    rows = frame["_row"].to_numpy()
    cols = frame.get("_col")
    sheets = frame.get("_sheet")
    for n, j in enumerate(hits):
        if n >= MAX_PER_CHECK:
            break
        i = order[j]
        ctx.add("warning", "jump", row=int(rows[i]), column=str(cols.iloc[i]) if cols is not None else ctx.col("value"),
                sheet=sheets.iloc[i] if sheets is not None else None,
                value=_fmt(v[j]), previous=_fmt(prev[j]), period=periods[tcodes[i]])


def check_microdata(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series]) -> None:
    check_codes(ctx, frame, raw, ["ref_area", "sex", "migrant_status", "labour_status"], unknown_ok=True)
    age, weight = frame["age"], frame["weight"]
    ctx.cells("error", "age_range", frame, age.notna() & ((age < 0) | (age > 130)), "age",
              source_values=raw.get("age"))
    if "weight" in raw:
        ctx.cells("error", "negative_weight", frame, weight.notna() & (weight <= 0), "weight",
                  source_values=raw.get("weight"))
