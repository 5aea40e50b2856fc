"""Where the tables of a sheet are: titles, header rows, stub and value columns, body rows, notes.

A sheet is read as a grid of cells (merged ranges filled with their value, so a label merged over
the columns or rows below it labels each of them). Following the observations first, as databaker
and unpivotr do: the *body* of a table is a run of rows holding numbers (or missing-value markers)
in the same columns; the *header block* is the run of label rows right above it; the *titles* are
the single-text rows above that; *notes* follow the body. Several tables stacked in one sheet, each
with its own title, are found one after the other. Nothing here says what the labels mean: that is
:mod:`mmicd.io.interpret`, with the vocabularies of :mod:`mmicd.io.labels`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from mmicd.io.layouts import FOOTER
from mmicd.io.numbers import markers, not_finite_words
from mmicd.io.read import cell_text

NUMBER = re.compile(r"^[-+\u2212(]?\s*\d[\d\s.,'\u00a0\u202f]*\)?\s*%?$|^[-+]?\d*\.\d+(e[-+]?\d+)?$", re.I)
YEAR_CELL = re.compile(r"^(19|20)\d{2}(\.0+)?$")
MAX_HEADER_ROWS = 8
NOTE_MIN_CHARS = 70   # a single text cell this long below a table is a note, not a row label

# cell kinds
BLANK, TEXT, NUM, MARK, YEAR = ".", "T", "N", "M", "Y"


def kind(value: object) -> str:
    if value is None or value == "":
        return BLANK
    if isinstance(value, bool):
        return TEXT
    if isinstance(value, (int, float)):
        if value != value:  # NaN
            return BLANK
        if float(value).is_integer() and 1900 <= value <= 2100:
            return YEAR
        return NUM
    if isinstance(value, (dt.date, dt.datetime, dt.time, dt.timedelta)):
        return TEXT
    text = str(value).strip()
    if not text:
        return BLANK
    if text.lower() in markers() or text.lower() in not_finite_words():
        return MARK   # (inf, NaN: a value cell in error, never a label)
    if YEAR_CELL.match(text):
        return YEAR
    if NUMBER.match(text) and any(ch.isdigit() for ch in text):
        return NUM
    return TEXT


@dataclass
class Sheet:
    """A grid of cells with merged ranges filled (``merged_into[(r, c)]`` = the range's top-left)."""

    name: str
    rows: list[list]
    merged_into: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    merged_span: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # top-left -> (rows, cols)
    header_word: object = None     # text -> True when it names a column (given by the reader's vocabulary)

    def __post_init__(self) -> None:
        self.width = max((len(r) for r in self.rows), default=0)
        self.kinds = [[kind(v) for v in r] + [BLANK] * (self.width - len(r)) for r in self.rows]

    @classmethod
    def from_grid(cls, name: str, grid: list[list], merged: list | None = None) -> Sheet:
        rows = [list(r) for r in grid]
        into: dict[tuple[int, int], tuple[int, int]] = {}
        span: dict[tuple[int, int], tuple[int, int]] = {}
        for (r0, c0), (r1, c1) in merged or []:
            if r0 >= len(rows):
                continue
            value = rows[r0][c0] if c0 < len(rows[r0]) else ""
            span[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                row = rows[r]
                if len(row) <= c1:
                    row.extend([""] * (c1 + 1 - len(row)))
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        into[(r, c)] = (r0, c0)
                        if row[c] in ("", None):
                            row[c] = value
        return cls(name, rows, into, span)

    def text(self, r: int, c: int) -> str:
        row = self.rows[r] if r < len(self.rows) else []
        return cell_text(row[c]) if c < len(row) else ""

    def raw(self, r: int, c: int) -> object:
        row = self.rows[r] if r < len(self.rows) else []
        return row[c] if c < len(row) else ""

    def indent(self, r: int, c: int) -> int:
        row = self.rows[r] if r < len(self.rows) else []
        value = row[c] if c < len(row) else ""
        return len(value) - len(value.lstrip(" \u00a0\t")) if isinstance(value, str) else 0

    def filled(self, r: int) -> list[int]:
        return [c for c, k in enumerate(self.kinds[r]) if k != BLANK]

    def own(self, r: int, c: int) -> bool:
        """The cell holds its own value (not a copy from a merged range above or to the left)."""
        return (r, c) not in self.merged_into


@dataclass
class Table:
    sheet: Sheet
    titles: list[int]          # rows of title lines above the header block
    header: list[int]          # rows of the header block (top to bottom)
    body: list[int]            # rows of the body (data rows and the label rows between them)
    notes: list[int]           # note rows below the body
    value_cols: list[int]
    stub_cols: list[int]
    first: int                 # first data row

    def title_texts(self) -> list[str]:
        out = []
        for r in self.titles:
            cells = [self.sheet.text(r, c) for c in self.sheet.filled(r) if self.sheet.own(r, c)]
            text = " ".join(x for x in cells if x)
            if text:
                out.append(text)
        return out

    def note_texts(self) -> list[str]:
        return [" ".join(self.sheet.text(r, c) for c in self.sheet.filled(r) if self.sheet.own(r, c))
                for r in self.notes]


def _data_row(kinds: list[str]) -> bool:
    return any(k in (NUM, MARK) for k in kinds)


def _year_header(sheet: Sheet, r: int, within: bool = False) -> bool:
    """A row of column years (``1990 1995 2000 ...``) above a body, not a row of data. Within a
    body (``within``) it takes three years or more in sequence: two counts such as 2019 and 2020
    refugees in a row of data look like years too."""
    ks = sheet.kinds[r]
    years = [c for c, k in enumerate(ks) if k == YEAR]
    if len(years) < (3 if within else 2) or any(k in (NUM, MARK) for k in ks):
        return False
    values = [int(float(sheet.text(r, c))) for c in years]
    increasing = all(b > a for a, b in zip(values, values[1:], strict=False))
    if not increasing and not _grouped(values):
        return False
    # a data row below holds numbers under those columns; years repeated in the rows below are data
    below = [i for i in range(r + 1, min(r + 6, len(sheet.kinds))) if _data_row(sheet.kinds[i])]
    return not below or sum(sheet.kinds[below[0]][c] == YEAR for c in years) < len(years) / 2


def _grouped(values: list[int]) -> bool:
    """Years repeated in groups (1990..2020 under "both sexes", again under "males" ...)."""
    runs, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] <= values[i - 1]:
            runs.append(values[start:i])
            start = i
    return len(runs) > 1 and all(run == runs[0] for run in runs)


def _is_data(sheet: Sheet, r: int, within: bool = False) -> bool:
    ks = sheet.kinds[r]
    if sheet.header_word is not None and not within:
        texts = [sheet.text(r, c) for c, k in enumerate(ks) if k == TEXT]
        if texts and all(sheet.header_word(t) for t in texts):
            return False     # "Country or territory | 1000 | 1000": column names over numbers in labels
    if not _data_row(ks) and not (sum(k == YEAR for k in ks) >= 1 and any(k == TEXT for k in ks)
                                  and (within or _years_are_values(sheet, r))):
        return False
    return not _year_header(sheet, r, within)


def _years_are_values(sheet: Sheet, r: int) -> bool:
    """A row whose only numbers look like years is data when the rows around it hold the same
    kinds in the same columns (a table of counts that happen to lie in 1900..2100)."""
    ks = sheet.kinds[r]
    near = [i for i in (r - 1, r + 1, r + 2) if 0 <= i < len(sheet.kinds) and i != r]
    return any(_data_row(sheet.kinds[i]) and
               all(sheet.kinds[i][c] in (NUM, YEAR, MARK) for c, k in enumerate(ks) if k == YEAR) for i in near)


def _is_note(sheet: Sheet, r: int) -> bool:
    filled = sheet.filled(r)
    if not filled:
        return False
    texts = [sheet.text(r, c) for c in filled if sheet.own(r, c)]
    if len(texts) != 1 or _data_row(sheet.kinds[r]):
        return False
    text = texts[0]
    return bool(FOOTER.match(text)) or len(text) >= NOTE_MIN_CHARS or text.startswith(("*", "(", "["))


def _long_text_row(sheet: Sheet, r: int) -> bool:
    """A row of text only whose first cell is a sentence, not a name (a note, whatever its other
    cells): five words or more that name no area."""
    from mmicd import codes

    own = [c for c in sheet.filled(r) if sheet.own(r, c)]
    if not own or _data_row(sheet.kinds[r]):
        return False
    text = sheet.text(r, own[0])
    return len(text.split()) >= 5 and not codes.resolve_area(text)


def _single(sheet: Sheet, r: int) -> bool:
    """A row with one text cell of its own (a title line), not a label merged over some columns."""
    own = [c for c in sheet.filled(r) if sheet.own(r, c)]
    if len(own) != 1 or sheet.kinds[r][own[0]] not in (TEXT, YEAR):
        return False
    rows_cols = sheet.merged_span.get((r, own[0]))
    return rows_cols is None or rows_cols[1] == 1 or own[0] == 0


def find_tables(sheet: Sheet, start: int = 0) -> list[Table]:
    """Every table of the sheet, top to bottom."""
    tables: list[Table] = []
    r = start
    n = len(sheet.rows)
    previous_end = start
    while r < n:
        # the first data row of the next table
        while r < n and not _is_data(sheet, r):
            r += 1
        if r >= n:
            break
        first = r
        # the body: data rows, and blank or label rows between them, until notes or a new table
        body = [first]
        value_cols = {c for c, k in enumerate(sheet.kinds[first]) if k in (NUM, MARK, YEAR)}
        i = first + 1
        while i < n:
            ks = sheet.kinds[i]
            if _is_data(sheet, i, within=True):
                body.append(i)
                value_cols |= {c for c, k in enumerate(ks) if k in (NUM, MARK)}
                i += 1
                continue
            if _is_note(sheet, i):
                break
            if not sheet.filled(i):
                i += 1
                continue
            # a label row: part of this body when its labels stand in the body's label columns only
            # (an area without data, a group heading) and more body rows follow; a row with labels
            # over the value columns is the header of a next table
            if _year_header(sheet, i, within=True) or _single_title(sheet, i):
                break
            if _long_text_row(sheet, i) and not any(_is_data(sheet, x) for x in range(i + 1, min(n, i + 60))):
                break          # a note after the last data row, split into cells at its commas
            if any(c in value_cols for c in sheet.filled(i)):
                if _bad_data_row(sheet, i, value_cols):
                    body.append(i)     # a row of the table whose value cell holds text: reported, not dropped
                    i += 1
                    continue
                break
            j = i + 1
            while j < n and (not sheet.filled(j) or (not _is_data(sheet, j) and not _is_note(sheet, j)
                                                     and not any(c in value_cols for c in sheet.filled(j)))):
                j += 1
            if j < n and _is_data(sheet, j):
                body.extend(x for x in range(i, j) if sheet.filled(x))
                i = j
                continue
            break
        last = max(body)
        # notes right below (and every text line left at the end of the sheet)
        notes = []
        k = last + 1
        rest_has_data = any(_is_data(sheet, x) for x in range(last + 1, n))
        while k < n and (not sheet.filled(k) or _is_note(sheet, k) or (not rest_has_data and not _is_data(sheet, k))):
            if sheet.filled(k):
                notes.append(k)
            k += 1
        data_rows = [b for b in body if _is_data(sheet, b)]
        cols = _value_columns(sheet, data_rows)
        header = _header_block(sheet, first, previous_end, cols)
        top = header[0] if header else first
        titles = [t for t in range(previous_end, top) if sheet.filled(t) and not _is_data(sheet, t)]
        stub = [c for c in range(sheet.width) if c not in cols and
                any(sheet.kinds[b][c] != BLANK for b in body[:200])]
        tables.append(Table(sheet, titles, header, body, notes, sorted(cols), stub, first))
        previous_end = (notes[-1] + 1) if notes else last + 1
        r = previous_end
    return tables


def _bad_data_row(sheet: Sheet, r: int, value_cols: set[int]) -> bool:
    """A row with labels in the label columns (categories, not column names) and text where the
    numbers stand: a data row with a value that is not a number ("abc", "inf", "1,2OO")."""
    stubs = [c for c in sheet.filled(r) if c not in value_cols]
    if not stubs or sheet.header_word is None:
        return False
    texts = [sheet.text(r, c) for c in stubs]
    return not any(sheet.header_word(t) for t in texts) and len(stubs) >= 1 and \
        sum(1 for c in sheet.filled(r) if c in value_cols) <= max(1, len(value_cols) // 2 + 1)


def _single_title(sheet: Sheet, r: int) -> bool:
    """A title line of a next table (a single text cell in the first column, followed by labels)."""
    own = [c for c in sheet.filled(r) if sheet.own(r, c)]
    return len(own) == 1 and own[0] == 0 and sheet.kinds[r][0] == TEXT and (r, 0) in sheet.merged_span


def _metadata_line(sheet: Sheet, r: int) -> bool:
    """``Country of asylum: | all``, ``Data source | World Development Indicators``: a line of a
    preamble (a key and its value), not labels of columns."""
    own = [c for c in sheet.filled(r) if sheet.own(r, c)]
    return 1 <= len(own) <= 2 and sheet.text(r, own[0]).rstrip().endswith(":")


def _value_columns(sheet: Sheet, data_rows: list[int]) -> set[int]:
    """Columns holding numbers or markers in most data rows (a stub column of codes or years, e.g.
    a sort order or a year column, is told apart later by its header)."""
    if not data_rows:
        return set()
    counts: dict[int, int] = {}
    texts: dict[int, int] = {}
    for r in data_rows[:2000]:
        for c, k in enumerate(sheet.kinds[r]):
            if k in (NUM, MARK, YEAR):
                counts[c] = counts.get(c, 0) + 1
            elif k == TEXT:
                texts[c] = texts.get(c, 0) + 1
    return {c for c, n in counts.items() if n >= max(1, texts.get(c, 0))}


def _header_block(sheet: Sheet, first: int, floor: int, value_cols: set[int]) -> list[int]:
    """Label rows right above the first data row (blank rows between them and the body skipped):
    up to a blank row, a title line, or MAX_HEADER_ROWS rows."""
    r = first - 1
    while r >= floor and not sheet.filled(r):
        r -= 1
    rows: list[int] = []
    while r >= floor and len(rows) < MAX_HEADER_ROWS:
        if not sheet.filled(r) or _is_data(sheet, r) or _metadata_line(sheet, r):
            break
        if _single(sheet, r) and rows:
            # a single label over value columns (a group label) belongs to the header; a line
            # starting in the first column with nothing under its span is a title
            own = next(c for c in sheet.filled(r) if sheet.own(r, c))
            span = sheet.merged_span.get((r, own), (1, 1))[1]
            if own == 0 or not (set(range(own, own + span)) & value_cols) or span == 1 and own not in value_cols:
                break
        elif _single(sheet, r) and not rows:
            own = next(c for c in sheet.filled(r) if sheet.own(r, c))
            if own not in value_cols and own != 0:
                break
        rows.append(r)
        r -= 1
    return sorted(rows)
