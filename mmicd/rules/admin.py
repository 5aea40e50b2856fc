"""Rules on administrative data (flows, refugees and asylum, returns, labour migration, border movements):
asylum decisions against their outcomes, an origin that is the country of asylum itself, months or
quarters missing inside a series, a value without a measure.

(A negative count of persons -- a flow, a stock, an application -- is already an error at its cell by
the rule ``negative`` of :mod:`mmicd.rules.cells`; only ``NET_MIG`` may be negative there.)
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.rules.base import (
    MAX_PER_CHECK,
    OBS,
    Found,
    Params,
    column_codes,
    dims,
    fmt,
    group_ids,
    lookup,
    members_of_groups,
    rule,
    values_of,
)

DECISIONS = "ASY_DEC"
OUTCOMES = ("REC", "COMP", "REJ", "CLOSED")       # breakdown OUTCOME: a complete set of decisions
DECISION_TOLERANCE = 0.5                          # decisions are whole numbers: any difference of one is said
# refugee and asylum measures reported by a country of asylum about persons from another country (or,
# for returns, by the country of origin about persons coming back from another): the two areas differ.
# Not: IDP, RET_IDP (displaced inside their own country), STATELESS, OTH_CONCERN, POP_CONCERN (which
# count such persons), NATURAL.
OTHER_COUNTRY = ("REFUG", "REFUG_LIKE", "REFUG_INCL", "ASY_SEEK", "ASY_APP", "ASY_DEC", "RESETTLE", "RET_REFUG")
MAX_MISSING_SHOWN = 12                            # missing periods spelled out in one message, then "…"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


# ---- asylum decisions -------------------------------------------------------------------------------
def _split_outcome(code: str) -> tuple[str | None, str]:
    """``AUTHORITY:G+OUTCOME:REC`` -> ("REC", "AUTHORITY:G"); ``OUTCOME:REJ`` -> ("REJ", "_T");
    a breakdown without an outcome -> (None, itself)."""
    if code in ("", codes.TOTAL):
        return None, codes.TOTAL
    parts = code.split("+")
    outcome = [p.split(":", 1)[1] for p in parts if p.startswith("OUTCOME:") and ":" in p]
    rest = "+".join(p for p in parts if not p.startswith("OUTCOME:")) or codes.TOTAL
    return (outcome[0] if len(outcome) == 1 else None), rest


def _decisions(frame: pd.DataFrame, p: Params) -> Found:
    """The decisions total (no OUTCOME in the breakdown) against the sum of its outcomes (the same key
    with OUTCOME:REC, COMP, REJ, CLOSED): all four given -> they add up to the total; some given -> they
    do not exceed it. The warning stands at the total and names the difference."""
    empty = Found(np.zeros(0, dtype="int64"))
    value = values_of(frame, "value")
    sel = (frame["measure"] == DECISIONS).to_numpy(dtype=bool, na_value=False) & ~np.isnan(value)
    if not sel.any():
        return empty
    index, uniques = column_codes(frame, "breakdown")
    split = [_split_outcome(str(u)) for u in uniques]
    outcome = np.array([s[0] for s in split] + [None], dtype=object)[index]
    rest = np.array([s[1] for s in split] + [codes.TOTAL], dtype=object)[index]
    no_outcome = np.array(["OUTCOME:" not in str(u) for u in uniques] + [True], dtype=bool)[index]
    is_part = sel & np.isin(outcome, OUTCOMES)
    is_total = sel & no_outcome
    if not (is_part.any() and is_total.any()):
        return empty
    base = group_ids(frame, dims(frame, ("breakdown",)))
    rest_code = pd.factorize(rest)[0].astype("int64")
    key = pd.factorize(base * (int(rest_code.max()) + 1) + rest_code)[0].astype("int64")
    parts = pd.DataFrame({"gid": key[is_part], "v": value[is_part], "outcome": outcome[is_part]})
    g = parts.groupby("gid", sort=False)
    agg = pd.DataFrame({"sum": g["v"].sum(), "n": g["outcome"].nunique()})
    totals = pd.DataFrame({"gid": key[is_total], "pos": np.flatnonzero(is_total), "total": value[is_total]}) \
        .drop_duplicates("gid").set_index("gid")
    joined = totals.join(agg, how="inner")
    if joined.empty:
        return empty
    complete = (joined["n"] == len(OUTCOMES)).to_numpy()
    diff = (joined["sum"] - joined["total"]).to_numpy()
    off = np.where(complete, np.abs(diff) > DECISION_TOLERANCE, diff > DECISION_TOLERANCE)
    if not off.any():
        return empty
    out = joined[off]
    fields = pd.DataFrame({
        "key": np.where(complete[off], "decision_outcomes", "decision_outcomes_exceed"),
        "value": [fmt(v) for v in out["total"]], "parts": [fmt(v) for v in out["sum"]],
        "total": [fmt(v) for v in out["total"]], "difference": [fmt(v) for v in diff[off]]}, dtype=object)
    member_gid = np.where(is_part | is_total, key, -1)
    ptr, members = members_of_groups(np.where(member_gid < 0, np.iinfo("int64").max, member_gid),
                                     out.index.to_numpy())
    return Found(out["pos"].to_numpy(dtype="int64"), fields, ptr, members)


# ---- origin = country of asylum -----------------------------------------------------------------------
def _origin_is_asylum(frame: pd.DataFrame, p: Params) -> np.ndarray:
    """A refugee or asylum figure whose origin is the reporting country itself (ref_area): a value
    other than 0 (a cell marked missing, or none, states nothing wrong), both areas countries (World
    by World is a total). UNHCR's own exports hold a few such rows (GBR from GBR): stored as published, each named in a
    warning (an official file is not refused for them; the reviewer sees them before approving)."""
    mine = frame["measure"].isin(OTHER_COUNTRY).to_numpy(dtype=bool, na_value=False)
    if not mine.any():
        return mine
    same = (frame["counterpart_area"] == frame["ref_area"]).to_numpy(dtype=bool, na_value=False)
    country = lookup(frame, "ref_area", codes.areas()["kind"].to_dict(), "") == "country"
    value = values_of(frame, "value")
    return mine & same & country & ~np.isnan(value) & (value != 0)


# ---- months or quarters missing inside a series -------------------------------------------------------
def _ordinal(period: str) -> tuple[str | None, int]:
    """("M", months since year 0) for ``2023-07``, ("Q", quarters) for ``2023-Q3``, (None, 0) otherwise."""
    m = _MONTH.match(period)
    if m:
        return "M", int(m.group(1)) * 12 + int(m.group(2)) - 1
    q = _QUARTER.match(period)
    if q:
        return "Q", int(q.group(1)) * 4 + int(q.group(2)) - 1
    return None, 0


def _spell(freq: str, n: int) -> str:
    return f"{n // 12}-{n % 12 + 1:02d}" if freq == "M" else f"{n // 4}-Q{n % 4 + 1}"


def _gaps(frame: pd.DataFrame, p: Params) -> Found:
    """A monthly or quarterly series (every dimension but the period the same) that lacks a month or
    quarter between its first and its last; told once per series, at the first row after the gap."""
    empty = Found(np.zeros(0, dtype="int64"))
    index, uniques = column_codes(frame, "time_period")
    parsed = [_ordinal(str(u)) for u in uniques]
    if not any(f for f, _ in parsed):
        return empty
    freq = np.array([f or "" for f, _ in parsed] + [""], dtype=object)[index]
    step = np.array([n for _, n in parsed] + [0], dtype="int64")[index]
    sub = np.flatnonzero(freq != "")
    series = group_ids(frame, dims(frame, ("time_period",)))
    key = pd.factorize(series[sub] * 2 + (freq[sub] == "Q"))[0].astype("int64")   # series x frequency
    order = np.lexsort((step[sub], key))             # by series, then period
    gid, n, pos_of = key[order], step[sub][order], sub[order]
    starts = np.flatnonzero(np.concatenate([[True], gid[1:] != gid[:-1]]))
    stops = np.concatenate([starts[1:], [len(gid)]])
    lo, hi = n[starts], n[stops - 1]
    distinct = np.add.reduceat(np.concatenate([[1], (n[1:] != n[:-1]) | (gid[1:] != gid[:-1])]).astype("int64"),
                               starts)
    holed = np.flatnonzero(hi - lo + 1 > distinct)
    if not len(holed):
        return empty
    columns = dims(frame, ("time_period",))
    pos, keys, missing, count, first, last, described = [], [], [], [], [], [], []
    told = holed[:2 * MAX_PER_CHECK]     # beyond what is told one by one (per key), failures are only counted
    for g in told:
        mine = n[starts[g]:stops[g]]
        absent = np.setdiff1d(np.arange(lo[g], hi[g] + 1), mine)
        at = int(pos_of[starts[g] + np.searchsorted(mine, absent[0], side="right")])  # first row after the gap
        f = str(freq[at])
        pos.append(at)
        keys.append("period_gap_month" if f == "M" else "period_gap_quarter")
        spelled = [_spell(f, int(x)) for x in absent]
        missing.append(", ".join(spelled[:MAX_MISSING_SHOWN]) + (" …" if len(spelled) > MAX_MISSING_SHOWN else ""))
        count.append(len(spelled))
        first.append(_spell(f, int(lo[g])))
        last.append(_spell(f, int(hi[g])))
        described.append(", ".join(f"{c}={frame[c].iat[at]}" for c in columns if str(frame[c].iat[at]) != codes.TOTAL))
    rest = holed[len(told):]
    if len(rest):
        at = pos_of[starts[rest]]
        pos += at.tolist()
        keys += np.where(freq[at] == "M", "period_gap_month", "period_gap_quarter").tolist()
        count += (hi[rest] - lo[rest] + 1 - distinct[rest]).tolist()
        for column in (missing, first, last, described):
            column += [""] * len(rest)
    fields = pd.DataFrame({"key": keys, "value": frame["time_period"].to_numpy()[pos], "series": described,
                           "missing": missing, "n": count, "first": first, "last": last}, dtype=object)
    member_gid = np.full(len(frame), np.iinfo("int64").max, dtype="int64")
    member_gid[sub] = key
    ptr, members = members_of_groups(member_gid, gid[starts[holed]])
    return Found(np.array(pos, dtype="int64"), fields, ptr, members)


# ---- a value without a measure ------------------------------------------------------------------------
def _no_measure(frame: pd.DataFrame, p: Params) -> np.ndarray:
    """A blank (or ``_T``) measure cell in a table that has a measure column: nothing says what the
    value counts. (Upload only: ``_row``; a stored table without measures is checked by its loader.)"""
    return (frame["measure"] == codes.TOTAL).to_numpy(dtype=bool, na_value=False)


# ---- registered --------------------------------------------------------------------------------------
rule("measure_blank", "error", OBS, "measure", "measure_blank",
     "measure: every value says what it counts (a blank measure cell is an error)",
     needs=("measure", "_row"))(_no_measure)
rule("origin_is_asylum", "warning", OBS, "counterpart_area", "origin_is_asylum",
     "refugees and asylum: the origin (counterpart_area) is not the country of asylum itself (ref_area)",
     needs=("measure", "ref_area", "counterpart_area", "value"))(_origin_is_asylum)
rule("decision_outcomes", "warning", OBS, "value", ("decision_outcomes", "decision_outcomes_exceed"),
     "asylum decisions: recognised + complementary protection + rejected + otherwise closed = the total",
     needs=("value", "measure", "breakdown"), knock_on=True)(_decisions)
rule("period_gap", "warning", OBS, "time_period", ("period_gap_month", "period_gap_quarter"),
     "a monthly or quarterly series has every month or quarter between its first and its last",
     needs=("time_period",), knock_on=True)(_gaps)
