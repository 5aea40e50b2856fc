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
                unknown_ok: bool) -> None:
    lists = {"measure": "measure", "ref_area": "areas", "counterpart_area": "areas", "sex": "sex", "age": "age",
             "migrant_status": "migrant_status", "labour_status": "labour_status", "obs_status": "obs_status"}
    for col in columns:
        if col not in frame or col not in lists:
            continue
        allowed = codes.codes(lists[col]) | ({codes.TOTAL} if col != "obs_status" else set())
        if unknown_ok:
            allowed = allowed | {codes.UNKNOWN}
        bad = ~frame[col].isin(allowed)
        key = "unknown_area" if col in ("ref_area", "counterpart_area") else "unknown_code"
        ctx.cells("error", key, frame, bad, col, source_values=raw.get(col, frame[col]))
    if "time_period" in frame:
        codes_, uniques = pd.factorize(frame["time_period"].astype("string"))
        ok = np.array([bool(re.match(TIME_PERIOD_PATTERN, str(u))) for u in uniques] + [False])
        bad = pd.Series(~ok[codes_], index=frame.index)
        ctx.cells("error", "bad_period", frame, bad, "time_period", source_values=raw.get("time_period"))


def check_observations(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series]) -> None:
    """Errors and warnings of a canonical observation frame (with ``_row``/``_col``)."""
    check_codes(ctx, frame, raw, [c for c in DIMENSIONS if c != "time_period"] + ["obs_status"], unknown_ok=False)
    value = frame["value"]
    counts = frame["unit_measure"].isin(COUNT_UNITS) & ~frame["measure"].isin(SIGNED_MEASURES)
    ctx.cells("error", "negative", frame, counts & (value < 0), "value", source_values=raw.get("value"))
    # a part of a whole lies in 0..100; a ratio (refugees per migrant stock, remittances per GDP) may not
    nature = frame["measure"].map(codes.codelist("measure")["nature"]).fillna("")
    share = (frame["unit_measure"] == "PT") & (nature != "ratio")
    ctx.cells("error", "share_range", frame, share & ((value < 0) | (value > 100)), "value",
              source_values=raw.get("value"))
    check_duplicates(ctx, frame, DIMENSIONS)
    check_age_bands(ctx, frame)
    check_sums(ctx, frame)
    check_equal_sexes(ctx, frame)
    check_jumps(ctx, frame)


def check_duplicates(ctx: Context, frame: pd.DataFrame, key: list[str]) -> None:
    dup = frame.duplicated(key, keep=False)
    if not dup.any():
        return
    first = frame.loc[dup].groupby(key, sort=False)["_row"].agg(list)
    for n, rows in enumerate(first):
        if n >= MAX_PER_CHECK:
            ctx.add("error", "more", n=len(first) - MAX_PER_CHECK, check="duplicate", column="")
            break
        ctx.add("error", "duplicate", row=int(rows[1]), column=None,
                value=None, rows=", ".join(str(r) for r in rows[:5]))


def _group_cols(frame: pd.DataFrame, without: str) -> list[str]:
    return [c for c in DIMENSIONS if c != without]


def check_age_bands(ctx: Context, frame: pd.DataFrame) -> None:
    """Age bands of one breakdown must neither overlap nor leave gaps."""
    ages = frame.loc[~frame["age"].isin([codes.TOTAL, codes.UNKNOWN]), "age"]
    if ages.nunique() < 2:
        return
    bounds = {a: codes.age_bounds(a) for a in ages.unique()}
    if any(lo is None for lo, _ in bounds.values()):
        return
    groups = frame.loc[ages.index].groupby(_group_cols(frame, "age"), sort=False)
    seen: set[tuple] = set()
    for _, part in groups:
        bands = sorted({(bounds[a][0], bounds[a][1] if bounds[a][1] is not None else 10_000, a)
                        for a in part["age"]})
        sig = tuple(b[2] for b in bands)
        if sig in seen:
            continue
        seen.add(sig)
        rows = dict(zip(part["age"], part["_row"], strict=False))
        for (_lo1, hi1, a1), (lo2, _hi2, a2) in zip(bands, bands[1:], strict=False):
            if lo2 <= hi1:
                ctx.add("error", "age_overlap", row=int(rows[a2]), column=ctx.col("age"), value=a2, other=a1)
            elif lo2 > hi1 + 1:
                ctx.add("error", "age_gap", row=int(rows[a2]), column=ctx.col("age"), value=a2, other=a1,
                        lower=hi1 + 1, upper=lo2 - 1)


PARTS = {
    "sex": (["F", "M", codes.UNKNOWN], "sex"),
    "migrant_status": (["MS_MIGRANT", "MS_NOMIGRANT", codes.UNKNOWN], "migrant_status"),
}


def check_sums(ctx: Context, frame: pd.DataFrame) -> None:
    """Parts (sex, migrant status, complete age bands) against their total: warnings."""
    for dim, (parts, _) in PARTS.items():
        _check_sum(ctx, frame, dim, frame[dim].isin(parts))
    ages = frame["age"]
    kinds = codes.codelist("age")["kind"].to_dict()
    five = ages.map(kinds).fillna("")
    _check_sum(ctx, frame, "age", (five == "5y") | (ages == codes.UNKNOWN), complete_ages=True)


