"""Queries of the data API: flow, key and periods parsed and checked; the indicator table computed
by the engine from the versions the caller may read; the rows selected.

Published versions for everybody; with ``drafts``, also draft and submitted versions, for a token
whose account may see drafts of every area asked for (the rule of the pages, :mod:`mmicd.auth`).
Queries are bounded: at most :data:`MAX_AREAS` areas (REF_AREA must be given), :data:`MAX_CODES`
codes in a key, :data:`MAX_OBS` observations in an answer, about :data:`COMPUTE_SECONDS` of
computing per request (areas beyond that are left to the client's retry, by when the first ones are
cached).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pandas as pd

from mmicd import codes
from mmicd.api import sdmx
from mmicd.api.formats import ApiError
from mmicd.auth import Action, User, can
from mmicd.engine import catalogue, compute
from mmicd.engine.inputs import WITH_DRAFTS
from mmicd.sdmx import scopes_of
from mmicd.store import Store

MAX_AREAS = 10
MAX_CODES = 60
MAX_OBS = 20_000
COMPUTE_SECONDS = 15
CODE = re.compile(r"[A-Za-z0-9_@$\-]{1,40}")
PERIOD = re.compile(r"(\d{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?|-Q([1-4])|-S([12])|-A1)?")


@dataclass(frozen=True)
class Query:
    flow: sdmx.Flow
    key: dict[str, tuple[str, ...]]  # dimension -> codes asked for (empty: any)
    start: date | None = None
    end: date | None = None


def parse_flow(text: str) -> sdmx.Flow:
    """A flow reference: ``ID``, ``AGENCY,ID`` or ``AGENCY,ID,VERSION`` (``latest``, ``~`` or ``*``
    for the newest)."""
    parts = text.split(",")
    if len(parts) > 3 or not all(CODE.fullmatch(p) or p in ("~", "*") or re.fullmatch(r"[\d.]{1,10}", p)
                                 for p in parts):
        raise ApiError(400, "flow_syntax", flow=text[:60])
    agency, flow_id, version = {1: [None, *parts, None], 2: [*parts, None], 3: parts}[len(parts)]
    for flow in sdmx.FLOWS:
        if (flow.id == flow_id and agency in (None, "*", flow.agency)
                and version in (None, "latest", "~", "*", flow.version)):
            return flow
    raise ApiError(404, "flow_unknown", flow=text[:60])


def parse_key(text: str | None, flow: sdmx.Flow) -> dict[str, tuple[str, ...]]:
    """An SDMX key of ``flow``: one part per dimension of the flow separated by ``.``, codes joined by
    ``+``, an empty part (or ``*``) for any code; ``all`` (or none) for any code in every dimension."""
    dims = sdmx.dimensions(flow)
    if text in (None, "", "all", "ALL", "*"):
        return {d: () for d in dims}
    parts = text.split(".")
    if len(parts) != len(dims):
        raise ApiError(400, "key_length", n=len(dims), dimensions=".".join(dims))
    key, count = {}, 0
    for dim, part in zip(dims, parts, strict=True):
        values = [] if part in ("", "*") else part.split("+")
        bad = [v for v in values if not CODE.fullmatch(v)]
        if bad:
            raise ApiError(400, "code_syntax", code=bad[0][:40], dimension=dim)
        count += len(values)
        key[dim] = tuple(dict.fromkeys(values))
    if count > MAX_CODES:
        raise ApiError(400, "too_many_codes", n=MAX_CODES)
    return key


def period(text: str | None, which: str) -> date | None:
    """The first (``start``) or last (``end``) day of an SDMX period (2020, 2020-03, 2020-Q2, 2020-S1,
    2020-03-31); 400 for anything else."""
    if text is None:
        return None
    found = PERIOD.fullmatch(text.strip())
    if not found:
        raise ApiError(400, "period", value=text[:40], parameter=f"{which}Period")
    return bounds(found)[0 if which == "start" else 1]


def periods(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """``startPeriod`` and ``endPeriod`` as days; 400 when malformed or in the wrong order."""
    first, last = period(start, "start"), period(end, "end")
    if first and last and first > last:
        raise ApiError(400, "period_order")
    return first, last


def bounds(found: re.Match) -> tuple[date, date]:
    year, month, day, quarter, half = found.groups()
    y = int(year)
    if day:
        d = date(y, int(month), min(int(day), calendar.monthrange(y, int(month))[1]))
        return d, d
    if month:
        first = last = int(month)
    elif quarter or half:
        months = 3 if quarter else 6
        last = int(quarter or half) * months
        first = last - months + 1
    else:
        first, last = 1, 12
    return date(y, first, 1), date(y, last, calendar.monthrange(y, last)[1])


def within(periods: pd.Series, start: date | None, end: date | None) -> pd.Series:
    """Which time periods lie inside [start, end] (a period not in SDMX form: by its year)."""
    if start is None and end is None:
        return pd.Series(True, index=periods.index)

    def inside(text: str) -> bool:
        found = PERIOD.fullmatch(text) or PERIOD.fullmatch(text[:4])
        if not found:
            return False
        first, last = bounds(found)
        return (start is None or first >= start) and (end is None or last <= end)

    return periods.astype(str).map(inside).astype(bool)


def area_of(code: str) -> str:
    """The store's code of an area given as ISO3 or M49 (as REF_AREA carries it); 404 when unknown."""
    found = codes.resolve_area(code) if re.fullmatch(r"[A-Z]{3}|\d{1,3}|[A-Z0-9_]{2,12}", code) else None
    if found is None:
        raise ApiError(404, "area_unknown", code=code[:40])
    return found


