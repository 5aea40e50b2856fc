"""Upload templates: every kind in every language opens, has its drop-downs and its marker."""

from __future__ import annotations

import io

import openpyxl
import pytest

from mmicd import codes
from mmicd.config import LANGUAGES
from mmicd.i18n import t
from mmicd.model import MICRODATA_COLUMNS
from mmicd.templates import (
    BREAKDOWNS,
    COLUMNS,
    MEASURES,
    STORED_KIND,
    TEMPLATE_KINDS,
    TemplateError,
    build_template,
    template_filename,
)

CASES = [(kind, lang) for kind in TEMPLATE_KINDS for lang in LANGUAGES]


def open_template(kind: str, lang: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(build_template(kind, lang)))


def validations(ws) -> dict[str, object]:
    """Data column id -> its data validation."""
    header = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            letter = rng.coord.split(":")[0].rstrip("0123456789")
            assert rng.min_row == 2 and rng.max_row == 1_048_576
            out[header[letter]] = dv
    return out


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_template_structure(kind, lang):
    wb = open_template(kind, lang)
    assert wb.sheetnames == ["data", t("upload.tpl.sheet_instructions", lang), "codes", "_mmicd"]
    meta = wb["_mmicd"]
    assert meta.sheet_state == "hidden"
    assert [meta.cell(r, 1).value for r in range(1, 5)] == ["mmicd-template", STORED_KIND[kind], "1", lang]
    data = wb["data"]
    assert [c.value for c in data[1]] == COLUMNS[kind]
    assert data.max_row == 1  # empty: data start in row 2
    assert all(c.comment is not None and c.comment.text for c in data[1])


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_code_columns_have_drop_downs_fed_by_the_codes_sheet(kind, lang):
    wb = open_template(kind, lang)
    dvs = validations(wb["data"])
    code_sheet = wb["codes"]
    expected = {"ref_area", "sex", "migrant_status"} | ({"labour_status"} if kind == "lfs" else {"obs_status"})
    if kind == "remittances":
        expected = {"ref_area", "measure", "counterpart_area", "unit_mult", "obs_status"}
    elif kind in MEASURES:  # administrative templates: every code column of theirs has a list
        expected = {c for c in COLUMNS[kind] if c not in ("time_period", "value", "subdivision")}
    lists = {col for col, dv in dvs.items() if dv.type == "list"}
    assert expected <= lists
    for col in lists:
        formula = dvs[col].formula1
        assert formula.startswith("codes!$")
        letter = formula.split("$")[1]
        listed = [c.value for c in code_sheet[letter][1:] if c.value is not None]
        assert code_sheet[f"{letter}1"].value == col
        assert formula.endswith(f"${len(listed) + 1}")
        if col == "ref_area":
            assert set(listed) == set(codes.country_codes())
        elif col == "sex":
            assert set(listed) <= codes.codes("sex") and {"F", "M"} <= set(listed)
        elif col == "measure":
            assert listed == [m for m in MEASURES[kind] if m in codes.codes("measure")]
            if kind == "remittances":
                assert listed[:3] == ["REM_IN", "REM_OUT", "GDP"]
            assert set(listed) <= codes.codes("measure")
        elif col == "breakdown":
            assert listed == list(BREAKDOWNS[kind]) and listed[0] == "_T"
            assert all(codes.breakdown_ok(b) for b in listed)
        elif col == "unit_mult":
            assert listed == ["0", "3", "6", "9"]
        elif col == "counterpart_area":
            assert listed[:2] == ["_T", "OOO"] and set(listed[2:]) == set(codes.country_codes())
        else:
            assert set(listed) <= codes.codes(col) | {"_T"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_codes_sheet_labels_are_in_the_template_language(lang):
    wb = open_template("census", lang)
    sheet = wb["codes"]
    pairs = {}
    for col in range(1, sheet.max_column + 1, 2):
        name = sheet.cell(1, col).value
        pairs[name] = {sheet.cell(r, col).value: sheet.cell(r, col + 1).value for r in range(2, sheet.max_row + 1)
                       if sheet.cell(r, col).value}
    assert pairs["sex"]["F"] == {"en": "Female", "fr": "Femmes", "es": "Mujeres"}[lang]
    assert pairs["ref_area"]["NPL"] == {"en": "Nepal", "fr": "Népal", "es": "Nepal"}[lang]
    assert pairs["ref_area"]["DEU"] == {"en": "Germany", "fr": "Allemagne", "es": "Alemania"}[lang]
    assert pairs["age"]["Y_GE65"] == {"en": "65+", "fr": "65 ans et +", "es": "65 años y más"}[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_instructions_explain_every_column_in_the_language(lang):
    for kind in TEMPLATE_KINDS:
        wb = open_template(kind, lang)
        sheet = wb[t("upload.tpl.sheet_instructions", lang)]
        text = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
        assert t(f"upload.tpl.{kind}.title", lang) in text
        for col in COLUMNS[kind]:
            assert col in text
            assert t(f"upload.tpl.{kind}.{col}", lang) in text
    # the instructions really differ between languages
    assert t("upload.tpl.rule_missing", "fr") != t("upload.tpl.rule_missing", "en")


ADMIN_EXPECTED = {  # what each administrative template offers (issue #13)
    "flows": ({"IMM", "EMI"}, {"CRITERION:RESIDENCE", "CRITERION:CITIZENSHIP", "CRITERION:BIRTH"}, "migration_flows"),
    "refugees": ({"REFUG", "ASY_SEEK", "ASY_APP", "ASY_DEC", "RESETTLE", "RET_REFUG"},
                 {"OUTCOME:REC", "OUTCOME:COMP", "OUTCOME:REJ", "OUTCOME:CLOSED"}, "refugees"),
    "returns": ({"RET_MIG", "RET_REFUG"}, set(), "migration_flows"),
    "labour": ({"DEPLOY", "PERMIT"}, {f"OCCUPATION:{c}" for c in "0123456789"}, "labour_migration"),
    "border": ({"ARR", "DEP"}, {"RESIDENCE:RES", "RESIDENCE:NONRES"}, "border_movements"),
}


@pytest.mark.parametrize("kind", sorted(ADMIN_EXPECTED))
def test_admin_templates_offer_the_measures_and_breakdowns_of_their_kind(kind):
    measures, breakdowns, stored = ADMIN_EXPECTED[kind]
    assert set(MEASURES[kind]) == measures and STORED_KIND[kind] == stored
    assert set(BREAKDOWNS.get(kind, ("_T",))) - {"_T"} == breakdowns
    table = codes.codelist("measure")
    # the measures are of the template's stored kind, except returns (one file, two kinds)
    assert {table.at[m, "kind"] for m in measures} == ({"migration_flows", "refugees"} if kind == "returns" else {stored})
    assert ("breakdown" in COLUMNS[kind]) == bool(breakdowns)
    assert ("migrant_status" in COLUMNS[kind]) == (kind in ("flows", "border"))  # coverage / nationals-foreigners


@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_instructions_say_the_areas_periods_and_the_occupation_list(lang):
    wb = open_template("labour", lang)
    text = {str(c.value) for row in wb[t("upload.tpl.sheet_instructions", lang)].iter_rows() for c in row if c.value}
    assert t("upload.tpl.rule_occupation", lang) in text and t("upload.tpl.rule_periods", lang) in text
    occupations = {wb["codes"].cell(r, c).value: wb["codes"].cell(r, c + 1).value
                   for c in range(1, wb["codes"].max_column + 1, 2) if wb["codes"].cell(1, c).value == "breakdown"
                   for r in range(2, wb["codes"].max_row + 1)}
    assert occupations["OCCUPATION:9"].endswith({"en": "Elementary occupations", "fr": "Professions élémentaires",
                                                 "es": "Ocupaciones elementales"}[lang])
    wb = open_template("refugees", lang)
    text = {str(c.value) for row in wb[t("upload.tpl.sheet_instructions", lang)].iter_rows() for c in row if c.value}
    assert t("upload.tpl.rule_decisions", lang) in text and t("upload.tpl.rule_refugee_areas", lang) in text
    codes_sheet = wb["codes"]
    labels = {codes_sheet.cell(r, c).value: codes_sheet.cell(r, c + 1).value
              for c in range(1, codes_sheet.max_column + 1, 2) if codes_sheet.cell(1, c).value == "breakdown"
              for r in range(2, codes_sheet.max_row + 1)}
    assert labels["OUTCOME:REC"].endswith({"en": "Recognised (refugee status)", "fr": "Reconnus (statut de réfugié)",
                                           "es": "Reconocidos (estatuto de refugiado)"}[lang])


def test_lfs_template_has_the_microdata_columns_and_numeric_checks():
    wb = open_template("lfs", "en")
    assert [c.value for c in wb["data"][1]] == [*MICRODATA_COLUMNS, "subdivision"]
    dvs = validations(wb["data"])
    assert dvs["age"].type == "whole" and (dvs["age"].formula1, dvs["age"].formula2) == ("0", "130")
    assert dvs["weight"].type == "decimal" and dvs["weight"].operator == "greaterThan"


def test_template_is_byte_stable_and_named():
    assert build_template("stocks", "fr") == build_template("stocks", "fr")
    assert template_filename("stocks", "fr") == "mmicd-template-stocks-fr.xlsx"


def test_filled_template_writes_rows_under_the_header():
    import pandas as pd

    frame = pd.DataFrame({"ref_area": ["NPL"], "time_period": ["2021"], "sex": ["F"], "age": ["_T"],
                          "migrant_status": ["_T"], "counterpart_area": ["_T"], "value": [15018538]})
    wb = openpyxl.load_workbook(io.BytesIO(build_template("census", "en", frame, notes="SYNTHETIC")))
    data = wb["data"]
    assert [c.value for c in data[2]] == ["NPL", "2021", "F", "_T", "_T", "_T", 15018538, None, None]
    assert wb["instructions"]["A2"].value == "SYNTHETIC"


def test_unknown_kind_or_language_is_a_clear_error():
    with pytest.raises(TemplateError, match="census"):
        build_template("nonsense", "en")
    with pytest.raises(TemplateError, match="de"):
        build_template("census", "de")
