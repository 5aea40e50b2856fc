"""`python -m mmicd ingest` loads M&E portfolio workbooks through the M&E import: same issues, same
dry run, the ingest command's JSON report and exit codes."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mmicd.cli import main
from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio
from mmicd.me.workbook_write import export_workbook
from mmicd.store import Store

TODAY = date(2026, 11, 24)
GOOD_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "good" / "census_fr.csv"


@pytest.fixture
def cli_env(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    return store_url


@pytest.fixture
def portfolio_file(tmp_path) -> Path:
    portfolio, _ = demo_portfolio(TODAY)
    path = tmp_path / "portefeuille.xlsx"
    path.write_bytes(export_workbook(portfolio, "fr"))
    return path


def test_dry_run_then_store_a_portfolio_workbook(cli_env, portfolio_file, capsys):
    store = Store(cli_env)
    assert main(["ingest", str(portfolio_file), "--dry-run", "--json"]) == 0  # detected from its sheets
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ok" and not report["stored"]
    [d] = report["datasets"]
    assert (d["kind"], d["layout"], d["countries"]) == ("interventions", "me_portfolio", ["NPL"])
    assert d["counts"]["interventions"] == 12 and d["counts"]["indicators"] == 18
    assert repo.is_empty(store)
    assert main(["ingest", str(portfolio_file), "--kind", "interventions", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stored"]
    loaded = repo.load_portfolio(store)
    assert len(loaded.interventions) == 12 and len(loaded.indicators) == 18
    audit = store.audit(actor="admin")
    assert (audit["action"] == "me:intervention_created").sum() == 12  # in the audit trail, as the account


def test_a_broken_portfolio_names_the_cell_and_stores_nothing(cli_env, portfolio_file, capsys):
    wb = load_workbook(portfolio_file)
    wb["interventions"]["E2"] = "fishing"  # unknown sector
    out = io.BytesIO()
    wb.save(out)
    portfolio_file.write_bytes(out.getvalue())
    assert main(["--lang", "fr", "ingest", str(portfolio_file), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    errors = [(i["sheet"], i["row"], i["column"], i["value"]) for i in report["issues"] if i["level"] == "error"]
    assert ("interventions", 2, "Secteur", "fishing") in errors
    assert repo.is_empty(Store(cli_env))


def test_a_portfolio_is_not_mixed_with_statistical_tables(cli_env, portfolio_file, capsys):
    assert main(["ingest", str(portfolio_file), str(GOOD_CSV), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "error" and "on its own" in report["issues"][0]["message"]
    store = Store(cli_env)
    assert repo.is_empty(store) and store.datasets() == []


def test_the_tables_path_points_a_portfolio_to_the_m_e_import(portfolio_file):
    from mmicd.ingest import Upload, prepare

    prep = prepare([Upload(portfolio_file.name, portfolio_file.read_bytes())])
    assert not prep.ok and not prep.datasets
    assert [i.message for i in prep.issues] == [
        "This is an M&E portfolio workbook (interventions, indicators, targets, actuals): load it on the "
        "Interventions page (tab “Export and import”), or with python -m mmicd ingest."]
    other = prepare([Upload("census.csv", GOOD_CSV.read_bytes())], kind="interventions")
    assert [i.level for i in other.issues] == ["error"] and "portfolio workbook" in other.issues[0].message
