"""The indicator table (:data:`mmicd.engine.registry.OUTPUT_COLUMNS`) as SDMX data of the two dataflows.

Each row goes to the SDG dataflow when its indicator is an SDG series and every code of the row is one
the SDG constraints allow for it (no counterpart area, an M49 area, allowed sex, age and migratory
status, one value per SDG key); otherwise to the project's own dataflow, whose key also holds the
counterpart area and the dataset version, so that two sources of one figure never collide.

Codes are SDMX codes: M49 areas (World ``001``), SDG units (``NUMBER``, ``PT``, ``USD``…), CL_OBS_STATUS
(a missing value is ``O``; ``M`` would say it cannot exist), FREQ from the period (``2023`` A, ``2023-Q3``
Q, ``2023-07`` M), REPORTING_TYPE ``N`` for a national dataset (its scope is a country) and ``G`` for an
international one, UNIT_MULT ``0`` (values are in units). Values are written at their published precision
(a published value as it is; a computed share, ratio or rate to :data:`DECIMALS` places); SOURCE_DETAIL
names the source and its edition as a release or a date (a commit hash is no edition and is left out).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping

import pandas as pd

from mmicd import codes, safe_export
from mmicd.sdmx.structure import (
    FLOWS,
    area_code,
    flow,
    sdg_series,
    status_codes,
    structure_message,
    unit_codes,
)

VERSIONS = ("1.0", "2.0")
NUMBERS = ("OBS_VALUE", "LOWER_BOUND", "UPPER_BOUND")
DECIMALS = 3      # places of computed values (shares, ratios, rates, growth, medians)
EXACT_TYPES = ("count", "passthrough", "difference")   # sums and published values: as they are
HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
DAY_FIRST = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def edition_text(edition: object) -> str:
    """An edition as a release or a date: commit hashes left out (``gdidata 1267fd37`` -> ``gdidata``),
    day-first dates as ISO dates (``19/07/2024`` -> ``2024-07-19``)."""
    if not isinstance(edition, str):
        return ""
    text = DAY_FIRST.sub(lambda m: f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}", HASH.sub("", edition))
    return re.sub(r"\s+", " ", re.sub(r"\(\s*\)", "", text)).strip(" ,;")


def source_detail(source: object, edition: object) -> str:
    """``source, edition`` (each part of a two-provenance value: '…; denominator: …')."""
    source = source if isinstance(source, str) else ""
    edition = edition_text(edition)
    return f"{source}, {edition}" if source and edition else source or edition


def freq(period: str) -> str:
    if re.fullmatch(r"\d{4}-Q[1-4]", period):
        return "Q"
    if re.fullmatch(r"\d{4}-\d{2}", period):
        return "M"
    return "A"


def number_text(values: pd.Series, computed: pd.Series | None = None) -> pd.Series:
    """Numbers as text: ``computed`` values rounded to :data:`DECIMALS` places, integral values without
    ``.0``, others in their shortest exact form; missing values empty."""
    from mmicd.dataset_export import number_text as exact

    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    if computed is not None:
        numbers = numbers.where(~computed.to_numpy(), numbers.round(DECIMALS))
    return exact(numbers)


def reporting_types(table: pd.DataFrame, scopes: Mapping[int, str] | None) -> pd.Series:
    """``N`` for a value from a national dataset version (scope: a country), ``G`` for an international
    one (scope ``_ALL``, or a version not in ``scopes``)."""
    scopes = scopes or {}
    return table["dataset_id"].map(lambda d: "N" if pd.notna(d) and scopes.get(int(d), "_ALL") != "_ALL" else "G")


def scopes_of(store, table: pd.DataFrame) -> dict[int, str]:
    """The scope of each dataset version of the table (for :func:`reporting_types`)."""
    from mmicd.engine.export import versions_of

    return {i: v.scope for i, v in versions_of(store, table).items()}


def _indicator_facts(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(SDG series or None, whether the value is computed: a share, ratio, rate…) of each row's indicator."""
    from mmicd.engine import catalogue

    known = catalogue()
    series = table["indicator"].map(lambda i: known[i].series if i in known else None)
    computed = table["indicator"].map(lambda i: i in known and known[i].type not in EXACT_TYPES).astype(bool)
    return series, computed


def _allowed(spec: str, code: str, codelist) -> bool:
    return code in codelist.codes and (spec == "ALL" or code in spec.split(";"))


def _to_sdg(table: pd.DataFrame, series: pd.Series, reporting: pd.Series) -> pd.Series:
    """Rows that the SDG dataflow takes (see the module docstring)."""
    sdg = flow("SDG")
    rules = sdg_series()
    areas = sdg.codelist("REF_AREA").codes
    ok = []
    seen: set[tuple] = set()
    for row, s, rt in zip(table.itertuples(index=False), series, reporting, strict=True):
        take = (isinstance(s, str) and s in rules.index and row.counterpart_area == codes.TOTAL
                and area_code(row.ref_area) in areas
                and _allowed(rules.at[s, "sex"], row.sex, sdg.codelist("SEX"))
                and _allowed(rules.at[s, "age"], row.age, sdg.codelist("AGE"))
                and _allowed(rules.at[s, "composite_breakdown"], row.migrant_status, sdg.codelist("COMPOSITE_BREAKDOWN")))
        key = (s, rt, row.ref_area, row.time_period, row.sex, row.age, row.migrant_status)
        if take and key in seen:   # a second source of the same SDG key: the project's flow holds it
            take = False
        if take:
            seen.add(key)
        ok.append(take)
    return pd.Series(ok, index=table.index, dtype=bool)


