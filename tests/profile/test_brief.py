"""Country briefs in the four formats, with their content checked, and the command line."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from mmicd.cli import main
from mmicd.profile import CountryProfile, profile_from_store
from mmicd.profile.brief import export, render


@pytest.fixture
def germany(seeded_store) -> CountryProfile:
    return profile_from_store(seeded_store, "DEU", "2020", "en")


@pytest.fixture
def nepal(demo_store) -> CountryProfile:
    return profile_from_store(demo_store, "NPL", None, "en")


def test_xlsx_has_a_sheet_per_section_the_data_native_charts_and_sources(germany, tmp_path):
    path = export(germany, tmp_path / "brief.xlsx")
    wb = load_workbook(path)
    # refugees and asylum from the baseline (UN DESA Table 6, UNHCR resettlement); flows, returns, labour
    # migration and border movements have no data for Germany: not printed
    assert wb.sheetnames == ["Key figures", "Immigration", "Emigration and diaspora", "Remittances", "Labour market",
                             "Refugees and asylum", "Data availability and quality", "Sources"]
    figures = {row[0]: row[1] for row in wb["Key figures"].iter_rows(min_row=5, values_only=True) if row[0]}
    assert figures["International migrant stock"] == 15762457
    assert round(figures["Migrants as % of population"], 1) == 18.8
    assert round(figures["Women among migrants"], 1) == 49.9
    # the origins table: same countries and numbers as the profile block
    ws = wb["Immigration"]
    cells = [r for r in ws.iter_rows(values_only=True)]
    origins = germany.block("origins")
    start = next(i for i, r in enumerate(cells) if r[0] == origins.title)
    header = cells[start + 1]
    assert header[:5] == ("Code", "Country or area", "Women", "Men", "Total")
    for row, expected in zip(cells[start + 2:start + 2 + len(origins.rows)], origins.rows, strict=True):
        assert row[0] == expected["area"] and row[4] == expected["total"]
    sources = [r for r in wb["Sources"].iter_rows(min_row=2, values_only=True) if r[0]]
    assert any("UN DESA, International Migrant Stock" in str(r[1]) and r[2] == "2020" for r in sources)
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 6, "native Excel charts missing"
        assert b"<c:lineChart>" in z.read(charts[0]) or b"<c:barChart>" in z.read(charts[0])


def test_pdf_text_has_the_key_figures_and_accents(seeded_store, tmp_path):
    for lang, expected in (("en", ["15,762,457", "18.8%", "49.9%", "Country brief: Germany"]),
                           ("fr", ["15 762 457", "18,8 %", "Fiche pays : Allemagne", "Émigrés"]),
                           ("es", ["15.762.457", "Ficha de país: Alemania", "Emigración y diáspora"])):
        profile = profile_from_store(seeded_store, "DEU", "2020", lang)
        reader = PdfReader(io.BytesIO(render(profile, "pdf")))
        text = " ".join(p.extract_text() for p in reader.pages).replace("\u202f", " ").replace("\xa0", " ")
        text = re.sub(r"\s+", " ", text)
        for needle in expected:
            assert needle in text, (lang, needle)
        assert len(reader.pages) >= 3
        # charts are embedded as images
        assert sum(len(p.images) for p in reader.pages) >= 5


def test_html_is_self_contained_and_prints(nepal):
    page = render(nepal, "html").decode("utf-8")
    remote = re.findall(r"(?:https?:)?//(?!localhost|127\.0\.0\.1)[\w.-]+\.[a-z]{2,}", page)
    assert not remote, remote[:5]
    assert "@media print" in page
    assert page.count('src="data:image/png;base64,') >= 6
    assert "<script" not in page
    assert "650,000" in page  # national census figure
    assert "Labour Force Survey 2023 (synthetic)" in page


def test_json_validates_against_the_model(nepal):
    data = render(nepal, "json")
    back = CountryProfile.model_validate_json(data)
    assert back.model_dump(mode="json") == json.loads(data) == nepal.model_dump(mode="json")
    assert back.figure("imm_stock").value == 650000
    assert back.figure("imm_stock").alternative.value == 487564


def test_command_line_writes_every_format(seeded_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMICD_DATABASE_URL", seeded_url)
    for suffix in ("xlsx", "html", "pdf", "json"):
        out = tmp_path / f"deu.{suffix}"
        assert main(["profile", "--country", "DEU", "--year", "2020", "--out", str(out)]) == 0
        assert out.stat().st_size > 1000
    assert main(["profile", "--country", "Atlantis", "--out", str(tmp_path / "x.pdf")]) == 2
    assert main(["profile", "--country", "DEU", "--out", str(tmp_path / "x.docx")]) == 2
    err = capsys.readouterr().err
    assert "Unknown country: Atlantis" in err and "use .xlsx, .html, .pdf or .json" in err
    assert main(["--lang", "fr", "profile", "--country", "Allemagne", "--year", "2020",
                 "--out", str(tmp_path / "fr.json")]) == 0
    assert CountryProfile.model_validate_json((tmp_path / "fr.json").read_text()).name == "Allemagne"


def test_a_long_table_prints_its_most_recent_years_whole_and_says_so():
    # 2 series × 30 years: the brief prints the 12 most recent years with both series (24 rows, not the
    # 25 oldest rows of the first series), in time order, and a note with the years and row counts
    from mmicd.profile.brief import MAX_ROWS, _printable
    from mmicd.profile.model import Block

    rows = [{"time_period": str(year), "series": series, "value": float(year)}
            for series in ("REM_IN", "REM_OUT") for year in range(1994, 2024)]
    block = Block(id="remittances", title="Remittances", columns=["time_period", "series", "value"], rows=rows)
    printed, note = _printable(block, "en")
    years = printed.iloc[:, 0].tolist()
    assert len(printed) == 24 <= MAX_ROWS
    assert sorted(set(years)) == [str(y) for y in range(2012, 2024)] and years.count("2023") == 2
    assert note == ("Shown: 2012–2023, the most recent years (24 of 60 rows). Every row is in the Excel and "
                    "JSON briefs.")
    assert _printable(block, "fr")[1].startswith("Présenté : 2012–2023")
    # a table without periods: its first rows, said
    ranked = Block(id="origins", title="Origins", columns=["area", "value"],
                   rows=[{"area": f"A{n:02d}", "value": float(n)} for n in range(30)])
    printed, note = _printable(ranked, "en")
    assert len(printed) == MAX_ROWS and printed.iloc[0, 0] == "A00"
    assert note.startswith("Shown: the first 25 of 30 rows.")
    short = Block(id="x", title="x", columns=["area", "value"], rows=[{"area": "A", "value": 1.0}])
    assert _printable(short, "en")[1] == ""


def test_html_and_pdf_briefs_reach_the_latest_remittance_year_with_both_series(germany):
    # Germany's remittances, received and paid, 1990-2020 (62 rows): the printed table stopped at its
    # 25th row (received only, up to 2014) while the chart reached 2020; now it ends with 2020 and
    # holds both series, and says which years it shows
    from mmicd.i18n import t

    [block] = [b for s in germany.sections for b in s.blocks if b.id == "rem_trend"]
    assert len(block.rows) == 62 and max(r["time_period"] for r in block.rows) == "2020"
    page = render(germany, "html").decode("utf-8")
    section = page[page.index(f"<h3>{block.title}</h3>"):]
    table = section[:section.index("</table>")]
    assert "<td>2020</td>" in table and "<td>2014</td>" in table and "<td>2007</td>" not in table
    assert f"<td>{t('profile.series.REM_IN', 'en')}</td>" in table
    assert f"<td>{t('profile.series.REM_OUT', 'en')}</td>" in table
    note = "Shown: 2009–2020, the most recent years (24 of 62 rows)."
    assert note in section[:section.index("</section>")]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render(germany, "pdf"))).pages)
    assert "2009–2020, the most recent years (24 of 62" in " ".join(text.split())
