"""The Excel template and full export of a portfolio, in the workbook layout (:mod:`mmicd.me.workbook`)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from mmicd.i18n import t
from mmicd.me.model import GmgStage
from mmicd.me.repository import Portfolio
from mmicd.me.workbook import (
    DATE_COLUMNS,
    LIST_COLUMNS,
    LIST_SEPARATOR,
    NUMBER_COLUMNS,
    SHEETS,
    header,
    vocabularies,
)
from mmicd.safe_export import protect_workbook


def _cell(column: str, value: object) -> object:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if column in LIST_COLUMNS:
        return LIST_SEPARATOR.join(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "value") and not isinstance(value, int | float):
        return value.value  # enums
    return value


def rows(portfolio: Portfolio) -> dict[str, list[dict]]:
    """The portfolio as one list of rows per sheet (codes, in the workbook's column order)."""
    out: dict[str, list[dict]] = {name: [] for name in SHEETS}
    for iv in sorted(portfolio.interventions, key=lambda i: i.id):
        data = iv.model_dump()
        out["interventions"].append({c: _cell(c, data[c]) for c in SHEETS["interventions"]})
    for ind in sorted(portfolio.indicators, key=lambda i: (i.intervention_id, i.position, i.id)):
        data = ind.model_dump()
        data["link_indicator"] = ind.link.indicator if ind.link else None
        data["link_selection"] = LIST_SEPARATOR.join(f"{k}={v}" for k, v in ind.link.selection.items()) \
            if ind.link and ind.link.selection else None
        data["change_reason"] = None
        out["indicators"].append({c: _cell(c, data[c]) for c in SHEETS["indicators"]})
        for m in ind.milestones:
            out["targets"].append({"indicator_id": ind.id, "due": m.due, "target": m.target})
    for rep in sorted(portfolio.reports, key=lambda r: (r.indicator_id, r.period_start, r.period_end)):
        data = rep.model_dump()
        total = {c: _cell(c, data.get(c)) for c in SHEETS["actuals"]}
        total.update(sex="_T", age="_T")
        out["actuals"].append(total)
        for part in rep.breakdown:
            out["actuals"].append({"indicator_id": rep.indicator_id, "period_start": rep.period_start,
                                   "period_end": rep.period_end, "sex": part.sex, "age": part.age,
                                   "value": part.value, "numerator": part.numerator,
                                   "denominator": part.denominator})
    for st in sorted(portfolio.stages, key=lambda s: (s.country, list(GmgStage).index(s.stage))):
        data = st.model_dump()
        out["stages"].append({c: _cell(c, data[c]) for c in SHEETS["stages"]})
    return out


def export_workbook(portfolio: Portfolio, lang: str = "en") -> bytes:
    """The portfolio (or, empty, the template) as an .xlsx file in ``lang``."""
    wb = Workbook()
    info = wb.active
    info.title = "instructions"
    info.column_dimensions["A"].width = 28
    info.column_dimensions["B"].width = 110
    info.append([t("me.xl.instructions.title", lang)])
    info["A1"].font = Font(bold=True, size=14)
    for line in ("me.xl.instructions.intro", "me.xl.instructions.codes", "me.xl.instructions.actuals",
                 "me.xl.instructions.reason", "me.xl.instructions.dates"):
        info.append([t(line, lang)])
    info.append([])
    lists = wb.create_sheet("lists")
    vocab = vocabularies()
    for k, ((sheet, column), values) in enumerate(vocab.items(), start=1):
        lists.cell(row=1, column=k, value=f"{sheet}.{column}")
        for r, value in enumerate(values, start=2):
            lists.cell(row=r, column=k, value=value)
    lists.sheet_state = "hidden"
    data = rows(portfolio)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet, columns in SHEETS.items():
        ws = wb.create_sheet(sheet)
        info.append([sheet])
        info.cell(row=info.max_row, column=1).font = bold
        for column in columns:
            info.append([header(column, lang), t(f"me.xl.help.{column}", lang)])
            info.cell(row=info.max_row, column=2).alignment = Alignment(wrap_text=True)
        ws.append([header(c, lang) for c in columns])
        for c in range(1, len(columns) + 1):
            ws.cell(row=1, column=c).font = bold
            ws.cell(row=1, column=c).fill = fill
            ws.column_dimensions[get_column_letter(c)].width = 14 if columns[c - 1] in NUMBER_COLUMNS else 22
        for row in data[sheet]:
            ws.append([row.get(c) for c in columns])
        for r in range(2, ws.max_row + 1):
            for c, column in enumerate(columns, start=1):
                if column in DATE_COLUMNS:
                    ws.cell(row=r, column=c).number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
        for k, ((vsheet, vcolumn), values) in enumerate(vocab.items(), start=1):
            if vsheet != sheet:
                continue
            letter = get_column_letter(k)
            dv = DataValidation(type="list", formula1=f"=lists!${letter}$2:${letter}${len(values) + 1}",
                                allow_blank=True, showErrorMessage=True)
            dv.error = t("me.xl.dropdown_error", lang)
            col = get_column_letter(columns.index(vcolumn) + 1)
            dv.add(f"{col}2:{col}5000")
            ws.add_data_validation(dv)
    wb.move_sheet("lists", offset=len(wb.sheetnames))
    protect_workbook(wb)  # a title such as =HYPERLINK(...) is a text cell, never a formula
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


