"""What an indicator reads for a country: the one query every caller uses.

A country's inputs are its own observations (``ref_area`` = the country), the observations of
:data:`COUNTERPART_KINDS` where it is the counterpart (its emigrants counted by destination
countries' migrant stocks, refugees from it counted by asylum countries), the survey microdata of
its scope, and the dataset versions they come from. Observations carry their version's ``scope``
(the ISO3 code of a national source, ``_ALL`` for an international one) and the source breakdown
``_T`` plus the breakdown codes catalogue indicators select (``OUTCOME:REC`` …): filter
``breakdown == "_T"`` for the figures not split by a source classification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from mmicd import codes
from mmicd.engine.catalogue import catalogue
from mmicd.engine.registry import Microdata
from mmicd.model import DatasetVersion, Form, Status

# kinds whose rows with the country as counterpart_area are about the country's people abroad
COUNTERPART_KINDS = ("migrant_stock", "refugees")
READABLE = (Status.PUBLISHED,)
WITH_DRAFTS = (Status.PUBLISHED, Status.SUBMITTED, Status.DRAFT)


@dataclass(frozen=True)
class CountryInputs:
    """``own``: observations whose ref_area is the country (every area when country is None);
    ``abroad``: observations of :data:`COUNTERPART_KINDS` whose counterpart_area is the country
    (empty when country is None: ``own`` already holds them); ``microdata`` of the country's scope;
    ``versions``: the dataset versions read, by id."""

    country: str | None
    own: pd.DataFrame
    abroad: pd.DataFrame
    microdata: list[Microdata] = field(default_factory=list)
    versions: dict[int, DatasetVersion] = field(default_factory=dict)

    @property
    def observations(self) -> pd.DataFrame:
        """``own`` and ``abroad`` together: what :func:`mmicd.engine.compute_frames` takes."""
        frames = [f for f in (self.own, self.abroad) if not f.empty]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else self.own)


# The criteria of a flow statistic, in the order a series is taken when a source gives only criteria
# (no total): the UN recommendations (1998) count a change of usual residence; citizenship, then
# birth, where that is all there is. Criteria are alternatives, never parts: never summed.
CRITERIA = ("CRITERION:RESIDENCE", "CRITERION:CITIZENSHIP", "CRITERION:BIRTH")
SERIES = ["dataset_id", "measure", "ref_area"]


def one_criterion(frame: pd.DataFrame) -> pd.DataFrame:
    """Flows published only by criterion (UN DESA's flow tables: immigrants by residence *or* by
    citizenship) read as the series of the country: per dataset version, measure and area, the first
    criterion of :data:`CRITERIA` present, its rows relabelled ``_T`` and the criterion kept in a
    ``criterion`` column; a series that has a total keeps the total; other criteria are left out.
    Never a mix of criteria over the years of one series."""
    if frame.empty or "breakdown" not in frame.columns:
        return frame
    crit = frame["breakdown"].isin(CRITERIA).to_numpy(dtype=bool)
    if not crit.any():
        return frame
    rows = frame.loc[crit]
    totals = frame.loc[~crit & (frame["breakdown"] == codes.TOTAL).to_numpy(dtype=bool)
                       & frame["measure"].isin(set(rows["measure"])).to_numpy(dtype=bool)]
    series = pd.MultiIndex.from_frame(rows[SERIES].astype(str))
    with_total = series.isin(pd.MultiIndex.from_frame(totals[SERIES].astype(str)))
    rank = rows["breakdown"].map({c: i for i, c in enumerate(CRITERIA)}).astype(int)
    first = rank.groupby([rows[c].astype(str) for c in SERIES]).transform("min")
    keep = rows.loc[(rank == first).to_numpy() & ~with_total]
    keep = keep.assign(criterion=keep["breakdown"].astype(str), breakdown=codes.TOTAL)
    return pd.concat([frame.loc[~crit], keep], ignore_index=True)


@cache
def selected_breakdowns() -> tuple[str, ...]:
    """``_T`` and every breakdown code a catalogue indicator selects (the rows worth reading)."""
    found = {codes.TOTAL}
    for ind in catalogue().values():
        for sel in (ind.numerator, ind.denominator or {}, ind.minus or {}):
            found |= set(sel.get("breakdown", ()))
    return tuple(sorted(found | set(CRITERIA)))


def read_inputs(store, country: str | None, *, dataset_ids: Iterable[int] | None = None,
                include_drafts: bool = False, microdata: bool = True,
                microdata_reader: Callable[[int], pd.DataFrame] | None = None) -> CountryInputs:
    """The inputs of ``country`` (every area when None) from the store.

    ``dataset_ids``: only these versions (a cache key such as :meth:`Store.covering`'s); default:
    the published versions (with ``include_drafts``, also submitted and draft ones).
    ``microdata=False`` skips survey records; ``microdata_reader(id)`` may be a cache.
    """
    allowed = {s.value for s in (WITH_DRAFTS if include_drafts else READABLE)}
    wanted = None if dataset_ids is None else set(dataset_ids)
    versions = {v.id: v for v in store.datasets()
                if (v.id in wanted if wanted is not None else v.status.value in allowed)}
    obs_ids = [i for i, v in versions.items() if v.form == Form.OBSERVATIONS]
    breakdowns = selected_breakdowns()
    if country is None:
        own = store.observations(dataset_ids=obs_ids, status=None, breakdown=breakdowns)
        abroad = own.iloc[0:0]
    else:
        own = store.observations(dataset_ids=obs_ids, status=None, ref_areas=[country], breakdown=breakdowns)
        abroad = store.observations(dataset_ids=obs_ids, status=None, kinds=list(COUNTERPART_KINDS),
                                    counterpart_areas=[country], breakdown=breakdowns)
    own = one_criterion(own)
    scopes = {i: v.scope for i, v in versions.items()}
    own, abroad = (f.assign(scope=f["dataset_id"].map(scopes).astype("object")) for f in (own, abroad))
    micro = []
    if microdata:
        reader = microdata_reader or store.microdata
        micro = [Microdata(v.id, v.kind.value, v.source, v.edition, reader(v.id)) for v in versions.values()
                 if v.form == Form.MICRODATA and (country is None or v.scope in (country, "_ALL"))]
    return CountryInputs(country, own, abroad, micro, versions)
