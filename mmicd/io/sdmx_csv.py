"""SDMX-CSV read natively: version 1.0 (``DATAFLOW`` first) and 2.0 (``STRUCTURE,STRUCTURE_ID,ACTION``),
with codes only or "labels both" (a label column after each code column, or ``CODE: Label`` values).

Dimensions map onto the canonical ones by their SDMX ids (``REF_AREA``, ``COUNTERPART_AREA``,
``CITIZENSHIP``, ``BIRTH_PLACE``, ``SEX``, ``AGE``, ``TIME_PERIOD``, ``COMPOSITE_BREAKDOWN``, SDG
``SERIES`` and the publisher's ``MEASURE``/``INDICATOR``); ``OBS_VALUE`` is the value, ``UNIT_MULT``
its multiplier, ``OBS_STATUS`` its status. Rows of a dimension the project does not hold, at a value
other than a total (``_T``, ``_Z``), are left out and said, never added up.
"""

from __future__ import annotations

import re

import pandas as pd

from mmicd import codes
from mmicd.io.layouts import Raw, read_table
from mmicd.io.read import Book, cell_text

AREA_TOTALS = {"W", "W0", "_T", "_Z", "TOTAL", "WLD", "ALL"}
TOTALS = {"_T", "_Z", "T", "TOTAL", "_X"}
IGNORED = {"FREQ", "DECIMALS", "UNIT_MEASURE", "ACTION", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "DATAFLOW",
           "OBS_VALUE", "OBS_STATUS", "UNIT_MULT", "TIME_PERIOD", "REPORTING_TYPE", "NATURE", "SOURCE_DETAIL",
           "COMMENT_OBS", "BASE_PER", "TIME_FORMAT", "OBS_CONF", "CONF_STATUS", "TIME_COVERAGE", "UPPER_BOUND",
           "LOWER_BOUND", "COMMENT_TS"}
DIMENSION_OF = {"REF_AREA": "ref_area", "GEO": "ref_area", "COUNTERPART_AREA": "counterpart_area",
                "CITIZENSHIP": "counterpart_area", "BIRTH_PLACE": "counterpart_area", "COUNTRY_OF_BIRTH": "counterpart_area",
                "NATIONALITY": "counterpart_area", "SEX": "sex", "AGE": "age", "COMPOSITE_BREAKDOWN": "migrant_status",
                "MIGRANT_STATUS": "migrant_status", "LABOUR_STATUS": "labour_status"}
MEASURE_IDS = ("SERIES", "MEASURE", "INDICATOR", "SUBJECT")


def is_sdmx_csv(headers: list[str]) -> str | None:
    """'1.0' or '2.0' when the header row is an SDMX-CSV header."""
    first = [h.strip().upper().split(":")[0] for h in headers[:3]]
    if first[:1] == ["DATAFLOW"]:
        return "1.0"
    if first[:2] == ["STRUCTURE", "STRUCTURE_ID"]:
        return "2.0"
    return None


