"""The command line: help in three languages, seed, datasets; errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mmicd.cli import main

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
    assert f"Loaded {n} dataset(s)" in capsys.readouterr().out
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
