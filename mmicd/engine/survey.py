"""Design-based estimates from survey microdata: weighted totals and ratios for every combination
of sex × age group × migrant status (totals included), with Taylor-linearised standard errors.

Fast by construction: persons are integer-coded once into *fine cells* (sex × 16 age groups ×
migrant status × labour status, 612 cells), weights are summed per fine cell × primary sampling unit
with one ``np.bincount``; every indicator and every disaggregation is then a 0/1 matrix product over
those sums. Variance: with-replacement first stage, strata and PSUs as given
(V = Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)², the default of R ``survey`` and of svy, the test oracle).
Without PSUs each person is its own PSU (simple random sampling within strata: standard errors of a
clustered sample come out too small); without strata there is one stratum. Every estimate carries
the design it was computed with (:data:`DESIGNS`, the ``design`` output column) and a missing part
is reported as an Issue. Strata with a single PSU add no variance (R's ``lonely.psu = "certainty"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from mmicd import codes
from mmicd.engine.aggregate import OPEN_UPPER, age_range, bounds
from mmicd.engine.config import EngineConfig

T, U = codes.TOTAL, codes.UNKNOWN
SEX = ["F", "M", U]
MIGRANT = ["MS_MIGRANT", "MS_NOMIGRANT", U]
LABOUR = ["EMP", "UNE", "INA", U]
AGE5 = [f"Y{lo}T{lo + 4}" for lo in range(0, 75, 5)] + ["Y_GE75"]  # the 16 age groups
AGE_FINE = [*AGE5, U]
BROAD = ["Y15T24", "Y25T54", "Y55T64", "Y_GE65", "Y_GE15", "Y15T64"]
N_FINE = len(SEX) * len(AGE_FINE) * len(MIGRANT) * len(LABOUR)
# the survey design an estimate's standard error rests on: strata and PSUs; strata only (persons as
# PSUs: simple random sampling within strata, SEs probably too small); PSUs only (one stratum: the
# stratification ignored, SEs usually somewhat too large); neither (simple random sampling)
DESIGNS = ("full", "no_psu", "no_strata", "none")
INCOMPLETE = DESIGNS[1:]
DIM_CODES = {"sex": SEX, "age": AGE_FINE, "migrant_status": MIGRANT, "labour_status": LABOUR}


def _fine_index() -> pd.DataFrame:
    """The code of each fine cell along each dimension (C order: sex, age, migrant, labour)."""
    grid = np.indices((len(SEX), len(AGE_FINE), len(MIGRANT), len(LABOUR))).reshape(4, -1)
    return pd.DataFrame({
        "sex": np.array(SEX)[grid[0]], "age": np.array(AGE_FINE)[grid[1]],
        "migrant_status": np.array(MIGRANT)[grid[2]], "labour_status": np.array(LABOUR)[grid[3]],
    })


FINE = _fine_index()


def _codes_of(values: pd.Series, vocabulary: list[str]) -> np.ndarray:
    """Integer code of each value in ``vocabulary``; anything else is the unknown (last) code."""
    lookup = {code: i for i, code in enumerate(vocabulary)}
    codes_, uniques = pd.factorize(values.astype("string").fillna(U))
    mapped = np.array([lookup.get(u, len(vocabulary) - 1) for u in uniques], dtype=np.int64)
    return mapped[codes_] if len(uniques) else np.zeros(len(values), dtype=np.int64)


@dataclass
class Design:
    """One survey (one area and period) reduced to weight sums per fine cell and PSU."""

    ref_area: str
    time_period: str
    wsum: np.ndarray  # (N_FINE, P) sum of weights; P = PSUs, or strata when each person is a PSU
    wsq: np.ndarray | None  # (N_FINE, P) sum of squared weights (person-level PSUs only)
    counts: np.ndarray  # (N_FINE,) unweighted persons
    stratum_of: np.ndarray  # (P,) stratum index of each column
    n_psu: np.ndarray  # (H,) PSUs per stratum
    has_psu: bool
    has_strata: bool

    @property
    def design(self) -> str:
        """``full``, ``no_psu``, ``no_strata`` or ``none`` (see :data:`DESIGNS`)."""
        if self.has_psu:
            return "full" if self.has_strata else "no_strata"
        return "no_psu" if self.has_strata else "none"


def prepare(md: pd.DataFrame) -> list[Design]:
    """Reduce microdata (canonical columns) to one :class:`Design` per (ref_area, time_period)."""
    one = len(md) and all(md[c].nunique() == 1 and md[c].notna().all() for c in ("ref_area", "time_period"))
    if one:  # a single survey: no copy of the records
        return [_prepare_one(str(md["ref_area"].iloc[0]), str(md["time_period"].iloc[0]), md)]
    out = []
    for (area, period), g in md.groupby(["ref_area", "time_period"], sort=True, observed=True):
        out.append(_prepare_one(str(area), str(period), g))
    return out


def _prepare_one(area: str, period: str, g: pd.DataFrame) -> Design:
    sex = _codes_of(g["sex"], SEX)
    mig = _codes_of(g["migrant_status"], MIGRANT)
    lab = _codes_of(g["labour_status"], LABOUR)
    age = pd.to_numeric(g["age"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    a = np.where(np.isnan(age), len(AGE_FINE) - 1, np.minimum(np.nan_to_num(age) // 5, 15)).astype(np.int64)
    fine = ((sex * len(AGE_FINE) + a) * len(MIGRANT) + mig) * len(LABOUR) + lab
    w = g["weight"].to_numpy(dtype=float)
    strata = g["stratum"].astype("string").fillna("") if "stratum" in g else pd.Series("", index=g.index)
    psu = g["psu"].astype("string").fillna("") if "psu" in g else pd.Series("", index=g.index)
    has_strata = bool((strata != "").any())
    has_psu = bool((psu != "").any())
    h_codes, h_uniques = pd.factorize(strata, sort=True)
    n_strata = len(h_uniques)
    counts = np.bincount(fine, minlength=N_FINE).astype(float)
    if has_psu:
        raw_psu, psu_uniques = pd.factorize(psu)
        pairs = h_codes.astype(np.int64) * max(len(psu_uniques), 1) + raw_psu
        uniq, p_codes = _dense_codes(pairs)  # PSUs are nested in strata
        n_p = len(uniq)
        stratum_of = uniq // max(len(psu_uniques), 1)
        wsum = np.bincount(fine * n_p + p_codes, weights=w, minlength=N_FINE * n_p).reshape(N_FINE, n_p)
        wsq = None
        n_psu = np.bincount(stratum_of, minlength=n_strata)
    else:  # every person its own PSU: keep per-stratum sums of w and w²
        idx = fine * n_strata + h_codes
        wsum = np.bincount(idx, weights=w, minlength=N_FINE * n_strata).reshape(N_FINE, n_strata)
        wsq = np.bincount(idx, weights=w * w, minlength=N_FINE * n_strata).reshape(N_FINE, n_strata)
        stratum_of = np.arange(n_strata)
        n_psu = np.bincount(h_codes, minlength=n_strata)
    return Design(area, period, wsum, wsq, counts, stratum_of, n_psu, has_psu, has_strata)


def _dense_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct non-negative keys and each key's index among them (``np.unique`` with
    ``return_inverse``), by counting instead of sorting when the keys span a moderate range."""
    span = int(keys.max()) + 1 if len(keys) else 0
    if span > 4 * len(keys) + 1_000_000:
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys, minlength=span) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present), rank[keys]


