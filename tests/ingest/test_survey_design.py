"""Survey design variables recognised by their common names (IPUMS, DHS, ILO, national), never guessed
in silence: the ingestion says which column is the PSU, the stratum and the weight, and what is missing."""

from __future__ import annotations

import pytest

from mmicd.clean.mapping import suggest_columns
from mmicd.ingest import Upload, prepare
from tests.fixtures import survey_design as sd

IPUMS_HEADERS = ["COUNTRY", "YEAR", "SAMPLE", "SERIAL", "HHWT", "STRATA", "CLUSTER", "PERNUM", "PERWT", "SEX", "AGE",
                 "NATIVITY", "EMPSTAT"]


def test_an_explicit_cluster_wins_over_the_household_serial_that_comes_first():
    """The cause of the IPUMS miss: SERIAL (a household id, listed among the PSU names) comes before
    CLUSTER in every IPUMS extract, and the first matching header won."""
    got = suggest_columns(IPUMS_HEADERS)
    assert got["psu"] == "CLUSTER" and got["stratum"] == "STRATA" and got["weight"] == "PERWT"


def test_ipums_extract_is_read_with_its_cluster_and_strata():
    md = sd.records(600)
    data, expected = sd.ipums(md)
    prep = prepare([Upload("ipums.csv", data)])
    assert prep.ok, prep.issues
    d = prep.datasets[0]
    assert d.mapping.columns["psu"] == "CLUSTER" and d.mapping.columns["stratum"] == "STRATA"
    assert d.frame["psu"].tolist() == expected["psu"].tolist()
    assert d.frame["stratum"].tolist() == expected["stratum"].tolist()
    assert d.frame["psu"].nunique() == md["psu"].nunique() < md["household"].nunique()


def test_without_a_cluster_the_household_serial_is_the_psu_and_the_ingestion_says_so():
    md = sd.records(300)
    data, expected = sd.ipums(md, cluster=False)
    prep = prepare([Upload("ipums.csv", data)])
    d = prep.datasets[0]
    assert d.mapping.columns["psu"] == "SERIAL"
    assert d.frame["psu"].tolist() == expected["psu"].tolist() == md["household"].astype(str).tolist()
    said = [i for i in prep.issues if i.level == "info" and i.column == "SERIAL"]
    assert len(said) == 1 and "household number in column SERIAL" in said[0].message
    assert not [i for i in prep.issues if i.level != "info"], prep.issues


def test_dhs_names_v021_v022_and_v005_divided_by_a_million():
    md = sd.records(300)
    data, expected = sd.dhs(md)
    prep = prepare([Upload("dhs.csv", data)])
    assert prep.ok, prep.issues
    d = prep.datasets[0]
    # v022 (strata for sampling errors) is preferred to v023, v021 (PSU) to v001 (cluster number)
    assert {k: d.mapping.columns[k] for k in ("weight", "stratum", "psu")} == \
        {"weight": "v005", "stratum": "v022", "psu": "v021"}
    assert d.frame["weight"].tolist() == expected["weight"].tolist()
    assert d.frame["weight"].sum() == pytest.approx(md["weight"].sum(), rel=1e-6)
    assert d.frame["stratum"].tolist() == expected["stratum"].tolist()
    assert d.frame["psu"].tolist() == expected["psu"].tolist()
    assert d.frame["sex"].isin(["F", "M", "_U"]).all() and d.frame["labour_status"].isin(["EMP", "UNE", "INA", "_U"]).all()
    said = [i for i in prep.issues if i.column == "v005"]
    assert len(said) == 1 and said[0].level == "info" and "divided by 1,000,000" in said[0].message
    assert [i.level for i in prep.issues] == ["info"]


@pytest.mark.parametrize(("psu", "stratum"), [
    ("ilo_psu", "ilo_strata"), ("upm", "estrato"), ("conglomerado", "estrato"), ("grappe", "strate"),
    ("cluster", "strata"), ("PSU", "Stratum"), ("hv021", "hv023"),
])
def test_design_names_are_recognised(psu, stratum):
    md = sd.records(200)
    prep = prepare([Upload("survey.csv", sd.with_psu_name(md, psu, stratum))])
    assert prep.ok and prep.issues == [], prep.issues
    d = prep.datasets[0]
    assert d.mapping.columns["psu"] == psu and d.mapping.columns["stratum"] == stratum
    assert d.frame["psu"].tolist() == md["psu"].tolist() and d.frame["stratum"].tolist() == md["stratum"].tolist()


def test_a_survey_without_psu_is_stored_with_a_warning_in_every_language():
    md = sd.records(200)
    data, _ = sd.no_psu(md)
    for lang, words in (("en", "simple random sampling"), ("fr", "sondage aléatoire simple"),
                        ("es", "muestreo aleatorio simple")):
        prep = prepare([Upload("enemdu.csv", data)], lang=lang)
        assert prep.ok
        assert [(i.level, words in i.message) for i in prep.issues] == [("warning", True)], prep.issues
    assert prep.datasets[0].mapping.columns["stratum"] == "estrato" and "psu" not in prep.datasets[0].mapping.columns
