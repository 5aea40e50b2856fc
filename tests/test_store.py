"""The versioned store, on SQLite and (when MMICD_TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from sqlalchemy import inspect

import mmicd.boundaries.repository  # noqa: F401  (registers the boundaries table for the schema test)
import mmicd.me.schema  # noqa: F401  (registers the M&E tables, so the schema test covers them too)
import mmicd.store as store_module
from mmicd.issues import IssuesError
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store, StoreError
from mmicd.store.schema import metadata

META = DatasetMeta(kind=Kind.MIGRANT_STOCK, source="Test office", edition="2020", scope="NPL", file_name="x.xlsx")


def frame(values=(100.0, 60.0, 40.0)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": "POP",
            "ref_area": "NPL",
            "time_period": "2020",
            "sex": ["_T", "F", "M"],
            "migrant_status": "MS_MIGRANT",
            "value": list(values),
        }
    )


def snapshot(s: Store) -> tuple:
    with s.engine.connect() as conn:
        counts = tuple(
            conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one()
            for t in ("datasets", "observations", "audit", "microdata_parts")
        )
    return counts, [(v.id, v.status) for v in s.datasets()]


def test_schema_from_migrations_matches_the_model(store):
    found = inspect(store.engine)
    for table in metadata.sorted_tables:
        assert {c["name"] for c in found.get_columns(table.name)} == {c.name for c in table.columns}
        indexes = {i["name"] for i in found.get_indexes(table.name) if not i.get("duplicates_constraint")}
        assert indexes == {i.name for i in table.indexes}


def test_add_creates_a_draft_version_with_missing_dimensions_as_totals(store):
    v = store.add_dataset(META, frame(), actor="analyst@npl")
    assert (v.version, v.status, v.rows, v.loaded_by) == (1, Status.DRAFT, 3, "analyst@npl")
    obs = store.observations(status=None)
    assert set(obs["age"]) == {"_T"} and set(obs["counterpart_area"]) == {"_T"}
    assert obs.set_index("sex")["value"].to_dict() == {"_T": 100.0, "F": 60.0, "M": 40.0}
    assert obs["source"].unique().tolist() == ["Test office"]
    # drafts never reach published reads
    assert store.observations().empty


def test_every_load_is_a_new_version_and_publishing_supersedes(store):
    v1 = store.add_dataset(META, frame(), actor="a", status=Status.PUBLISHED)
    v2 = store.add_dataset(META, frame((110.0, 70.0, 40.0)), actor="a")
    assert (v1.version, v2.version) == (1, 2)
    assert store.observations()["value"].max() == 100.0  # v2 still draft

    store.publish(v2.id, actor="reviewer")
    assert store.dataset(v1.id).status == Status.SUPERSEDED
    assert store.dataset(v2.id).status == Status.PUBLISHED
    assert store.observations()["value"].max() == 110.0

    # nothing was overwritten: the old version is intact and can be re-published
    assert store.observations(dataset_ids=[v1.id], status=None)["value"].max() == 100.0
    store.publish(v1.id, actor="reviewer", note="revert")
    assert [(v.id, v.status) for v in store.datasets()] == [(v1.id, Status.PUBLISHED), (v2.id, Status.SUPERSEDED)]
    assert store.published_ids() == (v1.id,)
    actions = store.audit(dataset_id=v1.id)["action"].tolist()
    assert actions == ["created", "status:published", "status:superseded", "status:published"]


def test_other_series_are_not_superseded(store):
    a = store.add_dataset(META, frame(), actor="a", status=Status.PUBLISHED)
    b = store.add_dataset(META.model_copy(update={"source": "Other source"}), frame(), actor="a",
                          status=Status.PUBLISHED)
    c = store.add_dataset(META.model_copy(update={"scope": "SEN"}), frame().assign(ref_area="SEN"), actor="a",
                          status=Status.PUBLISHED)
    assert store.published_ids() == (a.id, b.id, c.id)
    assert (a.version, b.version, c.version) == (1, 1, 1)


def test_invalid_data_is_refused_with_every_problem_and_nothing_stored(store):
    before = snapshot(store)
    bad = pd.concat([frame(), frame()]).assign(ref_area=["NPL", "XXX", "NPL", "NPL", "NPL", "NPL"])
    bad.loc[bad.index[0], "time_period"] = "20x0"
    with pytest.raises(IssuesError) as err:
        store.add_dataset(META, bad.reset_index(drop=True), actor="a")
    messages = [(i.column, i.value) for i in err.value.issues]
    assert ("ref_area", "XXX") in messages
    assert ("time_period", "20x0") in messages
    assert any(i.check == "duplicate" and "same key as rows 3, 6" in i.message and i.row == 6
               for i in err.value.issues)  # rows of the dataset (1-based), messages translated
    assert snapshot(store) == before


def test_a_failure_mid_write_leaves_the_store_exactly_as_before(store, monkeypatch):
    store.add_dataset(META, frame(), actor="a", status=Status.PUBLISHED)
    before = snapshot(store)
    real = store_module._bulk_insert

    def insert_then_fail(conn, dataset_id, data):
        real(conn, dataset_id, data)  # rows really written inside the transaction...
        raise OSError("disk full")  # ...then the write fails

    monkeypatch.setattr(store_module, "_bulk_insert", insert_then_fail)
    with pytest.raises(OSError):
        store.add_dataset(META, frame((1.0, 1.0, 0.0)), actor="a", status=Status.PUBLISHED)
    assert snapshot(store) == before
    assert store.observations()["value"].max() == 100.0


def test_a_failed_publish_changes_nothing(store):
    v = store.add_dataset(META, frame(), actor="a", status=Status.PUBLISHED)
    before = snapshot(store)
    with pytest.raises(StoreError):
        store.publish(v.id + 99, actor="r")
    assert snapshot(store) == before


def test_missing_values_need_an_obs_status(store):
    data = frame((100.0, None, 40.0))
    with pytest.raises(IssuesError):
        store.add_dataset(META, data, actor="a")
    v = store.add_dataset(META, data.assign(obs_status=["A", "M", "A"]), actor="a")
    obs = store.observations(dataset_ids=[v.id], status=None).set_index("sex")
    assert pd.isna(obs.at["F", "value"]) and obs.at["F", "obs_status"] == "M"


def test_postgresql_is_tested_in_ci():
    if os.environ.get("CI"):
        assert os.environ.get("MMICD_TEST_DATABASE_URL"), "CI must run the store tests on PostgreSQL too"


def persons(n=6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ref_area": "NPL",
            "time_period": "2023",
            "sex": ["F", "M"] * (n // 2),
            "age": [25, 40] * (n // 2),
            "migrant_status": "MS_MIGRANT",
            "labour_status": ["EMP", "UNE"] * (n // 2),
            "weight": 150.5,
            "stratum": "1",
            "psu": [str(i) for i in range(n)],
        }
    )


LFS = DatasetMeta(kind=Kind.LFS, source="NSO labour force survey", edition="2023", scope="NPL")


def test_microdata_is_stored_in_the_database_in_parts_and_read_back(store_url, tmp_path, monkeypatch):
    s = Store(store_url, data_dir=tmp_path / "data")
    monkeypatch.setattr(store_module, "PART_BYTES", 1000)  # a Parquet file of a few KB: several parts
    v = s.add_microdata(LFS, persons(60), actor="analyst")
    assert (v.form, v.rows, v.status, v.storage) == ("microdata", 60, Status.DRAFT, "database")
    with s.engine.connect() as conn:
        sizes = conn.exec_driver_sql(f"SELECT part, LENGTH(data) FROM microdata_parts WHERE dataset_id = {v.id} "
                                     "ORDER BY part").all()
    assert [p for p, _ in sizes] == list(range(len(sizes))) and len(sizes) >= 3
    assert all(n == 1000 for _, n in sizes[:-1]) and 0 < sizes[-1][1] <= 1000
    back = s.microdata(v.id)
    assert back["weight"].sum() == pytest.approx(60 * 150.5)
    assert back["age"].tolist() == [25, 40] * 30
    assert back["psu"].tolist() == [str(i) for i in range(60)]
    assert not (tmp_path / "data").exists()  # no file anywhere: the data folder is not even created
    with pytest.raises(StoreError):
        s.microdata(s.add_dataset(META, frame(), actor="a").id)
def test_bad_microdata_is_refused_with_every_problem_and_leaves_nothing(store_url, tmp_path):
    s = Store(store_url, data_dir=tmp_path / "data")
    before = snapshot(s)
    bad = persons()
    bad.loc[0, "age"] = 140
    bad.loc[1, "weight"] = -1
    bad.loc[2, "sex"] = "X"
    with pytest.raises(IssuesError) as err:
        s.add_microdata(LFS, bad, actor="a")
    found = {(i.row, i.column) for i in err.value.issues}
    assert {(1, "age"), (2, "weight"), (3, "sex")} <= found
    assert snapshot(s) == before


def test_a_failed_microdata_write_leaves_no_row_and_no_bytes(store_url, tmp_path, monkeypatch):
    s = Store(store_url, data_dir=tmp_path / "data")
    s.add_microdata(LFS, persons(), actor="a")
    before = snapshot(s)
    assert before[0][3] > 0  # the first version's parts
    real = store_module._insert_parts

    def write_then_fail(conn, dataset_id, data):
        real(conn, dataset_id, data)  # the bytes really written inside the transaction...
        raise OSError("disk full")  # ...then the write fails

    monkeypatch.setattr(store_module, "_insert_parts", write_then_fail)
    with pytest.raises(OSError):
        s.add_microdata(LFS, persons(), actor="a")
    assert snapshot(s) == before


def test_the_audit_trail_is_append_only_in_the_database(store):
    v = store.add_dataset(META, frame(), actor="a", status=Status.PUBLISHED)
    trail = store.audit(entity_type="dataset", entity_id=v.id)
    assert trail["action"].tolist() == ["created", "status:published"]
    assert (trail["old"].iloc[1], trail["new"].iloc[1]) == ("draft", "published")
    from sqlalchemy.exc import DBAPIError

    refused = ["UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"]  # SQLite's TRUNCATE is a DELETE
    if store.engine.dialect.name == "postgresql":
        refused.append("TRUNCATE audit")  # refused even for the owner (here a superuser)
    for sql in refused:
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert store.audit()["actor"].tolist() == ["a", "a"]
