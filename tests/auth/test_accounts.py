"""Accounts: argon2 hashes, slowed and locked brute force, first admin, admin-only changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mmicd.auth import ANONYMOUS, SYSTEM, PermissionDenied, Role
from mmicd.auth.accounts import (
    AccountError,
    SignInError,
    SignInPolicy,
    authenticate,
    create_user,
    ensure_admin,
    get_user,
    identity_provider_user,
    list_users,
    update_user,
)
from mmicd.store.schema import users


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


@pytest.fixture
def analyst(store):
    return create_user(store, SYSTEM, username="Ana@NSO.gov.np", role=Role.ANALYST, password="correct horse 1",
                       countries=["npl"])


def test_passwords_are_stored_as_argon2_hashes_never_in_clear(store, analyst):
    with store.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.id == analyst.id)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert "password_hash" not in list_users(store).columns
    assert (analyst.username, analyst.countries) == ("ana@nso.gov.np", "NPL")


def test_sign_in_with_the_right_password_and_any_case_of_the_name(store, analyst):
    user = authenticate(store, "ANA@nso.gov.np", "correct horse 1", sleep=lambda s: None)
    assert (user.id, user.role) == (analyst.id, Role.ANALYST)
    assert store.audit(entity_type="user", entity_id=analyst.id)["action"].tolist()[-1] == "signin"


def test_brute_force_is_slowed_then_locked_even_for_the_right_password(store, analyst):
    clock, delays = Clock(), []
    policy = SignInPolicy(max_failures=5, lock_minutes=15)
    for _ in range(4):
        with pytest.raises(SignInError) as err:
            authenticate(store, analyst.username, "guess", policy=policy, now=clock, sleep=delays.append)
        assert err.value.reason == "wrong"
    assert delays == [0.5, 1.0, 2.0, 4.0]  # each failure costs more
    with pytest.raises(SignInError) as err:
        authenticate(store, analyst.username, "guess", policy=policy, now=clock, sleep=delays.append)
    assert err.value.reason == "locked" and err.value.until == clock.now + timedelta(minutes=15)
    clock.now += timedelta(minutes=14)
    with pytest.raises(SignInError, match="locked"):
        authenticate(store, analyst.username, "correct horse 1", policy=policy, now=clock, sleep=delays.append)
    clock.now += timedelta(minutes=2)
    assert authenticate(store, analyst.username, "correct horse 1", policy=policy, now=clock,
                        sleep=delays.append).id == analyst.id
    failed = store.audit(action="signin:failed")
    assert len(failed) == 5


def test_unknown_names_and_inactive_accounts_are_refused(store, analyst):
    with pytest.raises(SignInError, match="wrong"):
        authenticate(store, "nobody", "whatever", sleep=lambda s: None)
    update_user(store, SYSTEM, analyst.username, active=False)
    with pytest.raises(SignInError, match="inactive"):
        authenticate(store, analyst.username, "correct horse 1", sleep=lambda s: None)


def test_only_admins_manage_accounts_and_the_store_is_unchanged(store, analyst):
    before = list_users(store)
    for actor in (ANONYMOUS, analyst, get_user(store, analyst.username)):
        with pytest.raises(PermissionDenied):
            create_user(store, actor, username="x", role=Role.ADMIN, password="long enough 1")
        with pytest.raises(PermissionDenied):
            update_user(store, actor, analyst.username, role=Role.ADMIN)
    assert list_users(store).equals(before)


def test_account_rules(store, analyst):
    with pytest.raises(AccountError, match="password_short"):
        create_user(store, SYSTEM, username="bob", role=Role.VIEWER, password="short")
    with pytest.raises(AccountError, match="username_taken"):
        create_user(store, SYSTEM, username="ANA@nso.gov.np", role=Role.VIEWER, password="long enough 1")
    admin = create_user(store, SYSTEM, username="root", role=Role.ADMIN, password="long enough 1")
    with pytest.raises(AccountError, match="last_admin"):
        update_user(store, SYSTEM, admin.username, role=Role.VIEWER)
    changed = update_user(store, admin, analyst.username, role=Role.REVIEWER, countries="*")
    assert (changed.role, changed.countries) == (Role.REVIEWER, "*")
    entry = store.audit(action="user:update").iloc[-1]
    assert entry["old"] == {"role": "analyst", "countries": "NPL"} and entry["actor"] == "root"


def test_first_admin_from_the_environment_or_a_random_password_printed_once(store, capsys):
    assert ensure_admin(store, {"MMICD_ADMIN_PASSWORD": "from the env 1"}) == "from the env 1"
    assert "password" not in capsys.readouterr().out  # a chosen password is never echoed
    assert ensure_admin(store, {}) is None  # accounts exist: nothing happens
    assert authenticate(store, "admin", "from the env 1", sleep=lambda s: None).role == Role.ADMIN


def test_random_first_admin_password(store_url, tmp_path, capsys):
    from mmicd.store import Store

    s = Store(store_url, data_dir=tmp_path)
    password = ensure_admin(s, {})
    assert len(password) >= 16 and password in capsys.readouterr().out
    assert authenticate(s, "admin", password, sleep=lambda s: None).role == Role.ADMIN


def test_identity_provider_accounts_match_a_verified_email_only(store):
    create_user(store, SYSTEM, username="reviewer@planning.gov.np", role=Role.REVIEWER)
    assert identity_provider_user(store, "Reviewer@planning.gov.np", verified=True).role == Role.REVIEWER
    assert identity_provider_user(store, "reviewer@planning.gov.np", verified=False) is None
    assert identity_provider_user(store, "stranger@example.org", verified=True) is None
    with pytest.raises(SignInError):  # no password: cannot sign in locally
        authenticate(store, "reviewer@planning.gov.np", "", sleep=lambda s: None)
