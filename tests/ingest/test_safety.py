"""Malformed, truncated, password-protected, oversized or malicious files give one clear error."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from mmicd.ingest import Upload, prepare
from mmicd.io.sniff import OLE_MAGIC


def _xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(["ref_area", "time_period", "value"])
    ws.append(["NPL", "2021", 1])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite(data: bytes, member: str, body: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, body if info.filename == member else src.read(info.filename))
    return out.getvalue()


def _only_error(data: bytes, name: str = "f.xlsx") -> str:
    prep = prepare([Upload(name, data)])
    assert not prep.ok and not prep.datasets
    assert len(prep.issues) == 1 and prep.issues[0].file == name
    return prep.issues[0].message


def test_a_valid_workbook_loads():
    prep = prepare([Upload("ok.xlsx", _xlsx())])
    assert prep.ok and prep.datasets[0].rows == 1


def test_zip_bomb_is_refused_before_reading():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * 60_000_000)
    data = out.getvalue()
    assert len(data) < 200_000
    assert "zip bomb" in _only_error(data)


@pytest.mark.parametrize("member", ["xl/workbook.xml", "xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"])
def test_xml_entities_are_refused(member):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><sst>&lol2;</sst>')
    data = _xlsx()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    if member not in names:
        member = "xl/worksheets/sheet1.xml"
    assert "entity" in _only_error(_rewrite(data, member, laughs))


def test_external_entity_is_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook>&x;</workbook>'
    assert "entity" in _only_error(_rewrite(_xlsx(), "xl/workbook.xml", xxe))


def test_truncated_workbook():
    data = _xlsx()
    assert "damaged or truncated" in _only_error(data[: len(data) // 2])


def test_renamed_executable():
    assert "binary" in _only_error(b"\x7fELF\x02\x01\x01" + bytes(500), "report.csv")


def test_password_protected_workbook():
    data = OLE_MAGIC + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(100) + \
        "EncryptedPackage".encode("utf-16-le") + bytes(1000)
    assert "password" in _only_error(data)


def test_garbage_ole_file():
    assert "damaged" in _only_error(OLE_MAGIC + bytes(range(256)) * 8, "old.xls")


def test_oversize_file_is_refused(monkeypatch):
    monkeypatch.setenv("MMICD_MAX_UPLOAD_MB", "0.001")
    message = _only_error(b"ref_area,time_period,value\n" + b"NPL,2021,1\n" * 200, "big.csv")
    assert "over 0 MB" in message or "MB" in message


def test_empty_file():
    assert "empty" in _only_error(b"", "empty.csv")


def test_formula_text_is_not_executed_in_the_annotated_workbook():
    from mmicd.ingest import annotate

    body = b"ref_area,time_period,value\n=HYPERLINK(\"http://x\"),2021,1\n"
    prep = prepare([Upload("f.csv", body)])
    out = annotate(Upload("f.csv", body), prep.issues)
    wb = openpyxl.load_workbook(io.BytesIO(out))
    cells = [c.value for row in wb["data"].iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
