"""Shared fixtures: a fresh store on every backend, and a store seeded with the baseline once."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from mmicd.baseline import seed
from mmicd.store import Store

ROOT = Path(__file__).resolve().parents[1]
# The navigation script AppTest runs (app.py, which `streamlit run` starts, serves it with the data API)
DASHBOARD = "dashboard.py"
REFERENCE = ROOT.parent / "shared" / "reference"
PG_URL = os.environ.get("MMICD_TEST_DATABASE_URL")


def pytest_configure(config):
    # Pages raise instead of showing the generic incident message, so that no test (AppTest or the
    # browser run, which inherits the environment) can miss an error. tests/auth checks the message.
    os.environ["MMICD_RAISE_ERRORS"] = "1"
    # production hides error details (.streamlit/config.toml); tests want to read them (in-process
    # AppTest through the option, the browser run's server through the environment)
    os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"
    from streamlit import config as streamlit_config

    streamlit_config.set_option("client.showErrorDetails", "full")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
CLI_ADMIN_PASSWORD = "first admin of the tests"


@pytest.fixture(autouse=True)
def cli_account(monkeypatch):
    """The command line acts as a named account (mmicd.cli.sign_in): tests run it as the first admin,
    which it creates from MMICD_ADMIN_PASSWORD on a store without accounts (tests/test_cli.py checks
    the other roles and the refusals)."""
    monkeypatch.delenv("MMICD_ADMIN_USER", raising=False)
    for name in ("MMICD_ADMIN_PASSWORD", "MMICD_PASSWORD"):
        monkeypatch.setenv(name, CLI_ADMIN_PASSWORD)
    monkeypatch.setenv("MMICD_USER", "admin")


@contextlib.contextmanager
def pg_schema_url() -> Iterator[str]:
    """A URL for a fresh, empty schema on the test PostgreSQL database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A database URL for an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with pg_schema_url() as url:
        yield url


@pytest.fixture
def store(store_url, tmp_path):
    s = Store(store_url, data_dir=tmp_path / "data")
    yield s
    s.engine.dispose()


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory) -> Path:
    """A SQLite store seeded with the baseline, built once per test session."""
    path = tmp_path_factory.mktemp("seeded") / "mmicd.sqlite"
    s = Store(f"sqlite:///{path}")
    seed(s)
    with s.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    s.engine.dispose()
    return path


@pytest.fixture
def seeded_url(seeded_file, tmp_path) -> str:
    """A private copy of the seeded store (tests may write to it)."""
    copy = tmp_path / "data" / "mmicd.sqlite"
    copy.parent.mkdir()
    shutil.copy(seeded_file, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def seeded_store(seeded_url):
    s = Store(seeded_url)
    yield s
    s.engine.dispose()


@pytest.fixture
def app_env(seeded_url, monkeypatch):
    """Environment for AppTest: the app opens a private copy of the seeded store."""
    monkeypatch.setenv("MMICD_DATABASE_URL", seeded_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(Path(seeded_url.split("///", 1)[1]).parent))
    monkeypatch.delenv("MMICD_LANG", raising=False)
    monkeypatch.delenv("MMICD_DEFAULT_COUNTRY", raising=False)
    return seeded_url