def selection_vector(selection: dict[str, tuple[str, ...]]) -> np.ndarray:
    """1.0 for the fine cells a selection keeps (age as a year range; unknown ages excluded)."""
    return _selection_vector(tuple(sorted(selection.items()))).copy()


@cache
def _selection_vector(items: tuple) -> np.ndarray:
    keep = np.ones(N_FINE, dtype=bool)
    for dim, values in items:
        if dim == "measure":
            continue
        if dim == "age":
            lower, upper = age_range(values)
            keep &= FINE["age"].map(lambda c, lo=lower, up=upper: _age_within(c, lo, up)).to_numpy()
        elif dim in DIM_CODES and set(values) != {T}:
            keep &= FINE[dim].isin(values).to_numpy()
    return keep.astype(float)


def _age_within(code: str, lower: int, upper: int) -> bool:
    if code == U:
        return lower == 0 and upper == OPEN_UPPER
    lo, up = bounds()[code]
    return lo >= lower and up <= upper


def _output_codes(dim: str, disaggregated: bool, age_sel: tuple[int, int]) -> list[tuple[str, np.ndarray]]:
    """Output codes of a dimension, each with the fine codes it covers (a boolean over the dim's codes)."""
    vocab = DIM_CODES[dim]
    if not disaggregated:
        return [(T, np.ones(len(vocab), dtype=bool))]
    out = [(c, np.array([v == c for v in vocab])) for c in vocab]
    if dim == "age":
        lower, upper = age_sel
        bd = bounds()
        for b in BROAD:
            members = np.array([v != U and bd[v][0] >= bd[b][0] and bd[v][1] <= bd[b][1] for v in vocab])
            out.append((b, members))
        out = [(c, m) for c, m in out if c == U and (lower, upper) == (0, OPEN_UPPER)
               or c != U and _age_within(c, lower, upper)]
    out.append((T, np.ones(len(vocab), dtype=bool)))
    return out


def output_cells(disaggregations: tuple[str, ...], age_sel: tuple[int, int]) -> tuple[pd.DataFrame, np.ndarray]:
    """Every combination of output codes (totals included) and its 0/1 membership over fine cells."""
    cells, members = _output_cells(tuple(disaggregations), tuple(age_sel))
    return cells.copy(), members


