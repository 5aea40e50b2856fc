"""What the data API answers: content negotiation, SDMX-JSON data messages and SDMX error messages.

Errors are SDMX error messages (SDMX-JSON, or SDMX-ML when the client accepts XML only), with the
standard SDMX error codes and a translated text naming what is wrong; nothing else is revealed.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pandas as pd

from mmicd.api import sdmx
from mmicd.i18n import t

JSON_DATA = "application/vnd.sdmx.data+json; version=2.0.0; charset=utf-8"
XML_ERROR = "application/vnd.sdmx.error+xml; version=3.0.0; charset=utf-8"
JSON_ERROR = "application/json; charset=utf-8"
DATA_SCHEMA = "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/2.0.0/sdmx-json-data-schema.json"
# format= values and the answer they ask for
FORMAT_PARAM = {"csv": "csv", "sdmx-csv": "csv", "csvfile": "csv", "csv-2.0": "csv-2.0", "sdmx-csv-2.0": "csv-2.0",
                "json": "json", "sdmx-json": "json", "jsondata": "json"}
# SDMX error codes (SDMX REST, section 'Errors') by HTTP status; 1000 and above: the service's own
SDMX_CODES = {400: 140, 401: 110, 403: 150, 404: 100, 406: 1406, 413: 510, 414: 140, 429: 1429, 500: 500,
              501: 501, 503: 503}


class ApiError(Exception):
    """A refusal: HTTP ``status``, the translation key (``api.error.<reason>``) and its fields."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None, **fields: object):
        self.status, self.reason, self.headers, self.fields = status, reason, headers or {}, fields
        super().__init__(reason)

    def text(self, lang: str) -> str:
        return t(f"api.error.{self.reason}", lang, **self.fields)


def wants_xml(accept: str) -> bool:
    """The client accepts XML, and neither JSON nor ``*/*``."""
    accept = accept.lower()
    return "xml" in accept and "json" not in accept and "*/*" not in accept


def negotiate(accept: str, fmt: str | None) -> str:
    """``csv`` (SDMX-CSV 1.0), ``csv-2.0`` or ``json`` for a data request: ``format=`` wins, then the
    Accept header (``application/vnd.sdmx.data+csv;version=2.0.0`` for SDMX-CSV 2.0), else JSON."""
    if fmt is not None:
        if fmt.lower() not in FORMAT_PARAM:
            raise ApiError(400, "format", value=fmt[:40], allowed=", ".join(FORMAT_PARAM))
        return FORMAT_PARAM[fmt.lower()]
    accept = accept.lower()
    if "csv" in accept and "json" not in accept:
        return "csv-2.0" if re.search(r"data\+csv\s*;\s*version\s*=\s*2", accept) else "csv"
    if "json" in accept or "*/*" in accept or not accept.strip():
        return "json"
    raise ApiError(406, "not_acceptable", accepted=accept[:80])


def error_body(err: ApiError, lang: str, xml: bool) -> tuple[str, str]:
    code, text = SDMX_CODES.get(err.status, 1000), err.text(lang)
    if xml:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<mes:Error xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message" '
                f'xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common">'
                f'<mes:ErrorMessage code="{code}"><com:Text xml:lang="{lang}">{escape(text)}</com:Text>'
                f'</mes:ErrorMessage></mes:Error>\n', XML_ERROR)
    body = {"meta": _meta(lang), "errors": [{"code": code, "title": text, "titles": {lang: text}}]}
    return json.dumps(body, ensure_ascii=False), JSON_ERROR


def _meta(lang: str, **more) -> dict:
    return {"id": f"IREF{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}", "test": False,
            "prepared": now_iso(), "contentLanguages": [lang], "sender": {"id": "MMICD"}, **more}


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _value(v: object) -> object:
    if v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _number(text: object) -> float | None:
    """An OBS_VALUE as the export writes it (text; ``NaN`` when missing) as a JSON number or null."""
    value = _value(text)
    number = None if value is None else float(value)
    return None if number is None or math.isnan(number) else number


def data_message(rows: pd.DataFrame, flow: sdmx.Flow, lang: str, names: dict[str, dict[str, str]],
                 at_observation: str) -> dict:
    """An SDMX-JSON 2.0 data message of SDMX ``rows`` (:func:`mmicd.api.sdmx.observations`).

    ``at_observation``: the dimension at observation level (``TIME_PERIOD``, any other dimension)
    or ``AllDimensions`` (flat observations); ``names``: labels of codes by dimension.
    """
    dims = [*sdmx.dimensions(flow), sdmx.TIME]
    attrs = sdmx.attributes(rows, flow)
    if at_observation == "AllDimensions":
        series_dims, obs_dims = [], dims
    else:
        series_dims, obs_dims = [d for d in dims if d != at_observation], [at_observation]
    values = {d: list(dict.fromkeys(rows[d].astype(str))) for d in dims}
    index = {d: {v: i for i, v in enumerate(values[d])} for d in dims}
    attr_values = {a: [v for v in dict.fromkeys(map(_value, rows[a])) if v is not None] for a in attrs}
    attr_index = {a: {v: i for i, v in enumerate(vs)} for a, vs in attr_values.items()}

    def component(d: str, position: int | None) -> dict:
        out = {"id": d, "name": d, "values": [{"id": v, "name": names.get(d, {}).get(v, v)} for v in values[d]]}
        if position is not None:
            out["keyPosition"] = position
        return out

    def observation(r) -> list:
        return [_number(getattr(r, sdmx.MEASURE)),
                *[None if (v := _value(getattr(r, a))) is None else attr_index[a][v] for a in attrs]]

    records = list(rows[dims + [sdmx.MEASURE] + attrs].itertuples(index=False))
    if series_dims:
        series: dict[str, dict] = {}
        for r in records:
            key = ":".join(str(index[d][str(getattr(r, d))]) for d in series_dims)
            obs_key = str(index[obs_dims[0]][str(getattr(r, obs_dims[0]))])
            series.setdefault(key, {"attributes": [], "observations": {}})["observations"][obs_key] = observation(r)
        data_set = {"structure": 0, "action": "Information", "series": series}
    else:
        data_set = {"structure": 0, "action": "Information",
                    "observations": {":".join(str(index[d][str(getattr(r, d))]) for d in dims): observation(r)
                                     for r in records}}
    structure = {
        "links": [{"rel": "dataflow", "urn": f"urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={flow.ref}"}],
        "dimensions": {"dataSet": [],
                       "series": [component(d, dims.index(d)) for d in series_dims],
                       "observation": [component(d, dims.index(d) if d != sdmx.TIME else None) for d in obs_dims]},
        "attributes": {"dataSet": [], "series": [],
                       "observation": [{"id": a, "name": a, "values": [{"id": str(v), "name": str(v)}
                                                                       for v in attr_values[a]]} for a in attrs]},
        "measures": {"observation": [{"id": sdmx.MEASURE, "name": sdmx.MEASURE}]},
    }
    return {"meta": _meta(lang, schema=DATA_SCHEMA),
            "data": {"structures": [structure], "dataSets": [data_set]}}

