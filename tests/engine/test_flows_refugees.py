"""Issue #13 in the engine, by hand: differences, the recognition rate from decisions, rates over a
population from another dataset (and the issue when its year is missing), the denominator choice
rule, annual values from months and quarters, and the one entry point's counterpart rows."""

from __future__ import annotations

import pandas as pd
import pytest

from mmicd.engine import catalogue, compute, compute_frames, input_ids, read_inputs
from tests.engine.conftest import add_flows_refugees_labour, obs

T = "_T"


def one(table: pd.DataFrame, indicator: str, **dims) -> pd.Series:
    rows = table.loc[table["indicator"] == indicator]
    for col, code in ({"time_period": "2022", "sex": T, "age": T, "migrant_status": T, "counterpart_area": T}
                      | dims).items():
        rows = rows.loc[rows[col] == code]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def messages(result) -> str:
    return "\n".join(i.message for i in result.issues)


# ---- asylum recognition rate ---------------------------------------------------------------
def decisions(rec=100, comp=50, rej=150, closed=20, origin="BTN", dataset_id=1, **kw) -> pd.DataFrame:
    parts = {"OUTCOME:REC": rec, "OUTCOME:COMP": comp, "OUTCOME:REJ": rej, "OUTCOME:CLOSED": closed}
    return obs([{"counterpart_area": origin, "breakdown": b, "value": v, "time_period": "2022", **kw}
                for b, v in parts.items() if v is not None], dataset_id=dataset_id, kind="refugees", measure="ASY_DEC")


def test_recognition_rate_is_from_decisions_with_otherwise_closed_left_out():
    applications = obs([{"counterpart_area": "BTN", "value": 1000, "time_period": "2022"}], kind="refugees",
                       measure="ASY_APP")
    total = obs([{"counterpart_area": "BTN", "value": 320, "time_period": "2022"}], kind="refugees",
                measure="ASY_DEC")  # the decisions' total (with the closed cases): never the denominator
    frame = pd.concat([decisions(), applications, total], ignore_index=True)
    result = compute_frames(frame, indicators=["asylum_recognition_rate"], country="NPL")
    # (100 + 50) / (100 + 50 + 150) = 50.0, not 150/320 = 46.9 (closed counted) nor 150/1000 (applications)
    assert one(result.table, "asylum_recognition_rate", counterpart_area="BTN")["value"] == pytest.approx(50.0)
    assert one(result.table, "asylum_recognition_rate")["value"] == pytest.approx(50.0)


def test_recognition_rate_with_an_outcome_missing_is_no_value_and_an_issue():
    frame = pd.concat([decisions(), decisions(rec=30, comp=10, rej=None, origin="IND")], ignore_index=True)
    result = compute_frames(frame, indicators=["asylum_recognition_rate"], country="NPL")
    table = result.table
    assert table.loc[table["counterpart_area"] == "IND"].empty  # 40/40 = 100% would be a wrong number
    assert one(table, "asylum_recognition_rate", counterpart_area="BTN")["value"] == pytest.approx(50.0)
    # the total over origins leaves India out on both sides (never 190/340)
    assert one(table, "asylum_recognition_rate")["value"] == pytest.approx(50.0)
    assert "missing OUTCOME:REJ" in messages(result) and "counterpart_area=IND" in messages(result)


# ---- difference ----------------------------------------------------------------------------
def test_net_migration_flows_is_immigrants_minus_emigrants_of_the_same_version():
    imm = obs([{"sex": s, "value": v, "time_period": "2022"} for s, v in (("F", 400), ("M", 600))],
              kind="migration_flows", measure="IMM")
    emi = obs([{"sex": s, "value": v, "time_period": "2022"} for s, v in (("F", 300), ("M", 900))],
              kind="migration_flows", measure="EMI")
    other = obs([{"value": 50, "time_period": "2022"}], dataset_id=2, kind="migration_flows", measure="EMI")
    imm_only = obs([{"value": 70, "time_period": "2022"}], dataset_id=3, kind="migration_flows", measure="IMM")
    result = compute_frames(pd.concat([imm, emi, other, imm_only], ignore_index=True),
                            indicators=["net_migration_flows"], country="NPL")
    t = result.table
    assert one(t, "net_migration_flows")["value"] == -200.0  # 1000 − 1200
    assert one(t, "net_migration_flows", sex="F")["value"] == 100.0
    assert one(t, "net_migration_flows", sex="M")["value"] == -300.0
    assert set(t["dataset_id"]) == {"1"}  # never 70 − 50 across versions
    assert "dataset #3 gives IMM but not EMI" in messages(result)


