"""The first rows of an .xlsx sheet, streamed from the zip without parsing the whole sheet.

Used to detect the layout of large sheets (hundreds of thousands of rows) cheaply; the full
sheet is then read once, by fastexcel. Only the parts of the XML needed are read: the workbook
(sheet name -> part), the first rows of the sheet, and the shared strings up to the highest
index those rows use.
"""

from __future__ import annotations

import io
import re
import zipfile

import defusedxml.ElementTree as DET

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>(.*?)</(?:\w+:)?row>|<(?:\w+:)?row\b([^>]*)/>", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_V = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_T = re.compile(rb"<(?:\w+:)?t\b[^>]*>(.*?)</(?:\w+:)?t>", re.S)
_SI_END = re.compile(rb"</(?:\w+:)?si>")
_ENTITIES = {b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def _unescape(raw: bytes) -> str:
    for k, v in _ENTITIES.items():
        raw = raw.replace(k, v)
    raw = re.sub(rb"&#x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)).encode("utf-8"), raw)
    raw = re.sub(rb"&#(\d+);", lambda m: chr(int(m.group(1))).encode("utf-8"), raw)
    return raw.replace(b"&amp;", b"&").decode("utf-8", errors="replace")


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str | None:
    wb = DET.fromstring(zf.read("xl/workbook.xml"))
    rid = None
    for el in wb.iter(f"{MAIN}sheet"):
        if el.get("name") == sheet:
            rid = el.get(f"{REL}id")
    if rid is None:
        return None
    rels = DET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for el in rels:
        if el.get("Id") == rid:
            target = el.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def sheet_names(data: bytes) -> list[str]:
    """The sheet names of a workbook in their order, from ``xl/workbook.xml`` alone."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    wb = DET.fromstring(zf.read("xl/workbook.xml"))
    return [el.get("name", "") for el in wb.iter(f"{MAIN}sheet")]


def _col_index(ref: bytes) -> int:
    n = 0
    for ch in ref:
        if 65 <= ch <= 90:
            n = n * 26 + ch - 64
        else:
            break
    return n - 1


def head_rows(data: bytes, sheet: str, nrows: int, *, min_size: int = 0) -> list[list] | None:
    """Rows 1..nrows of ``sheet`` as lists ('' for empty cells); None when the sheet is small
    (under ``min_size`` bytes of XML: the caller's full reader is as cheap and more complete)."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    part = _sheet_part(zf, sheet)
    if part is None or part not in zf.namelist():
        return None
    if zf.getinfo(part).file_size < min_size:
        return None
    buf = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(1 << 16)
            buf += chunk
            if not chunk or len(re.findall(rb"</(?:\w+:)?row>", buf)) > nrows or len(buf) > 50_000_000:
                break
    rows: list[list] = []
    shared_needed = -1
    parsed = []
    for m in _ROW.finditer(buf):
        attrs = dict(_ATTR.findall(m.group(1) or m.group(3) or b""))
        r = int(attrs.get(b"r", len(parsed) + 1))
        if r > nrows:
            break
        cells = []
        for c in _CELL.finditer(m.group(2) or b""):
            a = dict(_ATTR.findall(c.group(1)))
            inner = c.group(2) or b""
            col = _col_index(a.get(b"r", b"")) if b"r" in a else len(cells)
            kind = a.get(b"t", b"n")
            if kind == b"s":
                v = _V.search(inner)
                idx = int(v.group(1)) if v else -1
                shared_needed = max(shared_needed, idx)
                cells.append((col, ("s", idx)))
            elif kind == b"inlineStr":
                cells.append((col, "".join(_unescape(t) for t in _T.findall(inner))))
            else:
                v = _V.search(inner)
                text = _unescape(v.group(1)) if v else ""
                if kind in (b"str", b"e"):
                    cells.append((col, text))
                elif kind == b"b":
                    cells.append((col, text == "1"))
                else:
                    try:
                        cells.append((col, float(text)) if text else (col, ""))
                    except ValueError:
                        cells.append((col, text))
        parsed.append((r, cells))
    strings = _shared_strings(zf, shared_needed) if shared_needed >= 0 else []
    for r, cells in parsed:
        while len(rows) < r - 1:
            rows.append([])
        width = max((c for c, _ in cells), default=-1) + 1
        row = [""] * width
        for c, v in cells:
            row[c] = strings[v[1]] if isinstance(v, tuple) and 0 <= v[1] < len(strings) else \
                ("" if isinstance(v, tuple) else v)
        rows.append(row)
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


def _shared_strings(zf: zipfile.ZipFile, upto: int) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    out: list[str] = []
    buf = b""
    with zf.open("xl/sharedStrings.xml") as fh:
        while len(out) <= upto:
            chunk = fh.read(1 << 16)
            buf += chunk
            pos = 0
            for end in _SI_END.finditer(buf):
                si = buf[pos:end.start()]
                start = si.rfind(b"<si")
                body = si[start:] if start >= 0 else si
                out.append("".join(_unescape(t) for t in _T.findall(body)))
                pos = end.end()
            buf = buf[pos:]
            if not chunk:
                break
    return out
