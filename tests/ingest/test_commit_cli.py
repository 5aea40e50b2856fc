"""Dry run with diff, replace/add, one transaction for all datasets, annotate, and the command line."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from mmicd.cli import main
from mmicd.ingest import Upload, annotate, commit, prepare
from mmicd.model import Status
from tests.ingest.conftest import BAD, GOOD, snapshot, upload

V1 = b"ref_area,time_period,sex,value\nNPL,2020,F,10\nNPL,2020,M,12\nNPL,2021,F,11\n"
V2 = b"ref_area,time_period,sex,value\nNPL,2020,F,10\nNPL,2020,M,13\nNPL,2022,F,15\n"


def _obs(store, version):
    return store.observations(dataset_ids=[version.id], status=None)


def test_dry_run_diff_replace_and_add(store):
    first = commit(prepare([Upload("v1.csv", V1)], source="NSO"), store, actor="a", publish=True)
    prep = prepare([Upload("v2.csv", V2)], source="NSO", store=store)
    diff = prep.datasets[0].diff.set_index(["time_period", "sex"])
    assert diff.loc[("2020", "M"), "change"] == "changed" and diff.loc[("2020", "M"), "old_value"] == 12
    assert diff.loc[("2022", "F"), "change"] == "added" and diff.loc[("2021", "F"), "change"] == "removed"
    assert ("2020", "F") not in diff.index  # unchanged
    replaced = commit(prep, store, actor="a")
    assert replaced[0].status == Status.DRAFT and replaced[0].version == 2
    assert len(_obs(store, replaced[0])) == 3
    added = commit(prep, store, actor="a", mode="add", publish=True)
    rows = _obs(store, added[0]).set_index(["time_period", "sex"])["value"].to_dict()
    assert rows == {("2020", "F"): 10, ("2020", "M"): 13, ("2021", "F"): 11, ("2022", "F"): 15}
    assert store.dataset(first[0].id).status == Status.SUPERSEDED


def test_all_datasets_of_a_preparation_in_one_transaction(store, monkeypatch):
    prep = prepare([upload(GOOD / "census_fr.csv"), upload(GOOD / "ipums_microdata.csv"),
                    upload(GOOD / "census_es.csv")])
    assert prep.ok and len(prep.datasets) == 3
    before = snapshot(store)
    import mmicd.store as store_module

    calls = {"n": 0}
    real = store_module._bulk_insert

    def failing(conn, dataset_id, frame):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(conn, dataset_id, frame)

    monkeypatch.setattr(store_module, "_bulk_insert", failing)
    with pytest.raises(RuntimeError):
        commit(prep, store, actor="a")
    assert snapshot(store) == before  # no dataset row, no observation, no audit entry, no Parquet file
    monkeypatch.setattr(store_module, "_bulk_insert", real)
    versions = commit(prep, store, actor="a")
    assert [v.form.value for v in versions] == ["observations", "microdata", "observations"]
    assert store.microdata(versions[1].id)["sex"].tolist() == ["M", "F", "F"]


def test_one_bad_file_blocks_the_whole_preparation(store):
    prep = prepare([upload(GOOD / "census_fr.csv"), upload(BAD / "negative_count.csv")])
    assert not prep.ok and len(prep.datasets) == 2
    before = snapshot(store)
    with pytest.raises(Exception):  # noqa: B017 - IssuesError
        commit(prep, store, actor="a")
    assert snapshot(store) == before


def test_annotated_workbook_marks_every_problem_cell():
    body = (BAD / "text_in_number.xlsx").read_bytes()
    issues = prepare([Upload("text_in_number.xlsx", body)], lang="fr").issues
    out = annotate(Upload("text_in_number.xlsx", body), issues, lang="fr")
    wb = openpyxl.load_workbook(io.BytesIO(out))
    assert wb.sheetnames[0] == "Problèmes"
    cell = wb["data"]["D3"]
    assert cell.value == "abc" and cell.comment is not None and "pas un nombre" in cell.comment.text
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    summary = list(wb["Problèmes"].iter_rows(values_only=True))
    assert summary[0][0] == "Niveau" and summary[1][3] == 3 and summary[1][4] == "value"


def test_annotated_csv_becomes_a_workbook():
    body = (BAD / "unknown_country.csv").read_bytes()
    issues = prepare([Upload("u.csv", body)]).issues
    wb = openpyxl.load_workbook(io.BytesIO(annotate(Upload("u.csv", body), issues)))
    assert wb["data"]["A2"].value == "Atlantis" and wb["data"]["A2"].comment is not None


@pytest.fixture
def cli_env(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MMICD_DATABASE_URL", store_url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path / "cli"))
    return store_url


def test_cli_json_and_exit_codes(cli_env, capsys):
    from mmicd.store import Store

    assert main(["ingest", str(GOOD / "census_fr.csv"), "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ok" and report["datasets"][0]["rows"] == 3 and report["datasets"][0]["id"] is None
    assert report["datasets"][0]["countries"] == ["SEN"] and report["datasets"][0]["years"] == ["2013"]
    store = Store(cli_env)
    assert store.datasets() == []
    assert main(["ingest", str(GOOD / "census_fr.csv"), "--json", "--publish", "--source", "ANSD"]) == 0
    report = json.loads(capsys.readouterr().out)
    version = store.dataset(report["datasets"][0]["id"])
    assert version.status == Status.PUBLISHED and version.source == "ANSD" and version.scope == "SEN"
    assert main(["ingest", str(BAD / "negative_count.csv"), str(GOOD / "census_es.csv"), "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "error"
    issue = report["issues"][0]  # the original fields keep their names; check and consequences were added
    assert issue | {"message": ""} == {"level": "error", "file": "negative_count.csv", "sheet": None, "row": 3,
                                       "column": "value", "value": "-5", "message": "", "check": "negative",
                                       "consequences": []}
    assert len(store.datasets()) == 1  # nothing stored when blocked


def test_cli_mapping_profile_and_language(cli_env, tmp_path, capsys):
    data = tmp_path / "de.csv"
    data.write_bytes(b"Land;Jahr;Anzahl\nNepal;2021;10\n")
    profile = tmp_path / "map.yml"
    profile.write_text("kind: census\ncolumns: {ref_area: Land, time_period: Jahr, value: Anzahl}\n")
    assert main(["ingest", str(data), "--mapping", str(profile), "--dry-run"]) == 0
    assert main(["--lang", "es", "ingest", str(tmp_path / "missing.csv")]) == 2
    assert "Archivo no encontrado" in capsys.readouterr().err
    assert main(["ingest", str(data), "--mapping", str(data)]) == 2
