"""The Data sources page offers the selected version's rows as CSV and JSON (AppTest), in three
languages, among the versions the user may see; large versions are built on request, once."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from mmicd.auth import Role, User
from mmicd.dataset_export import export_bytes
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)
LABELS = {"en": ("Download CSV", "Download JSON"), "fr": ("Télécharger en CSV", "Télécharger en JSON"),
          "es": ("Descargar CSV", "Descargar JSON")}


@pytest.fixture
def served(monkeypatch) -> dict[str, bytes]:
    """The bytes behind every download button drawn, by media file id (as a browser would get them)."""
    seen: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = real(self, path_or_data, mimetype, kind, filename)
        seen[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    from mmicd.ui.sources import CACHE

    CACHE.clear()
    return seen


def sources_page(lang: str | None = None, user: User | None = None, dataset: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if lang:
        at.session_state["lang"] = lang
    if user is not None:
        at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    if dataset is not None:
        at.session_state["sources_detail"] = dataset
    at.run()
    at.switch_page("pages/data_sources.py").run()
    assert not at.exception, at.exception
    return at


def downloaded(at: AppTest, served: dict[str, bytes], label: str) -> tuple[bytes, str]:
    [button] = [b for b in at.get("download_button") if b.proto.label == label]
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    return served[file_id], button.proto.url


def baseline(store: Store, kind: Kind):
    return next(v for v in store.datasets() if v.kind == kind)


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_csv_and_json_of_the_selected_version_in_every_language(app_env, served, lang):
    s = Store(app_env)
    brm = baseline(s, Kind.REMITTANCE_CORRIDORS)  # 10,619 rows: built as the page is drawn
    at = sources_page(lang, dataset=brm.id)
    csv_label, json_label = LABELS[lang]
    data, url = downloaded(at, served, csv_label)
    assert data == export_bytes(s, brm, "csv") and url.endswith(".csv")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert len(frame) == 10_619 and set(frame["dataset_id"]) == {brm.id}
    assert set(frame["source"]) == {"KNOMAD/World Bank, Bilateral Remittance Matrix"}
    nepal = frame[(frame["ref_area"] == "NPL") & (frame["counterpart_area"] == "WLD")]
    stored = s.observations(dataset_ids=[brm.id], ref_areas=["NPL"], counterpart_areas=["WLD"])
    assert nepal["value"].tolist() == stored["value"].tolist() and round(stored["value"].iloc[0] / 1e6) == 8203
    data, url = downloaded(at, served, json_label)
    doc = json.loads(data)
    assert url.endswith(".json") and doc["dataset"]["dataset_id"] == brm.id and len(doc["records"]) == 10_619
    caption = {"en": "Every stored value of version", "fr": "Toutes les valeurs enregistrées de la version",
               "es": "Todos los valores almacenados de la versión"}[lang]
    assert any(c.value.startswith(caption) for c in at.caption)


def test_a_large_version_is_prepared_on_request_with_progress_then_kept(app_env, served):
    s = Store(app_env)
    ims = baseline(s, Kind.MIGRANT_STOCK)  # 265,769 rows
    at = sources_page(dataset=ims.id)
    # only the metadata (no rows to read) until the file is prepared
    assert [b.proto.label for b in at.get("download_button")] == ["Metadata (datapackage.json)"]
    prepare = [b for b in at.button if b.label.startswith("Prepare the CSV file")]
    assert [b.label for b in prepare] == ["Prepare the CSV file (265,769 rows)"]
    prepare[0].click().run()
    assert not at.exception, at.exception
    data, _ = downloaded(at, served, "Download CSV")
    assert data.count(b"\r\n") == 265_769 + 1
    from mmicd.ui.sources import CACHE, cache_key

    assert CACHE.get(cache_key(s, ims, "csv")) is data  # one copy: the cache's bytes are what is served
    again = sources_page(dataset=ims.id)  # another session: the file is there at once
    assert downloaded(again, served, "Download CSV")[0] is data
    assert [b.label for b in again.button if b.label.startswith("Prepare")] == ["Prepare the JSON file (265,769 rows)"]


def test_drafts_are_offered_only_to_who_may_see_them_and_records_only_to_staff(app_env, served):
    s = Store(app_env)
    draft = s.add_dataset(DatasetMeta(kind=Kind.CENSUS, source="Nepal NSO", scope="NPL"),
                          pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": "2021",
                                        "value": [29_164_578.0]}), actor="ana")
    micro = s.add_microdata(DatasetMeta(kind=Kind.LFS, source="Nepal NSO LFS", scope="NPL"),
                            pd.DataFrame({"ref_area": "NPL", "time_period": "2023", "sex": ["F", "M"],
                                          "age": [30, 41], "weight": [100.0, 120.5]}),
                            actor="ana", status=Status.PUBLISHED)
    viewer = sources_page(user=User("vic", Role.VIEWER, id=4), dataset=micro.id)
    assert draft.id not in viewer.selectbox(key="sources_detail").options
    assert not viewer.get("download_button")
    assert any("confidential" in i.value for i in viewer.info)
    analyst = sources_page(user=User("ana", Role.ANALYST, countries="NPL", id=5), dataset=micro.id)
    records = pd.read_csv(io.BytesIO(downloaded(analyst, served, "Download CSV")[0]), encoding="utf-8-sig")
    assert records[["sex", "age", "weight"]].values.tolist() == [["F", 30, 100.0], ["M", 41, 120.5]]
    analyst = sources_page(user=User("ana", Role.ANALYST, countries="NPL", id=5), dataset=draft.id)
    rows = pd.read_csv(io.BytesIO(downloaded(analyst, served, "Download CSV")[0]), encoding="utf-8-sig")
    assert rows[["ref_area", "value", "status"]].values.tolist() == [["NPL", 29_164_578, "draft"]]
