"""The HTTP side of the data API: Starlette routes served by the dashboard's own server (``app.py``
hands them to ``st.App``).

Every request goes through :func:`_answer`: the URL's length checked, unknown parameters refused,
the language chosen, the caller identified (anonymous, or a personal token), the request counted
against the limits, then the endpoint run in a worker thread. Refusals are SDMX error messages; an
unexpected error is logged with an incident number and answered 500 with nothing else.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from functools import cache

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mmicd import codes
from mmicd.api import data, sdmx
from mmicd.api.formats import (
    JSON_DATA,
    ApiError,
    data_message,
    error_body,
    negotiate,
    now_iso,
    wants_xml,
)
from mmicd.api.limits import Limits, client_address, hit
from mmicd.api.tokens import token_user
from mmicd.auth import ANONYMOUS, User
from mmicd.config import LANGUAGES, get_settings
from mmicd.engine import catalogue
from mmicd.store import Store

log = logging.getLogger("mmicd.api")
BASE = "/api"
MAX_URL = 2000
MAX_RUNNING = 4  # API requests worked on at a time by one server ...
WAIT_SECONDS = 20  # ... the others wait at most this long (then 503)
JSON = "application/json; charset=utf-8"
COMMON = {"lang", "drafts"}
DATA_PARAMS = COMMON | {"startPeriod", "endPeriod", "dimensionAtObservation", "format"}
STRUCTURE_RESOURCES = ("dataflow", "datastructure", "codelist", "conceptscheme", "contentconstraint")


@cache
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    s = _store(get_settings().database_url)
    if s.is_empty():  # first start: the dashboard's first visit loads the store
        raise ApiError(503, "empty", headers={"Retry-After": "60"})
    return s


def language(request: Request) -> str:
    chosen = request.query_params.get("lang")
    if chosen is not None:
        if chosen not in LANGUAGES:
            raise ApiError(400, "lang", value=chosen[:10], allowed=", ".join(LANGUAGES))
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def drafts_asked(request: Request) -> bool:
    value = request.query_params.get("drafts", "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ApiError(400, "boolean", parameter="drafts", value=value[:10])
    return value in ("true", "1")


def caller(request: Request, s: Store, limits: Limits) -> User:
    """The caller, after counting the request: per token with a valid token, else per address."""
    header = request.headers.get("authorization")
    found = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        found = token_user(s, token.strip()) if scheme.lower() == "bearer" else None
    if found is not None:
        wait = hit(s, f"token:{found[0]}", limits.per_token, limits.window_seconds)
    else:
        address = client_address(request.client.host if request.client else None,
                                  request.headers.get("x-forwarded-for"))
        wait = hit(s, f"address:{address}", limits.per_address, limits.window_seconds)
    if wait:
        raise ApiError(429, "rate", headers={"Retry-After": str(wait)}, seconds=wait)
    if header is not None and found is None:
        raise ApiError(401, "token_invalid", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if found is None:
        if os.environ.get("MMICD_ALLOW_ANONYMOUS", "1").lower() in ("0", "false", "no"):  # as the pages
            raise ApiError(401, "token_needed", headers={"WWW-Authenticate": "Bearer"})
        return ANONYMOUS
    return found[1]


def _answer(allowed: set[str], work: Callable[[Request, Store, User, str], Response]):
    """A Starlette endpoint around ``work(request, store, user, lang)``, run in a worker thread of the
    API's own (at most :data:`MAX_RUNNING` per server, waiting at most :data:`WAIT_SECONDS`), so that
    API requests never take the threads the dashboard's files are served by."""
    def run(request: Request) -> Response:
        lang = "en"
        try:
            if len(str(request.url)) > MAX_URL:
                raise ApiError(414, "too_long", n=MAX_URL)
            lang = language(request)
            unknown = sorted(set(request.query_params) - allowed)
            if unknown:
                raise ApiError(400, "parameter", name=unknown[0][:40], allowed=", ".join(sorted(allowed)) or "–")
            s = store()
            user = caller(request, s, Limits.from_env())
            response = work(request, s, user, lang)
            if not user.is_anonymous:
                response.headers["Cache-Control"] = "no-store"
        except ApiError as err:
            response = refusal(request, err, lang)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("API error, incident %s", incident)
            response = refusal(request, ApiError(500, "internal", incident=incident), lang)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def endpoint(request: Request) -> Response:
        turn, threads = _limiters()
        try:
            with anyio.fail_after(WAIT_SECONDS):
                await turn.acquire()
        except TimeoutError:
            return refusal(request, ApiError(503, "busy", headers={"Retry-After": "10"}), language_or_en(request))
        try:
            return await anyio.to_thread.run_sync(run, request, limiter=threads)
        finally:
            turn.release()

    return endpoint


