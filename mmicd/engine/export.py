"""The indicator table as CSV, JSON and SDMX-CSV (SDG dimension names, REF_AREA as M49)."""

from __future__ import annotations

import json
import math

import pandas as pd

from mmicd import codes
from mmicd.engine.registry import OUTPUT_COLUMNS

FORMATS = ("csv", "json", "sdmx-csv")
DATAFLOW = "MMICD:DF_MIGRATION_INDICATORS(1.0)"
SDMX_UNITS = {"persons": "PS", "percent": "PT", "usd": "CU_USD", "years": "YR", "percent_per_year": "PT"}


def to_csv(table: pd.DataFrame) -> str:
    return table[OUTPUT_COLUMNS].to_csv(index=False, lineterminator="\n")


def _clean(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def to_json(table: pd.DataFrame) -> str:
    """A JSON array of row objects; empty cells are null."""
    rows = [{c: _clean(v) for c, v in zip(OUTPUT_COLUMNS, r, strict=True)}
            for r in table[OUTPUT_COLUMNS].itertuples(index=False, name=None)]
    return json.dumps(rows, ensure_ascii=False, indent=1)


def m49(code: str) -> str:
    """UN M49 numeric code of an area (three digits for countries); the code itself if none."""
    areas = codes.areas()
    if code in areas.index and areas.at[code, "m49"]:
        value = areas.at[code, "m49"]
        return value.zfill(3) if value.isdigit() else value
    return code


def to_sdmx(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "DATAFLOW": DATAFLOW,
        "INDICATOR": table["indicator"],
        "REF_AREA": table["ref_area"].map(m49),
        "SEX": table["sex"],
        "AGE": table["age"],
        "COMPOSITE_BREAKDOWN": table["migrant_status"],
        "COUNTERPART_AREA": table["counterpart_area"].map(lambda c: c if c == codes.TOTAL else m49(c)),
        "TIME_PERIOD": table["time_period"],
        "OBS_VALUE": table["value"],
        "UNIT_MEASURE": table["unit"].map(SDMX_UNITS),
        "OBS_STATUS": table["obs_status"],
        "LOWER_BOUND": table["ci_lower"],
        "UPPER_BOUND": table["ci_upper"],
        "SOURCE_DETAIL": table["source"] + " " + table["edition"].fillna(""),
    })
    return out


def to_sdmx_csv(table: pd.DataFrame) -> str:
    return to_sdmx(table).to_csv(index=False, lineterminator="\n")


def export(table: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "json":
        return to_json(table)
    if fmt == "sdmx-csv":
        return to_sdmx_csv(table)
    raise ValueError(f"unknown format '{fmt}' (use {', '.join(FORMATS)})")
