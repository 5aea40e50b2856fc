"""The indicator table as CSV or JSON with a Frictionless data package (its metadata in the three
languages), and as SDMX-CSV 1.0 or 2.0 with its structure message (:mod:`mmicd.sdmx`).

Every export carries, beside each survey estimate, the ``design`` its standard error rests on and,
when strata or PSUs are missing, the translated note saying what that means (``design_note``; in
SDMX-CSV the attributes ``SURVEY_DESIGN`` and ``COMMENT_OBS``). CSV text cells are safe for a spreadsheet
(:mod:`mmicd.safe_export`: never run as a formula); JSON carries the text as it is."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd

from mmicd import safe_export
from mmicd.engine.periods import NOTES
from mmicd.engine.registry import OUTPUT_COLUMNS, RULES
from mmicd.engine.survey import INCOMPLETE
from mmicd.i18n import t

FORMATS = ("csv", "csv-package", "json", "sdmx-csv", "sdmx-csv-2.0", "sdmx-structure")
SDMX_VERSIONS = {"sdmx-csv": "1.0", "sdmx-csv-2.0": "2.0"}
INTEGER_COLUMNS = ("unit_mult", "n_obs", "dataset_id")
NUMBER_COLUMNS = ("value", "se", "ci_lower", "ci_upper", "cv")
_UNIT, _DESIGN = OUTPUT_COLUMNS.index("unit") + 1, OUTPUT_COLUMNS.index("design") + 1
# the output columns, the unit's SDMX code and multiplier after ``unit``, ``design_note`` after ``design``
EXPORT_COLUMNS = [*OUTPUT_COLUMNS[:_UNIT], "unit_measure", "unit_mult", *OUTPUT_COLUMNS[_UNIT:_DESIGN], "design_note",
                  *OUTPUT_COLUMNS[_DESIGN:]]


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
    """The export columns (:data:`EXPORT_COLUMNS`): the output columns, the unit as an SDMX code
    (``NUMBER``, ``PT``, ``USD``…) with its multiplier (0: values are in units), ``design_note``;
    counts and ids as integers, ``n_obs`` blank where the value is suppressed (``Q``: the count is
    confidential too)."""
    from mmicd.sdmx.structure import unit_codes

    out = table[OUTPUT_COLUMNS].copy()
    out["unit_measure"] = out["unit"].map(unit_codes()).astype("string").fillna("")
    out["unit_mult"] = 0
    out["design_note"] = out["design"].map({d: design_note(d, lang) for d in INCOMPLETE}).astype("string").fillna("")
    for col in INTEGER_COLUMNS:
        out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
    out.loc[out["obs_status"] == "Q", "n_obs"] = pd.NA
    return out[EXPORT_COLUMNS]


def to_csv(table: pd.DataFrame, lang: str = "en") -> str:
    return safe_export.to_csv(with_notes(table, lang), lineterminator="\n")


def _clean(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def records(table: pd.DataFrame, lang: str = "en") -> list[dict]:
    """The rows as JSON objects; empty cells are null."""
    rows = [{c: _clean(v) for c, v in zip(EXPORT_COLUMNS, r, strict=True)}
            for r in with_notes(table, lang).astype(object).itertuples(index=False, name=None)]
    for row in rows:
        row["design_note"] = row["design_note"] or None
    return rows


def to_json(table: pd.DataFrame, lang: str = "en", versions: Mapping[int, object] | None = None) -> str:
    """A Frictionless data package (``datapackage.json``) holding the rows inline, with their metadata."""
    return json.dumps(datapackage(table, lang, versions, inline=True), ensure_ascii=False, indent=1)


def field_type(column: str) -> str:
    return "integer" if column in INTEGER_COLUMNS else "number" if column in NUMBER_COLUMNS else "string"


def datapackage(table: pd.DataFrame, lang: str = "en", versions: Mapping[int, object] | None = None, *,
                inline: bool = False, created: datetime | None = None) -> dict:
    """The Frictionless data package describing the export: its columns (types, titles and descriptions
    in the three languages), the indicators (definitions, unit as SDMX code and multiplier, SDG series),
    the sources and editions, the licences (of the dataset versions in ``versions``) and when it was made.
    ``inline``: the rows are in the package (JSON export); otherwise they are ``indicators.csv`` beside it."""
    from mmicd.engine import catalogue
    from mmicd.sdmx import edition_text
    from mmicd.sdmx.structure import LANGS, unit_codes

    known = catalogue()
    versions = versions or {}
    fields = [{"name": c, "type": field_type(c), "title": t(f"sdmx.field.{c}", lang),
               "description": t(f"sdmx.field.{c}.about", lang),
               "mmicd:titles": {g: t(f"sdmx.field.{c}", g) for g in LANGS}} for c in EXPORT_COLUMNS]
    used = [i for i in dict.fromkeys(table["indicator"]) if i in known]
    indicators = [{
        "id": i, "name": {g: known[i].name.get(g) for g in LANGS},
        "definition": {g: known[i].definition.get(g) for g in LANGS},
        "unit": known[i].unit, "unit_measure": unit_codes()[known[i].unit], "unit_mult": 0,
        "sdg_indicator": known[i].sdg, "sdg_series": known[i].series} for i in used]
    pairs = table[["source", "edition"]].drop_duplicates()
    sources = [{"title": s, "version": edition_text(e)} for s, e in pairs.itertuples(index=False, name=None)]
    licences = sorted({getattr(v, "licence", "") for v in versions.values()} - {""})
    resource = {"name": "indicators", "profile": "tabular-data-resource",
                "title": t("sdmx.dp.resource", lang),
                "schema": {"fields": fields, "missingValues": [""],
                           "primaryKey": ["indicator", "ref_area", "time_period", "sex", "age", "migrant_status",
                                          "counterpart_area", "source", "edition"]}}
    if inline:
        resource |= {"format": "json", "data": records(table, lang)}
    else:
        resource |= {"path": "indicators.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"}
    return {
        "profile": "tabular-data-package", "name": "mmicd-indicators", "title": t("sdmx.dp.title", lang),
        "mmicd:titles": {g: t("sdmx.dp.title", g) for g in LANGS},
        "created": (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licenses": [{"title": x} for x in licences] or [{"title": t("sdmx.dp.licence_unknown", lang)}],
        "sources": sources, "mmicd:indicators": indicators, "resources": [resource],
    }


def csv_package(table: pd.DataFrame, lang: str = "en", versions: Mapping[int, object] | None = None) -> bytes:
    """A zip of ``indicators.csv`` and its ``datapackage.json``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("indicators.csv", to_csv(table, lang))
        zf.writestr("datapackage.json", json.dumps(datapackage(table, lang, versions), ensure_ascii=False, indent=1))
    return buffer.getvalue()


