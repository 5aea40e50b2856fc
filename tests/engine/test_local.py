"""Indicators for subdivisions: the demo provinces through the engine (hand-checked), parents made from
their subdivisions (sums of counts, ratios of sums), survey estimates per province against svy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.engine_oracle import Oracle
from mmicd.demo import DEMO_DIR, demo_files
from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames
from mmicd.engine.local import AGGREGATED_NOTE, compute_local, with_parents
from mmicd.engine.synthetic import lfs_microdata
from mmicd.ingest import Upload, prepare

RAW = EngineConfig(suppress=False)
PROVINCES = [f"NP-P{i}" for i in range(1, 8)]
CENSUS = DEMO_DIR / "npl_census_2021_provinces_synthetic.xlsx"


@pytest.fixture(scope="module")
def census_rows() -> pd.DataFrame:
    """The demo provincial census as stored (through the upload), with provenance columns."""
    demo = next(d for d in demo_files() if d.path == CENSUS)
    prep = prepare([Upload(CENSUS.name, CENSUS.read_bytes())], kind="census", country="NPL", source=demo.source)
    assert prep.ok
    return prep.datasets[0].frame.assign(dataset_id=1, source=demo.source, edition=demo.edition, kind="census")


@pytest.fixture(scope="module")
def by_hand() -> pd.DataFrame:
    """The demo file's data sheet read with pandas, nothing of mmicd: the leaf cells."""
    sheet = pd.read_excel(CENSUS, sheet_name="data", dtype={"age": str}, engine="openpyxl")
    return sheet[(sheet["sex"] != "_T") & (sheet["age"] != "_T") & (sheet["migrant_status"] != "_T")
                 & (sheet["counterpart_area"] == "_T")]


def test_demo_provinces_through_the_engine_hand_checked(census_rows, by_hand):
    result = compute_local(census_rows, country="NPL", indicators=["imm_stock", "imm_share"], cfg=RAW)
    table = result.table
    total = table[(table["sex"] == "_T") & (table["age"] == "_T") & (table["counterpart_area"] == "_T")]
    stock = total[total["indicator"] == "imm_stock"].set_index("ref_area")["value"]
    share = total[total["indicator"] == "imm_share"].set_index("ref_area")["value"]
    # Bagmati's foreign-born: the sum of its leaf cells (women and men of every age group)
    bagmati = by_hand[by_hand["subdivision"] == "NP-P3"]
    migrants_p3 = bagmati.loc[bagmati["migrant_status"] == "MS_MIGRANT", "value"].sum()
    assert stock["NP-P3"] == migrants_p3 == 91_196
    assert share["NP-P3"] == pytest.approx(100 * migrants_p3 / bagmati["value"].sum(), rel=1e-12)
    # the country: the sum of its provinces, equal to the national demo census (650,000 of 29,192,000)
    assert stock["NPL"] == stock[PROVINCES].sum() == by_hand.loc[by_hand["migrant_status"] == "MS_MIGRANT",
                                                                  "value"].sum() == 650_000
    national = next(d for d in demo_files() if d.path.name == "npl_census_2021_synthetic.xlsx").checks
    assert stock["NPL"] == national["foreign_born_total"]
    # a ratio of sums, not the mean of the provinces' ratios
    assert share["NPL"] == pytest.approx(100 * 650_000 / national["population_total"], rel=1e-12)
    assert abs(share["NPL"] - share[PROVINCES].mean()) > 0.1
    notes = total.set_index(["indicator", "ref_area"])["note"]
    assert notes[("imm_stock", "NPL")] == AGGREGATED_NOTE.format(n=7)
    assert notes[("imm_share", "NPL")] == AGGREGATED_NOTE.format(n=7)
    assert notes[("imm_stock", "NP-P3")] == ""


def test_a_parent_is_made_only_from_a_complete_set_and_never_replaces_its_own_figure(census_rows):
    cell = (census_rows["sex"] == "_T") & (census_rows["age"] == "_T") & (census_rows["migrant_status"] == "_T") \
        & (census_rows["counterpart_area"] == "_T")
    six = census_rows[cell & (census_rows["ref_area"] != "NP-P7")]
    out, made = with_parents(six)
    assert made == {} and "NPL" not in set(out["ref_area"])          # Sudurpashchim missing: no national sum
    own = pd.concat([census_rows[cell], census_rows[cell].iloc[:1].assign(ref_area="NPL", value=1.0)])
    out, made = with_parents(own)
    assert made == {} and out.loc[out["ref_area"] == "NPL", "value"].tolist() == [1.0]


