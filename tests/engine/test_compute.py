"""The engine on a store: every catalogue indicator computes on test data; the demo data's checks;
exports; the command line."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from mmicd.engine import OUTPUT_COLUMNS, catalogue, compute
from mmicd.engine.export import EXPORT_COLUMNS
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.sdmx import frames
from tests.engine.conftest import add_flows_refugees_labour, obs


def test_every_catalogue_indicator_computes_on_test_data(demo_store):
    # remittance costs have no store data of their own in the fixture: add a published table
    cost = obs([{"counterpart_area": "QAT", "value": 4.1}, {"value": 3.6}], measure="REM_COST")
    demo_store.add_dataset(DatasetMeta(kind=Kind.REMITTANCES, source="Test RPW", edition="2024"),
                           cost.drop(columns=["dataset_id", "source", "edition", "kind"]), actor="test",
                           status=Status.PUBLISHED)
    add_flows_refugees_labour(demo_store)
    result = compute(demo_store, country="NPL")
    table = result.table
    assert list(table.columns) == OUTPUT_COLUMNS
    computed = set(table["indicator"])
    assert computed == set(catalogue()), set(catalogue()) - computed
    assert table["source"].notna().all() and (table["source"] != "").all()
    assert table["obs_status"].isin(["A", "E", "U", "Q"]).all()
    # survey rows carry uncertainty; table rows do not
    lfs = table.loc[table["source"] == "Test LFS"]
    assert lfs["n_obs"].notna().all() and lfs.loc[lfs["obs_status"] != "Q", "se"].notna().all()
    emig = table.loc[(table["indicator"] == "emig_stock") & (table["sex"] == "_T")
                     & (table["counterpart_area"] == "_T")]
    assert list(emig["value"]) == [31200.0]


def test_drafts_are_read_only_when_asked(demo_store, lfs):
    demo_store.add_microdata(DatasetMeta(kind=Kind.LFS, source="Draft LFS", edition="2024", scope="NPL"),
                             lfs.assign(time_period="2024"), actor="test")
    published = compute(demo_store, country="NPL", indicators=["lfpr"]).table
    drafts = compute(demo_store, country="NPL", indicators=["lfpr"], include_drafts=True).table
    assert set(published["source"]) == {"Test LFS"}
    assert set(drafts["source"]) == {"Test LFS", "Draft LFS"}  # both kept and labelled, never blended
    assert set(compute(demo_store, country="NPL", indicators=["lfpr"], year="2024",
                       include_drafts=True).table["time_period"]) == {"2024"}


def test_demo_data_checks(store):
    from mmicd.demo import demo_files, ensure_demo_uploads

    ensure_demo_uploads(store)
    checks = {f.kind: f.checks for f in demo_files() if "provinces" not in f.path.name}   # (national demo)
    t = compute(store, country="NPL").table

    def value(ind, **dims):
        rows = t.loc[t["indicator"] == ind]
        for col, code in ({"sex": "_T", "age": "_T", "migrant_status": "_T", "counterpart_area": "_T"} | dims).items():
            rows = rows.loc[rows[col] == code]
        assert len(rows) == 1
        return rows["value"].iloc[0]

    lfs, census = checks["lfs"], checks["census"]
    assert value("lfpr", sex="F") == pytest.approx(lfs["participation_rate_women"], abs=0.005)
    assert value("lfpr", sex="M") == pytest.approx(lfs["participation_rate_men"], abs=0.005)
    assert value("unemp_rate") == pytest.approx(lfs["unemployment_rate"], abs=0.005)
    assert value("wap") == pytest.approx(lfs["weighted_population_15_plus"], abs=0.01)
    assert value("migrant_share_employed") == pytest.approx(lfs["migrant_share_weighted"], abs=0.05)
    assert value("pop_total") == census["population_total"]
    assert value("pop_total", sex="F") == census["population_female"]
    assert value("imm_stock") == census["foreign_born_total"]
    assert value("imm_stock", counterpart_area="IND") == census["foreign_born_from_india"]


def test_exports(demo_store):
    from mmicd.engine.export import export

    table = compute(demo_store, country="NPL", indicators=["imm_share", "lfpr"]).table
    csv = pd.read_csv(io.StringIO(export(table, "csv")), keep_default_na=False)
    assert list(csv.columns) == EXPORT_COLUMNS and len(csv) == len(table)
    # the survey's design (strata and PSUs) beside each survey estimate; tables have none
    assert set(csv.loc[csv["indicator"] == "lfpr", "design"]) == {"full"}
    assert set(csv.loc[csv["indicator"] == "imm_share", "design"]) == {""} and set(csv["design_note"]) == {""}
    rows = json.loads(export(table, "json"))["resources"][0]["data"]   # a data package, the rows inline
    assert len(rows) == len(table) and set(rows[0]) == set(EXPORT_COLUMNS)
    assert {r["design"] for r in rows} == {"full", None} and {r["design_note"] for r in rows} == {None}
    assert any(r["se"] is None for r in rows) and any(isinstance(r["se"], float) for r in rows)
    sdmx = frames(table)["MMICD"]      # neither is an SDG series: the project's own dataflow
    assert frames(table)["SDG"].empty and len(sdmx) == len(table)
    assert {"REF_AREA", "SEX", "AGE", "COMPOSITE_BREAKDOWN", "TIME_PERIOD", "OBS_VALUE", "UNIT_MEASURE",
            "OBS_STATUS", "FREQ", "REPORTING_TYPE", "UNIT_MULT"} <= set(sdmx.columns)
    assert set(sdmx["REF_AREA"]) == {"524"}  # Nepal's M49
    assert {"_T", "MS_MIGRANT", "MS_NOMIGRANT"} <= set(sdmx["COMPOSITE_BREAKDOWN"]) <= {"_T", "MS_MIGRANT", "MS_NOMIGRANT", "_U"}
    assert set(sdmx["UNIT_MEASURE"]) == {"PT"}
    with pytest.raises(ValueError):
        export(table, "xml")


def test_command_line(demo_store, monkeypatch, capsysbinary):
    from mmicd.cli import main

    monkeypatch.setenv("MMICD_DATABASE_URL", demo_store.url)
    monkeypatch.setenv("MMICD_DATA_DIR", str(demo_store.data_dir))
    assert main(["indicators", "--country", "Nepal", "--indicator", "imm_share", "lfpr", "--format", "sdmx-csv"]) == 0
    files = zipfile.ZipFile(io.BytesIO(capsysbinary.readouterr().out))
    assert files.namelist() == ["data_MMICD.csv", "structure.xml"]
    frame = pd.read_csv(io.BytesIO(files.read("data_MMICD.csv")), dtype=str, keep_default_na=False)
    assert set(frame["INDICATOR"]) == {"imm_share", "lfpr"} and set(frame["REF_AREA"]) == {"524"}
    assert main(["indicators", "--country", "NPL", "--year", "2020", "--indicator", "imm_share"]) == 0
    frame = pd.read_csv(io.BytesIO(capsysbinary.readouterr().out), dtype=str, keep_default_na=False)
    assert set(frame["time_period"]) == {"2020"} and list(frame.columns) == EXPORT_COLUMNS
    assert main(["--lang", "fr", "indicators", "--country", "Atlantis"]) == 2
    assert "Pays ou zone inconnu" in capsysbinary.readouterr().err.decode()
    assert main(["indicators", "--indicator", "nope"]) == 2
    assert "nope" in capsysbinary.readouterr().err.decode()