def indicator_of(code: str, flow: sdmx.Flow | None = None) -> list[str]:
    """The catalogue ids behind an indicator code (of ``flow``'s INDICATOR or SERIES dimension; without
    a flow, a catalogue id); 404 when unknown or a draft indicator."""
    found = sdmx.indicators(flow, code) if flow is not None else [code] if code in catalogue() else []
    found = [i for i in found if not catalogue()[i].draft]
    if not found:
        raise ApiError(404, "indicator_unknown", code=code[:40])
    return found


def dataset_ids(store: Store, user: User, areas: Iterable[str], drafts: bool) -> tuple[int, ...]:
    """The versions the caller reads: published ones; with ``drafts``, also the draft and submitted
    versions the account may see (401 anonymous, 403 without the right for one of the areas)."""
    if not drafts:
        return store.published_ids()
    if user.is_anonymous:
        raise ApiError(401, "drafts_anonymous", headers={"WWW-Authenticate": "Bearer"})
    for area in areas:
        if not can(user, Action.VIEW_DRAFTS, area):
            raise ApiError(403, "drafts_denied", area=area)
    from mmicd.workflow import visible_datasets

    return tuple(sorted(v.id for v in visible_datasets(store, user) if v.status in WITH_DRAFTS))


@lru_cache(maxsize=64)
def _compute(store: Store, ids: tuple[int, ...], area: str, indicators: tuple[str, ...] | None) -> pd.DataFrame:
    return compute(store, country=area, indicators=indicators, dataset_ids=ids).table


def indicator_table(store: Store, ids: tuple[int, ...], areas: Iterable[str],
                    indicators: Iterable[str] | None) -> pd.DataFrame:
    """The engine's indicator table of the areas from the versions ``ids`` (cached by them: a new
    publication is a new key)."""
    wanted = tuple(sorted(indicators)) if indicators else None
    started, frames = time.monotonic(), []
    for n, area in enumerate(areas):
        if n and time.monotonic() - started > COMPUTE_SECONDS:
            raise ApiError(503, "computing", headers={"Retry-After": "5"})
        frames.append(_compute(store, ids, area, wanted))
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def data(store: Store, user: User, query: Query, lang: str, drafts: bool) -> pd.DataFrame:
    """The SDMX rows of ``query.flow`` answering ``query``; 404 when none."""
    if not query.key["REF_AREA"]:
        raise ApiError(400, "area_needed", n=MAX_AREAS)
    if len(query.key["REF_AREA"]) > MAX_AREAS:
        raise ApiError(400, "too_many_areas", n=MAX_AREAS)
    areas = list(dict.fromkeys(area_of(c) for c in query.key["REF_AREA"]))
    asked = query.key[sdmx.indicator_dimension(query.flow)]
    indicators = [i for c in asked for i in indicator_of(c, query.flow)]
    table = indicator_table(store, dataset_ids(store, user, areas, drafts), areas, indicators)
    if table.empty:
        raise ApiError(404, "no_results")
    drafted = table["indicator"].map(lambda i: catalogue()[i].draft).astype(bool)
    chosen = ~drafted & within(table["time_period"], query.start, query.end)
    for dim, column in sdmx.SAME_CODES.items():
        if query.key.get(dim):
            chosen &= table[column].astype(str).isin(query.key[dim])
    table = table.loc[chosen].reset_index(drop=True)
    if len(table) > MAX_OBS:  # before the SDMX rows are made
        raise ApiError(413, "too_large", n=MAX_OBS)
    rows = sdmx.observations(table, lang, scopes_of(store, table), query.flow)
    keep = pd.Series(True, index=rows.index)
    for dim, values in {**query.key, "REF_AREA": tuple(sdmx.area(a) for a in areas)}.items():
        if values:
            keep &= rows[dim].astype(str).isin(values)
    if not keep.any():
        raise ApiError(404, "no_results")
    return rows.loc[keep].reset_index(drop=True)