# ---- rates over a population from another dataset ------------------------------------------
def population(year="2022", dataset_id=9, source="Test WPP", edition="2024", per_cell=100_000) -> pd.DataFrame:
    ages = ["Y0T4", "Y5T9", "Y10T14", "Y15T19", "Y20T24", "Y25T29", "Y30T34", "Y35T39", "Y40T44", "Y45T49",
            "Y50T54", "Y55T59", "Y60T64", "Y_GE65"]
    return obs([{"time_period": year, "sex": s, "age": a, "value": per_cell} for s in ("F", "M") for a in ages],
               dataset_id=dataset_id, source=source, edition=edition, kind="population")


def test_immigration_rate_per_1000_over_the_population_of_another_dataset():
    imm = obs([{"sex": s, "value": v, "time_period": y} for y in ("2021", "2022") for s, v in (("F", 400), ("M", 600))],
              kind="migration_flows", measure="IMM", source="Test flows", edition="2023")
    result = compute_frames(pd.concat([imm, population()], ignore_index=True), indicators=["immigration_rate"],
                            country="NPL")
    row = one(result.table, "immigration_rate")
    assert row["value"] == pytest.approx(1000 / 2_800_000 * 1000)  # 0.357 per 1,000
    assert one(result.table, "immigration_rate", sex="F")["value"] == pytest.approx(400 / 1_400_000 * 1000)
    assert (row["source"], row["edition"], row["dataset_id"]) == ("Test flows; denominator: Test WPP",
                                                                  "2023; denominator: 2024", "1")
    assert row["note"].startswith("denominator: dataset #9") and row["unit"] == "per_1000"
    # 2021 has no population: no value, and an issue naming indicator, area and year
    assert set(result.table["time_period"]) == {"2022"}
    assert "immigration_rate: no denominator" in messages(result) and "for NPL 2021" in messages(result)


def test_labour_emigration_rate_over_the_working_age_population():
    deploy = obs([{"sex": s, "counterpart_area": "QAT", "value": v, "time_period": "2022"}
                  for s, v in (("F", 100), ("M", 1900))], kind="labour_migration", measure="DEPLOY")
    t = compute_frames(pd.concat([deploy, population()], ignore_index=True), indicators=["labour_emigration_rate"],
                       country="NPL").table
    # 2,000 deployed / (15–64: 10 five-year groups × 2 sexes × 100,000) × 1,000 = 1.0 (not 2000/2.8M)
    assert one(t, "labour_emigration_rate")["value"] == pytest.approx(1.0)
    assert one(t, "labour_emigration_rate", sex="F")["value"] == pytest.approx(0.1)


def test_refugees_per_100000_of_the_origin_read_from_asylum_countries():
    abroad = pd.concat([
        obs([{"ref_area": "IND", "counterpart_area": "NPL", "value": 800, "time_period": "2022"}], dataset_id=5,
            kind="refugees", measure="REFUG", source="Test UNHCR"),
        obs([{"ref_area": "BTN", "counterpart_area": "NPL", "value": 200, "time_period": "2022"}], dataset_id=5,
            kind="refugees", measure="REFUG", source="Test UNHCR"),
        obs([{"ref_area": "NPL", "counterpart_area": "BTN", "value": 5000, "time_period": "2022"}], dataset_id=5,
            kind="refugees", measure="REFUG", source="Test UNHCR"),  # hosted by Nepal: not Nepal's refugees
    ], ignore_index=True)
    t = compute_frames(pd.concat([abroad, population()], ignore_index=True),
                       indicators=["refugees_abroad", "refugees_per_100k_origin"], country="NPL").table
    assert one(t, "refugees_abroad")["value"] == 1000.0
    assert one(t, "refugees_abroad", counterpart_area="IND")["value"] == 800.0
    assert one(t, "refugees_per_100k_origin")["value"] == pytest.approx(1000 / 2_800_000 * 100_000)  # 35.71
    assert catalogue()["refugees_per_100k_origin"].series == "SM_POP_REFG_OR"
    assert catalogue()["refugees_per_100k_origin"].sdg == "10.7.4"


def stock(value, dataset_id, source, edition, kind="migrant_stock", scope="_ALL") -> pd.DataFrame:
    return obs([{"migrant_status": "MS_MIGRANT", "value": value, "time_period": "2020"}], dataset_id=dataset_id,
               source=source, edition=edition, kind=kind).assign(scope=scope)


