"""Facts about a workbook that its cell values do not tell: hidden sheets, formulas without a result.

* **Sheet visibility.** A sheet can be hidden, or "very hidden" (shown only in the VBA editor): data
  taken from it is said in a warning. ``.xlsx``: the ``state`` attribute of ``xl/workbook.xml``;
  ``.xls``/``.ods``: what python-calamine reports (``sheets_metadata``).
* **Formulas without a cached result.** An ``.xlsx`` written by a program (openpyxl, a script) and
  never opened in a spreadsheet program holds formulas (``<f>``) but not their results (no ``<v>``,
  or an empty one): every reader sees an empty cell, so a number would silently become missing.
  The sheet XML is streamed with ``defusedxml``'s ``iterparse``, after a cheap scan of the raw bytes
  for a formula at all (most sheets have none). ``.xls`` always stores results; for ``.ods``
  calamine gives no formula facts, so none are reported.

Nothing here raises for a damaged part: the readers report unreadable files; a fact that cannot be
read is simply not known (empty answer).
"""

from __future__ import annotations

import io
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mmicd.io.layouts import Raw, nonblank
from mmicd.io.read import cell_text
from mmicd.io.xlsx_head import MAIN, _sheet_part

log = logging.getLogger(__name__)
VISIBLE, HIDDEN, VERY_HIDDEN = "visible", "hidden", "veryHidden"
_ROOT = re.compile(rb"<(\w+:)?worksheet[\s>]")
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")
CHUNK = 1 << 20


@dataclass
class WorkbookFacts:
    ftype: str
    data: bytes
    _visibility: dict[str, str] | None = None
    _formulas: dict[str, dict[int, dict[int, str]]] = field(default_factory=dict)

    def visibility(self, sheet: str | None) -> str:
        """``visible``, ``hidden`` or ``veryHidden`` (``visible`` when unknown, or for a CSV)."""
        if not sheet or self.ftype == "csv":
            return VISIBLE
        if self._visibility is None:
            self._visibility = _visibility(self.ftype, self.data)
        return self._visibility.get(sheet, VISIBLE)

    def formulas_without_value(self, sheet: str | None) -> dict[int, dict[int, str]]:
        """1-based row -> {0-based column -> cell reference} of formula cells without a saved result."""
        if not sheet or self.ftype != "xlsx":
            return {}
        if sheet not in self._formulas:
            try:
                self._formulas[sheet] = _uncached_formulas(self.data, sheet)
            except Exception:  # noqa: BLE001 - a part that cannot be read: the fact is not known
                if os.environ.get("MMICD_INGEST_DEBUG"):
                    raise
                log.warning("formulas of sheet %r could not be read", sheet, exc_info=True)
                self._formulas[sheet] = {}
        return self._formulas[sheet]


def facts(ftype: str, data: bytes) -> WorkbookFacts:
    return WorkbookFacts(ftype, data)


def of_book(book) -> WorkbookFacts:
    """The facts of an open book, kept with it: the table reader and the upload's checks ask the
    same sheets, and each sheet's XML is scanned once."""
    found = getattr(book, "_facts", None)
    if found is None:
        found = book._facts = WorkbookFacts(book.ftype, book.data)
    return found


def _visibility(ftype: str, data: bytes) -> dict[str, str]:
    try:
        if ftype == "xlsx":
            import defusedxml.ElementTree as DET

            wb = DET.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml"))
            return {el.get("name", ""): el.get("state", VISIBLE) for el in wb.iter(f"{MAIN}sheet")}
        import python_calamine as pc

        book = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
        states = ((pc.SheetVisibleEnum.Hidden, HIDDEN), (pc.SheetVisibleEnum.VeryHidden, VERY_HIDDEN))
        return {m.name: next((state for enum, state in states if m.visible == enum), VISIBLE)  # enum: not hashable
                for m in book.sheets_metadata}
    except Exception:  # noqa: BLE001 - unknown: treated as visible (the readers report broken files)
        if os.environ.get("MMICD_INGEST_DEBUG"):
            raise
        log.warning("sheet visibility could not be read", exc_info=True)
        return {}


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _has_formula(zf: zipfile.ZipFile, part: str) -> bool:
    """Any formula element in the part: a plain byte search, streamed (most sheets have none; a
    false alarm, such as ``<filterColumn``, only costs the full parse)."""
    tail = b""
    needle = b"<f"
    with zf.open(part) as fh:
        while chunk := fh.read(CHUNK):
            if not tail:   # the first piece: a namespace prefix (<x:worksheet>) is used for every tag
                m = _ROOT.search(chunk)
                needle = b"<" + ((m.group(1) or b"") if m else b"") + b"f"
            if needle in tail + chunk[:len(needle)] or needle in chunk:
                return True
            tail = chunk[-len(needle):]
    return False


