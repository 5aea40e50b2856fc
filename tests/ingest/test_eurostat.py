"""Eurostat's files, read natively: SDMX-CSV from its dissemination API (lower-case dimension ids,
one measure per dataflow, OBS_FLAG letters, geo codes EL/UK, EU aggregates, the asyl_app and
agedef dimensions) and the TSV of its bulk downloads (``freq,...,geo\\TIME_PERIOD``, flags glued to
the values, ``:`` for missing).

Provenance: the MIGR_RESFIRST and LFSA_ARGAN lines are the SDMX-CSV wire format of live queries
captured on 2026-06-19 and kept in a public repository's test fixtures (an Eurostat client's
``eurostat_test.go``): France's first residence permits 2021 = 287,179 and 2022 = 326,948. The
MIGR_ASYAPPCTZM line follows the same API's answer (Ukrainian applicants in Austria, 2021-12) as
published in another public repository's documentation; the other figures are built here."""

from __future__ import annotations

import pytest

from mmicd.ingest import Upload, prepare

RESFIRST = """DATAFLOW,LAST UPDATE,freq,reason,citizen,duration,unit,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS
ESTAT:MIGR_RESFIRST(1.0),22/05/26 11:00:00,A,TOTAL,TOTAL,TOTAL,PER,FR,2021,287179,,
ESTAT:MIGR_RESFIRST(1.0),22/05/26 11:00:00,A,TOTAL,TOTAL,TOTAL,PER,FR,2022,326948,,
"""


def _one(name: str, body: str, **kw):
    prep = prepare([Upload(name, body.encode())], **kw)
    assert prep.ok, [(i.message, i.row, i.column) for i in prep.issues if i.level == "error"]
    assert len(prep.datasets) == 1, prep.datasets
    return prep, prep.datasets[0]


def test_first_residence_permits_from_the_api():
    prep, d = _one("resfirst.csv", RESFIRST)
    f = d.frame.set_index("time_period")
    assert f["value"].to_dict() == {"2021": 287179, "2022": 326948}
    assert set(f["measure"]) == {"RES_PERMIT"} and set(f["ref_area"]) == {"FRA"}
    assert d.meta.kind.value == "migration_flows" and d.meta.source == "Eurostat (migr_resfirst)"
    assert d.meta.edition == "2026-05-22"          # LAST UPDATE, day first


def test_a_dataflow_whose_measure_is_not_known_is_said_and_not_read():
    body = ("DATAFLOW,LAST UPDATE,freq,unit,sex,age,citizen,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
            "ESTAT:LFSA_ARGAN(1.0),11/06/26 23:00:00,A,PC,T,Y15-64,FOR,FR,2021,66.5,bd,\n"
            "ESTAT:LFSA_ARGAN(1.0),11/06/26 23:00:00,A,PC,T,Y15-64,FOR,FR,2022,66.6,d,\n")
    prep = prepare([Upload("argan.csv", body.encode())])
    assert not prep.ok and not prep.datasets
    assert any(i.check == "sdmx_unknown_dataflow" and "LFSA_ARGAN" in i.message for i in prep.issues)


def test_immigration_by_citizenship_with_flags_aggregates_and_other_units():
    head = "DATAFLOW,LAST UPDATE,freq,unit,citizen,agedef,age,sex,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
    flow = "ESTAT:MIGR_IMM1CTZ(1.0),27/03/2024 23:00:00,A"
    rows = [("NR", "FOR", "COMPLET", "TOTAL", "F", "EL", "2021", "20104", "p"),
            ("NR", "FOR", "COMPLET", "TOTAL", "M", "EL", "2021", "22000", "bp"),
            ("NR", "FOR", "COMPLET", "TOTAL", "T", "EL", "2021", "42104", "b"),
            ("NR", "UA", "COMPLET", "Y18-34", "T", "EL", "2021", "310", ""),
            ("NR", "NAT", "COMPLET", "TOTAL", "T", "EL", "2021", "15020", ""),
            ("NR", "EU27_2020_FOR", "COMPLET", "TOTAL", "T", "EL", "2021", "9000", ""),
            ("NR", "FOR", "REACH", "TOTAL", "T", "EL", "2021", "42500", ""),
            ("NR", "FOR", "COMPLET", "TOTAL", "T", "EU27_2020", "2021", "2265000", "e"),
            ("PC", "FOR", "COMPLET", "TOTAL", "T", "EL", "2021", "0.4", "")]
    body = head + "".join(f"{flow},{','.join(r)},\n" for r in rows)
    prep, d = _one("estat_migr_imm1ctz.csv", body)
    f = d.frame
    got = {(r.sex, r.age, r.migrant_status, r.counterpart_area): (r.value, r.obs_status) for r in f.itertuples()}
    assert set(f["ref_area"]) == {"GRC"} and set(f["measure"]) == {"IMM"}   # EL is Greece
    assert got == {("F", "_T", "MS_MIGRANT", "_T"): (20104, "P"), ("M", "_T", "MS_MIGRANT", "_T"): (22000, "P"),
                   ("_T", "_T", "MS_MIGRANT", "_T"): (42104, "A"), ("_T", "Y18T34", "_T", "UKR"): (310, "A"),
                   ("_T", "_T", "MS_NOMIGRANT", "_T"): (15020, "A")}
    assert d.meta.basis == "citizenship"
    said = {i.check: i for i in prep.issues}
    # EU groups of citizens and the EU aggregate are not areas; REACH is another age definition;
    # a percentage is not a count of immigrants; a break in series is said, not stored
    skipped = " ".join(i.message for i in prep.issues if i.check == "aggregates_skipped")
    assert "EU27_2020_FOR" in skipped and "EU27_2020." in skipped
    assert "REACH" in said["sdmx_other_dimension"].message
    assert "PC" in said["sdmx_other_unit"].message
    assert said["sdmx_flags"].message.startswith("2 values carry flags")


