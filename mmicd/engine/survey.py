"""Design-based estimates from survey microdata: weighted totals and ratios for every combination
of sex × age group × migrant status (totals included), with Taylor-linearised standard errors.

Fast by construction: persons are integer-coded once into *fine cells* (sex × 16 age groups ×
migrant status × labour status, 612 cells), weights are summed per fine cell × primary sampling unit
with one ``np.bincount``; every indicator and every disaggregation is then a sum of those sums over
the fine cells it covers, one dimension at a time (:func:`by_cells`). Canonical microdata hold their
text columns as categoricals (:func:`mmicd.model.normalise_microdata`): their integer codes are
used as they are, so no text is compared or hashed per person (text columns are factorized).
Variance: with-replacement first stage, strata and PSUs as given
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


def _coded(values: pd.Series, default: str) -> tuple[np.ndarray, list[str]]:
    """(integer code of each value, the texts the codes index). Categorical columns (canonical
    microdata) give their own codes, read as they are; other columns are factorized. A missing
    value has code -1, which indexes the last text: ``default``."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), [*map(str, values.cat.categories), default]
    index, uniques = pd.factorize(values)
    return index, [*map(str, uniques), default]


def _codes_of(values: pd.Series, vocabulary: list[str], stride: int = 1) -> np.ndarray:
    """Integer code of each value in ``vocabulary`` (anything else: the unknown, last, code) times
    ``stride``, as int16 (fine cells number 612: small arrays, less memory to sweep)."""
    index, texts = _coded(values, U)
    lookup = {code: i for i, code in enumerate(vocabulary)}
    return (np.array([lookup.get(t, len(vocabulary) - 1) for t in texts], dtype=np.int16) * stride)[index]