@pytest.mark.parametrize(("stocks", "expected", "rule"), [
    # same source and edition as the numerator first (UN DESA Table 6 over Table 1 of the same edition)
    ([stock(100, 11, "UN DESA IMS", "2020"), stock(200, 12, "UN DESA IMS", "2024"),
      stock(400, 13, "National census", "2021", "census")], 25.0, "same source and edition"),
    # else the same source, most recent edition
    ([stock(100, 11, "UN DESA IMS", "2020"), stock(125, 14, "UN DESA IMS", "2019 revision"),
      stock(400, 13, "National census", "2021", "census")], 50.0, "same source as the numerator"),
    # else a national source of the area (scope NPL) before an international one, even an older edition
    ([stock(400, 13, "National census", "2011", "census", scope="NPL"), stock(500, 15, "Other estimates", "2022"),
      stock(200, 17, "Census of Qatar", "2020", "census", scope="QAT")], 12.5, "national source of the area"),
    # else an international source, most recent edition (latest year in the edition, then the latest version)
    ([stock(500, 15, "Other estimates", "Rev. 2022"), stock(1000, 16, "Older estimates", "2015"),
      stock(250, 18, "Other estimates", "Rev. 2022")], 20.0, "international source"),
])
def test_the_denominator_choice_rule(stocks, expected, rule):
    refugees = obs([{"value": 50, "time_period": "2020"}], dataset_id=10, kind="refugees", measure="REFUG",
                   source="UN DESA IMS", edition="2024")
    frame = pd.concat([refugees, *stocks], ignore_index=True)
    if rule in ("national source of the area", "international source"):
        frame.loc[frame["dataset_id"] == 10, "source"] = "UNHCR"
    row = one(compute_frames(frame, indicators=["refugee_share_stock"], country="NPL").table,
              "refugee_share_stock", time_period="2020")
    assert row["value"] == pytest.approx(expected)
    assert rule in row["note"]


# ---- monthly and quarterly periods ---------------------------------------------------------
def months(values: dict[str, float], measure="IMM", kind="migration_flows", **kw) -> pd.DataFrame:
    return obs([{"time_period": p, "value": v, **kw} for p, v in values.items()], kind=kind, measure=measure)


def test_a_flow_is_summed_over_the_year_only_when_every_month_is_present():
    full = {f"2023-{m:02d}": 10 * m for m in range(1, 13)}
    result = compute_frames(months(full), indicators=["immigrants"], country="NPL")
    t = result.table
    assert one(t, "immigrants", time_period="2023")["value"] == 780.0  # 10 + 20 + … + 120
    assert one(t, "immigrants", time_period="2023")["note"] == "annual: sum of the 12 months"
    assert one(t, "immigrants", time_period="2023-07")["value"] == 70.0  # months kept, not marked
    assert one(t, "immigrants", time_period="2023-07")["note"] == ""
    assert len(t.loc[(t["sex"] == T) & (t["counterpart_area"] == T)]) == 13
    # year filtering keeps the months and the annual value of that year
    assert len(compute_frames(months(full), indicators=["immigrants"], country="NPL", year="2023").table) == 13
    eleven = {p: v for p, v in full.items() if p != "2023-05"}
    result = compute_frames(months(eleven), indicators=["immigrants"], country="NPL")
    assert "2023" not in set(result.table["time_period"])  # 710 would be a wrong annual figure
    assert "IMM 2023: no annual value" in messages(result) and "missing: 2023-05" in messages(result)


def test_quarters_are_summed_and_a_reported_annual_value_is_kept():
    quarters = months({"2023-Q1": 5, "2023-Q2": 6, "2023-Q3": 7, "2023-Q4": 8})
    assert one(compute_frames(quarters, indicators=["immigrants"], country="NPL").table, "immigrants",
               time_period="2023")["value"] == 26.0
    reported = pd.concat([quarters, months({"2023": 30})], ignore_index=True)
    result = compute_frames(reported, indicators=["immigrants"], country="NPL")
    row = one(result.table, "immigrants", time_period="2023")
    assert (row["value"], row["note"]) == (30.0, "")
    assert "differs from the value derived from the quarters 26" in messages(result)


