"""The parts of a rule: its declaration (:class:`Rule`), what the caller says (:class:`Params`), what a
check finds (:class:`Found`), the registry (:data:`RULES`) and helpers shared by the checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.issues import Level
from mmicd.model import DIMENSIONS, TIME_PERIOD_PATTERN

OBS, MD = "observations", "microdata"
MAX_PER_CHECK = 100          # issues per rule, key and column; then one "… and N more"
SUM_TOLERANCE = 0.005        # parts vs total: more than 0.5 % off -> "does not add up"
JUMP_FACTOR = 10.0           # a value 10 times larger or smaller than the previous period
JUMP_MIN = 1000.0
EQUAL_MIN = 1000.0           # equal female and male counts flagged from this size on
FRACTION_NOISE = (1e-9, 1e-6)  # (relative, absolute): 779599.0000000001 persons is float noise, .5 is not
FIRST_YEAR = 1900            # observation years before this are errors
AGE_MAX = 130
COUNT_UNITS = {"PS"}
ADDITIVE_UNITS = {"PS", "USD"}   # units whose parts add up to their total (not percentages)
SIGNED_MEASURES = {"NET_MIG"}
MISSING_STATUSES = ("M", "Q", "O")  # an empty value needs one of these obs_status codes
NON_FINITE_TEXT = re.compile(r"^\s*[+-]?(nan|inf|infinity)\s*$", re.I)

# Parts of a total, by dimension (declared as data). ``parts``: the codes that make a complete
# partition when all are present with a value; ``also``: codes that belong to it when present (the
# unknown bucket is kept in totals). Age and origin are described in :func:`_partition`.
PARTITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "sex": {"parts": ("F", "M"), "also": (codes.UNKNOWN,)},
    "migrant_status": {"parts": ("MS_MIGRANT", "MS_NOMIGRANT"), "also": (codes.UNKNOWN,)},
    "age": {"parts": (), "also": (codes.UNKNOWN,)},               # five-year bands from 0 to an open band
    "counterpart_area": {"parts": ("OOO",), "also": ()},          # countries + "other": complete with OOO
}


@dataclass(frozen=True)
class Params:
    """What the caller says about the frame.

    ``projections``: years after next year are accepted for values marked ``E`` (a projection is a
    modelled value); the upload sets it only when the person loading declares the file holds
    projections (and then marks those values ``E``); the store accepts what the upload marked.
    ``unknown_ok``: ``_U`` is a valid code of every dimension (microdata).
    """

    projections: bool = False
    unknown_ok: bool = False
    last_year: int = field(default_factory=lambda: date.today().year + 1)


@dataclass
class Found:
    """Failures of a rule: the row (position in the frame) each points at, message fields, and for
    knock-on rules the rows each failure involves (compressed: ``members[ptr[k]:ptr[k+1]]``)."""

    pos: np.ndarray
    fields: pd.DataFrame | None = None       # per failure: value, key, column and message fields
    ptr: np.ndarray | None = None
    members: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pos)


Check = Callable[[pd.DataFrame, Params], "np.ndarray | pd.Series | Found"]


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    form: str                        # "observations" or "microdata"
    column: str | None               # canonical column its issues name (None: the row)
    keys: tuple[str, ...]            # translation keys it may use (ingest.issue.<key>); the first by default
    check: Check
    doc: str                         # what it checks, in one line (README, tests)
    needs: tuple[str, ...] = ()      # columns without which the rule does not apply
    knock_on: bool = False           # a failure involving a row in error is that error's consequence
    fields: Callable[[pd.DataFrame, Params], dict] | None = None  # message fields of the whole rule

    @property
    def key(self) -> str:
        return self.keys[0]


RULES: list[Rule] = []


def rule(id: str, level: Level, form: str, column: str | None, keys: str | tuple[str, ...], doc: str, *,
         needs: tuple[str, ...] = (), knock_on: bool = False,
         fields: Callable[[pd.DataFrame, Params], dict] | None = None):
    """Register the decorated check as a rule (the registry is the order issues come in)."""

    def add(check: Check) -> Check:
        RULES.append(Rule(id, level, form, column, (keys,) if isinstance(keys, str) else keys, check, doc,
                          needs=needs, knock_on=knock_on, fields=fields))
        return check

    return add


# ---- helpers ------------------------------------------------------------------------------------
def values_of(frame: pd.DataFrame, col: str = "value") -> np.ndarray:
    """Floats of a column of ``frame`` (NaN where no number), converted once while the rules run
    (see :func:`factorized_once`); read-only, shared by the rules."""
    def compute() -> np.ndarray:
        column = frame[col]
        if column.dtype == np.float64:     # floats already: the frame's own array, not a copy
            return _read_only(column.to_numpy().view())
        return _read_only(pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))

    return _once(frame, ("numbers", col), compute)


def as_text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("")


def by_unique(values: pd.Series, test: Callable[[str], bool]) -> np.ndarray:
    """``test`` applied once per distinct text (columns of codes have few)."""
    index, uniques = pd.factorize(as_text(values))
    ok = np.array([bool(test(str(u))) for u in uniques] + [False], dtype=bool)
    return ok[index]


def period_years(frame: pd.DataFrame, col: str = "time_period") -> np.ndarray:
    """The year of each valid period (``2020``, ``2020-Q3``, ``2020-07``), NaN for others."""
    pattern = re.compile(TIME_PERIOD_PATTERN)
    index, uniques = column_codes(frame, col)
    years = np.array([float(u[:4]) if pattern.match(str(u)) else np.nan for u in uniques] + [np.nan])
    return years[index]


def row_labels(frame: pd.DataFrame) -> np.ndarray:
    """Row numbers as shown to users: the sheet row (``_row``) when known, else 1-based dataset rows."""
    if "_row" in frame:
        return frame["_row"].to_numpy()
    return np.arange(1, len(frame) + 1)


def fmt(v: float) -> str:
    if not np.isfinite(v):
        return str(v)
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.3f}"


_CODES: ContextVar[dict | None] = ContextVar("rules_codes", default=None)


@contextmanager
def factorized_once(frame: pd.DataFrame, known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None):
    """While the rules run on ``frame``, each column is factorized once (checks group by many keys).

    ``known``: column -> (code per row, distinct texts) the caller already has, exactly what
    :func:`column_codes` would compute (codes follow the sorted distinct texts present in the
    column, blanks and missing cells as ''): the upload recodes each column through its distinct
    values and hands those codes over instead of having the rules factorize the texts again."""
    cache: dict = {"frame": id(frame)}
    for col, (index, uniques) in (known or {}).items():
        cache[col] = (_read_only(np.asarray(index)), np.asarray(uniques, dtype=object))
    token = _CODES.set(cache)
    try:
        yield
    finally:
        _CODES.reset(token)


def _once(frame: pd.DataFrame, key: object, compute: Callable[[], object]) -> object:
    """``compute()`` for ``frame``, kept while the rules run on it (see :func:`factorized_once`)."""
    cache = _CODES.get()
    mine = cache is not None and cache["frame"] == id(frame)
    if mine and key in cache:
        return cache[key]
    got = compute()
    if mine:
        cache[key] = got
    return got


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)          # shared by the rules: none may change it in place
    return a


def column_codes(frame: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, distinct texts) of a column; codes follow the sorted texts."""
    def compute():
        fast = _arrow_codes(frame[col])
        if fast is not None:
            return fast
        index, uniques = pd.factorize(as_text(frame[col]), sort=True)
        return np.asarray(index, dtype="int64"), np.asarray(uniques, dtype=object)

    return _once(frame, col, compute)


