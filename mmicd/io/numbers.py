"""Numbers from cells, each column's decimal and thousands marks decided from its own evidence.

A cell written ``1.234,5`` proves a decimal comma; ``1,234.5`` or ``3.5`` a decimal point;
``12.345.678`` a point between thousands (so a decimal comma). ``45.678`` alone could be 45678 or
45.678. :func:`read_numbers` decides per source column (per ``groups`` value), in this order:

1. the column's cells: every cell valid under one convention only proves it;
2. for cells still open, the column's unit: a count (``whole``) cannot be 45.678 persons when the
   other reading, 45678, is whole;
3. the file's locale (``hint``): a CSV separated by ``;`` with French or Spanish headers writes a
   decimal comma, one separated by ``,`` a decimal point.

A column whose cells prove both conventions is *contradictory* (the cells of the convention fewer
cells use are named, with one cell of the other); cells no evidence settles are *ambiguous*. Both
are problems at their cells: the reader never guesses. Missing-value markers give OBS_STATUS
``M``, suppression markers ``Q`` (never zero); ``inf``/``nan`` are *not finite*; other text is
*not a number*. Native numbers (``int``/``float`` of typed spreadsheet cells, numeric columns) need
no convention. The vocabulary (markers, separators, locale words) is data:
``data/mappings/numbers.yml``.

The common case, a column of plain numbers (``12``, ``-3.5``), is read in one Arrow cast; anything
else is read on the column's distinct texts, in Arrow, then spread back to the cells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import yaml

from mmicd import DATA_DIR

NUMBERS_FILE = DATA_DIR / "mappings" / "numbers.yml"
POINT, COMMA = ".", ","
KINDS = ("ambiguous", "contradictory", "not_a_number", "not_finite")
_SPACES = " \u00a0\u202f\u2009"


@dataclass(frozen=True)
class Decision:
    """The convention of one column: ``decimal`` ('.', ',' or None when no cell needed one) and
    what decided it: ``cells``, ``unit``, ``hint``, ``given``, ``""`` (nothing to decide),
    ``conflict`` (cells or units prove both) or ``undecided`` (ambiguous cells left)."""

    decimal: str | None
    by: str


@dataclass
class Numbers:
    """What :func:`read_numbers` found. Problem cells hold NaN in ``values`` and <NA> in ``status``."""

    values: pd.Series                       # float64
    status_codes: np.ndarray                # per cell 0 (a number or a problem), 1 (M marker), 2 (Q marker)
    problems: dict[str, np.ndarray]         # kind (see KINDS) -> bool mask over the cells
    other: np.ndarray                       # contradictory cells: position of a cell written the other way; -1
    implied: np.ndarray                     # contradictory cells: the decimal mark each implies, 1 '.' / 2 ','; 0
    by_unit: np.ndarray                     # contradictory cells that contradict through the unit (whole counts)
    decisions: dict[object, Decision] = field(default_factory=dict)   # group (None: the whole column) -> Decision

    @property
    def status(self) -> pd.Series:
        """OBS_STATUS from markers as a ``string`` column: M, Q or <NA> (built when asked for)."""
        return _status_series(self.status_codes, self.values.index)

    @property
    def bad(self) -> np.ndarray:
        """Cells with any problem."""
        out = np.zeros(len(self.values), dtype=bool)
        for mask in self.problems.values():
            out |= mask
        return out


# ---- vocabulary ------------------------------------------------------------------------------------
@cache
def vocabulary() -> dict:
    with open(NUMBERS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def markers() -> dict[str, str]:
    """Missing-value marker (lower case) -> OBS_STATUS (``M``, ``Q``), from ``numbers.yml``."""
    return {str(m).strip().lower(): status for status, items in vocabulary()["markers"].items() for m in items}


@cache
def not_finite_words() -> frozenset[str]:
    """Text a float parser would read as inf or NaN (an error at its cell, never a figure)."""
    return frozenset(str(w).strip().lower() for w in vocabulary()["not_finite"])


@cache
def _patterns() -> tuple[str, str, str, str]:
    """(point pattern, comma pattern, point's separators, comma's separators) as RE2/Python regexes."""
    voc = vocabulary()

    def grouped(seps: list[str], indian: bool) -> list[str]:
        spaces = "".join(s for s in seps if s in _SPACES)
        others = [s for s in seps if s not in _SPACES]
        out = [f"[1-9][0-9]{{0,2}}(?:{re.escape(s)}[0-9]{{3}})+" for s in others]
        if spaces:
            out.append(f"[1-9][0-9]{{0,2}}(?:[{spaces}][0-9]{{3}})+")
        if indian and "," in others:
            out.append("[1-9][0-9]?(?:,[0-9]{2})+,[0-9]{3}")
        return out

    point_seps = [str(s) for s in voc["thousands"][POINT]]
    comma_seps = [str(s) for s in voc["thousands"][COMMA]]
    point_int = "|".join(["[0-9]+", *grouped(point_seps, bool(voc.get("indian_grouping")))])
    comma_int = "|".join(["[0-9]+", *grouped(comma_seps, False)])
    point = f"^-?(?:(?:{point_int})(?:\\.[0-9]+)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
    comma = f"^-?(?:(?:{comma_int})(?:,[0-9]+)?|,[0-9]+)$"
    return point, comma, "".join(point_seps), "".join(comma_seps)


def hint_for(language: str | None) -> str | None:
    """The decimal mark a hint stands for: '.', ',', a language code of numbers.yml, or None."""
    if language in (POINT, COMMA) or language is None:
        return language
    return vocabulary()["locale"]["languages"].get(str(language).split("-")[0].lower())


def locale_hint(delimiter: str | None, cells: list[str]) -> str | None:
    """The decimal mark a CSV's locale suggests: ',' for a ';'-separated file whose first rows hold
    words of a decimal-comma language, '.' for a ','-separated file, else None (no hint)."""
    from mmicd.clean.mapping import key

    loc = vocabulary()["locale"]
    if delimiter == ",":
        return loc["comma_separator_decimal"]
    if delimiter == ";":
        words = {key(w) for w in loc["comma_language_words"]}
        if any(key(c) in words for c in cells if c):
            return loc["semicolon_languages_decimal"]
    return None


# ---- reading ---------------------------------------------------------------------------------------
def read_numbers(values: pd.Series, *, groups: pd.Series | np.ndarray | None = None, hint: str | None = None,
                 whole: bool | np.ndarray | pd.Series | None = None, decimal: str | None = None) -> Numbers:
    """Numbers of ``values`` (Python ints/floats for typed cells, text for text cells, or a text or
    numeric column), with each group's convention decided from its own cells.

    ``groups``: the source column of each value (e.g. ``_cno`` of a wide table unpivoted into one
    value column); conventions are decided per group; None: one column. ``hint``: the file's
    locale, as a decimal mark ('.'/',') or a language code (``fr``, ``es``, ``en``). ``whole``:
    cells (or all, with True) whose value is a count in base units (persons with no multiplier).
    ``decimal``: the convention when the caller knows it (official layouts): nothing is decided.
    """
    n = len(values)
    index = values.index
    codes, labels = _group_codes(groups, n)
    whole_mask = _mask(whole, n)
    parsed = _parse(values)
    (vp, vc, p_ok, c_ok, status, nonfinite) = parsed
    amb = p_ok & c_ok & (vp != vc) if vc is not vp else np.zeros(n, dtype=bool)
    prove_p = p_ok & ~c_ok
    prove_c = c_ok & ~p_ok
    not_number = ~p_ok & ~c_ok & (status == 0) & ~nonfinite
    problems = {"ambiguous": np.zeros(n, bool), "contradictory": np.zeros(n, bool), "not_a_number": not_number,
                "not_finite": nonfinite}
    other = np.full(n, -1, dtype=np.int64)
    implied = np.zeros(n, dtype=np.int8)
    by_unit = np.zeros(n, dtype=bool)
    ng = len(labels)
    dec = np.zeros(ng, dtype=np.int8)        # 0 undecided / nothing needed, 1 point, 2 comma
    by = [""] * ng
    fixed = hint_for(decimal) if decimal is not None else None
    if fixed is not None:
        dec[:] = 1 if fixed == POINT else 2
        by = ["given"] * ng
        # a cell valid only under the other convention is no number in this file's known convention
        problems["not_a_number"] = not_number | (prove_c if fixed == POINT else prove_p)
    elif amb.any() or (prove_p.any() and prove_c.any()):
        dec, by = _decide(codes, ng, amb, prove_p, prove_c, vp, vc, whole_mask, hint_for(hint), problems,
                          (other, implied, by_unit))
    else:
        dec[np.unique(codes[prove_p])] = 1
        dec[np.unique(codes[prove_c])] = 2
        by = ["cells" if d else "" for d in dec]
    if vc is vp:          # no cell reads differently with a comma (the common case): no second array
        out = vp
    else:
        cell_dec = dec[codes] if n else np.zeros(0, np.int8)
        out = np.where(c_ok & (~p_ok | (cell_dec == 2)), vc, vp)
        problems["ambiguous"] |= amb & (cell_dec == 0) & ~problems["contradictory"]
    bad = np.zeros(n, dtype=bool)
    for mask in problems.values():
        bad |= mask
    if bad.any():
        out = np.where(bad, np.nan, out)
        status = np.where(bad, 0, status).astype(np.int8)
    decisions = {labels[i]: Decision({1: POINT, 2: COMMA}.get(int(dec[i])), by[i]) for i in range(ng)}
    return Numbers(values=pd.Series(out, index=index, dtype="float64", copy=False), status_codes=status,
                   problems=problems, other=other, implied=implied, by_unit=by_unit, decisions=decisions)


def readings(text: str) -> tuple[float | None, float | None]:
    """The value of one cell's text with a decimal point and with a decimal comma (None: invalid);
    for messages about an ambiguous cell."""
    point, comma, pseps, cseps = _patterns()
    t = _normalise_one(str(text).strip())
    vp = float(re.sub(f"[{re.escape(pseps)}]", "", t)) if re.match(point, t) else None
    vc = float(re.sub(f"[{re.escape(cseps)}]", "", t).replace(",", ".")) if re.match(comma, t) else None
    return vp, vc


def _normalise_one(t: str) -> str:
    voc = vocabulary()
    for m in voc["minus"]:
        t = t.replace(m, "-")
    if voc.get("parentheses_negative"):
        t = re.sub(r"^\((.+)\)$", r"-\1", t)
    return t[1:] if t.startswith("+") else t


def _group_codes(groups, n: int) -> tuple[np.ndarray, list]:
    if groups is None:   # one group: a read-only view of one zero, no array of n codes
        return np.broadcast_to(np.int64(0), (n,)), [None]
    codes, uniques = pd.factorize(pd.Series(np.asarray(groups, dtype=object)) if not isinstance(groups, pd.Series)
                                  else groups, use_na_sentinel=True)
    labels = list(uniques)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(None)
    return codes.astype(np.int64), labels


def _mask(flag, n: int) -> np.ndarray:
    if flag is None or flag is False:
        return np.zeros(n, dtype=bool)
    if flag is True:
        return np.ones(n, dtype=bool)
    return np.asarray(pd.Series(flag).fillna(False).to_numpy(dtype=bool) if isinstance(flag, pd.Series)
                      else flag, dtype=bool)


def _is_whole(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(v) & (v == np.round(v))


def _first(positions: np.ndarray, codes: np.ndarray, ng: int) -> np.ndarray:
    """Per group, the first of ``positions`` (cells) in that group, -1 where none."""
    out = np.full(ng, -1, dtype=np.int64)
    if len(positions):
        grp, first = np.unique(codes[positions], return_index=True)
        out[grp] = positions[first]
    return out


def _decide(codes, ng, amb, prove_p, prove_c, vp, vc, whole, hint, problems, pointers):
    """Each group's decimal mark from its cells, then its unit, then the hint (see the module)."""
    dec = np.zeros(ng, dtype=np.int8)
    by = [""] * ng
    n_p = np.bincount(codes[prove_p], minlength=ng)
    n_c = np.bincount(codes[prove_c], minlength=ng)
    n_amb = np.bincount(codes[amb], minlength=ng)
    conflict = (n_p > 0) & (n_c > 0)
    dec[(n_p > 0) & ~conflict] = 1
    dec[(n_c > 0) & ~conflict] = 2
    for g in np.flatnonzero(dec):
        by[g] = "cells"
    _flag_conflict(codes, ng, conflict, prove_p, prove_c, n_p, n_c, problems, pointers)
    _flag_unit_clash(codes, ng, dec, amb & whole, prove_p, prove_c, vp, vc, problems, pointers)
    # cells still open: the unit (a count is whole), then the file's locale
    open_groups = (dec == 0) & ~conflict & (n_amb > 0)
    if open_groups.any():
        cand = amb & open_groups[codes] & whole
        unit_p = cand & _is_whole(vp) & ~_is_whole(vc)
        unit_c = cand & _is_whole(vc) & ~_is_whole(vp)
        u_p = np.bincount(codes[unit_p], minlength=ng)
        u_c = np.bincount(codes[unit_c], minlength=ng)
        unit_conflict = open_groups & (u_p > 0) & (u_c > 0)
        _flag_conflict(codes, ng, unit_conflict, unit_p, unit_c, u_p, u_c, problems, pointers, unit=True)
        for g in np.flatnonzero(open_groups & ~unit_conflict & ((u_p > 0) | (u_c > 0))):
            dec[g], by[g] = (1 if u_p[g] else 2), "unit"
        if hint in (POINT, COMMA):
            for g in np.flatnonzero(open_groups & ~unit_conflict & (dec == 0)):
                dec[g], by[g] = (1 if hint == POINT else 2), "hint"
        for g in np.flatnonzero(unit_conflict):
            by[g] = "conflict"
    for g in np.flatnonzero(conflict):
        by[g] = "conflict"
    for g in np.flatnonzero((dec == 0) & (n_amb > 0)):
        by[g] = by[g] or "undecided"
    return dec, by


