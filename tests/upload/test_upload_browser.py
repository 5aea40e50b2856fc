"""The upload page in headless Chromium against `streamlit run app.py`: a long check shows its
progress and a Cancel button that stops it on the server; closing the browser stops it too."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from tests.e2e.test_browser import (
    ADMIN,
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    streamlit_server,
    wait_for_app_idle,
)


def wide_csv(path: Path, rows: int = 150_000) -> None:
    """A wide table of 45 years (about 45 MB): a check of tens of seconds on this machine."""
    rng = random.Random(1)
    with open(path, "w") as fh:
        fh.write("Country,Indicator," + ",".join(str(y) for y in range(1980, 2025)) + "\n")
        for i in range(rows):
            fh.write(f"Country {i % 250},Indicator {i}," + ",".join(str(rng.randint(1, 99999)) for _ in range(45))
                     + "\n")


def _stopped(log: Path, reason: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if f"check stopped: {reason}" in log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.e2e
def test_cancel_and_closing_the_browser_stop_a_running_check(tmp_path: Path) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    big = tmp_path / "wide.csv"
    wide_csv(big)
    log = tmp_path / "streamlit.log"
    with streamlit_server(tmp_path / "data", log) as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            def open_upload():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base_url}/account")
                wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
                page.get_by_label("User name (or e-mail)").fill(ADMIN[0])
                page.get_by_label("Password", exact=True).fill(ADMIN[1])
                page.get_by_role("button", name="Sign in", exact=True).click()
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                page.locator('[data-testid="stSidebarNav"] a[href$="/upload"]').first.click()
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                page.locator('input[type="file"]').first.set_input_files(str(big))
                page.get_by_text("wide.csv:").first.wait_for(timeout=60_000)   # the progress bar
                return page

            page = open_upload()
            page.get_by_role("button", name="Cancel the check").click()
            page.get_by_text("Checking wide.csv was cancelled. Nothing was stored.").wait_for(timeout=30_000)
            assert _stopped(log, "cancelled", 10)
            page.close()

            page = open_upload()
            page.close()                                       # the browser gone, the check running
            assert _stopped(log, "session", 40), log.read_text(errors="replace")[-3000:]
        finally:
            browser.close()
