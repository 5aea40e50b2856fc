"""A large .xlsx sheet read in row chunks, so memory stays bounded by the chunk, not the sheet.

fastexcel (calamine) holds a whole sheet as cells before it builds Arrow columns: for a
500,000 x 10 sheet that is about 8 times the resulting frame. Here the sheet's XML is inflated
as a stream and cut at row boundaries; each piece becomes a small stored (uncompressed)
workbook with the original shared strings and styles, whose first row is the sheet's header
row renumbered to sit just above the piece, and fastexcel reads that. Every column is read as
text (codes keep their zeros; numbers are parsed afterwards, so text in a number column is
reported with its value). The result is one Arrow table plus the sheet row number of each row.

Only well-formed sheets with explicit row numbers (every writer we know of writes them) take
this path; anything unusual returns None and the caller reads the whole sheet as before.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import defusedxml.ElementTree as DET
import numpy as np
import pyarrow as pa

from mmicd.io.xlsx_head import MAIN, _sheet_part

CHUNK_BYTES = 2 << 20          # inflated XML per piece (about 6,000 rows of 10 columns)
READ_BYTES = 1 << 20
WORKERS = 2                    # pieces parsed in the background while the next is inflated (fastexcel releases the
                               # GIL); two workers on 2 MB pieces hold what one held on 4 MB pieces (bench: same peak)
HEADER_SCAN_BYTES = 16 << 20   # the header row must be found within this much XML
_PKG = "http://schemas.openxmlformats.org"
_ROW_NUM = re.compile(rb'\sr="(\d+)"')
_CELL_REF = re.compile(rb'(\sr="\$?[A-Z]{1,3}\$?)\d+"')


def _parts(zf: zipfile.ZipFile) -> dict[str, bytes]:
    """The shared strings and styles parts (inflated) and the workbook's date system."""
    out: dict[str, bytes] = {}
    rels = DET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    for el in rels:
        kind = el.get("Type", "").rsplit("/", 1)[-1]
        if kind in ("sharedStrings", "styles"):
            target = el.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            if path in zf.namelist():
                out[kind] = zf.read(path)
    wb = DET.fromstring(zf.read("xl/workbook.xml"))
    pr = wb.find(f"{MAIN}workbookPr")
    out["date1904"] = b"1" if pr is not None and pr.get("date1904", "").lower() in ("1", "true") else b""
    return out


@cache
def _crc_needed() -> bool:
    """Whether the reader checks the CRC of stored members (fastexcel 0.21 does not: the pieces
    are our own transport, so computing it would only cost time). Probed once with a wrong CRC."""
    import fastexcel

    sheet = (f'<worksheet xmlns="{_PKG}/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
             '<is><t>a</t></is></c></row><row r="2"><c r="A2"><v>5</v></c></row></sheetData></worksheet>')
    try:
        got = fastexcel.read_excel(_workbook({}, [sheet.encode()], crc=False)).load_sheet(
            0, header_row=0, dtypes="string", eager=True)
        return got.column(0).to_pylist() != ["5"]
    except Exception:  # noqa: BLE001 - any complaint: compute the CRCs
        return True