def versions_of(store, table: pd.DataFrame) -> dict[int, object]:
    """The dataset versions of the table's rows, by id (their scope and licence go into the exports)."""
    ids = {int(d) for d in pd.to_numeric(table["dataset_id"], errors="coerce").dropna().unique()}
    return {v.id: v for v in store.datasets() if v.id in ids}


def export(table: pd.DataFrame, fmt: str, lang: str = "en", versions: Mapping[int, object] | None = None) -> str | bytes:
    """The table in ``fmt``: ``csv`` (text), ``csv-package`` (zip: the CSV and its ``datapackage.json``),
    ``json`` (a data package with the rows inline), ``sdmx-csv`` / ``sdmx-csv-2.0`` (zip: SDMX-CSV 1.0 or
    2.0, one file per dataflow, and the structure message), ``sdmx-structure`` (the SDMX-ML 2.1 structure
    message alone). ``versions``: the rows' dataset versions by id (:func:`versions_of`), for the
    licences and the reporting type (national or global)."""
    from mmicd.sdmx import sdmx_zip, structure_message

    scopes = {i: v.scope for i, v in (versions or {}).items()}
    if fmt == "csv":
        return to_csv(table, lang)
    if fmt == "csv-package":
        return csv_package(table, lang, versions)
    if fmt == "json":
        return to_json(table, lang, versions)
    if fmt in SDMX_VERSIONS:
        return sdmx_zip(table, SDMX_VERSIONS[fmt], lang=lang, scopes=scopes)
    if fmt == "sdmx-structure":
        return structure_message()
    raise ValueError(f"unknown format '{fmt}' (use {', '.join(FORMATS)})")
