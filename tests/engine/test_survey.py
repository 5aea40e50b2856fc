"""Survey estimates from microdata: equal to svy (the oracle) to 1e-6 relative, and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.engine_oracle import oracle_catalogue
from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames
from mmicd.engine.synthetic import lfs_microdata
from mmicd.i18n import t

RAW = EngineConfig(suppress=False)
LABOUR = ["wap", "lfpr", "emp_pop_ratio", "unemp_rate", "migrant_share_employed"]
CELL = ["indicator", "sex", "age", "migrant_status"]


def engine(md: pd.DataFrame, indicators, cfg: EngineConfig = RAW) -> pd.DataFrame:
    return compute_frames(None, [Microdata(1, "lfs", "Test LFS", "2022", md)], indicators=indicators, cfg=cfg).table


def _with_singleton(md: pd.DataFrame) -> pd.DataFrame:
    """One PSU moved into a stratum of its own (a certainty unit: it adds no variance)."""
    solo = md["psu"] == md["psu"].iloc[0]
    return md.assign(stratum=md["stratum"].where(~solo, "S_SOLO"))


DESIGNS = {  # records, and the svy design of the oracle (svy's names)
    "strata+psu": (lambda md: md, "psu", None),
    "strata-only": (lambda md: md.assign(psu=""), "strata", None),
    "no-design": (lambda md: md.assign(stratum="", psu=""), "none", None),
    "singleton-stratum": (_with_singleton, "psu", "skip"),
}


@pytest.fixture(scope="module")
def survey_lfs() -> pd.DataFrame:
    """20,000 generated records, 20 strata, 200 PSUs."""
    return lfs_microdata(20_000, strata=20, psus=200, seed=5)


@pytest.fixture(scope="module", params=list(DESIGNS))
def compared(request, survey_lfs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(engine, svy) for the whole labour catalogue on the same records and design."""
    prepare, design, singleton = DESIGNS[request.param]
    md = prepare(survey_lfs)
    ours = engine(md, LABOUR)
    expected = oracle_catalogue(md, [catalogue()[i] for i in LABOUR], design=design, singleton=singleton,
                                counts=True)
    return ours, expected


@pytest.mark.parametrize("indicator", LABOUR)
def test_estimates_equal_the_oracle(compared, indicator):
    ours, expected = (t.loc[t["indicator"] == indicator] for t in compared)
    merged = expected.merge(ours, on=CELL, how="left", suffixes=("_o", ""))
    # the engine leaves out unknown-code cells no selected person is in (svy gives 0 for such a domain)
    absent = merged["value"].isna() & (merged[["sex", "age", "migrant_status"]] == "_U").any(axis=1)
    assert (merged.loc[absent, "value_o"] == 0).all() and (merged.loc[absent, "n_obs_o"] == 0).all()
    merged = merged.loc[~absent]
    # every cell: 2 or 3 sex codes (F, M, _U, _T) × 16 five-year + 6 broad age groups + _T × migrant status
    assert len(merged) >= (3 * 23 * (3 if indicator != "migrant_share_employed" else 1)) * 0.9
    assert merged["value"].notna().all(), merged.loc[merged["value"].isna()].head()
    np.testing.assert_allclose(merged["value"], merged["value_o"], rtol=1e-6)
    np.testing.assert_allclose(merged["se"], merged["se_o"], rtol=1e-6, atol=1e-9)
    ok = merged["value_o"].abs() > 0
    assert ok.sum() > 0.7 * len(merged)
    np.testing.assert_allclose(merged.loc[ok, "cv"], merged.loc[ok, "cv_o"], rtol=1e-6)
    np.testing.assert_array_equal(merged["n_obs"], merged["n_obs_o"])
    # every cell svy estimates is there; the engine adds only empty combinations (nobody: 0, n 0)
    extra = ours.merge(expected, on=CELL, how="left", indicator=True)
    extra = extra.loc[extra["_merge"] == "left_only"]
    assert (extra["n_obs_x"] == 0).all() and (extra["value_x"] == 0).all()


def test_output_has_every_combination_and_intervals(lfs):
    t = engine(lfs, ["lfpr"])
    ages = set(t["age"])
    assert {"Y15T19", "Y70T74", "Y_GE75", "Y15T24", "Y25T54", "Y55T64", "Y_GE65", "Y_GE15", "Y15T64", "_T"} <= ages
    assert not ages & {"Y0T4", "Y10T14", "_U"}  # outside the working age
    assert {"F", "M", "_T"} <= set(t["sex"]) and {"MS_MIGRANT", "MS_NOMIGRANT", "_T"} <= set(t["migrant_status"])
    row = t.loc[(t["sex"] == "_T") & (t["age"] == "_T") & (t["migrant_status"] == "_T")].iloc[0]
    assert row["ci_lower"] == pytest.approx(row["value"] - 1.959963984540054 * row["se"])
    assert row["ci_upper"] == pytest.approx(row["value"] + 1.959963984540054 * row["se"])
    assert row["n_obs"] == (pd.to_numeric(lfs["age"]) >= 15).sum() - (
        (pd.to_numeric(lfs["age"]) >= 15) & (lfs["labour_status"] == "_U")).sum()
    assert row["obs_status"] == "A" and row["source"] == "Test LFS" and row["edition"] == "2022"