@cache
def _output_cells(disaggregations: tuple[str, ...], age_sel: tuple[int, int]) -> tuple[pd.DataFrame, np.ndarray]:
    per_dim = [_output_codes(d, d in disaggregations, age_sel) for d in ("sex", "age", "migrant_status")]
    rows, mats = [], []
    sex_i = np.arange(N_FINE) // (len(AGE_FINE) * len(MIGRANT) * len(LABOUR))
    age_i = np.arange(N_FINE) // (len(MIGRANT) * len(LABOUR)) % len(AGE_FINE)
    mig_i = np.arange(N_FINE) // len(LABOUR) % len(MIGRANT)
    for s_code, s_mask in per_dim[0]:
        for a_code, a_mask in per_dim[1]:
            for m_code, m_mask in per_dim[2]:
                rows.append((s_code, a_code, m_code))
                mats.append(s_mask[sex_i] & a_mask[age_i] & m_mask[mig_i])
    cells = pd.DataFrame(rows, columns=["sex", "age", "migrant_status"])
    return cells, np.array(mats, dtype=float)


def _variance(z: np.ndarray, design: Design, zsq: np.ndarray | None = None) -> np.ndarray:
    """Σ_h n_h/(n_h−1) Σ_j (z_hj − z̄_h)² for every row of ``z`` (rows: cells, columns: PSUs).

    Person-level PSUs: ``z`` holds per-stratum sums and ``zsq`` per-stratum sums of squares.
    Strata with a single PSU contribute nothing (certainty units)."""
    n_h = design.n_psu.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n_h > 1, n_h / (n_h - 1), 0.0)
    if zsq is None:
        # columns are ordered by stratum (prepare sorts PSUs within strata): sum each run of columns
        present = np.flatnonzero(design.n_psu > 0)
        starts = np.concatenate([[0], np.cumsum(design.n_psu[present])[:-1]])
        means = np.add.reduceat(z, starts, axis=1) / n_h[present]
        dev = z - np.repeat(means, design.n_psu[present], axis=1)
        return (dev * dev) @ scale[design.stratum_of]
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = zsq - z * z / np.where(n_h > 0, n_h, 1)
    return np.maximum(ss, 0) @ scale


def estimate(design: Design, num: np.ndarray, den: np.ndarray | None, members: np.ndarray,
             factor: float = 1.0) -> pd.DataFrame:
    """Totals (den None) or ratios num/den × factor for every output cell, with SE and n.

    ``num``/``den`` are 0/1 vectors over fine cells; ``members`` is (cells × fine cells).
    Only the fine cells the numerator or denominator selects take part in the products."""
    used = np.flatnonzero((num > 0) | (den > 0)) if den is not None else np.flatnonzero(num > 0)
    wsum, counts = design.wsum[used], design.counts[used]
    wsq = design.wsq[used] if design.wsq is not None else None
    members, num = members[:, used], num[used]
    my = members * num
    y_psu = my @ wsum
    y = y_psu.sum(axis=1)
    if den is None:
        zsq = (my @ wsq) if wsq is not None else None
        var = _variance(y_psu, design, zsq)
        value, se, n = y * factor, np.sqrt(var) * factor, my @ counts
        return pd.DataFrame({"value": value, "se": se, "n_obs": n, "denominator": np.nan})
    den = den[used]
    mx = members * den
    x_psu = mx @ wsum
    x = x_psu.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(x > 0, y / x, np.nan)
        r0 = np.nan_to_num(r)
        inv_x = np.where(x > 0, 1.0 / x, 0.0)
        z = (y_psu - r0[:, None] * x_psu) * inv_x[:, None]
        zsq = None
        if wsq is not None:
            # per person z_i = w_i (y_i − r x_i)/X; y_i and x_i are constant within a fine cell
            coef = (num[None, :] - r0[:, None] * den[None, :]) * members
            zsq = ((coef * coef) @ wsq) * (inv_x * inv_x)[:, None]
        var = _variance(z, design, zsq)
    return pd.DataFrame({"value": r * factor, "se": np.sqrt(var) * factor, "n_obs": mx @ counts,
                         "denominator": x})


def reliability(frame: pd.DataFrame, cfg: EngineConfig) -> pd.DataFrame:
    """CI, CV and obs_status (A, U flagged, Q suppressed) from value, se and n_obs."""
    out = frame.copy()
    value, se = out["value"].to_numpy(dtype=float), out["se"].to_numpy(dtype=float)
    out["ci_lower"] = value - cfg.z * se
    out["ci_upper"] = value + cfg.z * se
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(np.abs(value) > 0, se / np.abs(value) * 100, np.nan)
    out["cv"] = cv
    status = np.full(len(out), "A", dtype=object)
    status[np.nan_to_num(cv) > cfg.cv_flag] = "U"
    suppress = (out["n_obs"].to_numpy() < cfg.min_n) | (np.nan_to_num(cv) > cfg.cv_suppress) | np.isnan(value)
    status[suppress] = "Q"
    out["obs_status"] = status
    return out
