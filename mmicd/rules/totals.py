"""Rules on values together: parts against their total, equal female and male counts, jumps from one
period to the next. Warnings, and knock-on ones: when a row they involve has an error, they are told
as its consequences (see :func:`mmicd.rules.run.evaluate`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.rules.base import (
    ADDITIVE_UNITS,
    COUNT_UNITS,
    EQUAL_MIN,
    JUMP_FACTOR,
    JUMP_MIN,
    OBS,
    PARTITIONS,
    SIGNED_MEASURES,
    SUM_TOLERANCE,
    Check,
    Found,
    Params,
    column_codes,
    dims,
    fmt,
    group_ids,
    lookup,
    members_of_groups,
    ranges,
    rule,
    values_of,
)


def _partition(frame: pd.DataFrame, dim: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``dim``: which rows are parts of the total, which of them are required for a complete
    set (per row, a label of the requirement), and which can be used when the set is incomplete."""
    spec = PARTITIONS[dim]
    if dim == "age":
        table = codes.codelist("age")
        kind = lookup(frame, dim, table["kind"].to_dict(), "")
        lower = lookup(frame, dim, _floats(table["lower"]), np.nan).astype("float64")
        is_open = lookup(frame, dim, {a: a.startswith("Y_GE") for a in table.index}, False).astype(bool)
        five = kind == "5y"
        open_band = is_open & (np.nan_to_num(lower, nan=1) % 5 == 0)
        also = lookup(frame, dim, dict.fromkeys(spec["also"], True), False).astype(bool)
        is_part = five | open_band | also
        return is_part, five | also, np.where(open_band, lower, np.nan)
    if dim == "counterpart_area":
        kinds = lookup(frame, dim, codes.areas()["kind"].to_dict(), "")
        is_part = np.isin(kinds, ["country", "other"])
        return is_part, is_part, np.zeros(len(frame))
    is_part = lookup(frame, dim, dict.fromkeys(spec["parts"] + spec["also"], True), False).astype(bool)
    return is_part, is_part, np.zeros(len(frame))


def _sums(dim: str) -> Check:
    def check(frame: pd.DataFrame, p: Params) -> Found:
        empty = Found(np.zeros(0, dtype="int64"))
        if dim not in frame:
            return empty
        value = values_of(frame, "value")
        additive = frame["unit_measure"].isin(ADDITIVE_UNITS).to_numpy(dtype=bool, na_value=False)
        is_total = (frame[dim] == codes.TOTAL).to_numpy(dtype=bool, na_value=False) & additive & ~np.isnan(value)
        if not is_total.any():
            return empty
        is_part, usable, open_lower = _partition(frame, dim)
        is_part = is_part & additive
        if not is_part.any():
            return empty
        keys = dims(frame, (dim,))
        gid = group_ids(frame, keys)
        scale = np.power(10.0, np.nan_to_num(values_of(frame, "unit_mult"))) if "unit_mult" in frame \
            else np.ones(len(frame))
        have = ~np.isnan(value)
        index, uniques = column_codes(frame, dim)
        parts = pd.DataFrame({"gid": gid[is_part], "v": value[is_part], "have": have[is_part],
                              "use": usable[is_part], "scale": scale[is_part], "code": index[is_part],
                              "open": open_lower[is_part]})
        parts["v_use"] = np.where(parts["use"], parts["v"], np.nan)
        g = parts.groupby("gid", sort=False)
        agg = pd.DataFrame({"all": g["v"].sum(min_count=1), "some": g["v_use"].sum(min_count=1),
                            "n": g["v"].size(), "missing": (~g["have"].all()), "scale": g["scale"].sum()})
        agg["complete"] = _complete(dim, parts, g, list(uniques)) & ~agg["missing"]
        totals = pd.DataFrame({"gid": gid[is_total], "pos": np.flatnonzero(is_total), "total": value[is_total],
                               "tscale": scale[is_total]}).drop_duplicates("gid").set_index("gid")
        joined = totals.join(agg, how="inner")
        if joined.empty:
            return empty
        rounding = 0.5 * (joined["scale"] + joined["tscale"])
        tolerance = np.maximum(SUM_TOLERANCE * joined["total"].abs(), rounding)
        complete = joined["complete"].to_numpy(bool)
        diff = (joined["all"] - joined["total"]).abs()
        big = complete & (diff > tolerance).to_numpy()
        small = complete & ~big & (diff > 1e-6 * np.maximum(joined["total"].abs(), 1)).to_numpy()
        signed = frame["measure"].isin(SIGNED_MEASURES).to_numpy(dtype=bool)[joined["pos"].to_numpy()]
        exceed = ~complete & ~signed & ((joined["some"] - joined["total"]) > tolerance).to_numpy()
        hit = big | small | exceed
        if not hit.any():
            return empty
        out = joined[hit]
        key = np.where(big[hit], "sum_mismatch", np.where(small[hit], "rounding", "parts_exceed"))
        shown = np.where(exceed[hit], out["some"], out["all"])
        fields = pd.DataFrame({"key": key, "value": [fmt(v) for v in out["total"]], "dimension": dim,
                               "parts": [fmt(v) for v in shown], "total": [fmt(v) for v in out["total"]]})
        ptr, members = members_of_groups(gid, out.index.to_numpy())
        return Found(out["pos"].to_numpy(dtype="int64"), fields, ptr, members)

    return check


