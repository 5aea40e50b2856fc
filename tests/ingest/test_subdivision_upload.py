"""Uploads with a subnational area column (Province, District, Région ...): codes or names placed within
the upload's country, errors at their cells, sums checked against the national figure."""

import io

import numpy as np
import pandas as pd
import pytest

from mmicd.ingest import Upload, commit, prepare
from mmicd.templates import build_template

PROVINCES = ["Koshi", "NP-P2", "bagmati province", "Province No. 4", "P5", "Karnali", "Sudurpaschim"]
CODES = [f"NP-P{i}" for i in range(1, 8)]


def xlsx(frame: pd.DataFrame, title: str = "Census 2021: persons by province and sex") -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as writer:
        pd.DataFrame([[title]]).to_excel(writer, sheet_name="Table 3", index=False, header=False)
        frame.to_excel(writer, sheet_name="Table 3", index=False, startrow=2)
    return buf.getvalue()


def province_table(values_f, values_m, names=PROVINCES) -> pd.DataFrame:
    rows = [(n, 2021, s, v) for n, f, m in zip(names, values_f, values_m, strict=True) for s, v in (("F", f), ("M", m))]
    return pd.DataFrame(rows, columns=["Province", "Year", "Sex", "Persons"])


def test_a_census_table_by_province_is_stored_with_subdivision_codes():
    f = [100, 200, 300, 400, 500, 600, 700]
    m = [110, 210, 310, 410, 510, 610, 710]
    table = pd.concat([province_table(f, m),
                       pd.DataFrame([("Total", 2021, "F", sum(f)), ("Total", 2021, "M", sum(m))],
                                    columns=["Province", "Year", "Sex", "Persons"])])
    prep = prepare([Upload("provinces.xlsx", xlsx(table))], kind="census", country="NPL", source="Office")
    assert prep.ok, [i.message for i in prep.issues]
    frame = prep.datasets[0].frame
    # no duplicate rows: every province its own ref_area, the total row the country itself
    got = frame.set_index(["ref_area", "sex"])["value"]
    assert got[("NP-P3", "F")] == 300 and got[("NP-P7", "M")] == 710 and got[("NPL", "F")] == 2800
    assert sorted(set(frame["ref_area"])) == [*CODES, "NPL"]
    assert prep.datasets[0].meta.scope == "NPL"
    assert not [i for i in prep.issues if i.check == "subdivision_totals"]


def test_bad_province_cells_are_errors_naming_file_sheet_row_column_and_value():
    table = province_table([1] * 7, [1] * 7, names=["Koshi", "Gandakhi", "SN-DK", "NP-P4", "Nowhere", "Karnali",
                                                    "NP-P7"])
    prep = prepare([Upload("bad.xlsx", xlsx(table))], kind="census", country="NPL", source="Office")
    assert not prep.ok
    errors = {(i.file, i.sheet, i.row, i.column, i.value): i.message for i in prep.issues if i.level == "error"}
    # header on sheet row 3; "Gandakhi" (F and M) on rows 6 and 7, "SN-DK" on rows 8 and 9
    assert ("bad.xlsx", "Table 3", 6, "Province", "Gandakhi") in errors
    assert "Close names: Gandaki" in errors[("bad.xlsx", "Table 3", 6, "Province", "Gandakhi")]
    assert "subdivision of Senegal, not of Nepal" in errors[("bad.xlsx", "Table 3", 8, "Province", "SN-DK")]
    assert "not a subdivision of Nepal" in errors[("bad.xlsx", "Table 3", 12, "Province", "Nowhere")]
    assert {k[2] for k in errors} == {6, 7, 8, 9, 12, 13}
    # in French too
    prep = prepare([Upload("bad.xlsx", xlsx(table))], kind="census", country="NPL", source="Office", lang="fr")
    assert any("n’est pas une subdivision de Népal" in i.message and i.row == 12 for i in prep.issues)


