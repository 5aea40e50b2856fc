"""The one seam between the data API and the SDMX export (:mod:`mmicd.engine.export`).

The API never builds SDMX rows itself: the indicator table the engine computes goes through the
export functions named here, so that the API answers exactly what the downloads hold. When the
export changes (dataflows, DSDs, code lists), only this module follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pandas as pd

from mmicd import safe_export
from mmicd.engine import export


@dataclass(frozen=True)
class Flow:
    agency: str
    id: str
    version: str

    @property
    def urn(self) -> str:
        return f"{self.agency}:{self.id}({self.version})"


_agency, _id, _version = re.fullmatch(r"(\w+):(\w+)\(([\d.]+)\)", export.DATAFLOW).groups()
FLOWS = (Flow(_agency, _id, _version),)
# The series key of every flow, in order; then the time dimension and the measure.
DIMENSIONS = ("INDICATOR", "REF_AREA", "SEX", "AGE", "COMPOSITE_BREAKDOWN", "COUNTERPART_AREA")
TIME, MEASURE = "TIME_PERIOD", "OBS_VALUE"
# Dimensions whose codes are the engine table's own (column by dimension): a query's codes select the
# table's rows before the SDMX rows are made.
SAME_CODES = {"INDICATOR": "indicator", "SEX": "sex", "AGE": "age", "COMPOSITE_BREAKDOWN": "migrant_status"}
NOT_ATTRIBUTES = {"DATAFLOW", "STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, TIME, MEASURE}
CSV_MEDIA_TYPE = "application/vnd.sdmx.data+csv; version=1.0.0; charset=utf-8"


def observations(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The engine's table as SDMX rows (one per observation, same index as ``table``)."""
    return export.to_sdmx(table, lang)


def attributes(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c not in NOT_ATTRIBUTES]


def to_csv(rows: pd.DataFrame) -> str:
    """SDMX-CSV of SDMX ``rows`` (:func:`observations`), written as the download
    (:func:`mmicd.engine.export.to_sdmx_csv`) writes them."""
    return safe_export.to_csv(rows, lineterminator="\n")


def to_records(table: pd.DataFrame, lang: str) -> list[dict]:
    """The plain JSON export's rows (a JSON array of objects, empty cells null)."""
    return json.loads(export.to_json(table, lang))


def indicator(code: str) -> str | None:
    """The catalogue id behind an INDICATOR code of the flow."""
    from mmicd.engine import catalogue

    return code if code in catalogue() else None


def area(internal: str) -> str:
    """The REF_AREA code of an area of the store (M49 where it has one)."""
    return export.m49(internal)


def unit(unit_name: str) -> str | None:
    """UNIT_MEASURE code of a catalogue unit."""
    return export.SDMX_UNITS.get(unit_name)


def unit_mult(_indicator: str) -> int:
    """Power of ten of the values: the engine computes in units."""
    return 0


def structure(resource: str, flows: list[Flow]) -> tuple[str, str] | None:
    """The structure message (body, media type) of ``resource`` (``dataflow``, ``datastructure``,
    ``codelist`` …) for ``flows``; None while the export ships none (the API then lists the
    dataflows itself and answers 501 for the rest)."""
    return None
