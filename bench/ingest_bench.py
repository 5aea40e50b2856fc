"""Ingestion benchmark: one command, prints the figures.

    .venv/bin/python bench/ingest_bench.py [--rows 500000] [--csv-rows 1000000] [--repeat 5]
                                           [--skip-xlsx] [--skip-csv] [--big-csv-rows 5000000]

1. Generates a synthetic LFS microdata workbook (``--rows`` persons x 10 columns, xlsxwriter) and
   measures, in the same run, ``fastexcel`` alone reading it to Arrow against the full ingestion
   (read, detect layout, map, validate, store as a new version in a throwaway SQLite store).
   Target: ratio <= 1.3 (medians of ``--repeat`` alternating runs; wall time, and CPU time of all
   threads for a machine shared with others).
   Memory, each in a fresh child process: peak RSS of the ingestion above the process's baseline
   (the target: <= 3x the resulting frame's ``memory_usage(deep=True)``), the same for a first
   ingestion without warm-up, the tracemalloc peak (Python allocations only), and fastexcel alone.
2. CSV, ``--csv-rows`` rows in two variants: a tidy observation table as offices publish it (area,
   year, sex, age group, migrant status, value; totals equal to their parts) and LFS microdata
   (the workbook's columns). In the same process, alternating, medians of ``--repeat``: pyarrow's
   ``csv.read_csv`` of the file (its defaults, both cores) against the check of the upload
   (``prepare``: read, detect, recode, read the numbers, validate; what the upload page and
   ``ingest --dry-run`` do); target <= 2, wall and CPU time of all threads. Storing is timed apart
   (SQLite rows for observations, Parquet bytes in the database for microdata). Memory, in a fresh child process
   as for the workbook: peak RSS of the check above the baseline against the resulting frame
   (target <= 2.5), and of the check and the store together.
3. With ``--big-csv-rows``: a CSV of that many persons ingested in a child process (time, peak RSS;
   target within 4 GB).
The machine's load average is printed before and after: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLUMNS = ["ref_area", "time_period", "sex", "age", "migrant_status", "labour_status", "weight", "stratum", "psu",
           "education"]


def _columns(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "ref_area": np.full(n, "NPL", dtype=object),
        "time_period": np.full(n, "2022", dtype=object),
        "sex": rng.choice(np.array(["F", "M"], dtype=object), n),
        "age": rng.integers(0, 95, n),
        "migrant_status": rng.choice(np.array(["MS_MIGRANT", "MS_NOMIGRANT"], dtype=object), n, p=[0.1, 0.9]),
        "labour_status": rng.choice(np.array(["EMP", "UNE", "INA"], dtype=object), n, p=[0.55, 0.05, 0.4]),
        "weight": np.round(rng.uniform(50, 400, n), 2),
        "stratum": np.char.zfill(rng.integers(1, 60, n).astype(str), 2).astype(object),
        "psu": np.char.zfill(rng.integers(1, 5000, n).astype(str), 4).astype(object),
        "education": rng.integers(0, 6, n),
    }


def make_xlsx(path: Path, n: int) -> None:
    """A workbook as Excel writes it (shared strings, numbers as numbers), built vectorised."""
    import zipfile
    from xml.sax.saxutils import escape

    cols = _columns(n)
    strings: dict[str, int] = {}
    for c in COLUMNS:
        if cols[c].dtype == object:
            for u in np.unique(cols[c]):
                strings.setdefault(u, len(strings))
    for c in COLUMNS:
        strings.setdefault(c, len(strings))
    letters = [chr(65 + j) for j in range(len(COLUMNS))]
    rows_xml = []
    header = "".join(f'<c r="{letters[j]}1" t="s"><v>{strings[c]}</v></c>' for j, c in enumerate(COLUMNS))
    rows_xml.append(f'<row r="1">{header}</row>')
    cells = []
    rnum = np.arange(2, n + 2).astype(str).astype(object)
    for j, c in enumerate(COLUMNS):
        v = cols[c]
        if v.dtype == object:
            idx = np.vectorize(strings.__getitem__, otypes=[object])(v).astype(str).astype(object)
            cells.append('<c r="' + letters[j] + rnum + '" t="s"><v>' + idx + "</v></c>")
        else:
            cells.append('<c r="' + letters[j] + rnum + '"><v>' + v.astype(str).astype(object) + "</v></c>")
    body = '<row r="' + rnum + '">' + sum(cells[1:], cells[0]) + "</row>"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + rows_xml[0] + "".join(body) + "</sheetData></worksheet>")
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
            '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{ns}/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'),
        "xl/sharedStrings.xml": sst,
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, text in files.items():
            z.writestr(name, text)


def make_csv(path: Path, n: int) -> None:
    import pandas as pd

    chunk = 1_000_000
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            pd.DataFrame(_columns(m, seed=start + 1))[COLUMNS].to_csv(fh, index=False, header=start == 0)


def make_tidy_csv(path: Path, n: int, seed: int = 1) -> None:
    """A national observation table as offices publish it, long: area (ISO3 codes of the code list),
    year, sex, five-year age group, migrant status and value, totals included (``_T``) and equal to
    their parts, values growing a little each year (no warning to report), ``n`` rows."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from mmicd import codes

    ages = [f"Y{a}T{a + 4}" for a in range(0, 75, 5)] + ["Y_GE75"]
    per_year = 3 * (len(ages) + 1) * 3
    years = [str(y) for y in range(1990, 2025)]
    areas = sorted(codes.country_codes())
    while len(areas) * len(years) * per_year < n:
        areas = areas + [f"{a}" for a in areas]   # more blocks than countries: repeat areas (never reached at 1M)
    rng = np.random.default_rng(seed)
    blocks = -(-n // per_year)
    n_areas = -(-blocks // len(years))
    base = rng.integers(1_000, 50_000, size=(n_areas, 2, len(ages), 2)).astype("float64")
    base[:, 1] = base[:, 0] + rng.integers(1, 5_000, size=(n_areas, len(ages), 2))   # men never equal women
    b = np.arange(blocks)
    growth = 1.0 + 0.01 * (b % len(years))                                           # a little more each year
    parts = np.round(base[b // len(years)] * growth[:, None, None, None])
    full = np.zeros((blocks, 3, len(ages) + 1, 3))
    full[:, :2, :len(ages), :2] = parts
    full[:, :2, :len(ages), 2] = parts.sum(axis=3)
    full[:, 2] = full[:, :2].sum(axis=1)
    full[:, :, len(ages)] = full[:, :, :len(ages)].sum(axis=2)
    frame = pd.DataFrame({
        "ref_area": np.repeat(np.asarray(areas, dtype=object)[b // len(years)], per_year),
        "time_period": np.repeat(np.asarray(years, dtype=object)[b % len(years)], per_year),
        "sex": np.tile(np.repeat(np.array(["F", "M", "_T"], dtype=object), (len(ages) + 1) * 3), blocks),
        "age": np.tile(np.repeat(np.array([*ages, "_T"], dtype=object), 3), blocks * 3),
        "migrant_status": np.tile(np.array(["MS_MIGRANT", "MS_NOMIGRANT", "_T"], dtype=object), blocks * per_year // 3),
        "value": full.reshape(-1).astype("int64"),
    }).iloc[:n]
    pcsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), str(path),
                   pcsv.WriteOptions(quoting_style="none"))


def bench_fastexcel(data: bytes) -> tuple[float, float]:
    """Seconds (wall, CPU) of fastexcel alone reading the first sheet to Arrow."""
    import fastexcel

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    fastexcel.read_excel(data).load_sheet(0, eager=True)
    return time.perf_counter() - t0, time.process_time() - c0


def bench_ingest(name: str, data: bytes, tmp: Path) -> tuple[float, float]:
    """Seconds (wall, CPU of all threads) of the whole ingestion: prepare, then commit to a new store."""
    from mmicd.ingest import Upload, commit, prepare
    from mmicd.io import read
    from mmicd.store import Store

    read._CACHE.clear()
    store = Store(f"sqlite:///{tmp / f'bench-{time.time_ns()}.sqlite'}", data_dir=tmp)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    prep = prepare([Upload(name, data)], kind="lfs")
    assert prep.ok, prep.issues[:5]
    commit(prep, store, actor="bench")
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    store.engine.dispose()
    return elapsed


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _frame_mb(frame) -> float:
    return frame.memory_usage(deep=True).sum() / 1048576


def child(mode: str, path: str, kind_arg: str = "lfs") -> None:
    """One measurement in a fresh process; prints a JSON line.

    ``ingest``: prepare + commit, peak RSS above the baseline. The baseline is taken after a warm-up
    ingestion of the first 2,000 rows of the same file (modules, code lists and synonyms loaded, as
    in the running app), with the upload's bytes already in memory (as the upload page has them).
    ``cold``: the same without the warm-up. ``trace``: peak of Python-tracked allocations
    (tracemalloc: Python objects and numpy buffers; Arrow, calamine and SQLite memory are not
    tracked). ``fastexcel``: fastexcel alone reading the whole sheet to Arrow. ``check``: prepare
    only (the dry run), after the warm-up. ``kind_arg``: the kind the upload is prepared as.
    """
    import json

    from mmicd.ingest import Upload, commit, prepare
    from mmicd.store import Store

    tmp = Path(tempfile.mkdtemp())
    store = Store(f"sqlite:///{tmp / 'b.sqlite'}", data_dir=tmp)
    data = Path(path).read_bytes()
    import fastexcel

    kind = "csv" if path.endswith(".csv") else "xlsx"
    if mode in ("ingest", "trace", "fastexcel", "check"):
        small = tmp / f"warm.{kind}"
        if kind == "csv":
            small.write_text("\n".join(data[:1_000_000].decode().splitlines()[:2001]) + "\n")
        else:
            make_xlsx(small, 2000)
        warm = prepare([Upload(small.name, small.read_bytes())], kind=kind_arg)
        commit(warm, store, actor="bench")
        if kind == "xlsx":
            fastexcel.read_excel(small.read_bytes()).load_sheet(0, eager=True)
        del warm
    gc.collect()
    out: dict = {"mode": mode}
    if mode == "trace":
        import tracemalloc

        tracemalloc.start()
    exact = _reset_peak()
    before = _status_mb("VmRSS")
    t0 = time.perf_counter()
    if mode == "fastexcel":
        batch = fastexcel.read_excel(data).load_sheet(0, eager=True)
        out["arrow_mb"] = batch.nbytes / 1048576
        out["rows"] = batch.num_rows
    else:
        prep = prepare([Upload(Path(path).name, data)], kind=kind_arg)
        assert prep.ok, prep.issues[:5]
        if mode != "check":
            commit(prep, store, actor="bench")
        out["rows"] = prep.datasets[0].rows
        out["frame_mb"] = _frame_mb(prep.datasets[0].frame)
    out["seconds"] = time.perf_counter() - t0
    peak = _status_mb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(peak_mb=peak, before_mb=before, above_mb=peak - before, exact_peak=exact)
    if mode == "trace":
        import tracemalloc

        out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1048576
        tracemalloc.stop()
    print(json.dumps(out))


def run_child(mode: str, path: Path, env: dict[str, str] | None = None, kind: str = "lfs") -> dict | str:
    import json

    out = subprocess.run([sys.executable, __file__, "--child", mode, str(path), kind], capture_output=True, text=True,
                         env={**os.environ, "MMICD_MAX_UPLOAD_MB": "4096", **(env or {})})
    if out.returncode:
        return out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    """The load average (1, 5, 15 minutes): the figures move with what else the machine runs."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bench_xlsx(a, tmp: Path) -> None:
    med = statistics.median
    xlsx = tmp / "lfs.xlsx"
    t0 = time.perf_counter()
    make_xlsx(xlsx, a.rows)
    data = xlsx.read_bytes()
    print(f"generated {a.rows:,} x {len(COLUMNS)} workbook: {len(data) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    bench_ingest("lfs.xlsx", data, tmp)       # warm-up: modules, code lists, synonyms
    fast, ingest = [], []
    for _ in range(a.repeat):
        fast.append(bench_fastexcel(data))
        ingest.append(bench_ingest("lfs.xlsx", data, tmp))
    wall = [i[0] / f[0] for f, i in zip(fast, ingest, strict=True)]
    cpu = [i[1] / f[1] for f, i in zip(fast, ingest, strict=True)]
    print(f"time, median of {a.repeat} (fastexcel and ingest alternating in one process):")
    print(f"  fastexcel alone (to Arrow) {med(f[0] for f in fast):.2f} s, ingest (read, detect, validate, store)"
          f" {med(i[0] for i in ingest):.2f} s: ratio {med(wall):.2f} (target <= 1.3; each run: "
          f"{', '.join(f'{r:.2f}' for r in wall)})")
    print(f"  CPU time of all threads: fastexcel {med(f[1] for f in fast):.2f} s, ingest"
          f" {med(i[1] for i in ingest):.2f} s: ratio {med(cpu):.2f}")
    res = run_child("ingest", xlsx)
    if isinstance(res, str):
        print("ingest in a child process failed:", res)
        return
    frame = res["frame_mb"]
    print("memory (fresh child process; peak RSS above its baseline, see child() for the baseline):")
    print(f"  ingest: {res['above_mb']:.0f} MB for a {frame:.1f} MB frame: {res['above_mb'] / frame:.2f}x"
          f" (target <= 3){'' if res['exact_peak'] else ' [peak not resettable: lifetime peak used]'}")
    cold = run_child("cold", xlsx)
    if not isinstance(cold, str):
        print(f"  the same without warm-up (first ingestion of the process, module imports included):"
              f" {cold['above_mb']:.0f} MB ({cold['above_mb'] / frame:.2f}x)")
    tuned = run_child("ingest", xlsx, {"MALLOC_MMAP_THRESHOLD_": "131072"})
    if not isinstance(tuned, str):
        print(f"  the same with MALLOC_MMAP_THRESHOLD_=131072 (a glibc setting for the server; by default"
              f" freed reader buffers stay in the heap): {tuned['above_mb']:.0f} MB"
              f" ({tuned['above_mb'] / frame:.2f}x)")
    trace = run_child("trace", xlsx)
    if not isinstance(trace, str):
        print(f"  Python allocations only (tracemalloc peak): {trace['traced_peak_mb']:.0f} MB"
              f" ({trace['traced_peak_mb'] / frame:.2f}x)")
    fe = run_child("fastexcel", xlsx)
    if not isinstance(fe, str):
        print(f"  for scale, fastexcel alone reading the whole sheet: {fe['above_mb']:.0f} MB"
              f" ({fe['above_mb'] / frame:.2f}x the frame; its Arrow result {fe['arrow_mb']:.1f} MB)")


def bench_pyarrow_csv(path: Path) -> tuple[float, float]:
    """Seconds (wall, CPU of all threads) of pyarrow reading the CSV with its defaults."""
    import pyarrow.csv as pcsv

    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    table = pcsv.read_csv(str(path))
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    del table
    return elapsed


def bench_check(name: str, data: bytes, kind: str) -> tuple[float, float]:
    """Seconds (wall, CPU) of checking an upload: prepare, as the page and ``ingest --dry-run`` do."""
    from mmicd.ingest import Upload, prepare
    from mmicd.io import read

    read._CACHE.clear()
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    prep = prepare([Upload(name, data)], kind=kind)
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    assert prep.ok and not [i for i in prep.issues if i.level != "info"], prep.issues[:5]
    return elapsed


def bench_csv(a, tmp: Path, label: str, path: Path, kind: str) -> None:
    from mmicd.ingest import Upload, commit, prepare
    from mmicd.store import Store

    med = statistics.median
    data = path.read_bytes()
    print(f"CSV, {label}: {a.csv_rows:,} rows, {len(data) / 1e6:.0f} MB")
    bench_pyarrow_csv(path)
    bench_check(path.name, data, kind)         # warm-up: modules, code lists, synonyms
    arrow, check = [], []
    for _ in range(a.repeat):
        arrow.append(bench_pyarrow_csv(path))
        check.append(bench_check(path.name, data, kind))
    wall = [c[0] / r[0] for r, c in zip(arrow, check, strict=True)]
    cpu = [c[1] / r[1] for r, c in zip(arrow, check, strict=True)]
    print(f"  time, median of {a.repeat} alternating: pyarrow csv.read_csv {med(r[0] for r in arrow):.2f} s, check"
          f" (read, detect, recode, numbers, validate) {med(c[0] for c in check):.2f} s: ratio {med(wall):.2f}"
          f" (target <= 2; each run: {', '.join(f'{r:.2f}' for r in wall)})")
    print(f"  CPU time of all threads: pyarrow {med(r[1] for r in arrow):.2f} s, check {med(c[1] for c in check):.2f} s:"
          f" ratio {med(cpu):.2f}")
    prep = prepare([Upload(path.name, data)], kind=kind)
    store = Store(f"sqlite:///{tmp / f'store-{time.time_ns()}.sqlite'}", data_dir=tmp)
    t0 = time.perf_counter()
    commit(prep, store, actor="bench")
    print(f"  storing the checked rows ({'Parquet bytes in SQLite' if kind == 'lfs' else 'SQLite rows'}), apart:"
          f" {time.perf_counter() - t0:.2f} s")
    store.engine.dispose()
    del prep
    res = run_child("check", path, kind=kind)
    if isinstance(res, str):
        print("  check in a child process failed:", res)
        return
    frame = res["frame_mb"]
    print(f"  memory of the check (fresh child process, peak RSS above its baseline): {res['above_mb']:.0f} MB for a"
          f" {frame:.1f} MB frame: {res['above_mb'] / frame:.2f}x (target <= 2.5)")
    both = run_child("ingest", path, kind=kind)
    if not isinstance(both, str):
        print(f"  check and store together: {both['above_mb']:.0f} MB ({both['above_mb'] / frame:.2f}x)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--csv-rows", type=int, default=1_000_000)
    p.add_argument("--big-csv-rows", type=int, default=0)
    p.add_argument("--skip-xlsx", action="store_true")
    p.add_argument("--skip-csv", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--child", nargs="+", metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(*a.child)
        return
    os.environ.setdefault("MMICD_MAX_UPLOAD_MB", "2048")
    print(f"load average before: {_load()} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not a.skip_xlsx:
            bench_xlsx(a, tmp)
        if not a.skip_csv:
            tidy, micro = tmp / "census_tidy.csv", tmp / "lfs.csv"
            make_tidy_csv(tidy, a.csv_rows)
            bench_csv(a, tmp, "tidy observations (area, year, sex, age, migrant status, value)", tidy, "auto")
            make_csv(micro, a.csv_rows)
            bench_csv(a, tmp, f"LFS microdata ({len(COLUMNS)} columns)", micro, "lfs")
        if a.big_csv_rows:
            csv = tmp / "lfs-big.csv"
            make_csv(csv, a.big_csv_rows)
            res = run_child("cold", csv)
            if isinstance(res, str):
                print("CSV ingest failed:", res)
            else:
                print(f"CSV ingest of {res['rows']:,} rows ({csv.stat().st_size / 1e6:.0f} MB): {res['seconds']:.1f} s,"
                      f" peak RSS {res['peak_mb']:.0f} MB (target within 4096 MB)")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
