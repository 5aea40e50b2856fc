"""The local profile of Bagmati in a real browser with every non-local request blocked: the brief and
export downloads are shown, the PDF brief is prepared and downloaded, and its text is read with pypdf.
Screenshot: /tmp/localbrief_page.png."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.test_local_profile_page import with_local_demo

SHOT = Path("/tmp/localbrief_page.png")


@pytest.mark.e2e
def test_the_local_profile_downloads_its_brief_in_a_browser(tmp_path: Path, seeded_file) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with_local_demo(seeded_file, data_dir / "mmicd.sqlite")
    blocked: list[str] = []
    with streamlit_server(data_dir, tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1400}, service_workers="block", accept_downloads=True)
        try:
            context.route("**/*", local_only(blocked))
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{base_url}/")
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
            page.goto(f"{base_url}/local?area=NP-P3")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.get_by_text("Download the brief of Bagmati").wait_for(timeout=PAGE_RUN_TIMEOUT_S * 1000)
            for label in ("CSV + metadata (zip)", "JSON (data package)", "SDMX-CSV 1.0 (zip)", "SDMX-CSV 2.0 (zip)"):
                assert page.get_by_role("button", name=label).count() == 1, label
            page.get_by_role("button", name="Prepare the brief").click()
            button = page.get_by_role("button", name="Download brief_NP-P3_latest_en.pdf")
            button.wait_for(timeout=PAGE_RUN_TIMEOUT_S * 1000)
            page.screenshot(path=str(SHOT), full_page=True)
            with page.expect_download() as got:
                button.click()
            data = Path(got.value.path()).read_bytes()
        finally:
            context.close()
    assert blocked == [], f"non-local requests: {blocked}"
    text = " ".join(" ".join(pg.extract_text() for pg in pypdf.PdfReader(io.BytesIO(data)).pages).split())
    assert "Local brief: Bagmati, Nepal" in text and "International migrant stock 91,196 – – 650,000 2021" in text
    assert "SYNTHETIC demo data" in text
