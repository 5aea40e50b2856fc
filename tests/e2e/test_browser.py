"""End-to-end run: `streamlit run app.py` on a fresh data folder, every page opened in headless Chromium.

The browser may only talk to the local server; any other request is blocked and fails the test.
Screenshots of every page are written to build/screenshots/<page>.png for a human to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# The folder holding app.py; overridable only to try the harness against another app.
APP_ROOT = Path(os.environ.get("MMICD_E2E_APP_ROOT", REPO_ROOT))
SCREENSHOT_DIR = REPO_ROOT / "build" / "screenshots"
ADMIN = ("e2e-admin", "e2e admin password")  # the first admin of the fresh store

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
HEALTH_TIMEOUT_S = 90
# The first run seeds a fresh store with the baseline, which can take a minute or more.
FIRST_RUN_TIMEOUT_S = 240
PAGE_RUN_TIMEOUT_S = 120


def _find_chromium() -> str:
    path = os.environ.get("MMICD_CHROMIUM") or shutil.which("chromium")
    if path and Path(path).exists():
        return path
    reason = "Chromium not found: set MMICD_CHROMIUM or install Debian's `chromium` package"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in LOCAL_HOSTS



def local_only(blocked: list[str]):
    """A playwright route handler that lets local requests through and aborts any other, noting its
    address in ``blocked``."""
    def guard(route) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    return guard

@contextlib.contextmanager
def streamlit_server(data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `streamlit run app.py` in its own process group; yield its base URL once healthy.
    Its store is the SQLite file in ``data_dir`` unless ``extra_env`` names a database URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MMICD_DATABASE_URL"}
    env["MMICD_DATA_DIR"] = str(data_dir)
    env["MMICD_ADMIN_USER"], env["MMICD_ADMIN_PASSWORD"] = ADMIN
    env.update(extra_env or {})
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=APP_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{_tail(log_path)}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as resp,
            ):
                if resp.read().decode().strip() == "ok":
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {HEALTH_TIMEOUT_S}s:\n{_tail(log_path)}")
            time.sleep(0.5)
        yield base_url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# True once the script run is over: the app says so (data-test-script-state), no "Running..."
# indicator or loading placeholder is left, and the main block shows something.
_APP_IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    for (const w of document.querySelectorAll('[data-testid="stStatusWidget"]')) {
        if (/running|connecting/i.test(w.innerText) || w.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
    }
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    return !!main && main.innerText.trim().length > 0;
}"""


def wait_for_app_idle(page, timeout_s: float, settle_s: float = 1.5) -> None:
    """Poll until the app has finished running and stayed idle for `settle_s` seconds."""
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while True:
        now = time.monotonic()
        if page.evaluate(_APP_IDLE_JS):
            idle_since = idle_since or now
            if now - idle_since >= settle_s:
                return
        else:
            idle_since = None
        if now > deadline:
            raise AssertionError(f"{page.url}: app still running after {timeout_s}s")
        page.wait_for_timeout(250)


def _is_known_noise(msg) -> bool:
    """Streamlit's own probe noise, not an app error (streamlit/streamlit#7074): opened at a page URL
    such as /charts, the frontend first asks /charts/_stcore/health (and host-config), gets 404, then
    falls back to /_stcore/... which works."""
    path = urlsplit(msg.location.get("url", "")).path
    return "404" in msg.text and "/_stcore/" in path and not path.startswith("/_stcore/")


def _page_name(url: str) -> str:
    path = urlsplit(url).path.strip("/")
    return path.replace("/", "_") or "index"


def _nav_links(page, base_url: str) -> list[str]:
    view_more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if view_more.count() and view_more.first.is_visible() and "more" in view_more.first.inner_text().lower():
        view_more.first.click()
    hrefs = page.eval_on_selector_all(
        '[data-testid="stSidebarNav"] a', "els => els.map(e => e.href).filter(Boolean)"
    )
    urls: dict[str, str] = {"/": f"{base_url}/"}
    for href in hrefs:
        parts = urlsplit(href)
        if _is_local(href):
            urls.setdefault(parts.path or "/", f"{base_url}{parts.path or '/'}")
    return list(urls.values())


