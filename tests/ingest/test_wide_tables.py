"""Wide national tables (mmicd.io.wide): header blocks of one or more rows, merged group labels,
sex / year / age / country columns, totals, footnotes."""

from __future__ import annotations

import pytest

from mmicd.io.wide import classify, detect, unpivot

CENSUS = [
    ["Table 3. Foreign-born population by age and sex, 2011 and 2021", "", "", "", "", "", ""],
    ["(thousands)", "", "", "", "", "", ""],
    ["", "2011", "", "", "2021", "", ""],          # merged over three columns each: only the first cell holds it
    ["Age group", "Total", "Male", "Female", "Total", "Male", "Female"],
    ["0-14", 10, 5, 5, 12, 6, 6],
    ["15-64", 100, 50, 50, 2000, 1000, 1000],
    ["65+", 20, 8, 12, 30, 10, 20],
    ["Total", 130, 63, 67, 2042, 1016, 1026],
    ["", None, None, None, None, None, None],
    ["Source: national census 2011 and 2021.", None, None, None, None, None, None],
    ["Note: 2021 provisional.", None, None, None, None, None, None],
]


@pytest.mark.parametrize(("label", "expected"), [
    ("2011", ("time_period", "2011")), ("Male", ("sex", "M")), ("Femmes", ("sex", "F")), ("Mujeres", ("sex", "F")),
    ("Total", ("_total", "_T")), ("Both sexes", ("_total", "_T")), ("Ambos sexos", ("_total", "_T")),
    ("15-19", ("age", "Y15T19")), ("65+", ("age", "Y_GE65")), ("Foreign-born", ("migrant_status", "MS_MIGRANT")),
    ("India", ("area", "IND")), ("Inde", ("area", "IND")), ("Age group", None), ("Table 3", None),
])
def test_labels_are_classified_by_dimension(label, expected):
    assert classify(label) == expected


@pytest.mark.parametrize("chosen_row", [2, 3])
def test_two_header_rows_with_merged_years_over_sexes(chosen_row):
    """Whichever of the two rows the header finder picked, the block is rows 3-4 of the sheet."""
    wide = unpivot(CENSUS, chosen_row)
    assert wide is not None and wide.header_rows == [2, 3]
    f = wide.frame.set_index(["age", "time_period", "sex"])
    assert len(f) == 4 * 6  # four data rows (the total row included) x six value columns
    assert f.loc[("15-64", "2021", "F"), "value"] == "1000"
    assert f.loc[("65+", "2011", "_T"), "value"] == "20"
    assert f.loc[("65+", "2011", "F"), "_col"] == "2011 / Female [D]"
    assert f.loc[("0-14", "2021", "M"), "_row"] == 5  # sheet row of the value, 1-based
    assert wide.columns["age"] == "Age group"
    assert set(wide.frame["_row"]) == {5, 6, 7, 8}  # the footnotes and the blank row are not data


def test_single_header_row_of_sexes_by_country_of_birth():
    grid = [["Country of birth", "Both sexes", "Men", "Women"], ["  India", 100, 60, 40], ["Inde", 1, 1, 0],
            ["World", 5, 3, 2]]
    wide = unpivot(grid, 0)
    f = wide.frame
    assert list(f.columns[:3]) == ["_row", "_col", "counterpart_area"]
    assert f.loc[(f["_row"] == 2) & (f["sex"] == "F"), "value"].item() == "40"
    assert f.loc[(f["_row"] == 2) & (f["sex"] == "_T"), "counterpart_area"].item() == "India"  # indent stripped
    assert wide.columns == {"counterpart_area": "Country of birth", "sex": "sex"}


def test_country_columns_become_origins_and_rows_keep_their_ids():
    grid = [["Year", "Sex", "India", "China", "Total"], ["2020", "F", 1, 2, 3], ["2020", "M", 4, 5, 9]]
    f = unpivot(grid, 0).frame
    assert set(f["counterpart_area"]) == {"IND", "CHN", "_T"}
    assert f.loc[(f["sex"] == "M") & (f["counterpart_area"] == "CHN"), "value"].item() == "5"


