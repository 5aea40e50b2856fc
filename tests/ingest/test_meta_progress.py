"""Title, basis of migrant status and notes given when loading (API and command line), and progress
reported within a file (reading, checking, storing) through a callback."""

from __future__ import annotations

import json

import pytest

from mmicd.cli import main
from mmicd.ingest import BASES, Upload, commit, prepare, with_meta
from mmicd.io import read, xlsx_chunks
from tests.ingest.conftest import GOOD, upload
from tests.ingest.test_commit_cli import cli_env  # noqa: F401 - the fixture
from tests.ingest.test_xlsx_pieces import _workbook


def test_title_basis_notes_on_every_dataset(store):
    prep = prepare([upload(GOOD / "census_fr.csv"), upload(GOOD / "wdi_download.csv")], title="Recensement 2013",
                   basis="country of birth", notes="Chiffres provisoires")
    assert prep.ok and len(prep.datasets) == 2
    census, wdi = sorted(prep.datasets, key=lambda d: d.meta.kind.value)
    assert (census.meta.kind.value, wdi.meta.kind.value) == ("census", "remittances")
    assert census.meta.title == wdi.meta.title == "Recensement 2013"
    assert census.meta.basis == "country of birth"
    assert wdi.meta.basis == ""                       # remittances have no migrant status
    assert census.meta.notes == "Chiffres provisoires"
    # notes a dataset already has (a layout's) are kept after the ones given
    assert with_meta(prep, notes="Révisé").datasets[0].meta.notes == "Révisé\nChiffres provisoires"
    versions = commit(prep, store, actor="test")
    stored = {v.kind.value: v for v in versions}
    assert stored["census"].title == "Recensement 2013" and stored["census"].basis == "country of birth"
    assert stored["census"].notes == "Chiffres provisoires"


def test_with_meta_keeps_the_input_and_a_layout_basis():
    prep = prepare([upload(GOOD / "census_fr.csv")])
    changed = with_meta(prep, basis="citizenship", title="T")
    assert prep.datasets[0].meta.basis == "" and prep.datasets[0].meta.title != "T"
    assert changed.datasets[0].meta.basis == "citizenship" and changed.datasets[0].meta.title == "T"
    again = with_meta(changed, basis="country of birth")     # a stated basis is not overwritten
    assert again.datasets[0].meta.basis == "citizenship"
    assert with_meta(prep) is prep


def test_unknown_basis_is_an_error():
    prep = prepare([upload(GOOD / "census_fr.csv")], basis="birthplace", lang="fr")
    assert not prep.ok and prep.datasets == []
    assert "birthplace" in prep.issues[0].message and all(b in prep.issues[0].message for b in BASES)


def test_cli_title_basis_notes(cli_env, capsys):  # noqa: F811 - the fixture
    from mmicd.store import Store

    assert main(["ingest", str(GOOD / "census_fr.csv"), "--json", "--title", "Recensement général 2013",
                 "--basis", "birth", "--notes", "Provisoire"]) == 0
    report = json.loads(capsys.readouterr().out)
    version = Store(cli_env).dataset(report["datasets"][0]["id"])
    assert (version.title, version.basis, version.notes) == ("Recensement général 2013", "country of birth",
                                                             "Provisoire")
    assert main(["ingest", str(GOOD / "census_fr.csv"), "--basis", "citizenship", "--dry-run"]) == 0
    with pytest.raises(SystemExit):                          # only birth or citizenship
        main(["ingest", str(GOOD / "census_fr.csv"), "--basis", "nationality"])


def test_progress_within_a_long_file(monkeypatch, store):
    """A large sheet read in pieces reports many fractions while reading, then checking, then done."""
    monkeypatch.setattr(read, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(xlsx_chunks, "CHUNK_BYTES", 30_000)
    read._CACHE.clear()
    calls: list[tuple[float, str]] = []
    prep = prepare([Upload("small.csv", (GOOD / "census_fr.csv").read_bytes()),
                    Upload("lfs.xlsx", _workbook(4000))], kind="auto",
                   progress=lambda f, phase: calls.append((f, phase)))
    assert prep.ok and len(prep.datasets) == 2
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and calls[-1][1] == "done"
    assert all(0.0 <= f <= 1.0 for f in fractions)
    # second file (fractions 0.5..1): reading takes its first 80 %, in many steps; then checking
    reading = [f for f, p in calls if p == "reading" and 0.5 < f < 0.9]
    checking = [f for f, p in calls if p == "checking the values" and f >= 0.9]
    assert len(set(reading)) >= 5 and len(set(checking)) >= 5
    assert max(f for f, p in calls if p == "reading") <= min(checking)
    stored: list[tuple[float, str]] = []
    commit(prep, store, actor="test", progress=lambda f, phase: stored.append((f, phase)))
    assert stored == [(0.0, "storing"), (1.0, "done")]


def test_progress_phase_words_are_translated():
    calls: list[str] = []
    prepare([upload(GOOD / "census_fr.csv")], lang="es", progress=lambda f, phase: calls.append(phase))
    assert "lectura" in calls and "verificación de los valores" in calls and calls[-1] == "terminado"
