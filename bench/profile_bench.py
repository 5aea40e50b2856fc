"""Benchmark of the migration profile page (issue 5), measured in-process with Streamlit's AppTest.

    .venv/bin/python bench/profile_bench.py

1. Builds a throwaway store: the international baseline plus the synthetic Nepal demo uploads.
2. Opens the profile page for Nepal (cold), then times warm reruns (server time: AppTest runs the
   script in this process, with no browser). Target: under 0.5 s.
3. Switches country Nepal -> Germany -> Nepal -> Germany and counts the files read meanwhile
   (survey Parquet files, code lists, catalogues, the topojson: anything opened under the data
   folder, data/ or static/). Data are cached by dataset version ids, so the switches after the
   first visit of each country read nothing, and the Nepal LFS microdata are read once in total.
"""

from __future__ import annotations

import builtins
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEAR = "2023"  # the sidebar's reference year, set before every run (AppTest drops the sidebar widgets on reruns)
sys.path.insert(0, str(ROOT))


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="mmicd-profile-bench-"))
    try:
        os.environ["MMICD_DATABASE_URL"] = f"sqlite:///{tmp / 'mmicd.sqlite'}"
        os.environ["MMICD_DATA_DIR"] = str(tmp)
        os.environ.setdefault("MMICD_ADMIN_PASSWORD", "bench admin password")
        from mmicd.baseline import seed
        from mmicd.demo import ensure_demo_uploads
        from mmicd.store import Store

        t0 = time.perf_counter()
        s = Store(os.environ["MMICD_DATABASE_URL"], data_dir=tmp)
        seed(s)
        ensure_demo_uploads(s)
        s.engine.dispose()
        print(f"store with baseline + demo data built in {time.perf_counter() - t0:.1f} s")

        import pandas as pd
        from streamlit.testing.v1 import AppTest

        reads: list[str] = []
        watched = (str(tmp), str(ROOT / "data"), str(ROOT / "static"))
        real_open, real_parquet = builtins.open, pd.read_parquet

        def counting_open(file, *args, **kwargs):
            if isinstance(file, str | os.PathLike) and str(file).startswith(watched):
                reads.append(str(file))
            return real_open(file, *args, **kwargs)

        def counting_parquet(path, *args, **kwargs):  # microdata come from the database as a file object
            reads.append(str(path) if isinstance(path, str | os.PathLike) else "microdata from the database.parquet")
            return real_parquet(path, *args, **kwargs)

        builtins.open, pd.read_parquet = counting_open, counting_parquet

        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
        at.session_state["country"] = "NPL"
        at.session_state["year"] = YEAR
        t0 = time.perf_counter()
        at.run()
        at.switch_page("pages/profile.py").run()
        assert not at.exception, at.exception
        print(f"cold first run (app start + profile of Nepal): {time.perf_counter() - t0:.2f} s; "
              f"{len(reads)} file reads (of which {sum(r.endswith('.parquet') for r in reads)} Parquet)")

        warm = []
        for _ in range(10):
            at.session_state["year"] = YEAR  # under AppTest the sidebar's widgets vanish on a rerun
            t0 = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        print("warm reruns (s):", " ".join(f"{w:.3f}" for w in warm))
        print(f"warm rerun of the profile page (Nepal, demo data): median {statistics.median(warm):.3f} s, "
              f"min {min(warm):.3f} s, max {max(warm):.3f} s over {len(warm)} runs (target < 0.5 s)")

        for country in ("DEU", "NPL", "DEU", "NPL"):
            before = len(reads)
            at.session_state["country"] = country
            at.session_state["year"] = YEAR
            t0 = time.perf_counter()
            at.run()
            took = time.perf_counter() - t0
            assert not at.exception, at.exception
            title = at.title[0].value
            new = reads[before:]
            print(f"switch to {country}: {took:.2f} s, {len(new)} file reads "
                  f"({sum(r.endswith('.parquet') for r in new)} Parquet) — page: {title}")
        parquet = [r for r in reads if r.endswith(".parquet")]
        print(f"Parquet (LFS microdata) reads in total: {len(parquet)}")
        builtins.open, pd.read_parquet = real_open, real_parquet
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
