"""Local accounts: argon2 password hashes, rate-limited sign-in, the first admin.

Brute force is slowed twice: every failed attempt costs a growing delay, and after
``max_failures`` failures the account is locked for ``lock_minutes`` (even the right password is
refused until then). Accounts from an identity provider have no password and are matched by e-mail.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update

from mmicd.auth import ALL_COUNTRIES, SYSTEM, Action, Role, User, require
from mmicd.store import Store, record_audit
from mmicd.store.schema import users

log = logging.getLogger(__name__)
_hasher = PasswordHasher()  # argon2id, memory-hard
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5
    lock_minutes: int = 15
    delay_base_seconds: float = 0.5  # delay after the n-th failure: base * 2**(n-1), capped
    delay_cap_seconds: float = 8.0


class SignInError(Exception):
    """Sign-in refused; ``reason`` is a translation key suffix (``wrong``, ``locked``, ``inactive``)."""

    def __init__(self, reason: str, until: datetime | None = None):
        self.reason, self.until = reason, until
        super().__init__(reason)


class AccountError(ValueError):
    """An account change that cannot be made; ``reason`` is a translation key suffix."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(row) -> User:
    return User(username=row.username, role=Role(row.role), countries=row.countries,
                display_name=row.display_name, id=row.id)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password_short")


def _normalise_countries(countries: str | list[str] | None) -> str:
    if not countries or countries == ALL_COUNTRIES:
        return ALL_COUNTRIES
    items = countries.split(",") if isinstance(countries, str) else list(countries)
    return ",".join(sorted({c.strip().upper() for c in items if c.strip()}))


def create_user(store: Store, actor: User, *, username: str, role: Role, password: str | None = None,
                countries: str | list[str] | None = None, display_name: str = "") -> User:
    """Create an account (admins only). ``password`` None: an identity-provider account."""
    require(actor, Action.MANAGE_USERS)
    username = username.strip().lower()
    if not username:
        raise AccountError("username_empty")
    if password is not None:
        _check_password(password)
    with store.engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.username == username)).first():
            raise AccountError("username_taken")
        user_id = conn.execute(
            insert(users).values(
                username=username, display_name=display_name or username,
                password_hash=_hasher.hash(password) if password is not None else None,
                role=Role(role).value, countries=_normalise_countries(countries), active=True,
                created_at=_now(), failed_attempts=0,
            )
        ).inserted_primary_key[0]
        record_audit(conn, actor=actor.label, action="user:create", entity_type="user", entity_id=user_id,
                     new={"username": username, "role": Role(role).value,
                          "countries": _normalise_countries(countries)})
    return get_user(store, username)


def update_user(store: Store, actor: User, username: str, *, role: Role | None = None,
                countries: str | list[str] | None = None, active: bool | None = None,
                password: str | None = None) -> User:
    """Change an account's role, country scope, active flag or password (admins only; audited)."""
    require(actor, Action.MANAGE_USERS)
    with store.engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        if row is None:
            raise AccountError("unknown_user")
        changes, old, new = {}, {}, {}
        if role is not None and Role(role).value != row.role:
            old["role"] = row.role
            changes["role"] = new["role"] = Role(role).value
        if countries is not None and _normalise_countries(countries) != row.countries:
            old["countries"] = row.countries
            changes["countries"] = new["countries"] = _normalise_countries(countries)
        if active is not None and active != row.active:
            old["active"] = row.active
            changes["active"] = new["active"] = active
        if password is not None:
            _check_password(password)
            changes["password_hash"] = _hasher.hash(password)
            changes["failed_attempts"], changes["locked_until"] = 0, None
            new["password"] = "changed"
        if row.role == Role.ADMIN and (changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False):
            others = conn.execute(select(func.count()).select_from(users).where(
                users.c.role == Role.ADMIN.value, users.c.active.is_(True), users.c.id != row.id)).scalar_one()
            if others == 0:
                raise AccountError("last_admin")
        if changes:
            conn.execute(update(users).where(users.c.id == row.id).values(**changes))
            record_audit(conn, actor=actor.label, action="user:update", entity_type="user", entity_id=row.id,
                         old=old, new=new)
    return get_user(store, username)