def test_country_columns_are_reporting_areas_when_rows_name_the_origin():
    grid = [["Country of birth", "Germany", "France"], ["India", 10, 20]]
    f = unpivot(grid, 0).frame
    assert set(f["ref_area"]) == {"DEU", "FRA"} and set(f["counterpart_area"]) == {"India"}


def test_a_data_row_with_numbers_that_look_like_years_is_not_taken_for_a_header():
    grid = [["Age group", "2019", "2020"], ["15-19", 2000, 2010], ["20-24", 1999, 2001]]
    wide = unpivot(grid, 0)
    assert wide.header_rows == [0]
    assert len(wide.frame) == 4


@pytest.mark.parametrize("grid", [
    [["Country", "Value"], ["India", 1]],                                  # tidy: one value column
    [["Note", "Something", "Else"], ["a", "b", "c"]],                      # no labels
    [["", "2011", "2021"], ["", 1, 2]],                                    # no id column
])
def test_tidy_or_unlabelled_tables_are_left_to_the_tidy_reader(grid):
    assert detect(grid, 0) is None


def test_conflicting_labels_in_one_column_are_not_guessed():
    grid = [["Age", "2011", "2021"], ["", "2015", "2016"], ["15-19", 1, 2]]
    assert detect(grid, 0) is None


# ---- through the whole ingestion: a real workbook with merged header cells --------------------------
def _census_workbook(first_age: str = "0-4", text_cell: bool = False) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Table 3"
    ws.append(["Table 3. Foreign-born population by age group and sex, censuses 2011 and 2021"])
    ws.append(["(thousands)"])
    ws.append(["Age group", "2011", None, None, "2021", None, None])
    ws.append([None, "Both sexes", "Male", "Female", "Both sexes", "Male", "Female"])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:D3")
    ws.merge_cells("E3:G3")
    ws.append([first_age, 10.5, 5.25, 5.25, 12, 5, 7])
    ws.append(["5-9", 9, 4, 5, 11, 5, 6])
    ws.append(["10-14", 8, 4, 4.5, 10, 5, 5])
    ws.append(["15-64", 100, 48, 52, "n/a" if not text_cell else "about 200", 95, 105])
    ws.append(["65+", 20, 8, 12, 30, 10, 20])
    ws.append([])
    ws.append(["Source: national census."])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_census_workbook_with_merged_headers_loads_long_and_scaled():
    from mmicd.ingest import Upload, prepare

    prep = prepare([Upload("census.xlsx", _census_workbook())], kind="census", country="NPL", source="NSO",
                   edition="2021")
    assert prep.ok, [i.message for i in prep.issues if i.level == "error"]
    (d,) = prep.datasets
    assert d.layout == "table" and d.rows == 5 * 6
    f = d.frame.set_index(["time_period", "sex", "age"])
    assert f.loc[("2011", "F", "Y0T4"), "value"] == 5_250  # thousands from the unit row
    assert f.loc[("2021", "_T", "Y_GE65"), "value"] == 30_000
    missing = f.loc[("2021", "_T", "Y15T64")]
    assert missing["obs_status"] == "M" and missing["value"] != missing["value"]  # "n/a": missing, not zero
    assert set(f.reset_index()["ref_area"]) == {"NPL"}
    # 10-14 in 2011: 4 + 4.5 = 8.5 thousand against a total of 8, within the rounding of two parts
    warned = {(i.row, i.column) for i in prep.issues if i.level == "warning"}
    assert (7, "2011 / Both sexes [B]") in warned