def frames(table: pd.DataFrame, lang: str = "en", scopes: Mapping[int, str] | None = None) -> dict[str, pd.DataFrame]:
    """The table as SDMX observations of each dataflow (``SDG``, ``MMICD``): one frame per flow with its
    dimensions, TIME_PERIOD, OBS_VALUE and attributes as columns (codes and text, no structure column)."""
    from mmicd.engine.export import design_note

    table = table.reset_index(drop=True)
    series, computed = _indicator_facts(table)
    common = pd.DataFrame({
        "FREQ": table["time_period"].astype(str).map(freq),
        "REPORTING_TYPE": reporting_types(table, scopes),
        "REF_AREA": table["ref_area"].map(area_code),
        "SEX": table["sex"],
        "AGE": table["age"],
        "COMPOSITE_BREAKDOWN": table["migrant_status"],
        "TIME_PERIOD": table["time_period"].astype(str),
        "OBS_VALUE": number_text(table["value"], computed).replace("", "NaN"),   # missing: its OBS_STATUS says why
        "UNIT_MEASURE": table["unit"].map(unit_codes()),
        "UNIT_MULT": "0",
        "OBS_STATUS": table["obs_status"].map(status_codes()).fillna(table["obs_status"]),
        "LOWER_BOUND": number_text(table["ci_lower"], computed),
        "UPPER_BOUND": number_text(table["ci_upper"], computed),
        "SOURCE_DETAIL": [source_detail(s, e) for s, e in zip(table["source"], table["edition"], strict=True)],
        "SURVEY_DESIGN": table["design"].astype("string").fillna(""),
        "COMMENT_OBS": table["design"].map(lambda d: design_note(d, lang)),
    })
    common["SERIES"] = series
    common["INDICATOR"] = table["indicator"]
    common["COUNTERPART_AREA"] = table["counterpart_area"].map(area_code)
    common["DATASET"] = table["dataset_id"].map(lambda d: str(int(d)) if pd.notna(d) else "")
    for dim in set(flow("SDG").dimensions) - set(common):   # SDG dimensions the project does not hold
        common[dim] = codes.TOTAL
    to_sdg = _to_sdg(table, series, common["REPORTING_TYPE"])
    out = {}
    for key, rows in (("SDG", to_sdg), ("MMICD", ~to_sdg)):
        f = flow(key)
        out[key] = common.loc[rows, [*f.dimensions, "TIME_PERIOD", "OBS_VALUE", *f.attributes]].reset_index(drop=True)
    return out


def csv_text(frame: pd.DataFrame, key: str, version: str = "1.0") -> str:
    """One flow's observations as SDMX-CSV 1.0 (``DATAFLOW`` first) or 2.0 (``STRUCTURE``,
    ``STRUCTURE_ID``, ``ACTION``). Text cells are safe for a spreadsheet (:mod:`mmicd.safe_export`); the
    number columns hold numbers only (written by :func:`number_text`), so ``-5`` stays the number -5."""
    if version not in VERSIONS:
        raise ValueError(f"unknown SDMX-CSV version '{version}' (use {', '.join(VERSIONS)})")
    ref = flow(key).ref
    head = {"DATAFLOW": ref} if version == "1.0" else {"STRUCTURE": "dataflow", "STRUCTURE_ID": ref, "ACTION": "I"}
    out = frame.copy()
    for n, (column, value) in enumerate(head.items()):
        out.insert(n, column, value)
    text = [c for c in out.columns if c not in NUMBERS]
    out[text] = safe_export.csv_frame(out[text])
    return out.to_csv(index=False, lineterminator="\n")


def data_csv(table: pd.DataFrame, flow_key: str = "MMICD", version: str = "1.0", *, lang: str = "en",
             scopes: Mapping[int, str] | None = None) -> str:
    """The rows of ``table`` that belong to the dataflow ``flow_key`` (``SDG`` or ``MMICD``) as SDMX-CSV
    ``version`` (``1.0`` or ``2.0``)."""
    if flow_key not in FLOWS:
        raise ValueError(f"unknown dataflow '{flow_key}' (use {', '.join(FLOWS)})")
    return csv_text(frames(table, lang, scopes)[flow_key], flow_key, version)


def sdmx_zip(table: pd.DataFrame, version: str = "1.0", *, lang: str = "en", stem: str = "data",
             scopes: Mapping[int, str] | None = None) -> bytes:
    """A zip holding the table as SDMX-CSV ``version``, one file per dataflow that has rows
    (``<stem>_SDG.csv``, ``<stem>_MMICD.csv``), and ``structure.xml``, the structure message both refer to."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, frame in frames(table, lang, scopes).items():
            if len(frame):
                zf.writestr(f"{stem}_{key}.csv", csv_text(frame, key, version))
        zf.writestr("structure.xml", structure_message())
    return buffer.getvalue()