def refusal(request: Request, err: ApiError, lang: str) -> Response:
    body, media = error_body(err, lang, wants_xml(request.headers.get("accept", "")))
    return Response(body, status_code=err.status, media_type=media, headers=err.headers)


@cache
def _limiters() -> tuple[anyio.CapacityLimiter, anyio.CapacityLimiter]:
    """The API's turns (waited for with a deadline) and its worker threads, as many of each."""
    return anyio.CapacityLimiter(MAX_RUNNING), anyio.CapacityLimiter(MAX_RUNNING)


def _json(payload: object, media: str = JSON) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, allow_nan=False), media_type=media)


def sdmx_data(request: Request, s: Store, user: User, lang: str) -> Response:
    params = request.query_params
    flow = data.parse_flow(request.path_params["flow"])
    at_obs = params.get("dimensionAtObservation", sdmx.TIME)
    if at_obs not in (*sdmx.dimensions(flow), sdmx.TIME, "AllDimensions"):
        raise ApiError(400, "dimension_at_observation", value=at_obs[:40])
    query = data.Query(flow, data.parse_key(request.path_params.get("key"), flow),
                       *data.periods(params.get("startPeriod"), params.get("endPeriod")))
    rows = data.data(s, user, query, lang, drafts_asked(request))
    fmt = negotiate(request.headers.get("accept", ""), params.get("format"))  # after the 404s
    if fmt != "json":
        body, media = sdmx.to_csv(rows, flow, "2.0" if fmt == "csv-2.0" else "1.0")
        return Response(body, media_type=media)
    names = {d: sdmx.code_names(flow, d, lang) for d in sdmx.dimensions(flow)}
    return _json(data_message(rows, flow, lang, names, at_obs), JSON_DATA)


def sdmx_structure(request: Request, s: Store, user: User, lang: str) -> Response:
    """``/structure/{resource}[/{agency}[/{id}[/{version}]]]``, ``all`` (or ``*``, ``latest``, ``~``)
    for any: the SDMX-ML 2.1 structure message of the flows asked for."""
    params = request.path_params
    resource = params["resource"]
    if resource not in STRUCTURE_RESOURCES:
        raise ApiError(404, "structure_unknown", resource=resource[:40], allowed=", ".join(STRUCTURE_RESOURCES))
    agency, rid, version = (params.get(k, "all") for k in ("agency", "id", "version"))
    flows = [f for f in sdmx.FLOWS if agency in ("all", "*", f.agency) and rid in ("all", "*", f.id)
             and version in ("all", "*", "latest", "~", f.version)]
    if not flows:
        raise ApiError(404, "flow_unknown", flow=",".join((agency, rid, version))[:60])
    found = sdmx.structure(resource, flows)
    if found is None:
        raise ApiError(501, "structure_missing", resource=resource)
    return Response(found[0], media_type=found[1])


def indicator_meta(indicator_id: str, lang: str) -> dict:
    ind = catalogue()[indicator_id]
    return {"id": ind.id, "name": ind.name.get(lang), "definition": ind.definition.get(lang), "unit": ind.unit,
            "unit_measure": sdmx.unit(ind.unit), "unit_mult": sdmx.unit_mult(ind.id), "sdg": ind.sdg,
            "series": ind.series, "disaggregations": list(ind.disaggregations)}


