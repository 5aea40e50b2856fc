"""The upload page against the command line on the same CSV: time and peak memory, one command.

    .venv/bin/python bench/upload_page_bench.py [--rows 1000000] [--repeat 3]

Generates the tidy observation table of ``ingest_bench.py`` (area, year, sex, age, migrant status,
value; 1,000,000 rows is 33 MB) with ``--problems`` value cells written as text (errors the page
lists), seeds a throwaway store, then, alternating, each in a fresh child process (medians of
``--repeat``):

* the command line, ``python -m mmicd ingest FILE --dry-run``: time of the whole command (imports
  included) and its peak resident memory;
* the upload page under Streamlit's AppTest, signed in as an analyst: wall time from handing the
  file to the uploader until the page has checked it and shown the result (the app's first load
  is not counted), and the peak resident memory of that process.

Prints both and the page/command-line ratios (target: at most 2 for time and memory), with the
machine's load. ``--annotate`` also times building the annotated workbook on the page (a button).
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
sys.path.insert(0, str(ROOT / "bench"))


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


PEAK = ("def _peak():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1]) / 1024\n")


def _peak() -> float:
    """This process's peak resident memory in MB (VmHWM: its own, from its start; the rusage of a
    child would count the parent's memory at the fork)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(cmd: list[str], env: dict[str, str]) -> dict:
    """Run ``cmd``; its last ``@@{json}`` line."""
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, text=True)
    lines = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    if not lines:
        raise RuntimeError(proc.stderr[-3000:] or proc.stdout[-3000:])
    return json.loads(lines[-1][2:])


def cli(path: Path, env: dict[str, str]) -> dict:
    """The command line in a child process: wall time of the whole command, peak RSS."""
    code = ("import json, sys, time\n"
            "t0 = time.perf_counter()\n"
            "from mmicd.cli import main\n"
            f"rc = main(['ingest', {str(path)!r}, '--dry-run', '--json'])\n"
            "sys.stdout.flush()\n" + PEAK +
            "print('@@' + json.dumps({'seconds': time.perf_counter() - t0, 'rc': rc, 'peak_mb': _peak()}))\n")
    return _child([sys.executable, "-c", code], env)


def page_child(path: str, annotate: bool) -> None:
    """In a fresh process: the app under AppTest, the upload page, the file handed to the uploader."""
    from datetime import UTC, datetime, timedelta

    from streamlit.testing.v1 import AppTest

    from mmicd.auth import Role, User

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=3600)
    at.session_state["_auth"] = {"user": User("ana", Role.ANALYST, id=5),
                                 "expires": datetime.now(UTC) + timedelta(hours=2)}
    at.run()
    at.switch_page("pages/upload.py").run()
    data = Path(path).read_bytes()
    before = _peak()   # the app loaded, no file yet
    t0 = time.perf_counter()
    at.get("file_uploader")[0].set_value([(Path(path).name, data, "text/csv")])
    at.run()
    while "_upload_jobs" in at.session_state and at.session_state["_upload_jobs"]:
        for check in list(at.session_state["_upload_jobs"].values()):   # past the page's wait: it polls
            check.wait()
        at.run()
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "peak_mb": _peak(), "peak_before_upload_mb": before, "exception": [str(e.value)[:300] for e in at.exception],
           "errors": [e.value[:200] for e in at.error], "warnings": [w.value[:200] for w in at.warning],
           "success": [x.value[:200] for x in at.success], "tables": len(at.dataframe)}
    if annotate:
        buttons = [b for b in at.button if b.key and b.key.startswith("upload_annot_make")]
        if buttons:
            t1 = time.perf_counter()
            buttons[0].click().run()
            out["annotate_seconds"] = time.perf_counter() - t1
    print("@@" + json.dumps(out))


def page(path: Path, env: dict[str, str], annotate: bool) -> dict:
    return _child([sys.executable, __file__, "--child", str(path)] + (["--annotate"] if annotate else []), env)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--annotate", action="store_true")
    p.add_argument("--problems", type=int, default=50, help="cells written as text in the value column (errors), "
                   "so that the page has problems to list (and, before, built the marked workbook for)")
    p.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        page_child(a.child, a.annotate)
        return
    from ingest_bench import make_tidy_csv

    from mmicd.baseline import seed
    from mmicd.store import Store

    med = statistics.median
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        csv = tmp / "census_tidy.csv"
        make_tidy_csv(csv, a.rows)
        if a.problems:
            lines = csv.read_bytes().split(b"\n")
            for i in range(1, len(lines) - 1, max((len(lines) - 2) // a.problems, 1)):
                lines[i] = lines[i].rsplit(b",", 1)[0] + b",n/k"
            csv.write_bytes(b"\n".join(lines))
        store_path = tmp / "data" / "mmicd.sqlite"
        store_path.parent.mkdir()
        s = Store(f"sqlite:///{store_path}", data_dir=store_path.parent)
        seed(s)
        s.engine.dispose()
        env = {**os.environ, **CLI_ACCOUNT, "MMICD_DATABASE_URL": f"sqlite:///{store_path}", "MMICD_DATA_DIR": str(store_path.parent),
               "PYTHONPATH": str(ROOT)}
        print(f"{a.rows:,}-row tidy CSV ({csv.stat().st_size / 1e6:.0f} MB, {a.problems} cells with text for a number);"
              f" load average before: {_load()}")
        clis, pages = [], []
        for _ in range(a.repeat):
            clis.append(cli(csv, env))
            pages.append(page(csv, env, a.annotate))
        if pages[-1]["exception"]:
            print("  the page failed:", pages[-1]["exception"])
        print(f"  the page says: {(pages[-1]['errors'] or pages[-1]['success'] or [''])[0]}")
        ct, pt = med(c["seconds"] for c in clis), med(x["seconds"] for x in pages)
        cm, pm = med(c["peak_mb"] for c in clis), med(x["peak_mb"] for x in pages)
        cli_runs = ", ".join(f"{c['seconds']:.1f}" for c in clis)
        page_runs = ", ".join(f"{x['seconds']:.1f}" for x in pages)
        print(f"  command line (python -m mmicd ingest --dry-run, whole command): {ct:.1f} s, peak RSS {cm:.0f} MB"
              f"  (runs: {cli_runs} s)")
        print(f"  upload page (AppTest, file handed to the uploader until the page is shown): {pt:.1f} s, peak RSS"
              f" {pm:.0f} MB (before the upload {med(x['peak_before_upload_mb'] for x in pages):.0f} MB)"
              f"  (runs: {page_runs} s)")
        print(f"  page / command line: time {pt / ct:.2f}, memory {pm / cm:.2f} (target <= 2 each)")
        if a.annotate and "annotate_seconds" in pages[-1]:
            print(f"  annotated workbook built on request (the button): {pages[-1]['annotate_seconds']:.1f} s")
        print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
