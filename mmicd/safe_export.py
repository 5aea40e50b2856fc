"""Exports that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF (or the full-width forms of the
first four, which some spreadsheets also accept) may be run as a formula when the file is opened:
``=HYPERLINK("http://…","y")`` in an intervention title, ``@SUM(1+1)`` typed as a user name at sign-in.

* **CSV** has no cell types: such a text is written with a leading ``'``, which a spreadsheet shows
  as text. The rule holds for every *text* cell, a number-looking text such as ``"-5"`` included:
  the column is text, so the cell stays the text it was (one rule with no exception a crafted
  value could slip through). Numbers (numeric columns, ``int``/``float`` values) are never
  touched: ``-5`` stays the number ``-5``.
* **XLSX** has cell types: such a text is written unchanged, as a string cell (never a formula)
  with Excel's *quote prefix* flag, so the text reads back exactly as stored (the M&E workbook
  round-trips) and editing the cell does not turn it into a formula either.

Every CSV and XLSX the project writes goes through this module: :func:`csv_frame` / :func:`to_csv`
for frames, :func:`csv_column` for columns written piece by piece, :func:`protect_workbook` for
openpyxl workbooks, :class:`XlsxCells` for xlsxwriter workbooks (opened with :data:`XLSXWRITER`).
"""

from __future__ import annotations

import io
import numbers
import re

import pandas as pd

# What a spreadsheet may take for the start of a formula, full-width forms too
FORMULA_START = re.compile(r"^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]")
# xlsxwriter: a string is always a string cell (never a formula, number or link)
XLSXWRITER = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def risky(value: object) -> bool:
    """Whether ``value`` is text that a spreadsheet could run as a formula."""
    return isinstance(value, str) and FORMULA_START.match(value) is not None


def csv_cell(value: object) -> object:
    """One CSV cell: risky text prefixed with ``'``; anything else (numbers, None) unchanged."""
    return "'" + value if risky(value) else value


def csv_column(values: pd.Series) -> pd.Series:
    """A column for a CSV: risky text cells prefixed with ``'``; a numeric column is returned as is."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values
    if isinstance(values.dtype, pd.CategoricalDtype):  # coded text (survey records): its labels
        values = values.astype(object)
    hits = values.map(risky).astype(bool)  # cells may be unhashable (the audit trail's old/new values)
    if not hits.any():
        return values
    out = values.copy()
    out[hits] = "'" + values[hits]
    return out


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell (and column name) safe for a spreadsheet."""
    out = frame.copy()
    out.columns = [csv_cell(c) for c in frame.columns]
    for n in range(out.shape[1]):
        out.isetitem(n, csv_column(out.iloc[:, n]))
    return out


def to_csv(frame: pd.DataFrame, **options) -> str:
    """The frame as CSV text (no index unless asked), every text cell safe for a spreadsheet."""
    options.setdefault("index", False)
    return csv_frame(frame).to_csv(**options)


# ---- XLSX ------------------------------------------------------------------------------------
def protect_cell(cell) -> None:
    """An openpyxl cell holding risky text made a string cell with the quote prefix."""
    if risky(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True


def protect_sheet(ws) -> None:
    """Every cell of an openpyxl worksheet through :func:`protect_cell`."""
    for row in ws.iter_rows():
        for cell in row:
            protect_cell(cell)


def protect_workbook(wb) -> None:
    """Every sheet of an openpyxl workbook through :func:`protect_sheet` (call before saving)."""
    for ws in wb.worksheets:
        protect_sheet(ws)


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """A frame as a one-sheet .xlsx (header row, then the rows; missing values empty)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        ws.append([None if _missing(v) else (v.item() if hasattr(v, "item") else v) for v in row])
    protect_workbook(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str | list | tuple | dict) and bool(pd.isna(value)))


class XlsxCells:
    """Writes the cells of an xlsxwriter workbook (opened with :data:`XLSXWRITER`): numbers as numbers,
    booleans as booleans, anything else as a string cell, risky text with the quote prefix.
    Formats are given by name (``styles``: name -> xlsxwriter format properties), made once each."""

    def __init__(self, wb, styles: dict[str, dict]):
        self._wb = wb
        self._styles = styles
        self._formats: dict[tuple[str | None, bool], object] = {}

    def format(self, style: str | None = None, quoted: bool = False):
        key = (style, quoted)
        if key not in self._formats:
            props = {**self._styles.get(style, {}), **({"quote_prefix": True} if quoted else {})}
            self._formats[key] = self._wb.add_format(props) if props else None
        return self._formats[key]

    def write(self, ws, row: int, col: int, value: object, style: str | None = None) -> None:
        if _missing(value) or value == "":
            if style:
                ws.write_blank(row, col, None, self.format(style))
            return
        if isinstance(value, bool):
            ws.write_boolean(row, col, value, self.format(style))
        elif isinstance(value, numbers.Number):
            ws.write_number(row, col, float(value), self.format(style))
        else:
            text = str(value)
            ws.write_string(row, col, text, self.format(style, risky(text)))

    def write_row(self, ws, row: int, col: int, values, style: str | None = None) -> None:
        for j, value in enumerate(values):
            self.write(ws, row, col + j, value, style)


def chart_text(text: str) -> str:
    """A chart or series title for xlsxwriter, which reads a name beginning with ``=`` as a cell
    reference: such a title gets a leading space."""
    return " " + text if risky(text) else text