def test_a_stock_takes_the_end_of_year_value():
    values = {f"2023-{m:02d}": 100 + m for m in range(1, 13)}
    refugees = months(values, measure="REFUG", kind="refugees")
    row = one(compute_frames(refugees, indicators=["refugees"], country="NPL").table, "refugees", time_period="2023")
    assert (row["value"], row["note"]) == (112.0, "annual: end-of-year value (December)")  # not the sum 1278
    no_december = months({p: v for p, v in values.items() if p != "2023-12"}, measure="REFUG", kind="refugees")
    result = compute_frames(no_december, indicators=["refugees"], country="NPL")
    assert "2023" not in set(result.table["time_period"])
    assert "2023-12 is absent" in messages(result)


# ---- the entry point -----------------------------------------------------------------------
def test_the_entry_point_reads_counterpart_rows_of_refugees_and_stocks(demo_store):
    add_flows_refugees_labour(demo_store)
    inp = read_inputs(demo_store, "NPL")
    abroad = inp.abroad
    assert set(abroad["kind"]) == {"migrant_stock", "refugees"}
    assert (abroad["counterpart_area"] == "NPL").all() and (abroad["scope"] == "_ALL").all()
    assert set(inp.own.loc[inp.own["kind"] == "census", "scope"]) == {"NPL"}  # a national source
    assert abroad.loc[abroad["kind"] == "refugees", ["ref_area", "value"]].values.tolist() == [["IND", 800.0]]
    assert {"OUTCOME:REC", "OUTCOME:COMP", "OUTCOME:REJ", "OUTCOME:CLOSED"} - set(inp.own["breakdown"]) == {
        "OUTCOME:CLOSED"}  # only the codes indicators select, and _T
    assert inp.microdata and {v.kind.value for v in inp.versions.values()} >= {"refugees", "lfs"}
    # the cache key of refugees_abroad holds the asylum country's version
    refugees_ind = [v.id for v in inp.versions.values() if v.source == "Test asylum India"]
    assert set(refugees_ind) <= set(input_ids(demo_store, "NPL", "refugees_abroad"))
    assert set(refugees_ind) <= set(input_ids(demo_store, "NPL", "refugees_per_100k_origin"))
    t = compute(demo_store, country="NPL").table
    assert one(t, "refugees_abroad")["value"] == 800.0
    assert one(t, "asylum_recognition_rate")["value"] == pytest.approx(50.0)
    assert one(t, "work_permits", sex="F")["value"] == 120.0
    assert one(t, "immigration_rate")["value"] == pytest.approx(1000 / 2_800_000 * 1000)


def test_notes_are_shown_in_the_language_of_the_page():
    from mmicd.engine.export import note_text

    note = "annual: sum of the 12 months; denominator: dataset #9 (same source and edition as the numerator)"
    assert note_text(note, "fr") == ("annuel : somme des 12 mois; dénominateur : jeu de données n° 9 "
                                     "(même source et même édition que le numérateur)")
    assert note_text(note, "en") == note and note_text("", "es") == "" and note_text(None, "es") == ""


# ---- flows published only by criterion ---------------------------------------------------------
def test_flows_given_only_by_criterion_are_read_by_the_first_criterion_never_added_up():
    from mmicd.engine.inputs import one_criterion

    rows = [{"breakdown": "CRITERION:CITIZENSHIP", "value": 900, "time_period": "2010"},
            {"breakdown": "CRITERION:RESIDENCE", "value": 1000, "time_period": "2010"},
            {"breakdown": "CRITERION:CITIZENSHIP", "value": 950, "time_period": "2011"}]   # 2011: citizenship only
    flows = obs(rows, kind="migration_flows", measure="IMM")
    other = obs([{"breakdown": "_T", "value": 70, "ref_area": "BTN", "time_period": "2010"},
                 {"breakdown": "CRITERION:RESIDENCE", "value": 60, "ref_area": "BTN", "time_period": "2010"}],
                kind="migration_flows", measure="IMM")
    read = one_criterion(pd.concat([flows, other], ignore_index=True))
    npl = read.loc[read["ref_area"] == "NPL"]
    # residence first; the citizenship-only year is not switched in (a series never mixes criteria)
    assert npl[["time_period", "breakdown", "value", "criterion"]].values.tolist() == [
        ["2010", "_T", 1000.0, "CRITERION:RESIDENCE"]]
    # a series with a total keeps its total, never 70 + 60
    btn = read.loc[read["ref_area"] == "BTN"]
    assert btn["value"].tolist() == [70.0] and btn["breakdown"].tolist() == ["_T"]
    result = compute_frames(read, indicators=["immigrants"], country="NPL")
    assert one(result.table, "immigrants", time_period="2010")["value"] == 1000
