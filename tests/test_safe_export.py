"""Exports never carry live formulas (mmicd.safe_export): the neutraliser by hand, then every CSV and
XLSX the project writes, with hostile text in it, read back."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from mmicd.engine.export import export
from mmicd.engine.registry import OUTPUT_COLUMNS
from mmicd.me.repository import load_portfolio
from mmicd.me.workbook_write import export_workbook
from mmicd.safe_export import (
    XLSXWRITER,
    XlsxCells,
    chart_text,
    csv_cell,
    csv_column,
    csv_frame,
    protect_workbook,
    risky,
    to_csv,
    xlsx_bytes,
)
from tests.hostile import ADMIN, csv_fields, formula, plant, unsafe_csv_fields, unsafe_xlsx_cells, xlsx_texts

BEACON = "http://127.0.0.1:9"
FORMULA = formula(BEACON)


# ---- the neutraliser, by hand ------------------------------------------------------------------
@pytest.mark.parametrize(("value", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("@SUM(1+1)", "'@SUM(1+1)"),
    ("+33 1 23", "'+33 1 23"), ("-2+3", "'-2+3"), ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("\ncmd", "'\ncmd"),
    ("\uff1dSUM(1)", "'\uff1dSUM(1)"), ("\uff20x", "'\uff20x"),
    # a number-looking text in a text column is text: it stays text (quoted), see the module's note
    ("-5", "'-5"),
    # not at the start, or harmless: unchanged
    ("a=b", "a=b"), ("UN DESA", "UN DESA"), ("", ""), (" =1", " =1"), ("'=1", "'=1"),
    # numbers and missing values are never touched
    (-5, -5), (-5.5, -5.5), (0, 0), (None, None), (True, True), (np.int64(-3), -3),
])
def test_csv_cell(value, written):
    out = csv_cell(value)
    assert out == written and type(out) is type(written) or (out == written and isinstance(value, np.integer))


def test_a_numeric_column_stays_numbers_a_text_column_is_quoted():
    frame = pd.DataFrame({"value": [-5.0, 2.0, np.nan], "count": [-1, 0, 3],
                          "name": ["=1+1", "ok", None], "mixed": [-5, "-5", "@x"]})
    out = csv_frame(frame)
    assert out["value"].tolist()[:2] == [-5.0, 2.0] and out["value"].dtype == "float64"
    assert out["count"].tolist() == [-1, 0, 3]
    assert out["name"].tolist()[:2] == ["'=1+1", "ok"] and pd.isna(out["name"].iloc[2])
    assert out["mixed"].tolist() == [-5, "'-5", "'@x"]
    assert frame["name"].iloc[0] == "=1+1", "the frame given is not changed"
    text = to_csv(frame, lineterminator="\n")
    assert text.splitlines() == ["value,count,name,mixed", "-5.0,-1,'=1+1,-5", "2.0,0,ok,'-5", ",3,,'@x"]


def test_column_names_are_neutralised_too():
    assert list(csv_frame(pd.DataFrame({"=evil": [1], "fine": [2]})).columns) == ["'=evil", "fine"]


def test_csv_column_of_strings_dtype():
    values = pd.Series(["=a", "b", pd.NA], dtype="string")
    assert csv_column(values).tolist()[:2] == ["'=a", "b"]


def test_csv_column_of_coded_text():
    # survey records keep their text columns as categoricals: the labels are written, risky ones quoted
    column = pd.Series(["-S1", "S2", "-S1"], dtype="category")
    assert csv_column(column).tolist() == ["'-S1", "S2", "'-S1"]


def test_risky_only_for_text():
    assert risky("=x") and risky("-x") and not risky(-1) and not risky(None) and not risky(b"=x")


def test_openpyxl_cells_become_quoted_strings_and_read_back_unchanged():
    wb = Workbook()
    ws = wb.active
    ws.append([FORMULA, "@SUM(1+1)", "-5", -5, "plain", None])
    assert ws["A1"].data_type == "f", "openpyxl would write the title as a live formula"
    protect_workbook(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    back = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.value for c in back[1]][:5] == [FORMULA, "@SUM(1+1)", "-5", -5, "plain"]
    assert [c.data_type for c in back[1]][:5] == ["s", "s", "s", "n", "s"]
    assert [bool(c.quotePrefix) for c in back[1]][:5] == [True, True, True, False, False]
    assert unsafe_xlsx_cells(buffer.getvalue()) == []


def test_xlsxwriter_cells_are_strings_with_the_quote_prefix_and_keep_their_style():
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, **XLSXWRITER})
    cells = XlsxCells(wb, {"bold": {"bold": True}})
    ws = wb.add_worksheet()
    cells.write_row(ws, 0, 0, [FORMULA, -5, 2.5, True, None, "ok", "@x"])
    cells.write(ws, 1, 0, "=1+1", "bold")
    wb.close()
    back = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.value for c in back[1]] == [FORMULA, -5, 2.5, True, None, "ok", "@x"]
    assert [c.data_type for c in back[1]] == ["s", "n", "n", "b", "n", "s", "s"]
    assert back["A2"].value == "=1+1" and back["A2"].quotePrefix and back["A2"].font.b
    assert unsafe_xlsx_cells(buffer.getvalue()) == []


def test_chart_text():
    assert chart_text("=Sheet1!A1") == " =Sheet1!A1" and chart_text("Migrants") == "Migrants"


def test_xlsx_bytes_of_a_frame():
    frame = pd.DataFrame({"title": [FORMULA, "ok"], "value": [-5.0, np.nan], "when": ["2024-01-01", None]})
    data = xlsx_bytes(frame, "a-very-long-sheet-name-longer-than-thirty-one")
    back = load_workbook(io.BytesIO(data)).active
    assert back.title == "a-very-long-sheet-name-longer-t"
    assert [[c.value for c in row] for row in back.iter_rows()] == [
        ["title", "value", "when"], [FORMULA, -5, "2024-01-01"], ["ok", None, None]]
    assert unsafe_xlsx_cells(data) == []


# ---- every export, with hostile text --------------------------------------------------------------
def test_indicator_exports_csv_and_sdmx(monkeypatch):
    row = {c: None for c in OUTPUT_COLUMNS}
    row.update(indicator="stock", ref_area="NPL", sex="_T", age="_T", migrant_status="_T", counterpart_area="_T",
               time_period="2021", value=-5.0, unit="persons", obs_status="A", source=FORMULA, edition="@SUM(1+1)",
               note="-2+3")
    table = pd.DataFrame([row], columns=OUTPUT_COLUMNS)
    sdmx = zipfile.ZipFile(io.BytesIO(export(table, "sdmx-csv")))
    for fmt, data in (("csv", export(table, "csv")), ("sdmx-csv", sdmx.read("data_MMICD.csv"))):
        rows = csv_fields(data)
        assert unsafe_csv_fields(rows) == [], fmt
        flat = [f for r in rows for f in r]
        assert {"-5.0", "-5"} & set(flat), "a negative number stays a number"
        assert any(f.startswith("'=HYPERLINK") for f in flat), fmt
    package = json.loads(export(table, "json"))
    assert package["resources"][0]["data"][0]["source"] == FORMULA, "JSON carries the text as it is"


def test_me_workbook_export_has_no_formula_and_round_trips_the_hostile_title(store):
    iv_id, ind_id = plant(store, title=FORMULA, indicator="@SUM(1+1)", lead="-2+3", description="+1")
    data = export_workbook(load_portfolio(store, "NPL"))
    assert unsafe_xlsx_cells(data) == []
    texts = xlsx_texts(data)
    assert {FORMULA, "@SUM(1+1)", "-2+3", "+1"} <= set(texts), "the text is kept exactly, as a string cell"
    wb = load_workbook(io.BytesIO(data))
    ws = wb["interventions"]
    (title_cell,) = [c for row in ws.iter_rows() for c in row if c.value == FORMULA]
    assert title_cell.data_type == "s" and title_cell.quotePrefix
    # the empty template still has its drop-down lists (data validations are not cells)
    assert wb["indicators"].data_validations.dataValidation


def test_me_workbook_re_imports_the_title_as_it_was(store):
    from mmicd.me.workbook_read import import_workbook

    plant(store, title=FORMULA, indicator="@SUM(1+1)", lead="-2+3", description="+1")
    before = load_portfolio(store, "NPL")
    data = export_workbook(before)
    check = import_workbook(store, data, user=ADMIN, lang="en", file="x.xlsx", dry_run=True)
    assert not [i for i in check.issues if i.level == "error"], check.issues[:3]


def test_upload_template_with_hostile_data():
    from mmicd.templates import build_template

    data = pd.DataFrame({"ref_area": ["NPL"], "time_period": ["2021"], "sex": ["_T"], "age": ["_T"],
                         "value": [-5.0], "obs_status": [FORMULA]})
    xlsx = build_template("census", "en", data=data, notes="@notes")
    assert unsafe_xlsx_cells(xlsx) == []
    assert FORMULA in xlsx_texts(xlsx)


def test_country_brief_xlsx_with_a_hostile_source(seeded_store):
    from mmicd.profile import profile_from_store
    from mmicd.profile.brief import render
    from mmicd.profile.model import SourceRef

    profile = profile_from_store(seeded_store, "DEU", "2020", "en")
    profile.key_figures[0].sources = [SourceRef(dataset_id=1, source=FORMULA, edition="-2021")]
    data = render(profile, "xlsx")
    assert unsafe_xlsx_cells(data) == []
    key = load_workbook(io.BytesIO(data)).worksheets[0]
    assert key["E5"].value == f"{FORMULA} -2021" and key["E5"].quotePrefix
    assert isinstance(key["B5"].value, float | int), "values stay numbers"
