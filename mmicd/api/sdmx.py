"""The one seam between the data API and the SDMX export (:mod:`mmicd.sdmx`).

The API never builds SDMX rows itself: the indicator table the engine computes goes through the
export's :func:`mmicd.sdmx.frames` and :func:`mmicd.sdmx.data.csv_text`, so that the API answers
exactly what the downloads hold. Two dataflows, each with its own dimensions: the SDG one (SDG series,
its INDICATOR-like dimension is SERIES) and the project's own (everything else, INDICATOR); a row of
one flow is never served under the other.
"""

from __future__ import annotations

import pandas as pd

from mmicd import sdmx as export_sdmx
from mmicd.engine import export
from mmicd.sdmx.data import csv_text
from mmicd.sdmx.structure import Flow, area_code, flow, structure_message, unit_codes

FLOWS = tuple(flow(key) for key in export_sdmx.FLOWS)
TIME, MEASURE = "TIME_PERIOD", "OBS_VALUE"
# Dimensions whose codes are the engine table's own (column by dimension): a query's codes select the
# table's rows before the SDMX rows are made.
SAME_CODES = {"SEX": "sex", "AGE": "age", "COMPOSITE_BREAKDOWN": "migrant_status"}
CSV_VERSIONS = {"1.0": "1.0.0", "2.0": "2.0.0"}
STRUCTURE_MEDIA_TYPE = "application/vnd.sdmx.structure+xml; version=2.1; charset=utf-8"


def dimensions(f: Flow) -> tuple[str, ...]:
    """The series key of the flow, in order (the time dimension and the measure follow)."""
    return f.dimensions


def indicator_dimension(f: Flow) -> str:
    """The dimension naming what is measured: SERIES in the SDG flow, INDICATOR in the project's."""
    return "SERIES" if "SERIES" in f.dimensions else "INDICATOR"


def indicators(f: Flow, code: str) -> list[str]:
    """The catalogue ids behind a code of the flow's :func:`indicator_dimension` (an SDG series may be
    carried by several indicators); empty when none."""
    from mmicd.engine import catalogue

    if indicator_dimension(f) == "SERIES":
        return [i for i, ind in catalogue().items() if ind.series == code]
    return [code] if code in catalogue() else []


def observations(table: pd.DataFrame, lang: str, scopes: dict[int, str], f: Flow) -> pd.DataFrame:
    """The rows of the engine's table that belong to ``f``, as the export writes them."""
    return export_sdmx.frames(table, lang, scopes)[f.key]


def attributes(rows: pd.DataFrame, f: Flow) -> list[str]:
    return [a for a in f.attributes if a in rows.columns]


def to_csv(rows: pd.DataFrame, f: Flow, version: str = "1.0") -> tuple[str, str]:
    """(SDMX-CSV ``version`` of the flow's ``rows``, its media type), written as the download writes them."""
    return (csv_text(rows, f.key, version),
            f"application/vnd.sdmx.data+csv; version={CSV_VERSIONS[version]}; charset=utf-8")


def to_records(table: pd.DataFrame, lang: str) -> list[dict]:
    """The plain export's rows as JSON objects (empty cells null), as its data package holds them."""
    return export.records(table, lang)


def area(internal: str) -> str:
    """The REF_AREA code of an area of the store (M49 where it has one)."""
    return area_code(internal)


def unit(unit_name: str) -> str | None:
    """UNIT_MEASURE code of a catalogue unit."""
    return unit_codes().get(unit_name)


def unit_mult(_indicator: str) -> int:
    """Power of ten of the values, as the export writes UNIT_MULT: the engine computes in units."""
    return 0


def code_names(f: Flow, dimension: str, lang: str) -> dict[str, str]:
    """Names of the codes of a dimension of ``f`` in ``lang`` (empty without a code list)."""
    codelist = f.codelist(dimension)
    return {c: n.get(lang) or n.get("en") or c for c, n in codelist.codes.items()} if codelist else {}


def structure(resource: str, flows: list[Flow]) -> tuple[bytes, str] | None:
    """The SDMX-ML 2.1 structure message (body, media type) of ``flows`` (their dataflows, data
    structures, code lists and concept schemes) for ``resource``; None for a resource it holds none of."""
    if resource not in ("dataflow", "datastructure", "codelist", "conceptscheme"):
        return None
    return structure_message(tuple(f.key for f in flows)), STRUCTURE_MEDIA_TYPE
