"""CSV tables are read by pyarrow from the bytes; the result (text cells, column names, row numbers)
is the one the pandas reader gives, which still reads files whose rows do not match the header."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mmicd.ingest import Upload, prepare
from mmicd.io.read import Book


def _both(data: bytes, header_row: int = 0) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    fast = Book("x.csv", data, "csv")._csv_arrow(header_row)
    book = Book("x.csv", data, "csv")
    book._csv_arrow = lambda _h: None   # the pandas reader
    slow = book._table("", header_row, frozenset())
    return fast, slow


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[("" if pd.isna(v) else str(v)) for v in row] for row in frame.itertuples(index=False)]


@pytest.mark.parametrize("body", [
    "country,year,code,value\nNPL,2021,007,\"1,234\"\nIND,2021,010,5\n",
    "\ufeffPays;Année;Valeur\nSénégal;2013;1 234,5\n\nSénégal;2014;12\n",       # BOM, a blank line inside
    "Title of the table\n\nref_area,value\nNPL,1\nNPL,2\n",                       # title rows above the header
    "a,a,,b\n1,2,3,4\n",                                                           # repeated and blank headers
    "a\tb\n\"x\ty\"\t2\n",                                                          # a quoted delimiter
])
def test_pyarrow_reads_what_pandas_reads(body):
    data = body.encode("utf-8")
    header = 2 if body.startswith("Title") else 0
    fast, slow = _both(data, header)
    assert fast is not None
    assert list(fast.columns) == list(slow.columns)
    assert _cells(fast) == _cells(slow)


def test_latin1_and_utf16_files():
    body = "Pays;Année;Valeur\nCôte d'Ivoire;2021;12,5\n"
    for data in (body.encode("cp1252"), body.encode("utf-16")):
        book = Book("x.csv", data, "csv")
        fast = book._csv_arrow(0)
        assert list(fast.columns) == ["Pays", "Année", "Valeur"] and _cells(fast) == [["Côte d'Ivoire", "2021", "12,5"]]


def test_rows_that_do_not_match_the_header_go_to_the_pandas_reader():
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n"
    assert Book("x.csv", data, "csv")._csv_arrow(0) is None
    frame, rows = Book("x.csv", data, "csv").table_rows("", 0)
    assert len(frame) == 2 and rows.tolist() == [2, 3]   # pandas pads the short row, skips the long one


def test_row_numbers_hold_across_blank_lines():
    body = "ref_area,time_period,sex,value\nNPL,2021,F,10\n\nNPL,2021,M,abc\n"
    prep = prepare([Upload("gap.csv", body.encode())])
    assert [(i.row, i.column, i.value) for i in prep.issues if i.level == "error"] == [(4, "value", "abc")]


def test_large_file_head_is_read_without_decoding_the_whole_file():
    rows = "".join(f"NPL,{2000 + i % 20},F,{i}\n" for i in range(40_000))
    data = ("ref_area,time_period,sex,value\n" + rows).encode()
    book = Book("big.csv", data, "csv")
    assert book.grid("", 3)[1] == ["NPL", "2000", "F", "0"]
    assert "text" not in book.__dict__   # only the head was decoded
    frame, numbers = book.table_rows("", 0)
    assert len(frame) == 40_000 and numbers[-1] == 40_001 and frame["value"].iloc[-1] == "39999"
    assert np.all(np.diff(numbers) == 1)
