"""Read an upload once: bytes -> :class:`Book` (sheets as grids of cell values, fast tables).

Spreadsheets (.xlsx/.xlsm/.xls/.ods) are read with python-calamine for grids (small sheets, layout
detection, merged cells) and with fastexcel (Arrow) for large tidy tables; formulas give their
cached values. CSV: UTF-8 with or without BOM, else Latin-1 (cp1252); delimiter sniffed; read by
pyarrow's multi-threaded reader from the bytes (the pandas reader when a row has more or fewer
fields than the header); every field read as text so code columns keep leading zeros; numbers are
read later, each column deciding its own decimal mark (:mod:`mmicd.io.numbers`).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections import Counter, OrderedDict
from functools import cached_property

import numpy as np
import pandas as pd

from mmicd.io.sniff import FileProblem, detect_type

PREVIEW_ROWS = 60
STREAM_MIN_BYTES = 4_000_000   # sheets larger than this (uncompressed XML) are previewed by streaming
READ_IN_PIECES = True          # ... and read in row pieces (False: whole-sheet reads, for comparison)
CSV_HEAD_BYTES = 1 << 18       # CSV bytes decoded for sniffing and for the first rows (layout detection)
MAX_LINE_BYTES = 100_000       # a CSV line longer than this is refused before any parser sees the file
MAX_FIELDS = 16_384            # ... and one with more fields than a spreadsheet has columns
_SCAN_BYTES = 1 << 23          # bytes scanned at a time for line ends
_LINE_PIECE = min(MAX_LINE_BYTES, MAX_FIELDS) // 2   # a line end in each such piece: every line is short
SNIFF_COST = 8192 ** 2         # sum of the squared lengths of the lines given to csv.Sniffer (~0.2 s at worst)


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")


class Book:
    """One uploaded file, parsed lazily and once. Sheet rows/columns are 0-based internally."""

    def __init__(self, name: str, data: bytes, ftype: str):
        self.name = name
        self.data = data
        self.ftype = ftype
        self._grids: dict[tuple[str, int | None], list[list]] = {}
        self.progress = None   # set by the ingestion: called with the fraction of a large sheet read

    # ---- CSV ---------------------------------------------------------------------------------
    @cached_property
    def encoding(self) -> str:
        """'utf-8' (with or without BOM), 'utf-16' (with a BOM), else 'cp1252'."""
        if self.data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return "utf-16"
        return "utf-8" if _valid_utf8(self.data) else "cp1252"

    @cached_property
    def text(self) -> str:
        """The whole file as text (only for readers that need every line as text)."""
        return _decode(self.data)

    def more_lines_than(self, n: int) -> bool:
        """Whether the file has more than ``n`` line feeds, counted in its bytes a piece at a time
        until there are more (never decoded: in UTF-8 and cp1252 a line feed is its own byte)."""
        if self.encoding == "utf-16":
            return self.text.count("\n") > n
        count, piece = 0, 1 << 20
        for start in range(0, len(self.data), piece):
            count += self.data.count(b"\n", start, start + piece)
            if count > n:
                return True
        return False

    @cached_property
    def head_text(self) -> str:
        """The first :data:`CSV_HEAD_BYTES` of the file as text, without a last partial line."""
        if self.encoding == "utf-16" or len(self.data) <= CSV_HEAD_BYTES:
            return self.text
        dec = codecs.getincrementaldecoder("utf-8-sig" if self.encoding == "utf-8" else "cp1252")(errors="replace")
        head = dec.decode(self.data[:CSV_HEAD_BYTES], final=False)
        cut = max(head.rfind("\n"), head.rfind("\r"))
        return head[:cut + 1] if cut >= 0 else head

    @cached_property
    def delimiter(self) -> str:
        """Sniffed from the first lines. Python's sniffer takes time in the square of a line's length
        (28 s for one 64 kB line of ``,"a``): it is given the first lines while the sum of their
        squared lengths stays within :data:`SNIFF_COST`; lines longer than that are sniffed by the
        delimiter whose count is the same on most lines (linear)."""
        lines = self.head_text[:65536].splitlines()[:50]
        cost = np.cumsum([len(line) ** 2 for line in lines]) if lines else np.zeros(0)
        fit = int(np.searchsorted(cost, SNIFF_COST, side="right"))
        if fit < min(len(lines), 2):
            return _steady_delimiter(lines)
        sample = "\n".join(lines[:fit])
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            counts = {d: sample.count(d) for d in ",;\t|"}
            return max(counts, key=counts.get) if any(counts.values()) else ","

    @cached_property
    def decimal(self) -> str | None:
        """The decimal mark the file's locale suggests, or None: only a hint for cells that stay
        ambiguous once their column's own values and unit are read (see :mod:`mmicd.io.numbers`):
        ',' for a CSV separated by ';' with French/Spanish/Portuguese headers, '.' for one
        separated by ','; spreadsheets: None (their numbers are typed cells)."""
        if self.ftype != "csv":
            return None
        from mmicd.io.numbers import locale_hint

        cells = [str(c) for row in self.grid("", PREVIEW_ROWS) for c in row]
        return locale_hint(self.delimiter, cells)

    # ---- sheets ------------------------------------------------------------------------------
    @cached_property
    def _calamine(self):
        import python_calamine as pc

        try:
            return pc.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        except Exception as exc:  # noqa: BLE001 - any reader failure is an unreadable file
            msg = str(exc).lower()
            if "password" in msg or "encrypt" in msg:
                raise FileProblem("ingest.file.encrypted") from exc
            raise FileProblem("ingest.file.corrupt") from exc

    @cached_property
    def sheet_names(self) -> list[str]:
        if self.ftype == "csv":
            return [""]
        if self.ftype == "xlsx":   # from the workbook part: no need to load the whole workbook yet
            from mmicd.io.xlsx_head import sheet_names

            try:
                return sheet_names(self.data)
            except Exception:  # noqa: BLE001 - the full reader decides
                pass
        return list(self._calamine.sheet_names)

    def grid(self, sheet: str, nrows: int | None = None) -> list[list]:
        """Cell values from A1 (strings, floats, ints, dates; '' for an empty cell)."""
        if (sheet, None) in self._grids:
            rows = self._grids[(sheet, None)]
            return rows if nrows is None else rows[:nrows]
        if nrows is not None and nrows <= PREVIEW_ROWS:
            if (sheet, PREVIEW_ROWS) not in self._grids:
                preview = self._stream_preview(sheet) if self.ftype == "xlsx" else None
                self._grids[(sheet, PREVIEW_ROWS)] = preview if preview is not None else \
                    self._read_grid(sheet, None if self.ftype != "csv" else PREVIEW_ROWS)[:PREVIEW_ROWS]
            return self._grids[(sheet, PREVIEW_ROWS)][:nrows]
        return self._read_grid(sheet, nrows)

    def _stream_preview(self, sheet: str) -> list[list] | None:
        """The first rows of a large xlsx sheet without parsing the whole sheet (None when small)."""
        from mmicd.io.xlsx_head import head_rows

        try:
            return head_rows(self.data, sheet, PREVIEW_ROWS, min_size=STREAM_MIN_BYTES)
        except Exception:  # noqa: BLE001 - fall back to the full reader
            return None

    def _read_grid(self, sheet: str, nrows: int | None) -> list[list]:
        key = (sheet, nrows)
        if key in self._grids:
            return self._grids[key]
        if self.ftype == "csv":
            head = self.head_text.splitlines() if nrows is not None else []
            if nrows is not None and (len(head) >= nrows or len(self.data) <= CSV_HEAD_BYTES):
                lines = head[:nrows]
            else:
                lines = self.text.splitlines() if nrows is None else self.text.splitlines()[:nrows]
            rows = [list(r) for r in csv.reader(lines, delimiter=self.delimiter)]
        else:
            try:
                ws = self._calamine.get_sheet_by_name(sheet)
                rows = ws.to_python(skip_empty_area=False, nrows=nrows)
            except Exception as exc:  # noqa: BLE001
                raise FileProblem("ingest.file.corrupt") from exc
        self._grids[key] = rows
        return rows

    def typed_cells(self, sheet: str | None, header_row: int | None, rows, labels) -> list:
        """Typed values (numbers as floats, text as str) of spreadsheet cells given by their 1-based
        sheet ``rows`` and column ``labels``: a header text of the 1-based ``header_row``, or a label
        ending in its column letter (``2021 / Female [E]``). :data:`NOT_FOUND` where a cell cannot be
        located. For readers that hand every cell as text (see :mod:`mmicd.io.numbers`)."""
        import re

        if self.ftype == "csv":
            return [NOT_FOUND] * len(rows)
        grid = self.grid(sheet or self.sheet_names[0])
        header = [cell_text(c) for c in grid[header_row - 1]] if header_row and header_row <= len(grid) else []
        where: dict[str, int | None] = {}
        out = []
        for r, label in zip(rows, labels, strict=True):
            label = str(label)
            if label not in where:
                m = re.search(r"\[([A-Z]{1,3})\]$", label)
                where[label] = column_index(m.group(1)) if m else (header.index(label.strip())
                                                                   if label.strip() in header else None)
            j = where[label]
            row = grid[int(r) - 1] if 0 < int(r) <= len(grid) else None
            out.append(row[j] if row is not None and j is not None and j < len(row) else NOT_FOUND)
        return out

    def merged(self, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        if self.ftype == "csv":
            return []
        try:
            return list(self._calamine.get_sheet_by_name(sheet).merged_cell_ranges or [])
        except Exception:  # noqa: BLE001 - .xls/.ods may not report merged cells
            return []

    def table(self, sheet: str, header_row: int, numeric: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
        """The sheet from ``header_row`` (0-based) down as a frame with the header as column names."""
        return self.table_rows(sheet, header_row, numeric)[0]

    def table_rows(self, sheet: str, header_row: int,
                   numeric: set[str] | frozenset[str] = frozenset()) -> tuple[pd.DataFrame, np.ndarray]:
        """The sheet from ``header_row`` (0-based) down, and the 1-based sheet row of each frame row.

        Every column is read as text (code columns keep their zeros; numbers are parsed later, so
        text in a number column is reported with its cell). Large .xlsx sheets are read in row
        pieces (:mod:`mmicd.io.xlsx_chunks`) so memory stays near the size of the result.
        ``numeric`` is accepted for compatibility and no longer changes anything.
        """
        if self.ftype == "xlsx" and READ_IN_PIECES:
            from mmicd.io.xlsx_chunks import read_sheet

            got = read_sheet(self.data, sheet, header_row, min_size=STREAM_MIN_BYTES, progress=self.progress)
            if got is not None:
                columns, rows = got
                # the reader's Arrow buffers as they are (ArrowDtype text): no copy of the sheet
                frame = pd.DataFrame({str(n).strip(): pd.Series(pd.arrays.ArrowExtensionArray(columns.pop(n)))
                                      for n in list(columns)}, copy=False)
                return frame, rows
        frame = self._table(sheet, header_row, numeric)
        return frame, np.arange(len(frame), dtype="int64") + header_row + 2

    def _csv_arrow(self, header_row: int) -> pd.DataFrame | None:
        """The CSV from ``header_row`` (0-based) down, every field as text, read by pyarrow from the
        bytes (no Python object per cell, blank lines kept as blank rows so row numbers hold); None
        when a row has more or fewer fields than the header (the pandas reader decides those)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv

        head = self.grid("", header_row + 1)
        if len(head) <= header_row or not head[header_row]:
            return None
        names = _column_names(head[header_row])
        fields = [f"f{j}" for j in range(len(names))]
        invalid: list[int] = []

        def skip(_row) -> str:
            invalid.append(1)
            return "skip"

        data, encoding = self.data, self.encoding
        if encoding == "utf-16":
            data, encoding = self.text.encode("utf-8"), "utf-8"
        try:
            table = pcsv.read_csv(
                pa.BufferReader(pa.py_buffer(data)),
                read_options=pcsv.ReadOptions(skip_rows=header_row + 1, column_names=fields, encoding=encoding),
                parse_options=pcsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=skip,
                                                ignore_empty_lines=False),
                convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(fields, pa.string()), null_values=[],
                                                    strings_can_be_null=False, quoted_strings_can_be_null=False),
                memory_pool=arrow_pool())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, UnicodeError, LookupError):
            return None
        if invalid:
            return None
        columns = {name: table.column(j) for j, name in enumerate(names)}
        del table
        # the whole file as text (decoded to count its lines) is not needed again: freed beside the
        # table (decoded again if a reader asks for it)
        self.__dict__.pop("text", None)
        return pd.DataFrame({n: pd.Series(pd.arrays.ArrowExtensionArray(columns.pop(n))) for n in list(columns)},
                            copy=False)

    def _table(self, sheet: str, header_row: int, numeric: set[str] | frozenset[str]) -> pd.DataFrame:
        if self.ftype == "csv":
            fast = self._csv_arrow(header_row)
            if fast is not None:
                return fast
            try:
                frame = pd.read_csv(io.StringIO(self.text), sep=self.delimiter, dtype=str, header=0,
                                    skiprows=header_row, keep_default_na=False, skip_blank_lines=False,
                                    engine="c", on_bad_lines="skip")
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
                raise FileProblem("ingest.file.corrupt") from exc
            frame.columns = [str(c).strip() for c in frame.columns]
            return frame
        import fastexcel

        try:
            # every column as text, numbers too: a number column read with cell types would turn
            # text cells past fastexcel's type sample into blanks instead of reportable errors
            reader = fastexcel.read_excel(self.data)
            batch = reader.load_sheet(sheet, header_row=header_row, dtypes="string",
                                      skip_whitespace_tail_rows=True, eager=True)
            del reader
            frame = batch.to_pandas()
        except Exception:  # noqa: BLE001 - fall back to calamine for what fastexcel refuses
            rows = self.grid(sheet)[header_row:]
            header = [str(c).strip() for c in rows[0]] if rows else []
            frame = pd.DataFrame(rows[1:], columns=header).astype("string") if rows else pd.DataFrame()
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame


def _steady_delimiter(lines: list[str]) -> str:
    """The delimiter found the same number of times (not zero) on most lines; between two as steady,
    not the comma (a decimal mark, or in names, where ';' or tabs separate), then the most often."""
    best, key = ",", (0, False, 0)
    for d in ",;\t|":
        counts = Counter(line.count(d) for line in lines if line.strip())
        count, lines_with_it = max(counts.items(), key=lambda kv: (kv[1], kv[0])) if counts else (0, 0)
        if count and (lines_with_it, d != ",", count) > key:
            best, key = d, (lines_with_it, d != ",", count)
    return best


def _column_names(header: list) -> list[str]:
    """Header cells as column names the way pandas names them: blanks ``Unnamed: j``, repeats ``name.1``."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for j, cell in enumerate(header):
        name = str(cell).strip() or f"Unnamed: {j}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        seen.setdefault(name, 0)
        out.append(name)
    return out


def _valid_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, checked by Arrow without decoding it into a Python string."""
    import pyarrow as pa

    try:
        offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)]).cast(pa.large_string())
        return True
    except pa.ArrowInvalid:
        return False


def arrow_pool():
    """The C heap (glibc malloc) as Arrow's allocator for ingestion work: the readers' buffers are
    freed there, so reusing that memory keeps the peak low (Arrow's own pool would not reuse it)."""
    import pyarrow as pa

    return pa.system_memory_pool()


