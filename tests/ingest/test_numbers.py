"""The number reader: each column decides its decimal and thousands marks from its own cells, then
its unit, then the file's locale; what stays open or contradicts is a problem at its cell."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from mmicd.i18n import catalogue
from mmicd.ingest import Upload, prepare
from mmicd.io.numbers import KINDS, locale_hint, read_numbers, readings
from mmicd.io.read import parse_numbers
from tests.ingest.conftest import GOOD, upload

N = None  # a cell with no figure (its problem or marker says why)


def _read(cells, **kw):
    got = read_numbers(pd.Series(cells, dtype="str"), **kw)
    values = [None if np.isnan(v) else v for v in got.values]
    problems = {k: np.flatnonzero(m).tolist() for k, m in got.problems.items() if m.any()}
    return values, problems, got


# cells -> (values, {problem kind: positions}), keyword arguments of read_numbers
CASES = [
    # the column's own cells decide
    (["45.678", "12.345.678"], {}, [45678.0, 12345678.0], {}),                 # 12.345.678 proves thousands points
    (["45.678", "3.5"], {}, [45.678, 3.5], {}),                                 # 3.5 proves a decimal point
    (["1,234", "2,5"], {}, [1.234, 2.5], {}),                                    # 2,5 proves a decimal comma
    (["1 234,5", "12 000"], {}, [1234.5, 12000.0], {}),                          # French spaces
    (["1\u202f234,5", "1\u00a0000"], {}, [1234.5, 1000.0], {}),                 # narrow / no-break spaces
    (["1.234,5", "999"], {}, [1234.5, 999.0], {}),                               # Spanish
    (["1,234.5", "7"], {}, [1234.5, 7.0], {}),                                   # English
    (["1'234.5"], {}, [1234.5], {}),                                             # Swiss
    (["(1,234)", "1,234.5"], {}, [-1234.0, 1234.5], {}),                         # accounting negative
    (["\u22125", "+7"], {}, [-5.0, 7.0], {}),                                    # typographic minus, plus
    (["12,34,567"], {}, [1234567.0], {}),                                        # Indian grouping (lakh)
    (["1,23,45,678.5"], {}, [12345678.5], {}),                                   # ... and crore
    (["0.123", "0,5"], {}, [N, N], {"contradictory": [0, 1]}),                  # each proves its own mark
    (["007", "12", ""], {}, [7.0, 12.0, N], {}),
    # contradictions: named at both cells
    (["1,234.5", "1.234,5"], {}, [N, N], {"contradictory": [0, 1]}),
    (["1.234,5", "2,5", "3,5", "1,234.5"], {}, [N, 2.5, 3.5, N], {"contradictory": [0, 3]}),  # the odd one out

    # ambiguous after all evidence: an error, never a guess
    (["45.678"], {}, [N], {"ambiguous": [0]}),
    (["1,234", "12"], {}, [N, 12.0], {"ambiguous": [0]}),
    (["1.000"], {"whole": True}, [N], {"ambiguous": [0]}),                     # 1 and 1000 are both whole
    # the unit: a count of persons cannot be 45.678
    (["45.678"], {"whole": True}, [45678.0], {}),
    (["1,234"], {"whole": True}, [1234.0], {}),
    (["45.678", "1,234"], {"whole": True}, [N, N], {"contradictory": [0, 1]}),
    (["45.678", "3.5"], {"whole": True}, [N, N], {"contradictory": [0, 1]}),    # 3.5 decides; 45.678 persons?
    (["1,000", "2,5"], {"whole": True}, [1.0, 2.5], {}),                        # 1,000 is whole both ways
    # the file's locale
    (["45.678"], {"hint": "fr"}, [45678.0], {}),
    (["45.678"], {"hint": ","}, [45678.0], {}),
    (["45.678"], {"hint": "en"}, [45.678], {}),
    (["45.678", "1,5"], {"hint": "."}, [45678.0, 1.5], {}),                     # the cells decide before the hint
    # markers, text, non-finite
    (["..", "-", "\u2026", "x", "n.d.", "", "*", "~", "c"], {}, [N] * 9, {}),
    (["inf", "-inf", "nan", "NaN", "Infinity"], {}, [N] * 5, {"not_finite": [0, 1, 2, 3, 4]}),
    (["abc", "12 %", "1.2.3", "12.34.567", "1,2,3"], {"hint": "."}, [N] * 5,
     {"not_a_number": [0, 1, 2, 3, 4]}),
]


@pytest.mark.parametrize(("cells", "kw", "values", "problems"), CASES)
def test_cells_to_numbers(cells, kw, values, problems):
    got_values, got_problems, _ = _read(cells, **kw)
    assert got_values == [None if v is None else pytest.approx(v) for v in values]
    assert got_problems == problems


def test_markers_give_their_status_never_zero():
    got = read_numbers(pd.Series(["..", "-", "\u2026", "x", "n.d.", "", "*", "~", "12"], dtype="str"))
    assert got.status.tolist()[:8] == ["M", "M", "M", "M", "M", "M", "Q", "Q"] and pd.isna(got.status[8])
    assert got.values.isna().tolist() == [True] * 8 + [False] and not got.bad.any()


def test_each_group_decides_for_itself():
    cells = pd.Series(["45.678", "1,5", "3.5", "12.345"], dtype="str")
    alone = read_numbers(cells)
    assert alone.problems["contradictory"].tolist() == [False, True, True, False]
    by_column = read_numbers(cells, groups=pd.Series([0, 1, 0, 1]))
    assert by_column.values.tolist() == [45.678, 1.5, 3.5, 12345.0] and not by_column.bad.any()
    assert {k: (d.decimal, d.by) for k, d in by_column.decisions.items()} == {0: (".", "cells"), 1: (",", "cells")}


def test_contradictory_cells_point_at_each_other():
    got = read_numbers(pd.Series(["1.234,5", "2,5", "1,234.5"], dtype="str"))
    assert got.problems["contradictory"].tolist() == [True, False, True]   # minority + the first of the majority
    assert got.other.tolist() == [2, -1, 0] and got.implied.tolist() == [2, 0, 1]


def test_native_numbers_need_no_convention():
    mixed = pd.Series([45.678, 12, "1.234,5", None, float("nan"), True, float("inf")], dtype=object)
    got = read_numbers(mixed)
    assert got.values.tolist()[:3] == [45.678, 12.0, 1234.5]
    assert got.status.tolist()[3:5] == ["M", "M"]
    assert np.flatnonzero(got.problems["not_a_number"]).tolist() == [5]
    assert np.flatnonzero(got.problems["not_finite"]).tolist() == [6]
    floats = read_numbers(pd.Series([45.678, 12.345, np.inf]))
    assert floats.values.tolist()[:2] == [45.678, 12.345] and floats.problems["not_finite"].tolist() == [0, 0, 1]


def test_arrow_text_and_plain_python_text_agree():
    cells = ["45.678", "12.345.678", "", "..", "1 234", "x"]
    arrow = read_numbers(pd.Series(pd.array(pa.array(cells, pa.large_string()), dtype=pd.ArrowDtype(pa.large_string()))))
    python = read_numbers(pd.Series(cells, dtype=object))
    assert arrow.values.equals(python.values) and arrow.status.equals(python.status)


def test_plain_column_is_read_in_one_cast_with_its_ambiguous_cells_found():
    cells = pd.Series(["1", "2.5", "45.678", "-12.345", "0.123", "1234.567", "1e3", ""], dtype="str")
    got = read_numbers(cells)   # 2.5 proves a decimal point: 45.678 is 45.678
    assert got.values.tolist()[:7] == [1, 2.5, 45.678, -12.345, 0.123, 1234.567, 1000.0]
    only = read_numbers(pd.Series(["45.678", "-12.345", "17"], dtype="str"))
    assert only.problems["ambiguous"].tolist() == [True, True, False]
    grouped = read_numbers(pd.Series(["45.678", "1234.567"], dtype="str"))   # 4 digits before: no thousands
    assert grouped.values.tolist() == [45.678, 1234.567] and not grouped.bad.any()


def test_known_convention_of_official_layouts():
    v, s, bad = parse_numbers(pd.Series(["45.678", "1,234.5", "1.234,5", ".."], dtype="str"), ".")
    assert v.tolist()[:2] == [45.678, 1234.5] and bad.tolist() == [False, False, True, False] and s[3] == "M"
    v, _, bad = parse_numbers(pd.Series(["45.678", "1 234,5"], dtype="str"), ",")
    assert v.tolist() == [45678.0, 1234.5] and not bad.any()


def test_readings_of_one_cell():
    assert readings("45.678") == (45.678, 45678.0)
    assert readings("1 234,5") == (None, 1234.5)
    assert readings("(1,234)") == (-1234.0, -1.234)


@pytest.mark.parametrize(("delimiter", "cells", "hint"), [
    (";", ["Pays", "Année", "Sexe", "Valeur"], ","),
    (";", ["País", "Año", "Sexo", "Valor"], ","),
    (";", ["country", "year", "value"], None),       # English headers with ';' (Eurostat): no hint
    (",", ["País", "Año"], "."),                     # an unquoted decimal comma cannot stand in a ',' CSV
    ("\t", ["Pays", "Année"], None),
])
def test_locale_hint(delimiter, cells, hint):
    assert locale_hint(delimiter, cells) == hint


def test_spanish_thousands_in_a_persons_column_end_to_end():
    prep = prepare([upload(GOOD / "census_es_thousands.csv")])
    assert prep.ok and not prep.issues, prep.issues
    f = prep.datasets[0].frame.set_index("sex")["value"]
    assert f.to_dict() == {"F": 45678.0, "M": 12345678.0, "_T": 12391356.0}


def test_lakh_grouping_and_accounting_negative_end_to_end():
    prep = prepare([upload(GOOD / "grouping_variants.csv")])
    assert prep.ok and not prep.issues, prep.issues
    f = prep.datasets[0].frame.set_index("sex")["value"]
    assert f.to_dict() == {"F": -123456.0, "M": 1234567.0, "_T": 1111111.0}


def _xlsx(rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_number_cells_of_a_workbook_need_no_convention():
    """Rates with three decimals in number cells are numbers, though as text they would be ambiguous."""
    data = _xlsx([["ref_area", "time_period", "measure", "value"], ["NPL", 2020, "REM_IN", 45.678],
                  ["NPL", 2021, "REM_IN", 12.345]])
    prep = prepare([Upload("rates.xlsx", data)])
    assert prep.ok and not prep.issues, prep.issues
    assert prep.datasets[0].frame["value"].tolist() == [45.678, 12.345]


def test_text_cells_of_a_workbook_are_decided_like_a_csv():
    data = _xlsx([["ref_area", "time_period", "measure", "value"], ["NPL", 2020, "REM_IN", "45.678"],
                  ["NPL", 2021, "REM_IN", 51]])
    prep = prepare([Upload("text.xlsx", data)])
    assert [(i.sheet, i.row, i.column, i.value) for i in prep.issues] == [("data", 2, "value", "45.678")]
    assert "can be read two ways" in prep.issues[0].message


def test_wide_table_decides_per_source_column():
    """Each value column of a wide table is a source column with its own convention: the Male column's
    23,000 is read with its own 6,000,000, not with the Both sexes column's thousands points."""
    body = ("Year;Age group;Both sexes;Male;Female\n2021;0-14;45.678;23,000;22678\n"
            "2021;15-64;12.345.678;6,000,000;6345678\n")
    prep = prepare([Upload("wide.csv", body.encode())], kind="census", country="NPL", source="NSO")
    assert prep.ok and prep.datasets[0].layout == "table", prep.issues   # the general reader
    f = prep.datasets[0].frame.set_index(["age", "sex"])["value"]
    assert f[("Y0T14", "_T")] == 45678 and f[("Y0T14", "M")] == 23000 and f[("Y15T64", "M")] == 6_000_000
    # now the Male column mixes 23,500 and 6.000.000: with a decimal comma 23,5 persons, not whole
    mixed = body.replace("6,000,000", "6.000.000").replace("23,000;22678", "23,500;22178")
    issues = prepare([Upload("wide.csv", mixed.encode())], kind="census", country="NPL", source="NSO").issues
    assert [(i.row, i.column, i.value) for i in issues if i.level == "error"] == [
        (2, "Male", "23,500"), (3, "Male", "6.000.000")]
    assert "which holds whole numbers, is whole only with '.' as decimal mark, but '6.000.000'" in issues[0].message


def test_microdata_age_is_whole_and_weights_decide_alone():
    body = "country;year;sex;age;weight\nNPL;2021;F;34;1.234,5\nNPL;2021;M;40;12,5\n"
    prep = prepare([Upload("lfs.csv", body.encode())], kind="lfs")
    assert prep.ok, prep.issues
    assert prep.datasets[0].frame["weight"].tolist() == [1234.5, 12.5]
    bad = prepare([Upload("lfs.csv", b"country;year;sex;age;weight\nNPL;2021;F;34;inf\nNPL;2021;M;40;2\n")],
                  kind="lfs")
    assert [(i.row, i.column, i.value) for i in bad.issues if i.level == "error"] == [(2, "weight", "inf")]


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_number_messages_are_translated(lang):
    keys = {f"ingest.issue.{k}" for k in ("not_a_number", "non_finite", "number_ambiguous", "number_contradictory",
                                          "number_unit_conflict")}
    assert keys <= set(catalogue(lang)), keys - set(catalogue(lang))
    assert set(KINDS) == {"ambiguous", "contradictory", "not_a_number", "not_finite"}
