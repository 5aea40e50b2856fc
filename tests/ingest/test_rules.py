"""The rules of the canonical frame (mmicd/rules): declared once, run by the upload (cells) and the
store (dataset rows); knock-on issues nested under their cause; workbook facts; projections."""

from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from mmicd import rules
from mmicd.config import LANGUAGES
from mmicd.i18n import catalogue
from mmicd.ingest import Upload, commit, prepare
from mmicd.io import workbook_facts
from mmicd.issues import Issue, IssuesError, walk
from mmicd.model import (
    DatasetMeta,
    Kind,
    check_microdata,
    normalise_microdata,
    normalise_observations,
    validated,
)
from tests.ingest.conftest import BAD, snapshot, upload

NEXT_YEAR = rules.Params().last_year


def obs(rows: list[tuple], columns=("time_period", "sex", "value")) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    return normalise_observations(frame.assign(ref_area="NPL", measure="POP"))


def checks(issues: list[Issue]) -> list[tuple]:
    return [(i.level, i.check, i.row) for i in issues]


# ---- the registry ---------------------------------------------------------------------------------
def test_every_rule_is_declared_once_with_a_level_a_description_and_translated_messages():
    for form in ("observations", "microdata"):
        declared = rules.rules_for(form)
        ids = [r.id for r in declared]
        assert len(ids) == len(set(ids)), ids
        assert all(r.level in ("error", "warning", "info") and r.doc and r.keys for r in declared)
    for lang in LANGUAGES:
        missing = {k for k in rules.all_keys() if f"ingest.issue.{k}" not in catalogue(lang)}
        assert not missing, (lang, missing)
    for key in ("ingest.issue.hidden_sheet", "ingest.issue.very_hidden_sheet", "ingest.issue.projections",
                "ingest.consequence", "cli.ingest.projections"):
        assert all(key in catalogue(lang) for lang in LANGUAGES), key


def test_the_dimension_list_is_read_from_the_model():
    """The ninth dimension ``breakdown`` is part of the key (two rows differing only by it are no
    duplicates) and closed by its code list (``TYPE:CODE`` pairs of data/codelists/breakdown.csv)."""
    assert "breakdown" in rules.base.DIMENSIONS
    frame = obs([("2021", "F", 1.0), ("2021", "F", 2.0), ("2021", "F", 3.0)]).assign(
        breakdown=["_T", "CRITERION:RESIDENCE", "CRITERION:ELSEWHERE"])
    found = rules.issues(frame, "observations")
    assert [(i.check, i.column, i.row, i.value) for i in found] == \
        [("unknown_code", "breakdown", 3, "CRITERION:ELSEWHERE")]


# ---- the store runs the same rules ------------------------------------------------------------------
def test_the_store_names_dataset_rows_with_translated_messages():
    frame = obs([("2021", "F", np.inf), ("2203", "M", 5.0), ("2021", "_T", -3.0), ("1850", "F", 0.5)])
    with pytest.raises(IssuesError) as err:
        validated(frame, file="x.csv", lang="fr")
    got = {(i.check, i.row, i.column, i.value) for i in err.value.issues}
    assert {("non_finite", 1, "value", "inf"), ("year_range", 2, "time_period", "2203"),
            ("negative", 3, "value", "-3.0"), ("year_range", 4, "time_period", "1850")} <= got
    assert all(i.file == "x.csv" for i in err.value.issues)
    text = {i.check: i.message for i in err.value.issues}
    assert text["non_finite"].startswith("« inf » dans la colonne value n'est pas un nombre fini")


def test_the_store_accepts_later_years_only_as_projections_marked_e(store):
    meta = DatasetMeta(kind=Kind.POPULATION, source="WPP", scope="NPL")
    later = str(NEXT_YEAR + 20)
    before = snapshot(store)
    with pytest.raises(IssuesError) as err:
        store.add_dataset(meta, obs([(later, "_T", 1000.0)]), actor="a")
    assert [i.check for i in err.value.issues] == ["year_range"] and snapshot(store) == before
    version = store.add_dataset(meta, obs([(later, "_T", 1000.0)]).assign(obs_status="E"), actor="a")
    assert version.rows == 1
    with pytest.raises(IssuesError) as err:  # in the user's language
        store.add_many([(meta, "observations", obs([("2021", "_T", np.inf)]))], actor="a", lang="es")
    assert err.value.issues[0].message.startswith("«inf» en la columna value no es un número finito")


def test_store_microdata_rules():
    persons = normalise_microdata(pd.DataFrame({"ref_area": "NPL", "time_period": ["2021", "1850", "2021"],
                                                "sex": "F", "age": [30, 40, 50], "weight": [1.0, 2.0, np.inf]}))
    found = {(i.check, i.row, i.column) for i in check_microdata(persons)}
    assert found == {("year_range", 2, "time_period"), ("non_finite", 3, "weight")}


def test_missing_values_need_a_missing_status_in_the_store_too():
    frame = obs([("2021", "F", np.nan), ("2021", "M", 5.0)])
    assert checks(rules.issues(frame, "observations")) == [("error", "missing_status", 1)]
    assert rules.issues(frame.assign(obs_status=["Q", "A"]), "observations") == []