def _flag_unit_clash(codes, ng, dec, cand, prove_p, prove_c, vp, vc, problems, pointers) -> None:
    """In a column of whole numbers whose cells decided its mark, a cell that this mark makes
    fractional while the other would make it whole (``23,500`` beside ``6.000.000``) contradicts
    the column: it is named, with the first cell that decided the mark."""
    cell_dec = dec[codes]
    clash = cand & (((cell_dec == 1) & ~_is_whole(vp) & _is_whole(vc)) | ((cell_dec == 2) & ~_is_whole(vc) & _is_whole(vp)))
    if not clash.any():
        return
    other, implied, by_unit = pointers
    witness = np.where(cell_dec == 1, _first(np.flatnonzero(prove_p), codes, ng)[codes],
                       _first(np.flatnonzero(prove_c), codes, ng)[codes])
    other[clash] = witness[clash]
    implied[clash] = np.where(cell_dec[clash] == 1, 2, 1)
    first_clash = _first(np.flatnonzero(clash), codes, ng)
    for g in np.unique(codes[clash]):
        w = _first(np.flatnonzero(prove_p if dec[g] == 1 else prove_c), codes, ng)[g]
        if w >= 0:
            other[w] = first_clash[g] if other[w] < 0 else other[w]
            implied[w] = dec[g]
            problems["contradictory"][w] = True
            by_unit[w] = True
    problems["contradictory"] |= clash
    by_unit |= clash


