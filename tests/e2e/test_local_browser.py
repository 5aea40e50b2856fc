"""The local profile in headless Chromium (outside requests blocked): Bagmati opened from ?area=NP-P3,
its figures beside Nepal's; screenshots in /tmp/local_*.png for a human to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.test_local_profile_page import with_local_demo


@pytest.mark.e2e
def test_local_profile_in_the_browser(seeded_file, tmp_path: Path) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    data.mkdir()
    db = with_local_demo(seeded_file, data / "mmicd.sqlite")
    blocked: list[str] = []
    with (
        streamlit_server(data, tmp_path / "streamlit.log", {"MMICD_DATABASE_URL": f"sqlite:///{db}"}) as base_url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("**/*", local_only(blocked))
            page.goto(f"{base_url}/")           # (the first session switches the old multipage mode off)
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.goto(f"{base_url}/local?area=NP-P3")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            main = page.locator('[data-testid="stMain"]')
            text = main.inner_text()
            assert "Local profile: Nepal" in text and "Key figures: Bagmati" in text
            assert "SYNTHETIC" in text
            page.set_viewport_size({"width": 1400, "height": 2600})
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S, settle_s=0.5)
            page.screenshot(path="/tmp/local_bagmati.png", full_page=True)
            assert "area=NP-P3" in page.url
            # French, another province from the URL
            page.goto(f"{base_url}/local?area=NP-P6")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            assert "Key figures: Karnali" in main.inner_text()
            page.screenshot(path="/tmp/local_karnali.png", full_page=True)
            assert not page.locator('[data-testid="stException"]').count()
        finally:
            browser.close()
    assert blocked == []
