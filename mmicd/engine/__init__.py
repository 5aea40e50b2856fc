"""The indicator engine: the YAML catalogue in ``indicators/`` computed generically (no Streamlit).

``compute(store, country=...)`` reads published observations and survey microdata and returns the
output contract (:data:`OUTPUT_COLUMNS`) with provenance, uncertainty and reliability flags, plus
the consistency Issues found; ``compute_frames`` does the same from frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from mmicd.engine.catalogue import Indicator, catalogue
from mmicd.engine.config import DEFAULT, EngineConfig
from mmicd.engine.inputs import COUNTERPART_KINDS, READABLE, WITH_DRAFTS, CountryInputs, read_inputs
from mmicd.engine.registry import OUTPUT_COLUMNS, REGISTRY, Microdata, Result, compute_frames

__all__ = ["COUNTERPART_KINDS", "DEFAULT", "OUTPUT_COLUMNS", "REGISTRY", "CountryInputs", "EngineConfig", "Indicator",
           "Microdata", "Result", "catalogue", "compute", "compute_frames", "dataset_ids", "input_ids",
           "read_inputs"]


def dataset_ids(store, *, include_drafts: bool = False) -> tuple[int, ...]:
    """Ids of the dataset versions the engine reads: published ones (plus drafts and submitted)."""
    allowed = {s.value for s in (WITH_DRAFTS if include_drafts else READABLE)}
    return tuple(v.id for v in store.datasets() if v.status.value in allowed)


def input_ids(store, country: str, indicator: str, dataset_ids: Iterable[int] | None = None) -> tuple[int, ...]:
    """The dataset versions one indicator of one country reads: those of the indicator's kinds (and
    its denominator's) that hold the country (as reference or counterpart area), among
    ``dataset_ids`` (default: published).

    This is the cache key of a computation, so recomputing after an upload touches only the
    affected country and kind: a version for another country, or of a kind the indicator does not
    read, leaves the key unchanged.
    """
    ind = catalogue()[indicator]
    kinds = {k.value for k in (*ind.kinds, *ind.denominator_kinds)}
    ids = store.published_ids() if dataset_ids is None else tuple(dataset_ids)
    relevant = [v.id for v in store.datasets() if v.id in set(ids) and v.kind.value in kinds]
    return store.covering(country, relevant, COUNTERPART_KINDS) if relevant else ()


def compute(store, *, country: str | None = None, indicators: Iterable[str] | None = None,
            year: str | None = None, include_drafts: bool = False, cfg: EngineConfig = DEFAULT,
            dataset_ids: Iterable[int] | None = None,
            microdata_reader: Callable[[int], pd.DataFrame] | None = None) -> Result:
    """Indicators of one country (or every area when ``country`` is None) from the store, read by
    :func:`read_inputs` (``dataset_ids``: only these versions, e.g. a cache key)."""
    inp = read_inputs(store, country, dataset_ids=dataset_ids, include_drafts=include_drafts,
                      microdata_reader=microdata_reader)
    return compute_frames(inp.observations, inp.microdata, indicators=indicators, country=country, year=year,
                          cfg=cfg)
