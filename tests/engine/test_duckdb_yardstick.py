"""The benchmark's yardstick (bench/engine_duckdb.py: the labour catalogue in SQL on a DuckDB table)
computes exactly the engine's cells and estimates: so the CPU times bench/engine_bench.py compares
are those of the same work."""

from __future__ import annotations

import numpy as np

from bench import engine_duckdb
from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames
from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import normalise_microdata

LABOUR = ["wap", "lfpr", "emp_pop_ratio", "unemp_rate", "migrant_share_employed"]
CELL = ["indicator", "sex", "age", "migrant_status"]


def test_duckdb_gives_the_engine_cells_and_estimates():
    records = normalise_microdata(lfs_microdata(20_000, strata=20, psus=200, seed=7))
    ours = compute_frames(None, [Microdata(1, "lfs", "t", "1", records)], indicators=LABOUR,
                          cfg=EngineConfig(suppress=False)).table
    theirs = engine_duckdb.estimates(engine_duckdb.load(records), [catalogue()[i] for i in LABOUR])
    merged = ours.merge(theirs, on=CELL, how="outer", suffixes=("", "_d"), indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(ours) > 1_200
    for col in ("value", "se", "cv", "n_obs"):
        a, b = merged[col].to_numpy(float), merged[col + "_d"].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), col
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=1e-9, err_msg=col)
    lfpr = merged.loc[(merged["indicator"] == "lfpr") & (merged[["sex", "age", "migrant_status"]] == "_T").all(axis=1)]
    assert 40 < float(lfpr["value"].iloc[0]) < 80 and float(lfpr["se"].iloc[0]) > 0  # a real rate with a real SE
