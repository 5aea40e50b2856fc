"""The OpenAPI 3.1 description of the data API, served at ``/api/openapi.json``."""

from __future__ import annotations

from functools import cache

from mmicd.api import data, sdmx
from mmicd.api.formats import FORMAT_PARAM
from mmicd.api.limits import Limits


def _param(name: str, where: str, description: str, *, required: bool = False, schema: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "description": description,
            "schema": schema or {"type": "string"}}


LANG = _param("lang", "query", "Language of names, definitions and messages (default: Accept-Language, else en)",
              schema={"type": "string", "enum": ["en", "fr", "es"]})
DRAFTS = _param("drafts", "query", "Also draft and submitted versions: needs a token whose account may see drafts "
                "of the areas asked for", schema={"type": "boolean", "default": False})
START = _param("startPeriod", "query", "First period (2015, 2015-03, 2015-Q2, 2015-S1, 2015-03-31)")
END = _param("endPeriod", "query", "Last period, same forms")
ERROR = {"description": "SDMX error message (SDMX-JSON; SDMX-ML when only XML is accepted)",
         "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                     "application/vnd.sdmx.error+xml": {"schema": {"type": "string"}}}}
ERRORS = {str(code): {**ERROR, "description": what} for code, what in (
    (400, "Malformed query: syntax of the key, period or a parameter"),
    (401, "Invalid token, or drafts asked for without one"),
    (403, "The token's account may not see drafts of an area asked for"),
    (404, "Unknown flow, indicator or area code, or no observation matches"),
    (413, "More observations than the service gives in one answer"),
    (414, "URL too long"),
    (429, "Too many requests: wait for the seconds of Retry-After"),
    (503, "The store is being loaded, or the server is busy: retry after Retry-After"))}


@cache
def description() -> dict:
    limits = Limits.from_env()
    flow_ids = ", ".join(f.ref for f in sdmx.FLOWS)
    keys = "; ".join(f"{f.id}: {'.'.join(sdmx.dimensions(f))}" for f in sdmx.FLOWS)
    return {
        "openapi": "3.1.0",
        "info": {"title": "MMICD data API", "version": "1.0.0",
                 "description": (
                     "Read-only access to the published indicators of the migration & development dashboard. "
                     "Anonymous callers read published data; a personal token (Account page; "
                     "`Authorization: Bearer <token>`) reads drafts within the account's role and countries. "
                     f"At most {limits.per_address} requests per {limits.window_seconds} s per client address and "
                     f"{limits.per_token} per token; at most {data.MAX_AREAS} areas and {data.MAX_CODES} codes per "
                     f"key, {data.MAX_OBS} observations per answer.")},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "Personal API token, created on the Account page"}},
            "schemas": {"Error": {"type": "object", "required": ["errors"], "properties": {
                "meta": {"type": "object"},
                "errors": {"type": "array", "items": {"type": "object", "required": ["code", "title"], "properties": {
                    "code": {"type": "integer"}, "title": {"type": "string"},
                    "titles": {"type": "object", "additionalProperties": {"type": "string"}}}}}}}},
        },
        "security": [{}, {"token": []}],
        "paths": {
            "/api/sdmx/data/{flow}/{key}": {"get": {
                "summary": "SDMX data query (SDMX REST 1.x)",
                "operationId": "sdmxData",
                "parameters": [
                    _param("flow", "path", f"Dataflow: ID, AGENCY,ID or AGENCY,ID,VERSION ({flow_ids})"),
                    _param("key", "path", f"Series key, the flow's own dimensions in order ({keys}): codes "
                           "joined by '+', an empty part for any; REF_AREA (ISO3 or M49) is required, at most "
                           f"{data.MAX_AREAS} areas. SDG series (SERIES code, e.g. SL_TLF_UEM) are in "
                           "DF_SDG_GLH, every other indicator (INDICATOR: the catalogue id) in "
                           "DF_MIGRATION_INDICATORS"),
                    START, END,
                    _param("dimensionAtObservation", "query", "TIME_PERIOD (default), another dimension, "
                           "or AllDimensions (SDMX-JSON)"),
                    _param("format", "query", "Overrides the Accept header (csv: SDMX-CSV 1.0, csv-2.0: "
                           "SDMX-CSV 2.0)", schema={"type": "string", "enum": sorted(FORMAT_PARAM)}),
                    LANG, DRAFTS],
                "responses": {"200": {"description": "The observations", "content": {
                    "application/vnd.sdmx.data+json;version=2.0.0": {"schema": {"type": "object"}},
                    "application/vnd.sdmx.data+csv;version=1.0.0": {"schema": {"type": "string"}},
                    "application/vnd.sdmx.data+csv;version=2.0.0": {"schema": {"type": "string"}}}}, **ERRORS}}},
            "/api/sdmx/structure/{resource}/{agency}/{id}/{version}": {"get": {
                "summary": "SDMX structure query: the SDMX-ML 2.1 structure message of the flows asked for "
                           "(dataflows, data structures, code lists, concept schemes; the one the SDMX "
                           "downloads ship); contentconstraint 501",
                "operationId": "sdmxStructure",
                "parameters": [_param("resource", "path", "dataflow, datastructure, codelist, conceptscheme, "
                                      "contentconstraint"),
                               _param("agency", "path", "Agency or 'all'"), _param("id", "path", "Id or 'all'"),
                               _param("version", "path", "Version, 'latest' or 'all'"), LANG],
                "responses": {"200": {"description": "Structure message", "content": {
                    "application/vnd.sdmx.structure+xml;version=2.1": {"schema": {"type": "string"}}}},
                    "501": {**ERROR, "description": "contentconstraint: not served"}, **ERRORS}}},
            "/api/v1/indicators": {"get": {
                "summary": "The indicators, with their metadata", "operationId": "indicators",
                "parameters": [LANG],
                "responses": {"200": {"description": "Indicator list", "content": {
                    "application/json": {"schema": {"type": "object"}}}}, **ERRORS}}},
            "/api/v1/indicators/{indicator}/{area}": {"get": {
                "summary": "One indicator of one area: metadata (name, definition, unit and multiplier, "
                           "sources and editions, licence, generation time) and observations",
                "operationId": "indicatorArea",
                "parameters": [_param("indicator", "path", "Indicator id (see /api/v1/indicators)"),
                               _param("area", "path", "Area: ISO3 or M49 code"), START, END, LANG, DRAFTS],
                "responses": {"200": {"description": "Metadata and observations", "content": {
                    "application/json": {"schema": {"type": "object", "required": ["indicator", "area", "observations"]}}}},
                    **ERRORS}}},
            "/api/openapi.json": {"get": {"summary": "This description", "operationId": "openapi",
                                          "responses": {"200": {"description": "OpenAPI 3.1",
                                                                "content": {"application/json": {}}}}}},
        },
    }
