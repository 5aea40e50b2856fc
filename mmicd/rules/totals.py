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
    _once,
    column_codes,
    dims,
    fmt,
    group_ids,
    is_in,
    lookup,
    members_of_groups,
    ranges,
    rule,
    take,
    values_of,
)


def _partition(frame: pd.DataFrame, dim: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``dim``: which rows are parts of the total, which of them are required for a complete
    set (per row, a label of the requirement), and which can be used when the set is incomplete."""
    spec = PARTITIONS[dim]
    if dim == "age":   # worked out once per distinct age code, then spread to the rows
        table = codes.codelist("age")
        index, uniques = column_codes(frame, dim)
        kinds, lowers = table["kind"].to_dict(), _floats(table["lower"])
        five = np.array([kinds.get(u, "") == "5y" for u in uniques], dtype=bool)
        lower = np.array([lowers.get(u, np.nan) for u in uniques], dtype="float64")
        is_open = np.array([u in table.index and u.startswith("Y_GE") for u in uniques], dtype=bool)
        open_band = is_open & (np.nan_to_num(lower, nan=1) % 5 == 0)
        also = np.array([u in spec["also"] for u in uniques], dtype=bool)
        return (take(five | open_band | also, index), take(five | also, index),
                take(np.where(open_band, lower, np.nan), index))
    if dim == "counterpart_area":
        kinds = codes.areas()["kind"].to_dict()
        is_part = lookup(frame, dim, {a: kinds[a] in ("country", "other") for a in kinds}, False, bool)
        return is_part, is_part, np.broadcast_to(0.0, (len(frame),))
    is_part = lookup(frame, dim, dict.fromkeys(spec["parts"] + spec["also"], True), False, bool)
    return is_part, is_part, np.broadcast_to(0.0, (len(frame),))


def _sums(dim: str) -> Check:
    def check(frame: pd.DataFrame, p: Params) -> Found:
        empty = Found(np.zeros(0, dtype="int64"))
        if dim not in frame:
            return empty
        value = values_of(frame, "value")
        additive = is_in(frame, "unit_measure", ADDITIVE_UNITS)
        is_total = is_in(frame, dim, {codes.TOTAL}) & additive & ~np.isnan(value)
        if not is_total.any():
            return empty
        is_part, usable, open_lower = _partition(frame, dim)
        is_part = is_part & additive
        if not is_part.any():
            return empty
        keys = dims(frame, (dim,))
        gid = group_ids(frame, keys)
        mult = None                # no multiplier, or 10**0 everywhere: a scale of one
        if "unit_mult" in frame and not _once(frame, ("no multiplier", "unit_mult"), lambda: not np.nan_to_num(
                pd.to_numeric(frame["unit_mult"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)).any()):
            mult = values_of(frame, "unit_mult")

        def scale(rows: np.ndarray) -> np.ndarray | None:   # of the rows needed only (None: all 1)
            return None if mult is None else np.power(10.0, np.nan_to_num(mult[rows]))

        index, uniques = column_codes(frame, dim)
        # rows taken by their positions: a boolean mask taken again and again costs several times more
        part_at, total_at = np.flatnonzero(is_part), np.flatnonzero(is_total)
        v = value[part_at]
        parts = {"gid": gid[part_at], "v": v, "use": usable[part_at], "scale": scale(part_at),
                 "code": index[part_at], "have": ~np.isnan(v),
                 "open": open_lower[part_at] if open_lower.strides[0] else np.broadcast_to(0.0, v.shape)}
        totals = {"gid": gid[total_at], "pos": total_at, "total": value[total_at], "tscale": scale(total_at)}
        whole = _once(frame, ("whole", "value"), lambda: _exact(value))    # then every part is too
        if (whole or _exact(parts["v"])) and (mult is None or _exact(parts["scale"])):
            joined = _joined_exact(dim, parts, totals, list(uniques))
        else:
            for rows, col in ((parts, "scale"), (totals, "tscale")):
                if rows[col] is None:
                    rows[col] = np.ones(len(rows["gid"]))
            reference = _joined(dim, parts, totals, list(uniques))
            joined = {c: reference[c].to_numpy() for c in reference} | {"gid": reference.index.to_numpy()}
        if not len(joined["gid"]):
            return empty
        total = joined["total"]
        rounding = 0.5 * (joined["scale"] + joined["tscale"])
        tolerance = np.maximum(SUM_TOLERANCE * np.abs(total), rounding)
        complete = joined["complete"].astype(bool)
        diff = np.abs(joined["all"] - total)
        big = complete & (diff > tolerance)
        small = complete & ~big & (diff > 1e-6 * np.maximum(np.abs(total), 1))
        signed = is_in(frame, "measure", SIGNED_MEASURES)[joined["pos"]]
        exceed = ~complete & ~signed & ((joined["some"] - total) > tolerance)
        hit = big | small | exceed
        if not hit.any():
            return empty
        key = np.where(big[hit], "sum_mismatch", np.where(small[hit], "rounding", "parts_exceed"))
        shown = np.where(exceed[hit], joined["some"][hit], joined["all"][hit])
        fields = pd.DataFrame({"key": key, "value": [fmt(v) for v in total[hit]], "dimension": dim,
                               "parts": [fmt(v) for v in shown], "total": [fmt(v) for v in total[hit]]})
        ptr, members = members_of_groups(gid, joined["gid"][hit])
        return Found(joined["pos"][hit].astype("int64"), fields, ptr, members)

    return check


def _joined(dim: str, parts: dict, totals: dict, uniques: list[str]) -> pd.DataFrame:
    """Per total (the first total row of each group, in row order) that has parts: its row, value and
    scale, with its parts' sums (``all``; ``some``: of the parts usable in an incomplete set), their
    scales' sum, and whether the set is complete; indexed by group. Grouped by pandas (sums with
    compensated summation): the reference for :func:`_joined_exact`."""
    parts = pd.DataFrame(parts)
    parts["v_use"] = np.where(parts["use"], parts["v"], np.nan)
    g = parts.groupby("gid", sort=False)
    agg = pd.DataFrame({"all": g["v"].sum(min_count=1), "some": g["v_use"].sum(min_count=1),
                        "n": g["v"].size(), "missing": (~g["have"].all()), "scale": g["scale"].sum()})
    agg["complete"] = _complete(dim, parts, g, uniques) & ~agg["missing"]
    totals = pd.DataFrame(totals).drop_duplicates("gid").set_index("gid")
    return totals.join(agg, how="inner")


EXACT = 2.0 ** 53     # whole numbers whose absolute sum stays below this add up exactly in float64, in any order


def _exact(*columns: np.ndarray) -> bool:
    """Whether every number given (NaN aside) is whole and their absolute sum below 2**53: then any
    summation order gives the same (exact) sums as pandas' compensated one."""
    with np.errstate(invalid="ignore", over="ignore"):
        for v in columns:
            v = v[~np.isnan(v)]
            if not (np.isfinite(v).all() and (v == np.round(v)).all() and np.abs(v).sum() < EXACT):
                return False
    return True


