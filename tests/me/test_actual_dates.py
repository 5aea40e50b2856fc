"""Recorded actual start and end dates of an intervention (issue #14): checked by the model, carried by
the workbook, added by migration 0013; the IATI export takes its actual dates from them only and
refuses, naming the intervention and the field, a started intervention that has none."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import inspect, text

from mmicd.cli import main
from mmicd.me import repository as repo
from mmicd.me.demo import demo_portfolio, ensure_demo
from mmicd.me.model import Intervention
from mmicd.me.workbook_read import import_workbook
from mmicd.me.workbook_write import export_workbook
from mmicd.store import Store, _alembic_config
from tests.me.test_iati import EPOCH, TODAY
from tests.me.test_repository import IV
from tests.me.users import MINISTRY, PLANNER


def test_an_actual_end_needs_an_actual_start_not_after_it():
    assert IV.actual_start is None and IV.actual_end is None  # optional: nothing recorded
    same_day = IV.model_copy(update={"actual_start": date(2025, 2, 1), "actual_end": date(2025, 2, 1)})
    assert Intervention(**same_day.model_dump()).actual_end == date(2025, 2, 1)
    for start in (date(2025, 2, 2), None):
        with pytest.raises(ValidationError, match="actual end date without an actual start date, or before it"):
            Intervention(**IV.model_dump() | {"actual_start": start, "actual_end": date(2025, 2, 1)})


def test_the_workbook_carries_both_actual_dates(store):
    portfolio, _ = demo_portfolio(TODAY)
    expected = {iv.id: (iv.actual_start, iv.actual_end) for iv in portfolio.interventions}
    assert expected["NPL-EDU-01"] == (date(2022, 8, 1), date(2025, 12, 19))
    assert expected["NPL-URB-01"] == (None, None)
    done = import_workbook(store, export_workbook(portfolio, "fr"), user=MINISTRY, lang="fr", dry_run=False)
    assert done.stored, done.issues
    assert {iv.id: (iv.actual_start, iv.actual_end) for iv in repo.load_portfolio(store).interventions} == expected


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


def forget_actual_start(store: Store, iv_id: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE me_interventions SET actual_start = NULL WHERE id = :id"), {"id": iv_id})


def test_the_command_refuses_a_started_intervention_without_its_actual_start(cli_store, tmp_path, capsys):
    out = tmp_path / "activities.xml"
    assert main(["iati", "--country", "NPL", "--out", str(out)]) == 0  # the demo as loaded: complete
    out.unlink()
    capsys.readouterr()
    forget_actual_start(cli_store, "NPL-GOV-01")  # ongoing
    assert main(["--lang", "es", "iati", "--country", "NPL", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        "La intervención NPL-GOV-01 está «ongoing» pero no tiene fecha de inicio real (actual_start): "
        "introdúzcala; nunca se deduce del inicio previsto. No se escribió nada.")
    assert not out.exists()


def test_the_page_names_the_intervention_without_its_actual_start_instead_of_offering_the_file(app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.me.test_pages import APP

    monkeypatch.delenv("MMICD_IATI_REPORTING_ORG", raising=False)
    store = Store(app_env)
    ensure_demo(store)
    forget_actual_start(store, "NPL-ENV-01")  # suspended
    store.engine.dispose()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["lang"] = "fr"
    at.run()
    at.switch_page("pages/me_interventions.py").run()
    assert not at.exception, at.exception
    assert "IATI 2.03 XML" not in [b.proto.label for b in at.get("download_button")]
    assert any("L'intervention NPL-ENV-01 est « suspended » mais n'a pas de date de début effective (actual_start)"
               in e.value for e in at.error)


def test_migration_0013_adds_and_removes_the_columns_keeping_the_interventions(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    repo.save_intervention(store, IV.model_copy(update={"actual_start": date(2025, 1, 6)}), user=PLANNER)
    cfg = _alembic_config()

    def columns() -> set[str]:
        return {c["name"] for c in inspect(store.engine).get_columns("me_interventions")}

    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    assert not {"actual_start", "actual_end"} & columns()
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT id, language FROM me_interventions")).all() == [(IV.id, "en")]
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    assert {"actual_start", "actual_end"} <= columns()
    assert repo.load_portfolio(store).intervention(IV.id) == IV  # back, with nothing recorded
    store.engine.dispose()