def read(book: Book) -> list[Raw]:
    if book.ftype != "csv":
        return []
    head = book.grid("", 1)
    headers = [cell_text(c) for c in head[0]] if head else []
    version = is_sdmx_csv(headers)
    if version is None:
        return []
    src, headers = read_table(book, "", 0)
    # "labels both" in 2.0: a column of labels after each code column ("REF_AREA", "Reference area")
    ids = {}
    for h in headers:
        code = h.split(":")[0].strip()
        if re.fullmatch(r"[A-Z][A-Z0-9_]*", code):
            ids[code] = h
    problems: list[tuple[str, str, dict]] = []
    out = pd.DataFrame({"_row": src["_row"]})

    def codes_of(column: str) -> pd.Series:
        values = src[column].astype("string").fillna("").str.strip()
        return values.str.split(":", n=1).str[0].str.strip()          # "DEU: Germany" -> "DEU"

    from mmicd.clean.mapping import age_code, measure_codes

    if "OBS_VALUE" not in ids or "TIME_PERIOD" not in ids:
        return []
    out["value"] = src[ids["OBS_VALUE"]]
    out["time_period"] = codes_of(ids["TIME_PERIOD"])
    out["_cno"] = headers.index(ids["OBS_VALUE"])
    out["_col"] = "OBS_VALUE"
    out["unit_mult"] = pd.to_numeric(codes_of(ids["UNIT_MULT"]), errors="coerce").fillna(0).astype(int) \
        if "UNIT_MULT" in ids else 0
    out["_status"] = codes_of(ids["OBS_STATUS"]) if "OBS_STATUS" in ids else ""
    for dim in ("sex", "age", "migrant_status", "labour_status", "counterpart_area"):
        out[dim] = codes.TOTAL
    keep = pd.Series(True, index=src.index)
    measure_col = next((ids[m] for m in MEASURE_IDS if m in ids), None)
    if measure_col is None:
        return []
    measures = codes_of(measure_col)
    found = {m: measure_codes().get(m) for m in measures.unique()}
    unknown = sorted(m for m, f in found.items() if f is None)
    if unknown:
        problems.append(("info", "unused_series", {"column": measure_col, "value": ", ".join(unknown[:20]),
                                                   "n": len(unknown)}))
    keep &= measures.map(lambda m: found.get(m) is not None)
    out["measure"] = measures.map(lambda m: (found.get(m) or {}).get("measure", m))
    fixed_ms = measures.map(lambda m: (found.get(m) or {}).get("migrant_status"))
    for sdmx_id, column in ids.items():
        if sdmx_id in IGNORED or sdmx_id == measure_col.split(":")[0] or sdmx_id in MEASURE_IDS:
            continue
        dim = DIMENSION_OF.get(sdmx_id)
        values = codes_of(column)
        if dim is None:
            # a dimension the project does not hold: only its totals are read
            other = ~values.str.upper().isin(TOTALS) & (values != "")
            if other.any() and _is_dimension(values):
                problems.append(("info", "sdmx_other_dimension", {"column": sdmx_id, "n": int(other.sum()),
                                                                  "value": ", ".join(sorted(set(values[other]))[:10])}))
                keep &= ~other
            continue
        if dim in ("ref_area", "counterpart_area"):
            upper = values.str.upper()
            totals = AREA_TOTALS if dim == "counterpart_area" else set()
            mapped = upper.map(lambda v, totals=totals: codes.TOTAL if v in totals else (codes.resolve_area(v) or v))
            if dim == "counterpart_area":
                # several origin dimensions (citizenship, birth place): the one that is not a total
                out[dim] = out[dim].where(mapped == codes.TOTAL, mapped)
            else:
                out[dim] = mapped
        elif dim == "sex":
            out[dim] = values.str.replace("SEX_", "", regex=False).replace({"T": codes.TOTAL, "O": codes.UNKNOWN})
        elif dim == "age":
            out[dim] = values.map(lambda v: age_code(v) or (codes.TOTAL if v in TOTALS else v))
        else:
            out[dim] = values.where(~values.isin(TOTALS), codes.TOTAL)
    out["migrant_status"] = fixed_ms.fillna(out["migrant_status"]).where(out["migrant_status"] == codes.TOTAL,
                                                                           out["migrant_status"])
    if "REF_AREA" not in ids:
        return []
    out["breakdown"] = codes.TOTAL
    out["_sheet"] = ""
    out["_part"] = False
    out["_unit"] = ""
    out["_basis"] = ""
    out["_tidy"] = True
    frame = out[keep].reset_index(drop=True)
    dataflow = cell_text(src[headers[1 if version == "2.0" else 0]].iloc[0]) if len(src) else ""
    raw = Raw(layout=f"sdmx_csv_{version}", sheet=None, frame=frame,
              columns={"ref_area": ids["REF_AREA"], "value": ids["OBS_VALUE"], "time_period": ids["TIME_PERIOD"]},
              source_columns=headers, coded=True, parsed=False, header_row=1,
              defaults={"source": _source(dataflow), "edition": _edition(dataflow), "title": dataflow,
                        "decimal": "."})
    raw.problems = problems
    return [raw]


def _is_dimension(values: pd.Series) -> bool:
    return values.str.fullmatch(r"[A-Z0-9_]{1,20}").fillna(False).mean() > 0.9


def _source(dataflow: str) -> str:
    agency = dataflow.split(":")[0] if ":" in dataflow else ""
    name = {"OECD.ELS.IMD": "OECD, International Migration Database", "IAEG-SDGs": "UN, SDG Global Database",
            "ESTAT": "Eurostat", "ILO": "ILO, ILOSTAT"}.get(agency)
    return name or (f"SDMX {dataflow}" if dataflow else "SDMX")


def _edition(dataflow: str) -> str:
    """SDMX-CSV carries the structure's version, not the data's edition: none is claimed."""
    return ""