def _ranks(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """The rank of each text among the sorted distinct texts (equal texts share one), and those."""
    distinct = sorted(set(texts))
    position = {t: i for i, t in enumerate(distinct)}
    return np.array([position[t] for t in texts], dtype=np.int64), distinct


# age in completed years -> five-year group (0..15); a missing age (-1 after clipping) -> unknown (16)
_AGE_GROUP = np.array([min(y // 5, 15) for y in range(80)] + [len(AGE_FINE) - 1], dtype=np.int16)


def _age_groups(values: pd.Series, stride: int = 1) -> np.ndarray:
    """The fine age index of each person (the 16 groups, then unknown for a missing age) × ``stride``."""
    if str(values.dtype) == "Int64":
        years = values.to_numpy(dtype=np.int64, na_value=-1, copy=True)
    else:
        years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        years = np.where(np.isnan(years), -1, np.floor(np.nan_to_num(years))).astype(np.int64)
    return (_AGE_GROUP * stride)[np.clip(years, -1, 79, out=years)]


def _single(values: pd.Series) -> bool:
    """Every value the same, none missing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        index = values.cat.codes.to_numpy()
        return bool(index[0] >= 0 and (index == index[0]).all())
    return values.nunique() == 1 and values.notna().all()


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
    if len(md) and _single(md["ref_area"]) and _single(md["time_period"]):  # one survey: no copy of the records
        return [_prepare_one(str(md["ref_area"].iloc[0]), str(md["time_period"].iloc[0]), md)]
    out = []
    for (area, period), g in md.groupby(["ref_area", "time_period"], sort=True, observed=True):
        out.append(_prepare_one(str(area), str(period), g))
    return out


def _prepare_one(area: str, period: str, g: pd.DataFrame) -> Design:
    fine = _codes_of(g["sex"], SEX, len(AGE_FINE) * len(MIGRANT) * len(LABOUR))  # C order: sex, age, mig, lab
    fine += _age_groups(g["age"], len(MIGRANT) * len(LABOUR))
    fine += _codes_of(g["migrant_status"], MIGRANT, len(LABOUR))
    fine += _codes_of(g["labour_status"], LABOUR)
    w = g["weight"].to_numpy(dtype=float)
    h_index, h_texts = _design_codes(g, "stratum")
    p_index, p_texts = _design_codes(g, "psu")
    h_rank, h_distinct = _ranks(h_texts)
    p_rank, p_distinct = _ranks(p_texts)
    # (stratum, PSU) pairs: PSUs are nested in strata; sorted by stratum, then PSU
    pairs = h_rank.astype(_index_type(len(h_distinct) * len(p_distinct)))[h_index]
    pairs *= len(p_distinct)
    pairs += p_rank.astype(pairs.dtype)[p_index]
    uniq, p_codes = _dense_codes(pairs)
    h_present, stratum_of = np.unique(uniq // len(p_distinct), return_inverse=True)
    has_strata = any(h_distinct[h] != "" for h in h_present)
    has_psu = any(p_distinct[p] != "" for p in np.unique(uniq % len(p_distinct)))
    n_strata = len(h_present)
    counts = np.bincount(fine, minlength=N_FINE).astype(float)
    n_p = len(uniq)
    idx = fine.astype(_index_type(N_FINE * n_p))
    idx *= n_p
    idx += p_codes
    wsum = np.bincount(idx, weights=w, minlength=N_FINE * n_p).reshape(N_FINE, n_p)
    if has_psu:
        wsq = None
        n_psu = np.bincount(stratum_of, minlength=n_strata)
    else:  # every person its own PSU: one column per stratum, with per-stratum sums of w and w²
        wsq = np.bincount(idx, weights=w * w, minlength=N_FINE * n_p).reshape(N_FINE, n_p)
        stratum_of = np.arange(n_strata)
        n_psu = np.bincount(p_codes, minlength=n_strata)
    return Design(area, period, wsum, wsq, counts, stratum_of, n_psu, has_psu, has_strata)


def _design_codes(g: pd.DataFrame, col: str) -> tuple[np.ndarray, list[str]]:
    """:func:`_coded` of a design column (stratum, PSU); a column not given is '' for everyone."""
    return _coded(g[col], "") if col in g else (np.zeros(len(g), dtype=np.int8), [""])


def _index_type(span: int) -> type:
    """int32 for indices below ``span`` when they fit (half the memory to sweep), else int64."""
    return np.int32 if span < 2**31 else np.int64


def _dense_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct non-negative keys and each key's index among them (``np.unique`` with
    ``return_inverse``), by counting instead of sorting when the keys span a moderate range."""
    span = int(keys.max()) + 1 if len(keys) else 0
    if span > 4 * len(keys) + 1_000_000:
        return np.unique(keys, return_inverse=True)
    present = np.bincount(keys, minlength=span) > 0
    rank = (np.cumsum(present) - 1).astype(keys.dtype)
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


def output_cells(disaggregations: tuple[str, ...], age_sel: tuple[int, int]) -> tuple[pd.DataFrame, Margins]:
    """Every combination of output codes (totals included), in C order (sex, age, migrant status),
    and per dimension the 0/1 matrix of output codes × fine codes: a cell's fine cells are the
    product of its three codes' (see :func:`by_cells`)."""
    cells, margins = _output_cells(tuple(disaggregations), tuple(age_sel))
    return cells.copy(), margins


Margins = tuple[np.ndarray, np.ndarray, np.ndarray]


@cache
def _output_cells(disaggregations: tuple[str, ...], age_sel: tuple[int, int]) -> tuple[pd.DataFrame, Margins]:
    per_dim = [_output_codes(d, d in disaggregations, age_sel) for d in ("sex", "age", "migrant_status")]
    index = pd.MultiIndex.from_product([[c for c, _ in codes_] for codes_ in per_dim])
    cells = index.to_frame(index=False, name=["sex", "age", "migrant_status"])
    margins = tuple(np.array([mask for _, mask in codes_], dtype=float) for codes_ in per_dim)
    return cells, margins


def by_cells(sums: np.ndarray, select: np.ndarray, margins: Margins) -> np.ndarray:
    """(output cells × columns): for each output cell, the sum of ``sums`` (fine cells × columns)
    over the fine cells it covers that ``select`` (0/1 over fine cells) keeps. Summed one dimension
    at a time (labour status, then sex, age and migrant status by their margins), never through a
    cells × fine cells matrix."""
    cols = sums.shape[1]
    sex, age, mig = margins
    # small products: numpy's own loops (einsum without optimize), not a multi-threaded BLAS whose
    # waiting threads would cost more CPU time than the sums themselves
    kept = np.einsum("fl,flx->fx", select.reshape(-1, len(LABOUR)), sums.reshape(-1, len(LABOUR), cols))
    out = np.einsum("is,sx->ix", sex, kept.reshape(len(SEX), -1))
    out = np.einsum("ja,iax->ijx", age, out.reshape(len(sex), len(AGE_FINE), -1))
    out = np.einsum("km,imp->ikp", mig, out.reshape(len(sex) * len(age), len(MIGRANT), cols))
    return out.reshape(-1, cols)


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
        return np.einsum("cp,cp,p->c", dev, dev, scale[design.stratum_of])  # (no BLAS: see by_cells)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = zsq - z * z / np.where(n_h > 0, n_h, 1)
    return np.einsum("ch,h->c", np.maximum(ss, 0), scale)


def estimate(design: Design, num: np.ndarray, den: np.ndarray | None, margins: Margins,
             factor: float = 1.0) -> pd.DataFrame:
    """Totals (den None) or ratios num/den × factor for every output cell, with SE and n.

    ``num``/``den`` are 0/1 vectors over fine cells; ``margins`` as :func:`output_cells` gives them."""
    wsum, wsq = design.wsum, design.wsq
    counts = design.counts[:, None]
    y_psu = by_cells(wsum, num, margins)
    y = y_psu.sum(axis=1)
    if den is None:
        zsq = by_cells(wsq, num, margins) if wsq is not None else None
        var = _variance(y_psu, design, zsq)
        value, se, n = y * factor, np.sqrt(var) * factor, by_cells(counts, num, margins)[:, 0]
        return pd.DataFrame({"value": value, "se": se, "n_obs": n, "denominator": np.nan})
    x_psu = by_cells(wsum, den, margins)
    x = x_psu.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(x > 0, y / x, np.nan)
        r0 = np.nan_to_num(r)
        inv_x = np.where(x > 0, 1.0 / x, 0.0)
        z = (y_psu - r0[:, None] * x_psu) * inv_x[:, None]
        zsq = None
        if wsq is not None:
            # per person z_i = w_i (y_i − r x_i)/X; y_i and x_i are 0/1 and constant within a fine
            # cell: (1 − r)² where both hold, 1 in the numerator only, r² in the denominator only
            both, num_only, den_only = num * den, num * (1 - den), den * (1 - num)
            zsq = ((1 - r0[:, None]) ** 2 * by_cells(wsq, both, margins) + by_cells(wsq, num_only, margins)
                   + r0[:, None] ** 2 * by_cells(wsq, den_only, margins)) * (inv_x * inv_x)[:, None]
        var = _variance(z, design, zsq)
    return pd.DataFrame({"value": r * factor, "se": np.sqrt(var) * factor, "n_obs": by_cells(counts, den, margins)[:, 0],
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
