"""Bounded checks, one command: how long and how much memory the check of large and pathological
CSV files takes, and how soon a budget stops it.

    .venv/bin/python bench/bounded_bench.py [--rows 1000000] [--seconds 120] [--megabytes 3072]

Generates, in a temporary folder: the tidy observation table of ``ingest_bench.py`` (``--rows``
rows; 1,000,000 is 33 MB) with 50 value cells written as text, LFS microdata of the same size, a
40 MB CSV of one line (7 million fields) and a CSV with one 40 MB line among 1,000 normal rows.
Each is checked by ``python -m mmicd ingest FILE --dry-run --json`` in a child process within the
budget given (``MMICD_CHECK_SECONDS``, ``MMICD_CHECK_MB``), then the tidy table again within a
budget of 1 second and of 100 MB: wall time of the whole command (imports included), CPU time of the
child, its peak resident memory, and what it answered. Prints the machine's load before and after.
Every child is killed past the time budget plus 60 s (the figure then says so).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_account import CLI_ACCOUNT

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CODE = ("import sys\n"
        "from mmicd.cli import main\n"
        "rc = main(['ingest', sys.argv[1], '--dry-run', '--json'])\n"
        "sys.stdout.flush()\n"
        "peak = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:'))\n"
        "print('@@', rc, peak / 1024)\n")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def check(path: Path, env: dict[str, str], limit: float) -> str:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", CODE, str(path)], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=limit + 60)
    except subprocess.TimeoutExpired:
        return f"killed after {limit + 60:.0f} s"
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    lines = proc.stdout.splitlines()
    tail = [x for x in lines if x.startswith("@@")]
    if not tail:
        return f"failed: {proc.stderr[-500:]}"
    _, rc, peak = tail[-1].split()
    report = json.loads(next(x for x in lines if x.startswith("{")))
    first = report["issues"][0]["message"][:110] if report["issues"] else ""
    rows = sum(d["rows"] for d in report["datasets"])
    return (f"{wall:5.1f} s wall, {cpu:5.1f} s CPU, peak {float(peak):5.0f} MB, exit {rc}, "
            f"{rows:,} rows, {len(report['issues'])} issue(s){': ' + first if first else ''}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--megabytes", type=float, default=3072.0)
    a = p.parse_args()
    from ingest_bench import make_csv, make_tidy_csv

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        tidy = tmp / "census_tidy.csv"
        make_tidy_csv(tidy, a.rows)
        lines = tidy.read_bytes().split(b"\n")
        for i in range(1, len(lines) - 1, max((len(lines) - 2) // 50, 1)):
            lines[i] = lines[i].rsplit(b",", 1)[0] + b",n/k"
        tidy.write_bytes(b"\n".join(lines))
        lfs = tmp / "lfs.csv"
        make_csv(lfs, a.rows * 33 // 50)
        one = tmp / "one_line.csv"
        one.write_bytes(b"12345," * (40 * 1024 * 1024 // 6))
        among = tmp / "one_long_line.csv"
        rows = b"".join(b"NPL,%d,F,%d\n" % (2000 + i % 20, i) for i in range(500))
        among.write_bytes(b"ref_area,time_period,sex,value\n" + rows + b"NPL,2021,F," + b"9" * (40 << 20) + b"\n" + rows)
        env = {**os.environ, **CLI_ACCOUNT, "PYTHONPATH": str(ROOT), "MMICD_DATA_DIR": str(tmp / "data"),
               "MMICD_DATABASE_URL": f"sqlite:///{tmp / 'data' / 'bench.sqlite'}",
               "MMICD_CHECK_SECONDS": str(a.seconds), "MMICD_CHECK_MB": str(a.megabytes)}
        print(f"load average before: {_load()}; budget {a.seconds:g} s, {a.megabytes:g} MB")
        for path in (tidy, lfs, one, among):
            print(f"  {path.name} ({path.stat().st_size / 1e6:.0f} MB): {check(path, env, a.seconds)}")
        print(f"  {tidy.name} within 1 s: {check(tidy, {**env, 'MMICD_CHECK_SECONDS': '1'}, 1)}")
        print(f"  {tidy.name} within 100 MB: {check(tidy, {**env, 'MMICD_CHECK_MB': '100'}, a.seconds)}")
        print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