def _flag_conflict(codes, ng, conflict, side_p, side_c, n_p, n_c, problems, pointers, unit: bool = False) -> None:
    """Contradictory cells of conflicting groups: the cells of the side fewer cells take (both sides
    on a tie), each pointing at the first cell of the other side, and that cell pointing back."""
    if not conflict.any():
        return
    other, implied, by_unit = pointers
    before = problems["contradictory"].copy()
    in_conflict = conflict[codes]
    sp, sc = side_p & in_conflict, side_c & in_conflict
    first_p, first_c = _first(np.flatnonzero(sp), codes, ng), _first(np.flatnonzero(sc), codes, ng)
    flag_p = sp & (n_p <= n_c)[codes]
    flag_c = sc & (n_c <= n_p)[codes]
    other[flag_p] = first_c[codes[flag_p]]
    other[flag_c] = first_p[codes[flag_c]]
    implied[flag_p] = 1
    implied[flag_c] = 2
    groups = np.flatnonzero(conflict)
    for witness, flagged, mark in ((first_c[groups], _first(np.flatnonzero(flag_p), codes, ng)[groups], 2),
                                   (first_p[groups], _first(np.flatnonzero(flag_c), codes, ng)[groups], 1)):
        todo = (witness >= 0) & (flagged >= 0)
        witness, flagged = witness[todo], flagged[todo]
        unset = other[witness] < 0
        other[witness[unset]] = flagged[unset]
        implied[witness] = mark
        problems["contradictory"][witness] = True
    problems["contradictory"] |= flag_p | flag_c
    if unit:
        by_unit |= problems["contradictory"] & ~before


