"""Helpers for the ingestion tests: fixture folders, the real reference files, store snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mmicd.ingest import Upload
from mmicd.store.schema import audit, datasets, observations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BAD = FIXTURES / "bad"
GOOD = FIXTURES / "good"
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def upload(path: Path) -> Upload:
    return Upload(path.name, path.read_bytes())


def snapshot(store) -> tuple:
    """Everything a failed load must leave untouched: row counts and Parquet files (the command
    line's sign-in of its account is in the audit trail, but not part of a load)."""
    with store.engine.connect() as conn:
        counts = tuple(conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
                       for t, where in ((datasets, ()), (observations, ()),
                                        (audit, (audit.c.action.not_in(["signin", "user:create"]),))))
    files = sorted(p.name for p in (store.data_dir / "microdata").glob("*")) \
        if (store.data_dir / "microdata").exists() else []
    return counts, tuple(files)


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference folder {REFERENCE} is absent")
    return REFERENCE


def value_of(frame, **key) -> float:
    """The one value of ``frame`` at ``key`` (dimension -> code); fails unless exactly one row matches."""
    sel = frame
    for col, val in key.items():
        sel = sel[sel[col] == val]
    assert len(sel) == 1, (key, len(sel))
    return float(sel["value"].iloc[0])
