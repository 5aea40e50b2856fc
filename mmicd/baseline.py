"""The international baseline: compact tables derived from UN DESA, UN WPP and World Bank files
(built by ``scripts/build_reference.py``, described in ``data/reference/datasets.yml``), loaded as
published datasets so that the dashboard shows real figures before anyone uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from mmicd import DATA_DIR
from mmicd.model import DIMENSIONS, DatasetMeta, DatasetVersion, Status
from mmicd.store import Store

REFERENCE_DIR = DATA_DIR / "reference"
SYSTEM_ACTOR = "system (baseline seed)"


def catalogue(reference_dir: Path = REFERENCE_DIR) -> list[dict]:
    with open(reference_dir / "datasets.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh) or []


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={c: "string" for c in DIMENSIONS}, keep_default_na=False,
                       na_values={"value": [""]})


def _meta(entry: dict, path: Path) -> DatasetMeta:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    provenance = entry.get("provenance", "")
    raw = entry.get("raw_sha256") or {}
    if raw:
        provenance += "; raw files sha256: " + ", ".join(f"{k}={v[:12]}…" for k, v in raw.items())
    return DatasetMeta(
        kind=entry["kind"],
        source=entry["source"],
        edition=str(entry.get("edition", "")),
        scope="_ALL",
        title=entry.get("title", ""),
        basis=entry.get("basis", ""),
        file_name=f"data/reference/{entry['file']}",
        sha256=digest,
        licence=entry.get("licence", ""),
        url=entry.get("url", "") or "",
        provenance=provenance,
        notes=entry.get("notes", "") or "",
    )


def seed(
    store: Store,
    reference_dir: Path = REFERENCE_DIR,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[DatasetVersion]:
    """Load every baseline table not yet in the store (same sha256) as a published dataset."""
    present = {d.sha256 for d in store.datasets()}
    entries = catalogue(reference_dir)
    loaded = []
    for i, entry in enumerate(entries):
        path = reference_dir / entry["file"]
        meta = _meta(entry, path)
        if progress:
            progress(i, len(entries), meta.title or meta.source)
        if meta.sha256 in present:
            continue
        loaded.append(store.add_dataset(meta, read_table(path), actor=SYSTEM_ACTOR, status=Status.PUBLISHED))
    if progress:
        progress(len(entries), len(entries), "")
    return loaded


def ensure_seeded(store: Store, **kwargs) -> list[DatasetVersion]:
    """On first start with an empty store, load the baseline; otherwise do nothing."""
    return seed(store, **kwargs) if store.is_empty() else []
