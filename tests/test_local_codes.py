"""Subdivision codes over time (validity dates, the old -> new changes) and an office's own code list
(upload, checks naming the cell, versions in the store, audited, in force in mmicd.subdivisions)."""

import pandas as pd
import pytest

from mmicd import subdivision_lists as lists
from mmicd import subdivisions as sub
from mmicd.issues import IssuesError


@pytest.fixture(autouse=True)
def iso_list_after():
    yield
    sub.set_office_lists({})


def test_old_codes_resolve_only_for_years_when_they_were_valid():
    # French regions merged on 1 January 2016: Lorraine is a region of 2010 data, not of 2020 data
    assert sub.resolve_subdivision("Lorraine", "FRA", year=2010) == "FR-M"
    assert sub.resolve_subdivision("Lorraine", "FRA", year=2020) is None
    assert sub.not_valid_then("Lorraine", "FRA", 2020) == ["FR-M"]
    assert sub.resolve_subdivision("Grand Est", "FRA", year=2018) == "FR-GES"
    assert sub.resolve_subdivision("Grand Est", "FRA", year=2010) is None       # valid from 2016
    assert sub.resolve_subdivision("Lorraine", "FRA") is None                   # today's list
    assert "FR-M" not in sub.of_country("FRA").index and "FR-M" in sub.of_country("FRA", current=False).index


def test_merged_codes_are_summed_under_the_new_code_and_a_split_code_stays_whole():
    frame = pd.DataFrame({"ref_area": ["FR-A", "FR-G", "FR-M", "FR-IDF", "PH-MAG", "PH-MGN"],
                          "sex": ["F", "F", "F", "F", "_T", "_T"], "value": [1.0, 20.0, 300.0, 4000.0, 5.0, 7.0]})
    out = sub.to_current(frame).set_index("ref_area")["value"].to_dict()
    assert out == {"FR-GES": 321.0, "FR-IDF": 4000.0, "PH-MAG": 5.0, "PH-MGN": 7.0}
    # Maguindanao's old total is never divided between del Norte and del Sur: only their parent counts it
    assert sub.current_code("PH-MAG") == (None, "split")
    assert sub.parent_of("PH-MAG") == sub.parent_of("PH-MGN") == "PH-14"
    # a missing part makes the merged value missing (never a partial sum shown as the whole)
    partial = pd.DataFrame({"ref_area": ["FR-A", "FR-G"], "value": [1.0, float("nan")]})
    assert sub.to_current(partial)["value"].isna().all()


CODES_CSV = """code,name,parent,level,name_fr
NP-P3,Bagmati,,1,
NP-KTM,Kathmandu,NP-P3,2,Katmandou
NP-LTP,Lalitpur,NP-P3,2,
"""


def test_an_office_list_extends_iso_and_is_stored_versioned_and_audited(store):
    rows = lists.read("districts.csv", CODES_CSV.encode(), "NPL", "extend")
    assert list(rows["code"]) == ["NP-P3", "NP-KTM", "NP-LTP"]
    assert lists.save(store, "NPL", rows, "extend", actor="office@npl", file_name="districts.csv",
                      data=CODES_CSV.encode(), note="districts of Bagmati") == 1
    assert sub.resolve_subdivision("Katmandou", "NPL") == "NP-KTM"
    assert sub.parent_of("NP-KTM") == "NP-P3" and sub.country_of("NP-LTP") == "NPL"
    assert sub.resolve_subdivision("Koshi", "NPL") == "NP-P1"                     # ISO codes kept
    audit = store.audit(entity_type="subdivision_list", entity_id="NPL")
    assert audit["actor"].tolist() == ["office@npl"] and audit["new"].iloc[0]["codes"] == 3
    # a second upload replaces the list: the ISO provinces are gone for Nepal, version 2 in force
    replaced = "code,name,parent,level\nNP-EAST,East,,1\nNP-WEST,West,,1\n"
    rows2 = lists.read("mine.csv", replaced.encode(), "NPL", "replace")
    assert lists.save(store, "NPL", rows2, "replace", actor="office@npl") == 2
    assert list(sub.of_country("NPL")["code"]) == ["NP-EAST", "NP-WEST"]
    assert sub.resolve_subdivision("Koshi", "NPL") is None
    assert sub.resolve_subdivision("Dakar", "SEN") == "SN-DK"                     # other countries untouched
    assert lists.versions(store, "NPL")["version"].tolist() == [1, 2]
    # a fresh process reads the lists in force from the store
    sub.set_office_lists({})
    assert sub.resolve_subdivision("East", "NPL") is None
    lists.apply(store)
    assert sub.resolve_subdivision("East", "NPL") == "NP-EAST" and sub.office_mode("NPL") == "replace"


def test_a_bad_code_list_is_refused_with_every_problem_at_its_cell():
    bad = ("code,name,parent,level\nNP-P3,Bagmati,,1\nSN-DK,Dakar,,1\nNP-P3,Again,,1\n"
           "NP-X1,,NP-P3,2\nNP-X2,Two,NP-NONE,2\nNP-X3,Three,,4\n")
    with pytest.raises(IssuesError) as err:
        lists.read("bad.csv", bad.encode(), "NPL", "replace")
    found = {(i.row, i.column, i.check) for i in err.value.issues}
    assert found == {(3, "code", "bad_code"), (4, "code", "duplicate"), (5, "name", "no_name"),
                     (6, "parent", "unknown_parent"), (7, "level", "bad_level")}
    assert "SN-DK" in next(i.message for i in err.value.issues if i.row == 3)
    assert "NP-" in next(i.message for i in err.value.issues if i.row == 3)
    with pytest.raises(IssuesError) as err:
        lists.read("bad.csv", b"code,label\nNP-1,x\n", "NPL", "extend")
    assert {i.column for i in err.value.issues} == {"name", "level"}
