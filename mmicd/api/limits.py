"""Request limits of the data API, counted in the database so that they hold across servers.

Each client address and each token has a counter per fixed window (``MMICD_API_WINDOW_SECONDS``,
default 60): at most ``MMICD_API_RATE`` requests per window from one address (default 120) and
``MMICD_API_TOKEN_RATE`` with one token (default 600). One request is counted in one statement (an
upsert … RETURNING, atomic on SQLite and PostgreSQL), so parallel requests on several servers
cannot slip past the limit. Past it the API answers 429 with ``Retry-After`` (seconds to the
window's end).
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite

from mmicd.store import Store
from mmicd.store.schema import api_rate

FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Limits:
    window_seconds: int = 60
    per_address: int = 120
    per_token: int = 600

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Limits:
        env = os.environ if env is None else env

        def positive(name: str, default: int) -> int:
            text = env.get(name, "")
            return int(text) if text.isdigit() and int(text) > 0 else default

        return cls(positive("MMICD_API_WINDOW_SECONDS", cls.window_seconds),
                   positive("MMICD_API_RATE", cls.per_address), positive("MMICD_API_TOKEN_RATE", cls.per_token))


def hit(store: Store, key: str, limit: int, window_seconds: int, *, now: datetime | None = None) -> int:
    """Count one request under ``key``; 0 when within ``limit``, else the seconds until the window ends."""
    moment = now or datetime.now(UTC)
    window = timedelta(seconds=window_seconds)
    t = api_rate
    expired = t.c.window_start <= moment - window
    with store.engine.begin() as conn:
        dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
        upsert = dialect.insert(t).values(key=key, hits=1, window_start=moment)
        upsert = upsert.on_conflict_do_update(index_elements=[t.c.key], set_={
            "hits": case((expired, 1), else_=t.c.hits + 1),
            "window_start": case((expired, moment), else_=t.c.window_start),
        }).returning(t.c.hits, t.c.window_start)
        hits, start = conn.execute(upsert).one()
    if hits == 1 and random.random() < 0.01:  # now and then, drop the counters idle for a day
        with store.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.window_start < moment - FORGET_AFTER))
    if hits <= limit:
        return 0
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return max(1, math.ceil((start + window - moment).total_seconds()))


def client_address(peer: str | None, forwarded: str | None, hops: int | None = None) -> str | None:
    """The client's address: the connection's, or behind ``MMICD_PROXY_HOPS`` reverse proxies the one
    the outermost of them saw, from ``X-Forwarded-For`` (also for sign-in throttling:
    :func:`mmicd.ui.auth.client_address`)."""
    hops = int(os.environ.get("MMICD_PROXY_HOPS", "0") or 0) if hops is None else hops
    if hops:
        chain = [a.strip() for a in forwarded.split(",") if a.strip()] if forwarded else []
        if len(chain) >= hops:
            return chain[-hops][:100]
    return peer
