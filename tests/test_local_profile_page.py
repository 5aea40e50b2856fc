"""The local profile page (AppTest): a province of Nepal beside the national figures, ``?area=`` restored,
plain "no data" for a country without local data, French, the download through safe_export."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd.auth import Role, User
from mmicd.demo import demo_files
from mmicd.ingest import Upload, commit, prepare
from mmicd.store import Store
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)
WANTED = ("npl_census_2021_synthetic.xlsx", "npl_census_2021_provinces_synthetic.xlsx",
          "npl_lfs_2023_provinces_synthetic.xlsx", "npl_returns_provinces_synthetic.xlsx")


def with_local_demo(seeded_file: Path, path: Path) -> Path:
    """A copy of the seeded baseline at ``path`` with the national demo census and the provincial demo data."""
    shutil.copy(seeded_file, path)
    s = Store(f"sqlite:///{path}")
    for demo in [d for d in demo_files() if d.path.name in WANTED]:
        prep = prepare([Upload(demo.path.name, demo.path.read_bytes())], kind=demo.kind, country=demo.country,
                       source=demo.source, edition=demo.edition, title=demo.title, notes=demo.notes, store=s)
        assert prep.ok
        commit(prep, s, actor="test", publish=True)
    s.engine.dispose()
    return path


@pytest.fixture(scope="module")
def local_file(seeded_file, tmp_path_factory) -> Path:
    return with_local_demo(seeded_file, tmp_path_factory.mktemp("local") / "mmicd.sqlite")


@pytest.fixture
def local_env(local_file, tmp_path, monkeypatch):
    copy = tmp_path / "data" / "mmicd.sqlite"
    copy.parent.mkdir()
    shutil.copy(local_file, copy)
    monkeypatch.setenv("MMICD_DATABASE_URL", f"sqlite:///{copy}")
    monkeypatch.setenv("MMICD_DATA_DIR", str(copy.parent))
    monkeypatch.delenv("MMICD_LANG", raising=False)
    monkeypatch.delenv("MMICD_DEFAULT_COUNTRY", raising=False)


def open_page(country: str = "NPL", lang: str | None = None, area: str | None = None, user=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if user is not None:
        at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.session_state["country"] = country
    if lang:
        at.session_state["lang"] = lang
    if area:
        at.query_params["area"] = area
    at.run()
    at.switch_page("pages/local_profile.py").run()
    assert not at.exception, at.exception
    return at


def table(at: AppTest, n: int):
    return at.dataframe[n].value


def test_bagmati_beside_nepal_from_the_url(local_env):
    at = open_page(area="NP-P3")
    assert at.selectbox(key="local_area").value == "NP-P3"
    assert at.title[0].value == "Local profile: Nepal"
    assert any("SYNTHETIC" in w.value for w in at.warning)
    key = table(at, 0).set_index("Indicator")
    stock = key.loc["International migrant stock"]
    assert stock["Bagmati"] == "91,196" and stock["Nepal (national)"] == "650,000"
    assert stock["Note"] == "national figure aggregated from the subdivisions"
    assert key.loc["Total population", "Nepal (national)"] == "29,192,000"
    # a survey estimate with its interval, beside the national one from the whole sample
    assert "95% CI" in key.loc["Labour force participation rate", "Bagmati"]
    headers = [s.value for s in at.subheader]
    assert headers == ["Key figures: Bagmati", "Migrants by sex and age: Bagmati",
                       "Migrants by country of birth: Bagmati", "Emigration and returns: Bagmati"]
    origins = table(at, 2)
    assert origins.iloc[0]["Country of birth"] == "India"
    returns = table(at, 3)
    assert list(returns["Year"]) == ["2021", "2022", "2023"]
    assert set(returns["Indicator"]) == {"Returned migrants"}      # no emigration data by province
    assert at.query_params["area"] == ["NP-P3"] or at.query_params["area"] == "NP-P3"
    labels = [b.proto.label for b in at.get("download_button")]   # then the brief's and exports' (test_local_brief)
    assert labels[0] == "Download the figures (CSV)"


def test_another_country_without_local_data_says_so(local_env):
    at = open_page(country="SEN")
    assert any("No data at the local level for Senegal" in i.value for i in at.info)
    assert not at.dataframe


def test_in_french(local_env):
    at = open_page(lang="fr", area="NP-P1")
    assert at.title[0].value == "Profil local : Népal"
    key = table(at, 0).set_index("Indicateur")
    assert key.loc["Stock de migrants internationaux", "Koshi"] == "136\u202f517"
    assert any("SYNTHÉTIQUES" in w.value for w in at.warning)


def test_the_code_list_form_is_for_the_countrys_office_only(local_env):
    title = "Subdivision codes of Nepal (statistics office)"
    assert title not in [e.label for e in open_page(area="NP-P2").expander]
    at = open_page(area="NP-P2", user=User("ana", Role.ANALYST, countries="NPL", id=9))
    assert title in [e.label for e in at.expander]
    at = open_page(area="NP-P2", user=User("ana", Role.ANALYST, countries="SEN", id=9))
    assert title not in [e.label for e in at.expander]