_THREADS: list = []


def in_background(fn, *args):
    """``fn(*args)`` started on a worker thread (a Future; see :func:`result`): for Arrow work, which
    runs outside the GIL, beside the Python work of the caller's thread (pyarrow's CSV reader uses
    every core too). Only for functions that share no state being built (pure Arrow or numpy)."""
    if not _THREADS:
        from concurrent.futures import ThreadPoolExecutor

        _THREADS.append(ThreadPoolExecutor(max(2, min(os.cpu_count() or 1, 4)), thread_name_prefix="mmicd-arrow"))
    return _THREADS[0].submit(fn, *args)


def result(future):
    """The result of a :func:`in_background` future, waited for in short steps: an exception raised
    in the waiting thread (a check stopped by its watchdog) lands at once."""
    from concurrent.futures import TimeoutError as Pending

    while True:
        try:
            return future.result(timeout=0.05)
        except Pending:
            continue


def arrow_text(values: pd.Series):
    """The Arrow array behind a text column (pandas ``str``/``string`` on pyarrow, or ArrowDtype
    string), else None: lets hot paths run in Arrow compute instead of Python objects."""
    import pyarrow as pa

    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return values.array.__arrow_array__()
    if isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                             or pa.types.is_large_string(dtype.pyarrow_dtype)):
        return values.array.__arrow_array__()
    return None


