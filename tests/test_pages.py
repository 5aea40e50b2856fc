"""Every page, run in-process with Streamlit's AppTest on the seeded baseline."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)


def run_app(country: str | None = None, lang: str | None = None, year: str | None = None) -> AppTest:
    """Run the app once with the shared sidebar filters preset.

    The filters are set through session state (their widget keys) before the first run: under
    AppTest, widgets drawn by the ``st.navigation`` entry script vanish from the element tree on a
    rerun (Streamlit 1.67; a real browser keeps them, see tests/e2e), so each case is one fresh run.
    """
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (("country", country), ("lang", lang), ("year", year)):
        if value is not None:
            at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    if country:
        assert at.sidebar.selectbox(key="country").value == country
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_shows_germany_2020_figures(app_env):
    at = run_app(country="DEU", year="2020")
    shown = metrics(at)
    assert shown["International migrant stock (2020)"] == "15,762,457"
    assert shown["Migrants as % of population (2020)"] == "18.8%"
    assert shown["Women among migrants (2020)"] == "49.9%"
    assert shown["Population (2020)"] == "83,628,708"
    assert at.title[0].value == "Overview: Germany"
    charts = at.get("plotly_chart")
    assert len(charts) == 8
    assert all('"y"' in c.proto.spec for c in charts)  # every chart has data
    captions = " ".join(c.value for c in at.caption)
    assert "UN DESA" in captions and "edition 2020" in captions


def test_a_fall_in_a_currency_figure_points_down(app_env):
    # Tuvalu's remittances fell by US$ 471,060 from 2022 to 2023 (World Bank): the change reads
    # "-US$471,060" (CLDR international English) with a downward arrow (it read "US$ -471,060" with an upward one); a rise points up
    from streamlit.proto.Metric_pb2 import Metric

    at = run_app(country="TUV", year="2023")
    cards = {m.label: m for m in at.metric}
    fall = cards["Remittances received (2023)"]
    assert fall.delta == "-US$471,060 since 2022"
    assert fall.proto.direction == Metric.MetricDirection.DOWN
    rise = cards["International migrant stock (2020)"]
    assert rise.delta == "+9 since 2015" and rise.proto.direction == Metric.MetricDirection.UP


def test_overview_in_french_formats_numbers_the_french_way(app_env):
    at = run_app(country="DEU", lang="fr", year="2020")
    shown = metrics(at)
    assert shown["Stock de migrants internationaux (2020)"] == "15\u202f762\u202f457"
    assert shown["Migrants en % de la population (2020)"] == "18,8\u00a0%"  # CLDR: no-break space
    assert at.title[0].value == "Vue d'ensemble : Allemagne"


def test_overview_in_spanish(app_env):
    at = run_app(country="DEU", lang="es", year="2020")
    assert metrics(at)["Stock de migrantes internacionales (2020)"] == "15.762.457"


def test_overview_of_an_aggregate_explains_the_missing_emigration(app_env):
    at = run_app(country="WLD", year="2020")
    assert metrics(at)["International migrant stock (2020)"] == "280,598,105"
    assert any("aggregate" in i.value for i in at.info)


def test_data_sources_lists_every_baseline_dataset(app_env):
    at = run_app()
    at.switch_page("pages/data_sources.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) >= 3
    assert set(table["Status"]) == {"Published"}
    assert any(s.startswith("UN DESA") for s in table["Source"])
    assert any("World Population Prospects" in s for s in table["Source"])
    details = at.table[0].value
    assert "Provenance" in details.iloc[:, 0].tolist()


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_data_sources_in_other_languages(app_env, lang):
    at = run_app(lang=lang)
    at.switch_page("pages/data_sources.py").run()
    assert not at.exception
    assert at.title[0].value in {"Sources des données", "Fuentes de datos"}


def test_first_start_seeds_an_empty_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MMICD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MMICD_DATABASE_URL", raising=False)
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["country"] = "DEU"
    at.session_state["year"] = "2020"
    at.run()
    assert not at.exception, at.exception
    assert (tmp_path / "mmicd.sqlite").exists()
    assert metrics(at)["International migrant stock (2020)"] == "15,762,457"


def test_a_link_opens_its_view_and_the_address_follows_the_choices(app_env):
    """A bookmark, a shared link or a reload (``?lang=fr&country=SEN&year=2020``) opens the same
    view; the address then names the view shown (a wrong value falls back to the default)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"lang": "fr", "country": "SEN", "year": "2020"})
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="country").value == "SEN"
    assert at.sidebar.selectbox(key="lang").value == "fr"
    assert at.title[0].value == "Vue d'ensemble : Sénégal"
    assert {k: at.query_params[k] for k in ("lang", "country", "year")} == {"lang": "fr", "country": "SEN",
                                                                              "year": "2020"}
    wrong = AppTest.from_file(APP, default_timeout=120)
    wrong.query_params.update({"country": "<b>XXX</b>", "lang": "de"})
    wrong.run()
    assert not wrong.exception, wrong.exception
    assert wrong.sidebar.selectbox(key="country").value == "NPL"   # the default country
    assert wrong.sidebar.selectbox(key="lang").value == "en"
    assert wrong.query_params["country"] == "NPL"
