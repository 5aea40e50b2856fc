"""Rules on cells (each value on its own) and on keys (duplicates, age bands): errors, mostly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.rules.base import (
    AGE_MAX,
    COUNT_UNITS,
    FIRST_YEAR,
    FRACTION_NOISE,
    MAX_PER_CHECK,
    MD,
    MISSING_STATUSES,
    NON_FINITE_TEXT,
    OBS,
    SIGNED_MEASURES,
    Found,
    Params,
    Rule,
    by_unique,
    column_codes,
    dims,
    group_ids,
    is_in,
    lookup,
    members_of_groups,
    period_years,
    row_labels,
    rule,
    sub_group_ids,
    values_of,
)


# ---- observations: cells ------------------------------------------------------------------------
def code_rules(form: str, lists: dict[str, str]) -> list[Rule]:
    """One rule per coded column: its codes are closed by its code list."""
    out = []
    for col, listname in lists.items():
        def check(frame: pd.DataFrame, p: Params, col: str = col, listname: str = listname) -> np.ndarray:
            allowed = set(codes.codes(listname))
            if col == "ref_area":   # a subdivision of a country (ISO 3166-2 or an office's code)
                from mmicd.subdivisions import subdivisions
                allowed |= set(subdivisions().index)
            if col != "obs_status" and form == OBS:
                allowed.add(codes.TOTAL)
            if p.unknown_ok:
                allowed.add(codes.UNKNOWN)
            return ~is_in(frame, col, allowed)

        key = "unknown_area" if listname == "areas" else "unknown_code"
        out.append(Rule(f"code.{col}", "error", form, col, (key,), check,
                        f"{col}: only codes of the code list `{listname}`", needs=(col,)))
    if form == OBS:
        out.append(Rule("code.breakdown", "error", form, "breakdown", ("unknown_code",), _breakdown,
                        "breakdown: `_T` or TYPE:CODE pairs of the code list `breakdown`", needs=("breakdown",)))
    return out


def _breakdown(frame: pd.DataFrame, p: Params) -> np.ndarray:
    index, uniques = column_codes(frame, "breakdown")      # (a missing cell is '')
    return ~np.array([codes.breakdown_ok(str(u)) for u in uniques] + [False], dtype=bool)[index]


def _period(frame: pd.DataFrame, p: Params) -> np.ndarray:
    return np.isnan(period_years(frame))


def _year_range(frame: pd.DataFrame, p: Params) -> np.ndarray:
    year = period_years(frame)
    late = year > p.last_year
    if p.projections and late.any():
        status = frame["obs_status"].astype("string").fillna("") if "obs_status" in frame else None
        declared = (status == "E").to_numpy(dtype=bool) if status is not None else np.zeros(len(frame), bool)
        if "value" in frame:
            declared = declared | np.isnan(values_of(frame, "value"))
        late = late & ~declared
    return (year < FIRST_YEAR) | late


def _year_fields(frame: pd.DataFrame, p: Params) -> dict:
    return {"lower": FIRST_YEAR, "upper": p.last_year}


def _not_a_number(frame: pd.DataFrame, p: Params) -> np.ndarray | Found:
    """Text that is no number (``_bad``), and numbers the reader could not settle (``_why``: which
    decimal mark? see :func:`mmicd.clean.numbers.undecided`), told with their own message."""
    bad = frame["_bad"].to_numpy(dtype=bool, na_value=False)
    if "_why" not in frame:
        return bad
    why = frame["_why"].to_numpy(dtype=object)
    pos = np.flatnonzero(bad | pd.notna(why))
    told = [why[i] if isinstance(why[i], dict) else {"key": "not_a_number"} for i in pos]
    return Found(pos, fields=pd.DataFrame(told, columns=list(dict.fromkeys(k for d in told for k in d)), dtype=object))


def _formula(frame: pd.DataFrame, p: Params) -> np.ndarray:
    return frame["_formula"].to_numpy(dtype=bool, na_value=False)


def _non_finite(frame: pd.DataFrame, p: Params) -> np.ndarray:
    value = values_of(frame, "value")
    bad = np.isinf(value)
    if "_text" in frame:  # only a cell read as no finite number can spell one
        maybe = np.flatnonzero(~np.isfinite(value))
        if len(maybe):
            bad[maybe] |= by_unique(frame["_text"].iloc[maybe], lambda s: bool(NON_FINITE_TEXT.match(s)))
    return bad


def _counts(frame: pd.DataFrame) -> np.ndarray:
    return is_in(frame, "unit_measure", COUNT_UNITS) & ~is_in(frame, "measure", SIGNED_MEASURES)


def _negative(frame: pd.DataFrame, p: Params) -> np.ndarray:
    value = values_of(frame, "value")
    return _counts(frame) & np.isfinite(value) & (value < 0)


def _share(frame: pd.DataFrame, p: Params) -> np.ndarray:
    """A percentage of a whole lies in 0..100; a ratio (``nature: ratio`` in the measure code list,
    e.g. refugees per 100 migrants, remittances per GDP) may exceed 100."""
    value = values_of(frame, "value")
    share = is_in(frame, "unit_measure", {"PT"})
    table = codes.codelist("measure")
    if "nature" in table and "measure" in frame:
        share = share & (lookup(frame, "measure", table["nature"].fillna("").to_dict(), "") != "ratio")
    return share & np.isfinite(value) & ((value < 0) | (value > 100))


def _missing_status(frame: pd.DataFrame, p: Params) -> np.ndarray:
    value = values_of(frame, "value")
    return np.isnan(value) & ~is_in(frame, "obs_status", MISSING_STATUSES)


def _fraction(frame: pd.DataFrame, p: Params) -> np.ndarray:
    value = values_of(frame, "value")
    persons = is_in(frame, "unit_measure", COUNT_UNITS)
    with np.errstate(invalid="ignore"):
        off = np.abs(value - np.round(value))
        noise = np.maximum(FRACTION_NOISE[0] * np.abs(value), FRACTION_NOISE[1])
        return persons & np.isfinite(value) & (off > noise)


# ---- observations: rows together ----------------------------------------------------------------
def _duplicates(frame: pd.DataFrame, p: Params) -> Found:
    """One failure per repeated key, at its second row, naming the first rows that hold it."""
    key = dims(frame)
    every = group_ids(frame, key)
    dup = np.bincount(every)[every] > 1 if len(every) else np.zeros(0, dtype=bool)
    if not dup.any():
        return Found(np.zeros(0, dtype="int64"))
    labels = row_labels(frame)
    where = np.flatnonzero(dup)
    gid = np.full(len(frame), -1, dtype="int64")
    gid[where] = sub_group_ids(every, where)
    firsts = pd.unique(gid[where])
    ptr, members = members_of_groups(np.where(gid < 0, np.iinfo("int64").max, gid), firsts)
    pos = members[ptr[:-1] + 1]
    # the rows are spelled out for the failures told one by one (the others are only counted)
    rows = [", ".join(str(labels[m]) for m in members[ptr[k]:min(ptr[k + 1], ptr[k] + 5)])
            if k < MAX_PER_CHECK else "" for k in range(len(firsts))]
    fields = pd.DataFrame({"value": None, "column": None, "rows": rows}, dtype=object)
    return Found(pos.astype("int64"), fields, ptr, members)


def _age_bands(frame: pd.DataFrame, p: Params) -> Found:
    """Age bands of one breakdown must neither overlap nor leave gaps."""
    empty = Found(np.zeros(0, dtype="int64"))
    index, uniques = column_codes(frame, "age")
    is_band = np.array([u not in (codes.TOTAL, codes.UNKNOWN, "") for u in uniques] + [False], dtype=bool)
    # the band codes present (sorted), counted instead of sorting the rows' codes
    present = np.flatnonzero((np.bincount(index, minlength=len(uniques)) > 0) & is_band[:len(uniques)])
    if len(present) < 2:
        return empty
    bounds = {str(uniques[i]): codes.age_bounds(str(uniques[i])) for i in present}
    if any(lo is None for lo, _ in bounds.values()):
        return empty  # unknown age codes are reported by their own rule
    if len(present) > 62:
        return empty  # more bands than any code list holds: unknown codes, reported by their own rule
    positions = np.flatnonzero(is_band[index])
    gid = sub_group_ids(group_ids(frame, dims(frame, ("age",))), positions)
    # each distinct set of bands is judged once, at the first breakdown that has it (sets as bit masks)
    code = np.searchsorted(present, index[positions])     # the band of each row: names[code]
    names = [str(uniques[i]) for i in present]
    signature = np.zeros(int(gid.max()) + 1, dtype="int64")
    np.bitwise_or.at(signature, gid, np.left_shift(np.int64(1), code.astype("int64")))
    _, first = np.unique(signature, return_index=True)
    pos, keys, other, lower, upper = [], [], [], [], []
    for g in np.sort(first):
        sig = [str(a) for k, a in enumerate(names) if signature[g] >> k & 1]
        bands = sorted((bounds[a][0], bounds[a][1] if bounds[a][1] is not None else 10_000, a) for a in sig)
        mine = gid == g
        for (_lo1, hi1, a1), (lo2, _hi2, a2) in zip(bands, bands[1:], strict=False):
            if lo2 > hi1 + 1 or lo2 <= hi1:
                pos.append(int(positions[mine & (code == names.index(a2))][-1]))
                keys.append("age_overlap" if lo2 <= hi1 else "age_gap")
                other.append(a1)
                lower.append(None if lo2 <= hi1 else hi1 + 1)
                upper.append(None if lo2 <= hi1 else lo2 - 1)
    if not pos:
        return empty
    fields = pd.DataFrame({"key": keys, "value": frame["age"].to_numpy()[pos], "other": other,
                           "lower": lower, "upper": upper}, dtype=object)
    return Found(np.array(pos, dtype="int64"), fields)


# ---- microdata ----------------------------------------------------------------------------------
def _age_range(frame: pd.DataFrame, p: Params) -> np.ndarray:
    age = values_of(frame, "age")
    return ~np.isnan(age) & ((age < 0) | (age > AGE_MAX))


def _weight_missing(frame: pd.DataFrame, p: Params) -> np.ndarray:
    return np.isnan(values_of(frame, "weight"))


def _weight_negative(frame: pd.DataFrame, p: Params) -> np.ndarray:
    weight = values_of(frame, "weight")
    return ~np.isnan(weight) & (weight <= 0)


def _weight_non_finite(frame: pd.DataFrame, p: Params) -> np.ndarray:
    return np.isinf(values_of(frame, "weight"))


# ---- registered --------------------------------------------------------------------------------------
# Order matters only for the order of issues; knock-on rules run after the others.
rule("period", "error", OBS, "time_period", "bad_period", "time_period: 2020, 2020-Q3 or 2020-07",
     needs=("time_period",))(_period)
rule("year_range", "error", OBS, "time_period", "year_range",
     f"years from {FIRST_YEAR} to next year (later ones only as declared projections, obs_status E)",
     needs=("time_period",), fields=_year_fields)(_year_range)
rule("not_a_number", "error", OBS, "value",
     ("not_a_number", "number_ambiguous", "number_contradictory", "number_unit_conflict"),
     "value: a number or a missing-value marker, written with one decimal mark per column that its cells, "
     "unit or file settle", needs=("value", "_bad"))(_not_a_number)
rule("formula", "error", OBS, "value", "formula_no_value",
     "value: a formula cell must have its result saved in the file", needs=("value", "_formula"))(_formula)
rule("non_finite", "error", OBS, "value", "non_finite", "value: finite (no inf, -inf, NaN written as a number)",
     needs=("value",))(_non_finite)
rule("negative", "error", OBS, "value", "negative", "value: counts of persons are not negative (net migration may be)",
     needs=("value", "unit_measure", "measure"))(_negative)
rule("share_range", "error", OBS, "value", "share_range", "value: a percentage of a whole lies in 0–100",
     needs=("value", "unit_measure"))(_share)
rule("duplicate", "error", OBS, None, "duplicate", "one value per key (every dimension)")(_duplicates)
rule("age_bands", "error", OBS, "age", ("age_overlap", "age_gap"),
     "age bands of one breakdown neither overlap nor leave gaps", needs=("age",))(_age_bands)
rule("missing_status", "error", OBS, "value", "missing_status",
     "an empty value has obs_status M (missing) or Q (suppressed)", needs=("value", "obs_status"),
     knock_on=True)(_missing_status)
rule("fraction", "warning", OBS, "value", "fraction",
     "value: a count of persons is a whole number (float noise, below 1e-9 of the value, tolerated)",
     needs=("value", "unit_measure"))(_fraction)

rule("period", "error", MD, "time_period", "bad_period", "time_period: 2020, 2020-Q3 or 2020-07",
     needs=("time_period",))(_period)
rule("year_range", "error", MD, "time_period", "year_range", f"years from {FIRST_YEAR} to next year",
     needs=("time_period",), fields=_year_fields)(_year_range)
rule("age_range", "error", MD, "age", "age_range", f"age in completed years, 0–{AGE_MAX}", needs=("age",))(_age_range)
rule("weight_missing", "error", MD, "weight", "bad_weight", "a survey weight is given", needs=("weight",))(
    _weight_missing)
rule("weight_positive", "error", MD, "weight", "negative_weight", "a survey weight is positive",
     needs=("weight",))(_weight_negative)
rule("weight_finite", "error", MD, "weight", "non_finite", "a survey weight is finite",
     needs=("weight",))(_weight_non_finite)
