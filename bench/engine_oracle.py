"""The test oracle: the same survey estimates computed with ``svy`` (design-based Taylor
linearisation; its results are checked against R ``survey`` by its authors).

Used by tests/engine/test_survey.py and bench/engine_bench.py; svy is a test dependency only.

Written the way a svy user would: the person records become one polars frame with 0/1 columns for
each indicator's numerator and denominator and one label column per age grouping, bound once to
its design (``svy.Design(stratum=, psu=, wgt=)``, or weights only); every *partition* of the
sample into domains is then ONE ``estimation.total``/``estimation.ratio`` call with ``by=`` the
columns of that partition (svy keeps the full design for the variance of each domain). An
indicator needs a partition per level of each disaggregation: sex (by sex, or all), migrant status
(by status, or all) and age (by five-year group; by the broad groups 15–24/25–54/55–64/65+; by
15–64; by 15+; or all), i.e. up to 2 × 5 × 2 = 20 calls. Overlapping groups cannot share a call.

Deliberately independent of the engine: age groups, selections and output cells are spelled out
here from the codes, not taken from ``mmicd.engine``.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd

T, U, OTHER = "_T", "_U", "~other"
INF = math.inf
AGE5 = {f"Y{lo}T{lo + 4}": (lo, lo + 4) for lo in range(0, 75, 5)} | {"Y_GE75": (75, INF)}
BROAD4 = {"Y15T24": (15, 24), "Y25T54": (25, 54), "Y55T64": (55, 64), "Y_GE65": (65, INF)}
# age levels of an indicator disaggregated by age: the by-column of each (None: no age domain)
AGE_LEVELS = {"age5": "_age5", "broad4": "_broad4", "Y15T64": "_y15t64", "Y_GE15": "_yge15", T: None}


def age_bounds(code: str) -> tuple[float, float]:
    """Years covered by an SDMX age code (Y15T64 → 15..64, Y_GE15 → 15..∞, _T → 0..∞)."""
    if code == T:
        return 0, INF
    if m := re.fullmatch(r"Y(\d+)T(\d+)", code):
        return int(m[1]), int(m[2])
    if m := re.fullmatch(r"Y_GE(\d+)", code):
        return int(m[1]), INF
    raise ValueError(f"age code {code!r}")


def _values(selection, dim: str) -> list[str] | None:
    v = selection.get(dim)
    if v is None:
        return None
    return [v] if isinstance(v, str) else list(v)


def _selected(pl, selection: dict) -> object:
    """A polars expression: 1.0 for the persons a numerator/denominator selection keeps."""
    keep = pl.lit(True)
    for dim in selection:
        values = _values(selection, dim)
        if dim == "measure":
            continue
        if dim == "age":
            lo, up = age_bounds(values[0])
            for code in values[1:]:
                lo, up = min(lo, age_bounds(code)[0]), max(up, age_bounds(code)[1])
            cond = pl.col("age") >= lo
            if up != INF:
                cond = cond & (pl.col("age") <= up)
            keep = keep & cond.fill_null(False)  # unknown age is in no age range
        elif set(values) != {T}:
            keep = keep & pl.col(dim).is_in(values)
    return keep.cast(pl.Float64)


def _label(pl, groups: dict[str, tuple[float, float]], other: str = OTHER) -> object:
    """The age-group label of each person (``other`` outside every group, and for unknown age)."""
    expr = None
    for code, (lo, up) in groups.items():
        cond = pl.col("age") >= lo if up == INF else pl.col("age").is_between(lo, up)
        expr = pl.when(cond).then(pl.lit(code)) if expr is None else expr.when(cond).then(pl.lit(code))
    return expr.otherwise(pl.lit(other))


class Oracle:
    """The records bound to their svy design, with the columns every labour indicator needs."""

    def __init__(self, md: pd.DataFrame, indicators, *, design: str = "psu", singleton: str | None = None):
        """``design``: "psu" (strata and PSUs), "strata" (strata, persons as PSUs) or "none" (weights
        only: with replacement); ``singleton``: svy's rule for strata with one PSU ("skip": they add
        no variance, R's lonely.psu="certainty")."""
        import polars as pl
        import svy

        self.pl = pl
        self.indicators = list(indicators)
        cols = ["sex", "age", "migrant_status", "labour_status", "weight", "stratum", "psu"]
        frame = pl.from_pandas(md[cols].reset_index(drop=True))
        frame = frame.with_columns(pl.col("age").cast(pl.Float64))
        derived = {
            "_age5": _label(pl, AGE5, other=U),
            "_broad4": _label(pl, BROAD4),
            "_y15t64": _label(pl, {"Y15T64": (15, 64)}),
            "_yge15": _label(pl, {"Y_GE15": (15, INF)}),
        }
        for ind in self.indicators:
            derived[f"y_{ind.id}"] = _selected(pl, ind.numerator)
            if ind.denominator is not None:
                derived[f"x_{ind.id}"] = _selected(pl, ind.denominator)
        frame = frame.with_columns(**derived)
        spec = {"psu": svy.Design(stratum="stratum", psu="psu", wgt="weight", singleton=singleton),
                "strata": svy.Design(stratum="stratum", wgt="weight", singleton=singleton),
                "none": svy.Design(wgt="weight")}[design]
        self.frame = frame
        self.sample = svy.Sample(frame, spec)
        self.calls = 0

    def estimates(self, ind, *, counts: bool = False) -> pd.DataFrame:
        """Every output cell of ``ind``: sex × age × migrant status (totals ``_T`` included).

        ``counts``: also ``n_obs``, the persons of the cell in the denominator (totals: in the
        numerator), counted with a plain polars group-by (not svy, whose ``n`` is the domain size)."""
        sex_levels = ["sex", T] if "sex" in ind.disaggregations else [T]
        mig_levels = ["migrant_status", T] if "migrant_status" in ind.disaggregations else [T]
        age_levels = list(AGE_LEVELS) if "age" in ind.disaggregations else [T]
        rows = []
        for sex_l, age_l, mig_l in itertools.product(sex_levels, age_levels, mig_levels):
            by = [c for c in (sex_l, AGE_LEVELS[age_l], mig_l) if c not in (T, None)]
            if ind.denominator is None:
                result = self.sample.estimation.total(f"y_{ind.id}", by=by or None)
            else:
                result = self.sample.estimation.ratio(f"y_{ind.id}", f"x_{ind.id}", by=by or None)
            self.calls += 1
            out = result.to_polars().to_pandas()
            if counts:
                sel = f"x_{ind.id}" if ind.denominator is not None else f"y_{ind.id}"
                if by:
                    n = self.frame.group_by(by).agg(n_obs=self.pl.col(sel).sum()).to_pandas()
                    out = out.merge(n, on=by, how="left")
                else:
                    out["n_obs"] = float(self.frame[sel].sum())
            for dim, level in (("sex", sex_l), ("migrant_status", mig_l)):
                if level == T:
                    out[dim] = T
            out["age"] = T if AGE_LEVELS[age_l] is None else out[AGE_LEVELS[age_l]]
            rows.append(out[["sex", "age", "migrant_status", "est", "se", "cv", *(["n_obs"] if counts else [])]])
        frame = pd.concat(rows, ignore_index=True)
        frame = frame.loc[frame["age"] != OTHER]
        # the cells of the ages the numerator covers (unknown age is in none of them)
        lo, up = age_bounds(_values(ind.numerator, "age")[0]) if "age" in ind.numerator else (0, INF)
        inside = frame["age"].map(lambda c: c == T or (c != U and lo <= age_bounds(c)[0]
                                                        and age_bounds(c)[1] <= up))
        if "age" not in ind.numerator:
            inside |= frame["age"] == U
        frame = frame.loc[inside]
        if ind.denominator is not None:  # a ratio exists where its denominator does
            frame = frame.loc[frame["est"].notna()]
        with np.errstate(invalid="ignore"):
            cv = np.where(frame["est"].to_numpy() != 0, frame["cv"].to_numpy() * 100, np.nan)
        out = pd.DataFrame({
            "indicator": ind.id, "sex": frame["sex"].to_numpy(), "age": frame["age"].to_numpy(),
            "migrant_status": frame["migrant_status"].to_numpy(),
            "value": frame["est"].to_numpy() * ind.factor, "se": frame["se"].to_numpy() * ind.factor, "cv": cv,
        })
        if counts:
            out["n_obs"] = frame["n_obs"].to_numpy(dtype=float)
        return out


def oracle(md: pd.DataFrame, ind, *, design: str = "psu", counts: bool = False) -> pd.DataFrame:
    """Estimates of one indicator for every output cell by svy (see :class:`Oracle`)."""
    return Oracle(md, [ind], design=design).estimates(ind, counts=counts)


def oracle_catalogue(md: pd.DataFrame, indicators, *, design: str = "psu", singleton: str | None = None,
                     counts: bool = False) -> pd.DataFrame:
    """Every cell of every indicator, the records bound to their design once."""
    o = Oracle(md, indicators, design=design, singleton=singleton)
    return pd.concat([o.estimates(ind, counts=counts) for ind in o.indicators], ignore_index=True)
