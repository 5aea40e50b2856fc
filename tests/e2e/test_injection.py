"""Markdown/HTML injection in a real browser: hostile names in the store and in an uploaded file's
name must be shown as text, never make the visitor's browser fetch anything.

A local "beacon" HTTP server stands for the attacker's: the intervention title, the indicator name,
the description, user names typed at sign-in and the uploaded file's name all hold a Markdown image
and an HTML ``<img>`` pointing at it. The Interventions page, the M&E dashboard, the audit trail and
the upload page are opened in headless Chromium; the beacon must receive no request. A control image
added by the test itself at the end proves that the beacon is reachable from the page.
Screenshot: build/screenshots/injection-interventions.png (the title shown literally).
"""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest

from mmicd.store import Store
from tests.e2e.test_browser import (
    ADMIN,
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    SCREENSHOT_DIR,
    _find_chromium,
    _free_port,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.hostile import formula, html, markdown, plant

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000"
                    "0500010d0a2db40000000049454e44ae426082")


class Beacon(http.server.ThreadingHTTPServer):
    """Records every path asked for; answers with a 1x1 PNG."""

    def __init__(self):
        self.hits: list[str] = []
        beacon = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                beacon.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", _free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.mark.e2e
def test_hostile_names_are_shown_as_text_and_fetch_nothing(tmp_path: Path, seeded_file, monkeypatch) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    beacon = Beacon()
    threading.Thread(target=beacon.serve_forever, daemon=True).start()
    url = beacon.url
    title = f"{formula(url)} {markdown(url, 'iv')} {html(url, 'iv')}"
    indicator = f"@SUM(1+1) {markdown(url, 'ind')} {html(url, 'ind')}"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(seeded_file, data_dir / "mmicd.sqlite")
    store = Store(f"sqlite:///{data_dir / 'mmicd.sqlite'}", data_dir=data_dir)
    plant(store, title=title, indicator=indicator, lead=markdown(url, "lead"), description=html(url, "desc"),
          user_names=(markdown(url, "user"), html(url, "user")))
    store.engine.dispose()
    # a file on disk cannot be named so, but a crafted upload request can (the browser sends the name given)
    file_name = f"![x]({url}/up-md.png) <img src={url}/up-html.png>.csv"
    monkeypatch.setenv("MMICD_DEFAULT_COUNTRY", "NPL")
    blocked: list[str] = []
    problems: list[str] = []
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    guard = local_only(blocked)

    try:
        with streamlit_server(data_dir, tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
                headless=True, viewport={"width": 1400, "height": 1600}, service_workers="block")
            try:
                context.route("**/*", guard)
                page = context.pages[0] if context.pages else context.new_page()

                # anonymous visitor: the register, the detail of the first intervention
                page.goto(f"{base_url}/")
                wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)

                def go(path: str) -> None:
                    """Through the navigation (a new URL would start a new session, signed out)."""
                    page.locator(f'[data-testid="stSidebarNav"] a[href$="{path}"]').first.click()
                    wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                    no_beacon_elements(path)

                def no_beacon_elements(where: str) -> None:
                    for tag in ("a[href", "img[src"):
                        if page.locator(f'{tag}*="127.0.0.1:{beacon.server_address[1]}"]').count():
                            problems.append(f"{where}: user text rendered as {tag.split('[')[0]} to the beacon")

                def shown(text: str) -> bool:
                    """The text on the page as typed (the word joiners that keep addresses plain left out)."""
                    return text in page.inner_text("body").replace("\u2060", "")

                go("/interventions")
                page.get_by_role("tab", name="One intervention").click()
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                no_beacon_elements("/interventions, one intervention")
                if title not in [h.replace("\u2060", "") for h in page.locator("h3").all_inner_texts()]:
                    problems.append("the intervention's title is not shown literally as its heading")
                if not shown(indicator):
                    problems.append("the indicator's name is not shown literally")
                page.screenshot(path=str(SCREENSHOT_DIR / "injection-interventions.png"), full_page=True)

                go("/me")

                # the admin: the audit trail (the user names typed at sign-in) and the upload page
                go("/account")
                page.get_by_label("User name (or e-mail)").fill(ADMIN[0])
                page.get_by_label("Password", exact=True).fill(ADMIN[1])
                page.get_by_role("button", name="Sign in", exact=True).click()
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                go("/audit")
                go("/upload")
                page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
                    {"name": file_name, "mimeType": "text/csv",
                     "buffer": b"ref_area,time_period,sex,value\nNPL,2021,_T,oops\n"})
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                no_beacon_elements("/upload, with the file")
                if not shown(file_name):
                    problems.append("the uploaded file's name is not shown literally")
                page.screenshot(path=str(SCREENSHOT_DIR / "injection-upload.png"), full_page=True)
                page.wait_for_timeout(1500)
                leaked = list(beacon.hits)

                # control: an image the test adds itself does reach the beacon
                page.evaluate("u => { const i = new Image(); i.src = u; document.body.appendChild(i); }",
                              f"{url}/control.png")
                page.wait_for_timeout(1500)
            finally:
                context.close()
    finally:
        beacon.shutdown()
    assert "/control.png" in beacon.hits, "the beacon is not reachable from the page: the test would prove nothing"
    problems += [f"the browser fetched {hit} from the beacon" for hit in leaked]
    problems += [f"non-local request blocked: {u}" for u in dict.fromkeys(blocked)]
    assert not problems, "\n".join(problems)
