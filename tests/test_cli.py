"""The command line: help in three languages, seed, datasets; errors without tracebacks; every
command acts as a named account, with its role's permissions, in the audit trail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user, update_user
from mmicd.cli import main
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store

ROOT = Path(__file__).resolve().parents[1]


def test_help_runs_as_a_module_and_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "mmicd", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    assert "seed" in out.stdout and "datasets" in out.stdout


def test_help_in_spanish(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--lang", "es", "seed", "--help"])
    assert exit_.value.code == 0
    assert "Cargar la base internacional" in capsys.readouterr().out


def test_seed_loads_once_then_reports_nothing_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MMICD_DATABASE_URL", raising=False)
    from mmicd.baseline import catalogue

    n = len(catalogue())  # one published dataset per baseline table (6: IMS stocks and refugees, UNHCR, WPP, WDI, KNOMAD)
    assert n == 6
    assert main(["seed"]) == 0
    assert f"Loaded {n} datasets" in capsys.readouterr().out
    assert main(["--lang", "fr", "seed"]) == 0
    assert "Rien à charger" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == n and all("\tpublished\t" in line for line in lines)
    assert any("UN DESA, International Migrant Stock\t2020" in line for line in lines)


def test_errors_are_explained_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    assert main(["datasets"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err


# ---- every command acts as a named account, with that account's role ----------------------------------
PASSWORD = "long enough 1"


def frame(area: str) -> pd.DataFrame:
    return pd.DataFrame({"measure": "POP", "ref_area": area, "time_period": "2020", "sex": ["_T", "F", "M"],
                         "migrant_status": "MS_MIGRANT", "value": [100.0, 60.0, 40.0]})


@pytest.fixture
def cli_store(store_url, tmp_path, monkeypatch):
    """A store with a published NPL version, a draft for NPL and one for SEN, and an account per role."""
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    s = Store(store_url, data_dir=tmp_path / "cli")
    ids = {}
    for name, area, status in (("published", "NPL", Status.PUBLISHED), ("npl_draft", "NPL", Status.DRAFT),
                               ("sen_draft", "SEN", Status.DRAFT)):
        meta = DatasetMeta(kind=Kind.MIGRANT_STOCK, source=f"Office {name}", edition="2020", scope=area)
        ids[name] = s.add_dataset(meta, frame(area), actor="setup", status=status).id
    for username, role, countries in (("vic", Role.VIEWER, None), ("ana", Role.ANALYST, "NPL"),
                                      ("sam", Role.ANALYST, "SEN"), ("root", Role.ADMIN, None)):
        create_user(s, SYSTEM, username=username, role=role, password=PASSWORD, countries=countries)
    s.ids = ids
    yield s
    s.engine.dispose()


def as_user(monkeypatch, name: str | None, password: str | None = PASSWORD) -> None:
    for variable, value in (("MMICD_USER", name), ("MMICD_PASSWORD", password)):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)


def listed(capsys) -> set[int]:
    return {int(line.split("\t")[0]) for line in capsys.readouterr().out.splitlines()}


def test_no_command_without_a_named_account(cli_store, monkeypatch, capsys):
    as_user(monkeypatch, None)
    assert main(["datasets"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "Name the account to act as: --user NAME" in out.err
    as_user(monkeypatch, "vic", "wrong password")
    assert main(["datasets"]) == 2
    assert capsys.readouterr().err.strip() == "Wrong user name or password."
    assert main(["--lang", "fr", "--user", "nobody", "datasets"]) == 2  # unknown: the same answer
    assert capsys.readouterr().err.strip() == "Nom d'utilisateur ou mot de passe incorrect."
    failed = cli_store.audit(action="signin:failed")
    assert failed["actor"].tolist() == ["vic", "nobody"]  # counted like on the sign-in page
    update_user(cli_store, SYSTEM, "vic", active=False)
    as_user(monkeypatch, "vic")
    assert main(["datasets"]) == 2
    assert "deactivated" in capsys.readouterr().err


def test_the_password_is_asked_for_in_a_terminal_only(cli_store, monkeypatch, capsys):
    import getpass

    as_user(monkeypatch, "vic", None)
    prompts = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert main(["datasets"]) == 2
    assert "No password for vic: set MMICD_PASSWORD" in capsys.readouterr().err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or PASSWORD)
    assert main(["--lang", "es", "datasets"]) == 0
    assert prompts == ["Contraseña de vic: "] and listed(capsys) == {cli_store.ids["published"]}
    assert cli_store.audit(action="signin")["actor"].tolist() == ["vic"]


def test_drafts_only_for_the_roles_and_countries_that_may_read_them(cli_store, monkeypatch, capsys, tmp_path):
    ids = cli_store.ids
    for name, visible in (("vic", {"published"}), ("ana", {"published", "npl_draft"}),
                          ("sam", {"published", "sen_draft"}), ("root", set(ids))):
        as_user(monkeypatch, name)
        assert main(["datasets"]) == 0
        assert listed(capsys) == {ids[v] for v in visible}, name
    as_user(monkeypatch, "vic")
    assert main(["observations", "--dataset", str(ids["npl_draft"])]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == (
        f"The account vic (Viewer) may not read dataset version {ids['npl_draft']} (Draft). Nothing was written.")
    assert main(["observations", "--dataset", str(ids["published"])]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # header and three rows
    assert main(["indicators", "--country", "NPL", "--include-drafts"]) == 2
    assert capsys.readouterr().err.strip() == "The account vic (Viewer) may not do this for NPL. Nothing was changed."
    as_user(monkeypatch, "ana")
    assert main(["observations", "--dataset", str(ids["npl_draft"]), "--out", str(tmp_path / "d.csv")]) == 0
    assert main(["observations", "--dataset", str(ids["sen_draft"]), "--out", str(tmp_path / "s.csv")]) == 2
    assert not (tmp_path / "s.csv").exists()
    assert main(["indicators", "--country", "SEN", "--include-drafts"]) == 2
    assert "may not do this for SEN" in capsys.readouterr().err


def test_storing_needs_the_role_and_the_audit_names_the_account(cli_store, monkeypatch, capsys):
    census = str(ROOT / "tests" / "fixtures" / "good" / "census_fr.csv")  # Senegal
    before = [v.id for v in cli_store.datasets()]
    for name, options, message in (("vic", [], "vic (Viewer) may not do this."),
                                   ("ana", [], "ana (Analyst) may not do this for SEN."),
                                   ("sam", ["--publish"], "sam (Analyst) may not do this for SEN.")):
        as_user(monkeypatch, name)
        assert main(["ingest", census, *options]) == 2
        assert message in capsys.readouterr().err
        assert [v.id for v in cli_store.datasets()] == before  # nothing stored
    assert main(["seed"]) == 2 and "may not do this" in capsys.readouterr().err
    as_user(monkeypatch, "sam")
    assert main(["ingest", census, "--source", "ANSD"]) == 0
    [new] = [v for v in cli_store.datasets() if v.id not in before]
    assert (new.status, new.scope, new.loaded_by) == (Status.DRAFT, "SEN", "sam")
    assert cli_store.audit(dataset_id=new.id)["actor"].tolist() == ["sam"]


def test_the_first_admin_from_the_environment_on_a_store_without_accounts(store_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MMICD_ADMIN_PASSWORD")
    assert main(["datasets"]) == 2
    assert "no account yet: set MMICD_ADMIN_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("MMICD_ADMIN_PASSWORD", PASSWORD)
    as_user(monkeypatch, "admin", PASSWORD)
    assert main(["datasets"]) == 0
    s = Store(store_url, data_dir=tmp_path)
    assert s.audit(action="user:create")["actor"].tolist() == ["system"]
    assert s.audit(action="signin")["actor"].tolist() == ["admin"]
    s.engine.dispose()


def test_a_store_error_is_told_in_the_users_language(tmp_path, monkeypatch, capsys):
    # an error the store words itself (here: a series kept busy by concurrent loads) reaches the
    # command line in the language asked for, not in the English of its exception text
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MMICD_DATABASE_URL", raising=False)
    from mmicd import workflow
    from mmicd.i18n import t
    from mmicd.store import StoreBusy

    def busy(*args, **kwargs):
        raise StoreBusy()

    monkeypatch.setattr(workflow, "visible_datasets", busy)
    assert main(["--lang", "fr", "datasets"]) == 1
    err = capsys.readouterr().err
    assert t("store.busy", "fr") in err and t("store.busy", "en") not in err
