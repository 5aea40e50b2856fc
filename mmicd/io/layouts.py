"""Layout detection: which known shape a sheet has, and its cells as a raw long frame.

A detector looks at a :class:`Book` and returns :class:`Raw` tables (or nothing). Raw frames hold
source values under canonical column names plus ``_row`` (1-based sheet row) and, for wide layouts,
``_col`` (the header of the value's column); recoding and validation happen in the next stage.
Official layouts live in :mod:`mmicd.io.official`; this module has the common pieces, the template
and the generic table reader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd.io.read import Book, arrow_pool, arrow_text, cell_text

TEMPLATE_MARK = "mmicd-template"
YEAR = re.compile(r"^\s*((?:19|20)\d{2})(?:\.0)?(?:\s*\[YR\d{4}\])?\s*$", re.I)
UNIT_WORDS = [  # (regex on a title/unit row, unit_mult)
    (re.compile(r"\b(billions?|milliards?|miles de millones)\b", re.I), 9),
    (re.compile(r"\b(millions?|millones|mn)\b", re.I), 6),
    (re.compile(r"\b(thousands?|milliers?|miles|'000|000s)\b", re.I), 3),
]
FOOTER = re.compile(r"^\s*(source|sources|note|notes|fuente|fuentes|nota|notas|\*|\(\d+\)|\d+\s*[/)]|"
                    r"data from database|last updated|citation|suggested citation|footnote|remarque|"
                    r"elaborado|elaboration|copyright)\b", re.I)


@dataclass
class Raw:
    layout: str
    sheet: str | None
    frame: pd.DataFrame
    columns: dict[str, str]                    # canonical -> source header (for messages)
    source_columns: list[str]
    kind: str | None = None                    # a Kind value, None when the caller must decide
    form: str = "observations"
    header_row: int | None = None              # 1-based
    defaults: dict = field(default_factory=dict)  # source, edition, title, licence, basis, notes
    coded: bool = False                        # dimensions already canonical codes (official layouts)
    parsed: bool = True                        # with coded: values already numbers in base units; False:
                                               # cells as written, scaled by 10**unit_mult when parsed
    problems: list[tuple[str, str, dict]] = field(default_factory=list)  # (level, key, fields)


def unit_mult_from(texts: list[str]) -> int:
    for text in texts:
        for pattern, mult in UNIT_WORDS:
            if pattern.search(text):
                return mult
    return 0


def is_template(book: Book) -> tuple[str, str] | None:
    """(kind, language) when the book is one of our templates (hidden sheet ``_mmicd``)."""
    if book.ftype == "csv" or "_mmicd" not in book.sheet_names:
        return None
    grid = book.grid("_mmicd", 6)
    cells = [cell_text(r[0]) if r else "" for r in grid] + [""] * 4
    if cells[0] != TEMPLATE_MARK:
        return None
    return cells[1], cells[3] or "en"


def find_header(grid: list[list], score: Callable[[list[str]], float], max_rows: int = 60) -> int:
    """0-based index of the most header-like row among the first ``max_rows``."""
    best, best_score = 0, -1.0
    for i, row in enumerate(grid[:max_rows]):
        texts = [cell_text(c) for c in row]
        filled = [c for c in texts if c]
        if len(filled) < 2:
            continue
        s = score(texts) + 0.01 * sum(1 for c in filled if not _is_number(c))
        if s > best_score:
            best, best_score = i, s
    return best


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").replace(" ", ""))
        return True
    except ValueError:
        return False


def title_texts(grid: list[list], header_row: int) -> list[str]:
    return [" ".join(cell_text(c) for c in row if cell_text(c)) for row in grid[:header_row]]


def read_table(book: Book, sheet: str, header_row: int,
               numeric: set[str] | frozenset[str] = frozenset()) -> tuple[pd.DataFrame, list[str]]:
    """The table under ``header_row`` (0-based), with ``_row``; blank and footnote rows dropped.

    Columns named in ``numeric`` may keep their cell types (numbers); all others are text.
    """
    frame, rows = book.table_rows(sheet, header_row, numeric)
    headers = list(frame.columns)
    frame = frame.reset_index(drop=True)
    frame["_row"] = rows
    if len(frame) and (len(headers) < 2 or not all(_filled(frame.iloc[:, j]) for j in range(len(headers)))):
        filled = np.zeros(len(frame), dtype="int64")
        for j in range(len(headers)):
            filled += nonblank(frame.iloc[:, j])
        sparse = filled <= 1
        footer = np.zeros(len(frame), dtype=bool)
        if headers and sparse.any():
            first = frame.iloc[:, 0][sparse].astype("string").fillna("").str.strip()
            footer[sparse] = first.str.match(FOOTER).fillna(False).astype(bool).to_numpy()
        # everything after the first footnote row that follows the data is dropped too
        cut = int(np.flatnonzero(footer)[0]) if footer.any() else len(frame)
        keep = (filled > 0) & (np.arange(len(frame)) < cut)
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
    return frame, headers


def _filled(col: pd.Series) -> bool:
    """Whether every cell of an Arrow text column holds text (told by the lengths alone); False
    when not, or not known that fast (:func:`nonblank` then counts them row by row)."""
    values = arrow_text(col)
    if values is None or values.null_count:
        return False
    import pyarrow.compute as pc

    return len(values) == 0 or pc.min(pc.binary_length(values)).as_py() > 0


def nonblank(col: pd.Series) -> np.ndarray:
    """True where a cell holds something (a number, or text of at least one character)."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.notna().to_numpy()
    values = arrow_text(col)
    if values is not None:
        import pyarrow.compute as pc

        pool = arrow_pool()
        filled = pc.fill_null(pc.not_equal(values, "", memory_pool=pool), False)
        return filled.to_numpy(zero_copy_only=False)
    return (col.fillna("").astype("string").str.len() > 0).fillna(False).to_numpy(dtype=bool)


def year_columns(headers: list[str]) -> dict[str, str]:
    """Header -> year for headers that are years (``2020``, ``2020 [YR2020]``)."""
    out = {}
    for h in headers:
        m = YEAR.match(str(h))
        if m:
            out[h] = m.group(1)
    return out


def melt_years(frame: pd.DataFrame, id_cols: list[str], years: dict[str, str]) -> pd.DataFrame:
    """Wide year columns to long: one row per (id, year) with ``time_period``, ``value``, ``_col``."""
    long = frame.melt(id_vars=[*id_cols, "_row"], value_vars=list(years), var_name="_col", value_name="value")
    long["time_period"] = long["_col"].map(years)
    return long
