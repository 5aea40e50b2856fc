"""The forms of the Interventions page (issue #15): create and edit an intervention, add an indicator with
its milestones, record a GMG stage with its evidence; the same rules, reasons and audit as the Excel import.

AppTest runs the page on a copy of the seeded SQLite store; the server-side checks and the equivalence
with the import also run on PostgreSQL (``store`` fixture)."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import mmicd.me.schema as me_schema
from mmicd.auth import PermissionDenied, Role, User
from mmicd.me import repository as repo
from mmicd.me.model import Indicator, Intervention, Milestone, StageRecord
from mmicd.me.workbook import header_lookup
from mmicd.me.workbook_read import import_workbook
from mmicd.me.workbook_write import export_workbook
from mmicd.store import Store
from tests.me import test_pages
from tests.me.test_repository import IND, IV
from tests.me.test_roles import snapshot
from tests.me.users import ANALYST, OTHER_ANALYST, PLANNER, VIEWER

APP = test_pages.APP
me_env = test_pages.me_env  # the fixture: the seeded store with the demo portfolio
RITA = User("rita", Role.REVIEWER, countries="NPL", id=11)  # a reviewer of Nepal only
SEN_REVIEWER = User("sadio", Role.REVIEWER, countries="SEN", id=12)

# one input, entered through the forms and written in a workbook
NEW_IV = {"id": "NPL-MIG-09", "title": "Safe migration desks", "description": "Information desks <b>in</b> 3 districts",
          "sector": "employment", "status": "cancelled", "lead": "Ministry of Labour", "lead_type": "government",
          "partners": "ILO; Pourakhi", "partner_types": "international; civil_society", "funders": "Donor A",
          "gmg_stage": "action_plan", "ndp_goal": "Goal 7", "sdg_targets": "10.7", "geographic_scope": "Koshi",
          "scope_areas": ["NP-P1"], "start": date(2026, 1, 1), "end": date(2028, 12, 31),
          "actual_start": date(2026, 1, 12), "actual_end": date(2026, 10, 30),  # cancelled after it started
          "budget_planned": 250000.0, "budget_disbursed": 10000.0, "currency": "EUR", "language": "ne"}
NEW_IND = {"id": "MIG-09-1", "name": "Migrants counselled", "level": "output", "unit": "number",
           "direction": "increase", "period_rule": "cumulative", "baseline_value": 0.0,
           "baseline_date": date(2025, 12, 31), "end_target": 3000.0, "end_date": date(2028, 12, 31),
           "frequency": "quarterly", "disaggregation": ["sex"], "data_source": "Desk registers",
           "responsible": "DoFE"}
MILESTONES = [(date(2026, 12, 31), 800.0), (date(2027, 12, 31), 1800.0)]
EVIDENCE = "[report](javascript:alert(1)) https://example.org/plan.pdf"
STAGE = {"stage": "action_plan", "status": "in_progress", "start": date(2026, 2, 1), "end": date(2026, 6, 30),
         "evidence": EVIDENCE,
         "note": "Draft plan"}


def signed_in(user: User, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    assert not at.exception, at.exception
    return at


def outcome(at: AppTest) -> list[str]:
    """The messages shown, as the reader sees them (the Markdown escapes of user text taken off)."""
    return [re.sub(r"\\(.)", r"\1", x.value) for x in [*at.success, *at.error]]


def create_intervention(at: AppTest, reason: str = "New programme approved by the task force") -> None:
    k = "forms_new_iv"
    for widget, field in (("id", "id"), ("title", "title"), ("lead", "lead"), ("ndp", "ndp_goal"),
                          ("scope", "geographic_scope"), ("currency", "currency"), ("partners", "partners"),
                          ("partner_types", "partner_types"), ("funders", "funders"), ("sdg", "sdg_targets")):
        at.text_input(key=f"{k}_{widget}").set_value(NEW_IV[field])
    at.text_area(key=f"{k}_description").set_value(NEW_IV["description"])
    at.selectbox(key=f"{k}_sector").set_value(NEW_IV["sector"])
    at.selectbox(key=f"{k}_status").set_value(NEW_IV["status"])
    at.selectbox(key=f"{k}_lead_type").set_value(NEW_IV["lead_type"])
    at.selectbox(key=f"{k}_stage").set_value(NEW_IV["gmg_stage"])
    at.selectbox(key=f"{k}_language").set_value(NEW_IV["language"])
    at.multiselect(key=f"{k}_areas").set_value(NEW_IV["scope_areas"])
    at.date_input(key=f"{k}_start").set_value(NEW_IV["start"])
    at.date_input(key=f"{k}_end").set_value(NEW_IV["end"])
    at.date_input(key=f"{k}_actual_start").set_value(NEW_IV["actual_start"])
    at.date_input(key=f"{k}_actual_end").set_value(NEW_IV["actual_end"])
    at.number_input(key=f"{k}_planned").set_value(NEW_IV["budget_planned"])
    at.number_input(key=f"{k}_disbursed").set_value(NEW_IV["budget_disbursed"])
    at.text_input(key=f"{k}_reason").set_value(reason)
    at.button(key=f"{k}_save").click().run()
    assert not at.exception, at.exception


def fill_indicator(at: AppTest, intervention_id: str, values: dict, milestones: str, reason: str,
                   choices: bool = True) -> None:
    """Fill the new-indicator form; ``choices=False`` leaves the drop-downs at their defaults (AppTest
    formats their options in English, outside the page's language)."""
    at.selectbox(key="me_detail_iv").set_value(intervention_id).run()
    k = f"forms_ind_{intervention_id}__new"
    at.text_input(key=f"{k}_id").set_value(values["id"])
    at.text_input(key=f"{k}_name").set_value(values["name"])
    for field, widget in (("level", "level"), ("unit", "unit"), ("direction", "direction"), ("period_rule", "rule"),
                          ("frequency", "frequency")) if choices else ():
        at.selectbox(key=f"{k}_{widget}").set_value(values[field])
    at.number_input(key=f"{k}_baseline").set_value(values["baseline_value"])
    at.date_input(key=f"{k}_baseline_date").set_value(values["baseline_date"])
    at.number_input(key=f"{k}_end").set_value(values["end_target"])
    at.date_input(key=f"{k}_end_date").set_value(values["end_date"])
    if choices:
        at.multiselect(key=f"{k}_dis").set_value(values["disaggregation"])
    at.text_input(key=f"{k}_source").set_value(values["data_source"])
    at.text_input(key=f"{k}_responsible").set_value(values["responsible"])
    at.text_area(key=f"{k}_milestones").set_value(milestones)
    at.text_input(key=f"{k}_reason").set_value(reason)
    at.button(key=f"{k}_save").click().run()
    assert not at.exception, at.exception


def record_stage(at: AppTest) -> None:
    at.selectbox(key="forms_stage_which").set_value(STAGE["stage"]).run()
    k = f"forms_stage_{STAGE['stage']}"
    at.selectbox(key=f"{k}_status").set_value(STAGE["status"])
    at.date_input(key=f"{k}_start").set_value(STAGE["start"])
    at.date_input(key=f"{k}_end").set_value(STAGE["end"])
    at.text_input(key=f"{k}_evidence").set_value(STAGE["evidence"])
    at.text_input(key=f"{k}_note").set_value(STAGE["note"])
    at.text_input(key=f"{k}_reason").set_value("Plan drafted")
    at.button(key=f"{k}_save").click().run()
    assert not at.exception, at.exception


def audit_rows(url: str, entity_id: str) -> list:
    store = Store(url)
    with store.engine.connect() as conn:
        audit = me_schema.metadata.tables["audit"]
        rows = conn.execute(select(audit).where(audit.c.entity_id == entity_id).order_by(audit.c.id)).all()
    store.engine.dispose()
    return rows


def load(url: str) -> repo.Portfolio:
    store = Store(url)
    p = repo.load_portfolio(store, "NPL")
    store.engine.dispose()
    return p


def expected_intervention() -> Intervention:
    return Intervention(country="NPL", **NEW_IV | {
        "partners": ["ILO", "Pourakhi"], "partner_types": ["international", "civil_society"], "funders": ["Donor A"],
        "sdg_targets": ["10.7"]})


def test_a_reviewer_creates_an_intervention_with_an_indicator_and_a_stage(me_env):
    at = signed_in(RITA)
    create_intervention(at)
    assert outcome(at) == ["Intervention NPL-MIG-09 created. The change is in the audit trail."]
    # in the register (the page's table reloaded from the store)...
    register = next(d.value for d in at.dataframe if "Id" in d.value.columns)
    row = register.loc[register["Id"] == "NPL-MIG-09"].iloc[0]
    assert (row["Intervention"], row["Start"], row["Planned"]) == ("Safe migration desks", "2026-01-01",
                                                                          "€250,000")
    # ...in the store, every field as entered (language ne, partner types, the subdivision code)...
    assert load(me_env).intervention("NPL-MIG-09") == expected_intervention()
    # ...and in the audit trail with who and why
    [created] = audit_rows(me_env, "NPL-MIG-09")
    assert (created.action, created.actor, created.reason) == (
        "me:intervention_created", "rita", "New programme approved by the task force")
    assert created.new["language"] == "ne" and created.new["scope_areas"] == ["NP-P1"]

    # the same id again is refused, nothing changed
    create_intervention(at, reason="again")
    assert outcome(at) == ["Id: an intervention NPL-MIG-09 exists already; choose another id or edit it."]
    assert len(audit_rows(me_env, "NPL-MIG-09")) == 1

    lines = "\n".join(f"{d.isoformat()}; {t:g}" for d, t in MILESTONES)
    fill_indicator(at, "NPL-MIG-09", NEW_IND, lines, "Results framework agreed")
    assert outcome(at) == ["Indicator MIG-09-1 saved. The change is in the audit trail."]
    stored = load(me_env).indicator("MIG-09-1")
    assert stored == Indicator(intervention_id="NPL-MIG-09", position=1, **NEW_IND,
                               milestones=[Milestone(due=d, target=t) for d, t in MILESTONES])
    [ind_audit] = audit_rows(me_env, "MIG-09-1")
    assert (ind_audit.action, ind_audit.actor) == ("me:indicator_created", "rita")
    assert ind_audit.new["milestones"] == [["2026-12-31", 800.0], ["2027-12-31", 1800.0]]

    record_stage(at)
    assert outcome(at) == ["Stage “Action plan” saved. The change is in the audit trail."]
    stage = next(s for s in load(me_env).stages if s.stage == "action_plan")
    assert stage == StageRecord(country="NPL", **STAGE)
    [stage_audit] = [r for r in audit_rows(me_env, "NPL:action_plan") if r.reason == "Plan drafted"]
    assert stage_audit.new["evidence"] == EVIDENCE
    # the evidence (a Markdown link with a javascript: target) is shown as plain text in a table, never rendered
    table = next(d.value for d in at.dataframe if "Evidence" in d.value.columns)
    assert EVIDENCE in set(table["Evidence"])
    assert not [m for m in at.markdown if "javascript" in m.value]


def test_a_milestone_outside_the_intervention_is_refused_naming_the_field_and_nothing_is_stored(me_env):
    iv = load(me_env).intervention("NPL-RUR-01")
    before = iv.start - timedelta(days=1)
    values = NEW_IND | {"id": "RUR-01-9", "baseline_date": iv.start - timedelta(days=365), "end_date": iv.end}
    at = signed_in(RITA)
    fill_indicator(at, iv.id, values, f"{before.isoformat()}; 10", "New indicator")
    assert outcome(at) == [
        f"Milestone date: The milestone date {before.isoformat()} falls outside the dates of intervention "
        f"NPL-RUR-01 ({iv.start.isoformat()} to {iv.end.isoformat()}). (value given: {before.isoformat()})"]
    assert load(me_env).indicator("RUR-01-9") is None and audit_rows(me_env, "RUR-01-9") == []
    # a date that is not a date: the import's own message, naming the line
    fill_indicator(at, iv.id, values, "31/12/2026; 10", "New indicator")
    [error] = outcome(at)
    assert error.startswith("Milestone (line 1): Invalid value") and error.endswith("(value given: 31/12/2026)")
    # without a reason: refused, the field named
    fill_indicator(at, iv.id, values, "", "")
    assert outcome(at) == ["Reason for the change (required): give the reason for the change."]
    assert load(me_env).indicator("RUR-01-9") is None


def test_in_french_the_milestone_error_names_the_field_in_french(me_env):
    iv = load(me_env).intervention("NPL-RUR-01")
    late = iv.end + timedelta(days=30)
    values = NEW_IND | {"id": "RUR-01-9", "baseline_date": iv.start, "end_date": late}
    at = signed_in(RITA, lang="fr")
    assert any(tab.label == "Étapes GMG" for tab in at.tabs)
    fill_indicator(at, iv.id, values, f"{late.isoformat()}; 10", "Nouvel indicateur", choices=False)
    assert outcome(at) == [
        f"Date du jalon : La date du jalon {late.isoformat()} est en dehors des dates de l’intervention "
        f"NPL-RUR-01 (du {iv.start.isoformat()} au {iv.end.isoformat()}). (valeur saisie : {late.isoformat()})"]
    at.text_input(key="forms_new_iv_id").set_value("bad id!")
    at.button(key="forms_new_iv_save").click().run()
    assert outcome(at) == ["Motif de la modification (obligatoire) : indiquez le motif de la modification."]


def test_viewers_analysts_and_reviewers_of_another_country_get_no_form(me_env):
    for user in (VIEWER, ANALYST, SEN_REVIEWER):
        at = signed_in(user)
        at.selectbox(key="me_detail_iv").set_value("NPL-RUR-01").run()
        assert not [b for b in at.button if b.key and b.key.startswith(("forms_", "me_form_iv_"))], user
        assert not [s for s in at.selectbox if s.key and s.key.startswith(("forms_ind_which", "forms_stage_"))], user
    at = signed_in(RITA)
    at.selectbox(key="me_detail_iv").set_value("NPL-RUR-01").run()
    keys = {b.key for b in at.button}
    assert {"forms_new_iv_save", "me_form_iv_NPL-RUR-01_save", "forms_ind_NPL-RUR-01__new_save",
            "forms_stage_assessment_save"} <= keys


def test_the_server_refuses_another_country_and_a_taken_id(store):
    repo.save_intervention(store, IV, user=PLANNER)
    repo.save_indicator(store, IND, user=PLANNER)
    new = IV.model_copy(update={"id": "NPL-EMP-02"})
    ind = IND.model_copy(update={"id": "EMP-01-9"})
    stage = StageRecord(country="NPL", stage="assessment", evidence="x")
    for who in (OTHER_ANALYST, ANALYST, SEN_REVIEWER, VIEWER):
        before = snapshot(store)
        for call in (lambda who=who: repo.save_intervention(store, new, user=who, reason="r", create=True),
                     lambda who=who: repo.save_indicator(store, ind, user=who, reason="r", create=True),
                     lambda who=who: repo.save_stage(store, stage, user=who, reason="r")):
            with pytest.raises(PermissionDenied):
                call()
        assert snapshot(store) == before
    # a reviewer of Senegal cannot take Nepal's intervention over by giving its id to a Senegal one
    before = snapshot(store)
    with pytest.raises(repo.MeError) as err:
        repo.save_intervention(store, IV.model_copy(update={"country": "SEN", "scope_areas": []}), user=SEN_REVIEWER)
    assert (err.value.key, err.value.fields) == ("forms.error.id_taken", {"id": IV.id, "country": "NPL"})
    assert snapshot(store) == before
    # nor move a Nepal indicator to a Senegal intervention
    repo.save_intervention(store, IV.model_copy(update={"id": "SEN-1", "country": "SEN"}), user=SEN_REVIEWER)
    with pytest.raises(PermissionDenied):
        repo.save_indicator(store, IND.model_copy(update={"intervention_id": "SEN-1"}), user=SEN_REVIEWER)
    # the reviewer of Nepal may; creating an existing indicator is refused
    repo.save_indicator(store, ind, user=RITA, reason="r", create=True)
    with pytest.raises(repo.MeError):
        repo.save_indicator(store, ind, user=RITA, reason="r", create=True)
    # a workbook with a Nepal intervention is refused to the reviewer of Senegal, and nothing stored
    data = export_workbook(repo.load_portfolio(store, "NPL"))
    before = snapshot(store)
    with pytest.raises(PermissionDenied):
        import_workbook(store, data, user=SEN_REVIEWER, dry_run=False)
    assert snapshot(store) == before


def workbook(iv: dict, ind: dict, milestones: list, stage: dict) -> bytes:
    """The template filled with one intervention, one indicator with its milestones and one stage."""
    wb = load_workbook(io.BytesIO(export_workbook(repo.Portfolio(), "en")))

    def put(sheet: str, values: dict) -> None:
        ws = wb[sheet]
        lookup = header_lookup(sheet)
        columns = {lookup[str(c.value).strip().lower()]: c.column for c in ws[1] if c.value}
        row = ws.max_row + 1
        for code, value in values.items():
            ws.cell(row, columns[code], "; ".join(value) if isinstance(value, list) else value)

    put("interventions", iv | {"country": "NPL"})
    put("indicators", ind | {"intervention_id": iv["id"], "position": 1})
    for due, target in milestones:
        put("targets", {"indicator_id": ind["id"], "due": due, "target": target})
    put("stages", stage | {"country": "NPL"})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_forms_and_the_import_store_the_same_objects(me_env, store):
    at = signed_in(RITA)
    create_intervention(at)
    fill_indicator(at, "NPL-MIG-09", NEW_IND, "\n".join(f"{d.isoformat()}; {t:g}" for d, t in MILESTONES), "agreed")
    record_stage(at)
    by_form = load(me_env)
    result = import_workbook(store, workbook(NEW_IV, NEW_IND, MILESTONES, STAGE), user=RITA, dry_run=False)
    assert result.stored, result.issues
    by_import = repo.load_portfolio(store, "NPL")
    assert by_import.intervention("NPL-MIG-09") == by_form.intervention("NPL-MIG-09") == expected_intervention()
    assert by_import.indicator("MIG-09-1") == by_form.indicator("MIG-09-1")
    assert by_import.stages == [s for s in by_form.stages if s.stage == "action_plan"]
    # and the import refuses the milestone the form refuses, with the same message
    late = NEW_IV["end"] + timedelta(days=1)
    bad = import_workbook(store, workbook(NEW_IV, NEW_IND | {"id": "MIG-09-2", "end_date": late}, [(late, 5.0)],
                                          STAGE), user=RITA)
    assert [(i.message, i.sheet, i.row, i.column, i.value) for i in bad.issues if i.level == "error"] == [
        (f"The milestone date {late.isoformat()} falls outside the dates of intervention NPL-MIG-09 "
         f"(2026-01-01 to 2028-12-31).", "targets", 2, "Milestone date", late.isoformat())]