def check_lines(book: Book) -> None:
    """Refuse a CSV with a line longer than :data:`MAX_LINE_BYTES` or with more than
    :data:`MAX_FIELDS` fields (raw delimiters, quoted or not) before it is parsed: no table has such
    lines, and the parsers would spend minutes and gigabytes on one (a 40 MB single-line file).
    A file with a line end in every piece of :data:`_LINE_PIECE` bytes has none (:func:`_short_lines`);
    any other is scanned for line ends with numpy, a piece at a time (time and memory bounded by the
    file's size); raises :class:`FileProblem` ``ingest.file.long_line`` / ``too_many_fields``
    naming the line."""
    data = book.text.encode("utf-8") if book.encoding == "utf-16" else book.data
    if _short_lines(data):
        return
    last = -1                                  # where the line being scanned started, minus one
    wide: list[tuple[int, int]] = []           # lines long enough to hold too many fields
    for start in range(0, len(data), _SCAN_BYTES):
        raw = np.frombuffer(data, np.uint8, count=min(_SCAN_BYTES, len(data) - start), offset=start)
        ends = np.flatnonzero((raw == 10) | (raw == 13)) + start
        bounds = np.concatenate(([last], ends, [start + len(raw)]))
        lengths = np.diff(bounds) - 1           # the last: the line not ended yet, its bytes so far
        over = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if over.size:
            raise FileProblem("ingest.file.long_line", line=_line_number(data, int(bounds[over[0]]) + 1),
                              limit=MAX_LINE_BYTES)
        wide += [(int(bounds[i]) + 1, int(bounds[i + 1])) for i in np.flatnonzero(lengths[:-1] >= MAX_FIELDS)]
        if ends.size:
            last = int(ends[-1])
    if len(data) - last - 1 >= MAX_FIELDS:
        wide.append((last + 1, len(data)))
    if not wide:
        return
    delimiter = book.delimiter.encode("utf-8")
    for begin, end in wide:
        fields = data.count(delimiter, begin, end) + 1
        if fields > MAX_FIELDS:
            raise FileProblem("ingest.file.too_many_fields", line=_line_number(data, begin), n=fields,
                              limit=MAX_FIELDS)


