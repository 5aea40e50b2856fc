"""Server-side sign-in sessions behind the HttpOnly cookie: expiry, revocation, one-time codes, the
redirect target (on SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import change_own_password, create_user, update_user
from mmicd.auth.sessions import (
    SessionPolicy,
    binding,
    exchange,
    load_secret,
    revoke,
    sign,
    start,
    unsign,
    user_of,
)
from mmicd.auth.web import safe_next
from mmicd.store.schema import web_sessions

SECRET = b"k" * 32
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
POLICY = SessionPolicy(idle_minutes=30, lifetime_hours=2)


@pytest.fixture
def ana(store):
    return create_user(store, SYSTEM, username="ana", role=Role.ANALYST, password="correct horse 1")


@pytest.fixture
def admin(store):
    return create_user(store, SYSTEM, username="boss", role=Role.ADMIN, password="correct horse 2")


def test_a_session_lives_while_used_and_ends_when_idle_or_too_old(store, ana):
    new = start(store, SECRET, ana, policy=POLICY, now=T0)
    assert user_of(store, new.sid, policy=POLICY, now=T0 + timedelta(minutes=29)).username == "ana"
    # the visit at 29 minutes was noted: idle time counts from it
    assert user_of(store, new.sid, policy=POLICY, now=T0 + timedelta(minutes=58)).role == Role.ANALYST
    assert user_of(store, new.sid, policy=POLICY, now=T0 + timedelta(minutes=88)) is None  # 30 idle minutes
    # used every 20 minutes, it still ends 2 hours after the sign-in
    busy = start(store, SECRET, ana, policy=POLICY, now=T0)
    for minutes in range(20, 120, 20):
        assert user_of(store, busy.sid, policy=POLICY, now=T0 + timedelta(minutes=minutes)) is not None
    assert user_of(store, busy.sid, policy=POLICY, now=T0 + timedelta(minutes=120)) is None
    assert user_of(store, "not-a-session", policy=POLICY, now=T0) is None
    assert user_of(store, None) is None


def test_only_hashes_are_stored(store, ana):
    new = start(store, SECRET, ana, policy=POLICY, now=T0)
    with store.engine.connect() as conn:
        stored = [str(v) for v in conn.execute(select(web_sessions)).one()]
    assert not any(new.sid in v or new.code in v for v in stored)


def test_sign_out_revokes_that_session_only(store, ana):
    one, two = start(store, SECRET, ana, now=T0), start(store, SECRET, ana, now=T0)
    revoke(store, one.sid, now=T0)
    assert user_of(store, one.sid, now=T0) is None
    assert user_of(store, two.sid, now=T0).username == "ana"


def test_a_password_change_ends_every_other_session_of_the_account(store, ana, admin):
    mine, other, boss = (start(store, SECRET, u, now=T0) for u in (ana, ana, admin))
    change_own_password(store, ana, "correct horse 1", "a new password 1", keep_session=mine.sid,
                        sleep=lambda _: None)
    assert user_of(store, mine.sid, now=T0) is not None  # the tab that changed it
    assert user_of(store, other.sid, now=T0) is None
    assert user_of(store, boss.sid, now=T0) is not None  # another account is untouched
    # a reset by an admin ends them all
    update_user(store, admin, "ana", password="reset by admin 1")
    assert user_of(store, mine.sid, now=T0) is None


def test_disabling_an_account_ends_its_sessions_and_enabling_it_does_not_revive_them(store, ana, admin):
    new = start(store, SECRET, ana, now=T0)
    update_user(store, admin, "ana", role=Role.REVIEWER)  # other changes keep the session ...
    assert user_of(store, new.sid, now=T0).role == Role.REVIEWER  # ... with the new role at once
    update_user(store, admin, "ana", active=False)
    assert user_of(store, new.sid, now=T0) is None
    update_user(store, admin, "ana", active=True)
    assert user_of(store, new.sid, now=T0) is None


def test_the_code_gives_the_cookie_once_within_a_minute_in_the_same_browser(store, ana):
    new = start(store, SECRET, ana, bound_to="b1", now=T0)
    assert exchange(store, SECRET, new.code, bound_to="b2", now=T0) is None  # another browser
    assert exchange(store, SECRET, new.code + "x", bound_to="b1", now=T0) is None  # forged
    value = exchange(store, SECRET, new.code, bound_to="b1", now=T0 + timedelta(seconds=59))
    assert value == sign(SECRET, new.sid) and unsign(SECRET, value) == new.sid
    assert exchange(store, SECRET, new.code, bound_to="b1", now=T0 + timedelta(seconds=59)) is None  # replayed
    late = start(store, SECRET, ana, bound_to="b1", now=T0)
    assert exchange(store, SECRET, late.code, bound_to="b1", now=T0 + timedelta(seconds=60)) is None  # expired
    signed_out = start(store, SECRET, ana, now=T0)
    revoke(store, signed_out.sid, now=T0)
    assert exchange(store, SECRET, signed_out.code, now=T0) is None
    # the code is not the session id; and another server's secret makes another id
    assert exchange(store, b"other secret", start(store, SECRET, ana, now=T0).code, now=T0) is None


def test_a_code_used_twice_in_parallel_gives_one_cookie(store, ana):
    new = start(store, SECRET, ana)
    barrier, results = threading.Barrier(4), []

    def use():
        barrier.wait()
        results.append(exchange(store, SECRET, new.code))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is not None for r in results) == [False, False, False, True]


def test_a_forged_or_altered_cookie_is_refused_without_the_secret():
    value = sign(SECRET, "abc")
    assert unsign(SECRET, value) == "abc"
    assert unsign(SECRET, "abd" + value[3:]) is None
    assert unsign(SECRET, value[:-1] + ("0" if value[-1] != "0" else "1")) is None
    assert unsign(b"another secret", value) is None
    assert unsign(SECRET, "abc") is None and unsign(SECRET, "") is None and unsign(SECRET, None) is None


def test_the_binding_is_the_browsers_xsrf_token_whatever_its_mask():
    from streamlit.web.server.starlette.starlette_app_utils import (
        decode_xsrf_token_string,
        generate_xsrf_token_string,
    )

    token = bytes(range(16))
    one, two = generate_xsrf_token_string(token, 1), generate_xsrf_token_string(token, 2)
    assert one != two and decode_xsrf_token_string(one)[0] == token  # Streamlit's own format
    assert binding(one) == binding(two) == binding(f'"{one}"') == hashlib.sha256(token).hexdigest()
    assert binding(generate_xsrf_token_string(bytes(16), 1)) != binding(one)
    assert binding(None) == binding("") == binding("2|zz|00|1") == ""


def test_the_secret_is_made_once_and_kept(tmp_path):
    first = load_secret(tmp_path, env={})
    assert len(first) == 64 and load_secret(tmp_path, env={}) == first
    assert (tmp_path / "session_secret").stat().st_mode & 0o777 == 0o600
    assert load_secret(tmp_path, env={"MMICD_SESSION_SECRET": "from env"}) == b"from env"


def test_the_policy_comes_from_the_environment():
    assert SessionPolicy.from_env({}) == SessionPolicy(60, 12)
    assert SessionPolicy.from_env({"MMICD_SESSION_MINUTES": "15", "MMICD_SESSION_HOURS": "8"}) == SessionPolicy(15, 8)
    assert SessionPolicy.from_env({"MMICD_SESSION_MINUTES": "-1", "MMICD_SESSION_HOURS": "x"}) == SessionPolicy(60, 12)


@pytest.mark.parametrize("target, expected", [
    ("/profile?country=SEN&lang=fr", "/profile?country=SEN&lang=fr"),
    ("/", "/"),
    ("/account", "/account"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("javascript:alert(1)", "/"),
    ("evil.example", "/"),
    ("/x\r\nSet-Cookie: a=b", "/"),
    ("/\t/evil.example", "/"),
    (None, "/"),
    ("", "/"),
])
def test_the_redirect_after_sign_in_stays_in_the_app(target, expected):
    assert safe_next(target) == expected