def test_asylum_applicants_keep_every_applicant_not_first_time_ones():
    head = "DATAFLOW,LAST UPDATE,freq,unit,citizen,sex,age,asyl_app,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG,CONF_STATUS\n"
    flow = "ESTAT:MIGR_ASYAPPCTZM(1.0),11/11/22 23:00:00,M,PER,UA"
    body = head + (f"{flow},F,Y18-34,ASY_APP,AT,2021-12,5,,\n{flow},F,Y18-34,NASY_APP,AT,2021-12,4,,\n"
                   f"{flow},M,Y18-34,ASY_APP,AT,2021-12,0,,\n")
    prep, d = _one("asylum.csv", body)
    f = d.frame
    assert f[["sex", "age", "counterpart_area", "time_period", "measure", "value"]].values.tolist() == [
        ["F", "Y18T34", "UKR", "2021-12", "ASY_APP", 5], ["M", "Y18T34", "UKR", "2021-12", "ASY_APP", 0]]
    assert d.meta.kind.value == "refugees"
    assert any(i.check == "sdmx_other_dimension" and "NASY_APP" in i.message for i in prep.issues)


TSV = ("freq,unit,citizen,agedef,age,sex,geo\\TIME_PERIOD\t2019 \t2020 \t2021 \n"
       "A,NR,FOR,COMPLET,TOTAL,T,BE\t150014 \t118681 \t139700 \n"
       "A,NR,FOR,COMPLET,TOTAL,F,BE\t73004 \t57829 \t66912 p\n"
       "A,NR,FOR,COMPLET,TOTAL,M,BE\t77010 \t60852 \t72788 p\n"
       "A,NR,FOR,COMPLET,TOTAL,T,DE\t886341 \t728606 \t: \n")


def test_the_tsv_of_bulk_downloads_gives_the_same_observations_as_sdmx_csv():
    prep, d = _one("estat_migr_imm1ctz.tsv", TSV)
    f = d.frame.set_index(["ref_area", "time_period", "sex"])
    assert f.loc[("BEL", "2021", "F"), "value"] == 66912 and f.loc[("BEL", "2021", "F"), "obs_status"] == "P"
    assert f.loc[("BEL", "2019", "_T"), "value"] == 150014 and f.loc[("BEL", "2019", "_T"), "obs_status"] == "A"
    assert f.loc[("DEU", "2021", "_T"), "obs_status"] == "M" and f.loc[("DEU", "2021", "_T"), "value"] != 0
    assert set(d.frame["measure"]) == {"IMM"} and set(d.frame["migrant_status"]) == {"MS_MIGRANT"}
    assert d.layout == "eurostat_tsv" and len(d.frame) == 12
    # the same figures written as SDMX-CSV
    rows = [(g, t, s, v) for g, t, s, v in (("BE", "2021", "F", "66912"), ("BE", "2019", "T", "150014"))]
    body = ("DATAFLOW,LAST UPDATE,freq,unit,citizen,agedef,age,sex,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n" +
            "".join(f"ESTAT:MIGR_IMM1CTZ(1.0),27/03/2024,A,NR,FOR,COMPLET,TOTAL,{s},{g},{t},{v},\n"
                    for g, t, s, v in rows))
    _, same = _one("imm.csv", body)
    for r in same.frame.itertuples():
        assert f.loc[(r.ref_area, r.time_period, r.sex), "value"] == r.value


@pytest.mark.parametrize("name", ["migr_imm1ctz.tsv", "estat_migr_imm1ctz.tsv"])
def test_the_dataflow_of_a_tsv_comes_from_its_name(name):
    _, d = _one(name, TSV)
    assert d.meta.source == "Eurostat (migr_imm1ctz)"
