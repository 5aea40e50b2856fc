"""First start: what an empty store receives, in order.

1. the international baseline (UN DESA, UN WPP, World Bank, KNOMAD), published, and the shipped
   boundaries (Nepal's provinces, ``data/boundaries/``);
2. unless ``MMICD_DEMO=0``: the synthetic Nepal census and labour-force survey, through the
   ordinary ingestion path, published; and the illustrative M&E portfolio.

Nothing here runs on a store that already holds data, so a real upload that supersedes the demo is
never undone by a restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from mmicd.baseline import ensure_seeded
from mmicd.store import Store

Progress = Callable[[int, int, str], None]


def demo_enabled(env: dict[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("MMICD_DEMO", "1").lower() not in ("0", "false", "no")


def first_start(store: Store, progress: Progress | None = None, *, demo: bool | None = None) -> bool:
    """Load the baseline (and the demo) into an empty store; False if the store already had data."""
    if not store.is_empty():
        return False
    ensure_seeded(store, progress=progress)
    from mmicd.boundaries import ensure_default_boundaries

    ensure_default_boundaries(store)
    if demo if demo is not None else demo_enabled():
        from mmicd.demo import ensure_demo_uploads
        from mmicd.me.demo import ensure_demo

        ensure_demo_uploads(store, progress=progress)
        ensure_demo(store)
    return True