def indicators_list(request: Request, s: Store, user: User, lang: str) -> Response:
    items = [{**indicator_meta(i, lang), "data": f"{BASE}/v1/indicators/{i}/{{area}}"}
             for i, ind in catalogue().items() if not ind.draft]
    return _json({"generated_at": now_iso(), "language": lang, "indicators": items})


def indicator_data(request: Request, s: Store, user: User, lang: str) -> Response:
    (indicator,) = data.indicator_of(request.path_params["indicator"])
    area = data.area_of(request.path_params["area"])
    params = request.query_params
    start, end = data.periods(params.get("startPeriod"), params.get("endPeriod"))
    drafts = drafts_asked(request)
    ids = data.dataset_ids(s, user, [area], drafts)
    table = data.indicator_table(s, ids, [area], [indicator])
    if not table.empty:
        table = table.loc[data.within(table["time_period"], start, end).to_numpy()]
    if len(table) > data.MAX_OBS:
        raise ApiError(413, "too_large", n=data.MAX_OBS)
    versions = {v.id: v for v in s.datasets()}
    sources = [{"source": v.source, "edition": v.edition, "dataset_id": v.id, "version": v.version,
                "status": v.status.value, "licence": v.licence, "url": v.url}
               for v in (versions[i] for i in sorted({int(x) for x in table.get("dataset_id", ())}) if i in versions)]
    return _json({
        "indicator": indicator_meta(indicator, lang),
        "area": {"code": area, "ref_area": sdmx.area(area), "name": codes.area_name(area, lang)},
        "published_only": not drafts,
        "sources": sources,
        "licence": sorted({x["licence"] for x in sources if x["licence"]}),
        "generated_at": now_iso(),
        "language": lang,
        "count": len(table),
        "observations": sdmx.to_records(table, lang) if not table.empty else [],
    })


def openapi(request: Request) -> Response:
    from mmicd.api.openapi import description

    return _json(description())


def not_found(request: Request) -> Response:
    """Any other path under the API's base: an SDMX error, not the dashboard's page."""
    return refusal(request, ApiError(404, "path"), language_or_en(request))


def language_or_en(request: Request) -> str:
    try:
        return language(request)
    except ApiError:
        return "en"


def routes() -> list[Route]:
    """The API's routes, to hand to ``st.App(..., routes=...)``."""
    data_ep = _answer(DATA_PARAMS, sdmx_data)
    structure_ep = _answer(COMMON, sdmx_structure)
    period_params = COMMON | {"startPeriod", "endPeriod"}
    return [
        Route(f"{BASE}/sdmx/data/{{flow}}", data_ep, methods=["GET"]),
        Route(f"{BASE}/sdmx/data/{{flow}}/{{key}}", data_ep, methods=["GET"]),
        Route(f"{BASE}/sdmx/structure/{{resource}}", structure_ep, methods=["GET"]),
        Route(f"{BASE}/sdmx/structure/{{resource}}/{{agency}}", structure_ep, methods=["GET"]),
        Route(f"{BASE}/sdmx/structure/{{resource}}/{{agency}}/{{id}}", structure_ep, methods=["GET"]),
        Route(f"{BASE}/sdmx/structure/{{resource}}/{{agency}}/{{id}}/{{version}}", structure_ep, methods=["GET"]),
        Route(f"{BASE}/v1/indicators", _answer(COMMON, indicators_list), methods=["GET"]),
        Route(f"{BASE}/v1/indicators/{{indicator}}/{{area}}", _answer(period_params, indicator_data), methods=["GET"]),
        Route(f"{BASE}/openapi.json", openapi, methods=["GET"]),
        Route(f"{BASE}/{{rest:path}}", not_found),
        Route(BASE, not_found),
    ]
