"""The indicator engine: the YAML catalogue in ``indicators/`` computed generically (no Streamlit).

``compute(store, country=...)`` reads published observations and survey microdata and returns the
output contract (:data:`OUTPUT_COLUMNS`) with provenance, uncertainty and reliability flags, plus
the consistency Issues found; ``compute_frames`` does the same from frames.
"""

from __future__ import annotations

from collections.abc import Iterable

from mmicd.engine.catalogue import Indicator, catalogue
from mmicd.engine.config import DEFAULT, EngineConfig
from mmicd.engine.registry import OUTPUT_COLUMNS, REGISTRY, Microdata, Result, compute_frames
from mmicd.model import Form, Status

__all__ = ["DEFAULT", "OUTPUT_COLUMNS", "REGISTRY", "EngineConfig", "Indicator", "Microdata", "Result",
           "catalogue", "compute", "compute_frames", "dataset_ids", "input_ids"]

READABLE = (Status.PUBLISHED,)
WITH_DRAFTS = (Status.PUBLISHED, Status.SUBMITTED, Status.DRAFT)


def dataset_ids(store, *, include_drafts: bool = False) -> tuple[int, ...]:
    """Ids of the dataset versions the engine reads: published ones (plus drafts and submitted)."""
    allowed = {s.value for s in (WITH_DRAFTS if include_drafts else READABLE)}
    return tuple(v.id for v in store.datasets() if v.status.value in allowed)


def input_ids(store, country: str, indicator: str, dataset_ids: Iterable[int] | None = None) -> tuple[int, ...]:
    """The dataset versions one indicator of one country reads: those of the indicator's kinds that
    hold the country (as reference or counterpart area), among ``dataset_ids`` (default: published).

    This is the cache key of a computation, so recomputing after an upload touches only the
    affected country and kind: a version for another country, or of a kind the indicator does not
    read, leaves the key unchanged.
    """
    kinds = {k.value for k in catalogue()[indicator].kinds}
    ids = store.published_ids() if dataset_ids is None else tuple(dataset_ids)
    relevant = [v.id for v in store.datasets() if v.id in set(ids) and v.kind.value in kinds]
    return store.covering(country, relevant) if relevant else ()


def compute(store, *, country: str | None = None, indicators: Iterable[str] | None = None,
            year: str | None = None, include_drafts: bool = False, cfg: EngineConfig = DEFAULT) -> Result:
    """Indicators of one country (or every area when ``country`` is None) from the store."""
    allowed = {s.value for s in (WITH_DRAFTS if include_drafts else READABLE)}
    versions = [v for v in store.datasets() if v.status.value in allowed]
    obs_ids = [v.id for v in versions if v.form == Form.OBSERVATIONS]
    import pandas as pd

    if country is None:
        obs = store.observations(dataset_ids=obs_ids, status=None)
    else:
        own = store.observations(dataset_ids=obs_ids, status=None, ref_areas=[country])
        abroad = store.observations(dataset_ids=obs_ids, status=None, kinds=["migrant_stock"],
                                    counterpart_areas=[country])
        obs = pd.concat([own, abroad], ignore_index=True)
    micro = [Microdata(v.id, v.kind.value, v.source, v.edition, store.microdata(v.id))
             for v in versions if v.form == Form.MICRODATA]
    return compute_frames(obs, micro, indicators=indicators, country=country, year=year, cfg=cfg)
