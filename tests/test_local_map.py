"""The local map: subdivision results (REF_AREA = ISO 3166-2 code) ranked and drawn on the stored
boundaries; the page in-process (AppTest) with its URL parameters, the "no data" message and the
download; the admin's upload refused with its reasons."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mmicd.boundaries import current_boundaries, ensure_default_boundaries
from mmicd.model import DatasetMeta, Kind, Status, normalise_observations
from mmicd.store import Store, _bulk_insert
from mmicd.ui import local_map
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)
# migrants by province (invented): Bagmati highest, Karnali lowest, Sudurpashchim without data
PROVINCES = {"NP-P1": 41_000.0, "NP-P2": 23_500.0, "NP-P3": 96_250.0, "NP-P4": 18_000.0, "NP-P5": 30_000.0,
             "NP-P6": 2_400.0}


def add_subdivision_results(store: Store, values: dict[str, float] = PROVINCES, year: str = "2021") -> int:
    """A published census version whose rows are by province (REF_AREA = the ISO 3166-2 code),
    written straight into the observations table as the local-level ingestion will store them."""
    meta = DatasetMeta(kind=Kind.CENSUS, source="Test census by province", edition=year, scope="NPL")
    national = pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": year, "sex": "_T",
                             "migrant_status": "MS_MIGRANT", "value": [sum(values.values())]})
    version = store.add_dataset(meta, national, actor="test", status=Status.PUBLISHED)
    rows = normalise_observations(national.loc[[0] * len(values)].assign(
        ref_area=list(values), value=list(values.values())).reset_index(drop=True))
    with store.engine.begin() as conn:
        _bulk_insert(conn, version.id, rows)
    return version.id


def test_results_ranked_highest_first_with_names_and_no_ci_columns(store):
    ensure_default_boundaries(store)
    add_subdivision_results(store)
    b = current_boundaries(store, "NPL", 1)
    table = local_map.headline(local_map._local.__wrapped__(store.url, store.published_ids(), "NPL", tuple(b.codes),
                                                            "imm_stock"))
    assert sorted(table["ref_area"]) == sorted(PROVINCES)
    ranked = local_map.ranked(table, b.names(), "fr")
    assert ranked[["rank", "code", "value"]].values.tolist() == [
        [1, "NP-P3", 96_250.0], [2, "NP-P1", 41_000.0], [3, "NP-P5", 30_000.0], [4, "NP-P2", 23_500.0],
        [5, "NP-P4", 18_000.0], [6, "NP-P6", 2_400.0]]
    assert ranked["name"].tolist()[:2] == ["Bagmati", "Koshi"]
    assert "ci_lower" not in ranked.columns  # a census count has no confidence interval


def test_ranked_table_keeps_confidence_intervals_when_the_indicator_has_them():
    part = pd.DataFrame({"ref_area": ["NP-P1", "NP-P2"], "time_period": "2023", "value": [10.5, 12.25],
                         "ci_lower": [9.0, 11.0], "ci_upper": [12.0, 13.5], "obs_status": "A", "source": "LFS",
                         "edition": "2023"})
    ranked = local_map.ranked(part, {}, "en")
    assert ranked[["code", "value", "ci_lower", "ci_upper"]].values.tolist() == [
        ["NP-P2", 12.25, 11.0, 13.5], ["NP-P1", 10.5, 9.0, 12.0]]
    assert ranked["name"].tolist() == ["Madhesh", "Koshi"]


def test_figure_draws_every_subdivision_without_base_map(store):
    ensure_default_boundaries(store)
    b = current_boundaries(store, "NPL", 1)
    table = pd.DataFrame({"code": ["NP-P3", "NP-P1"], "value": [96_250.0, 41_000.0]})
    fig = local_map.figure(b, table, b.names(), "persons", "Migrants", "en")
    anchor, grey, data = fig.data
    # first an invisible scattergeo at the corners of Nepal, without locationmode (no world topojson)
    assert anchor.type == "scattergeo" and anchor.locationmode is None and anchor.marker.opacity == 0
    assert 80 < anchor.lon[0] < 80.1 and 88.1 < anchor.lon[1] < 88.3 and 26.3 < anchor.lat[0] < 26.4
    assert list(grey.locations) == [f"NP-P{n}" for n in range(1, 8)] and list(data.locations) == ["NP-P1", "NP-P3"]
    assert list(data.z) == [41_000.0, 96_250.0] and grey.featureidkey == "id"
    geo = fig.layout.geo
    assert (geo.fitbounds, geo.visible, geo.showland, geo.showcountries) == ("locations", False, False, False)


@pytest.fixture
def map_env(app_env):
    store = Store(app_env)
    ensure_default_boundaries(store)
    store.engine.dispose()
    return app_env


def run_page(query: dict[str, str] | None = None, lang: str | None = None, user=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if lang:
        at.session_state["lang"] = lang
    at.session_state["country"] = "NPL"
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/local_map.py").run()
    assert not at.exception, at.exception
    return at


def test_page_without_data_shows_the_map_and_says_so(map_env):
    at = run_page()
    assert at.title[0].value == "Local map: Nepal"
    assert [i.value for i in at.info] == [
        "No published data on International migrant stock for the subdivisions of Nepal. The map shows the "
        "subdivisions; upload a table with a subdivision column to fill it."]
    assert len(at.get("plotly_chart")) == 1 and not at.dataframe
    assert (at.query_params["indicator"], at.query_params["country"], at.query_params["level"]) == ("imm_stock", "NPL", "1")


def test_page_ranks_the_provinces_restores_the_url_and_downloads(map_env):
    store = Store(map_env)
    add_subdivision_results(store)
    store.engine.dispose()
    at = run_page({"country": "NPL", "indicator": "imm_stock"}, lang="es")
    assert at.selectbox(key="lmap_indicator").value == "imm_stock"
    table = at.dataframe[0].value
    assert table["Código"].tolist() == ["NP-P3", "NP-P1", "NP-P5", "NP-P2", "NP-P4", "NP-P6"]
    assert table["Valor"].tolist()[0] == 96_250.0
    spec = at.get("plotly_chart")[0].proto.spec
    assert "NP-P7" in spec and "sin datos" in spec  # Sudurpashchim drawn grey, said to have no data
    assert not at.warning   # invented test data, not the demo's: no SYNTHETIC warning
    [button] = [b for b in at.get("download_button") if "CSV" in b.proto.label]
    # the URL's indicator is restored: another one there is another page
    other = run_page({"country": "NPL", "indicator": "pop_total"})
    assert other.selectbox(key="lmap_indicator").value == "pop_total" and other.info
    assert button.proto.label == "Descargar los datos (CSV)"



def test_admin_sees_the_versions_and_makes_an_earlier_one_current(map_env):
    from datetime import UTC, datetime, timedelta

    from mmicd.auth import Role, User
    from mmicd.boundaries import load_boundaries
    from tests.test_boundaries import ADMIN, two_provinces

    store = Store(map_env)
    first = current_boundaries(store, "NPL", 1)
    load_boundaries(store, two_provinces(), file_name="two.geojson", country="NPL", level=1, user=ADMIN)
    store.engine.dispose()
    assert not run_page().expander  # anonymous visitors see no boundary administration
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["country"] = "NPL"
    at.session_state["_auth"] = {"user": User("admin", Role.ADMIN, id=1),
                                 "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    at.switch_page("pages/local_map.py").run()
    assert not at.exception, at.exception
    versions_shown = next(d.value for d in at.dataframe if "Version" in d.value.columns)
    assert versions_shown[["Version", "Current", "File", "Features"]].values.tolist() == [
        [2, "✓", "two.geojson", 2], [1, "", "NPL_1.geojson", 7]]
    at.text_input(key="lmap_reason").input("the official file is back")
    next(b for b in at.button if b.label == "Make current").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Version 1 is current again."]
    store = Store(map_env)
    assert current_boundaries(store, "NPL", 1).id == first.id
    assert store.audit(action="boundaries_current")["reason"].tolist() == ["the official file is back"]
    store.engine.dispose()


def test_synthetic_demo_figures_are_labelled_on_the_map(map_env):
    from sqlalchemy import text

    from mmicd.demo import DEMO_ACTOR

    store = Store(map_env)
    version = add_subdivision_results(store)
    with store.engine.begin() as conn:   # as if the demo had loaded it
        conn.execute(text("UPDATE datasets SET loaded_by = :actor WHERE id = :id"), {"actor": DEMO_ACTOR, "id": version})
    store.engine.dispose()
    at = run_page({"country": "NPL", "indicator": "imm_stock"}, lang="fr")
    assert [w.value for w in at.warning] == ["Ces chiffres sont des données de démonstration SYNTHÉTIQUES, pas des "
                                             "statistiques officielles : ne les citez pas."]