def _short_lines(data: bytes) -> bool:
    """Whether every piece of :data:`_LINE_PIECE` bytes holds a line end: then no line is longer than
    twice that, too short for :func:`check_lines` to refuse or to count its fields. Each piece is
    searched only up to its first line end (a few bytes in a table), not scanned whole."""
    find = data.find
    for start in range(0, len(data), _LINE_PIECE):
        end = start + _LINE_PIECE
        if find(b"\n", start, end) < 0 and find(b"\r", start, end) < 0:
            return False
    return True


def _line_number(data: bytes, pos: int) -> int:
    """The 1-based line at byte ``pos`` (lines ended by LF or CRLF; by CR in a file without LF)."""
    lf = data.count(b"\n", 0, pos)
    return (lf if lf or b"\n" in data else data.count(b"\r", 0, pos)) + 1


# ---- parse once per content hash --------------------------------------------------------------
_CACHE: OrderedDict[str, Book] = OrderedDict()
_CACHE_SIZE = 8


def open_book(name: str, data: bytes, sha256: str, *, limit: int | None = None) -> Book:
    """A :class:`Book` for ``data`` (cached by content hash). Raises FileProblem."""
    if sha256 in _CACHE:
        _CACHE.move_to_end(sha256)
        book = _CACHE[sha256]
        if book.name == name:
            return book
    ftype = detect_type(data, limit=limit).kind
    book = Book(name, data, ftype)
    if ftype == "csv":
        check_lines(book)
    _CACHE[sha256] = book
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return book


# ---- numbers ----------------------------------------------------------------------------------
def parse_numbers(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers of a column whose convention is known (official layouts): returns (float values,
    obs_status from markers or <NA>, mask of cells that are no number in that convention, or not
    finite). ``decimal`` is '.' (``1,234.5``) or ',' (``1 234,5`` / ``1.234,5``). Columns whose
    convention is not known are read with :func:`mmicd.io.numbers.read_numbers`."""
    from mmicd.io.numbers import read_numbers

    got = read_numbers(values, decimal=decimal)
    return got.values, got.status, pd.Series(got.bad, index=values.index)


def cell_text(value: object) -> str:
    """A cell as text: floats that are whole numbers without '.0' (codes, years)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


NOT_FOUND = object()   # a cell :meth:`Book.typed_cells` could not locate


def column_index(letters: str) -> int:
    """Spreadsheet letters -> 0-based column index (A -> 0, AB -> 27)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