def get_user(store: Store, username: str) -> User | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    return _user(row) if row else None


def list_users(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        frame = pd.read_sql(select(users).order_by(users.c.username), conn)
    return frame.drop(columns=["password_hash"])


def authenticate(store: Store, username: str, password: str, *, policy: SignInPolicy = SignInPolicy(),
                 now: Callable[[], datetime] = _now, sleep: Callable[[float], None] = time.sleep) -> User:
    """Check a password. Failures are counted, slowed down and audited; locked accounts refuse.

    The bookkeeping is committed before a refusal is raised, so a failed attempt always counts.
    """
    username = username.strip().lower()
    refusal: SignInError | None = None
    delay = 0.0
    with store.engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        moment = now()
        if row is None or row.password_hash is None:
            _hasher.hash(password)  # same cost as a real check: no timing hint that the name is unknown
            record_audit(conn, actor=username or "?", action="signin:failed", entity_type="user",
                         entity_id=username or "?", reason="unknown user")
            refusal, delay = SignInError("wrong"), policy.delay_base_seconds
        elif not row.active:
            refusal = SignInError("inactive")
        elif (locked_until := _aware(row.locked_until)) and locked_until > moment:
            refusal = SignInError("locked", locked_until)
        else:
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                failures = row.failed_attempts + 1
                lock = moment + timedelta(minutes=policy.lock_minutes) if failures >= policy.max_failures else None
                conn.execute(update(users).where(users.c.id == row.id).values(
                    failed_attempts=0 if lock else failures, locked_until=lock))
                record_audit(conn, actor=username, action="signin:failed", entity_type="user", entity_id=row.id,
                             detail={"failures": failures, "locked": lock is not None})
                delay = min(policy.delay_base_seconds * 2 ** (failures - 1), policy.delay_cap_seconds)
                refusal = SignInError("locked", lock) if lock else SignInError("wrong")
            else:
                conn.execute(update(users).where(users.c.id == row.id).values(
                    failed_attempts=0, locked_until=None, last_login_at=moment))
                record_audit(conn, actor=username, action="signin", entity_type="user", entity_id=row.id)
    if refusal is not None:
        if delay:
            sleep(delay)
        raise refusal
    return _user(row)


def identity_provider_user(store: Store, email: str | None, verified: bool) -> User | None:
    """The active account matching a verified e-mail from the identity provider, if an admin created it."""
    if not email or not verified:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == email.strip().lower())).first()
    return _user(row) if row is not None and row.active else None


def ensure_admin(store: Store, env: dict[str, str] | None = None) -> str | None:
    """Create the first admin when there is no account at all.

    Its password comes from ``MMICD_ADMIN_PASSWORD``; when unset, a random one is generated,
    printed once on the console and returned. Returns None when accounts already exist.
    """
    env = os.environ if env is None else env
    with store.engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(users)).scalar_one():
            return None
    username = env.get("MMICD_ADMIN_USER", "admin")
    password = env.get("MMICD_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    create_user(store, SYSTEM, username=username, role=Role.ADMIN, password=password, display_name="Administrator")
    if not env.get("MMICD_ADMIN_PASSWORD"):
        # printed once, on the server's console only; never logged
        print(f"\n*** MMICD first start: admin account '{username}' created with password: {password}\n"
              "*** Sign in and change it; set MMICD_ADMIN_PASSWORD to choose it yourself.\n", flush=True)
    return password


def change_own_password(store: Store, user: User, current: str, new: str, **kwargs) -> None:
    """A signed-in user changes their own password, proving the current one first (audited)."""
    if user.is_anonymous:
        raise AccountError("unknown_user")
    authenticate(store, user.username, current, **kwargs)
    _check_password(new)
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(password_hash=_hasher.hash(new)))
        record_audit(conn, actor=user.label, action="user:password", entity_type="user", entity_id=user.id,
                     new={"password": "changed"})