# ---- parsing cells under both conventions -------------------------------------------------------------
def _parse(values: pd.Series):
    """Per cell: (value with a decimal point, value with a decimal comma, valid with a point,
    valid with a comma, marker status 0/1=M/2=Q, not finite). Native numbers are valid both ways."""
    n = len(values)
    if pd.api.types.is_bool_dtype(values.dtype):
        return _native(np.full(n, np.nan), np.zeros(n, bool))
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
        return _native(numbers, np.ones(n, bool))
    from mmicd.io.read import arrow_text

    arrow = arrow_text(values)
    if arrow is None:
        return _parse_objects(values)
    plain = _plain(arrow)
    if plain is not None:
        return plain
    return _parse_texts(arrow)


def _native(numbers: np.ndarray, ok: np.ndarray):
    blank = np.isnan(numbers) & ok
    nonfinite = ok & ~blank & ~np.isfinite(numbers)
    valid = ok & ~blank & ~nonfinite
    status = np.where(blank, 1, 0).astype(np.int8)
    vals = np.where(valid, numbers, np.nan)
    return vals, vals, valid, valid.copy(), status, nonfinite


def _parse_objects(values: pd.Series):
    """A column of Python objects: ints/floats are native numbers, strings are text."""
    import pyarrow as pa

    arr = values.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind in ("string", "empty"):
        return _parse_texts(pa.array(arr, type=pa.large_string(), from_pandas=True))
    n = len(arr)
    is_text = np.fromiter((type(v) is str for v in arr), dtype=bool, count=n)
    is_num = np.fromiter((isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                          for v in arr), dtype=bool, count=n)
    blank = np.fromiter((v is None or v is pd.NA or v is pd.NaT for v in arr), dtype=bool, count=n)
    numbers = np.full(n, np.nan)
    if is_num.any():
        numbers[is_num] = arr[is_num].astype("float64")
    out = list(_native(numbers, is_num | blank))
    bools_or_other = ~is_text & ~is_num & ~blank          # dates, booleans: no number
    for k in (0, 1):
        out[k] = out[k].copy()
    if is_text.any():
        texts = _parse_texts(pa.array(arr[is_text], type=pa.large_string()))
        where = np.flatnonzero(is_text)
        for k in range(6):
            out[k][where] = texts[k]
    out[2] = out[2] & ~bools_or_other
    out[3] = out[3] & ~bools_or_other
    return tuple(out)