def _uncached_formulas(data: bytes, sheet: str) -> dict[int, dict[int, str]]:
    import defusedxml.ElementTree as DET

    zf = zipfile.ZipFile(io.BytesIO(data))
    part = _sheet_part(zf, sheet)
    if part is None or part not in zf.namelist() or not _has_formula(zf, part):
        return {}
    out: dict[int, dict[int, str]] = {}
    f_tag, v_tag, row_tag, data_tag = f"{MAIN}f", f"{MAIN}v", f"{MAIN}row", f"{MAIN}sheetData"
    sheet_data = None
    last_row = 0
    with zf.open(part) as fh:
        for event, el in DET.iterparse(fh, events=("start", "end")):
            if event == "start":
                if el.tag == data_tag:
                    sheet_data = el
                continue
            if el.tag != row_tag:
                continue
            r = el.get("r")
            last_row = int(r) if r and r.isdigit() else last_row + 1
            col = -1
            for c in el:
                m = _CELL_REF.match(c.get("r", ""))
                col = _column_index(m.group(1)) if m else col + 1
                if c.find(f_tag) is None:
                    continue
                v = c.find(v_tag)
                # no saved result; an empty <v/> of a text formula (t="str") is an empty text result
                if v is None or (not (v.text or "") and c.get("t") != "str"):
                    out.setdefault(last_row, {})[col] = m.group(0) if m else f"{col}:{last_row}"
            if sheet_data is not None:
                sheet_data.clear()   # rows already read are let go: memory stays flat
    return out


# ---- the facts of one detected table ----------------------------------------------------------------
def check_table(facts: WorkbookFacts, raw: Raw, header: list | None = None) -> list[tuple[str, str, dict]]:
    """Problems of a detected table that only the workbook tells, as ``(level, key, fields)``:

    * a warning for each hidden or very hidden sheet its data come from (``raw.sheet``, ``_sheet``);
    * formula cells without a saved result, when the table has an empty cell at all (such a cell
      reads as empty; a table without one is not scanned): value cells are marked in
      ``raw.frame["_formula"]`` for the rules (they report them at their cells and group what follows
      from them), found by ``_row`` and ``_cno`` -- or, without ``_cno``, as an empty value on a row
      holding such a formula; a formula cell in another mapped column of the table's rows (a code, an
      age, a weight) is an error here, named by its header in ``header`` (the header row's cells).
    """
    frame = raw.frame
    problems: list[tuple[str, str, dict]] = []
    sheets = list(dict.fromkeys(([raw.sheet] if raw.sheet else [])
                                + ([str(x) for x in pd.unique(frame["_sheet"])] if "_sheet" in frame else [])))
    for sheet in sheets:
        state = facts.visibility(sheet)
        if state != VISIBLE:
            problems.append(("warning", "very_hidden_sheet" if state == VERY_HIDDEN else "hidden_sheet",
                             {"sheet": sheet, "value": sheet, "name": sheet}))
    if facts.ftype != "xlsx" or "_row" not in frame or not len(frame) or not _has_empty(frame):
        return problems
    head = [cell_text(c) for c in header or []]
    value_header = raw.columns.get("value")
    mapped = {j: h for j, h in enumerate(head) if h and h in set(raw.columns.values()) and h != value_header}
    for sheet in sheets:
        cells = facts.formulas_without_value(sheet)
        if not cells:
            continue
        here = (frame["_sheet"] == sheet).to_numpy(dtype=bool) if "_sheet" in frame else np.ones(len(frame), bool)
        rows = frame["_row"].to_numpy(dtype="int64")
        if "value" in frame:
            if "_cno" in frame:
                cno = pd.to_numeric(frame["_cno"], errors="coerce").fillna(-1).to_numpy(dtype="int64")
                at = [r * 100_000 + c for r, cs in cells.items() for c in cs]
                mask = np.isin(rows * 100_000 + cno, at)
            else:
                mask = np.isin(rows, list(cells)) & ~nonblank(frame["value"])
            mask &= here
            if mask.any():
                old = frame["_formula"].to_numpy(dtype=bool) if "_formula" in frame else np.zeros(len(frame), bool)
                raw.frame = frame = frame.assign(_formula=old | mask)
        first, last = (int(rows[here].min()), int(rows[here].max())) if here.any() else (0, -1)
        for r in sorted(cells):
            if first <= r <= last:
                for c in sorted(cells[r]):
                    if c in mapped:
                        problems.append(("error", "formula_no_value", {"row": r, "column": mapped[c], "sheet": sheet}))
    return problems


def _has_empty(frame: pd.DataFrame) -> bool:
    """Any empty cell among the table's own columns (helper columns start with ``_``)."""
    return any(not nonblank(frame[c]).all() for c in frame.columns if not str(c).startswith("_"))