def _zip(members: list[tuple[str, list[bytes]]], crc: bool = True) -> bytes:
    """A zip of stored members from byte pieces (no compression, one join)."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, pieces in members:
        check, size = 0, sum(len(p) for p in pieces)
        if crc:
            for p in pieces:
                check = zlib.crc32(p, check)
        fname = name.encode()
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, check, size, size, len(fname), 0) + fname
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, check, size, size,
                                   len(fname), 0, 0, 0, 0, 0, offset) + fname)
        out.append(local)
        out += pieces
        offset += len(local) + size
    cd = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), offset, 0)
    return b"".join([*out, cd, end])


def _workbook(parts: dict[str, bytes], sheet_xml: list[bytes], crc: bool = True) -> bytes:
    ct = (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
          'spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.worksheet+xml"/>'
          '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.sharedStrings+xml"/>'
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
          'officedocument.spreadsheetml.styles+xml"/></Types>')
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_PKG}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>')
    pr = '<workbookPr date1904="1"/>' if parts.get("date1904") else ""
    wb = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_PKG}/spreadsheetml/2006/main" '
          f'xmlns:r="{_PKG}/officeDocument/2006/relationships">{pr}<sheets>'
          '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wbrels = [f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/package/2006/relationships">'
              f'<Relationship Id="rId1" Type="{_PKG}/officeDocument/2006/relationships/worksheet" '
              'Target="worksheets/sheet1.xml"/>']
    members: list[tuple[str, list[bytes]]] = [("[Content_Types].xml", [ct.encode()]), ("_rels/.rels", [rels.encode()]),
                                              ("xl/workbook.xml", [wb.encode()])]
    for n, (kind, path) in enumerate((("sharedStrings", "sharedStrings.xml"), ("styles", "styles.xml")), start=2):
        if kind in parts:
            wbrels.append(f'<Relationship Id="rId{n}" Type="{_PKG}/officeDocument/2006/relationships/{kind}" '
                          f'Target="{path}"/>')
            members.append((f"xl/{path}", [parts[kind]]))
    wbrels.append("</Relationships>")
    members.append(("xl/_rels/workbook.xml.rels", ["".join(wbrels).encode()]))
    members.append(("xl/worksheets/sheet1.xml", sheet_xml))
    return _zip(members, crc)


def release_memory() -> None:
    """Give memory freed by the readers back to the system: the Arrow pool's unused pages and the C
    heap's free blocks (calamine's cells are allocated there). Peak RSS is what limits an upload."""
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


class _Inflater:
    """A zip member's bytes, inflated piece by piece straight from the archive (like calamine, no
    CRC pass; zipfile would add one over the whole inflated sheet)."""

    def __init__(self, data: bytes, info: zipfile.ZipInfo):
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Unsuitable
        head = data[info.header_offset:info.header_offset + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise _Unsuitable
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        self._raw = memoryview(data)[start:start + info.compress_size]
        self._pos = 0
        self._out = 0
        self._inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None

    def read(self, n: int) -> bytes:
        if self._inflate is None:
            piece = bytes(self._raw[self._pos:self._pos + n])
            self._pos += len(piece)
        else:
            piece = b""
            while not piece and (self._pos < len(self._raw) or self._inflate.unconsumed_tail):
                src = self._inflate.unconsumed_tail or self._raw[self._pos:self._pos + n // 4]
                if not self._inflate.unconsumed_tail:
                    self._pos += len(src)
                piece = self._inflate.decompress(src, n)
            if not piece and self._pos >= len(self._raw):
                piece = self._inflate.flush()
        self._out += len(piece)
        return piece

    def tell(self) -> int:
        return self._out

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._raw.release()


class _Unsuitable(Exception):
    """The sheet does not fit the chunked reader; the caller reads it whole."""


def read_sheet(data: bytes, sheet: str, header_row: int, *, min_size: int = 0, chunk_bytes: int | None = None,
               progress: Callable[[float], None] | None = None) -> tuple[dict[str, pa.ChunkedArray], np.ndarray] | None:
    """The columns under ``header_row`` (0-based) of ``sheet`` (header -> Arrow text column, in
    sheet order) and the 1-based sheet row number of each row; None when the sheet is small or
    unsuitable (the caller then reads it whole)."""
    try:
        return _read(data, sheet, header_row, min_size, chunk_bytes or CHUNK_BYTES, progress)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - unsuitable or unreadable here: the whole-sheet reader decides
        return None


def _read(data, sheet, header_row, min_size, chunk_bytes, progress):
    import fastexcel

    zf = zipfile.ZipFile(io.BytesIO(data))
    part = _sheet_part(zf, sheet)
    if part is None or part not in zf.namelist():
        raise _Unsuitable
    total = zf.getinfo(part).file_size
    if total < min_size:
        raise _Unsuitable
    parts = _parts(zf)
    crc = _crc_needed()
    step = min(READ_BYTES, chunk_bytes)
    with _Inflater(data, zf.getinfo(part)) as fh:
        buf = bytearray()
        # the root element and <sheetData>, with the namespace prefix the file uses
        while True:
            piece = fh.read(step)
            buf += piece
            m = re.search(rb"<((?:[\w.-]+:)?)sheetData\b[^>]*?(/?)>", buf)
            if m or not piece or len(buf) > HEADER_SCAN_BYTES:
                break
        if not m or m.group(2):
            raise _Unsuitable
        prefix = m.group(1)
        root = re.search(rb"<" + re.escape(prefix) + rb"worksheet\b[^>]*>", buf[:m.start()])
        if root is None:
            raise _Unsuitable
        head = bytes(root.group(0)) + b"<" + prefix + b"sheetData>"
        tail = b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"
        row_open = b"<" + prefix + b"row"
        row_close = b"</" + prefix + b"row>"
        del buf[:m.end()]
        # the header row, located by its number (rows without numbers: not for this reader)
        number = str(header_row + 1).encode()
        header_re = re.compile(re.escape(row_open) + rb'\b[^>]*?\sr="' + number + rb'"[^>]*?(/?)>')
        while True:
            first = buf.find(row_open)
            close = buf.find(b">", first) if first >= 0 else -1
            if close >= 0 and not _ROW_NUM.search(buf[first:close + 1]):
                raise _Unsuitable
            h = header_re.search(buf)
            end = buf.find(row_close, h.end()) if h is not None else -1
            if end >= 0 or (h is not None and h.group(1)):
                break
            piece = fh.read(step)
            if not piece or len(buf) > HEADER_SCAN_BYTES:
                raise _Unsuitable
            buf += piece
        if h.group(1):
            raise _Unsuitable          # an empty header row
        header = bytes(buf[h.start():end + len(row_close)])
        del buf[:end + len(row_close)]
        header_tag_end = header.find(b">") + 1

        def anchor(row: int) -> bytes:
            """The header row renumbered to ``row`` (the row just above a piece)."""
            num = b"%d" % row
            tag = _ROW_NUM.sub(b' r="' + num + b'"', header[:header_tag_end], count=1)
            return tag + _CELL_REF.sub(lambda mm: mm.group(1) + num + b'"', header[header_tag_end:])

        names: list[str] | None = None
        columns: list[list[pa.Array]] = []
        rows: list[np.ndarray] = []
        pending: deque = deque()

        def collect(batch: pa.RecordBatch, above: int) -> None:
            # copied at once into Arrow's own pool as large_string (what pandas text columns hold),
            # so the reader's buffers are freed piece by piece and reused by the next piece
            for j in range(len(names)):
                if len(columns) <= j:
                    columns.append([])
                columns[j].append(batch.column(j))
            rows.append(np.arange(above + 1, above + 1 + batch.num_rows, dtype="int64"))

        above = header_row + 1       # the row number the next piece's anchor takes
        end_tag = b"</" + prefix + b"sheetData>"
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            done = False
            while not done:
                scanned = 0
                while True:
                    stop = buf.find(end_tag, max(scanned - len(end_tag), 0))
                    if stop >= 0 or len(buf) >= chunk_bytes:
                        break
                    scanned = len(buf)
                    piece = fh.read(step)
                    if not piece:
                        raise _Unsuitable      # truncated sheet
                    buf += piece
                if stop >= 0:
                    body, done = bytes(buf[:stop]), True
                    buf.clear()
                else:
                    cut = buf.rfind(row_close)
                    if cut < 0:
                        raise _Unsuitable      # one row larger than a piece
                    body = bytes(buf[:cut + len(row_close)])
                    del buf[:cut + len(row_close)]
                if body.strip():
                    last = body.rfind(row_open + b" ")
                    num = _ROW_NUM.search(body, last) if last >= 0 else None
                    if num is None:
                        raise _Unsuitable
                    blob = _workbook(parts, [head, anchor(above), body, tail], crc)
                    del body
                    if names is None:       # the first piece names the columns for the others
                        names, batch = _load(fastexcel, blob, None)
                        collect(batch, above)
                    else:
                        pending.append((pool.submit(_load, fastexcel, blob, names), above))
                    del blob
                    while len(pending) > WORKERS or (done and pending):
                        future, at = pending.popleft()
                        collect(future.result()[1], at)
                    above = int(num.group(1))
                if progress:
                    progress(min(fh.tell() / max(total, 1), 1.0))
            while pending:
                future, at = pending.popleft()
                collect(future.result()[1], at)
    if names is None:
        raise _Unsuitable
    table = {n: pa.chunked_array(c, type=pa.string()) for n, c in zip(names, columns, strict=True)}
    columns.clear()
    release_memory()
    return table, (np.concatenate(rows) if rows else np.zeros(0, dtype="int64"))


def _load(fastexcel, blob: bytes, names: list[str] | None) -> tuple[list[str], pa.RecordBatch]:
    reader = fastexcel.read_excel(blob)
    kwargs = {"use_columns": names} if names is not None else {}
    batch = reader.load_sheet(0, header_row=0, dtypes="string", eager=True, skip_whitespace_tail_rows=True, **kwargs)
    got = list(batch.schema.names)
    if names is None:
        if any(n.startswith("__UNNAMED__") for n in got):
            raise _Unsuitable          # data without a header: the whole-sheet reader names those columns
        return got, batch
    if got != names:
        raise _Unsuitable
    return names, batch