def test_old_codes_are_read_for_the_years_they_were_valid():
    table = pd.DataFrame({"Région": ["Lorraine", "Champagne-Ardenne", "Lorraine"], "Année": [2010, 2010, 2020],
                          "Sexe": ["F", "F", "F"], "Valeur": [10, 20, 30]})
    prep = prepare([Upload("fr.csv", table.to_csv(index=False).encode())], kind="census", country="FRA",
                   source="Office")
    errors = [i for i in prep.issues if i.level == "error"]
    assert [(i.row, i.value) for i in errors] == [(4, "Lorraine")]
    assert "FR-M" in errors[0].message and "2016-01-01" in errors[0].message and "2020" in errors[0].message


def test_subdivisions_not_adding_up_to_the_national_total_are_told_with_difference_and_share(store):
    f = [100, 200, 300, 400, 500, 600, 700]     # sum 2800
    table = pd.concat([province_table(f, f), pd.DataFrame([("Nepal", 2021, "F", 3000)], columns=[
        "Province", "Year", "Sex", "Persons"])])
    prep = prepare([Upload("p.csv", table.to_csv(index=False).encode())], kind="census", country="NPL",
                   source="Office")
    warned = [i for i in prep.issues if i.check == "subdivision_totals"]
    assert len(warned) == 1 and prep.ok
    assert "2,800" in warned[0].message and "3,000" in warned[0].message and "-200" in warned[0].message
    assert "-6.7 %" in warned[0].message
    # no national row in the upload: the published national series is the reference
    national = pd.DataFrame({"Country": ["Nepal"], "Year": [2021], "Sex": ["M"], "Persons": [2900]})
    nat = prepare([Upload("n.csv", national.to_csv(index=False).encode())], kind="census", country="NPL",
                  source="National office")
    commit(nat, store, actor="test", publish=True)
    prep = prepare([Upload("p.csv", province_table(f, f).to_csv(index=False).encode())], kind="census",
                   country="NPL", source="Office", store=store)
    warned = [i for i in prep.issues if i.check == "subdivision_totals"]
    assert len(warned) == 1 and "published national figure (National office) is 2,900" in warned[0].message
    assert "-100" in warned[0].message and "-3.4 %" in warned[0].message


def test_the_census_template_takes_a_subdivision_column():
    data = pd.DataFrame({"ref_area": "NPL", "subdivision": ["Bagmati", "NP-P4", ""], "time_period": "2021",
                         "sex": "_T", "value": [5.0, 6.0, 11.0]})
    prep = prepare([Upload("t.xlsx", build_template("census", "en", data))], country="NPL", source="Office")
    assert prep.ok, [i.message for i in prep.issues]
    assert prep.datasets[0].frame.set_index("ref_area")["value"].to_dict() == {"NP-P3": 5.0, "NP-P4": 6.0,
                                                                             "NPL": 11.0}


def test_survey_records_with_a_province_column_keep_each_persons_province():
    rng = np.random.default_rng(1)
    n = 60
    records = pd.DataFrame({"province": rng.choice(["Koshi", "Madhesh", "NP-P3"], n), "year": 2023,
                            "sex": rng.choice(["F", "M"], n), "age": rng.integers(15, 70, n),
                            "migrant_status": "MS_NOMIGRANT", "labour_status": "EMP", "weight": 100.0,
                            "stratum": "S1", "psu": [f"P{i % 6}" for i in range(n)]})
    prep = prepare([Upload("lfs.csv", records.to_csv(index=False).encode())], kind="lfs", country="NPL",
                   source="Office")
    assert prep.ok, [i.message for i in prep.issues if i.level == "error"]
    got = prep.datasets[0].frame["ref_area"].astype(str)
    expected = records["province"].map({"Koshi": "NP-P1", "Madhesh": "NP-P2", "NP-P3": "NP-P3"})
    assert (got.to_numpy() == expected.to_numpy()).all()


@pytest.mark.parametrize("header", ["District", "Département", "Provincia", "admin1", "Región"])
def test_subnational_headers_are_recognised(header):
    from mmicd.clean.mapping import suggest_columns

    assert suggest_columns([header, "Year", "Value"]) == {"subdivision": header, "time_period": "Year",
                                                          "value": "Value"}
