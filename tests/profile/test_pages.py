"""The profile and summary pages under AppTest: Nepal with the demo uploads, Germany with only the
international baseline (UN DESA 2020: 15,762,457 migrants, 18.8% of the population, 49.9% women)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from tests.hostile import displayed
from tests.profile.conftest import APP


def run_page(page: str, country: str | None = None, lang: str | None = None, year: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (("country", country), ("lang", lang), ("year", year)):
        if value is not None:
            at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_profile_germany_baseline_only(app_env):
    at = run_page("profile", country="DEU", year="2020")
    shown = metrics(at)
    assert shown["International migrant stock (2020)"] == "15,762,457"
    assert shown["Migrants as % of population (2020)"] == "18.8%"
    assert shown["Women among migrants (2020)"] == "49.9%"
    assert at.title[0].value == "Migration profile: Germany"
    figures = specs(at)
    # corridors (KNOMAD 2021) are after 2020; no census, no LFS; remittances per emigrant (WDI / UN DESA);
    # refugees (UN DESA Table 6), resettlement (UNHCR) and refugees as % of the stock
    assert len(figures) == 13
    refugees = [tr for f in figures for tr in f["data"] if tr.get("name") == "Refugees hosted"]
    assert refugees and refugees[0]["x"][-1] == "2020" and len(refugees[0]["x"]) == 7   # 1990, 1995 ... 2020
    geo = [f for f in figures if any(tr.get("type") == "choropleth" for tr in f["data"])]
    assert geo, "no world map"
    assert all(tr["locationmode"] == "ISO-3" for f in geo for tr in f["data"] if tr.get("type") == "choropleth")
    # the pyramid needs a census, the labour market an LFS: both say what would fill them
    infos = " ".join(displayed(i.value) for i in at.info)
    assert "census template" in infos and "lfs template" in infos
    captions = " ".join(displayed(c.value) for c in at.caption)
    assert "UN DESA, International Migrant Stock, edition 2020" in captions
    assert "modelled estimate (E)" not in captions or "KNOMAD" in captions


def test_profile_nepal_prefers_the_national_census_and_shows_the_labour_market(demo_env):
    at = run_page("profile", country="NPL")
    shown = metrics(at)
    assert shown["International migrant stock (2021)"] == "650,000"  # demo census 2021, not UN DESA 2020
    assert shown["Population (2021)"] == "29,192,000"
    assert "Participation gap, migrants − non-migrants (2023)" in shown
    captions = " ".join(displayed(c.value) for c in at.caption)
    assert "National upload used (2021). International baseline: 487,564 in 2020" in captions
    assert "Labour Force Survey 2023 (synthetic)" in captions
    figures = specs(at)
    pyramid = [f for f in figures if any(tr.get("orientation") == "h" and tr.get("customdata") for tr in f["data"])]
    assert pyramid, "no age-sex pyramid"
    labour = [f for f in figures if any(tr.get("error_y") for tr in f["data"])]
    assert labour, "no labour chart with confidence intervals"
    # sources that disagree are shown side by side in the quality section
    tables = [d.value for d in at.dataframe]
    disagree = [t for t in tables if "International: source" in t.columns]
    assert disagree and (disagree[0]["National: source"].str.contains("Census 2021")).any()


def test_profile_in_french(demo_env):
    at = run_page("profile", country="NPL", lang="fr")
    shown = metrics(at)
    assert shown["Stock de migrants internationaux (2021)"] == "650\u202f000"
    assert at.title[0].value == "Profil migratoire : Népal"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_summary_germany(app_env, lang):
    at = run_page("summary", country="DEU", year="2020", lang=lang)
    table = at.dataframe[0].value
    latest = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
    if lang == "en":
        assert latest["International migrant stock"] == "15,762,457"
        assert latest["Migrants as % of population"] == "18.8%"
        assert latest["Women among migrants"] == "49.9%"
        readings = " ".join(displayed(m.value) for m in at.markdown)
        assert "Migrants make up 18.8% of the population (2020), up 6.3 points since 2015." in readings
        comparison = at.dataframe[1].value
        assert list(comparison.iloc[:, 0]) == ["Germany", "Europe and Northern America", "High-income countries",
                                               "World"]
    else:
        assert latest["Stock de migrantes internacionales"] == "15.762.457"


def test_summary_compares_countries_side_by_side(demo_env):
    at = run_page("summary", country="NPL")
    at.multiselect(key="summary_countries").set_value(["NPL", "DEU"]).run()
    assert not at.exception, at.exception
    table = at.table[0].value
    assert list(table.columns) == ["Unit", "Nepal", "Germany"]
    stock = table.loc["International migrant stock"]
    assert (stock["Nepal"], stock["Germany"]) == ("650,000 (2021)", "15,762,457 (2020)")  # demo census; UN DESA
    assert [t.label for t in at.tabs] == ["Nepal", "Germany"]


def test_brief_download_from_the_summary_page(app_env):
    at = run_page("summary", country="DEU", year="2020")
    at.selectbox(key="summary_brief_DEU_format").set_value("json").run()
    at.button(key="summary_brief_DEU_prepare").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button"), "no download button after preparing the brief"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_profile_movements_sections_on_the_page(demo_env, demo_copy, lang):
    """Nepal with national flows, labour deployments and border crossings published: the five
    sections under their headings, the labour figure among the key figures, an empty section naming
    its template, no traceback."""
    from mmicd.store import Store
    from tests.profile.test_movements import BORDER, FLOWS, LABOUR, _publish

    s = Store(f"sqlite:///{demo_copy / 'mmicd.sqlite'}", data_dir=demo_copy)
    for name, text in (("flows.csv", FLOWS), ("labour.csv", LABOUR), ("border.csv", BORDER)):
        _publish(s, name, text)
    s.engine.dispose()
    at = run_page("profile", country="NPL", lang=lang)
    headers = [h.value for h in at.header]
    titles = {"en": ["Migration flows", "Refugees and asylum", "Returns", "Labour migration", "Border movements"],
              "es": ["Flujos migratorios", "Refugiados y asilo", "Retornos", "Migración laboral",
                     "Movimientos fronterizos"]}[lang]
    assert [h for h in headers if h in titles] == titles
    shown = metrics(at)
    label = {"en": "Workers deployed abroad (2020)", "es": "Trabajadores desplegados en el exterior (2020)"}[lang]
    assert shown[label] == ("102,300" if lang == "en" else "102.300")
    infos = " ".join(displayed(i.value) for i in at.info)
    assert ("returns template" if lang == "en" else "plantilla returns") in infos
    lines = [f for f in specs(at) if any(tr.get("name", "").startswith(("Departures", "Salidas")) for tr in f["data"])]
    assert lines and len(lines[0]["data"]) == 2 and len(lines[0]["data"][0]["x"]) == 12   # arrivals, departures by month
