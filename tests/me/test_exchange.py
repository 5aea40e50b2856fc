"""Excel template round trip, import problems named by sheet/row/column, IATI 2.03 export valid against the XSD."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mmicd.auth import ANONYMOUS
from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio, ensure_demo
from mmicd.me.iati import iati_xml
from mmicd.me.linked import StatActual
from mmicd.me.workbook import SHEETS
from mmicd.me.workbook_read import import_workbook, read_workbook
from mmicd.me.workbook_write import export_workbook, rows
from tests.me.users import MINISTRY

TODAY = date(2026, 11, 24)
XSD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "iati-2.03" / "iati-activities-schema.xsd"


def sheet_values(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {name: [tuple(r) for r in wb[name].iter_rows(values_only=True)] for name in SHEETS}


def test_export_import_export_is_identical(store, tmp_path):
    ensure_demo(store, today=TODAY)
    original = repo.load_portfolio(store)
    first = export_workbook(original, "fr")
    fresh = repo.Store(f"sqlite:///{tmp_path / 'other.sqlite'}", data_dir=tmp_path)
    dry = import_workbook(fresh, first, user=MINISTRY, lang="fr", dry_run=True)
    assert not [i for i in dry.issues if i.level == "error"], dry.issues
    assert not dry.stored and repo.is_empty(fresh)  # a dry run stores nothing
    done = import_workbook(fresh, first, user=MINISTRY, lang="fr", dry_run=False)
    assert done.stored and done.counts == {"interventions": 12, "indicators": 18, "actuals": len(original.reports),
                                           "stages": 6}
    again = repo.load_portfolio(fresh)
    assert rows(again) == rows(original)
    assert sheet_values(export_workbook(again, "fr")) == sheet_values(first)
    # the same portfolio, field by field (report ids aside)
    assert again.interventions == original.interventions
    assert again.indicators == original.indicators
    strip = [r.model_dump(exclude={"id"}) for r in original.reports]
    assert [r.model_dump(exclude={"id"}) for r in again.reports] == strip
    fresh.engine.dispose()


def test_the_template_has_drop_downs_and_headers_in_each_language():
    empty = export_workbook(repo.Portfolio(), "es")
    wb = load_workbook(io.BytesIO(empty))
    assert wb.sheetnames[:6] == ["instructions", "interventions", "indicators", "targets", "actuals", "stages"]
    assert wb["lists"].sheet_state == "hidden"
    assert [c.value for c in wb["interventions"][1]][:3] == ["Identificador", "País (ISO3)", "Título"]
    formulas = {str(dv.sqref)[0]: dv.formula1
                for dv in wb["interventions"].data_validations.dataValidation}
    assert formulas["E"].startswith("=lists!")  # sector
    # an exported English file is read back by a French user (headers in any language)
    portfolio, _ = demo_portfolio(TODAY)
    result = read_workbook(export_workbook(portfolio, "en"), lang="fr")
    assert not [i for i in result.issues if i.level == "error"] and len(result.portfolio.indicators) == 18
    # the one warning: a breakdown that does not add up, accepted because a justification is recorded
    assert [(i.level, i.sheet, i.column, i.value) for i in result.issues] == [("warning", "actuals", "Valeur", "-5")]


def _edit(data: bytes, sheet: str, cell: str, value) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    wb[sheet][cell] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_problems_name_sheet_row_and_column_and_nothing_is_stored(store):
    portfolio, _ = demo_portfolio(TODAY)
    data = export_workbook(portfolio, "en")
    data = _edit(data, "interventions", "E2", "fishing")  # unknown sector
    data = _edit(data, "indicators", "F2", "kg")  # unknown unit
    # first actuals row is a total with a sex breakdown below: break the total
    wb = load_workbook(io.BytesIO(data))
    ws = wb["actuals"]
    header = [c.value for c in ws[1]]
    total_row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "EMP-01-1"
                     and ws.cell(r, header.index("Sex") + 1).value == "_T"
                     and ws.cell(r + 1, header.index("Sex") + 1).value == "F"
                     and ws.cell(r, header.index("Value") + 1).value is not None)
    ws.cell(total_row, header.index("Value") + 1).value += 7
    out = io.BytesIO()
    wb.save(out)
    result = import_workbook(store, out.getvalue(), user=MINISTRY, lang="en", file="portfolio.xlsx",
                             dry_run=False)
    assert not result.stored and repo.is_empty(store)
    errors = [(i.sheet, i.row, i.column) for i in result.issues if i.level == "error"]
    assert ("interventions", 2, "Sector") in errors
    assert ("indicators", 2, "Unit") in errors
    breakdown = [i for i in result.issues if i.sheet == "actuals" and i.row == total_row]
    # the demo report has a sex and an age breakdown: each is 7 short of the changed total
    assert [(i.level, i.column, i.value, i.file) for i in breakdown] == [("error", "Value", "-7", "portfolio.xlsx")] * 2
    assert ["Breakdown by sex" in breakdown[0].message, "Breakdown by age group" in breakdown[1].message] == [True] * 2
    assert "parts 600, total 607, difference -7" in breakdown[0].message


def test_a_target_change_by_import_needs_a_reason(store):
    ensure_demo(store, today=TODAY)
    data = export_workbook(repo.load_portfolio(store), "en")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["indicators"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("End target") + 1).value = 99999
    out = io.BytesIO()
    wb.save(out)
    result = import_workbook(store, out.getvalue(), user=MINISTRY, dry_run=False)
    assert not result.stored
    assert [(i.sheet, i.row, i.column) for i in result.issues if i.level == "error"] == [
        ("indicators", 2, "Reason for a target change")]
    ws.cell(2, header.index("Reason for a target change") + 1).value = "Revised at the mid-term review"
    out = io.BytesIO()
    wb.save(out)
    result = import_workbook(store, out.getvalue(), user=MINISTRY, dry_run=False)
    assert result.stored
    changes = repo.load_portfolio(store).changes
    assert [(c.field, c.new, c.reason) for c in changes] == [("end_target", 99999.0, "Revised at the mid-term review")]


def test_a_file_that_is_not_a_workbook_is_one_clear_issue(store):
    result = import_workbook(store, b"not excel", user=ANONYMOUS, lang="fr", file="x.xlsx")
    assert [(i.level, i.file) for i in result.issues] == [("error", "x.xlsx")]
    assert "classeur Excel" in result.issues[0].message


@pytest.fixture
def iati_schema():
    if not XSD.parent.parent.exists():
        pytest.skip("/work/shared/reference is absent")
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(XSD)))


def test_iati_export_is_valid_against_the_2_03_schema(iati_schema):
    from lxml import etree

    portfolio, _ = demo_portfolio(TODAY)
    document = etree.fromstring(iati_xml(portfolio))
    iati_schema.assertValid(document)
    activities = document.findall("iati-activity")
    assert len(activities) == 12
    emp = next(a for a in activities if a.findtext("iati-identifier").endswith("NPL-EMP-01"))
    assert emp.find("recipient-country").get("code") == "NP"
    assert "(illustrative)" in emp.find("title/narrative").text
    indicator = next(i for i in emp.iter("indicator") if i.find("reference").get("code") == "EMP-01-1")
    assert indicator.find("baseline").get("value") == "0"
    periods = indicator.findall("period")
    first_actuals = [(a.get("value"), [d.get("value") for d in a.findall("dimension")])
                     for a in periods[0].findall("actual")]
    # one period per milestone interval: the first (to the milestone of 2026-06-30) holds the cumulative
    # actual of the four half-year reports 600 + 700 + 800 + 750, women 150 + 190 + 230 + 240
    assert first_actuals == [("2850", []), ("810", ["F"]), ("2040", ["M"])]
    targets = [(p.find("period-end").get("iso-date"), p.find("target").get("value")) for p in periods
               if p.find("target") is not None]
    assert targets == [("2026-06-30", "3000"), ("2027-06-30", "4500"), ("2028-06-30", "6000")]
    linked = next(i for i in emp.iter("indicator") if i.find("reference").get("code") == "EMP-01-3")
    assert [r.get("code") for r in linked.findall("reference")] == ["EMP-01-3", "unemp_rate"]


def test_iati_export_carries_the_published_figures_of_linked_indicators(iati_schema):
    from lxml import etree

    from mmicd.me.linked import period_dates

    portfolio, _ = demo_portfolio(TODAY)
    start, end = period_dates("2023")
    portfolio.statistics = {"EMP-01-3": [
        StatActual("EMP-01-3", "2022", date(2022, 1, 1), date(2022, 12, 31), None, obs_status="Q"),
        StatActual("EMP-01-3", "2023", start, end, 10.18, 7.43, 12.93, "U", "LFS", "2023", "6")]}
    document = etree.fromstring(iati_xml(portfolio))
    iati_schema.assertValid(document)
    linked = next(i for i in document.iter("indicator") if i.find("reference").get("code") == "EMP-01-3")
    actuals = [(p.find("period-start").get("iso-date"), a.get("value"), a.findtext("comment/narrative"))
               for p in linked.findall("period") for a in p.findall("actual")]
    # one period from the day after the baseline (2021-12-31) to the end target; the suppressed figure is left out
    assert actuals == [("2022-01-01", "10.18", "LFS, 2023 (low reliability, U)")]


def test_a_link_to_an_unknown_catalogue_indicator_or_selection_is_refused_with_its_cell(store):
    portfolio, _ = demo_portfolio(TODAY)
    data = export_workbook(portfolio, "en")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["indicators"]
    header = [c.value for c in ws[1]]
    link_col, sel_col = header.index("Linked catalogue indicator") + 1, header.index("Selection in the catalogue") + 1
    linked = [r for r in range(2, ws.max_row + 1) if ws.cell(r, link_col).value]
    assert len(linked) == 2  # the demo's two linked indicators
    ws.cell(linked[0], link_col).value = "unemployment_rate"  # not a catalogue id (that is unemp_rate)
    ws.cell(linked[1], sel_col).value = "migrant_status=MS_MIGRANT;gender=F"
    out = io.BytesIO()
    wb.save(out)
    result = import_workbook(store, out.getvalue(), user=MINISTRY, lang="en", dry_run=False)
    assert not result.stored and repo.is_empty(store)
    errors = [(i.sheet, i.row, i.column, i.value) for i in result.issues if i.level == "error"]
    assert errors == [("indicators", linked[0], "Linked catalogue indicator", "unemployment_rate"),
                      ("indicators", linked[1], "Selection in the catalogue", "migrant_status=MS_MIGRANT;gender=F")]
