"""The Indicators page with Streamlit's AppTest on the seeded baseline plus generated survey data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd.engine.synthetic import lfs_microdata
from mmicd.i18n import t
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store
from tests.conftest import DASHBOARD

APP = str(Path(__file__).resolve().parents[2] / DASHBOARD)


def open_page(country: str, indicator: str | None = None, lang: str | None = None, year: str | None = None):
    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in (("country", country), ("lang", lang), ("year", year), ("ind_pick", indicator)):
        if value is not None:
            at.session_state[key] = value
    at.run()
    at.switch_page("pages/indicators.py").run()
    assert not at.exception, at.exception
    return at


def test_imm_share_for_germany_from_the_baseline(app_env):
    at = open_page("DEU", "imm_share", year="2020")
    assert at.title[0].value == "Indicators: Germany"
    assert "UN DESA, International Migrant Stock" in " ".join(c.value for c in at.caption)
    table = at.dataframe[0].value
    row = table.loc[(table["Period"] == "2020") & (table["Sex"] == "Total") & (table["Age"] == "All ages")]
    assert row["Value"].iloc[0] == pytest.approx(18.813, abs=1e-3)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"] and {t["name"] for t in spec["data"]} >= {"Total", "Female", "Male"}
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["CSV + metadata (zip)", "JSON (data package)", "SDMX-CSV 1.0 (zip)", "SDMX-CSV 2.0 (zip)",
                      "SDMX structure (SDMX-ML 2.1)"]


@pytest.fixture
def with_survey(app_env, seeded_url):
    """The seeded copy plus a small published LFS for Nepal (few cases: some U and Q cells)."""
    s = Store(seeded_url, data_dir=Path(seeded_url.split("///", 1)[1]).parent)
    s.add_microdata(DatasetMeta(kind=Kind.LFS, source="Test LFS", edition="2022", scope="NPL"),
                    lfs_microdata(3000, strata=10, psus=60, seed=2), actor="test", status=Status.PUBLISHED)
    s.engine.dispose()


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_survey_indicator_with_intervals_and_marked_cells(with_survey, lang):
    at = open_page("NPL", "unemp_rate", lang=lang, year="2022")
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    # confidence intervals drawn (a sex whose every cell is suppressed has none to draw)
    assert bars and any(t.get("error_y", {}).get("array") for t in bars)
    texts = {x for t in bars for x in t["text"]}
    assert {"U", "Q"} & texts  # flagged / suppressed cells marked, not dropped
    table = at.dataframe[0].value
    assert len(table.columns) == 13 and table.iloc[:, 9].notna().all()  # unweighted cases on every row
    # strata and PSUs known: said on every row, and no design warning
    assert set(table[t("ind.col.design", lang)]) == {t("ind.design.full", lang)}
    assert not [w for w in at.warning if w.value.startswith(t("ind.design.note.no_psu", lang)[:20])]
    if lang == "en":
        statuses = set(table["Status"])
        assert "Suppressed (confidentiality, small cell or too unreliable)" in statuses and "Normal value" in statuses


@pytest.fixture
def without_psu(app_env, seeded_url):
    """The seeded copy plus a published LFS for Nepal whose PSUs are unknown (strata only)."""
    s = Store(seeded_url, data_dir=Path(seeded_url.split("///", 1)[1]).parent)
    s.add_microdata(DatasetMeta(kind=Kind.LFS, source="Survey without PSU", edition="2022", scope="NPL"),
                    lfs_microdata(3000, strata=10, psus=60, seed=2).assign(psu=""), actor="test",
                    status=Status.PUBLISHED)
    s.engine.dispose()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_survey_without_psu_says_so_beside_its_estimates(without_psu, lang):
    at = open_page("NPL", "lfpr", lang=lang, year="2022")
    assert t("ind.design.note.no_psu", lang) in [w.value for w in at.warning]
    if lang == "en":
        assert "standard errors assume simple random sampling" in at.warning[0].value
    table = at.dataframe[0].value
    assert len(table) > 50 and set(table[t("ind.col.design", lang)]) == {t("ind.design.no_psu", lang)}
