"""A survey without PSUs: the labour-market section of the profile says so on every estimate and in a
translated note, on the page and in every brief format (xlsx, html, pdf, json)."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from mmicd.engine.synthetic import lfs_microdata
from mmicd.i18n import t
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.profile import profile_from_store
from mmicd.profile.brief import render
from mmicd.store import Store
from tests.profile.test_pages import run_page


@pytest.fixture
def no_psu_store(seeded_url):
    """The seeded baseline plus a published Nepal LFS whose PSUs are unknown (strata only)."""
    s = Store(seeded_url, data_dir=Path(seeded_url.split("///", 1)[1]).parent)
    s.add_microdata(DatasetMeta(kind=Kind.LFS, source="Survey without PSU", edition="2022", scope="NPL"),
                    lfs_microdata(3000, strata=10, psus=60, seed=2).assign(psu=""), actor="test",
                    status=Status.PUBLISHED)
    yield s
    s.engine.dispose()


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\xa0", " "))


@pytest.mark.parametrize("lang", ["en", "fr", "es"])
def test_labour_block_flags_every_estimate_and_carries_the_note(no_psu_store, lang):
    profile = profile_from_store(no_psu_store, "NPL", None, lang)
    block = profile.block("labour")
    assert len(block.rows) > 50 and {r["design"] for r in block.rows} == {"no_psu"}
    note = t("ind.design.note.no_psu", lang)
    assert block.warnings == [note]
    # json brief
    data = json.loads(render(profile, "json"))
    labour = next(b for s in data["sections"] for b in s["blocks"] if b["id"] == "labour")
    assert labour["warnings"] == [note] and {r["design"] for r in labour["rows"]} == {"no_psu"}
    # html brief: the note, and the design on the printed rows
    page = render(profile, "html").decode("utf-8")
    assert f'<p class="warning">{html.escape(note)}</p>' in page
    assert html.escape(t("ind.design.no_psu", lang)) in page
    # xlsx brief: the note under the labour table, the design in its own column
    wb = load_workbook(io.BytesIO(render(profile, "xlsx")))
    cells = [c for row in wb[profile.section("labour").title[:31]].iter_rows(values_only=True) for c in row if c]
    assert note in cells and t("ind.design.no_psu", lang) in cells and t("profile.col.design", lang) in cells


def test_pdf_brief_carries_the_note(no_psu_store):
    profile = profile_from_store(no_psu_store, "NPL", None, "en")
    reader = PdfReader(io.BytesIO(render(profile, "pdf")))
    text = _words(" ".join(p.extract_text() for p in reader.pages))
    assert "standard errors assume simple random sampling (within strata) and are probably too small" in text


def test_a_full_design_carries_no_note(demo_store):
    block = profile_from_store(demo_store, "NPL", None, "en").block("labour")
    assert block.rows and {r["design"] for r in block.rows} == {"full"} and block.warnings == []


def test_profile_page_shows_the_note(app_env, no_psu_store):
    at = run_page("profile", country="NPL", year="2022")
    assert t("ind.design.note.no_psu", "en") in [w.value for w in at.warning]