@pytest.mark.e2e
def test_every_page_renders_without_errors_or_outside_requests(tmp_path: Path) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    console_errors: list[str] = []
    problems: list[str] = []

    guard = local_only(blocked)

    def guard_ws(ws) -> None:
        blocked.append(ws.url)
        ws.close()

    with (
        streamlit_server(tmp_path / "data", tmp_path / "streamlit.log") as base_url,
        sync_playwright() as p,
    ):
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
            service_workers="block",
        )
        try:
            context.route("**/*", guard)
            context.route_web_socket(lambda url: not _is_local(url), guard_ws)
            page = context.pages[0] if context.pages else context.new_page()
            current = {"url": ""}

            def on_console(msg) -> None:
                if msg.type == "error" and not _is_known_noise(msg):
                    console_errors.append(f"{current['url']}: {msg.text} ({msg.location.get('url', '')})")

            page.on("console", on_console)
            page.on("pageerror", lambda exc: console_errors.append(f"{current['url']}: uncaught {exc}"))

            def check(name: str) -> None:
                """Screenshot the page the browser shows now, and record any error on it."""
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
                # The main area scrolls inside the window, so grow the window to the content's height
                # to get the whole page on the screenshot.
                height = page.evaluate(
                    """() => Math.max(...[...document.querySelectorAll(
                        '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebar"]')]
                        .map(e => e.scrollHeight), document.body.scrollHeight)"""
                )
                page.set_viewport_size({"width": 1400, "height": min(max(int(height), 1000), 12000)})
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S, settle_s=0.5)
                page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
                page.set_viewport_size({"width": 1400, "height": 1000})

                exceptions = page.locator('[data-testid="stException"]')
                if exceptions.count():
                    problems.append(f"{name}: st.exception shown: {exceptions.first.inner_text()[:500]}")
                if page.get_by_text("Traceback").count():
                    problems.append(f"{name}: the page shows a Traceback")

            # 0. The first request after the server starts is a deep link (a bookmark) whose path is
            # also a file of pages/: it must still run under app.py (sidebar, navigation by role),
            # not as the bare page file of Streamlit's old multipage mode.
            current["url"] = f"{base_url}/account"
            page.goto(current["url"])
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
            if not page.get_by_text("Language / Idioma / Langue").count() or page.get_by_role(
                    "link", name="me dashboard").count():
                problems.append("the first request, a deep link, ran the page without app.py")

            # 1. Anonymous visitor: every page of the navigation, each opened by its URL.
            current["url"] = f"{base_url}/"
            page.goto(current["url"])
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
            for url in _nav_links(page, base_url):
                current["url"] = url
                page.goto(url)
                check(_page_name(url))

            # 2. Signed in as the admin: every page, reached by clicking the navigation (a new URL
            # would start a new session, signed out).
            current["url"] = f"{base_url}/account"
            page.goto(current["url"])
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.get_by_label("User name (or e-mail)").fill(ADMIN[0])
            page.get_by_label("Password", exact=True).fill(ADMIN[1])
            page.get_by_role("button", name="Sign in", exact=True).click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            admin_urls = _nav_links(page, base_url)
            if not any(u.endswith("/users") for u in admin_urls):
                problems.append(f"admin sign-in did not open the admin pages: {admin_urls}")
            for url in admin_urls:
                current["url"] = url
                href = url.removeprefix(base_url)
                page.locator(f'[data-testid="stSidebarNav"] a[href$="{href}"]').first.click()
                check(f"admin-{_page_name(url)}")
        finally:
            context.close()

    problems += [f"console error: {e}" for e in console_errors]
    problems += [f"non-local request blocked: {u}" for u in dict.fromkeys(blocked)]
    assert not problems, "\n".join(problems)