def _check_sum(ctx: Context, frame: pd.DataFrame, dim: str, is_part: pd.Series, complete_ages: bool = False) -> None:
    totals = frame[frame[dim] == codes.TOTAL]
    if totals.empty or not is_part.any():
        return
    keys = _group_cols(frame, dim)
    part = frame[is_part]
    grouped = part.groupby(keys, sort=False)
    sums = pd.DataFrame({"parts": grouped["value"].sum(min_count=1), "n": grouped["value"].size()})
    if complete_ages:
        age = part["age"].astype(str)
        flags = pd.DataFrame({"open": age.str.startswith("Y_GE"), "zero": age.str.startswith("Y0T")},
                             index=part.index)
        cover = flags.groupby([part[k] for k in keys], sort=False).any()
        sums = sums[(cover["open"] & cover["zero"]).reindex(sums.index).fillna(False).astype(bool)]
    extra = [c for c in ("_sheet", "_col") if c in totals]
    joined = totals.set_index(keys)[["value", "_row", "unit_mult", *extra]].join(sums, how="inner")
    joined = joined[joined["value"].notna() & joined["parts"].notna()]
    if joined.empty:
        return
    diff = (joined["parts"] - joined["value"]).abs()
    rounding = joined["n"] * 0.5 * np.power(10.0, joined["unit_mult"].astype(float))
    big = diff > np.maximum(SUM_TOLERANCE * joined["value"].abs(), rounding)
    small = (diff > 1e-6 * np.maximum(joined["value"].abs(), 1)) & ~big
    for level_mask, key in ((big, "sum_mismatch"), (small, "rounding")):
        hits = joined[level_mask]
        for n, (_, r) in enumerate(hits.iterrows()):
            if n >= MAX_PER_CHECK:
                ctx.add("warning", "more", n=len(hits) - MAX_PER_CHECK, check=key, column="")
                break
            ctx.add("warning", key, row=int(r["_row"]), column=str(r.get("_col", ctx.col("value"))),
                    value=_fmt(r["value"]), sheet=r.get("_sheet"),
                    dimension=dim, parts=_fmt(r["parts"]), total=_fmt(r["value"]))


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.3f}"


def check_equal_sexes(ctx: Context, frame: pd.DataFrame) -> None:
    """Equal female and male counts (over all partner areas when there is no partner total)."""
    sub = frame[frame["sex"].isin(["F", "M"]) & frame["unit_measure"].isin(COUNT_UNITS) & frame["value"].notna()]
    if sub.empty:
        return
    keys = [c for c in DIMENSIONS if c not in ("sex", "counterpart_area")]
    has_total = (sub["counterpart_area"] == codes.TOTAL).any()
    if has_total:
        sub = sub[sub["counterpart_area"] == codes.TOTAL]
    cells = {"col": ("_col", "first")} if "_col" in sub else {}
    wide = sub.groupby([*keys, "sex"], sort=False).agg(value=("value", "sum"), row=("_row", "min"),
                                                      **cells).unstack("sex")
    if ("value", "F") not in wide or ("value", "M") not in wide:
        return
    same = wide[(wide[("value", "F")] == wide[("value", "M")]) & (wide[("value", "F")] >= EQUAL_MIN)]
    for n, (idx, r) in enumerate(same.iterrows()):
        if n >= MAX_PER_CHECK:
            break
        area, period = idx[keys.index("ref_area")], idx[keys.index("time_period")]
        ctx.add("warning", "equal_sexes", row=int(r[("row", "F")]),
                column=str(r[("col", "F")]) if cells else ctx.col("value"),
                value=_fmt(r[("value", "F")]), area=area, period=period)


def check_jumps(ctx: Context, frame: pd.DataFrame) -> None:
    """A value ten times larger or smaller than the previous period of the same series."""
    sub = frame[frame["value"].notna() & (frame["value"].abs() >= JUMP_MIN)]
    if sub.empty or sub["time_period"].nunique() < 2:
        return
    keys = [c for c in DIMENSIONS if c != "time_period"]
    sub = sub.sort_values([*keys, "time_period"])
    prev = sub.groupby(keys, sort=False)["value"].shift()
    ratio = sub["value"] / prev
    hit = sub[(ratio > JUMP_FACTOR) | (ratio < 1 / JUMP_FACTOR)]
    for n, (i, r) in enumerate(hit.iterrows()):
        if n >= MAX_PER_CHECK:
            break
        ctx.add("warning", "jump", row=int(r["_row"]), column=str(r["_col"]) if "_col" in hit else ctx.col("value"),
                sheet=r.get("_sheet"),
                value=_fmt(r["value"]), previous=_fmt(prev.loc[i]), period=r["time_period"])


def check_microdata(ctx: Context, frame: pd.DataFrame, raw: dict[str, pd.Series]) -> None:
    check_codes(ctx, frame, raw, ["ref_area", "sex", "migrant_status", "labour_status"], unknown_ok=True)
    age, weight = frame["age"], frame["weight"]
    ctx.cells("error", "age_range", frame, age.notna() & ((age < 0) | (age > 130)), "age",
              source_values=raw.get("age"))
    if "weight" in raw:
        ctx.cells("error", "negative_weight", frame, weight.notna() & (weight <= 0), "weight",
                  source_values=raw.get("weight"))