def _joined_exact(dim: str, parts: dict, totals: dict, uniques: list[str]) -> dict[str, np.ndarray]:
    """:func:`_joined` with integer group ids and numpy (bincount), for parts whose values and scales
    are whole numbers (:func:`_exact`): the same columns (and ``gid``, its index), in the same order."""
    pg, v, have = parts["gid"], parts["v"], parts["have"]
    size = int(max(pg.max(initial=-1), totals["gid"].max(initial=-1))) + 1

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(pg[np.flatnonzero(mask)], minlength=size)

    n = np.bincount(pg, minlength=size)
    every_value = have.all()
    n_have = n if every_value else count(have)
    every = np.bincount(pg, weights=v if every_value else np.where(have, v, 0.0), minlength=size)
    every[n_have == 0] = np.nan                          # sum(min_count=1): NaN where no value
    use = have & parts["use"]
    if use.all():
        some = every
    else:
        some = np.bincount(pg, weights=np.where(use, v, 0.0), minlength=size)
        some[count(use) == 0] = np.nan
    scale = n.astype("float64") if parts["scale"] is None else np.bincount(pg, weights=parts["scale"], minlength=size)
    complete = _complete_exact(dim, parts, uniques, size) & (n_have == n)
    tg = totals["gid"]
    first = _first_of_each(tg, size)                     # the first total row of each group, in row order
    first = first[n[tg[first]] > 0]                      # totals with parts only (an inner join)
    g = tg[first]
    return {"gid": g, "pos": totals["pos"][first], "total": totals["total"][first],
            "tscale": np.ones(len(first)) if totals["tscale"] is None else totals["tscale"][first],
            "all": every[g], "some": some[g], "scale": scale[g],
            "complete": complete[g]}


