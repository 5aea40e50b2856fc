"""The indicator table as CSV, JSON and SDMX-CSV (SDG dimension names, REF_AREA as M49).

Every export carries, beside each survey estimate, the ``design`` its standard error rests on and,
when strata or PSUs are missing, the translated note saying what that means (``design_note``; in
SDMX-CSV the attributes ``SURVEY_DESIGN`` and ``COMMENT_OBS``). CSV text cells are safe for a spreadsheet
(:mod:`mmicd.safe_export`: never run as a formula); JSON carries the text as it is."""

from __future__ import annotations

import json
import math
import re

import pandas as pd

from mmicd import codes, safe_export
from mmicd.engine.periods import NOTES
from mmicd.engine.registry import OUTPUT_COLUMNS, RULES
from mmicd.engine.survey import INCOMPLETE
from mmicd.i18n import t

FORMATS = ("csv", "json", "sdmx-csv")
DATAFLOW = "MMICD:DF_MIGRATION_INDICATORS(1.0)"
SDMX_UNITS = {"persons": "PS", "percent": "PT", "usd": "CU_USD", "years": "YR", "percent_per_year": "PT",
              "per_1000": "PER_1000_POP", "per_100000": "PER_100000_POP"}
EXPORT_COLUMNS = [*OUTPUT_COLUMNS[:OUTPUT_COLUMNS.index("design") + 1], "design_note",
                  *OUTPUT_COLUMNS[OUTPUT_COLUMNS.index("design") + 1:]]


def note_text(note: object, lang: str = "en") -> str:
    """The ``note`` of an output row in ``lang``: how an annual value was derived, which version gave
    the denominator (parts separated by '; '; an unknown part is kept as it is)."""
    if not isinstance(note, str) or not note:
        return ""
    annual = {text: f"ind.note.{kind}_{freq}" for (kind, freq), text in NOTES.items()}
    rules = {text: f"ind.note.rule.{rank}" for rank, text in RULES.items()}
    out = []
    for part in note.split("; "):
        found = re.fullmatch(r"denominator: dataset #(\d+) \((.+)\)", part)
        if part in annual:
            out.append(t(annual[part], lang))
        elif found and found[2] in rules:
            out.append(t("ind.note.denominator", lang, id=found[1], rule=t(rules[found[2]], lang)))
        else:
            out.append(part)
    return "; ".join(out)


def denominator_ids(notes) -> set[int]:
    """The dataset versions that gave denominators, named in output rows' ``note``."""
    found = set()
    for note in notes:
        if isinstance(note, str) and note:
            found |= {int(m) for m in re.findall(r"denominator: dataset #(\d+) \(", note)}
    return found


def design_note(design: object, lang: str = "en") -> str:
    """What an incomplete survey design means for the standard errors ('' for a full design or a table)."""
    return t(f"ind.design.note.{design}", lang) if isinstance(design, str) and design in INCOMPLETE else ""


def design_notes(table: pd.DataFrame, lang: str = "en") -> list[str]:
    """One note per incomplete design among the table's survey estimates; when it does not hold for
    every survey period shown, the note names its periods."""
    if "design" not in table or table.empty:
        return []
    survey = table.loc[table["design"].notna(), ["design", "time_period"]].astype(str)
    periods = sorted(set(survey["time_period"]))
    out = []
    for design in [d for d in INCOMPLETE if d in set(survey["design"])]:
        own = sorted(set(survey.loc[survey["design"] == design, "time_period"]))
        note = design_note(design, lang)
        out.append(note if own == periods else t("ind.design.periods", lang, periods=", ".join(own), note=note))
    return out


def with_notes(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The output columns plus ``design_note`` (after ``design``)."""
    out = table[OUTPUT_COLUMNS].copy()
    notes = {d: design_note(d, lang) for d in INCOMPLETE}
    out.insert(OUTPUT_COLUMNS.index("design") + 1, "design_note",
               out["design"].map(notes).astype("string").fillna(""))
    return out


def to_csv(table: pd.DataFrame, lang: str = "en") -> str:
    return safe_export.to_csv(with_notes(table, lang), lineterminator="\n")


def _clean(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def to_json(table: pd.DataFrame, lang: str = "en") -> str:
    """A JSON array of row objects; empty cells are null."""
    rows = [{c: _clean(v) for c, v in zip(EXPORT_COLUMNS, r, strict=True)}
            for r in with_notes(table, lang).itertuples(index=False, name=None)]
    for row in rows:
        row["design_note"] = row["design_note"] or None
    return json.dumps(rows, ensure_ascii=False, indent=1)


def m49(code: str) -> str:
    """UN M49 numeric code of an area (three digits for countries); the code itself if none."""
    areas = codes.areas()
    if code in areas.index and areas.at[code, "m49"]:
        value = areas.at[code, "m49"]
        return value.zfill(3) if value.isdigit() else value
    return code


def to_sdmx(table: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
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
        "SURVEY_DESIGN": table["design"].fillna(""),
        "COMMENT_OBS": table["design"].map(lambda d: design_note(d, lang)),
    })
    return out


def to_sdmx_csv(table: pd.DataFrame, lang: str = "en") -> str:
    return safe_export.to_csv(to_sdmx(table, lang), lineterminator="\n")


def export(table: pd.DataFrame, fmt: str, lang: str = "en") -> str:
    """The table in ``fmt``; the design notes in ``lang``."""
    if fmt == "csv":
        return to_csv(table, lang)
    if fmt == "json":
        return to_json(table, lang)
    if fmt == "sdmx-csv":
        return to_sdmx_csv(table, lang)
    raise ValueError(f"unknown format '{fmt}' (use {', '.join(FORMATS)})")
