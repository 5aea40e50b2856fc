"""Sign-in lock-out that holds under parallel attempts, per account and per client address, on
SQLite and PostgreSQL; unknown names answered like known ones; hashes upgraded at sign-in."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import argon2
import pytest
from sqlalchemy import select

from mmicd.auth import SYSTEM, Role
from mmicd.auth import accounts as accounts_module
from mmicd.auth.accounts import SignInError, SignInPolicy, authenticate, create_user, update_user
from mmicd.store import Store
from mmicd.store.schema import signin_throttle, users

PASSWORD = "correct horse 1"


def no_sleep(_seconds: float) -> None:
    pass


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


def attempt(store, name, password, **kwargs) -> str:
    """What a sign-in answers: the refusal's reason, or 'signed in'."""
    try:
        authenticate(store, name, password, sleep=no_sleep, **kwargs)
    except SignInError as err:
        return err.reason
    return "signed in"


def in_parallel(store_url, tmp_path, calls: list[tuple[str, str, dict]]) -> list[str]:
    """Run the sign-ins at once, each thread with its own engine (its own connections), as separate
    servers would; a barrier makes them read the counters before any of them writes."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        name, password, kwargs = call
        s = Store(store_url, data_dir=tmp_path, upgrade=False)
        try:
            barrier.wait()
            return attempt(s, name, password, **kwargs)
        finally:
            s.engine.dispose()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def analyst(store):
    return create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password=PASSWORD, countries=["NPL"])


@pytest.mark.parametrize("name", ["ana", "nobody"])
def test_twenty_parallel_wrong_passwords_lock_after_exactly_five(store_url, tmp_path, store, analyst, name):
    answers = in_parallel(store_url, tmp_path, [(name, f"guess {i}", {}) for i in range(20)])
    # four answered 'wrong', the fifth locked the account, the fifteen others found it locked
    assert sorted(answers) == ["locked"] * 16 + ["wrong"] * 4
    failed = store.audit(action="signin:failed")
    assert sorted(d["failures"] for d in failed["detail"]) == [1, 2, 3, 4, 5]
    assert [d["locked"] for d in failed["detail"]].count(True) == 1
    assert set(failed["entity_id"]) == {str(analyst.id) if name == "ana" else name}
    # the right password is refused as locked; the other accounts are untouched
    assert attempt(store, name, PASSWORD) == "locked"
    create_user(store, SYSTEM, username="bea", role=Role.VIEWER, password=PASSWORD)
    assert attempt(store, "bea", PASSWORD) == "signed in"


def test_unknown_names_get_the_same_answers_and_delays_as_accounts(store, analyst):
    clock = Clock()
    answers, delays = {}, {}
    for name in ("ana", "nobody"):
        delays[name] = []
        answers[name] = [attempt(store, name, "guess", now=clock) for _ in range(4)]
        for _ in range(2):
            try:
                authenticate(store, name, "guess", now=clock, sleep=delays[name].append)
            except SignInError as err:
                answers[name].append((err.reason, err.until))
    assert answers["ana"] == answers["nobody"] == ["wrong"] * 4 + [("locked", clock.now + timedelta(minutes=15))] * 2
    assert delays["ana"] == delays["nobody"] == [8.0]  # the locking attempt; the locked one is refused at once


def test_an_unknown_name_costs_one_argon2_check_with_the_current_parameters(store, analyst, monkeypatch):
    checked = []

    class Spy(argon2.PasswordHasher):
        def verify(self, password_hash, password):
            checked.append(argon2.extract_parameters(password_hash))
            return super().verify(password_hash, password)

    monkeypatch.setattr(accounts_module, "_hasher", Spy())
    timings = {}
    for name in ("ana", "nobody", "ana", "nobody", "ana", "nobody"):
        start = time.perf_counter()
        assert attempt(store, name, "guess") == "wrong"
        timings.setdefault(name, []).append(time.perf_counter() - start)
    current = argon2.extract_parameters(argon2.PasswordHasher().hash("x"))
    assert checked == [current] * 6
    # same work, so about the same time (loose bound: the machine is shared)
    assert min(timings["nobody"]) > 0.5 * min(timings["ana"])


def test_many_failures_from_one_address_across_accounts_are_throttled(store):
    clock = Clock()
    policy = SignInPolicy(address_max_failures=6, address_window_minutes=15, address_lock_minutes=15)
    for name in ("a1", "a2", "a3", "fresh"):
        create_user(store, SYSTEM, username=name, role=Role.VIEWER, password=PASSWORD)
    here, there = "203.0.113.7", "198.51.100.2"
    # two guesses on each of three accounts: no account reaches its own limit of five
    answers = [attempt(store, name, "guess", address=here, policy=policy, now=clock)
               for name in ("a1", "a2", "a3", "a1", "a2")]
    assert answers == ["wrong"] * 5
    assert attempt(store, "nobody", "guess", address=here, policy=policy, now=clock) == "throttled"
    # from that address even a right password is refused, without a check; elsewhere it works
    with pytest.raises(SignInError) as err:
        authenticate(store, "fresh", PASSWORD, address=here, policy=policy, now=clock, sleep=no_sleep)
    assert (err.value.reason, err.value.until) == ("throttled", clock.now + timedelta(minutes=15))
    assert attempt(store, "fresh", PASSWORD, address=there, policy=policy, now=clock) == "signed in"
    failed = store.audit(action="signin:failed")
    assert [d["address_failures"] for d in failed["detail"]] == [1, 2, 3, 4, 5, 6]
    assert [d["address_locked"] for d in failed["detail"]] == [False] * 5 + [True]
    with store.engine.connect() as conn:
        counts = dict(conn.execute(select(users.c.username, users.c.failed_attempts)).all())
    assert (counts["a1"], counts["a2"], counts["a3"]) == (2, 2, 1)
    clock.now += timedelta(minutes=16)  # the address lock ends
    assert attempt(store, "fresh", PASSWORD, address=here, policy=policy, now=clock) == "signed in"


def test_parallel_failures_from_one_address_are_counted_exactly(store_url, tmp_path, store):
    policy = SignInPolicy(address_max_failures=5)
    address = {"address": "203.0.113.9", "policy": policy}
    answers = in_parallel(store_url, tmp_path, [(f"name{i}", "guess", address) for i in range(12)])
    assert sorted(answers) == ["throttled"] * 8 + ["wrong"] * 4
    counted = [d["address_failures"] for d in store.audit(action="signin:failed")["detail"]]
    assert sorted(n for n in counted if n is not None) == [1, 2, 3, 4, 5]
    assert attempt(store, "name0", "guess", **address) == "throttled"


def test_a_deactivated_account_says_so_only_to_the_right_password(store, analyst):
    update_user(store, SYSTEM, "ana", active=False)
    assert attempt(store, "ana", "guess") == "wrong"  # no hint that the account exists
    assert attempt(store, "ana", PASSWORD) == "inactive"


def test_a_hash_with_old_parameters_is_replaced_at_the_next_sign_in(store, monkeypatch):
    current = accounts_module._hasher
    monkeypatch.setattr(accounts_module, "_hasher", argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    create_user(store, SYSTEM, username="old", role=Role.VIEWER, password=PASSWORD)
    monkeypatch.setattr(accounts_module, "_hasher", current)

    def stored():
        with store.engine.connect() as conn:
            return conn.execute(select(users.c.password_hash).where(users.c.username == "old")).scalar_one()

    weak = stored()
    assert argon2.extract_parameters(weak).memory_cost == 8192
    assert attempt(store, "old", "guess") == "wrong"
    assert stored() == weak  # only the right password may be rehashed
    assert attempt(store, "old", PASSWORD) == "signed in"
    strong = stored()
    assert argon2.extract_parameters(strong) == argon2.extract_parameters(current.hash("x"))
    assert current.verify(strong, PASSWORD)
    assert store.audit(action="signin")["detail"].tolist() == [{"address": None, "rehashed": True}]
    assert attempt(store, "old", PASSWORD) == "signed in" and stored() == strong  # not rehashed again


def test_counters_idle_for_a_day_are_forgotten(store):
    clock = Clock()
    assert attempt(store, "nobody", "guess", address="203.0.113.7", now=clock) == "wrong"
    clock.now += timedelta(hours=12)
    assert attempt(store, "somebody", "guess", now=clock) == "wrong"

    def keys():
        with store.engine.connect() as conn:
            return set(conn.execute(select(signin_throttle.c.key)).scalars())

    assert keys() == {"name:nobody", "address:203.0.113.7", "name:somebody"}
    clock.now += timedelta(hours=13)  # the first two idle for 25 hours, the third for 13
    assert attempt(store, "other", "guess", now=clock) == "wrong"
    assert keys() == {"name:somebody", "name:other"}
