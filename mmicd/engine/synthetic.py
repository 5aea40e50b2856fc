"""Generated labour-force-survey microdata (deterministic) for tests, demos and the benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd


def lfs_microdata(n: int = 20_000, *, strata: int = 20, psus: int = 200, seed: int = 0,
                  ref_area: str = "NPL", time_period: str = "2022", design: bool = True) -> pd.DataFrame:
    """``n`` person records in canonical microdata columns, PSUs nested in strata (at least 2 each)."""
    rng = np.random.default_rng(seed)
    psus = max(psus, 2 * strata)
    psu = rng.integers(0, psus, n)
    stratum = psu % strata
    psu_effect = rng.normal(0, 0.4, psus)[psu]
    sex = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
    sex[rng.random(n) < 0.003] = "_U"
    age = np.minimum(rng.gamma(3.0, 11.0, n).astype(int), 95).astype(float)
    age[rng.random(n) < 0.002] = np.nan
    p_mig = 1 / (1 + np.exp(-(-2.2 + psu_effect + 0.4 * (stratum % 3))))
    migrant = np.where(rng.random(n) < p_mig, "MS_MIGRANT", "MS_NOMIGRANT")
    migrant[rng.random(n) < 0.005] = "_U"
    in_lf = rng.random(n) < np.clip(0.72 - 0.12 * (sex == "F") + 0.05 * (migrant == "MS_MIGRANT")
                                    - 0.5 * (np.nan_to_num(age, nan=40) >= 65) + 0.1 * psu_effect, 0.02, 0.98)
    unemployed = rng.random(n) < np.clip(0.07 + 0.04 * (migrant == "MS_MIGRANT") + 0.05 * psu_effect, 0.01, 0.5)
    labour = np.where(in_lf, np.where(unemployed, "UNE", "EMP"), "INA")
    labour[np.nan_to_num(age, nan=40) < 15] = "INA"
    labour[rng.random(n) < 0.003] = "_U"
    weight = np.exp(rng.normal(5.0, 0.35, psus))[psu] * rng.uniform(0.8, 1.25, n)
    frame = pd.DataFrame({
        "ref_area": ref_area, "time_period": time_period, "sex": sex,
        "age": pd.array(age, dtype="Float64").astype("Int64"), "migrant_status": migrant,
        "labour_status": labour, "weight": weight,
        "stratum": [f"S{s:03d}" for s in stratum] if design else "",
        "psu": [f"P{p:05d}" for p in psu] if design else "",
    })
    return frame
