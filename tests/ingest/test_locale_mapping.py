"""CSV locales, encodings, title/unit/footnote rows, synonyms and value recoding, mapping profiles."""

from __future__ import annotations

import pytest

from mmicd.clean.mapping import MappingProfile, age_code, suggest_columns
from mmicd.ingest import Upload, prepare
from mmicd.io.read import parse_numbers
from tests.ingest.conftest import GOOD, upload


@pytest.mark.parametrize(("name", "area", "female", "total", "fractions"), [
    ("census_fr.csv", "SEN", 1_234_567.0, 2_434_567.5, [3, 4]),
    ("census_es.csv", "ECU", 1_234_567.0, 2_434_567.5, [3, 4]),
    ("census_latin1.csv", "CIV", 12.5, None, [2, 3]),
    ("census_bom.csv", "NPL", 1_234.0, None, []),
    ("census_titled.xlsx", "NPL", 1_234_500.0, 2_434_500.0, []),  # "(thousands)" in a title row
])
def test_locale_variants(name, area, female, total, fractions):
    prep = prepare([upload(GOOD / name)])
    # decimals are read; counts of persons with a fraction (1 200 000,5) are warned at their cells
    assert prep.ok and [(i.check, i.row) for i in prep.issues] == [("fraction", r) for r in fractions], prep.issues
    frame = prep.datasets[0].frame
    assert set(frame["ref_area"]) == {area}
    assert frame.loc[frame.sex == "F", "value"].iloc[0] == female
    if total is not None:
        assert frame.loc[frame.sex == "_T", "value"].iloc[0] == total


def test_titled_workbook_keeps_its_unit_and_drops_the_footnote():
    d = prepare([upload(GOOD / "census_titled.xlsx")]).datasets[0]
    assert d.rows == 3 and set(d.frame["unit_mult"]) == {3} and d.sheet == "data"


@pytest.mark.parametrize(("text", "values", "status", "bad"), [
    (["1 234,5", "1.234,5", "..", "~", "x", "abc", ""], [1234.5, 1234.5, None, None, None, None, None],
     [None, None, "M", "Q", "M", None, "M"], [False, False, False, False, False, True, False]),
])
def test_parse_numbers_with_decimal_comma(text, values, status, bad):
    import pandas as pd

    v, s, b = parse_numbers(pd.Series(text), ",")
    assert [None if pd.isna(x) else x for x in v] == values
    assert [None if pd.isna(x) else x for x in s] == status
    assert b.tolist() == bad


def test_synonyms_in_three_languages_and_harmonised_microdata():
    assert suggest_columns(["Pays", "Année", "Sexe", "Valeur"]) == {
        "ref_area": "Pays", "time_period": "Année", "sex": "Sexe", "value": "Valeur"}
    assert suggest_columns(["país", "año", "sexo", "edad", "factor_expansion"]) == {
        "ref_area": "país", "time_period": "año", "sex": "sexo", "age": "edad", "weight": "factor_expansion"}
    got = suggest_columns(["ilo_sex", "ilo_age", "ilo_wgt", "ilo_lfs"])
    assert got == {"sex": "ilo_sex", "age": "ilo_age", "weight": "ilo_wgt", "labour_status": "ilo_lfs"}
    got = suggest_columns(["male", "age", "lstatus", "weight"])
    assert got == {"sex": "male", "age": "age", "labour_status": "lstatus", "weight": "weight"}
    got = suggest_columns(["SEX", "AGE", "NATIVITY", "EMPSTAT", "PERWT", "STRATA", "SERIAL"])
    assert got == {"sex": "SEX", "age": "AGE", "migrant_status": "NATIVITY", "labour_status": "EMPSTAT",
                   "weight": "PERWT", "stratum": "STRATA", "psu": "SERIAL"}
    assert suggest_columns(["poids", "fexp"])["weight"] == "poids"


