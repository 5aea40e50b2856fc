"""The user's own workbook back, every problem cell highlighted and commented, plus a summary sheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from mmicd.i18n import t
from mmicd.io.read import Book, _decode
from mmicd.io.sniff import FileProblem, detect_type
from mmicd.issues import Issue

FILL = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
SUMMARY_MAX = 5000


def _workbook(name: str, data: bytes):
    """An openpyxl workbook of the upload: the xlsx itself, else its cells copied (CSV, xls, ods)."""
    import openpyxl

    try:
        ftype = detect_type(data, limit=len(data) + 1).kind
    except FileProblem:
        ftype = None
    if ftype == "xlsx":
        try:
            return openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, rich_text=False)
        except Exception:  # noqa: BLE001 - fall back to copying the values
            pass
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if ftype is None:
        return wb
    if ftype == "csv":
        import csv

        book = Book(name, data, "csv")
        ws = wb.create_sheet("data")
        for row in csv.reader(_decode(data).splitlines(), delimiter=book.delimiter):
            ws.append([_safe(c) for c in row])
        return wb
    book = Book(name, data, ftype)
    for sheet in book.sheet_names:
        ws = wb.create_sheet(sheet[:31] or "data")
        for row in book.grid(sheet):
            ws.append([_safe(c) for c in row])
    return wb


def _safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and len(value) > 1 and not _num(value):
        return "'" + value
    return value


def _num(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def _header_map(ws, header_hint: int | None = None) -> dict[str, int]:
    """Column header text -> 1-based column index, from the first rows."""
    out: dict[str, int] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 60)):
        for cell in row:
            if isinstance(cell.value, (str, int, float)) and str(cell.value).strip():
                out.setdefault(str(cell.value).strip(), cell.column)
    return out


def _column_index(column: str | None, headers: dict[str, int]) -> int | None:
    """1-based column of an issue: its header text, or the letter a wide table's label ends with
    (``2021 / Female [G]``)."""
    if not column:
        return None
    text = str(column).strip()
    if text in headers:
        return headers[text]
    m = re.search(r"\[([A-Z]{1,3})\]$", text)
    if m:
        from openpyxl.utils import column_index_from_string

        return column_index_from_string(m.group(1))
    return None


def annotate_workbook(name: str, data: bytes, issues: list[Issue], lang: str = "en",
                      progress: Callable[[float], None] | None = None) -> bytes:
    """The upload as a workbook with every problem cell coloured and commented, a summary sheet first.
    ``progress(fraction)`` is called as a CSV's rows are written (it may raise to stop the work)."""
    try:
        ftype = detect_type(data, limit=len(data) + 1).kind
    except FileProblem:
        ftype = None
    if ftype == "csv":
        return _annotate_csv(name, data, issues, lang, progress)
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wb = _workbook(name, data)
    sheets = {ws.title: ws for ws in wb.worksheets}
    headers: dict[str, dict[str, int]] = {}
    mine = [i for i in issues if i.file in (None, name)]
    for issue in mine:
        ws = sheets.get(issue.sheet) if issue.sheet else (wb.worksheets[0] if wb.worksheets else None)
        if ws is None or issue.row is None:
            continue
        if ws.title not in headers:
            headers[ws.title] = _header_map(ws)
        col = _column_index(issue.column, headers[ws.title])
        cell = ws.cell(row=issue.row, column=col or 1)
        cell.fill = PatternFill("solid", fgColor=FILL.get(issue.level, FILL["info"]))
        text = f"{t(f'ingest.level.{issue.level}', lang)}: {issue.message}"
        if cell.comment is not None:
            text = cell.comment.text + "\n" + text
        cell.comment = Comment(text[:30000], "MMICD")
    title = t("ingest.annotate.summary", lang)[:31]
    if title in sheets:
        del wb[title]
    summary = wb.create_sheet(title, 0)
    head = ["level", "file", "sheet", "row", "column", "value", "message"]
    summary.append([t(f"ingest.annotate.{h}", lang) for h in head])
    for c in summary[1]:
        c.font = Font(bold=True)
    for issue in mine[:SUMMARY_MAX]:
        summary.append([_safe(x) for x in (t(f"ingest.level.{issue.level}", lang), issue.file, issue.sheet,
                                           issue.row, issue.column, issue.value, issue.message)])
    for letter, width in zip("ABCDEFG", (12, 28, 16, 8, 20, 20, 90), strict=True):
        summary.column_dimensions[letter].width = width
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _annotate_csv(name: str, data: bytes, issues: list[Issue], lang: str,
                  progress: Callable[[float], None] | None) -> bytes:
    """A CSV as a workbook, written row by row (xlsxwriter, constant memory): a million rows take
    seconds and little memory, where building the workbook in memory took minutes and gigabytes."""
    import xlsxwriter

    book = Book(name, data, "csv")
    text = book.text
    mine = [i for i in issues if i.file in (None, name)]
    head = list(csv.reader(text.splitlines()[:60], delimiter=book.delimiter))
    headers: dict[str, int] = {}
    for row in head:
        for j, cell in enumerate(row):
            if cell.strip():
                headers.setdefault(cell.strip(), j + 1)
    marks: dict[tuple[int, int], tuple[str, str]] = {}
    for issue in mine:
        if issue.row is None or issue.sheet not in (None, "data"):
            continue
        col = (_column_index(issue.column, headers) or 1) - 1
        note = f"{t(f'ingest.level.{issue.level}', lang)}: {issue.message}"
        before = marks.get((issue.row - 1, col))
        marks[(issue.row - 1, col)] = (issue.level, f"{before[1]}\n{note}" if before else note)
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    summary = wb.add_worksheet(t("ingest.annotate.summary", lang)[:31])
    sheet = wb.add_worksheet("data")
    fills = {level: wb.add_format({"bg_color": f"#{colour}", "pattern": 1}) for level, colour in FILL.items()}
    bold = wb.add_format({"bold": True})
    head_row = ["level", "file", "sheet", "row", "column", "value", "message"]
    summary.write_row(0, 0, [t(f"ingest.annotate.{h}", lang) for h in head_row], bold)
    for n, issue in enumerate(mine[:SUMMARY_MAX], start=1):
        for j, x in enumerate((t(f"ingest.level.{issue.level}", lang), issue.file, issue.sheet, issue.row,
                               issue.column, issue.value, issue.message)):
            if isinstance(x, int):
                summary.write_number(n, j, x)
            elif x is not None:
                summary.write_string(n, j, str(_safe(x)))
    for j, width in enumerate((12, 28, 16, 8, 20, 20, 90)):
        summary.set_column(j, j, width)
    total = max(text.count("\n"), 1)
    for r, row in enumerate(csv.reader(io.StringIO(text), delimiter=book.delimiter)):
        if r >= 1_048_576:   # the last row a spreadsheet holds
            break
        for c, value in enumerate(row):
            mark = marks.get((r, c))
            if mark is None:
                if value:
                    sheet.write_string(r, c, _safe(value))
                continue
            sheet.write_string(r, c, _safe(value), fills.get(mark[0], fills["info"]))
            sheet.write_comment(r, c, mark[1][:30000], {"author": "MMICD"})
        if progress is not None and r % 20_000 == 0:
            progress(r / total)
    summary.activate()
    wb.close()
    return out.getvalue()
