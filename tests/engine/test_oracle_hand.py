"""A survey small enough to linearise by hand: the engine and svy (the oracle) both give the
textbook values (GUIDE: V = Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)², z = w(y − R x)/X for a ratio)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.engine_oracle import oracle_catalogue
from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames

# stratum, psu, weight, labour status; everybody a 30-year-old migrant woman
PERSONS = [("A", "a1", 10, "EMP"), ("A", "a1", 10, "INA"), ("A", "a2", 20, "UNE"),
           ("B", "b1", 5, "EMP"), ("B", "b2", 5, "EMP"), ("B", "b2", 15, "INA"), ("B", "b3", 10, "UNE")]
# lfpr R = Y/X = 50/75. PSU sums of w(y − R x): A: −10/3, 20/3; B: 5/3, −25/3, 10/3.
# A: 2/1 · (5² + 5²) = 100; B: 3/2 · ((25/9)² + (65/9)² + (40/9)²) = 9675/81; V(R) = (17775/81)/75² = 79/2025.
# wap: PSU totals A: 20, 20; B: 5, 20, 10 → 0 + 3/2 · 1050/9 = 175.
# Without design (7 persons, one stratum): V(R) = 7/6 · Σ d_i² / X² = 7/6 · (1950/9) / 5625 = 91/2025;
# V(wap) = 7/6 · (Σw² − 75²/7) = 7/6 · 1200/7 = 200.
EXPECTED = {
    "psu": {"lfpr": (200 / 3, 100 * math.sqrt(79) / 45), "wap": (75.0, 5 * math.sqrt(7))},
    "none": {"lfpr": (200 / 3, 100 * math.sqrt(91) / 45), "wap": (75.0, 10 * math.sqrt(2))},
}


def _records(design: str) -> pd.DataFrame:
    frame = pd.DataFrame(PERSONS, columns=["stratum", "psu", "weight", "labour_status"])
    frame = frame.assign(ref_area="NPL", time_period="2022", sex="F", age=pd.array([30] * len(frame), dtype="Int64"),
                         migrant_status="MS_MIGRANT", weight=frame["weight"].astype(float))
    return frame if design == "psu" else frame.assign(stratum="", psu="")


@pytest.mark.parametrize("design", ["psu", "none"])
@pytest.mark.parametrize("indicator", ["lfpr", "wap"])
def test_engine_and_svy_give_the_hand_computed_values(design, indicator):
    value, se = EXPECTED[design][indicator]
    md = _records(design)
    ours = compute_frames(None, [Microdata(1, "lfs", "Hand", "1", md)], indicators=[indicator],
                          cfg=EngineConfig(suppress=False)).table
    svy = oracle_catalogue(md, [catalogue()[indicator]], design=design)
    for table in (ours, svy):
        row = table.loc[(table["sex"] == "_T") & (table["age"] == "_T") & (table["migrant_status"] == "_T")].iloc[0]
        assert row["value"] == pytest.approx(value, rel=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-12)
        assert row["cv"] == pytest.approx(se / value * 100, rel=1e-12)