def test_reliability_flags_and_suppression(lfs):
    cfg = EngineConfig()
    t = engine(lfs, ["unemp_rate"], cfg)
    raw = engine(lfs, ["unemp_rate"])
    assert (raw["obs_status"] == "Q").any() and (raw["obs_status"] == "U").any()
    flagged = raw.loc[raw["obs_status"] == "U"]
    assert ((flagged["cv"] > 16.5) & (flagged["cv"] <= 33.3) & (flagged["n_obs"] >= 30)).all()
    q = raw.loc[raw["obs_status"] == "Q"]
    assert ((q["cv"] > 33.3) | (q["n_obs"] < 30)).all()
    a = raw.loc[raw["obs_status"] == "A"]
    assert ((a["cv"] <= 16.5) & (a["n_obs"] >= 30)).all()
    hidden = t.loc[t["obs_status"] == "Q"]
    assert len(hidden) == len(q) and hidden["value"].isna().all() and hidden["se"].isna().all()
    assert hidden["n_obs"].notna().all()  # the row stays, marked
    strict = engine(lfs, ["unemp_rate"], EngineConfig(suppress=False, cv_flag=1.0, cv_suppress=2.0, min_n=10))
    assert (strict["obs_status"] == "Q").sum() > len(q)


@pytest.mark.parametrize(("prepare", "design"), [
    (lambda md: md, "full"), (lambda md: md.assign(psu=""), "no_psu"), (lambda md: md.assign(stratum=""), "no_strata"),
    (lambda md: md.assign(stratum="", psu=""), "none"),
])
def test_every_estimate_says_which_design_its_se_rests_on(lfs, prepare, design):
    """The ``design`` column on every survey row, and one warning per survey with the note's own words."""
    result = compute_frames(None, [Microdata(5, "lfs", "Test LFS", "2022", prepare(lfs))], indicators=["wap", "lfpr"])
    assert len(result.table) > 100 and set(result.table["design"]) == {design}
    said = [i for i in result.issues if i.file == "dataset #5" and i.column in ("psu", "stratum")]
    if design == "full":
        assert not said
        return
    assert len(said) == 1 and said[0].level == "warning"
    assert said[0].message == f"Survey NPL 2022: {t(f'ind.design.note.{design}')}"
    too_small = "assume simple random sampling" in said[0].message and "probably too small" in said[0].message
    assert too_small == (design in ("no_psu", "none"))


def test_table_rows_have_no_design(lfs):
    from tests.engine.conftest import obs

    stock = obs([{"value": 1000.0}, {"value": 100.0, "migrant_status": "MS_MIGRANT"}], kind="census")
    table = compute_frames(stock, [Microdata(5, "lfs", "Test LFS", "2022", lfs)], indicators=["imm_stock"]).table
    assert len(table) and table["design"].isna().all()


# ---- properties (hypothesis) ----------------------------------------------------------------------
small = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=small, n=st.integers(min_value=200, max_value=1500))
def test_shares_within_0_100_and_parts_sum_to_totals(seed, n):
    md = lfs_microdata(n, strata=4, psus=16, seed=seed)
    t = engine(md, ["lfpr", "unemp_rate", "migrant_share_employed", "wap"])
    rates = t.loc[t["unit"] == "percent", "value"].dropna()
    assert ((rates >= 0) & (rates <= 100 + 1e-9)).all()
    wap = t.loc[t["indicator"] == "wap"].set_index(["sex", "age", "migrant_status"])["value"]
    for ms in ("_T", "MS_MIGRANT"):
        assert wap[("F", "_T", ms)] + wap[("M", "_T", ms)] + wap.get(("_U", "_T", ms), 0) == pytest.approx(
            wap[("_T", "_T", ms)])
    parts = sum(wap.get(("_T", a, "_T"), 0) for a in ["Y15T24", "Y25T54", "Y55T64", "Y_GE65"])
    assert parts == pytest.approx(wap[("_T", "_T", "_T")])
    ms_parts = sum(wap.get(("_T", "Y25T54", m), 0) for m in ("MS_MIGRANT", "MS_NOMIGRANT", "_U"))
    assert ms_parts == pytest.approx(wap[("_T", "Y25T54", "_T")])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=small, factor=st.floats(min_value=1e-3, max_value=1e4))
def test_invariant_to_row_order_and_rates_to_weight_scale(seed, factor):
    md = lfs_microdata(800, strata=4, psus=16, seed=seed)
    base = engine(md, LABOUR)
    shuffled = engine(md.sample(frac=1.0, random_state=seed).reset_index(drop=True), LABOUR)
    cols = ["value", "se", "n_obs"]
    np.testing.assert_allclose(shuffled[cols].to_numpy(float), base[cols].to_numpy(float), rtol=1e-9, atol=1e-9)
    scaled = engine(md.assign(weight=md["weight"] * factor), LABOUR)
    rates = base["unit"] == "percent"
    np.testing.assert_allclose(scaled.loc[rates, cols].to_numpy(float), base.loc[rates, cols].to_numpy(float),
                               rtol=1e-7, atol=1e-9)
    counts = ~rates
    np.testing.assert_allclose(scaled.loc[counts, "value"], base.loc[counts, "value"] * factor, rtol=1e-9)