def test_text_in_a_wide_value_cell_names_its_cell_and_the_workbook_marks_it():
    import io

    from openpyxl import load_workbook

    from mmicd.ingest import Upload, annotate, prepare

    up = Upload("census.xlsx", _census_workbook(text_cell=True))
    prep = prepare([up], kind="census", country="NPL", source="NSO", edition="2021")
    errors = [i for i in prep.issues if i.level == "error"]
    assert len(errors) == 1 and not prep.ok
    assert (errors[0].sheet, errors[0].row, errors[0].column, errors[0].value) == (
        "Table 3", 8, "2021 / Both sexes [E]", "about 200")
    ws = load_workbook(io.BytesIO(annotate(up, prep.issues)))["Table 3"]
    assert ws["E8"].comment is not None and "about 200" in ws["E8"].comment.text
    assert ws["A8"].comment is None


def test_an_unknown_age_label_is_reported_once_for_its_cell():
    from mmicd.ingest import Upload, prepare

    prep = prepare([Upload("census.xlsx", _census_workbook(first_age="0-14 years old-ish"))], kind="census",
                   country="NPL", source="NSO", edition="2021")
    errors = [(i.row, i.column, i.value) for i in prep.issues if i.level == "error"]
    assert errors == [(5, "Age group", "0-14 years old-ish")]


@pytest.mark.parametrize(("label", "code"), [("0-14", "Y0T14"), ("Under 15", "Y0T14"), ("Moins de 15 ans", "Y0T14"),
                                             ("Menos de 15 años", "Y0T14"), ("under 5", "Y0T4"), ("Y_LT15", "Y0T14")])
def test_the_children_group_is_a_broad_age_group(label, code):
    from mmicd.clean.mapping import age_code

    assert age_code(label) == code


def test_a_census_with_children_working_age_and_elderly_groups_loads():
    """The UN dependency groups 0-14, 15-64, 65+ are a complete set of bands, no gap, no overlap."""
    from mmicd.ingest import Upload, prepare

    grid_csv = ("Year;Age group;Both sexes;Male;Female\n2021;0-14;900;460;440\n2021;15-64;2000;980;1020\n"
                "2021;65+;300;140;160\n2021;Total;3200;1580;1620\n")
    prep = prepare([Upload("dependency.csv", grid_csv.encode())], kind="census", country="NPL", source="NSO",
                   edition="2021")
    assert prep.ok, [i.message for i in prep.issues]
    f = prep.datasets[0].frame.set_index(["age", "sex"])["value"]
    assert f[("Y0T14", "F")] == 440 and f[("_T", "_T")] == 3200


def test_the_reference_year_comes_from_the_title_when_no_column_gives_it():
    import io

    from openpyxl import Workbook

    from mmicd.ingest import Upload, prepare

    wb = Workbook()
    ws = wb.active
    ws.append(["Table 5. Foreign-born population by country of birth and sex, Census 2021"])
    ws.append(["Country of birth", "Both sexes", "Male", "Female"])
    ws.append(["India", 573820, 150000, 423820])
    ws.append(["China", 4000, 2500, 1500])
    buf = io.BytesIO()
    wb.save(buf)
    prep = prepare([Upload("origins.xlsx", buf.getvalue())], kind="census", country="NPL", source="CBS")
    assert prep.ok, [i.message for i in prep.issues]
    (d,) = prep.datasets
    assert set(d.frame["time_period"]) == {"2021"} and d.years == ["2021"]
    assert d.frame.set_index(["counterpart_area", "sex"]).loc[("IND", "F"), "value"] == 423820
    infos = [i.message for i in prep.issues if i.level == "info"]
    assert infos == ["No year column: the reference year 2021 is taken from the title “Table 5. Foreign-born "
                     "population by country of birth and sex, Census 2021”."]


def test_a_title_with_two_years_is_not_guessed_from():
    from mmicd.ingest import Upload, prepare

    csv = "Population by sex, censuses 2011 and 2021\nCountry;Sex;Value\nNepal;F;10\nNepal;M;12\n"
    prep = prepare([Upload("two.csv", csv.encode())], kind="census")
    assert not prep.ok and not prep.datasets
    assert "no_time_period" in [i.check for i in prep.issues if i.level == "error"]