def _arrow_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`column_codes` of an Arrow text column without missing cells, dictionary-encoded in
    Arrow (no Python object per row); None for other columns (pandas factorizes those)."""
    from mmicd.clean.mapping import factorize_text
    from mmicd.io.read import arrow_text

    arrow = arrow_text(values)
    if arrow is None or arrow.null_count:
        return None
    index, uniques = factorize_text(values)
    return sorted_codes(index, uniques)


def sorted_codes(index: np.ndarray, uniques: list | np.ndarray,
                 present: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes (non-negative, into ``uniques``: texts, equal ones merged) renumbered as
    :func:`column_codes` numbers them: only the texts present, in sorted order (code points, as
    Arrow and pandas sort). ``present``: the caller knows every text of ``uniques`` occurs (no
    count over the rows). A column of one text (or ``index`` a broadcast view) gets a view."""
    uniques = np.asarray(uniques, dtype=object)
    index = np.asarray(index)
    constant = index.ndim == 1 and len(index) > 0 and index.strides[0] == 0
    if constant:
        kept = index[:1].astype("int64")
    elif present:
        kept = np.arange(len(uniques))
    else:
        kept = np.flatnonzero(np.bincount(index, minlength=len(uniques))) if len(index) else np.zeros(0, "int64")
    texts, inverse = np.unique(uniques[kept], return_inverse=True) if len(kept) else (uniques[:0], kept)
    inverse = inverse.reshape(-1)
    small = np.full(len(uniques), -1, dtype=next(t for t in ("int8", "int16", "int32", "int64")
                                                 if len(uniques) <= np.iinfo(t).max))   # (1 byte a row, mostly)
    small[kept] = inverse
    if constant or len(texts) == 1:    # one text: every code 0, a read-only view (no array of n codes)
        return np.broadcast_to(small.dtype.type(0), index.shape), texts
    if len(kept) == len(uniques) and np.array_equal(inverse, np.arange(len(uniques))):
        return index.astype(small.dtype, copy=False), texts   # sorted distinct texts already, all present
    return small[index], texts


def is_in(frame: pd.DataFrame, col: str, values) -> np.ndarray:
    """``frame[col].isin(values)`` as booleans (missing cells: False), tested once per distinct
    text of a text column (its :func:`column_codes`); other columns through pandas."""
    values = set(values)
    column = frame[col]
    if isinstance(column.dtype, pd.StringDtype) and all(isinstance(v, str) for v in values) \
            and not ("" in values and column.hasnans):     # (column_codes reads a missing cell as '')
        index, uniques = column_codes(frame, col)
        return take(np.array([u in values for u in uniques] + [False], dtype=bool), index)
    return column.isin(list(values)).to_numpy(dtype=bool, na_value=False)


