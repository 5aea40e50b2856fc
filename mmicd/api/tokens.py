"""Personal API tokens: a signed-in user creates and revokes their own on the Account page.

A token is shown once, when it is made; the store keeps only its SHA-256 hash (a token is 256
random bits, so a fast hash is enough: nothing to guess) and its first characters to recognise it.
Creation and revocation are audited. A request with a token acts as the token's account with the
role and countries the account has *at that moment*: a deactivated account's tokens stop working.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update

from mmicd.auth import User
from mmicd.auth.accounts import AccountError, _user
from mmicd.store import Store, record_audit
from mmicd.store.schema import api_tokens, users

PREFIX = "mmicd_"
MAX_TOKENS = 10  # live tokens per account
MAX_NAME = 100


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _live(moment: datetime):
    return (api_tokens.c.revoked_at.is_(None),
            (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > moment))


def create_token(store: Store, user: User, name: str, *, days: int | None = 365) -> str:
    """A new token for ``user`` (signed in), valid ``days`` (None: until revoked); the clear token,
    returned once and never stored."""
    if user.is_anonymous:
        raise AccountError("unknown_user")
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise AccountError("token_name_empty")
    token = PREFIX + secrets.token_urlsafe(32)
    moment = _now()
    with store.engine.begin() as conn:
        live = conn.execute(select(func.count()).select_from(api_tokens)
                            .where(api_tokens.c.user_id == user.id, *_live(moment))).scalar_one()
        if live >= MAX_TOKENS:
            raise AccountError("token_too_many")
        token_id = conn.execute(insert(api_tokens).values(
            user_id=user.id, name=name, token_hash=_hash(token), prefix=token[:len(PREFIX) + 4],
            created_at=moment, expires_at=moment + timedelta(days=days) if days else None,
        )).inserted_primary_key[0]
        record_audit(conn, actor=user.label, action="token:create", entity_type="api_token", entity_id=token_id,
                     new={"name": name, "prefix": token[:len(PREFIX) + 4], "days": days})
    return token


def list_tokens(store: Store, user: User) -> list[Token]:
    """The user's tokens that still work, newest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(api_tokens).where(api_tokens.c.user_id == user.id, *_live(_now()))
                            .order_by(api_tokens.c.id.desc())).all()
    return [Token(r.id, r.name, r.prefix, r.created_at, r.expires_at, r.last_used_at) for r in rows]


def revoke_token(store: Store, user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens (audited); another user's or an unknown id: AccountError."""
    with store.engine.begin() as conn:
        done = conn.execute(update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user.id,
                                                     api_tokens.c.revoked_at.is_(None))
                            .values(revoked_at=_now())).rowcount
        if not done:
            raise AccountError("token_unknown")
        record_audit(conn, actor=user.label, action="token:revoke", entity_type="api_token", entity_id=token_id)


def token_user(store: Store, token: str) -> tuple[int, User] | None:
    """(token id, its active account) for a live token; None for anything else."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    moment = _now()
    with store.engine.begin() as conn:
        row = conn.execute(select(api_tokens.c.id.label("token_id"), users)
                           .join(users, users.c.id == api_tokens.c.user_id)
                           .where(api_tokens.c.token_hash == _hash(token), *_live(moment))).first()
        if row is None or not row.active:
            return None
        # last use to the minute: not one write per request
        conn.execute(update(api_tokens).where(api_tokens.c.id == row.token_id,
                                              (api_tokens.c.last_used_at.is_(None))
                                              | (api_tokens.c.last_used_at < moment - timedelta(minutes=1)))
                     .values(last_used_at=moment))
    return row.token_id, _user(row)