@pytest.mark.parametrize(("label", "code"), [
    ("15-24", "Y15T24"), ("65+", "Y_GE65"), ("Y15-24", "Y15T24"), ("AGE_YTHADULT_YGE15", "Y_GE15"),
    ("15 à 24 ans", "Y15T24"), ("65 y más", "Y_GE65"), ("Total", "_T"), ("100+", "Y_GE100"), ("12-13", None),
])
def test_age_labels(label, code):
    assert age_code(label) == code


def test_ipums_microdata_is_recoded():
    prep = prepare([upload(GOOD / "ipums_microdata.csv")])
    assert prep.ok, prep.issues
    d = prep.datasets[0]
    assert d.layout == "microdata" and d.form.value == "microdata" and d.meta.kind.value == "lfs"
    f = d.frame
    assert f["sex"].tolist() == ["M", "F", "F"]
    assert f["migrant_status"].tolist() == ["MS_NOMIGRANT", "MS_MIGRANT", "MS_NOMIGRANT"]
    assert f["labour_status"].tolist() == ["EMP", "INA", "UNE"]
    assert f["ref_area"].unique().tolist() == ["NPL"]  # M49 524
    assert f["age"].tolist() == [34, 31, 7] and f["weight"].tolist() == [10.5, 10.5, 12.0]
    assert f["stratum"].tolist() == ["11", "11", "12"] and f["psu"].tolist() == ["1001", "1001", "1002"]


def test_mapping_profile_round_trip_and_use():
    body = b"Land;Jahr;Geschlecht;Anzahl\nNepal;2021;w;10\nNepal;2021;m;12\n"
    assert not prepare([Upload("de.csv", body)]).ok  # German headers: no synonyms
    profile = MappingProfile(kind="census", columns={"ref_area": "Land", "time_period": "Jahr", "sex": "Geschlecht",
                                                     "value": "Anzahl"},
                             values={"sex": {"w": "F", "m": "M"}})
    again = MappingProfile.from_yaml(profile.to_yaml())
    assert again == profile
    prep = prepare([Upload("de.csv", body)], mapping=again)
    assert prep.ok, prep.issues
    assert prep.datasets[0].frame["sex"].tolist() == ["F", "M"]
    assert prep.datasets[0].mapping == again


def test_mapping_profile_rejects_unknown_keys():
    with pytest.raises(ValueError):
        MappingProfile.from_yaml("kind: census\ncolumns: {}\ncolour: red\n")


def test_official_fixtures():
    wdi = prepare([upload(GOOD / "wdi_download.csv")])
    assert wdi.ok and wdi.datasets[0].layout == "wdi"
    f = wdi.datasets[0].frame
    gdp = f[(f.measure == "GDP") & (f.time_period == "2020")]
    assert gdp["obs_status"].iloc[0] == "M" and gdp["value"].isna().all()  # ".." is missing, not zero
    assert [i.level for i in wdi.issues] == ["info"]  # the % of GDP series is not a stored measure
    ilo = prepare([upload(GOOD / "ilostat_bulk.csv")])
    assert ilo.ok and ilo.datasets[0].layout == "ilostat"
    f = ilo.datasets[0].frame
    emp = f[(f.labour_status == "EMP") & (f.sex == "F")]
    assert emp["value"].iloc[0] == pytest.approx(2_900_100) and emp["age"].iloc[0] == "Y_GE15"
    rpw = prepare([upload(GOOD / "rpw_export.csv")])
    assert rpw.ok and rpw.datasets[0].layout == "rpw"
    f = rpw.datasets[0].frame
    mex = f[(f.ref_area == "MEX") & (f.counterpart_area == "USA")]
    assert mex["value"].iloc[0] == 5.0 and mex["time_period"].iloc[0] == "2023-Q1"  # mean of 4 % and 6 %
    assert set(f["measure"]) == {"REM_COST"} and set(f["unit_measure"]) == {"PT"}
