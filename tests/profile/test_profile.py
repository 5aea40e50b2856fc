"""Profile assembly without Streamlit: national preference, sums not averages, flags, empty states."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmicd.profile import profile_from_store
from mmicd.profile.regions import MEMBERSHIP_FILE, build_membership, groups_of, members
from mmicd.profile.remittances import group_ratio

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"


def totals(rows):
    return pd.DataFrame(rows, columns=["ref_area", "time_period", "REM_IN", "GDP"])


def test_region_ratio_sums_numerators_and_denominators_and_names_the_missing():
    # Australia/New Zealand: 2/100 = 2% and 10/1000 = 1%; the region is 12/1100 = 1.0909%, not 1.5%
    frame = totals([("AUS", "2020", 2.0, 100.0), ("NZL", "2020", 10.0, 1000.0),
                    ("AUS", "2021", 3.0, 100.0), ("NZL", "2021", 5.0, None)])
    out = group_ratio(frame, "A927").set_index("time_period")
    assert out.loc["2020", "value"] == pytest.approx(12 / 1100 * 100)
    assert out.loc["2020", "missing"] == []
    assert out.loc["2021", "value"] == pytest.approx(3.0)  # only Australia reports GDP in 2021
    assert out.loc["2021", "missing"] == ["NZL"] and out.loc["2021", "reporting"] == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e9), st.floats(1, 1e12)), min_size=2, max_size=2))
def test_region_ratio_lies_between_its_members(pairs):
    frame = totals([(c, "2020", r, g) for c, (r, g) in zip(("AUS", "NZL"), pairs, strict=True)])
    value = group_ratio(frame, "A927")["value"].iloc[0]
    shares = [r / g * 100 for r, g in pairs]
    assert min(shares) - 1e-9 <= value <= max(shares) + 1e-9


def test_membership():
    assert groups_of("NPL") == {"subregion": "A5501", "sdg_region": "A1831", "income_group": "A1501"}
    assert groups_of("DEU")["sdg_region"] == "A1829"
    assert set(members("A927")) == {"AUS", "NZL"}
    assert len(members("WLD")) > 200


@pytest.mark.skipif(not (REFERENCE / "wpp2024" / "UNlocations.txt").exists(), reason="shared reference absent")
def test_membership_file_is_rebuilt_from_the_un_location_list():
    built = build_membership(REFERENCE / "wpp2024" / "UNlocations.txt")
    shipped = pd.read_csv(MEMBERSHIP_FILE, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(built, shipped)


def test_germany_2020_from_the_baseline(seeded_store):
    p = profile_from_store(seeded_store, "DEU", "2020", "en")
    assert p.figure("imm_stock").value == 15762457
    assert round(p.figure("imm_share").value, 1) == 18.8
    assert round(p.figure("imm_female_share").value, 1) == 49.9
    assert not p.figure("imm_stock").national and p.figure("imm_stock").alternative is None
    assert p.figure("imm_stock").sources[0].edition == "2020"
    for block_id in ("pyramid", "labour", "cost"):
        b = p.block(block_id)
        assert b.empty and "template" in b.empty_message
    # emigrants by destination sum to the key figure when every destination is listed
    dest = p.block("destinations")
    assert len(dest.rows) == 10 and dest.rows[0]["total"] >= dest.rows[-1]["total"]
    assert {r["item"] for r in p.block("missing").rows} >= {"Labour market by migrant status, sex and age"}
    gdp = pd.DataFrame(p.block("rem_gdp").rows)
    assert {"DEU", "A1829", "WLD"} <= set(gdp["area"])
    deu = gdp.loc[(gdp["area"] == "DEU") & (gdp["time_period"] == "2020")].iloc[0]
    assert deu["value"] == pytest.approx(p.figure("rem_in_gdp").value)
    # remittances per emigrant: WDI's 2020 receipts over UN DESA's emigrants of the same year (sum of the
    # 123 destination countries' stocks of people born in Germany), never over another year's stock
    assert p.figure("emig_stock").value == 3_855_268
    per = {r["time_period"]: r for r in p.block("rem_per_emigrant").rows}
    assert per["2020"]["value"] == pytest.approx(18_819_700_392.006 / 3_855_268)
    assert set(per) <= {"1990", "1995", "2000", "2005", "2010", "2015", "2020"} and "2019" not in per
    assert {s.source for s in p.block("rem_per_emigrant").sources} == {
        "World Bank, World Development Indicators", "UN DESA, International Migrant Stock"}
    # refugees from the baseline: UN DESA IMS 2020 Table 6, and its share of Table 1's stock
    assert p.figure("refugees").value == 1_455_947 and p.figure("refugees").year == "2020"
    share = {(r["series"], r["time_period"]): r["value"] for r in p.block("asylum_rates").rows}
    assert share[("refugee_share_stock", "2020")] == pytest.approx(100 * 1_455_947 / 15_762_457)
    assert round(share[("refugee_share_stock", "2020")], 3) == 9.237     # Table 6, as published
    assert p.block("flows_trend").empty and "flows template" in p.block("flows_trend").empty_message


def test_nepal_prefers_the_national_census_and_keeps_the_baseline_beside_it(demo_store):
    p = profile_from_store(demo_store, "NPL", None, "en")
    stock = p.figure("imm_stock")
    assert stock.national and stock.value == 650000 and stock.year == "2021"
    assert stock.alternative.value == 487564 and stock.alternative.year == "2020"
    assert "National upload used (2021)" in stock.choice_note
    disagree = pd.DataFrame(p.block("disagree").rows).set_index("figure")
    assert disagree.loc["International migrant stock", "national"] == 650000
    assert disagree.loc["International migrant stock", "international"] == 487564
    # with 2020 chosen, the 2021 census is not used
    assert not profile_from_store(demo_store, "NPL", "2020", "en").figure("imm_stock").national


def test_nepal_pyramid_and_labour_market(demo_store):
    p = profile_from_store(demo_store, "NPL", None, "en")
    pyr = pd.DataFrame(p.block("pyramid").rows)
    for _, group in pyr.groupby("migrant_status"):
        assert group["pct"].sum() == pytest.approx(100)
    assert pyr.loc[pyr["migrant_status"] == "MS_MIGRANT", "value"].sum() == 650000
    lab = pd.DataFrame(p.block("labour").rows)
    assert set(lab["indicator"]) == {"lfpr", "emp_pop_ratio", "unemp_rate"}
    ok = lab.loc[lab["obs_status"].isin(["A", "U"])]
    assert (ok["ci_lower"] <= ok["value"]).all() and (ok["value"] <= ok["ci_upper"]).all()
    assert (lab["obs_status"] == "U").any()
    assert lab.loc[lab["obs_status"] == "Q", "value"].isna().all()  # suppressed values are not shown
    women = lab.loc[(lab["indicator"] == "lfpr") & (lab["sex"] == "F") & (lab["age"] == "_T")
                    & (lab["migrant_status"] == "_T")]
    assert women["value"].iloc[0] == pytest.approx(40.19, abs=0.01)  # demo.yml check value
    gap = p.figure("lm_gap")
    both = lab.loc[(lab["indicator"] == "lfpr") & (lab["sex"] == "_T") & (lab["age"] == "_T")].set_index(
        "migrant_status")["value"]
    assert gap.value == pytest.approx(both["MS_MIGRANT"] - both["MS_NOMIGRANT"])
    corridors = p.block("corridors")
    assert all(r["obs_status"] == "E" for r in corridors.rows) and all(s.estimate for s in corridors.sources)


def test_an_aggregate_gets_a_profile_without_errors(seeded_store):
    p = profile_from_store(seeded_store, "WLD", "2020", "fr")
    assert p.figure("imm_stock").value == 280598105
    assert p.block("destinations").empty
