"""The IATI export's content (issue #14): budgets per year adding up exactly, DAC sectors beside the
project's, the reporting organisation's identifier and its refusal, actual dates and status, one
result period per milestone interval, xml:lang from the intervention; the command line writes the
page's file byte for byte; bad input gives a clear message and nothing is written."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import load_workbook
from pydantic import ValidationError

from mmicd.cli import main
from mmicd.me import repository as repo
from mmicd.me.config import me_config
from mmicd.me.demo import demo_portfolio, ensure_demo
from mmicd.me.iati import (
    IatiError,
    activity_dates,
    budget_periods,
    dac_sectors,
    export_portfolio,
    iati_xml,
    reporting_org,
    result_periods,
)
from mmicd.me.model import Intervention, sector_codes
from mmicd.me.progress import current_value
from mmicd.me.workbook_read import import_workbook
from mmicd.me.workbook_write import export_workbook
from mmicd.store import Store
from tests.me.users import MINISTRY

TODAY = date(2026, 11, 24)
GENERATED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EPOCH = str(int(GENERATED.timestamp()))


def document(portfolio, **kwargs) -> etree._Element:
    return etree.fromstring(iati_xml(portfolio, generated=GENERATED, env=kwargs.pop("env", {}), **kwargs))


def activity(doc: etree._Element, iv_id: str) -> etree._Element:
    return next(a for a in doc.findall("iati-activity") if a.findtext("iati-identifier").endswith("-" + iv_id))


# ---- budgets ------------------------------------------------------------------------------------
def test_budgets_by_calendar_and_fiscal_year_add_up_exactly():
    # 2024-07-01 .. 2026-06-30 is 730 days: 184 + 365 + 181. 100,000 cents × 184 / 730 = 25,205.48,
    # × 365 / 730 = 50,000, × 181 / 730 = 24,794.52: floors 25,205 + 50,000 + 24,794 = 99,999 and the
    # one cent left goes to the largest remainder (0.52 of the last period)
    assert budget_periods(date(2024, 7, 1), date(2026, 6, 30), 1000.0) == [
        (date(2024, 7, 1), date(2024, 12, 31), Decimal("252.05")),
        (date(2025, 1, 1), date(2025, 12, 31), Decimal("500.00")),
        (date(2026, 1, 1), date(2026, 6, 30), Decimal("247.95"))]
    # Nepal's fiscal year from 16 July: 15 + 365 + 350 days
    assert budget_periods(date(2024, 7, 1), date(2026, 6, 30), 730.0, (7, 16)) == [
        (date(2024, 7, 1), date(2024, 7, 15), Decimal("15.00")),
        (date(2024, 7, 16), date(2025, 7, 15), Decimal("365.00")),
        (date(2025, 7, 16), date(2026, 6, 30), Decimal("350.00"))]
    # three equal thirds of one cent short: 33.34 goes to the earliest of the tied remainders
    assert [a for *_, a in budget_periods(date(2025, 1, 1), date(2027, 12, 31), 100.0)] == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2000, 1, 1), date(2040, 1, 1)), days=st.integers(0, 4000),
       cents=st.integers(0, 10**11), year_start=st.sampled_from([(1, 1), (7, 16), (4, 1), (12, 31)]))
def test_budget_periods_cover_the_activity_in_years_and_add_up(start, days, cents, year_start):
    end = start + timedelta(days=days)
    total = Decimal(cents) / 100
    periods = budget_periods(start, end, float(total), year_start)
    assert sum(a for *_, a in periods) == total
    assert periods[0][0] == start and periods[-1][1] == end
    for (_, previous_end, _), (next_start, _, _) in zip(periods, periods[1:], strict=False):
        assert next_start == previous_end + timedelta(days=1)
    for a, b, amount in periods:
        assert a <= b and (b - a).days <= 365
        assert abs(amount - total * ((b - a).days + 1) / (days + 1)) < Decimal("0.01")


def test_demo_budgets_in_the_export():
    portfolio, _ = demo_portfolio(TODAY)
    doc = document(portfolio)
    for iv in portfolio.interventions:
        values = [Decimal(v.text) for v in activity(doc, iv.id).findall("budget/value")]
        assert sum(values) == Decimal(str(iv.budget_planned)), iv.id
    edu = activity(doc, "NPL-EDU-01")  # 2022-07-01 .. 2025-12-31, 900,000 over 1,280 days
    assert [(b.find("period-start").get("iso-date"), b.findtext("value")) for b in edu.findall("budget")] == [
        ("2022-07-01", "129375"), ("2023-01-01", "256640.63"), ("2024-01-01", "257343.75"),
        ("2025-01-01", "256640.62")]


def test_a_budget_year_start_that_is_not_a_day_of_every_year_is_refused():
    from dataclasses import replace

    for value in ("02-29", "13-01", "July"):
        with pytest.raises(IatiError, match=f"budget_year_start '{value}'"):
            iati_xml(demo_portfolio(TODAY)[0], config=replace(me_config(), iati={"budget_year_start": value}), env={})
    fiscal = replace(me_config(), iati={"budget_year_start": "07-16"})
    edu = activity(document(demo_portfolio(TODAY)[0], config=fiscal), "NPL-EDU-01")  # 2022-07-01 .. 2025-12-31
    assert [b.find("period-start").get("iso-date") for b in edu.findall("budget")] == [
        "2022-07-01", "2022-07-16", "2023-07-16", "2024-07-16", "2025-07-16"]


# ---- sectors ------------------------------------------------------------------------------------
def test_every_sector_has_dac_codes_adding_up_to_100_and_migration_uses_15190():
    for code in sector_codes():
        pairs = dac_sectors(code)
        assert sum(p for _, p in pairs) == 100 and all(len(c) == 5 and c.isdigit() for c, _ in pairs)
    assert dac_sectors("governance") == [("15190", 100)]
    assert dac_sectors("employment") == [("16020", 50), ("15190", 50)]
    portfolio, _ = demo_portfolio(TODAY)
    emp = activity(document(portfolio), "NPL-EMP-01")
    assert [(s.get("vocabulary"), s.get("code"), s.get("percentage"), s.get("vocabulary-uri"))
            for s in emp.findall("sector")] == [
        ("1", "16020", "50", None), ("1", "15190", "50", None),
        ("99", "employment", "100", me_config().iati["sector_vocabulary_uri"])]
    assert emp.findtext("sector[@vocabulary='99']/narrative") == "Employment"


@pytest.mark.parametrize("mapping", ["16020:50 15190:40", "1519:100", "15190", "15190:abc", "", "15190:50 :50"])
def test_a_dac_mapping_that_does_not_add_up_is_refused(monkeypatch, mapping):
    import pandas as pd

    import mmicd.me.iati

    table = pd.DataFrame([{"code": "employment", "name_en": "Employment", "dac_crs": mapping}])
    monkeypatch.setattr(mmicd.me.iati, "sectors", lambda: table)
    with pytest.raises(IatiError, match="must be 5-digit codes with percentages adding up to 100"):
        dac_sectors("employment")


def test_values_are_decimals_without_exponent():
    from mmicd.me.iati import _number

    assert [_number(v) for v in (2850.0, 1234567.5, 0.0000123, 91.2 / 2400 * 100, 10.181818181, 1e21)] == [
        "2850", "1234567.5", "0.000012", "3.8", "10.181818", "1000000000000000000000"]


# ---- reporting organisation ---------------------------------------------------------------------
def test_the_reporting_organisation_comes_from_the_environment_and_prefixes_every_identifier():
    portfolio, _ = demo_portfolio(TODAY)
    doc = document(portfolio, env={"MMICD_IATI_REPORTING_ORG": "XM-DAC-41114",
                                   "MMICD_IATI_REPORTING_ORG_NAME": "A development agency"})
    ids = [a.findtext("iati-identifier") for a in doc.findall("iati-activity")]
    assert ids[0] == "XM-DAC-41114-NPL-EDU-01" and all(i.startswith("XM-DAC-41114-NPL-") for i in ids)
    assert {a.find("reporting-org").get("ref") for a in doc.findall("iati-activity")} == {"XM-DAC-41114"}
    assert doc.findtext("iati-activity/reporting-org/narrative") == "A development agency"
    assert reporting_org(env={}).ref == "XI-IATI-MMICD-DEMO"  # data/me/config.yml


@pytest.mark.parametrize(("ref", "key", "words"), [
    ("XM-MMICD-TASKFORCE", "iati.error.org_prefix", "'XM-MMICD' is not one"),  # the old identifier
    ("DAC-41114", "iati.error.org_prefix", "'DAC-41114' is not one"),
    ("XM-DAC", "iati.error.org_identifier", "no organisation identifier after the agency prefix XM-DAC"),
    ("XM-DAC-", "iati.error.org_identifier", "after the agency prefix XM-DAC"),
    ("XM-DAC-41114/2", "iati.error.org_characters", "contains a space or one of / & | ?"),
    ("XM-DAC-41 114", "iati.error.org_characters", "contains a space"),
])
def test_a_malformed_reporting_organisation_is_refused_with_a_clear_message(ref, key, words):
    portfolio, _ = demo_portfolio(TODAY)
    with pytest.raises(IatiError) as err:
        iati_xml(portfolio, env={"MMICD_IATI_REPORTING_ORG": ref})
    assert err.value.key == key and words in err.value.message("en") and ref in err.value.message("en")
    assert "Rien n'a été écrit" in err.value.message("fr")


def test_no_reporting_organisation_at_all_is_refused():
    from dataclasses import replace

    config = replace(me_config(), reporting_org={})
    with pytest.raises(IatiError) as err:
        iati_xml(demo_portfolio(TODAY)[0], config=config, env={})
    assert "MMICD_IATI_REPORTING_ORG" in err.value.message("en")


# ---- dates and status ---------------------------------------------------------------------------
def test_actual_dates_are_the_recorded_ones_and_the_status_consistent():
    portfolio, _ = demo_portfolio(TODAY)
    doc = document(portfolio)
    found = {iv.id: (activity(doc, iv.id).find("activity-status").get("code"),
                     {d.get("type"): d.get("iso-date") for d in activity(doc, iv.id).findall("activity-date")})
             for iv in portfolio.interventions}
    assert found["NPL-URB-01"] == ("1", {"1": "2027-01-01", "3": "2030-12-31"})  # pipeline: planned only
    assert found["NPL-EMP-01"] == ("2", {"1": "2024-07-01", "2": "2024-07-15", "3": "2028-06-30"})
    assert found["NPL-ENV-01"] == ("6", {"1": "2024-04-01", "2": "2024-04-22", "3": "2027-03-31"})  # suspended
    assert found["NPL-EDU-01"] == ("4", {"1": "2022-07-01", "2": "2022-08-01", "3": "2025-12-31",
                                         "4": "2025-12-19"})  # completed
    assert found["NPL-PSD-01"] == ("5", {"1": "2024-07-01", "2": "2024-08-05", "3": "2026-06-30",
                                         "4": "2025-09-30"})  # cancelled before its planned end
    # every started or closed intervention (all but the pipeline one) has its actual start, none a copy
    # of a planned date (before issue #14's fix, the planned dates were written as actual ones)
    assert sum("2" in dates for _, dates in found.values()) == 11
    assert not [i for i, (_, d) in found.items()
                if d.get("2") == d["1"] or d.get("4") == d["3"]]


def test_a_status_without_its_actual_dates_or_an_actual_date_to_come_is_refused():
    portfolio, _ = demo_portfolio(TODAY)
    urb = next(i for i in portfolio.interventions if i.id == "NPL-URB-01")  # pipeline, nothing recorded
    assert activity_dates(urb.model_copy(update={"status": "cancelled"}), TODAY) == ("5", None, None)
    with pytest.raises(IatiError) as err:
        activity_dates(urb.model_copy(update={"status": "ongoing"}), TODAY)
    assert err.value.message("en").startswith(
        "Intervention NPL-URB-01 is 'ongoing' but has no actual start date (actual_start)")
    with pytest.raises(IatiError, match="NPL-URB-01 is 'suspended' but has no actual start date"):
        activity_dates(urb.model_copy(update={"status": "suspended"}), TODAY)
    emp = next(i for i in portfolio.interventions if i.id == "NPL-EMP-01")  # ongoing, started 2024-07-15
    with pytest.raises(IatiError, match="NPL-EMP-01 is 'completed' but has no actual end date"):
        activity_dates(emp.model_copy(update={"status": "completed"}), TODAY)
    assert activity_dates(emp.model_copy(update={"status": "completed", "actual_end": TODAY}), TODAY) == (
        "4", date(2024, 7, 15), TODAY)
    with pytest.raises(IatiError, match="the actual end date \\(actual_end\\) 2026-11-25 is after today"):
        activity_dates(emp.model_copy(update={"actual_end": TODAY + timedelta(days=1)}), TODAY)


# ---- results ------------------------------------------------------------------------------------
def test_one_result_period_per_milestone_interval_holds_its_target_and_its_actual():
    portfolio, _ = demo_portfolio(TODAY)
    doc = document(portfolio)
    periods = doc.findall(".//result/indicator/period")
    with_both = [p for p in periods if p.find("target") is not None and p.find("actual") is not None]
    assert all(p.find("target") is not None for p in periods)
    # 41 intervals (the milestones and end targets of the 18 indicators); 21 hold approved reports (the
    # linked indicators have no published figures here); before, 3 of 76 periods held both
    assert (len(periods), len(with_both)) == (41, 21)
    for indicator in doc.iter("indicator"):  # contiguous, never overlapping, from the day after the baseline
        spans = [(date.fromisoformat(p.find("period-start").get("iso-date")),
                  date.fromisoformat(p.find("period-end").get("iso-date"))) for p in indicator.findall("period")]
        baseline = date.fromisoformat(indicator.find("baseline").get("iso-date"))
        assert spans[0][0] == baseline + timedelta(days=1)
        assert all(b[0] == a[1] + timedelta(days=1) for a, b in zip(spans, spans[1:], strict=False))
    config = me_config()
    rem = next(i for i in portfolio.indicators if i.id == "REM-01-1")  # latest, percentage, 3 reports
    assert [(p["start"], p["end"], p["target"], p["actual"] and round(p["actual"].value, 2))
            for p in result_periods(rem, portfolio.reports, None, config, "en")] == [
        (date(2025, 1, 1), date(2025, 12, 31), 3.6, 3.8),  # 91.2 / 2400
        (date(2026, 1, 1), date(2026, 12, 31), 3.2, 3.6),  # 86.4 / 2400
        (date(2027, 1, 1), date(2027, 12, 31), 3.0, None)]


def test_the_actual_of_the_latest_interval_is_the_dashboards_current_value():
    portfolio, _ = demo_portfolio(TODAY)
    config = me_config()
    checked = 0
    for ind in portfolio.indicators:
        counted = [r for r in portfolio.reports if r.indicator_id == ind.id and r.state in config.counted_states]
        if ind.link is not None or not counted:
            continue
        latest = max(r.period_end for r in counted)
        period = next(p for p in result_periods(ind, portfolio.reports, None, config, "en")
                      if p["start"] <= latest <= p["end"])
        assert period["actual"].value == pytest.approx(current_value(ind, counted)[0].value), ind.id
        checked += 1
    assert checked == 14


# ---- language -----------------------------------------------------------------------------------
def test_xml_lang_is_the_language_of_the_intervention_not_of_the_interface():
    portfolio, _ = demo_portfolio(TODAY)
    portfolio.interventions = [iv.model_copy(update={"language": "fr", "title": "Compétences des migrants"})
                               if iv.id == "NPL-EMP-01" else iv for iv in portfolio.interventions]
    doc = document(portfolio)
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    assert {a.findtext("iati-identifier")[-10:]: a.get(xml_lang) for a in doc.findall("iati-activity")
            if a.get(xml_lang) != "en"} == {"NPL-EMP-01": "fr"}
    emp = activity(doc, "NPL-EMP-01")
    assert emp.findtext("title/narrative") == "Compétences des migrants (illustratif)"
    assert [r.findtext("title/narrative") for r in emp.findall("result")] == [
        "Impact : Compétences des migrants", "Effet : Compétences des migrants", "Produit : Compétences des migrants"]
    assert emp.findtext("sector[@vocabulary='99']/narrative") == "Emploi"


def test_a_language_that_is_not_iso_639_1_is_refused():
    portfolio, _ = demo_portfolio(TODAY)
    with pytest.raises(ValidationError, match="'english' is not an ISO 639-1 language code"):
        Intervention(**(portfolio.interventions[0].model_dump() | {"language": "english"}))
    # an intervention that bypassed validation: the export names it, in the user's language
    portfolio.interventions[3] = portfolio.interventions[3].model_copy(update={"language": "xx"})
    with pytest.raises(IatiError) as err:
        iati_xml(portfolio, env={})
    assert err.value.message("es").startswith(f"Intervención {portfolio.interventions[3].id}: el idioma «xx»")


def test_the_workbook_carries_the_language_and_refuses_a_bad_one(store):
    portfolio, _ = demo_portfolio(TODAY)
    portfolio.interventions[0] = portfolio.interventions[0].model_copy(update={"language": "ne"})
    data = export_workbook(portfolio, "en")
    done = import_workbook(store, data, user=MINISTRY, lang="en", dry_run=False)
    assert done.stored
    languages = {iv.id: iv.language for iv in repo.load_portfolio(store).interventions}
    assert languages[portfolio.interventions[0].id] == "ne" and set(languages.values()) == {"en", "ne"}
    wb = load_workbook(io.BytesIO(data))
    ws = wb["interventions"]
    column = [c.value for c in ws[1]].index("Language of the texts (ISO 639-1)") + 1
    ws.cell(3, column).value = "english"
    out = io.BytesIO()
    wb.save(out)
    fresh = Store(f"sqlite:///{store.data_dir / 'other.sqlite'}", data_dir=store.data_dir)
    result = import_workbook(fresh, out.getvalue(), user=MINISTRY, lang="en", dry_run=False)
    assert not result.stored and repo.is_empty(fresh)
    errors = [(i.sheet, i.row, i.column, i.value) for i in result.issues if i.level == "error"]
    # the cell is named (its indicators are then refused as belonging to an unknown intervention)
    assert [e for e in errors if e[0] == "interventions"] == [
        ("interventions", 3, "Language of the texts (ISO 639-1)", "english")]
    fresh.engine.dispose()


# ---- the command line ---------------------------------------------------------------------------
@pytest.fixture
def cli_store(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.delenv("MMICD_IATI_REPORTING_ORG", raising=False)
    s = Store(store_url)
    ensure_demo(s, today=date.today())
    yield s
    s.engine.dispose()


def test_the_command_writes_the_export_of_the_stored_portfolio(cli_store, tmp_path, capsys):
    out = tmp_path / "activities.xml"
    assert main(["iati", "--country", "NPL", "--out", str(out)]) == 0
    assert "12 activities of NPL written to" in capsys.readouterr().err
    stored = repo.load_portfolio(cli_store, "NPL")
    assert out.read_bytes() == iati_xml(export_portfolio(cli_store, "NPL"))
    assert stored.interventions and {iv.language for iv in stored.interventions} == {"en"}
    doc = etree.fromstring(out.read_bytes())
    assert doc.get("generated-datetime") == "2026-11-24T09:00:00+00:00"  # SOURCE_DATE_EPOCH


def test_the_command_refuses_bad_input_and_writes_nothing(cli_store, tmp_path, monkeypatch, capsys):
    out = tmp_path / "activities.xml"
    monkeypatch.setenv("MMICD_IATI_REPORTING_ORG", "XM-MMICD-TASKFORCE")
    assert main(["--lang", "fr", "iati", "--country", "NPL", "--out", str(out)]) == 2
    assert "« XM-MMICD-TASKFORCE » ne commence pas par une agence d'enregistrement" in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.delenv("MMICD_IATI_REPORTING_ORG")
    with cli_store.engine.begin() as conn:  # a language written behind the application's back
        conn.exec_driver_sql("UPDATE me_interventions SET language = 'xx' WHERE id = 'NPL-EMP-01'")
    with pytest.raises(ValidationError):
        repo.load_portfolio(cli_store, "NPL")
    assert main(["iati", "--country", "Atlantis", "--out", str(out)]) == 2
    assert "Unknown country: Atlantis" in capsys.readouterr().err
    assert not out.exists()


def test_the_command_writes_the_same_file_as_the_page(app_env, tmp_path, monkeypatch):
    """The Interventions page's download and ``python -m mmicd iati`` give the same bytes (on the seeded
    store with the published demo statistics, so that the linked indicators have actuals)."""
    from streamlit.testing.v1 import AppTest

    import mmicd.me.iati
    from mmicd.demo import ensure_demo_uploads
    from tests.me.test_pages import APP, lfs_migrant_unemployment

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("MMICD_RAISE_ERRORS", "1")
    monkeypatch.delenv("MMICD_IATI_REPORTING_ORG", raising=False)
    store = Store(app_env)
    ensure_demo_uploads(store)
    ensure_demo(store)
    store.engine.dispose()
    produced = []
    original = mmicd.me.iati.iati_xml

    def spy(*args, **kwargs):
        produced.append(original(*args, **kwargs))
        return produced[-1]

    monkeypatch.setattr(mmicd.me.iati, "iati_xml", spy)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    assert not at.exception, at.exception
    monkeypatch.setattr(mmicd.me.iati, "iati_xml", original)
    [page] = set(produced)
    out = tmp_path / "activities.xml"
    assert main(["iati", "--country", "NPL", "--out", str(out)]) == 0
    assert out.read_bytes() == page
    linked = [a for a in etree.fromstring(page).iter("indicator") if a.find("reference").get("code") == "EMP-01-3"]
    published = lfs_migrant_unemployment(app_env)[0]  # the engine's figure from the demo LFS
    assert float(linked[0].find("period/actual").get("value")) == pytest.approx(published, rel=1e-5)


def test_the_page_names_a_malformed_reporting_organisation_instead_of_offering_the_file(app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.me.test_pages import APP

    monkeypatch.setenv("MMICD_IATI_REPORTING_ORG", "XM-MMICD-TASKFORCE")
    store = Store(app_env)
    ensure_demo(store)
    store.engine.dispose()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["lang"] = "es"
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    assert not at.exception, at.exception
    assert "IATI 2.03 XML" not in [b.proto.label for b in at.get("download_button")]
    assert any("«XM-MMICD-TASKFORCE» no empieza por una agencia de registro" in e.value for e in at.error)
