"""Large .xlsx sheets read in row pieces give exactly what a whole-sheet read gives.

Pieces are forced on small workbooks (tiny piece size, no minimum sheet size) so every boundary
case is crossed many times: blank rows at a boundary, title rows above the header, codes with
leading zeros, text in a number column (reported with its sheet row), footnotes after the data.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from mmicd.ingest import Upload, prepare
from mmicd.io import read, xlsx_chunks
from mmicd.io.layouts import read_table
from mmicd.io.read import Book

HEADER = ["ref_area", "time_period", "sex", "age", "labour_status", "weight", "stratum", "psu"]


def _workbook(n: int, *, bad_age_at: int | None = None, blank_every: int = 0, titles: int = 2) -> bytes:
    """A person-record workbook: ``titles`` title rows, the header, ``n`` persons (sheet rows are
    1-based: the first person is on row titles + 2)."""
    rng = np.random.default_rng(7)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("persons")
    for t in range(titles):
        ws.write(t, 0, f"Labour force survey 2022, title line {t + 1}")
    top = titles
    ws.write_row(top, 0, HEADER)
    r = top + 1
    for i in range(n):
        if blank_every and i and i % blank_every == 0:
            r += 1                                    # a blank sheet row between persons
        age: object = int(rng.integers(15, 90))
        if bad_age_at is not None and r + 1 == bad_age_at:
            age = "forty"
        ws.write_row(r, 0, ["NPL", "2022", ["F", "M"][i % 2], age, ["EMP", "UNE", "INA"][i % 3],
                            round(float(rng.uniform(50, 400)), 2)])
        ws.write_string(r, 6, f"{i % 60:02d}")
        ws.write_string(r, 7, f"{i % 5000:04d}")
        r += 1
    ws.write(r + 1, 0, "Source: synthetic test data")
    wb.close()
    return buf.getvalue()


def _pieces(monkeypatch, size: int = 40_000) -> None:
    monkeypatch.setattr(read, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(xlsx_chunks, "CHUNK_BYTES", size)
    read._CACHE.clear()


def _whole(monkeypatch) -> None:
    monkeypatch.setattr(read, "READ_IN_PIECES", False)
    read._CACHE.clear()


def test_pieces_equal_whole_sheet_read(monkeypatch):
    data = _workbook(6000, blank_every=997)
    got = xlsx_chunks.read_sheet(data, "persons", 2, chunk_bytes=40_000)
    assert got is not None
    columns, rows = got
    assert list(columns) == HEADER
    assert sum(c.num_chunks for c in columns.values()) > 20 * len(HEADER)   # really many pieces
    book = Book("p.xlsx", data, "xlsx")
    _pieces(monkeypatch)
    pieces, _ = read_table(book, "persons", 2)
    _whole(monkeypatch)
    whole, _ = read_table(Book("p.xlsx", data, "xlsx"), "persons", 2)
    assert len(pieces) == len(whole) == 6000
    assert pieces["_row"].tolist() == whole["_row"].tolist()
    # the first person is on sheet row 4 (two titles, the header); blank rows shift the rest
    assert pieces["_row"].iloc[0] == 4 and pieces["_row"].iloc[997] == 4 + 997 + 1
    for h in HEADER:
        assert pieces[h].astype(str).tolist() == whole[h].astype(str).tolist(), h
    assert pieces["psu"].iloc[3] == "0003" and pieces["stratum"].iloc[61] == "01"   # leading zeros kept


def test_prepare_same_result_and_issue_rows_in_pieces(monkeypatch):
    data = _workbook(5000, bad_age_at=3001, blank_every=1500)
    _pieces(monkeypatch)
    a = prepare([Upload("lfs.xlsx", data)], kind="lfs")
    _whole(monkeypatch)
    b = prepare([Upload("lfs.xlsx", data)], kind="lfs")
    bad = [i for i in a.issues if i.level == "error"]
    assert len(bad) == 1
    assert (bad[0].sheet, bad[0].row, bad[0].column, bad[0].value) == ("persons", 3001, "age", "forty")
    assert [(i.row, i.column, i.value) for i in a.issues] == [(i.row, i.column, i.value) for i in b.issues]
    good = _workbook(5000)
    _pieces(monkeypatch)
    a = prepare([Upload("lfs.xlsx", good)], kind="lfs")
    _whole(monkeypatch)
    b = prepare([Upload("lfs.xlsx", good)], kind="lfs")
    assert a.ok and b.ok
    pd.testing.assert_frame_equal(a.datasets[0].frame, b.datasets[0].frame)
    frame = a.datasets[0].frame
    assert len(frame) == 5000 and frame["psu"].iloc[7] == "0007"
    assert str(frame["age"].dtype) == "Int64" and frame["weight"].dtype == np.float64


def test_progress_reports_fractions_up_to_one():
    data = _workbook(3000)
    seen: list[float] = []
    assert xlsx_chunks.read_sheet(data, "persons", 2, chunk_bytes=30_000, progress=seen.append) is not None
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_unusual_sheets_fall_back_to_the_whole_sheet_reader(monkeypatch):
    """Rows without row numbers: the piece reader declines, the whole-sheet reader reads it."""
    data = _workbook(200)
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in zin.namelist():
            body = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                import re

                body = re.sub(rb'<row r="\d+"', b"<row", body)
            z.writestr(name, body)
    odd = out.getvalue()
    assert xlsx_chunks.read_sheet(odd, "persons", 2, chunk_bytes=10_000) is None
    _pieces(monkeypatch)
    frame, _ = read_table(Book("odd.xlsx", odd, "xlsx"), "persons", 2)
    assert len(frame) == 200 and frame["psu"].iloc[5] == "0005"


def test_small_sheets_are_read_whole():
    assert xlsx_chunks.read_sheet(_workbook(50), "persons", 2, min_size=4_000_000) is None


def _observations_workbook(n_areas: int) -> bytes:
    """A long census table and a wide table with year columns (observations, not persons)."""
    import xlsxwriter as xw

    from mmicd import codes

    areas = sorted(a for a in codes.codes("areas") if codes.is_country(a))[:n_areas]
    buf = io.BytesIO()
    wb = xw.Workbook(buf, {"in_memory": True})
    long, wide = wb.add_worksheet("long"), wb.add_worksheet("wide")
    long.write_row(0, 0, ["Country", "Year", "Sex", "Value"])
    wide.write(0, 0, "Population, thousands")
    wide.write_row(2, 0, ["Country", "Sex", "2019", "2020", "2021"])
    r = 1
    for i, area in enumerate(areas):
        for year in ("2019", "2020", "2021"):
            for j, sex in enumerate(("Female", "Male")):
                long.write_row(r, 0, [area, year, sex, 1000 + i * 10 + j])
                r += 1
        for j, sex in enumerate(("Female", "Male")):
            wide.write_row(3 + 2 * i + j, 0, [area, sex, 100.5 + i, "..", 102 + j])
    wb.close()
    return buf.getvalue()


@pytest.mark.parametrize("sheet", ["long", "wide"])
def test_observation_tables_in_pieces_equal_whole_sheet(monkeypatch, sheet):
    data = _observations_workbook(150)
    from mmicd.clean.mapping import MappingProfile

    mapping = MappingProfile(kind="census", sheet=sheet, columns={"ref_area": "Country", "sex": "Sex",
                                                                  **({"time_period": "Year", "value": "Value"}
                                                                     if sheet == "long" else {})})
    _pieces(monkeypatch, size=3_000)
    a = prepare([Upload("obs.xlsx", data)], kind="census", mapping=mapping)
    _whole(monkeypatch)
    b = prepare([Upload("obs.xlsx", data)], kind="census", mapping=mapping)
    assert a.ok and b.ok and len(a.datasets) == len(b.datasets) == 1
    pd.testing.assert_frame_equal(a.datasets[0].frame, b.datasets[0].frame)
    assert [(i.row, i.column, i.value) for i in a.issues] == [(i.row, i.column, i.value) for i in b.issues]
    frame = a.datasets[0].frame
    assert len(frame) == 150 * 6
    if sheet == "wide":   # thousands in the title; '..' is a missing value, not an error
        assert (frame["obs_status"] == "M").sum() == 300 and frame["value"].max() == pytest.approx(249_500)
