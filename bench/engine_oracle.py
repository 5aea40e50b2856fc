"""The test oracle: the same survey estimates computed with samplics (design-based Taylor
linearisation, validated against R ``survey``), one call per partition of the sample into domains.

Used by tests/engine/test_survey.py and bench/engine_bench.py; samplics is a test dependency only.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from mmicd.engine import aggregate, survey
from mmicd.engine.catalogue import Indicator

AGE_LEVELS = ["fine", *survey.BROAD, "_T"]


def _labels(md: pd.DataFrame) -> dict[str, np.ndarray]:
    age = pd.to_numeric(md["age"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    fine = np.where(np.isnan(age), "_U", np.array(survey.AGE5, dtype=object)[
        np.minimum(np.nan_to_num(age) // 5, 15).astype(int)])
    return {"sex": md["sex"].astype(str).to_numpy(), "age": fine.astype(object), "age_years": age,
            "migrant_status": md["migrant_status"].astype(str).to_numpy(),
            "labour_status": md["labour_status"].astype(str).to_numpy()}


def _select(lab: dict, selection: dict) -> np.ndarray:
    keep = np.ones(len(lab["sex"]), dtype=bool)
    for dim, values in selection.items():
        if dim == "measure":
            continue
        if dim == "age":
            lower, upper = aggregate.age_range(values)
            a = lab["age_years"]
            keep &= ~np.isnan(a) & (np.nan_to_num(a) >= lower) & (np.nan_to_num(a) <= upper)
        else:
            keep &= np.isin(lab[dim], list(values))
    return keep


def oracle(md: pd.DataFrame, ind: Indicator, *, design: bool = True) -> pd.DataFrame:
    """Estimates of ``ind`` for every output cell (sex × age × migrant status with totals) by samplics."""
    from samplics import PopParam, TaylorEstimator

    lab = _labels(md)
    y = _select(lab, ind.numerator).astype(float)
    x = _select(lab, ind.denominator).astype(float) if ind.denominator is not None else None
    w = md["weight"].to_numpy(dtype=float)
    stratum = md["stratum"].astype(str).to_numpy() if design else None
    psu = md["psu"].astype(str).to_numpy() if design else None
    table = aggregate.age_table()
    levels = {
        "sex": ["part", "_T"] if "sex" in ind.disaggregations else ["_T"],
        "age": AGE_LEVELS if "age" in ind.disaggregations else ["_T"],
        "migrant_status": ["part", "_T"] if "migrant_status" in ind.disaggregations else ["_T"],
    }
    out = []
    for sex_l, age_l, mig_l in itertools.product(levels["sex"], levels["age"], levels["migrant_status"]):
        sex = lab["sex"] if sex_l == "part" else np.full(len(w), "_T", dtype=object)
        mig = lab["migrant_status"] if mig_l == "part" else np.full(len(w), "_T", dtype=object)
        if age_l == "fine":
            age = lab["age"]
        elif age_l == "_T":
            age = np.full(len(w), "_T", dtype=object)
        else:  # a broad group: its members, everybody else in a separate (ignored) domain
            lo, up = table.at[age_l, "lower"], table.at[age_l, "upper"]
            a = lab["age_years"]
            inside = ~np.isnan(a) & (np.nan_to_num(a) >= lo) & (np.nan_to_num(a) <= up)
            age = np.where(inside, age_l, "~other")
        domain = pd.Series(sex).str.cat([pd.Series(age), pd.Series(mig)], sep="|").to_numpy()
        shift = 0.0
        zero: list[str] = []
        if x is None:
            # samplics divides by the estimate for its CV: a domain whose total is 0 (all its y are 0) is
            # relabelled into another domain, which changes nothing there (records with y = 0 add
            # nothing to a domain total or its variance); its own estimate is 0 with SE 0
            totals = pd.Series(w * y).groupby(domain).sum()
            zero = [d for d in totals.index if totals[d] == 0]
            if zero and len(zero) < len(totals):
                keep = totals.index[totals > 0][0]
                domain = np.where(np.isin(domain, zero), keep, domain)
        else:
            # ratio of (y + x) to x = R + 1 has exactly the linearised variance of R (z is unchanged),
            # and is never 0 where x > 0, which samplics' CV needs
            y_used, shift = y + x, 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if x is None:
                est = TaylorEstimator(PopParam.total)
                est.estimate(y=y, samp_weight=w, stratum=stratum, psu=psu, domain=domain)
            else:
                est = TaylorEstimator(PopParam.ratio)
                est.estimate(y=y_used, x=x, samp_weight=w, stratum=stratum, psu=psu, domain=domain)
        results = [(str(k), v - shift, est.stderror[k]) for k, v in est.point_est.items()]
        results += [(str(d), 0.0, 0.0) for d in zero]
        for key, value, se in results:
            s, a, m = key.split("|")
            if a == "~other":
                continue
            out.append((s, a, m, value * ind.factor, se * ind.factor))
    frame = pd.DataFrame(out, columns=["sex", "age", "migrant_status", "value", "se"])
    if "age" in ind.numerator:  # the engine reports the ages of the selected range only
        lower, upper = aggregate.age_range(ind.numerator["age"])
        inside = frame["age"].map(lambda c: c == "_T" or aggregate.within(c, lower, upper))
        frame = frame.loc[inside]
    return frame.reset_index(drop=True)
