"""M&E at the local level: geographic scope as subdivision codes (national as an option), local
authorities as an organisation type, the workbook column with its cell errors, the demo's scopes,
the dashboard's subdivision filter and map (AppTest)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio, ensure_demo
from mmicd.me.local import by_area, in_area
from mmicd.me.model import Intervention, OrgType
from mmicd.me.workbook_read import import_workbook, read_workbook
from mmicd.me.workbook_write import export_workbook
from tests.me.test_pages import me_env, metrics, open_page  # noqa: F401  (fixture)
from tests.me.users import MINISTRY

TODAY = date(2026, 11, 24)
BASE = dict(id="X-1", country="NPL", title="t", sector="employment", lead="Koshi Province Government",
            start=date(2025, 1, 1), end=date(2026, 1, 1), status="ongoing")


def test_scope_is_subdivisions_of_the_country_or_the_country_itself():
    iv = Intervention(**BASE, scope_areas=["NP-P1", "NP-P3"], lead_type="local_authority",
                      partners=["A", "B"], partner_types=["civil_society", "local_authority"])
    assert (iv.national(), iv.lead_type, iv.partner_types[1]) == (False, OrgType.LOCAL_AUTHORITY,
                                                                   OrgType.LOCAL_AUTHORITY)
    assert Intervention(**BASE, scope_areas=["NPL"]).national()
    with pytest.raises(ValidationError, match="not a subdivision of NPL: PH-01"):
        Intervention(**BASE, scope_areas=["NP-P1", "PH-01"])  # a Philippine region
    with pytest.raises(ValidationError, match="1 partner types for 2 partners"):
        Intervention(**BASE, partners=["A", "B"], partner_types=["private"])


def test_scope_and_types_stored_and_read_back(store):
    iv = Intervention(**BASE, scope_areas=["NP-P6", "NP-P7"], lead_type="local_authority", partners=["A"],
                      partner_types=["academic"])
    repo.save_intervention(store, iv, user=MINISTRY)
    assert repo.load_portfolio(store).intervention("X-1") == iv


def _with_cell(data: bytes, column: str, row: int, value: str) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["interventions"]
    header = [c.value for c in ws[1]]
    ws.cell(row, header.index(column) + 1).value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_workbook_names_resolved_and_unknown_subdivisions_named_at_their_cell(store):
    portfolio, _ = demo_portfolio(TODAY)
    data = export_workbook(portfolio, "en")
    ws = load_workbook(io.BytesIO(data))["interventions"]
    header = [c.value for c in ws[1]]
    row = 3  # sorted by id: NPL-EDU-01, then NPL-EMP-01
    assert ws.cell(row, 1).value == "NPL-EMP-01"
    assert ws.cell(row, header.index("Subdivisions") + 1).value == "NP-P1; NP-P2; NP-P5"
    assert ws.cell(row, header.index("Partner types") + 1).value == "government; local_authority"
    # names (interim ones too) and "national" are read as codes
    named = read_workbook(_with_cell(data, "Subdivisions", row, "Koshi; Province No. 2; lumbini"), lang="en")
    assert named.portfolio.intervention("NPL-EMP-01").scope_areas == ["NP-P1", "NP-P2", "NP-P5"]
    national = read_workbook(_with_cell(data, "Subdivisions", row, "national"), lang="en")
    assert national.portfolio.intervention("NPL-EMP-01").national()
    # an unknown subdivision: an error at its cell, with the close names; nothing stored
    bad = _with_cell(data, "Subdivisions", row, "Koshi; Gandakki")
    result = import_workbook(store, bad, user=MINISTRY, lang="en", file="p.xlsx", dry_run=False)
    assert not result.stored and repo.is_empty(store)
    [issue] = [i for i in result.issues if i.level == "error"]
    assert (issue.sheet, issue.row, issue.column, issue.value) == ("interventions", row, "Subdivisions", "Gandakki")
    assert issue.message.startswith('"Gandakki" is not a subdivision of NPL. Did you mean: Gandaki?')
    # in French, a partner-type count that does not match the partners (two partners, one type)
    wrong = read_workbook(_with_cell(data, "Partner types", row, "local_authority"), lang="fr")
    [issue] = [i for i in wrong.issues if i.level == "error"]
    assert (issue.row, issue.column, issue.value) == (row, "Types de partenaires", "local_authority")
    assert issue.message.startswith("Un type de partenaire pour 2 partenaires")


def test_demo_portfolio_placed_in_nepal_provinces():
    portfolio, _ = demo_portfolio(TODAY)
    emp = portfolio.intervention("NPL-EMP-01")
    assert emp.scope_areas == ["NP-P1", "NP-P2", "NP-P5"]
    assert emp.partner_types == [OrgType.GOVERNMENT, OrgType.LOCAL_AUTHORITY]
    national = sorted(iv.id for iv in portfolio.interventions if iv.national())
    assert national == ["NPL-EMP-02", "NPL-HLT-01", "NPL-PSD-01", "NPL-REM-01", "NPL-SEC-01"]
    karnali = in_area(portfolio, "NP-P6")
    assert sorted(iv.id for iv in karnali.interventions) == sorted(
        ["NPL-EDU-01", "NPL-GOV-01", "NPL-RUR-01", "NPL-ENV-01", *national])
    assert {i.intervention_id for i in karnali.indicators} == {iv.id for iv in karnali.interventions}
    assert sorted(iv.id for iv in in_area(portfolio, "NP-P6", national=False).interventions) == [
        "NPL-EDU-01", "NPL-ENV-01", "NPL-GOV-01", "NPL-RUR-01"]
    table = by_area(portfolio, [f"NP-P{n}" for n in range(1, 8)])
    assert table.groupby("area")["intervention"].count().to_dict() == {
        "NP-P1": 2, "NP-P2": 2, "NP-P3": 3, "NP-P4": 2, "NP-P5": 3, "NP-P6": 4, "NP-P7": 2}


@pytest.fixture
def local_env(me_env):  # noqa: F811
    from mmicd.boundaries import ensure_default_boundaries
    from mmicd.store import Store

    store = Store(me_env)
    ensure_default_boundaries(store)
    store.engine.dispose()
    return me_env


def test_dashboard_filters_by_subdivision_and_maps_interventions(local_env):
    at = open_page("pages/me_dashboard.py")
    assert metrics(at)["Interventions"] == "12"
    at.selectbox(key="me_dash_area").set_value("NP-P6").run()
    assert not at.exception, at.exception
    assert metrics(at)["Interventions"] == "9"  # four in Karnali by name, five national
    assert any(c.value == "9 interventions work in Karnali, national ones included." for c in at.caption)
    assert at.query_params["area"] == "NP-P6"
    local = next(d.value for d in at.dataframe if "Subdivision" in d.value.columns)
    assert set(local["Subdivision"]) == {"Karnali", "Sudurpashchim", "Gandaki", "Koshi", "Madhesh", "Bagmati",
                                         "Lumbini"}  # the map of the shown interventions, wherever they work
    assert set(local.loc[local["Subdivision"] == "Karnali", "Intervention"]) == {
        "NPL-EDU-01", "NPL-GOV-01", "NPL-RUR-01", "NPL-ENV-01"}
    spec = next(c.proto.spec for c in at.get("plotly_chart") if "NP-P7" in c.proto.spec)
    assert '"fitbounds":"locations"' in spec.replace(" ", "") and "Ongoing" in spec
    assert any("5 national interventions cover every subdivision" in c.value for c in at.caption)


def test_dashboard_area_restored_from_the_url_in_spanish(local_env):
    at = open_page("pages/me_dashboard.py", lang="es")
    assert at.selectbox(key="me_dash_area").value == "_ALL"
    from streamlit.testing.v1 import AppTest

    from tests.me.test_pages import APP

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["lang"] = "es"
    at.query_params["area"] = "NP-P3"
    at.run()
    at.switch_page("pages/me_dashboard.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="me_dash_area").value == "NP-P3"
    # Bagmati: URB-01, HLT-02, GOV-01 by name, and the five national ones
    assert metrics(at)["Intervenciones"] == "8"


def test_ensure_demo_stores_the_scopes(store):
    ensure_demo(store, today=TODAY)
    assert repo.load_portfolio(store).intervention("NPL-ENV-01").partner_types == [OrgType.LOCAL_AUTHORITY]
