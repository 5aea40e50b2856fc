"""Benchmark: the labour catalogue from survey microdata, engine vs the svy oracle and DuckDB, same run.

    .venv/bin/python bench/engine_bench.py [--records 1000000] [--strata 200] [--psus 2000]
                                           [--repeat 3] [--no-oracle] [--no-duckdb]

Generates N person records (default 1,000,000, 200 strata, 2,000 PSUs; deterministic) and computes
the whole labour catalogue (wap, lfpr, emp_pop_ratio, unemp_rate, migrant_share_employed: sex × 16
five-year age groups + the broad groups × migrant status, totals included, each with value, SE and
CV) twice: with the engine, and with the oracle (svy, Taylor linearisation, one ``by=`` call per
partition of the sample: bench/engine_oracle.py). Each side runs in its own process (spawned, so
nothing is shared), which generates the same records and then waits; the runs are interleaved
(engine, oracle, engine, oracle, ...) so both see the same load on a shared machine, and the median
of the per-pair ratios is the speed-up. Both sides start from the pandas records: the oracle's
time includes turning them into its polars frame and binding the design, as the engine's includes
its reduction of the records. The two results are compared cell by cell.

The engine and DuckDB take the records in canonical form (:func:`mmicd.model.normalise_microdata`:
text columns as categoricals, as the store reads them back from Parquet); DuckDB holds them as a
native table (categoricals become ENUMs), loaded before the clock starts, and computes the same
estimates in SQL (value, Taylor-linearised SE with strata and PSUs, CV, n: bench/engine_duckdb.py
says exactly what), on all cores. Both are timed in CPU seconds of their process (all threads), the
ratio is DuckDB's over the engine's, and the two results are compared cell by cell (the same cells
on both sides, then value, SE, CV and n). The oracle is given the same records as text.

Memory per side: the peak resident set of its process during the computation above what it held
with the records alone (Linux VmHWM, reset before each run), and for the engine also the peak of
Python allocations (tracemalloc, one extra untimed run). ``--no-oracle`` runs the engine only
(e.g. ``--records 10000000 --no-oracle``: engine and DuckDB); ``--no-duckdb`` leaves DuckDB out.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABOUR = ["wap", "lfpr", "emp_pop_ratio", "unemp_rate", "migrant_share_employed"]
CELL = ["indicator", "sex", "age", "migrant_status"]
ENGINE_LIMIT_MB = 2048


def _status_kb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return float(line.split()[1])
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
    except OSError:
        pass


def _worker(side: str, args: dict, conn) -> None:
    """One side of the benchmark in its own process: generate the records, then run on request."""
    sys.path.insert(0, str(ROOT))
    warnings.simplefilter("ignore")
    from mmicd.engine import EngineConfig, Microdata, catalogue, compute_frames
    from mmicd.engine.synthetic import lfs_microdata
    from mmicd.model import normalise_microdata

    t0 = time.perf_counter()
    md = lfs_microdata(args["records"], strata=args["strata"], psus=args["psus"], seed=1)
    if side != "oracle":
        md = normalise_microdata(md)
    gen_s = time.perf_counter() - t0
    if side == "engine":
        raw = EngineConfig(suppress=False)

        def run():
            t = compute_frames(None, [Microdata(1, "lfs", "bench", "1", md)], indicators=LABOUR, cfg=raw).table
            return t[[*CELL, "value", "se", "cv", "n_obs"]]
    elif side == "duckdb":
        from bench import engine_duckdb

        con = engine_duckdb.load(md)
        del md
        inds = [catalogue()[i] for i in LABOUR]

        def run():
            return engine_duckdb.estimates(con, inds)
    else:
        import pandas as pd
        import svy  # noqa: F401  (imported before timing, as the engine's modules are)

        from bench.engine_oracle import Oracle

        inds = [catalogue()[i] for i in LABOUR]

        def run():
            o = Oracle(md, inds, design="psu")
            out = pd.concat([o.estimates(ind) for ind in inds], ignore_index=True)
            run.calls = o.calls
            return out
        run.calls = 0
    gc.collect()
    conn.send({"generated_s": gen_s, "rss_records_mb": _status_kb("VmRSS") / 1024})
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            return
        gc.collect()
        base = _status_kb("VmRSS")
        _reset_peak()
        if cmd == "trace":
            import tracemalloc

            tracemalloc.start()
            run()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            conn.send({"traced_mb": peak / 2**20})
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        table = run()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        reply = {"seconds": seconds, "cpu": cpu, "peak_above_mb": (_status_kb("VmHWM") - base) / 1024,
                 "peak_rss_mb": _status_kb("VmHWM") / 1024, "calls": getattr(run, "calls", 0)}
        if cmd == "run+table":
            reply["table"] = table
        conn.send(reply)


class Side:
    def __init__(self, side: str, args: dict):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(side, args, child), daemon=True)
        self.proc.start()
        self.ready = self.conn.recv()

    def ask(self, cmd: str) -> dict:
        self.conn.send(cmd)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.proc.join(timeout=30)


def compare(ours, theirs, how: str = "inner") -> tuple[int, int, float]:
    """Cells compared, cells on one side only (``how="outer"``), and the worst relative difference
    in value, SE, CV (and n where both sides have it) of the engine's ``ours`` against ``theirs``."""
    merged = theirs.merge(ours, on=CELL, how=how, suffixes=("_o", ""), indicator=True)
    one_side = int((merged["_merge"] != "both").sum())
    merged = merged.loc[merged["_merge"] == "both"]
    worst = 0.0
    for col in ("value", "se", "cv", "n_obs"):
        if col + "_o" not in merged:
            continue
        a, b = merged[col].to_numpy(float), merged[col + "_o"].to_numpy(float)
        ok = np.isfinite(b) & (np.abs(b) > 0)
        worst = max(worst, float(np.max(np.abs(a[ok] / b[ok] - 1), initial=0.0)))
        both_zero = ~ok & np.isfinite(b)
        worst = max(worst, float(np.max(np.abs(a[both_zero] - b[both_zero]), initial=0.0)))
        worst = max(worst, float(np.sum(np.isnan(a) != np.isnan(b))))  # a value missing on one side only
    return len(merged), one_side, worst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--strata", type=int, default=200)
    p.add_argument("--psus", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side (median reported)")
    p.add_argument("--no-oracle", action="store_true", help="leave the svy oracle out")
    p.add_argument("--no-duckdb", action="store_true", help="leave DuckDB out")
    args = p.parse_args(argv)
    spec = {"records": args.records, "strata": args.strata, "psus": args.psus}

    engine = Side("engine", spec)
    print(f"{args.records:,} generated person records, {args.strata} strata, {args.psus} PSUs "
          f"({engine.ready['generated_s']:.1f} s with normalising; engine process holds "
          f"{engine.ready['rss_records_mb']:,.0f} MB with the records alone)")
    oracle = None if args.no_oracle else Side("oracle", spec)
    if oracle is not None:
        print(f"oracle process (svy) holds {oracle.ready['rss_records_mb']:,.0f} MB with the records alone")
    duck = None if args.no_duckdb else Side("duckdb", spec)
    if duck is not None:
        import duckdb

        print(f"DuckDB {duckdb.__version__} process holds {duck.ready['rss_records_mb']:,.0f} MB with the records "
              f"in its native table")

    runs_e, runs_o, runs_d = [], [], []
    ours = theirs = ducks = None
    for i in range(args.repeat):
        cmd = "run+table" if i == 0 else "run"
        r = engine.ask(cmd)
        runs_e.append(r)
        ours = r.get("table", ours)
        line = f"run {i + 1}: engine {runs_e[-1]['seconds']:.2f} s (CPU {runs_e[-1]['cpu']:.2f} s)"
        if oracle is not None:
            r = oracle.ask(cmd)
            runs_o.append(r)
            theirs = r.get("table", theirs)
            line += (f", oracle {r['seconds']:.1f} s (CPU {r['cpu']:.1f} s, all threads; {r['calls']} svy calls), "
                     f"ratio {r['seconds'] / runs_e[-1]['seconds']:.0f}x")
        if duck is not None:
            r = duck.ask(cmd)
            runs_d.append(r)
            ducks = r.get("table", ducks)
            line += (f", DuckDB {r['seconds']:.2f} s (CPU {r['cpu']:.2f} s, all threads), "
                     f"CPU ratio {r['cpu'] / runs_e[-1]['cpu']:.1f}x")
        print(line, flush=True)
    traced = engine.ask("trace")["traced_mb"]

    e_med = statistics.median(r["seconds"] for r in runs_e)
    e_cpu = statistics.median(r["cpu"] for r in runs_e)
    e_peak = max(r["peak_above_mb"] for r in runs_e)
    e_rss = max(r["peak_rss_mb"] for r in runs_e)
    print(f"engine: {len(ours):,} estimates with SE/CI/CV ({', '.join(LABOUR)}; sex x 16 age groups + broad "
          f"groups x migrant status, totals included), median {e_med:.2f} s, CPU {e_cpu:.2f} s over {args.repeat} runs"
          + (f" — target CPU <= 1.5 s on 10,000,000 records: {'met' if e_cpu <= 1.5 else 'NOT met'}"
             if args.records == 10_000_000 else ""))
    print(f"engine memory: peak {e_peak:,.0f} MB above the records (process peak RSS {e_rss:,.0f} MB); "
          f"peak Python allocations {traced:,.0f} MB (tracemalloc) — limit {ENGINE_LIMIT_MB:,} MB: "
          f"{'OK' if max(e_peak, traced) < ENGINE_LIMIT_MB else 'EXCEEDED'}")
    engine.stop()
    failed = False
    if duck is not None:
        duck.stop()
        d_cpu = statistics.median(r["cpu"] for r in runs_d)
        d_med = statistics.median(r["seconds"] for r in runs_d)
        cells, one_side, worst = compare(ours, ducks, how="outer")
        failed |= one_side > 0 or worst >= 1e-9
        print(f"DuckDB: {len(ducks):,} estimates, median {d_med:.2f} s, CPU {d_cpu:.2f} s over {args.repeat} runs; "
              f"engine/DuckDB agreement: {cells:,} cells on both sides, {one_side} on one side only, worst relative "
              f"difference in value, SE, CV and n {worst:.1e}")
        print(f"CPU time DuckDB / engine (median of the runs): {d_cpu / e_cpu:.2f}x — engine ahead: "
              f"{'yes' if e_cpu < d_cpu else 'NO'}")
    if oracle is None:
        return int(failed)
    oracle.stop()
    o_med = statistics.median(r["seconds"] for r in runs_o)
    o_peak = max(r["peak_above_mb"] for r in runs_o)
    o_rss = max(r["peak_rss_mb"] for r in runs_o)
    ratios = [o["seconds"] / e["seconds"] for e, o in zip(runs_e, runs_o, strict=True)]
    cells, _, worst = compare(ours, theirs)
    failed |= worst >= 1e-6
    print(f"oracle (svy): {len(theirs):,} estimates, median {o_med:.1f} s over {args.repeat} runs; memory: peak "
          f"{o_peak:,.0f} MB above the records (process peak RSS {o_rss:,.0f} MB)")
    print(f"agreement: {cells:,} cells compared, worst relative difference in value, SE and CV {worst:.1e}")
    ratio = statistics.median(ratios)
    cpu_ratio = statistics.median(o["cpu"] / e["cpu"] for e, o in zip(runs_e, runs_o, strict=True))
    print(f"speed-up (median of per-run ratios {', '.join(f'{r:.0f}x' for r in ratios)}): {ratio:.0f}x "
          f"— target 30x: {'met' if ratio >= 30 else 'NOT met'}; in CPU time {cpu_ratio:.0f}x")
    return int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