# ---- the upload: cells -------------------------------------------------------------------------------
def test_projections_are_accepted_only_when_declared(store):
    later = NEXT_YEAR + 10
    body = f"ref_area,time_period,sex,value\nNPL,2021,_T,100\nNPL,{later},_T,120\n".encode()
    refused = prepare([Upload("wpp.csv", body)])
    assert [(i.check, i.row, i.column, i.value) for i in refused.issues] == \
        [("year_range", 3, "time_period", str(later))]
    prep = prepare([Upload("wpp.csv", body)], projections=True)
    assert prep.ok and [(i.level, i.check) for i in prep.issues] == [("info", "projections")]
    frame = prep.datasets[0].frame.set_index("time_period")
    assert frame.at[str(later), "obs_status"] == "E" and frame.at["2021", "obs_status"] == "A"
    (version,) = commit(prep, store, actor="test")
    assert version.rows == 2


def test_microdata_upload_refuses_infinite_weights_and_years_out_of_range():
    body = b"country,year,sex,age,weight\nNPL,2021,F,34,120.5\nNPL,2021,M,40,inf\nNPL,1850,F,22,98\n"
    prep = prepare([Upload("lfs.csv", body)], kind="lfs")
    got = [(i.check, i.row, i.column, i.value) for i in prep.issues if i.level == "error"]
    assert got == [("year_range", 4, "year", "1850"), ("non_finite", 3, "weight", "inf")]


def test_knock_on_issues_follow_their_cause_and_same_cell_repeats_are_dropped():
    # a duplicated part makes its total not add up: the warning is the duplicate's consequence
    frame = obs([("2021", "F", 60.0), ("2021", "F", 60.0), ("2021", "M", 40.0), ("2021", "_T", 100.0)])
    (dup,) = rules.issues(frame, "observations")
    assert (dup.check, dup.row) == ("duplicate", 2)
    assert [(c.check, c.row) for c in dup.consequences] == [("sum_mismatch", 4)]
    # "1,2OO": not a number; its "empty value" is the same cell (dropped); the jump over it is nested
    prep = prepare([upload(BAD / "text_knock_on.xlsx")])
    assert [(d, i.check) for d, i in walk(prep.issues)] == [(0, "not_a_number"), (1, "jump")]


def test_a_consequence_of_an_error_only_counted_in_a_summary_is_dropped(monkeypatch):
    monkeypatch.setattr(rules.run, "MAX_PER_CHECK", 1)
    rows = [(str(y), s, v) for y in (2019, 2020) for s, v in (("F", -1.0), ("M", 10.0), ("_T", 100.0))]
    found = rules.issues(obs(rows), "observations")
    assert [(i.check, i.row, len(i.consequences)) for i in found] == [("negative", 1, 1), ("more", None, 0)]


# ---- additivity without false alarms -------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "expected"), [
    # a suppressed part: the others are only checked not to exceed the total
    ([("2021", "F", np.nan, "Q"), ("2021", "M", 100.0, "A"), ("2021", "_T", 300.0, "A")], []),
    ([("2021", "F", np.nan, "Q"), ("2021", "M", 400.0, "A"), ("2021", "_T", 300.0, "A")],
     [("warning", "parts_exceed", 3)]),
    # a complete partition must add up
    ([("2021", "F", 150.0, "A"), ("2021", "M", 100.0, "A"), ("2021", "_T", 300.0, "A")],
     [("warning", "sum_mismatch", 3)]),
])
def test_parts_are_compared_with_their_total_only_when_complete(rows, expected):
    frame = obs(rows, columns=("time_period", "sex", "value", "obs_status"))
    assert checks(rules.issues(frame, "observations")) == expected


def test_percentages_are_not_added_up_and_age_bands_only_when_complete():
    shares = obs([("2021", "F", 60.0), ("2021", "M", 70.0), ("2021", "_T", 65.0)]).assign(measure="REM_COST",
                                                                                            unit_measure="PT")
    assert rules.issues(shares, "observations") == []
    ages = ["Y0T4", "Y5T9", "Y10T14", "Y_GE15", "_T"]
    complete = normalise_observations(pd.DataFrame({"ref_area": "NPL", "measure": "POP", "time_period": "2021",
                                                    "age": ages, "value": [10.0, 10.0, 10.0, 50.0, 100.0]}))
    assert checks(rules.issues(complete, "observations")) == [("warning", "sum_mismatch", 5)]
    partial = complete[complete["age"] != "Y0T4"].reset_index(drop=True)  # a gap: only "not more than"
    assert "sum_mismatch" not in {i.check for i in rules.issues(partial, "observations")}


