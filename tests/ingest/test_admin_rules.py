"""Bad administrative data (issue #13): small hand-built CSVs through ``prepare()``; each problem is an
issue of the right level, at the right cell (row as the file shows it, column as its header), with its
message (mmicd/rules/admin.py; negative counts by the rule ``negative`` of mmicd/rules/cells.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.i18n import t
from mmicd.ingest import Upload, prepare
from mmicd.rules import describe
from mmicd.templates import build_template


def _issues(name: str, text: str, **kw):
    prep = prepare([Upload(name, text.encode("utf-8"))], **kw)
    return prep, [i for i in prep.issues if i.level in ("error", "warning")]


# ---- negative counts ----------------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["ASY_APP", "IMM", "RET_MIG", "DEPLOY"])
def test_a_negative_count_of_persons_is_an_error_at_its_cell(measure):
    prep, found = _issues("neg.csv", f"country,year,measure,origin,value\n"
                                     f"Senegal,2023,{measure},Mali,-5\nSenegal,2023,{measure},Guinea,7\n")
    assert not prep.ok
    (issue,) = found
    assert (issue.level, issue.check, issue.row, issue.column, issue.value) == ("error", "negative", 2, "value", "-5")
    assert issue.message == t("ingest.issue.negative", "en", value="-5", column="value")


def test_net_migration_may_be_negative():
    prep, found = _issues("net.csv", "country,year,measure,value\nSenegal,2021,NET_MIG,-20000\n"
                                     "Senegal,2022,NET_MIG,-18000\n")
    assert prep.ok and found == []
    assert prep.datasets[0].frame["value"].tolist() == [-20000, -18000]


# ---- origin = country of asylum -------------------------------------------------------------------
def test_origin_equal_to_the_country_of_asylum_is_a_warning_naming_the_cell():
    prep, found = _issues("origin.csv", "country of asylum,year,measure,origin,value\n"
                                        "Senegal,2023,REFUG,Mauritania,14000\n"
                                        "Senegal,2023,ASY_SEEK,Senegal,12\n"
                                        "Senegal,2023,ASY_APP,Senegal,0\n")
    assert prep.ok        # stored as published (an official file is not refused), the cell named
    (issue,) = found      # a 0 states nothing wrong
    assert (issue.level, issue.check, issue.row, issue.column) == ("warning", "origin_is_asylum", 3, "origin")
    assert issue.message == t("ingest.issue.origin_is_asylum", "en", value="SEN")


def test_displaced_persons_in_their_own_country_are_no_error():
    prep, found = _issues("idp.csv", "country,year,measure,origin,value\nColombia,2023,IDP,Colombia,6800000\n"
                                     "Colombia,2023,RET_IDP,Colombia,1200\n")
    assert prep.ok and not [i for i in found if i.check == "origin_is_asylum"]


# ---- asylum decisions against their outcomes ------------------------------------------------------
DECISIONS = "country of asylum,year,measure,origin,outcome,value\n"


def test_decision_total_differing_from_its_outcomes_is_a_warning_with_the_difference():
    prep, found = _issues("dec.csv", DECISIONS + "SEN,2023,ASY_DEC,GIN,Total,100\nSEN,2023,ASY_DEC,GIN,Recognised,40\n"
                                               "SEN,2023,ASY_DEC,GIN,Complementary protection,10\n"
                                               "SEN,2023,ASY_DEC,GIN,Rejected,45\nSEN,2023,ASY_DEC,GIN,Otherwise closed,3\n"
                                               "SEN,2023,ASY_DEC,MLI,Total,20\nSEN,2023,ASY_DEC,MLI,Recognised,5\n"
                                               "SEN,2023,ASY_DEC,MLI,Complementary protection,5\n"
                                               "SEN,2023,ASY_DEC,MLI,Rejected,5\nSEN,2023,ASY_DEC,MLI,Otherwise closed,5\n")
    assert prep.ok          # a warning: stored, and said
    (issue,) = found        # Mali's outcomes add up; Guinea's do not
    assert (issue.level, issue.check, issue.row, issue.column) == ("warning", "decision_outcomes", 2, "value")
    assert issue.message == t("ingest.issue.decision_outcomes", "en", parts="98", total="100", difference="-2")


def test_outcomes_given_in_part_may_not_exceed_the_total():
    prep, found = _issues("dec.csv", DECISIONS + "SEN,2023,ASY_DEC,GIN,Total,100\nSEN,2023,ASY_DEC,GIN,Recognised,40\n"
                                               "SEN,2023,ASY_DEC,GIN,Rejected,75\n", lang="fr")
    (issue,) = found
    assert (issue.level, issue.check, issue.row) == ("warning", "decision_outcomes_exceed", 2)
    assert issue.message == t("ingest.issue.decision_outcomes_exceed", "fr", parts="115", total="100",
                              difference="15")
    _, fewer = _issues("dec.csv", DECISIONS + "SEN,2023,ASY_DEC,GIN,Total,100\nSEN,2023,ASY_DEC,GIN,Rejected,75\n")
    assert fewer == []      # an incomplete set below its total says nothing


# ---- months or quarters missing inside a series ---------------------------------------------------
def test_a_month_missing_inside_a_monthly_series_is_a_warning_naming_series_and_months():
    prep, found = _issues("arrivals.csv", "country,period,nationality,arrivals\n"
                                          "Dominican Republic,2023M01,United States,10\n"
                                          "Dominican Republic,2023M02,United States,11\n"
                                          "Dominican Republic,2023M05,United States,12\n"
                                          "Dominican Republic,2023M01,Canada,4\n"
                                          "Dominican Republic,2023M02,Canada,5\n", kind="border")
    assert prep.ok
    (issue,) = found        # Canada's January-February has no gap
    assert (issue.level, issue.check, issue.row, issue.column, issue.value) == \
        ("warning", "period_gap_month", 4, "period", "2023-05")
    assert issue.message == t("ingest.issue.period_gap_month", "en", n=2, first="2023-01", last="2023-05",
                              missing="2023-03, 2023-04",
                              series="measure=ARR, ref_area=DOM, counterpart_area=USA")


def test_a_quarter_missing_is_said_in_spanish_and_a_year_series_is_not_checked():
    prep, found = _issues("dep.csv", "country,period,measure,value\nDominican Republic,2023-Q1,DEP,10\n"
                                     "Dominican Republic,2023-Q3,DEP,12\nDominican Republic,2020,DEP,40\n"
                                     "Dominican Republic,2022,DEP,41\n", kind="border", lang="es")
    (issue,) = found        # 2021 is missing too, but yearly series are not checked
    assert (issue.level, issue.check, issue.row, issue.value) == ("warning", "period_gap_quarter", 3, "2023-Q3")
    assert issue.message == t("ingest.issue.period_gap_quarter", "es", n=1, first="2023-Q1", last="2023-Q3",
                              missing="2023-Q2", series="measure=DEP, ref_area=DOM")


def test_a_month_written_as_missing_closes_the_gap():
    body = "country,period,nationality,arrivals\nDominican Republic,2023M01,United States,10\n" \
           "Dominican Republic,2023M02,United States,{}\nDominican Republic,2023M03,United States,12\n"
    prep, found = _issues("arrivals.csv", body.format(".."), kind="border")
    assert not [i for i in found if i.check.startswith("period_gap")]
    assert prep.datasets[0].frame["obs_status"].tolist() == ["A", "M", "A"]
    # an empty cell is no observation at all (the general reader): the month is missing, and said
    _, found = _issues("arrivals.csv", body.format(""), kind="border")
    assert [(i.check, i.value) for i in found] == [("period_gap_month", "2023-03")]


# ---- a value without a measure ----------------------------------------------------------------------
def test_a_blank_measure_cell_of_a_template_is_an_error_at_the_cell():
    rows = pd.DataFrame({"ref_area": ["ESP", "ESP"], "time_period": ["2022", "2022"], "measure": ["IMM", None],
                         "value": [5, 6]})
    prep = prepare([Upload("flows.xlsx", build_template("flows", "en", rows))])
    (issue,) = prep.issues
    assert (issue.level, issue.check, issue.sheet, issue.row, issue.column) == ("error", "measure_blank", "data", 3,
                                                                               "measure")
    assert issue.message == t("ingest.issue.measure_blank", "en", column="measure")


def test_the_rules_are_declared_and_documented():
    ids = {rid: level for rid, level, _ in describe("observations")}
    assert ids["origin_is_asylum"] == "warning" and ids["measure_blank"] == "error"
    assert ids["decision_outcomes"] == "warning" and ids["period_gap"] == "warning"


def test_iso_months_of_a_csv_are_months_and_an_ambiguous_one_is_not_taken():
    """2023-07 is the canonical month: read as a month (2023-01 cannot be a range 2023-2001); 2011-12 may be
    December 2011 or the fiscal year 2011-12, and is not stored (said), as before."""
    prep, found = _issues("arrivals.csv", "country,period,nationality,arrivals\n"
                                          "Dominican Republic,2023-01,United States,10\n"
                                          "Dominican Republic,2023-02,United States,11\n"
                                          "Dominican Republic,2023-05,United States,12\n", kind="border")
    assert prep.datasets[0].frame["time_period"].tolist() == ["2023-01", "2023-02", "2023-05"]
    assert [(i.check, i.row, i.value) for i in found] == [("period_gap_month", 4, "2023-05")]
    prep = prepare([Upload("fy.csv", b"country,period,nationality,arrivals\nNepal,2011-12,India,10\n"
                                     b"Nepal,2023-03,India,11\n")], kind="border")
    assert prep.datasets[0].frame["time_period"].tolist() == ["2023-03"]
    assert any(i.check == "period_ranges" for i in prep.issues)
