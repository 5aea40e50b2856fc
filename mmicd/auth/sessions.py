"""Signed-in browser sessions, kept in the database (shared by every server) behind an HttpOnly cookie.

A sign-in on the dashboard's form creates a session row and a one-time exchange code (valid
``CODE_SECONDS``, single use, bound to the browser's Streamlit XSRF token). The browser takes the code
to ``/auth/session`` (:mod:`mmicd.auth.web`), which sets the cookie ``mmicd_session``; every page run
then looks the session up again, so a revocation applies at once.

- The session id is derived from the code with the secret (``HMAC(secret, code)``): a code seen in a
  log or a browser's history is useless once used, and neither is ever stored, only hashes.
- The cookie carries the id and its HMAC: a forged value is refused without a database query.
- A session ends after ``MMICD_SESSION_MINUTES`` (default 60) without a page run, or
  ``MMICD_SESSION_HOURS`` (default 12) after the sign-in, whichever comes first; at sign-out; when
  the account's password changes (every other session of the account) or the account is disabled.
- The secret: ``MMICD_SESSION_SECRET``, or a random one written at first start to
  ``<data folder>/session_secret`` (readable by the server's user only). Changing it ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, or_, select, update

from mmicd.auth import Role, User
from mmicd.store import Store
from mmicd.store.schema import users, web_sessions

COOKIE = "mmicd_session"
CODE_SECONDS = 60
TOUCH_SECONDS = 30  # ``last_seen_at`` is written at most this often per session


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: float = 60
    lifetime_hours: float = 12

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SessionPolicy:
        env = os.environ if env is None else env

        def positive(name: str, default: float) -> float:
            try:
                value = float(env.get(name) or default)
            except ValueError:
                return default
            return value if value > 0 else default

        return cls(positive("MMICD_SESSION_MINUTES", 60), positive("MMICD_SESSION_HOURS", 12))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _mac(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def load_secret(data_dir: Path, env: Mapping[str, str] | None = None) -> bytes:
    """``MMICD_SESSION_SECRET``, or the one in ``data_dir/session_secret``, created at first use
    (exclusively, so that two servers starting together agree on one)."""
    env = os.environ if env is None else env
    if env.get("MMICD_SESSION_SECRET"):
        return env["MMICD_SESSION_SECRET"].encode()
    path = Path(data_dir) / "session_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    for _ in range(50):  # a parallel first start may still be writing it
        text = path.read_text().strip()
        if text:
            return text.encode()
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty")


def sign(secret: bytes, sid: str) -> str:
    """The cookie value of a session id: the id and its HMAC."""
    return f"{sid}.{_mac(secret, 'cookie', sid)}"


def unsign(secret: bytes, value: str | None) -> str | None:
    """The session id of a cookie value, or None when it is not one this server signed."""
    sid, _, mac = (value or "").partition(".")
    if not sid or not hmac.compare_digest(mac, _mac(secret, "cookie", sid)):
        return None
    return sid


def binding(xsrf_cookie: str | None) -> str:
    """A hash of the browser's Streamlit XSRF token, constant in one browser though each copy of the
    cookie masks it anew (``2|mask|masked token|time``, the token XOR the repeated mask); "" without."""
    value = (xsrf_cookie or "").strip("\"'")
    parts = value.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return ""
        if not mask or not masked:
            return ""
        token = bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
    elif value:  # an unmasked token (version 1)
        token = value.encode()
    else:
        return ""
    return hashlib.sha256(token).hexdigest()


@dataclass(frozen=True)
class NewSession:
    sid: str  # the session id (kept by the tab that signed in; the cookie's, once the code is used)
    code: str  # the one-time code for /auth/session


def start(store: Store, secret: bytes, user: User, *, bound_to: str = "", policy: SessionPolicy | None = None,
          now: datetime | None = None) -> NewSession:
    """A new session for ``user``, who has just proved their password, and its exchange code."""
    policy, moment = policy or SessionPolicy.from_env(), now or _now()
    code = secrets.token_urlsafe(32)
    sid = _mac(secret, "sid", code)
    with store.engine.begin() as conn:
        conn.execute(delete(web_sessions).where(  # sessions ended more than a day ago
            or_(web_sessions.c.expires_at < moment - timedelta(days=1),
                web_sessions.c.last_seen_at < moment - timedelta(minutes=policy.idle_minutes, days=1))))
        conn.execute(insert(web_sessions).values(
            id_hash=_hash(sid), user_id=user.id, created_at=moment, last_seen_at=moment,
            expires_at=moment + timedelta(hours=policy.lifetime_hours),
            code_expires_at=moment + timedelta(seconds=CODE_SECONDS), binding=bound_to))
    return NewSession(sid, code)


def exchange(store: Store, secret: bytes, code: str, *, bound_to: str = "", now: datetime | None = None) -> str | None:
    """Use a one-time code: the signed cookie value of its session, or None when the code is unknown,
    used, older than ``CODE_SECONDS``, from another browser, or its session has ended."""
    moment = now or _now()
    sid = _mac(secret, "sid", code or "")
    t = web_sessions
    with store.engine.begin() as conn:  # one UPDATE: of two parallel uses, only one matches
        used = conn.execute(update(t).where(
            t.c.id_hash == _hash(sid), t.c.code_expires_at.is_not(None), t.c.code_expires_at > moment,
            t.c.binding == bound_to, t.c.revoked_at.is_(None), t.c.expires_at > moment,
        ).values(code_expires_at=None)).rowcount
    return sign(secret, sid) if used == 1 else None


def user_of(store: Store, sid: str | None, *, policy: SessionPolicy | None = None,
            now: datetime | None = None) -> User | None:
    """The user of a live session (not revoked, not idle too long, within its lifetime, account
    active); None otherwise. Notes the visit (at most every ``TOUCH_SECONDS``)."""
    if not sid:
        return None
    policy, moment = policy or SessionPolicy.from_env(), now or _now()
    t = web_sessions
    with store.engine.connect() as conn:
        row = conn.execute(select(t.c.last_seen_at, t.c.expires_at, t.c.revoked_at, users)
                           .join(users, users.c.id == t.c.user_id).where(t.c.id_hash == _hash(sid))).first()
    if (row is None or row.revoked_at is not None or not row.active or _aware(row.expires_at) <= moment
            or _aware(row.last_seen_at) + timedelta(minutes=policy.idle_minutes) <= moment):
        return None
    if moment - _aware(row.last_seen_at) >= timedelta(seconds=TOUCH_SECONDS):
        with store.engine.begin() as conn:
            conn.execute(update(t).where(t.c.id_hash == _hash(sid)).values(last_seen_at=moment))
    return User(username=row.username, role=Role(row.role), countries=row.countries,
                display_name=row.display_name, id=row.id)


def revoke(store: Store, sid: str | None, now: datetime | None = None) -> None:
    """End one session (sign-out)."""
    if sid:
        with store.engine.begin() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == _hash(sid),
                                                    web_sessions.c.revoked_at.is_(None))
                         .values(revoked_at=now or _now(), code_expires_at=None))


def revoke_all(conn, user_id: int, *, keep: str | None = None, now: datetime | None = None) -> int:
    """End every session of an account, in the caller's transaction (password changed, account
    disabled), except the session ``keep`` (the one that changed its own password). Returns how many."""
    t = web_sessions
    query = update(t).where(t.c.user_id == user_id, t.c.revoked_at.is_(None))
    if keep:
        query = query.where(t.c.id_hash != _hash(keep))
    return conn.execute(query.values(revoked_at=now or _now(), code_expires_at=None)).rowcount
