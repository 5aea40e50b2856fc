"""The labour catalogue computed by DuckDB, in SQL, on a native DuckDB table: the yardstick of
bench/engine_bench.py (duckdb is a bench dependency only, pinned in requirements-dev.txt).

What DuckDB computes, per indicator, for every output cell (sex × age × migrant status, the codes
the engine puts out, totals included) of the full design (strata and PSUs, with-replacement first
stage, the design of the benchmark's records):

* the weighted total Y = Σ w·y (counts) or the ratio R = Y/X × factor, X = Σ w·x (rates, shares),
  where y and x are the 0/1 numerator and denominator selections of the catalogue;
* the Taylor-linearised variance V = Σ_h n_h/(n_h−1) (Σ_j z_hj² − (Σ_j z_hj)²/n_h), with
  z_hj = Y_hj (totals) or (Y_hj − R·X_hj)/X (ratios) summed per PSU j of stratum h, n_h the PSUs of
  stratum h in the whole sample (a PSU without a person of the cell adds z = 0) and strata with a
  single PSU adding nothing; SE = √V × factor, CV = SE/|value| × 100;
* n_obs: the persons in the numerator (totals) or the denominator (ratios).

Cells are the engine's: every combination of the output codes, ratios only where X > 0, totals
without a cell with an unknown code and no person. As the engine does, DuckDB first reduces the
records to weight sums per fine cell (sex × five-year age group × migrant status × labour status)
and PSU (one GROUP BY over the table: the pass over the ten million rows), then every estimate is
SQL over those sums. The definitions (age groups, selections) are spelled out here and in
bench/engine_oracle.py from the codes, not taken from ``mmicd.engine``.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.engine_oracle import AGE5, BROAD4, T, U, _values, age_bounds

SEX = ["F", "M", U]               # fine codes 0, 1, 2 (anything else: 2)
MIGRANT = ["MS_MIGRANT", "MS_NOMIGRANT", U]
LABOUR = ["EMP", "UNE", "INA", U]
GROUPS = list(AGE5)  # five-year group g (0..15) of an age: least(age // 5, 15); 16 = unknown age
UNKNOWN_AGE = len(GROUPS)
AGE_OUT = [*GROUPS, *BROAD4, "Y_GE15", "Y15T64", U, T]  # output age codes (their ids in SQL: the index)


def load(frame: pd.DataFrame):
    """A DuckDB connection (in memory) holding the person records as the native table ``persons``
    (the categorical columns of canonical microdata become DuckDB ENUMs: integer-coded there too)."""
    import duckdb

    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE persons AS SELECT * FROM frame")
    con.unregister("frame")
    return con


def _coded(col: str, codes: list[str]) -> str:
    """SQL: the fine code (index in ``codes``) of a text column; anything unlisted is the last (unknown)."""
    whens = " ".join(f"WHEN '{c}' THEN {i}" for i, c in enumerate(codes[:-1]))
    return f"CASE {col} {whens} ELSE {len(codes) - 1} END"


def reduce(con) -> None:
    """Weight sums and persons per fine cell (integer codes s, g, m, l) and PSU (table ``fine``;
    ``h`` and ``j``: the ENUM codes of stratum and PSU), and the PSUs of each stratum (``psus``)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fine AS
        SELECT {_coded('sex', SEX)} AS s, g, {_coded('mig', MIGRANT)} AS m, {_coded('lab', LABOUR)} AS l,
               enum_code(stratum) AS h, enum_code(psu) AS j, w, n
        FROM (SELECT sex, CASE WHEN age IS NULL THEN {UNKNOWN_AGE} ELSE least(age // 5, 15) END AS g,
                     migrant_status AS mig, labour_status AS lab, stratum, psu,
                     sum(weight) AS w, count(*)::DOUBLE AS n
              FROM persons GROUP BY ALL)""")
    con.execute("CREATE OR REPLACE TEMP TABLE psus AS SELECT h, count(DISTINCT j) AS n_h FROM fine GROUP BY h")


def _groups_within(lo: float, up: float) -> list[int]:
    return [g for g, code in enumerate(GROUPS) if lo <= age_bounds(code)[0] and age_bounds(code)[1] <= up]


def _in(col: str, ids: list[int]) -> str:
    return f"{col} IN ({', '.join(map(str, ids))})"


def _predicate(selection: dict) -> str:
    """SQL: the fine cells a numerator/denominator selection keeps."""
    terms = []
    for dim, col, codes in (("sex", "s", SEX), ("migrant_status", "m", MIGRANT), ("labour_status", "l", LABOUR)):
        values = _values(selection, dim)
        if values and set(values) != {T}:
            terms.append(_in(col, [codes.index(v) for v in values]))
    ages = _values(selection, "age")
    if ages and set(ages) != {T}:
        terms.append(_in("g", _groups_within(*_age_range(selection))))
    return " AND ".join(terms) or "TRUE"


def _age_range(selection: dict) -> tuple[float, float]:
    ages = _values(selection, "age")
    return (min(age_bounds(a)[0] for a in ages), max(age_bounds(a)[1] for a in ages)) if ages else (0, math.inf)


def _margin(dim: str, disaggregated: bool, age_range: tuple[float, float]) -> list[tuple[int, int]]:
    """(output code id, fine code) pairs: each output code of a dimension and the fine codes it covers."""
    if dim == "age":
        total = AGE_OUT.index(T)
        rows = [(total, g) for g in range(UNKNOWN_AGE + 1)]
        if disaggregated:
            lo, up = age_range
            rows += [(g, g) for g in _groups_within(lo, up)]
            for code in [*BROAD4, "Y_GE15", "Y15T64"]:
                b_lo, b_up = age_bounds(code)
                if lo <= b_lo and b_up <= up:
                    rows += [(AGE_OUT.index(code), g) for g in _groups_within(b_lo, b_up)]
            if (lo, up) == (0, math.inf):
                rows.append((AGE_OUT.index(U), UNKNOWN_AGE))
        return rows
    codes = SEX if dim == "sex" else MIGRANT  # output ids: the fine codes, then _T
    return [(len(codes), c) for c in range(len(codes))] + ([(c, c) for c in range(len(codes))] if disaggregated else [])


def _values_sql(rows: list[tuple[int, int]]) -> str:
    return "VALUES " + ", ".join(f"({o}, {c})" for o, c in dict.fromkeys(rows))


def estimates(con, indicators) -> pd.DataFrame:
    """The estimates of ``indicators`` (catalogue entries) from the table ``persons``: one SQL
    script for all of them. After :func:`reduce`, the numerator and denominator of every indicator
    are summed per (sex, age group, migrant status, PSU); the sums are then added up into the output
    codes one dimension at a time (age, sex, migrant status: a join with the codes each output code
    covers and a GROUP BY), as the engine does too; last, the totals, ratios, the linearised z per
    PSU and the variance per cell, for every indicator at once."""
    reduce(con)
    inds = list(indicators)
    ratio = [ind.denominator is not None for ind in inds]
    sums = []
    for i, ind in enumerate(inds):
        num = _predicate(ind.numerator)
        den = _predicate(ind.denominator) if ratio[i] else "FALSE"
        sums += [f"sum(CASE WHEN {num} THEN w ELSE 0 END) AS y{i}", f"sum(CASE WHEN {den} THEN w ELSE 0 END) AS x{i}",
                 f"sum(CASE WHEN {num} THEN n ELSE 0 END) AS ny{i}", f"sum(CASE WHEN {den} THEN n ELSE 0 END) AS nx{i}"]
    cols = [f"{c}{i}" for i in range(len(inds)) for c in ("y", "x", "ny", "nx")]
    added = ", ".join(f"sum({c}) AS {c}" for c in cols)
    margin = {dim: [r for ind in inds for r in _margin(dim, dim in ind.disaggregations, _age_range(ind.numerator))]
              for dim in ("sex", "age", "migrant_status")}
    # one table a stage (as CTEs, DuckDB 2.0 merges the stages' aggregates into one slower plan)
    con.execute(f"CREATE OR REPLACE TEMP TABLE a AS SELECT s, g, m, h, j, {', '.join(sums)} FROM fine GROUP BY ALL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE b AS
        SELECT s, am.o AS age, m, h, j, {added} FROM a JOIN ({_values_sql(margin['age'])}) AS am(o, g) USING (g)
        GROUP BY ALL""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE c AS
        SELECT sm.o AS sex, age, m, h, j, {added} FROM b JOIN ({_values_sql(margin['sex'])}) AS sm(o, s) USING (s)
        GROUP BY ALL""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cells_psu AS
        SELECT sex, age, mm.o AS mig, h, j, {added} FROM c JOIN ({_values_sql(margin['migrant_status'])}) AS mm(o, m)
        USING (m) GROUP BY ALL""")
    tot = ", ".join(f"sum({c}) AS T{c}" for c in cols)
    z = {i: (f"CASE WHEN t.Tx{i} > 0 THEN (p.y{i} - t.Ty{i} / t.Tx{i} * p.x{i}) / t.Tx{i} ELSE 0 END" if ratio[i]
             else f"p.y{i}") for i in range(len(inds))}
    moments = ", ".join(f"sum({z[i]}) AS s{i}, sum(({z[i]}) * ({z[i]})) AS q{i}" for i in range(len(inds)))
    var = ", ".join(f"sum(CASE WHEN n_h > 1 THEN n_h / (n_h - 1) * greatest(q{i} - s{i} * s{i} / n_h, 0) ELSE 0 END)"
                    f" AS v{i}" for i in range(len(inds)))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cells AS
        WITH t AS (SELECT sex, age, mig, {tot} FROM cells_psu GROUP BY ALL),
             hz AS (SELECT p.sex, p.age, p.mig, p.h, {moments}
                    FROM cells_psu p JOIN t USING (sex, age, mig) GROUP BY ALL),
             v AS (SELECT sex, age, mig, {var} FROM hz JOIN psus USING (h) GROUP BY ALL)
        SELECT * FROM t JOIN v USING (sex, age, mig)""")
    parts = []
    unknown = (SEX.index(U), AGE_OUT.index(U), MIGRANT.index(U))
    for i, ind in enumerate(inds):
        grid = " CROSS JOIN ".join(
            f"(SELECT DISTINCT o AS {col} FROM ({_values_sql(_margin(dim, dim in ind.disaggregations, _age_range(ind.numerator)))})"
            f" AS v(o, c))" for dim, col in (("sex", "sex"), ("age", "age"), ("migrant_status", "mig")))
        factor = float(ind.factor)
        if ratio[i]:
            value, n_obs, keep = f"CASE WHEN Tx{i} > 0 THEN Ty{i} / Tx{i} * {factor} END", f"Tnx{i}", f"Tx{i} > 0"
        else:
            value, n_obs = f"coalesce(Ty{i}, 0) * {factor}", f"Tny{i}"
            keep = (f"NOT (coalesce(Tny{i}, 0) = 0 AND (sex = {unknown[0]} OR age = {unknown[1]} "
                    f"OR mig = {unknown[2]}))")
        parts.append(f"""
            SELECT '{ind.id}' AS indicator, sex, age, mig AS migrant_status, {value} AS value,
                   sqrt(coalesce(v{i}, 0)) * {factor} AS se, coalesce({n_obs}, 0) AS n_obs
            FROM ({grid}) LEFT JOIN cells USING (sex, age, mig) WHERE {keep}""")
    out = con.execute(" UNION ALL ".join(parts)).df()
    out["sex"] = out["sex"].map(dict(enumerate([*SEX, T])))
    out["age"] = out["age"].map(dict(enumerate(AGE_OUT)))
    out["migrant_status"] = out["migrant_status"].map(dict(enumerate([*MIGRANT, T])))
    out["n_obs"] = out["n_obs"].astype(float)
    out["cv"] = (out["se"] / out["value"].abs() * 100).where(out["value"].abs() > 0)
    return out
