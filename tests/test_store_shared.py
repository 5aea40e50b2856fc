"""Two app servers on one database, each with its own data folder: survey microdata live in the
database, so what one stores the other reads, computes and exports. Older versions kept as files
are still read, and moved into the database by ``python -m mmicd store import-microdata``. A load
killed half-way leaves neither a dataset row nor bytes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import mmicd.store as store_module
from mmicd.cli import main
from mmicd.dataset_export import write_export
from mmicd.engine import compute
from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import DatasetMeta, Form, Kind, Status
from mmicd.store import MicrodataMissing, Store
from tests.test_store import snapshot

ROOT = Path(__file__).resolve().parents[1]
LFS = DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL")


def unemployment_rate(frame: pd.DataFrame) -> float:
    """By hand: unemployed as a percentage of the labour force (employed plus unemployed), 15+, weighted."""
    adults = frame.loc[frame["age"] >= 15]
    labour_force = adults.loc[adults["labour_status"].isin(["EMP", "UNE"])]
    return 100 * labour_force.loc[labour_force["labour_status"] == "UNE", "weight"].sum() / labour_force["weight"].sum()


def headline(table: pd.DataFrame, indicator: str) -> float:
    rows = table.loc[(table["indicator"] == indicator) & (table["sex"] == "_T") & (table["migrant_status"] == "_T")
                     & (table["age"] == "_T")]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


def test_microdata_stored_through_one_server_is_computed_and_exported_by_another(store_url, tmp_path):
    lfs = lfs_microdata(3_000, strata=6, psus=30, seed=7)
    a = Store(store_url, data_dir=tmp_path / "server-a")
    v = a.add_microdata(LFS, lfs, actor="analyst", status=Status.PUBLISHED)
    b = Store(store_url, data_dir=tmp_path / "server-b")
    assert not (tmp_path / "server-a").exists() and not (tmp_path / "server-b").exists()  # no file anywhere
    back = b.microdata(v.id)
    pd.testing.assert_frame_equal(back, a.microdata(v.id))
    assert back["weight"].sum() == pytest.approx(lfs["weight"].sum())
    assert back["psu"].tolist() == lfs["psu"].astype(str).tolist()
    table = compute(b, country="NPL", indicators=["unemp_rate"]).table
    assert headline(table, "unemp_rate") == pytest.approx(unemployment_rate(lfs), rel=1e-9)
    assert set(table["source"]) == {"NSO LFS"}
    out = io.BytesIO()
    assert write_export(b, b.dataset(v.id), out, "csv", chunk_rows=700) == 3_000  # read in 5 pieces
    exported = pd.read_csv(io.BytesIO(out.getvalue()), encoding="utf-8-sig", dtype={"psu": str, "stratum": str})
    assert exported["weight"].sum() == pytest.approx(lfs["weight"].sum())
    assert exported["psu"].tolist() == back["psu"].tolist()
    for s in (a, b):
        s.engine.dispose()


def store_as_before(s: Store, frame: pd.DataFrame) -> int:
    """A microdata version as stored before microdata moved into the database: a Parquet file
    under the data folder, named by the version's ``storage``."""
    folder = s.data_dir / "microdata"
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "old.parquet", index=False)
    with s.engine.begin() as conn:
        dataset_id = store_module._insert_version(conn, LFS, len(frame), "analyst", Form.MICRODATA,
                                                  "microdata/old.parquet")
        store_module._publish(conn, dataset_id, "reviewer", note="")
    return dataset_id


def test_microdata_files_of_older_versions_are_read_and_moved_into_the_database(store_url, tmp_path, monkeypatch,
                                                                                  capsys):
    lfs = lfs_microdata(1_000, strata=4, psus=16, seed=8)
    a = Store(store_url, data_dir=tmp_path / "server-a")
    old = store_as_before(a, lfs)
    expected = a.microdata(old)  # the file is still read where it is
    assert expected["weight"].sum() == pytest.approx(lfs["weight"].sum())
    b = Store(store_url, data_dir=tmp_path / "server-b")
    with pytest.raises(MicrodataMissing) as err:  # the other server lacks the file: said clearly
        b.microdata(old)
    assert "import-microdata" in str(err.value) and "old.parquet" in str(err.value)
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "server-b"))
    assert main(["store", "import-microdata"]) == 1  # run where the file is not: nothing moved, said
    assert "old.parquet" in capsys.readouterr().out
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "server-a"))
    assert main(["store", "import-microdata"]) == 0
    assert "of 1 version into" in capsys.readouterr().out
    (tmp_path / "server-a" / "microdata" / "old.parquet").unlink()
    assert b.dataset(old).storage == "database"
    pd.testing.assert_frame_equal(b.microdata(old), expected)
    assert headline(compute(b, country="NPL", indicators=["unemp_rate"]).table, "unemp_rate") == pytest.approx(
        unemployment_rate(lfs), rel=1e-9)
    assert b.audit(dataset_id=old)["action"].tolist()[-1] == "microdata_moved"
    assert main(["store", "import-microdata"]) == 0  # again: nothing left to move
    assert "of 0 versions into" in capsys.readouterr().out
    for s in (a, b):
        s.engine.dispose()


KILLED_LOAD = """
import sys, time
from pathlib import Path
import mmicd.store as store_module
from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import DatasetMeta, Kind

url, marker = sys.argv[1], Path(sys.argv[2])
real = store_module._insert_parts

def write_then_hang(conn, dataset_id, data):
    real(conn, dataset_id, data)  # the dataset row and the bytes written, not committed
    marker.write_text(str(len(data)))
    time.sleep(120)

store_module._insert_parts = write_then_hang
s = store_module.Store(url, data_dir=Path(sys.argv[3]))
s.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", edition="2022", scope="NPL"),
                lfs_microdata(5_000, strata=5, psus=20, seed=9), actor="analyst")
"""


def test_a_load_killed_half_way_leaves_no_row_and_no_bytes(store_url, tmp_path):
    s = Store(store_url, data_dir=tmp_path / "data")
    s.add_microdata(LFS, lfs_microdata(200, strata=2, psus=4, seed=1), actor="analyst")
    before = snapshot(s)
    marker = tmp_path / "written"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_LOAD, store_url, str(marker), str(tmp_path / "data")],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the load ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert int(marker.read_text()) > 10_000
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert snapshot(s) == before
    assert s.add_microdata(LFS, lfs_microdata(200, strata=2, psus=4, seed=2), actor="analyst").version == 2
    s.engine.dispose()