def take(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``table[index]``; for the codes of a one-text column (a broadcast view) a read-only view too.
    A yes/no table with few yeses (or few noes) is told by comparing the codes with those few (a
    comparison of small integers costs a fraction of a gather, which widens every code first)."""
    if index.ndim == 1 and len(index) and index.strides[0] == 0:
        return np.broadcast_to(table[index[0]], index.shape)
    if table.dtype == bool and table.ndim == 1 and len(index) and index.dtype.kind in "iu":
        yes = np.flatnonzero(table)
        few, test, join = (yes, np.equal, np.logical_or) if len(yes) <= len(table) - len(yes) else \
            (np.flatnonzero(~table), np.not_equal, np.logical_and)
        if len(few) <= 4 and index.min() >= 0 and index.max() < len(table):   # (else: table[index] as it is)
            if not len(few):
                return np.full(index.shape, test is np.not_equal)
            out = test(index, few[0])
            for code in few[1:]:
                join(out, test(index, code), out=out)
            return out
    return table[index]


def lookup(frame: pd.DataFrame, col: str, mapping: dict, default: object = None, dtype=object) -> np.ndarray:
    """``mapping`` applied to a column once per distinct text (as an array of ``dtype``)."""
    index, uniques = column_codes(frame, col)
    return take(np.array([mapping.get(u, default) for u in uniques], dtype=dtype), index)


def group_ids(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One integer per distinct combination of ``keys`` (rows with the same values share it), in
    order of first appearance (int32 below 2**31 rows); computed once per frame and keys while the
    rules run. A column with one text splits no group: it is left out (keys that differ only by such
    columns share their ids)."""
    keys = [col for col in keys if len(column_codes(frame, col)[1]) > 1]

    def compute():
        sizes = [len(column_codes(frame, col)[1]) for col in keys]      # codes: 0 .. size-1
        small = len(frame) < 2 ** 31 and int(np.prod(sizes, dtype=object)) < 2 ** 31   # int32 codes throughout
        gid = np.zeros(len(frame), dtype="int32" if small else "int64")
        radix = 1
        for col, size in zip(keys, sizes, strict=True):
            index = column_codes(frame, col)[0]
            if radix * size >= 2 ** 62:   # the combined code would overflow: renumber what we have so far
                gid, radix = pd.factorize(gid)[0].astype("int64"), len(frame) + 1
            gid = gid * gid.dtype.type(size) + index
            radix *= size
        ids = first_appearance(gid, radix) if radix <= 2 * len(gid) + 1024 else pd.factorize(gid)[0]
        return _read_only(ids.astype("int32" if len(ids) < 2 ** 31 else "int64", copy=False))

    return _once(frame, ("groups", tuple(keys)), compute)


def first_appearance(gid: np.ndarray, radix: int) -> np.ndarray:
    """``pd.factorize(gid)[0]`` for codes in ``0 .. radix-1`` (a table of ``radix`` entries, no hashing
    and no sort): each distinct code numbered in order of its first row (int32 below 2**31 rows)."""
    n = len(gid)
    kind = "int32" if n < 2 ** 31 else "int64"
    first = np.full(radix, n, dtype=kind)
    np.minimum.at(first, gid, np.arange(n, dtype=kind))   # the first row of each code
    starts = np.zeros(n + 1, dtype=bool)
    starts[first] = True                                  # rows where a code first appears (n: absent codes)
    rank = np.cumsum(starts[:n], dtype=kind)              # per row: codes first seen up to it
    del starts
    rank -= 1
    return rank[first[gid]]


def sub_group_ids(gid: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The group ids of the rows ``where``, renumbered from 0 in order of first appearance (ids of
    :func:`group_ids` are below the number of rows: a table of that size, no hashing)."""
    if not len(where):
        return np.zeros(0, dtype="int64")
    return first_appearance(gid[where], int(gid.max()) + 1).astype("int64")


def members_of_groups(gid: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compressed rows of the groups ``wanted`` (one entry per failure, in its order)."""
    order = np.argsort(gid, kind="stable")
    sorted_gid = gid[order]
    start = np.searchsorted(sorted_gid, wanted, side="left")
    stop = np.searchsorted(sorted_gid, wanted, side="right")
    return ranges(order, start, stop)


def ranges(order: np.ndarray, start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = (stop - start).astype("int64")
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype("int64")
    if not lengths.sum():
        return ptr, np.zeros(0, dtype="int64")
    offsets = np.arange(ptr[-1]) - np.repeat(ptr[:-1], lengths)
    return ptr, order[np.repeat(start, lengths) + offsets]


def dims(frame: pd.DataFrame, without: tuple[str, ...] = ()) -> list[str]:
    return [c for c in DIMENSIONS if c in frame and c not in without]