def test_old_codes_merge_onto_todays_and_a_split_code_counts_in_its_parent_only():
    rows = pd.DataFrame({"ref_area": ["PH-MAG", "FR-A", "FR-G", "FR-M"], "value": [5.0, 1.0, 2.0, 3.0]})
    base = {"dataset_id": 1, "measure": "POP", "time_period": "2010", "sex": "_T", "age": "_T",
            "migrant_status": "_T", "counterpart_area": "_T", "labour_status": "_T", "breakdown": "_T",
            "unit_measure": "PS", "unit_mult": 0, "obs_status": "A", "source": "s", "edition": "e", "kind": "census"}
    out, made = with_parents(rows.assign(**base))
    got = out.set_index("ref_area")["value"]
    assert got["FR-GES"] == 6.0 and "FR-A" not in got.index
    assert "PH-MAG" in got.index and "PH-MGN" not in got.index       # never divided between del Norte and del Sur


@pytest.fixture(scope="module")
def provincial_survey() -> pd.DataFrame:
    """Generated records whose provinces cut across strata (PSUs spread over provinces at random):
    only a domain estimate of the whole design gets the standard errors right."""
    md = lfs_microdata(8_000, strata=8, psus=96, seed=11)
    rng = np.random.default_rng(3)
    province_of_psu = {p: PROVINCES[i] for p, i in zip(sorted(md["psu"].unique()), rng.integers(0, 7, 96),
                                                        strict=True)}
    return md.assign(ref_area=md["psu"].map(province_of_psu))


@pytest.mark.parametrize("indicator", ["wap", "lfpr", "unemp_rate"])
def test_survey_estimates_per_province_equal_svy_domain_estimates(provincial_survey, indicator):
    import polars as pl
    import svy

    md = provincial_survey
    ours = compute_frames(None, [Microdata(1, "lfs", "Test LFS", "2022", md)], indicators=[indicator], cfg=RAW).table
    ours = ours[(ours["sex"] == "_T") & (ours["age"] == "_T") & (ours["migrant_status"] == "_T")]
    ind = catalogue()[indicator]
    oracle = Oracle(md, [ind], design="psu")
    frame = oracle.frame.with_columns(pl.Series("area", md["ref_area"].astype(str).to_numpy()))
    sample = svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight"))
    if ind.denominator is None:
        expected = sample.estimation.total(f"y_{indicator}", by="area")
    else:
        expected = sample.estimation.ratio(f"y_{indicator}", f"x_{indicator}", by="area")
    expected = expected.to_polars().to_pandas().set_index("area")
    got = ours.set_index("ref_area")
    assert set(PROVINCES) <= set(got.index) and "NPL" in got.index
    for p in PROVINCES:
        assert got.at[p, "value"] == pytest.approx(expected.at[p, "est"] * ind.factor, rel=1e-9)
        assert got.at[p, "se"] == pytest.approx(expected.at[p, "se"] * ind.factor, rel=1e-6)
    # n_obs: the persons of the province only (not the whole sample kept for the variance)
    sel = md["age"].fillna(-1) >= 15
    assert got.at["NP-P3", "n_obs"] <= (sel & (md["ref_area"] == "NP-P3")).sum()
    # the country: the whole sample, as if nobody had a province
    whole = compute_frames(None, [Microdata(1, "lfs", "Test LFS", "2022", md.assign(ref_area="NPL"))],
                           indicators=[indicator], cfg=RAW).table
    whole = whole[(whole["sex"] == "_T") & (whole["age"] == "_T") & (whole["migrant_status"] == "_T")]
    assert got.at["NPL", "value"] == pytest.approx(whole["value"].iloc[0], rel=1e-12)
    assert got.at["NPL", "se"] == pytest.approx(whole["se"].iloc[0], rel=1e-12)


def test_subsetting_a_province_would_give_other_standard_errors(provincial_survey):
    """The test above can fail: a province estimated from its own persons alone (strata cut) differs."""
    md = provincial_survey
    alone = md[md["ref_area"] == "NP-P3"]
    subset = compute_frames(None, [Microdata(1, "lfs", "Test LFS", "2022", alone)], indicators=["wap"], cfg=RAW).table
    domain = compute_frames(None, [Microdata(1, "lfs", "Test LFS", "2022", md)], indicators=["wap"], cfg=RAW).table
    pick = {"sex": "_T", "age": "_T", "migrant_status": "_T"}
    a = subset.loc[(subset[list(pick)] == pd.Series(pick)).all(axis=1), "se"].iloc[0]
    b = domain.loc[(domain[list(pick)] == pd.Series(pick)).all(axis=1) & (domain["ref_area"] == "NP-P3"), "se"].iloc[0]
    assert abs(a - b) / b > 0.01
