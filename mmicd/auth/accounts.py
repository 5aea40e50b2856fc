"""Local accounts: argon2 password hashes, rate-limited sign-in, the first admin.

Brute force is held back three ways, with counters kept in the database (shared by every server)
and counted atomically, so that parallel attempts cannot slip past them:

- every failed attempt costs a growing delay;
- after ``max_failures`` failures an account is locked for ``lock_minutes`` (even the right password
  is refused until then); an unknown name is counted and locked the same way and takes as long to
  answer (its password is checked against a dummy hash), so the answers never tell whether an
  account exists;
- after ``address_max_failures`` failures from one client address within ``address_window_minutes``,
  whatever the accounts tried, that address is refused for ``address_lock_minutes``.

A password hash made with older argon2 parameters is replaced at the next successful sign-in.
Accounts from an identity provider have no password and are matched by e-mail.
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
from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mmicd.auth import ALL_COUNTRIES, SYSTEM, Action, Role, User, require
from mmicd.auth.sessions import revoke_all
from mmicd.store import Store, record_audit
from mmicd.store.schema import signin_throttle, users

log = logging.getLogger(__name__)
_hasher = PasswordHasher()  # argon2id, memory-hard
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class SignInPolicy:
    max_failures: int = 5  # per account (or unknown name), until a successful sign-in
    lock_minutes: int = 15
    address_max_failures: int = 20  # per client address, whatever the accounts tried ...
    address_window_minutes: int = 15  # ... within this window
    address_lock_minutes: int = 15
    delay_base_seconds: float = 0.5  # delay after the n-th failure: base * 2**(n-1), capped
    delay_cap_seconds: float = 8.0


class SignInError(Exception):
    """Sign-in refused; ``reason`` is a translation key suffix (``wrong``, ``locked``, ``throttled``
    (too many failures from the client's address), ``inactive``); ``until``: when a lock ends."""

    def __init__(self, reason: str, until: datetime | None = None):
        self.reason, self.until = reason, until
        super().__init__(reason)

    def minutes_left(self) -> int:
        """Whole minutes until the lock ends, rounded up (at least 1)."""
        return max(1, int(((self.until or _now()) - _now()).total_seconds() // 60) + 1)


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
            if "password_hash" in changes or changes.get("active") is False:
                revoke_all(conn, row.id)  # signed out everywhere
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


_dummy_hash = ""
FORGET_AFTER = timedelta(days=1)  # counters of names and addresses idle this long are dropped


def _verify(password_hash: str | None, password: str) -> bool:
    """Check a password; without a hash, against a dummy one made with the same parameters, so that
    an unknown name costs the same time as a known one."""
    global _dummy_hash
    if password_hash is None:
        if not _dummy_hash or _hasher.check_needs_rehash(_dummy_hash):
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        password_hash = _dummy_hash
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _lock_of(conn, key: str, moment: datetime) -> datetime | None:
    """When the lock of a throttle counter ends, if it is locked at ``moment``."""
    until = _aware(conn.execute(select(signin_throttle.c.locked_until).where(signin_throttle.c.key == key)).scalar())
    return until if until and until > moment else None


def _count_failure(conn, key: str, moment: datetime, *, limit: int, window: timedelta,
                   lock: timedelta) -> tuple[int | None, datetime | None]:
    """Count one failure under ``key`` in one statement (insert or update, atomic on SQLite and
    PostgreSQL); the ``limit``-th failure within ``window`` locks the key for ``lock``.

    Returns (failures, lock end); failures is None when the key was already locked (not counted).
    """
    t = signin_throttle
    locked = and_(t.c.locked_until.is_not(None), t.c.locked_until > moment)
    expired = t.c.window_start <= moment - window
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    upsert = dialect.insert(t).values(key=key, failures=1, window_start=moment)
    upsert = upsert.on_conflict_do_update(index_elements=[t.c.key], set_={
        "failures": case((locked, t.c.failures), (expired, 1), else_=t.c.failures + 1),
        "window_start": case((locked, t.c.window_start), (expired, moment), else_=t.c.window_start),
    }).returning(t.c.failures, t.c.locked_until)
    failures, locked_until = conn.execute(upsert).one()
    if (until := _aware(locked_until)) and until > moment:
        return None, until
    if failures < limit:
        return failures, None
    until = moment + lock
    conn.execute(update(t).where(t.c.key == key).values(failures=0, window_start=moment, locked_until=until))
    return failures, until


def _forget_idle(store: Store, moment: datetime) -> None:
    """Drop the counters idle for ``FORGET_AFTER``, in a transaction of its own that never waits
    (rows locked by sign-ins under way are skipped), so that it cannot deadlock with them."""
    t = signin_throttle
    idle = select(t.c.key).where(t.c.window_start < moment - FORGET_AFTER,
                                 or_(t.c.locked_until.is_(None), t.c.locked_until < moment))
    with store.engine.begin() as conn:
        conn.execute(delete(t).where(t.c.key.in_(idle.with_for_update(skip_locked=True))))


def _count_account_failure(conn, user_id: int, moment: datetime,
                           policy: SignInPolicy) -> tuple[int | None, datetime | None]:
    """Count one failure of an account in one ``UPDATE … RETURNING`` (the row stays locked until the
    transaction ends); like :func:`_count_failure`."""
    unlocked = or_(users.c.locked_until.is_(None), users.c.locked_until <= moment)
    failures = conn.execute(update(users).where(users.c.id == user_id, unlocked)
                            .values(failed_attempts=users.c.failed_attempts + 1)
                            .returning(users.c.failed_attempts)).scalar()
    if failures is None:  # locked meanwhile by a parallel attempt
        return None, _aware(conn.execute(select(users.c.locked_until).where(users.c.id == user_id)).scalar())
    if failures < policy.max_failures:
        return failures, None
    until = moment + timedelta(minutes=policy.lock_minutes)
    conn.execute(update(users).where(users.c.id == user_id).values(failed_attempts=0, locked_until=until))
    return failures, until


def authenticate(store: Store, username: str, password: str, *, address: str | None = None,
                 policy: SignInPolicy = SignInPolicy(), now: Callable[[], datetime] = _now,
                 sleep: Callable[[float], None] = time.sleep) -> User:
    """Check a password. Failures are counted (per account and per client ``address``), slowed down
    and audited; locked accounts and throttled addresses are refused before any check.

    The bookkeeping is committed before a refusal is raised, so a failed attempt always counts.
    """
    username = username.strip().lower()
    moment = now()
    address_key = f"address:{address}" if address else None
    name_key = f"name:{username}"
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
        throttled = _lock_of(conn, address_key, moment) if address_key else None
        locked = _lock_of(conn, name_key, moment) if row is None else _aware(row.locked_until)
    if throttled:
        raise SignInError("throttled", throttled)
    if locked and locked > moment:
        raise SignInError("locked", locked)
    right = _verify(row.password_hash if row is not None else None, password)
    new_hash = None
    if right and row.active and _hasher.check_needs_rehash(row.password_hash):
        new_hash = _hasher.hash(password)  # made with the current parameters
    refusal, delay = None, 0.0
    with store.engine.begin() as conn:
        if right and row.active:
            unlocked = or_(users.c.locked_until.is_(None), users.c.locked_until <= moment)
            changes = {"failed_attempts": 0, "locked_until": None, "last_login_at": moment}
            if new_hash:
                changes["password_hash"] = new_hash
            throttled = _lock_of(conn, address_key, moment) if address_key else None
            if throttled:  # locked meanwhile by parallel attempts
                refusal = SignInError("throttled", throttled)
            elif conn.execute(update(users).where(users.c.id == row.id, unlocked).values(**changes)).rowcount:
                record_audit(conn, actor=username, action="signin", entity_type="user", entity_id=row.id,
                             detail={"address": address, "rehashed": bool(new_hash)})
            else:
                until = _aware(conn.execute(select(users.c.locked_until).where(users.c.id == row.id)).scalar())
                refusal = SignInError("locked", until)
        elif right:
            refusal = SignInError("inactive")
        else:
            if row is not None:
                failures, locked = _count_account_failure(conn, row.id, moment, policy)
            else:
                failures, locked = _count_failure(conn, name_key, moment, limit=policy.max_failures,
                                                  window=FORGET_AFTER, lock=timedelta(minutes=policy.lock_minutes))
            address_failures, throttled = None, None
            if address_key:
                address_failures, throttled = _count_failure(
                    conn, address_key, moment, limit=policy.address_max_failures,
                    window=timedelta(minutes=policy.address_window_minutes),
                    lock=timedelta(minutes=policy.address_lock_minutes))
            if failures is not None:
                record_audit(conn, actor=username or "?", action="signin:failed", entity_type="user",
                             entity_id=row.id if row is not None else username or "?",
                             reason="" if row is not None else "unknown user",
                             detail={"failures": failures, "locked": locked is not None, "address": address,
                                     "address_failures": address_failures,
                                     "address_locked": bool(address_failures and throttled)})
                delay = min(policy.delay_base_seconds * 2 ** (failures - 1), policy.delay_cap_seconds)
            refusal = (SignInError("locked", locked) if locked else SignInError("throttled", throttled) if throttled
                       else SignInError("wrong"))
    if refusal is not None:
        if not right:
            _forget_idle(store, moment)
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


def has_accounts(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(users)).scalar_one() > 0


def ensure_admin(store: Store, env: dict[str, str] | None = None) -> str | None:
    """Create the first admin when there is no account at all.

    Its password comes from ``MMICD_ADMIN_PASSWORD``; when unset, a random one is generated,
    printed once on the console and returned. Returns None when accounts already exist.
    """
    env = os.environ if env is None else env
    if has_accounts(store):
        return None
    username = env.get("MMICD_ADMIN_USER", "admin")
    password = env.get("MMICD_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    create_user(store, SYSTEM, username=username, role=Role.ADMIN, password=password, display_name="Administrator")
    if not env.get("MMICD_ADMIN_PASSWORD"):
        # printed once, on the server's console only; never logged
        print(f"\n*** MMICD first start: admin account '{username}' created with password: {password}\n"
              "*** Sign in and change it; set MMICD_ADMIN_PASSWORD to choose it yourself.\n", flush=True)
    return password


def change_own_password(store: Store, user: User, current: str, new: str, *, keep_session: str | None = None,
                        **kwargs) -> None:
    """A signed-in user changes their own password, proving the current one first (audited); every
    session of the account ends, except ``keep_session`` (the one making the change)."""
    if user.is_anonymous:
        raise AccountError("unknown_user")
    authenticate(store, user.username, current, **kwargs)
    _check_password(new)
    with store.engine.begin() as conn:
        conn.execute(update(users).where(users.c.id == user.id).values(password_hash=_hasher.hash(new)))
        revoke_all(conn, user.id, keep=keep_session)
        record_audit(conn, actor=user.label, action="user:password", entity_type="user", entity_id=user.id,
                     new={"password": "changed"})
