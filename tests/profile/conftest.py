"""Fixtures: the seeded baseline plus the synthetic Nepal demo data (census 2021, LFS 2023)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mmicd.demo import ensure_demo_uploads
from mmicd.store import Store
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[2] / DASHBOARD)


@pytest.fixture(scope="session")
def demo_dir(seeded_file, tmp_path_factory) -> Path:
    """A folder with a store seeded with the baseline and the demo uploads (built once)."""
    folder = tmp_path_factory.mktemp("demo")
    shutil.copy(seeded_file, folder / "mmicd.sqlite")
    s = Store(f"sqlite:///{folder / 'mmicd.sqlite'}", data_dir=folder)
    ensure_demo_uploads(s)
    with s.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    s.engine.dispose()
    return folder


@pytest.fixture
def demo_copy(demo_dir, tmp_path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(demo_dir, copy)
    return copy


@pytest.fixture
def demo_store(demo_copy):
    s = Store(f"sqlite:///{demo_copy / 'mmicd.sqlite'}", data_dir=demo_copy)
    yield s
    s.engine.dispose()


@pytest.fixture
def demo_env(demo_copy, monkeypatch):
    """Environment for AppTest on a private copy of the demo store."""
    monkeypatch.setenv("MMICD_DATABASE_URL", f"sqlite:///{demo_copy / 'mmicd.sqlite'}")
    monkeypatch.setenv("MMICD_DATA_DIR", str(demo_copy))
    monkeypatch.delenv("MMICD_LANG", raising=False)
    monkeypatch.delenv("MMICD_DEFAULT_COUNTRY", raising=False)
    return demo_copy