def _first_of_each(gid: np.ndarray, size: int) -> np.ndarray:
    """Positions of the first entry of each distinct value of ``gid`` (in ``0 .. size-1``), ascending:
    ``np.sort(np.unique(gid, return_index=True)[1])`` through a table of ``size`` entries, no sort."""
    kind = "int32" if len(gid) < 2 ** 31 else "int64"
    first = np.full(size, len(gid), dtype=kind)
    np.minimum.at(first, gid, np.arange(len(gid), dtype=kind))
    starts = np.zeros(len(gid) + 1, dtype=bool)
    starts[first] = True                                 # (len(gid): the values absent)
    return np.flatnonzero(starts[:-1])


def _complete_exact(dim: str, parts: dict, uniques: list[str], size: int) -> np.ndarray:
    """:func:`_complete` per group id (0 .. size-1) with numpy."""
    pg, code = parts["gid"], parts["code"]
    if dim != "age":
        out = np.ones(size, dtype=bool)
        for c in PARTITIONS[dim]["parts"]:
            k = uniques.index(c) if c in uniques else -1
            out &= np.bincount(pg[np.flatnonzero(code == k)], minlength=size) > 0
        return out
    is_open = ~np.isnan(parts["open"])
    open_at = np.flatnonzero(is_open)                    # (rows by position: see _sums)
    opens = np.bincount(pg[open_at], minlength=size)
    top = np.full(size, np.nan)
    top[pg[open_at]] = parts["open"][open_at]            # the open band's lower bound where there is one only
    unknown = uniques.index(codes.UNKNOWN) if codes.UNKNOWN in uniques else -1
    closed = np.flatnonzero(~is_open & (code != unknown))
    cg, cc = pg[closed], code[closed]
    count = np.bincount(cg, minlength=size)
    lower_of = _floats(codes.codelist("age")["lower"])
    lower = np.array([lower_of.get(u, np.nan) for u in uniques] + [np.nan])[cc]
    with np.errstate(invalid="ignore"):
        at_or_over = lower >= top[cg]
    del lower
    above = np.bincount(cg[at_or_over], minlength=size) > 0   # a closed band at or over the open one
    width = len(uniques) + 1
    pair = cg.astype("int32" if size * width < 2 ** 31 else "int64") * width + cc
    if size * width <= max(4 * len(pg), 1 << 20):        # distinct bands per group: a table of (group, band)
        seen = np.zeros(size * width, dtype=bool)
        seen[pair] = True
        pairs = np.flatnonzero(seen)
    else:
        pairs = np.unique(pair)
    distinct = np.bincount(pairs // width, minlength=size)
    with np.errstate(invalid="ignore"):
        return (opens == 1) & (distinct == count) & (count == top / 5) & ~above


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
    female, male = is_in(frame, "sex", {"F"}), is_in(frame, "sex", {"M"})
    sel = (female | male) & is_in(frame, "unit_measure", COUNT_UNITS) & ~np.isnan(value)
    if not sel.any():
        return empty
    if "counterpart_area" in frame:
        partner_total = is_in(frame, "counterpart_area", {codes.TOTAL})
        if partner_total[sel].any():
            sel &= partner_total
    keys = dims(frame, ("sex", "counterpart_area"))
    gid = group_ids(frame, keys)
    exact = _once(frame, ("whole", "value"), lambda: _exact(value)) or _exact(value[sel])   # (all whole: these too)
    found = _same_sexes_exact(gid, sel, female, male, value) if exact else \
        _same_sexes(gid, sel, frame["sex"].to_numpy()[sel], value)
    if found is None:
        return empty
    groups, pos, v = found
    fields = pd.DataFrame({"value": [fmt(x) for x in v],
                           "area": frame["ref_area"].to_numpy()[pos] if "ref_area" in frame else "",
                           "period": frame["time_period"].to_numpy()[pos]})
    ptr, members = members_of_groups(gid, groups)
    return Found(pos, fields, ptr, members)


def _same_sexes(gid: np.ndarray, sel: np.ndarray, sex: np.ndarray, value: np.ndarray):
    """Groups (ascending) whose selected female and male values add up to the same total, at least
    EQUAL_MIN: (groups, first female row of each, the total); None when there are none. Grouped by
    pandas: the reference for :func:`_same_sexes_exact`."""
    sub = pd.DataFrame({"gid": gid[sel], "sex": sex, "v": value[sel], "pos": np.flatnonzero(sel)})
    wide = sub.groupby(["gid", "sex"], sort=False).agg(v=("v", "sum"), pos=("pos", "min")).unstack("sex")
    if ("v", "F") not in wide or ("v", "M") not in wide:
        return None
    same = wide[(wide[("v", "F")] == wide[("v", "M")]) & (wide[("v", "F")] >= EQUAL_MIN)]
    if same.empty:
        return None
    return same.index.to_numpy(), same[("pos", "F")].to_numpy(dtype="int64"), same[("v", "F")].to_numpy()


def _same_sexes_exact(gid, sel, female, male, value):
    """:func:`_same_sexes` with numpy, for whole values (:func:`_exact`): the same groups and rows."""
    size = int(gid.max(initial=-1)) + 1
    f, m = np.flatnonzero(sel & female), np.flatnonzero(sel & male)    # (rows by position: see _sums)
    n_f, n_m = np.bincount(gid[f], minlength=size), np.bincount(gid[m], minlength=size)
    s_f = np.bincount(gid[f], weights=value[f], minlength=size)
    s_m = np.bincount(gid[m], weights=value[m], minlength=size)
    groups = np.flatnonzero((n_f > 0) & (n_m > 0) & (s_f == s_m) & (s_f >= EQUAL_MIN))
    if not len(groups):
        return None
    rows = f[np.isin(gid[f], groups)]
    g, first = np.unique(gid[rows], return_index=True)   # the first female row of each group (ascending)
    return g, rows[first].astype("int64"), s_f[g]


def _missing_only(frame: pd.DataFrame, col: str, texts: np.ndarray) -> bool:
    """Whether the blank among a column's :func:`column_codes` texts stands for missing cells only
    (then it is no value: ``nunique`` leaves it out)."""
    column = frame[col]
    return "" in set(texts) and bool(column.hasnans) and not bool((column == "").fillna(False).any())


def _jumps(frame: pd.DataFrame, p: Params) -> Found:
    """A value ten times larger or smaller than the previous period's of the same series; the rows
    from that previous value to this one are involved (an unreadable cell between them, too)."""
    empty = Found(np.zeros(0, dtype="int64"))
    period, periods = column_codes(frame, "time_period")    # codes follow the sorted periods
    if len(periods) - _missing_only(frame, "time_period", periods) < 2:
        return empty
    value = values_of(frame, "value")
    series = group_ids(frame, dims(frame, ("time_period",)))
    # rows by series, then period: np.lexsort((period, series)) as one stable sort of a combined key
    order = np.argsort(series.astype("int64") * len(periods) + period, kind="stable")
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
