"""What a file really is, from its bytes (never its name), and whether it is safe to read.

Checks before any parser sees the bytes: size limit (``MMICD_MAX_UPLOAD_MB``, default 50), zip
members' uncompressed size and compression ratio (zip bombs), XML prologues with DOCTYPE/ENTITY
declarations (entity expansion, external entities; parsed with ``defusedxml``), encrypted Office
files (password-protected), and binaries renamed to .xlsx/.csv.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAX_UNCOMPRESSED = 2_000_000_000       # bytes over all members of a zip container
MAX_RATIO = 200                        # uncompressed / compressed, per member larger than 1 MB
XML_SCAN_BYTES = 4096                  # DOCTYPE must be in the prologue


def max_upload_bytes(env: dict[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    try:
        mb = float(env.get("MMICD_MAX_UPLOAD_MB", "50"))
    except ValueError:
        mb = 50.0
    return int(mb * 1024 * 1024)


class FileProblem(Exception):
    """A file that cannot be read; ``key`` is a translation key, ``fields`` fill it."""

    def __init__(self, key: str, **fields: object):
        self.key = key
        self.fields = fields
        super().__init__(key)


@dataclass(frozen=True)
class FileType:
    kind: str          # "xlsx", "xls", "ods", "csv"


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise FileProblem("ingest.file.corrupt") from exc
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileProblem("ingest.file.zip_bomb")
    if total > MAX_UNCOMPRESSED:
        raise FileProblem("ingest.file.zip_bomb")
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) or info.filename == "[Content_Types].xml":
            try:
                with zf.open(info) as fh:
                    head = fh.read(XML_SCAN_BYTES)
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, ValueError) as exc:
                raise FileProblem("ingest.file.corrupt") from exc
            upper = head.upper()
            if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
                raise FileProblem("ingest.file.xml_entities")
    # the small control parts are parsed with defusedxml (refuses entities, external references)
    for name in ("[Content_Types].xml", "xl/workbook.xml", "META-INF/manifest.xml"):
        if name in zf.namelist():
            try:
                DET.fromstring(zf.read(name))
            except DefusedXmlException as exc:
                raise FileProblem("ingest.file.xml_entities") from exc
            except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt file
                raise FileProblem("ingest.file.corrupt") from exc
    return zf


def detect_type(data: bytes, *, limit: int | None = None) -> FileType:
    """The real type of ``data``; raises :class:`FileProblem` for unsafe or unreadable files."""
    limit = max_upload_bytes() if limit is None else limit
    if len(data) > limit:
        raise FileProblem("ingest.file.too_large", size=round(len(data) / 1048576, 1), limit=round(limit / 1048576))
    if not data:
        raise FileProblem("ingest.file.empty")
    if data.startswith(ZIP_MAGIC):
        zf = _check_zip(data)
        names = set(zf.namelist())
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            if "xl/workbook.bin" in names:
                raise FileProblem("ingest.file.unsupported", type="xlsb")
            return FileType("xlsx")
        if "content.xml" in names:
            return FileType("ods")
        raise FileProblem("ingest.file.unsupported", type="zip")
    if data.startswith(OLE_MAGIC):
        # an encrypted OOXML file is an OLE container holding EncryptedPackage / EncryptionInfo
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data \
                or b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data:
            raise FileProblem("ingest.file.encrypted")
        return FileType("xls")
    if data.startswith(b"PK"):
        raise FileProblem("ingest.file.corrupt")
    head = data[:65536]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("ingest.file.binary")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<?xml", b"<!doctype", b"<html", b"<table", b"<workbook")):
        raise FileProblem("ingest.file.unsupported", type="xml/html")
    return FileType("csv")
