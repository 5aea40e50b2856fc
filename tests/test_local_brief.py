"""A subdivision's brief (four formats) and exports (CSV/JSON data packages, SDMX-CSV 1.0/2.0) with the
demo's synthetic Nepal provinces: Bagmati (NP-P3) beside Nepal, the synthetic label, REF_AREA NP-P3 read
back against the SDMX structure and re-imported through the upload path; the page's downloads (AppTest)."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pandas as pd
import pypdf
import pytest

from mmicd.demo import demo_files
from mmicd.engine.export import export
from mmicd.engine.local import compute_local, read_local_inputs
from mmicd.ingest import Upload, commit, prepare
from mmicd.profile import brief
from mmicd.profile.local import local_profile
from mmicd.sdmx import data_csv, frames
from mmicd.ui.local_profile import INDICATORS
from tests.test_export_sdmx import bad_codes, structure  # noqa: F401 - the structure fixture
from tests.test_local_profile_page import WANTED, local_env, local_file, open_page  # noqa: F401 - fixtures

SYNTHETIC = "SYNTHETIC demo data"


@pytest.fixture
def local_table(store):
    """The demo's national census and provincial census, LFS and returns, published on each backend;
    every indicator of Nepal and its provinces."""
    for demo in [d for d in demo_files() if d.path.name in WANTED]:
        prep = prepare([Upload(demo.path.name, demo.path.read_bytes())], kind=demo.kind, country=demo.country,
                       source=demo.source, edition=demo.edition, title=demo.title, notes=demo.notes, store=store)
        assert prep.ok, [i.message for i in prep.issues]
        commit(prep, store, actor="test", publish=True)
    inputs = read_local_inputs(store, "NPL")
    table = compute_local(inputs.own, inputs.microdata, country="NPL", indicators=list(INDICATORS)).table
    return table, {v.id: v for v in store.datasets()}


def test_the_profile_of_bagmati_beside_nepal(local_table):
    table, versions = local_table
    p = local_profile(table, "NP-P3", "en", versions)
    assert (p.country, p.parent, p.name) == ("NP-P3", "NPL", "Bagmati, Nepal")
    key = p.block("local_key").frame().set_index("figure")
    assert key.loc["International migrant stock", ["value", "national_value", "time_period"]].tolist() == \
        [91196, 650000, "2021"]
    assert key.loc["International migrant stock", "note"] == "national figure aggregated from the subdivisions"
    assert key.loc["International migrants as a share of the population", "value"] == pytest.approx(
        91196 / 6062446 * 100)
    lfpr = key.loc["Labour force participation rate"]    # a survey estimate: with its interval
    assert lfpr["ci_lower"] < lfpr["value"] < lfpr["ci_upper"]
    ages = p.block("local_sex_age").frame()
    assert ages["total"].sum() == 91196          # 100+ counts: its cells by sex are suppressed (4 and 3)
    both = ages.dropna(subset=["F", "M"])
    assert (both["F"] + both["M"] == both["total"]).all() and ages.set_index("age").at["Y_GE100", "total"] == 7
    assert ages["pct"].sum() == pytest.approx(100) and ages["national_pct"].sum() == pytest.approx(100)
    origins = p.block("origins").frame().set_index("area")
    assert origins.loc["IND", ["F", "M", "total"]].tolist() == [44251, 35871, 80122]
    assert origins.loc["IND", "pct"] == pytest.approx(80122 / 91196 * 100)
    returns = p.block("local_movements").frame().set_index("time_period")
    assert returns.loc["2023", ["value", "national_value"]].tolist() == [20952, 116400]
    assert returns.loc["2023", "share_of_national"] == pytest.approx(20952 / 116400 * 100)
    for b in (p.block(i) for i in ("local_key", "local_sex_age", "origins", "local_movements")):
        assert any(SYNTHETIC in w for w in b.warnings) and b.sources, b.id


def test_each_brief_format_of_bagmati(local_table, tmp_path):
    table, versions = local_table
    p = local_profile(table, "NP-P3", "en", versions)
    assert brief.file_name(p, "pdf") == "brief_NP-P3_latest_en.pdf"
    data = json.loads(brief.render(p, "json"))
    assert data["parent"] == "NPL" and data["key_figures"] == []
    key = next(b for s in data["sections"] for b in s["blocks"] if b["id"] == "local_key")
    stock = next(r for r in key["rows"] if r["figure"] == "International migrant stock")
    assert (stock["value"], stock["national_value"]) == (91196, 650000)

    page = brief.render(p, "html").decode()
    assert "<h1>Local brief: Bagmati, Nepal</h1>" in page and "Country brief" not in page
    assert "<td>91,196</td>" in page and "<td>650,000</td>" in page and SYNTHETIC in page
    assert "National figure" in page and "data:image/png;base64," in page   # the origins chart
    assert "<script" not in page and "http" not in page

    text = " ".join(pg.extract_text() for pg in pypdf.PdfReader(io.BytesIO(brief.render(p, "pdf"))).pages)
    text = " ".join(text.split())
    assert "Local brief: Bagmati, Nepal" in text and "International migrant stock 91,196 – – 650,000 2021" in text
    assert SYNTHETIC in text and "Census 2021, provinces (synthetic)" in text
    assert "Returned migrants 2023 20,952 116,400 18.0" in text

    book = openpyxl.load_workbook(io.BytesIO(brief.render(p, "xlsx")))
    rows = [r for ws in book.worksheets for r in ws.iter_rows(values_only=True)]
    stock = next(r for r in rows if r[0] == "International migrant stock")
    assert (stock[1], stock[4], stock[5]) == (91196, 650000, "2021")
    assert any(isinstance(c, str) and SYNTHETIC in c for r in rows for c in r)
    assert book.worksheets[0]["A1"].value == "Local brief: Bagmati, Nepal"

    fr = brief.render(local_profile(table, "NP-P3", "fr", versions), "html").decode()
    assert "Fiche locale : Bagmati, Népal" in fr and "Chiffre national" in fr


def test_a_country_brief_keeps_its_title_and_key_figures():
    from mmicd.profile.model import CountryProfile, Figure

    p = CountryProfile(country="NPL", name="Nepal", year=None, lang="en", generated_at="today",
                       key_figures=[Figure(id="imm_stock", title="Immigrants", unit="persons", value=5.0)])
    page = brief.render(p, "html").decode()
    assert "<h1>Country brief: Nepal</h1>" in page and "<h2>Key figures</h2>" in page


# ---- exports ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_the_sdmx_export_of_bagmati_reads_back_with_ref_area_np_p3(local_table, structure, version):  # noqa: F811
    table, _ = local_table
    rows = table.loc[table["ref_area"] == "NP-P3"]
    assert frames(rows)["SDG"].empty      # a subdivision is no M49 area: the project's flow only
    text = data_csv(rows, "MMICD", version)
    got = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert set(got["REF_AREA"]) == {"NP-P3"} and len(got) == len(rows)
    assert bad_codes(text, structure) == {}
    # a code not in the structure's list is caught (NP-P9 is no province of Nepal)
    assert bad_codes(text.replace(",NP-P3,", ",NP-P9,"), structure) == {"REF_AREA": {"NP-P9"}}


@pytest.mark.parametrize("fmt", ["sdmx-csv", "sdmx-csv-2.0"])
def test_the_export_of_bagmati_reimports_with_the_same_observations(local_table, fmt):
    """The counts by five-year age group and totals through the upload path: NP-P3, value for value.
    (The engine's broad age groups overlap the five-year ones; an upload refuses overlapping groups.)"""
    table, _ = local_table
    five = {"_T", *pd.read_csv("data/codelists/age.csv", dtype=str, comment="#").query("kind == '5y'")["code"]}
    rows = table.loc[(table["ref_area"] == "NP-P3") & table["age"].isin(five)
                     & table["indicator"].isin(["imm_stock", "returned_migrants"])]
    z = zipfile.ZipFile(io.BytesIO(export(rows, fmt)))
    prep = prepare([Upload("data_MMICD.csv", z.read("data_MMICD.csv"))])
    assert prep.ok, [i.message for i in prep.issues]
    back = pd.concat([d.frame for d in prep.datasets], ignore_index=True)
    assert set(back["ref_area"]) == {"NP-P3"}
    key = ["time_period", "sex", "age", "counterpart_area"]
    for indicator, measure in (("imm_stock", "POP"), ("returned_migrants", "RET_MIG")):
        want = rows.loc[rows["indicator"] == indicator].sort_values(key)[[*key, "value"]].fillna(-1).values.tolist()
        got = back.loc[back["measure"] == measure].sort_values(key)[[*key, "value"]].fillna(-1).values.tolist()
        assert got == want and len(got) > 0, indicator
    assert back.loc[(back["measure"] == "POP") & (back["sex"] == "_T") & (back["age"] == "_T")
                    & (back["counterpart_area"] == "_T"), "value"].tolist() == [91196.0]


def test_the_csv_and_json_packages_of_bagmati(local_table):
    table, _ = local_table
    rows = table.loc[table["ref_area"] == "NP-P3"]
    z = zipfile.ZipFile(io.BytesIO(export(rows, "csv-package")))
    csv_name = next(n for n in z.namelist() if n.endswith(".csv"))
    got = pd.read_csv(io.BytesIO(z.read(csv_name)), dtype=str)
    assert set(got["ref_area"]) == {"NP-P3"}
    total = got.query("indicator == 'imm_stock' and sex == '_T' and age == '_T' and counterpart_area == '_T'")
    assert total["value"].astype(float).tolist() == [91196.0]
    package = json.loads(export(rows, "json"))
    assert "NP-P3" in json.dumps(package["resources"][0]["data"])


# ---- the page --------------------------------------------------------------------------------------
def test_the_page_offers_the_brief_and_the_exports(local_env):  # noqa: F811
    at = open_page(area="NP-P3")
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"CSV + metadata (zip)", "JSON (data package)", "SDMX-CSV 1.0 (zip)", "SDMX-CSV 2.0 (zip)",
            "SDMX structure (SDMX-ML 2.1)"} <= set(labels), labels
    assert "Download the brief of Bagmati" in [m.value.strip("*") for m in at.markdown]
    at.selectbox(key="local_brief_format").set_value("pdf").run()
    at.button(key="local_brief_prepare").click().run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download brief_NP-P3_latest_en.pdf" in labels
    data = at.session_state["_brief_local_brief_NP-P3_None_en_pdf"]
    text = " ".join(" ".join(pg.extract_text() for pg in pypdf.PdfReader(io.BytesIO(data)).pages).split())
    assert "Local brief: Bagmati, Nepal" in text and "91,196" in text and "650,000" in text and SYNTHETIC in text
