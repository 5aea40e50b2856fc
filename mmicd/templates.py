"""Downloadable Excel templates, one per kind of upload, in English, French and Spanish.

A template is an xlsx workbook with

- a sheet ``data`` whose row 1 holds the canonical column ids and whose data start in row 2, with
  drop-down lists (data validation) on every code column;
- a translated instructions sheet: what each column means, which codes are allowed, the units;
- a sheet ``codes`` with the allowed codes and their labels in the template's language (it feeds
  the drop-down lists);
- a hidden sheet ``_mmicd`` with A1 = ``mmicd-template``, A2 = the kind as stored (``census``, ``migrant_stock``,
  ``remittances``, ``lfs``, ``migration_flows``, ``refugees``, ``labour_migration``, ``border_movements``),
  A3 = the template version, A4 = the language, by which the ingestion recognises a template (layout
  ``template``). Rows whose measure is of another kind (the ``returns`` template: returned migrants
  are migration flows, returned refugees refugees) are stored as a dataset of that kind.

Administrative templates (flows, refugees and asylum, returns, labour migration, border movements)
have a ``measure`` column with the measures of their kind and, where the source classifies its
figures, a ``breakdown`` column (``TYPE:CODE`` of ``data/codelists/breakdown.csv``).

:func:`build_template` also fills the ``data`` sheet when given a frame (the demo data are filled
templates, and the tests fill every template to check that it loads without any issue).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from mmicd import codes
from mmicd.config import LANGUAGES
from mmicd.i18n import t
from mmicd.model import MICRODATA_COLUMNS
from mmicd.safe_export import protect_cell, protect_sheet

MARKER = "mmicd-template"
TEMPLATE_VERSION = "1"
DATA_SHEET = "data"
CODES_SHEET = "codes"
META_SHEET = "_mmicd"
MAX_ROW = 1_048_576  # drop-downs cover the whole column

# ``subdivision`` (last: optional): a province, district ... of the country (ISO 3166-2 code or name;
# blank: the whole country), placed by mmicd/clean/local_areas.py
OBS_TEMPLATE_COLUMNS = ["ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area", "value",
                        "obs_status", "subdivision"]
COLUMNS: dict[str, list[str]] = {
    "census": OBS_TEMPLATE_COLUMNS,
    "stocks": OBS_TEMPLATE_COLUMNS,
    "remittances": ["ref_area", "time_period", "measure", "counterpart_area", "value", "unit_mult", "obs_status"],
    "lfs": [*MICRODATA_COLUMNS, "subdivision"],
    # administrative data: flows by criterion (breakdown) and coverage (migrant_status: citizens/foreigners)
    "flows": ["ref_area", "time_period", "measure", "sex", "age", "migrant_status", "counterpart_area", "breakdown",
              "value", "obs_status"],
    "refugees": ["ref_area", "time_period", "measure", "sex", "age", "counterpart_area", "breakdown", "value",
                 "obs_status"],
    "returns": ["ref_area", "time_period", "measure", "sex", "age", "counterpart_area", "value", "obs_status",
                "subdivision"],
    # by destination and sex; no occupation: the project has no occupation code list (ISCO) yet
    "labour": ["ref_area", "time_period", "measure", "sex", "age", "counterpart_area", "breakdown", "value",
               "obs_status"],
    "border": ["ref_area", "time_period", "measure", "sex", "migrant_status", "counterpart_area", "breakdown", "value",
               "obs_status"],
}
TEMPLATE_KINDS = tuple(COLUMNS)
# the kind as stored (mmicd.model.Kind), written in the marker sheet (rows of a measure of another kind
# are stored under the measure's kind: data/codelists/measure.csv, column kind)
STORED_KIND = {"census": "census", "stocks": "migrant_stock", "remittances": "remittances", "lfs": "lfs",
               "flows": "migration_flows", "refugees": "refugees", "returns": "migration_flows",
               "labour": "labour_migration", "border": "border_movements"}
# columns a row cannot do without (the others default: _T for a total, A for a normal value, ...)
REQUIRED: dict[str, set[str]] = {
    "census": {"ref_area", "time_period", "value"},
    "stocks": {"ref_area", "time_period", "counterpart_area", "value"},
    "remittances": {"ref_area", "time_period", "measure", "value"},
    "lfs": {"ref_area", "time_period", "sex", "age", "migrant_status", "labour_status", "weight"},
    "flows": {"ref_area", "time_period", "measure", "value"},
    "refugees": {"ref_area", "time_period", "measure", "value"},
    "returns": {"ref_area", "time_period", "measure", "value"},
    "labour": {"ref_area", "time_period", "measure", "value"},
    "border": {"ref_area", "time_period", "measure", "value"},
}
REMITTANCE_MEASURES = ("REM_IN", "REM_OUT", "GDP", "REM_COST")
# the measures each template offers (codes of data/codelists/measure.csv)
MEASURES: dict[str, tuple[str, ...]] = {
    "remittances": REMITTANCE_MEASURES,
    "flows": ("IMM", "EMI"),
    "refugees": ("REFUG", "ASY_SEEK", "ASY_APP", "ASY_DEC", "RESETTLE", "RET_REFUG"),
    "returns": ("RET_MIG", "RET_REFUG"),
    "labour": ("DEPLOY", "PERMIT"),
    "border": ("ARR", "DEP"),
}
# the source classifications each template lists (TYPE:CODE of data/codelists/breakdown.csv; others,
# combinations joined by "+" and open types such as POE:<name> are accepted too)
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "flows": ("_T", "CRITERION:RESIDENCE", "CRITERION:CITIZENSHIP", "CRITERION:BIRTH"),
    "refugees": ("_T", "OUTCOME:REC", "OUTCOME:COMP", "OUTCOME:REJ", "OUTCOME:CLOSED"),
    "border": ("_T", "RESIDENCE:RES", "RESIDENCE:NONRES"),
    "labour": ("_T", *(f"OCCUPATION:{c}" for c in "1234567890")),
}
UNIT_MULTS = ("0", "3", "6", "9")

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


class TemplateError(ValueError):
    """An unknown kind or language was asked for."""


@dataclass(frozen=True)
class CodeList:
    """The codes one column accepts, as listed on the ``codes`` sheet."""

    column: str
    codes: list[str]

    def labels(self, lang: str) -> list[str]:
        if self.column in ("ref_area", "counterpart_area"):
            return [t("upload.tpl.code_total_area", lang) if c == codes.TOTAL else codes.area_name(c, lang)
                    for c in self.codes]
        if self.column == "unit_mult":
            return [t(f"upload.tpl.unit_mult.{c}", lang) for c in self.codes]
        if self.column == "breakdown":
            return [breakdown_label(c, lang) for c in self.codes]
        return [codes.label(_LISTS[self.column], c, lang) for c in self.codes]


def breakdown_label(code: str, lang: str, with_type: bool = True) -> str:
    """``OUTCOME:REC`` -> "Outcome of the asylum decision: Recognised (refugee status)" in ``lang``
    (without the type's name: "Recognised (refugee status)")."""
    if code == codes.TOTAL:
        return t("upload.tpl.code_total_breakdown", lang)
    table = pd.read_csv(codes.CODELIST_DIR / "breakdown.csv", dtype=str, keep_default_na=False)
    names = {(r.type, r.code): getattr(r, f"name_{lang}") or r.name_en for r in table.itertuples(index=False)}
    return "; ".join((f"{names.get((btype, ''), btype)}: " if with_type else "") + names.get((btype, value), value)
                     for btype, value in (part.split(":", 1) for part in code.split("+")))


_LISTS = {"sex": "sex", "age": "age", "migrant_status": "migrant_status", "labour_status": "labour_status",
          "obs_status": "obs_status", "measure": "measure"}


def _code_lists(kind: str, lang: str) -> list[CodeList]:
    """The code lists of a kind's code columns, in the order of its columns."""
    countries = sorted(codes.country_codes(), key=lambda c: codes.normalise_name(codes.area_name(c, lang)))
    lists: list[CodeList] = []
    for col in COLUMNS[kind]:
        if col == "ref_area":
            lists.append(CodeList(col, countries))
        elif col == "counterpart_area":
            lists.append(CodeList(col, [codes.TOTAL, "OOO", *countries]))
        elif col == "sex":
            keep = ["F", "M", "_U"] if kind == "lfs" else ["_T", "F", "M", "_U"]
            lists.append(CodeList(col, keep))
        elif col == "age" and kind != "lfs":
            lists.append(CodeList(col, codes.codelist("age")["code"].tolist()))
        elif col in ("migrant_status", "labour_status"):
            keep = [c for c in codes.codelist(col)["code"] if kind != "lfs" or c != codes.TOTAL]
            lists.append(CodeList(col, keep))
        elif col == "obs_status":
            lists.append(CodeList(col, codes.codelist("obs_status")["code"].tolist()))
        elif col == "measure":
            known = codes.codes("measure")
            lists.append(CodeList(col, [m for m in MEASURES[kind] if m in known]))
        elif col == "breakdown":
            lists.append(CodeList(col, [b for b in BREAKDOWNS[kind] if codes.breakdown_ok(b)]))
        elif col == "unit_mult":
            lists.append(CodeList(col, list(UNIT_MULTS)))
    return lists


def template_filename(kind: str, lang: str) -> str:
    return f"mmicd-template-{kind}-{lang}.xlsx"


def _check(kind: str, lang: str) -> None:
    if kind not in COLUMNS:
        raise TemplateError(t("upload.tpl.unknown_kind", lang if lang in LANGUAGES else "en", kind=kind,
                              kinds=", ".join(TEMPLATE_KINDS)))
    if lang not in LANGUAGES:
        raise TemplateError(t("upload.tpl.unknown_lang", "en", lang=lang, langs=", ".join(LANGUAGES)))


def build_template(kind: str, lang: str = "en", data: pd.DataFrame | None = None, *, notes: str = "") -> bytes:
    """The template of ``kind`` in ``lang`` as xlsx bytes; filled with ``data`` when given.

    ``data`` must have the template's columns (missing optional columns are left blank); ``notes``
    is written at the top of the instructions sheet (the demo data say there that they are synthetic).
    """
    _check(kind, lang)
    columns = COLUMNS[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    instructions = wb.create_sheet(t("upload.tpl.sheet_instructions", lang))
    code_sheet = wb.create_sheet(CODES_SHEET)
    meta = wb.create_sheet(META_SHEET)

    # --- data sheet: canonical ids in row 1, a translated comment on each -------------------------
    for j, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value=col)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        comment = Comment(t(f"upload.tpl.{kind}.{col}", lang), "mmicd")
        comment.width, comment.height = 320, 120
        cell.comment = comment
        ws.column_dimensions[get_column_letter(j)].width = max(14, len(col) + 4)
    ws.freeze_panes = "A2"

    # --- codes sheet and drop-downs --------------------------------------------------------------
    lists = _code_lists(kind, lang)
    for n, code_list in enumerate(lists):
        code_col, label_col = 2 * n + 1, 2 * n + 2
        head = code_sheet.cell(row=1, column=code_col, value=code_list.column)
        head.font = BOLD
        head.fill = HEADER_FILL
        lab = code_sheet.cell(row=1, column=label_col, value=t("upload.tpl.label", lang))
        lab.font = BOLD
        lab.fill = HEADER_FILL
        for i, (code, text) in enumerate(zip(code_list.codes, code_list.labels(lang), strict=True), start=2):
            code_sheet.cell(row=i, column=code_col, value=code)
            code_sheet.cell(row=i, column=label_col, value=text)
        code_sheet.column_dimensions[get_column_letter(code_col)].width = 16
        code_sheet.column_dimensions[get_column_letter(label_col)].width = 36
        letter = get_column_letter(code_col)
        target = get_column_letter(columns.index(code_list.column) + 1)
        dv = DataValidation(
            type="list",
            formula1=f"{CODES_SHEET}!${letter}$2:${letter}${len(code_list.codes) + 1}",
            allow_blank=True,
            # a warning, not a stop: names and labels in EN/FR/ES are accepted too
            errorStyle="warning",
            showErrorMessage=True,
            errorTitle=t("upload.tpl.dv_error_title", lang),
            error=t("upload.tpl.dv_error", lang, sheet=CODES_SHEET),
            promptTitle=code_list.column,
            prompt=t("upload.tpl.dv_prompt", lang, sheet=CODES_SHEET),
            showInputMessage=True,
        )
        dv.add(f"{target}2:{target}{MAX_ROW}")
        ws.add_data_validation(dv)
    code_sheet.freeze_panes = "A2"
    _number_validations(ws, kind, columns, lang)

    # --- instructions ----------------------------------------------------------------------------
    _write_instructions(instructions, kind, lang, columns, notes)

    # --- marker sheet ----------------------------------------------------------------------------
    for row, value in enumerate((MARKER, STORED_KIND[kind], TEMPLATE_VERSION, lang), start=1):
        meta.cell(row=row, column=1, value=value)
    meta.sheet_state = "hidden"

    if data is not None:
        _fill(ws, columns, data)
    wb.active = 0
    wb.properties.title = t(f"upload.tpl.{kind}.title", lang)
    wb.properties.creator = "mmicd"
    wb.properties.created = wb.properties.modified = datetime(2026, 1, 1)  # byte-stable output
    protect_sheet(ws)  # the data filled in: text a spreadsheet would run is a quoted string cell
    buffer = io.BytesIO()
    wb.save(buffer)
    return _stable(buffer.getvalue())


_FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def _stable(data: bytes) -> bytes:
    """The same workbook always gives the same bytes (fixed zip and document timestamps), so that
    rebuilding the demo data changes nothing and its sha256 is stable."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2026-01-01T00:00:00Z\g<2>", body)
            dst.writestr(zipfile.ZipInfo(info.filename, _FIXED_TIME), body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _number_validations(ws, kind: str, columns: list[str], lang: str) -> None:
    """Whole ages 0-130 (microdata), positive weights and non-negative values."""
    checks = []
    if kind == "lfs":
        checks.append(("age", DataValidation(type="whole", operator="between", formula1="0", formula2="130")))
        checks.append(("weight", DataValidation(type="decimal", operator="greaterThan", formula1="0")))
    elif "value" in columns:
        checks.append(("value", DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")))
    for col, dv in checks:
        dv.allow_blank = True
        dv.showErrorMessage = True
        dv.errorStyle = "stop"
        dv.errorTitle = t("upload.tpl.dv_error_title", lang)
        dv.error = t(f"upload.tpl.{kind}.{col}", lang)
        letter = get_column_letter(columns.index(col) + 1)
        dv.add(f"{letter}2:{letter}{MAX_ROW}")
        ws.add_data_validation(dv)


def _write_instructions(ws, kind: str, lang: str, columns: list[str], notes: str) -> None:
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 70
    ws.column_dimensions["C"].width = 46
    ws.column_dimensions["D"].width = 12
    row = 1
    ws.cell(row=row, column=1, value=t(f"upload.tpl.{kind}.title", lang)).font = TITLE_FONT
    row += 1
    if notes:
        cell = ws.cell(row=row, column=1, value=notes)
        cell.font = Font(bold=True, color="C00000")
        protect_cell(cell)
        row += 1
    ws.cell(row=row, column=1, value=t(f"upload.tpl.{kind}.purpose", lang)).alignment = Alignment(wrap_text=False)
    row += 2
    heads = ("upload.tpl.head_column", "upload.tpl.head_meaning", "upload.tpl.head_allowed",
             "upload.tpl.head_required")
    for j, key in enumerate(heads, start=1):
        cell = ws.cell(row=row, column=j, value=t(key, lang))
        cell.font = BOLD
        cell.fill = HEADER_FILL
    row += 1
    coded = {cl.column for cl in _code_lists(kind, lang)}
    for col in columns:
        ws.cell(row=row, column=1, value=col).font = BOLD
        ws.cell(row=row, column=2, value=t(f"upload.tpl.{kind}.{col}", lang)).alignment = WRAP
        ws.cell(row=row, column=3, value=_allowed(kind, col, coded, lang)).alignment = WRAP
        required = "upload.tpl.required_yes" if col in REQUIRED[kind] else "upload.tpl.required_no"
        ws.cell(row=row, column=4, value=t(required, lang)).alignment = WRAP
        row += 1
    row += 1
    ws.cell(row=row, column=1, value=t("upload.tpl.rules_title", lang)).font = BOLD
    row += 1
    for key in _rules(kind):
        ws.cell(row=row, column=1, value="•")
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
        cell = ws.cell(row=row, column=2, value=t(key, lang))
        cell.alignment = WRAP
        ws.row_dimensions[row].height = 32
        row += 1
    ws.freeze_panes = None


def _allowed(kind: str, col: str, coded: set[str], lang: str) -> str:
    if col == "unit_mult":
        return t("upload.tpl.allowed_unit_mult", lang)
    if col == "breakdown":
        return t("upload.tpl.allowed_breakdown", lang, sheet=CODES_SHEET)
    if col in coded:
        return t("upload.tpl.allowed_codes", lang, sheet=CODES_SHEET)
    if col == "time_period":
        return t("upload.tpl.allowed_period", lang)
    if col == "age":
        return t("upload.tpl.allowed_age_years", lang)
    if col in ("value", "weight"):
        return t("upload.tpl.allowed_number", lang)
    return t("upload.tpl.allowed_text", lang)


def _rules(kind: str) -> list[str]:
    common = ["upload.tpl.rule_header", "upload.tpl.rule_one_row"]
    if kind == "lfs":
        return [*common, "upload.tpl.rule_lfs_weights", "upload.tpl.rule_lfs_design", "upload.tpl.rule_basis",
                "upload.tpl.rule_codes", "upload.tpl.rule_marker"]
    units = "upload.tpl.rule_units_persons"
    if kind == "remittances":
        units = "upload.tpl.rule_units_usd"
    elif kind in ADMIN_RULES:
        units = "upload.tpl.rule_units_counts"
    basis = ["upload.tpl.rule_basis"] if "migrant_status" in COLUMNS[kind] else []
    own = [f"upload.tpl.rule_{r}" for r in ADMIN_RULES.get(kind, ())]
    return [*common, "upload.tpl.rule_totals", units, "upload.tpl.rule_missing", *own, *basis, "upload.tpl.rule_codes",
            "upload.tpl.rule_marker"]


# rules told on the instructions sheet of the administrative templates (upload.tpl.rule_<name>)
ADMIN_RULES: dict[str, tuple[str, ...]] = {
    "flows": ("flow_criterion", "periods"),
    "refugees": ("refugee_areas", "decisions", "periods"),
    "returns": ("return_areas", "returns_kinds", "periods"),
    "labour": ("labour_areas", "occupation", "periods"),
    "border": ("border_nationality", "periods"),
}


def _fill(ws, columns: list[str], data: pd.DataFrame) -> None:
    """Write the rows of ``data`` under the header (numbers as numbers, codes as text)."""
    frame = data.reindex(columns=columns)
    for values in frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in values])


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
