"""The upload page in headless Chromium against `streamlit run app.py`: a long check shows its
progress and a Cancel button that stops it on the server; closing the browser stops it too (the
server's log says so)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.e2e.test_browser import (
    ADMIN,
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    REPO_ROOT,
    _find_chromium,
    streamlit_server,
    wait_for_app_idle,
)

# Loaded by the server's Python at start (sitecustomize, first on PYTHONPATH): every check reports
# its progress for a minute before reading its file, so that the browser sees it running; the page
# waits 3 s in its run (not 20) before polling, and a closed session's check stops after 2 s (not 10).
SLOW = """
import time

from mmicd import ingest
from mmicd.ui import upload

upload.WAIT, upload.SESSION_GRACE = 3.0, 2.0

real = ingest._prepare_one


def slow(upload, *args, **kwargs):
    report = args[7]
    for n in range(600):
        report("reading", n / 600)
        time.sleep(0.1)
    return real(upload, *args, **kwargs)


ingest._prepare_one = slow
"""


def _stopped(log: Path, reason: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if f"check stopped: {reason}" in log.read_text(errors="replace"):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.e2e
def test_cancel_and_closing_the_browser_stop_a_running_check(tmp_path: Path, monkeypatch) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    csv = tmp_path / "census.csv"
    csv.write_bytes(b"ref_area,time_period,sex,value\nNPL,2021,F,10\nNPL,2021,M,12\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SLOW)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "site"), str(REPO_ROOT)]))
    log = tmp_path / "streamlit.log"
    # no demo uploads at first start: they go through the (here slowed) check too
    with streamlit_server(tmp_path / "data", log, {"MMICD_DEMO": "0"}) as base_url, sync_playwright() as p:
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
                page.locator('input[type="file"]').first.set_input_files(str(csv))
                page.get_by_text("census.csv: reading").first.wait_for(timeout=60_000)   # the progress bar
                return page

            page = open_upload()
            page.get_by_role("button", name="Cancel the check").click()
            page.get_by_text("Checking census.csv was cancelled. Nothing was stored.").wait_for(timeout=30_000)
            assert _stopped(log, "cancelled", 10)
            page.close()

            page = open_upload()
            page.wait_for_timeout(6_000)          # past the page's wait (3 s here): a fragment polls the check
            assert page.get_by_text("census.csv: reading").count()
            assert page.get_by_role("button", name="Cancel the check").count()
            assert "check stopped: session" not in log.read_text(errors="replace")
            page.close()                                       # the browser gone, the check running
            assert _stopped(log, "session", 40), log.read_text(errors="replace")[-3000:]
        finally:
            browser.close()
