"""Concurrent loads of one series, on SQLite and PostgreSQL: each thread has its own engine (its own
connections) and all start together. Version numbers stay 1..n without gaps or duplicates; a load
that cannot get a number gets a clear, translated refusal — never a raw IntegrityError."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

import mmicd.store as store_module
from mmicd.i18n import t
from mmicd.store import Store, StoreBusy
from tests.test_store import LFS, META, frame, persons

LOADS = 4


def in_parallel(url: str, tmp_path, work) -> list:
    """``work(store, n)`` run by LOADS threads started at the same instant, each with a store of its
    own (its own engine and connections, as separate servers): what each returned or raised."""
    barrier = threading.Barrier(LOADS)
    results: list = [None] * LOADS

    def run(n: int) -> None:
        s = Store(url, data_dir=tmp_path / f"server{n}", upgrade=False)
        try:
            barrier.wait()
            results[n] = work(s, n)
        except Exception as exc:  # noqa: BLE001 — the test inspects what each thread got
            results[n] = exc
        finally:
            s.engine.dispose()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(LOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def load_in_parallel(url: str, tmp_path, microdata: bool = False) -> list:
    """Four loads of one series started at the same instant; their versions or their exceptions."""
    Store(url, data_dir=tmp_path).engine.dispose()  # schema created once, before the race

    def load(s: Store, n: int):
        if microdata:
            return s.add_microdata(LFS, persons(), actor=f"analyst{n}")
        return s.add_dataset(META, frame(), actor=f"analyst{n}")

    return in_parallel(url, tmp_path, load)


@pytest.fixture
def slow_numbering(monkeypatch):
    """Widen the race: every load waits 0.2 s between reading its series' highest version and
    inserting the next, so that loads not held apart would all choose the same number."""
    real = store_module._next_version

    def slow(conn, meta):
        number = real(conn, meta)
        time.sleep(0.2)
        return number

    monkeypatch.setattr(store_module, "_next_version", slow)


def counts(url: str) -> tuple[int, int]:
    s = Store(url, upgrade=False)
    try:
        with s.engine.connect() as conn:
            return tuple(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one()
                         for table in ("datasets", "audit"))
    finally:
        s.engine.dispose()


@pytest.mark.parametrize("microdata", [False, True], ids=["observations", "microdata"])
def test_parallel_loads_of_one_series_get_versions_one_to_four(store_url, tmp_path, slow_numbering, microdata):
    results = load_in_parallel(store_url, tmp_path, microdata)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert sorted(v.version for v in results) == [1, 2, 3, 4]
    assert len({v.id for v in results}) == LOADS
    assert counts(store_url) == (4, 4)  # one "created" entry each


def test_loads_that_keep_colliding_are_refused_clearly_and_leave_nothing(store_url, tmp_path, slow_numbering,
                                                                          monkeypatch):
    # without the series lock, the loads collide on the unique version index: the store retries,
    # then refuses the ones that never got through — with its own message, nothing half-stored
    monkeypatch.setattr(store_module, "_lock_series", lambda conn, *series: None)
    results = load_in_parallel(store_url, tmp_path)
    stored = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, StoreBusy) for r in refused), refused
    assert refused  # 4 loads, 3 attempts each, one winner per round: at least one is refused
    assert sorted(v.version for v in stored) == list(range(1, len(stored) + 1))
    assert counts(store_url) == (len(stored), len(stored))
    busy = refused[0]
    assert str(busy) == t("store.busy", "en") and "nothing was stored" in str(busy)
    assert busy.message("fr") == t("store.busy", "fr") != str(busy)
    assert "INSERT" not in str(busy) and "IntegrityError" not in str(busy)


def test_a_writer_holding_sqlite_too_long_gives_a_clear_refusal(tmp_path, monkeypatch):
    path = tmp_path / "store.sqlite"
    Store(f"sqlite:///{path}", data_dir=tmp_path).engine.dispose()
    monkeypatch.setattr(store_module, "SQLITE_WAIT_S", 0.3)
    s = Store(f"sqlite:///{path}", data_dir=tmp_path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the store
    try:
        with pytest.raises(StoreBusy):
            s.add_dataset(META, frame(), actor="a")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert s.add_dataset(META, frame(), actor="a").version == 1  # and once it is free, the load goes through
    s.engine.dispose()


def test_servers_starting_together_on_an_empty_database_create_the_schema_once(store_url, tmp_path):
    barrier = threading.Barrier(LOADS)
    results: list = [None] * LOADS

    def start(n: int) -> None:
        try:
            barrier.wait()
            s = Store(store_url, data_dir=tmp_path)
            results[n] = store_module.schema_revision(s.engine)
            s.engine.dispose()
        except Exception as exc:  # noqa: BLE001
            results[n] = exc

    threads = [threading.Thread(target=start, args=(n,)) for n in range(LOADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [store_module.head_revision()] * LOADS


def test_parallel_publications_of_one_series_leave_exactly_one_published(store_url, tmp_path, monkeypatch):
    # four drafts of one series published at the same instant by four reviewers: each publication
    # supersedes what is published when it runs, so the series ends with one published version and
    # three superseded — never two published ones. The race is widened: every publication waits
    # 0.2 s between reading the series' published versions and changing statuses.
    s = Store(store_url, data_dir=tmp_path)
    drafts = [s.add_dataset(META, frame(), actor="analyst").id for _ in range(LOADS)]
    s.engine.dispose()
    real = store_module._set_status

    def slow(conn, *args, **kwargs):
        time.sleep(0.2)
        return real(conn, *args, **kwargs)

    monkeypatch.setattr(store_module, "_set_status", slow)
    results = in_parallel(store_url, tmp_path, lambda reviewer, n: reviewer.publish(drafts[n], actor=f"reviewer{n}"))
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    s = Store(store_url, data_dir=tmp_path, upgrade=False)
    statuses = sorted(s.dataset(i).status.value for i in drafts)
    s.engine.dispose()
    assert statuses == ["published", "superseded", "superseded", "superseded"]