def _plain(arrow):
    """The common case in one Arrow cast: every cell a plain number (``12``, ``-3.5``, ``1e3``) or
    blank; None when any cell is something else. ``45.678`` (a point before exactly three digits,
    one to three digits before it) reads as a point here and as thousands with a comma; other cells
    with a point are valid with a point only."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from mmicd.io.read import arrow_pool

    pool = arrow_pool()
    try:   # a failing cast costs as much as reading every cell: a sample first
        pc.cast(pc.if_else(pc.equal(head := arrow.slice(0, 2048), ""), pa.scalar(None, arrow.type), head), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    try:
        numbers = pc.cast(arrow, pa.float64(), memory_pool=pool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        empty = pc.equal(arrow, "", memory_pool=pool)
        if not pc.any(empty).as_py():
            return None
        try:   # blank cells (missing) among plain numbers
            numbers = pc.cast(pc.if_else(empty, pa.scalar(None, arrow.type), arrow, memory_pool=pool), pa.float64(),
                              memory_pool=pool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return None
    vp = numbers.to_numpy(zero_copy_only=False)
    if vp.dtype != np.float64:
        vp = vp.astype("float64")
    blank = _bool(pc.is_null(numbers)) if numbers.null_count else np.zeros(len(vp), bool)
    finite = np.isfinite(vp)
    nonfinite = ~finite & ~blank            # inf, nan written out
    dot = np.asarray(pc.find_substring(arrow, ".", memory_pool=pool).to_numpy(zero_copy_only=False))
    marked = dot >= 0
    c_ok, vc = finite, vp
    if marked.any():
        # a point before exactly three digits (then 1-3 digits before it, so 1 <= |v| < 1000)
        amb = (dot - np.asarray(pc.utf8_length(arrow, memory_pool=pool).to_numpy(zero_copy_only=False))) == -4
        with np.errstate(invalid="ignore"):
            amb[amb] = (np.abs(vp[amb]) >= 1) & (np.abs(vp[amb]) < 1000) & finite[amb]
        c_ok = finite & (~marked | amb)
        if amb.any():
            vc = np.where(amb, np.round(vp * 1000.0), vp)
    status = blank.astype(np.int8)
    return vp, vc, finite, c_ok, status, nonfinite


def _bool(arr) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=bool) if arr.null_count == 0 else \
        np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _parse_texts(arrow):
    """Text cells: parsed once per distinct text (in Arrow), then spread back to the cells."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from mmicd.io.read import arrow_pool

    pool = arrow_pool()
    encoded = pc.dictionary_encode(arrow, memory_pool=pool)   # one dictionary for all chunks
    chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
    uniq = chunks[-1].dictionary if chunks else pa.array([], pa.string())
    found = pa.chunked_array([c.indices for c in chunks], type=pa.int32()) if chunks else pa.array([], pa.int32())
    null = _bool(pc.is_null(found))
    indices = np.asarray(pc.fill_null(found, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    u_vp, u_vc, u_p, u_c, u_status, u_nonfinite = _parse_uniques(uniq)
    idx = indices
    if not len(uniq):
        n = len(indices)
        return np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, bool), np.zeros(n, bool), \
            np.ones(n, np.int8), np.zeros(n, bool)
    out = [u_vp.take(idx), u_vc.take(idx), u_p.take(idx) & ~null, u_c.take(idx) & ~null,
           np.where(null, 1, u_status.take(idx)).astype(np.int8), u_nonfinite.take(idx) & ~null]
    return tuple(out)


def _parse_uniques(uniq):
    import pyarrow as pa
    import pyarrow.compute as pc

    voc = vocabulary()
    point, comma, pseps, cseps = _patterns()
    trimmed = pc.utf8_trim_whitespace(uniq)
    low = pc.utf8_lower(trimmed)
    known = markers()
    keys = list(known)
    pos = pc.fill_null(pc.index_in(low, value_set=pa.array(keys, type=low.type)), -1)
    pos = np.asarray(pos.to_numpy(zero_copy_only=False), dtype=np.int64)
    codes = np.array([1 if known[k] == "M" else 2 for k in keys], dtype=np.int8)
    status = np.where(pos >= 0, codes[np.maximum(pos, 0)], 0).astype(np.int8)
    nonfinite = _bool(pc.is_in(low, value_set=pa.array([str(x).lower() for x in voc["not_finite"]],
                                                     type=low.type)))
    t = trimmed
    for m in voc["minus"]:
        t = pc.replace_substring(t, m, "-")
    if voc.get("parentheses_negative"):
        t = pc.replace_substring_regex(t, r"^\((.+)\)$", r"-\1")
    t = pc.replace_substring_regex(t, r"^\+", "")
    p_ok = _bool(pc.match_substring_regex(t, point)) & (status == 0) & ~nonfinite
    c_ok = _bool(pc.match_substring_regex(t, comma)) & (status == 0) & ~nonfinite
    vp = _cast(pc.replace_substring_regex(t, f"[{_re2_class(pseps)}]", ""), p_ok)
    ctext = pc.replace_substring(pc.replace_substring_regex(t, f"[{_re2_class(cseps)}]", ""), ",", ".")
    vc = _cast(ctext, c_ok)
    return vp, vc, p_ok, c_ok, status, nonfinite


def _re2_class(chars: str) -> str:
    return "".join("\\" + c if c in "\\]^-[." else c for c in chars)


def _cast(text, ok: np.ndarray) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    masked = pc.if_else(pa.array(ok), text, pa.scalar(None, type=text.type))
    out = pc.cast(masked, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(out, dtype="float64")


def _status_series(status: np.ndarray, index: pd.Index) -> pd.Series:
    import pyarrow as pa

    taken = pa.array([None, "M", "Q"], type=pa.large_string()).take(pa.array(status.astype(np.int8)))
    return pd.Series(pd.array(taken, dtype="string"), index=index)