# ---- workbook facts ---------------------------------------------------------------------------------------
def _book(fill) -> bytes:
    wb = openpyxl.Workbook()
    fill(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_sheet_visibility_from_the_workbook_and_from_calamine():
    def fill(wb):
        wb.active.title = "shown"
        wb.create_sheet("hidden").sheet_state = "hidden"
        wb.create_sheet("secret").sheet_state = "veryHidden"

    data = _book(fill)
    for ftype in ("xlsx", "xls"):  # "xls": the calamine path (.xls/.ods), which reads this workbook too
        facts = workbook_facts.facts(ftype, data)
        assert [facts.visibility(s) for s in ("shown", "hidden", "secret")] == ["visible", "hidden", "veryHidden"]
    assert workbook_facts.facts("csv", b"a,b\n").visibility("") == "visible"


def test_formulas_are_found_in_sheets_with_a_namespace_prefix_and_tables_without_empty_cells_are_not_scanned(
        monkeypatch):
    import re
    import zipfile

    data = (BAD / "formula_without_value.xlsx").read_bytes()
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            if name.startswith("xl/worksheets/"):  # <x:worksheet xmlns:x="..."><x:sheetData>...
                body = re.sub(rb"<(/?)(\w+)([\s>/])", rb"<\1x:\2\3", body.replace(b"<?xml", b"<?XML"), flags=0)
                body = body.replace(b"<?XML", b"<?xml").replace(b'xmlns="', b'xmlns:x="')
            dst.writestr(name, body)
    facts = workbook_facts.facts("xlsx", out.getvalue())
    assert facts.formulas_without_value("data") == {4: {3: "D4"}}

    def unexpected(sheet):
        raise AssertionError("scanned")

    full = upload(BAD / "hidden_data_sheet.xlsx")  # a table without an empty cell
    book_facts = workbook_facts.facts("xlsx", full.data)
    monkeypatch.setattr(book_facts, "formulas_without_value", unexpected)
    from mmicd.ingest import detect
    from mmicd.io import open_book

    raw = detect(open_book(full.name, full.data, "sha-full"))[0]
    assert [key for _, key, _ in workbook_facts.check_table(book_facts, raw, None)] == ["very_hidden_sheet"]


def test_formula_without_result_in_a_template_and_in_microdata():
    from mmicd import templates

    filled = pd.DataFrame({"ref_area": ["SEN"] * 3, "time_period": ["2013"] * 3, "sex": ["F", "M", "_T"],
                           "age": ["_T"] * 3, "migrant_status": ["_T"] * 3, "counterpart_area": ["_T"] * 3,
                           "value": [1200, 1300, 2500], "obs_status": ["A"] * 3})
    wb = openpyxl.load_workbook(io.BytesIO(templates.build_template("census", "en", filled)))
    ws = wb["data"]
    col = templates.COLUMNS["census"].index("value") + 1
    ws.cell(row=4, column=col, value=f"={ws.cell(row=2, column=col).coordinate}+{ws.cell(row=3, column=col).coordinate}")
    buf = io.BytesIO()
    wb.save(buf)
    prep = prepare([Upload("census.xlsx", buf.getvalue())])  # the template has no _cno: found by its row
    assert [(i.check, i.sheet, i.row, i.column) for i in prep.issues] == [("formula_no_value", "data", 4, "value")]

    def persons(wb):
        ws = wb.active
        ws.title = "persons"
        for r in (["country", "year", "sex", "age", "weight"], ["NPL", 2021, "F", 30, 1.5], ["NPL", 2021, "M", 40, "=E2*2"]):
            ws.append(r)

    prep = prepare([Upload("lfs.xlsx", _book(persons))], kind="lfs")
    assert ("formula_no_value", "persons", 3, "weight") in [(i.check, i.sheet, i.row, i.column) for i in prep.issues]


# ---- renderers ---------------------------------------------------------------------------------------------
def test_cli_nests_consequences_in_json_and_indents_them_in_text(capsys, tmp_path, monkeypatch):
    from mmicd.cli import main

    monkeypatch.setenv("MMICD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    path = str(BAD / "text_knock_on.xlsx")
    assert main(["ingest", path, "--dry-run", "--json"]) == 2
    (issue,) = json.loads(capsys.readouterr().out)["issues"]
    assert issue["check"] == "not_a_number" and issue["row"] == 5
    assert [(c["check"], c["row"], c["column"], c["consequences"]) for c in issue["consequences"]] == \
        [("jump", 8, "value", [])]
    assert main(["ingest", path, "--dry-run"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("Error: text_knock_on.xlsx, data, row 5, value:")
    assert lines[1].startswith("    ↳ consequence of the problem above: Warning: text_knock_on.xlsx, data, row 8, value:")


def test_the_upload_page_lists_consequences_under_their_cause(app_env):
    from streamlit.testing.v1 import AppTest

    from mmicd.ui.upload import issues_frame

    AppTest.from_string("import streamlit as st").run()  # tr() needs a session
    frame = issues_frame(prepare([upload(BAD / "text_knock_on.xlsx")]).issues, "en")
    assert frame["level"].tolist() == ["error", "error"]  # filtered with their cause
    assert frame["Level"].tolist() == ["Error", "↳ Warning"]
    assert frame["Problem"].iloc[1].startswith("↳ consequence of the problem above: The value 12,000")
