"""Every deliberately broken file yields its exact issue (sheet, row, column) and stores nothing."""

from __future__ import annotations

import pytest

from mmicd.ingest import commit, prepare
from mmicd.issues import IssuesError
from tests.ingest.conftest import BAD, snapshot, upload

# file -> (level, sheet, row, column, value, words in the English message)
EXPECTED = {
    "renamed_binary.xlsx": ("error", None, None, None, None, "not a spreadsheet"),
    "no_table.csv": ("error", None, None, None, None, "No recognisable table"),
    "missing_value_column.csv": ("error", None, None, "value", None, "Required column 'value'"),
    "text_in_number.xlsx": ("error", "data", 3, "value", "abc", "not a number"),
    "lfs_text_in_age.xls": ("error", "persons", 27, "Age", "forty", "not a number"),
    "negative_count.csv": ("error", None, 3, "value", "-5", "Negative count"),
    "negative_weight.csv": ("error", None, 4, "weight", "-3", "must be positive"),
    "age_out_of_range.csv": ("error", None, 2, "age", "150", "outside 0–130"),
    "unknown_country.csv": ("error", None, 2, "country", "Atlantis", "Unknown country"),
    "unknown_sex_code.csv": ("error", None, 3, "sex", "Q", "Unknown code"),
    "duplicate_key.csv": ("error", None, 3, None, None, "same key as rows 2, 3"),
    "overlapping_ages.csv": ("error", None, 3, "age", "Y15T24", "overlaps"),
    "gapped_ages.csv": ("error", None, 3, "age", "Y10T14", "ages 5–9 are missing"),
    "share_out_of_range.csv": ("error", None, 3, "value", "150", "outside 0–100"),
    "sex_parts_not_total.csv": ("warning", None, 4, "value", "300", "parts by sex add up to 200"),
    "migrant_parts_not_total.csv": ("warning", None, 4, "value", "120", "parts by migrant_status add up to 100"),
    "jump.csv": ("warning", None, 3, "value", "50,000", "more than tenfold"),
    "equal_sexes.csv": ("warning", None, 2, "value", "5,000", "exactly equal"),
    "rounding.csv": ("warning", None, 4, "value", "2,002", "Rounding difference"),
    "lfs_no_psu.csv": ("warning", None, None, None, None, "standard errors will assume simple random sampling"),
    # never a silent wrong number
    "nan_in_value.csv": ("error", None, 2, "value", "NaN", "not a finite number"),
    "inf_in_value.csv": ("error", None, 5, "value", "inf", "not a finite number"),
    "year_out_of_range.csv": ("error", None, 3, "time_period", "2203", "outside 1900–"),
    "fractional_persons.csv": ("warning", None, 2, "value", "100.5", "count of persons with a fraction"),
    "parts_exceed_total.csv": ("warning", None, 3, "value", "500", "parts by sex given add up to 600, more than"),
    "origins_exceed_total.csv": ("warning", None, 4, "value", "500", "parts by counterpart_area given add up to 600"),
    "origins_not_total.csv": ("warning", None, 4, "value", "500", "parts by counterpart_area add up to 400, not"),
    "formula_without_value.xlsx": ("error", "data", 4, "value", None, "formula whose result was never saved"),
    "hidden_data_sheet.xlsx": ("warning", "data", None, None, "data", "very hidden sheet 'data'"),
    "text_knock_on.xlsx": ("error", "data", 5, "value", "1,2OO", "not a number"),
    # numbers (mmicd.io.numbers): what a column's own values, unit and locale cannot settle is refused
    "ambiguous_thousands.csv": ("error", None, 2, "value", "45.678", "45678 if '.' separates thousands, or 45.678"),
    "indian_grouping_with_points.csv": ("error", None, 2, "value", "12.34.567", "not a number"),
}
# file -> the knock-on issues nested under its one issue: (level, check, sheet, row, column, value)
CONSEQUENCES = {
    "text_knock_on.xlsx": [("warning", "jump", "data", 8, "value", "12,000")],
    # (the jump of the "inf" cell itself says nothing more than its error: dropped)
    "inf_in_value.csv": [("warning", "sum_mismatch", None, 7, "value", "2,350"),
                         ("warning", "jump", None, 8, "value", "1,200")],
}
# files whose problem is named at two cells: (row, column, value, words in the English message) each
TWO_CELLS = {
    "mixed_decimal_marks.csv": [(2, "value", "1,234.5", "only be read with '.' as decimal mark, but '1.234,5' (row 3)"),
                                (3, "value", "1.234,5", "only be read with ',' as decimal mark, but '1,234.5' (row 2)")],
    "count_two_conventions.csv": [(2, "value", "45.678", "whole only with ',' as decimal mark, but '1,234' (row 3)"),
                                  (3, "value", "1,234", "whole only with '.' as decimal mark, but '45.678' (row 2)")],
}


def test_every_bad_file_is_listed():
    assert {p.name for p in BAD.iterdir()} == set(EXPECTED) | set(TWO_CELLS)


@pytest.mark.parametrize("name", sorted(TWO_CELLS))
def test_bad_file_names_both_cells_and_stores_nothing(name, store):
    before = snapshot(store)
    prep = prepare([upload(BAD / name)], store=store)
    got = [(i.level, i.file, i.sheet, i.row, i.column, i.value) for i in prep.issues]
    assert got == [("error", name, None, row, column, value) for row, column, value, _ in TWO_CELLS[name]]
    for issue, (*_, words) in zip(prep.issues, TWO_CELLS[name], strict=True):
        assert words in issue.message
    with pytest.raises(IssuesError):
        commit(prep, store, actor="test")
    assert snapshot(store) == before


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_file_gives_its_issue_and_stores_nothing(name, store):
    level, sheet, row, column, value, words = EXPECTED[name]
    before = snapshot(store)
    prep = prepare([upload(BAD / name)], store=store)
    assert len(prep.issues) == 1, prep.issues
    issue = prep.issues[0]
    assert (issue.level, issue.file, issue.sheet, issue.row, issue.column, issue.value) == \
        (level, name, sheet, row, column, value)
    assert words in issue.message
    assert [(c.level, c.check, c.sheet, c.row, c.column, c.value) for c in issue.consequences] == \
        CONSEQUENCES.get(name, [])
    if level == "error":
        assert not prep.ok
        with pytest.raises(IssuesError):
            commit(prep, store, actor="test")
        assert snapshot(store) == before
    else:  # warnings are stored and shown
        assert prep.ok
        versions = commit(prep, store, actor="test")
        assert len(versions) == 1 and snapshot(store) != before


def test_messages_are_translated(store):
    fr = prepare([upload(BAD / "negative_count.csv")], lang="fr").issues[0].message
    es = prepare([upload(BAD / "negative_count.csv")], lang="es").issues[0].message
    assert fr.startswith("Effectif négatif") and es.startswith("Recuento negativo")


def test_all_problems_of_a_file_at_once():
    body = (b"ref_area,time_period,sex,value\nAtlantis,2021,F,1\nNPL,20x1,M,2\nNPL,2021,Q,abc\n"
            b"NPL,2021,F,-4\n")
    from mmicd.ingest import Upload

    issues = prepare([Upload("many.csv", body)]).issues
    found = {(i.row, i.column) for i in issues if i.level == "error"}
    assert {(2, "ref_area"), (3, "time_period"), (4, "sex"), (4, "value"), (5, "value")} <= found