def _complete(dim: str, parts: pd.DataFrame, g, uniques: list[str]) -> pd.Series:
    """Per group: are all parts of a complete partition present? Age: five-year bands from 0 up to
    exactly one open band (``Y_GE65``), each once; origins: the residual "other" (OOO) is there.
    (``parts["code"]``: the position of each part's code in ``uniques``.)"""
    if dim == "age":
        is_open = ~parts["open"].isna()
        opens = is_open.groupby(parts["gid"], sort=False).sum()
        top = parts["open"].groupby(parts["gid"], sort=False).max()
        unknown = uniques.index(codes.UNKNOWN) if codes.UNKNOWN in uniques else -1
        closed = parts[~is_open & (parts["code"] != unknown)]
        lower_of = _floats(codes.codelist("age")["lower"])
        lower = pd.Series(np.array([lower_of.get(u, np.nan) for u in uniques] + [np.nan])[closed["code"].to_numpy()],
                          index=closed.index)
        bands = closed.groupby("gid", sort=False)["code"]
        distinct = bands.nunique().reindex(opens.index).fillna(0)
        count = bands.size().reindex(opens.index).fillna(0)
        highest = lower.groupby(closed["gid"], sort=False).max().reindex(opens.index)
        return (opens == 1) & (distinct == count) & (count == top / 5) & ~(highest >= top)
    present = pd.concat({c: (parts["code"] == (uniques.index(c) if c in uniques else -1))
                         .groupby(parts["gid"], sort=False).any()
                         for c in PARTITIONS[dim]["parts"]}, axis=1)
    return present.all(axis=1)


def _floats(column: pd.Series) -> dict[str, float]:
    """A code list column as floats by code (blank or text: left out)."""
    numbers = pd.to_numeric(column, errors="coerce")
    return {str(k): float(v) for k, v in numbers.items() if pd.notna(v)}


def _equal_sexes(frame: pd.DataFrame, p: Params) -> Found:
    """Equal female and male counts (over all partner areas when there is no partner total)."""
    empty = Found(np.zeros(0, dtype="int64"))
    if "sex" not in frame:
        return empty
    value = values_of(frame, "value")
    sel = frame["sex"].isin(["F", "M"]).to_numpy(bool) & frame["unit_measure"].isin(COUNT_UNITS).to_numpy(bool) \
        & ~np.isnan(value)
    if not sel.any():
        return empty
    partner = "counterpart_area" in frame
    if partner and (frame["counterpart_area"].to_numpy()[sel] == codes.TOTAL).any():
        sel &= (frame["counterpart_area"] == codes.TOTAL).to_numpy(bool)
    keys = dims(frame, ("sex", "counterpart_area"))
    gid = group_ids(frame, keys)
    sub = pd.DataFrame({"gid": gid[sel], "sex": frame["sex"].to_numpy()[sel], "v": value[sel],
                        "pos": np.flatnonzero(sel)})
    wide = sub.groupby(["gid", "sex"], sort=False).agg(v=("v", "sum"), pos=("pos", "min")).unstack("sex")
    if ("v", "F") not in wide or ("v", "M") not in wide:
        return empty
    same = wide[(wide[("v", "F")] == wide[("v", "M")]) & (wide[("v", "F")] >= EQUAL_MIN)]
    if same.empty:
        return empty
    pos = same[("pos", "F")].to_numpy(dtype="int64")
    fields = pd.DataFrame({"value": [fmt(v) for v in same[("v", "F")]],
                           "area": frame["ref_area"].to_numpy()[pos] if "ref_area" in frame else "",
                           "period": frame["time_period"].to_numpy()[pos]})
    ptr, members = members_of_groups(gid, same.index.to_numpy())
    return Found(pos, fields, ptr, members)


def _jumps(frame: pd.DataFrame, p: Params) -> Found:
    """A value ten times larger or smaller than the previous period's of the same series; the rows
    from that previous value to this one are involved (an unreadable cell between them, too)."""
    empty = Found(np.zeros(0, dtype="int64"))
    if frame["time_period"].nunique() < 2:
        return empty
    value = values_of(frame, "value")
    series = group_ids(frame, dims(frame, ("time_period",)))
    order = np.lexsort((column_codes(frame, "time_period")[0], series))  # codes follow the sorted periods
    gid = series[order]
    v = value[order]
    big = ~np.isnan(v) & (np.abs(v) >= JUMP_MIN)
    loc = np.flatnonzero(big)                      # locations in the sorted order
    if len(loc) < 2:
        return empty
    prev = np.concatenate([[-1], loc[:-1]])
    same_series = np.concatenate([[False], gid[loc[1:]] == gid[loc[:-1]]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = v[loc] / np.where(same_series, v[np.maximum(prev, 0)], np.nan)
    hit = same_series & ((ratio > JUMP_FACTOR) | (ratio < 1 / JUMP_FACTOR))
    if not hit.any():
        return empty
    at, before = loc[hit], prev[hit]
    pos = order[at]
    fields = pd.DataFrame({"value": [fmt(x) for x in v[at]], "previous": [fmt(x) for x in v[before]],
                           "period": frame["time_period"].to_numpy()[pos]})
    ptr, members = ranges(order, before, at + 1)
    return Found(pos.astype("int64"), fields, ptr, members)


# ---- registered ----------
for _dim in PARTITIONS:
    rule(f"sum.{_dim}", "warning", OBS, "value", ("sum_mismatch", "rounding", "parts_exceed"),
         f"parts by {_dim} add up to their total (a complete set), or do not exceed it (an incomplete one)",
         needs=("value", "unit_measure", "measure", _dim), knock_on=True)(_sums(_dim))
rule("equal_sexes", "warning", OBS, "value", "equal_sexes", "female and male counts are not exactly equal",
     needs=("value", "sex", "unit_measure", "time_period"), knock_on=True)(_equal_sexes)
rule("jump", "warning", OBS, "value", "jump", "a value is not more than tenfold the previous period's",
     needs=("value", "time_period"), knock_on=True)(_jumps)
