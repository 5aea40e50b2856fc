"""Indicators from aggregate tables: hand-computed cases, consistency Issues, provenance."""

from __future__ import annotations

import math

import pytest

from mmicd.engine import OUTPUT_COLUMNS, compute_frames
from tests.engine.conftest import obs


def cell(table, indicator, **dims):
    rows = table.loc[table["indicator"] == indicator]
    defaults = {"sex": "_T", "age": "_T", "migrant_status": "_T", "counterpart_area": "_T"}
    for col, value in (defaults | dims).items():
        rows = rows.loc[rows[col] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_totals_and_broad_groups_are_derived_from_five_year_groups():
    ages = {"Y10T14": 5, "Y15T19": 10, "Y20T24": 20, "Y25T29": 30, "Y0T4": 1, "Y5T9": 2}
    rows = [{"sex": s, "age": a, "value": v * (2 if s == "M" else 1), "migrant_status": "MS_MIGRANT"}
            for s in ("F", "M") for a, v in ages.items()]
    # an open-ended last group so that 15+ and the total can be derived
    rows += [{"sex": s, "age": "Y_GE75", "value": 0, "migrant_status": "MS_MIGRANT"} for s in ("F", "M")]
    rows += [{"sex": s, "age": a, "value": 0, "migrant_status": "MS_MIGRANT"} for s in ("F", "M")
             for a in ("Y30T34", "Y35T39", "Y40T44", "Y45T49", "Y50T54", "Y55T59", "Y60T64", "Y65T69", "Y70T74")]
    result = compute_frames(obs(rows), indicators=["imm_stock"])
    t = result.table
    assert list(t.columns) == OUTPUT_COLUMNS
    assert cell(t, "imm_stock", sex="F", age="Y15T24")["value"] == 30
    assert cell(t, "imm_stock", sex="M", age="Y15T24")["value"] == 60
    assert cell(t, "imm_stock", age="Y15T24")["value"] == 90  # sex total of a derived age group
    assert cell(t, "imm_stock", sex="F", age="Y_GE15")["value"] == 60
    assert cell(t, "imm_stock", age="_T")["value"] == 3 * 68
    assert cell(t, "imm_stock", age="Y15T64")["value"] == 180
    assert result.issues == []


def test_incomplete_parts_give_no_total():
    rows = [{"sex": "F", "age": "Y15T19", "value": 10, "migrant_status": "MS_MIGRANT"},
            {"sex": "M", "age": "Y15T19", "value": 12, "migrant_status": "MS_MIGRANT"}]
    t = compute_frames(obs(rows), indicators=["imm_stock"]).table
    assert set(t["age"]) == {"Y15T19"}  # no 15-24 without 20-24, no total
    assert cell(t, "imm_stock", age="Y15T19")["value"] == 22


def test_reported_total_that_does_not_add_up_is_an_issue_not_rescaled():
    rows = [{"sex": "F", "value": 100, "migrant_status": "MS_MIGRANT"},
            {"sex": "M", "value": 120, "migrant_status": "MS_MIGRANT"},
            {"sex": "_T", "value": 230, "migrant_status": "MS_MIGRANT"}]
    result = compute_frames(obs(rows, dataset_id=7), indicators=["imm_stock"])
    assert cell(result.table, "imm_stock")["value"] == 230
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.file == "dataset #7" and issue.column == "sex"
    assert "230" in issue.message and "220" in issue.message and "ref_area=NPL" in issue.value


def test_share_from_numerator_and_denominator_never_averaged():
    rows = [{"sex": "F", "migrant_status": "MS_MIGRANT", "value": 30}, {"sex": "M", "migrant_status": "MS_MIGRANT",
                                                                       "value": 10},
            {"sex": "F", "value": 100}, {"sex": "M", "value": 300}]
    t = compute_frames(obs(rows), indicators=["imm_share", "imm_female_share"]).table
    assert cell(t, "imm_share", sex="F")["value"] == pytest.approx(30.0)
    assert cell(t, "imm_share", sex="M")["value"] == pytest.approx(100 / 30)
    assert cell(t, "imm_share")["value"] == pytest.approx(10.0)  # 40/400, not the mean of 30 and 3.3
    assert cell(t, "imm_female_share")["value"] == pytest.approx(75.0)


def test_growth_rate_is_the_un_desa_formula():
    rows = [{"time_period": y, "migrant_status": "MS_MIGRANT", "value": v}
            for y, v in (("1990", 152986157), ("1995", 161289976), ("2005", 100))]
    t = compute_frames(obs(rows), indicators=["imm_stock_growth"]).table
    assert cell(t, "imm_stock_growth", time_period="1995")["value"] == pytest.approx(1.0571, abs=5e-5)
    assert cell(t, "imm_stock_growth", time_period="2005")["value"] == pytest.approx(
        100 * math.log(100 / 161289976) / 10)
    assert "1990" not in set(t["time_period"])


def test_median_age_interpolated_in_the_median_group():
    ages = ["Y0T4", "Y5T9", "Y10T14", "Y15T19", "Y_GE75"] + [f"Y{a}T{a + 4}" for a in range(20, 75, 5)]
    values = {"Y0T4": 10, "Y5T9": 10, "Y10T14": 10, "Y15T19": 20}  # 50 below 20
    rows = [{"age": a, "migrant_status": "MS_MIGRANT", "value": values.get(a, 0 if a != "Y20T24" else 50)}
            for a in ages]
    t = compute_frames(obs(rows), indicators=["imm_median_age"]).table
    row = cell(t, "imm_median_age")
    # N = 100, half = 50 = everyone below 20 -> 20 + (50 - 50)/50 * 5 = 20.0
    assert row["value"] == pytest.approx(20.0) and row["obs_status"] == "E" and row["unit"] == "years"
    rows[3]["value"] = 10  # now 40 below 20, 50 in 20-24, N = 90, half 45 -> 20 + 5/50*5 = 20.5
    t = compute_frames(obs(rows), indicators=["imm_median_age"]).table
    assert cell(t, "imm_median_age")["value"] == pytest.approx(20.5)


def test_two_sources_are_both_kept_and_labelled():
    a = obs([{"migrant_status": "MS_MIGRANT", "value": 100}], dataset_id=1, source="UN DESA", edition="2020")
    b = obs([{"migrant_status": "MS_MIGRANT", "value": 90}], dataset_id=2, source="UN DESA", edition="2024")
    pop = obs([{"value": 1000}], dataset_id=2, source="UN DESA", edition="2024")
    import pandas as pd

    t = compute_frames(pd.concat([a, b, pop]), indicators=["imm_stock", "imm_share"]).table
    stock = t.loc[t["indicator"] == "imm_stock"]
    assert sorted(zip(stock["edition"], stock["value"], stock["dataset_id"], strict=True)) == [
        ("2020", 100.0, "1"), ("2024", 90.0, "2")]
    share = t.loc[t["indicator"] == "imm_share"]  # only the edition that has its own denominator
    assert list(share["value"]) == [9.0] and list(share["edition"]) == ["2024"]


def test_emigrants_are_read_from_destination_countries():
    rows = [{"ref_area": d, "counterpart_area": "NPL", "sex": s, "migrant_status": "MS_MIGRANT", "value": v}
            for d, s, v in (("QAT", "F", 10), ("QAT", "M", 90), ("IND", "F", 200), ("IND", "M", 300))]
    rows.append({"ref_area": "WLD", "counterpart_area": "NPL", "migrant_status": "MS_MIGRANT", "value": 1e6})
    t = compute_frames(obs(rows), indicators=["emig_stock"], country="NPL").table
    assert cell(t, "emig_stock", counterpart_area="QAT")["value"] == 100
    assert cell(t, "emig_stock", sex="F")["value"] == 210  # over destinations, aggregates excluded
    assert cell(t, "emig_stock")["value"] == 600


def test_remittance_ratio_and_passthrough_with_forced_status():
    rows = [obs([{"value": 8.108e9}], measure="REM_IN", kind="remittances"),
            obs([{"value": 33.43e9}], measure="GDP", kind="remittances"),
            obs([{"counterpart_area": "QAT", "value": 2e9, "time_period": "2021"}], measure="REM_IN",
                kind="remittance_corridors", dataset_id=3),
            obs([{"counterpart_area": "QAT", "value": 4.1}, {"value": 5.2}], measure="REM_COST",
                kind="remittances", dataset_id=4)]
    import pandas as pd

    t = compute_frames(pd.concat(rows), indicators=["rem_in_gdp", "rem_corridor_usd", "rem_cost_pct"]).table
    assert cell(t, "rem_in_gdp")["value"] == pytest.approx(24.2536, abs=1e-4)
    corridor = cell(t, "rem_corridor_usd", counterpart_area="QAT")
    assert corridor["obs_status"] == "E" and corridor["unit"] == "usd"
    assert cell(t, "rem_cost_pct", counterpart_area="QAT")["value"] == 4.1
    assert cell(t, "rem_cost_pct")["value"] == 5.2


def test_small_cells_of_census_tables_are_suppressed():
    rows = [{"migrant_status": "MS_MIGRANT", "sex": "F", "value": 3}, {"migrant_status": "MS_MIGRANT", "sex": "M",
                                                                      "value": 300}]
    t = compute_frames(obs(rows, kind="census"), indicators=["imm_stock"]).table
    female = cell(t, "imm_stock", sex="F")
    assert female["obs_status"] == "Q" and female["value"] != female["value"]  # NaN, row kept
    assert cell(t, "imm_stock")["value"] == 303
