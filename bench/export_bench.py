"""Raw-data export of a large dataset version: time and peak memory.

Builds a throwaway SQLite store with the international baseline and one extra version of
``--rows`` rows (UN DESA IMS 2020 as stored, plus as many of its rows again one year later as
needed: distinct keys), then, each in a fresh child process, exports it

- from the command line (``python -m mmicd observations --dataset ID --out FILE``), CSV and JSON:
  wall time and the child's peak RSS, against the same command on a 1-row version (imports and
  the store's engine: the baseline of the process);
- as the page builds it (``export_bytes``, the whole file in memory): time, peak RSS above the
  process before the call, and the size of the file.

    python bench/export_bench.py [--rows 440000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_account import CLI_ACCOUNT

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(folder: Path, rows: int) -> tuple[str, int, int]:
    import pandas as pd

    from mmicd.baseline import seed
    from mmicd.model import DatasetMeta, Kind, Status
    from mmicd.store import Store

    url = f"sqlite:///{folder / 'bench.sqlite'}"
    store = Store(url, data_dir=folder)
    seed(store)
    ims = next(v for v in store.datasets() if v.kind == Kind.MIGRANT_STOCK)
    frame = store.observations(dataset_ids=[ims.id])
    extra = frame.head(max(rows - len(frame), 0)).assign(time_period=lambda f: (f["time_period"].astype(int) + 1)
                                                         .astype(str))
    big = pd.concat([frame, extra], ignore_index=True).head(rows)
    meta = DatasetMeta(kind=Kind.MIGRANT_STOCK, source="Benchmark (IMS 2020 and its rows a year later)",
                       edition="bench")
    version = store.add_dataset(meta, big, actor="bench", status=Status.PUBLISHED)
    tiny = store.add_dataset(meta.model_copy(update={"source": "Benchmark, one row"}), big.head(1), actor="bench")
    store.engine.dispose()
    return url, version.id, tiny.id


CHILD_PAGE = """
import json, sys, time
sys.path.insert(0, {root!r})
from mmicd.dataset_export import export_bytes
from mmicd.store import Store
store = Store({url!r}, upgrade=False)
version = store.dataset({id})
export_bytes(store, store.dataset({tiny}), {fmt!r})   # warm: imports, engine, first query
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
open("/proc/self/clear_refs", "w").write("5")   # peak RSS := current RSS
before = status("VmRSS")
start = time.perf_counter()
data = export_bytes(store, version, {fmt!r})
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "before_mb": before, "peak_mb": status("VmHWM"), "size_mb": len(data) / 1e6}}))
"""


def cli(url: str, dataset: int, fmt: str, out: Path) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one command-line export in a fresh process."""
    code = ("import runpy, sys; sys.argv = ['mmicd'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('mmicd', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')),"
            " file=sys.stderr)")
    env = {**os.environ, **CLI_ACCOUNT, "MMICD_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "observations", "--dataset", str(dataset), "--format", fmt,
                           "--out", str(out)], env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=440_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url, big, tiny = build(folder, args.rows)
        print(f"store: {url}; version {big} with {args.rows:,} rows")
        for fmt in ("csv", "json"):
            runs = [cli(url, big, fmt, folder / f"out.{fmt}") for _ in range(args.repeat)]
            idle = cli(url, tiny, fmt, folder / f"tiny.{fmt}")
            size = (folder / f"out.{fmt}").stat().st_size / 1e6
            print(f"command line, {fmt}: {statistics.median(r[0] for r in runs):.2f} s median "
                  f"({', '.join(f'{r[0]:.2f}' for r in runs)}; process start and imports included), "
                  f"peak RSS {max(r[1] for r in runs):.0f} MB (1-row version: {idle[1]:.0f} MB, "
                  f"{idle[0]:.2f} s), file {size:.1f} MB")
            page = []
            for _ in range(args.repeat):
                code = CHILD_PAGE.format(root=str(ROOT), url=url, id=big, tiny=tiny, fmt=fmt)
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                page.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"page build (export_bytes), {fmt}: {statistics.median(p['seconds'] for p in page):.2f} s median, "
                  f"peak RSS {max(p['peak_mb'] for p in page):.0f} MB, "
                  f"{max(p['peak_mb'] - p['before_mb'] for p in page):.0f} MB above the process before, "
                  f"file {page[0]['size_mb']:.1f} MB")


if __name__ == "__main__":
    main()
