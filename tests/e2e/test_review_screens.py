"""The Review screen as a reviewer and Country summaries with four countries, in headless Chromium at
1400×900: no error on the page, no outside request, the comparison tables fit the screen (no
horizontal scrolling). Screenshots go to /tmp/review_*.png for a person to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mmicd import workflow
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.ingest import commit
from mmicd.store import Store
from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.test_review_page import NOTES, PUBLISHED, REVISED, plant_report, upload

SHOTS = Path("/tmp")
REVIEWER = ("rev", "review password 1")
# every grid's scrolling area and every table: wider content than its box means a value hidden to the right
GRIDS_OVERFLOW_JS = """() => [...document.querySelectorAll(
    '[data-testid="stDataFrame"] .dvn-scroller, [data-testid="stTable"], [data-testid="stTable"] > div')]
    .map(e => e.scrollWidth - e.clientWidth)"""


def plant(data_dir: Path) -> None:
    """A published national series for Senegal, a revised version submitted by an analyst, a reviewer,
    an M&E progress report awaiting review."""
    s = Store(f"sqlite:///{data_dir / 'mmicd.sqlite'}", data_dir=data_dir)
    commit(upload(PUBLISHED), s, actor="cli", publish=True)
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="SEN")
    [draft] = workflow.commit_upload(s, ana, upload(REVISED, store=s, notes=NOTES))
    workflow.submit(s, ana, draft.id)
    create_user(s, SYSTEM, username=REVIEWER[0], role=Role.REVIEWER, password=REVIEWER[1])
    plant_report(s)
    s.engine.dispose()


@pytest.mark.e2e
def test_review_and_four_country_summary_in_the_browser(tmp_path: Path, seeded_file, monkeypatch) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(seeded_file, data_dir / "mmicd.sqlite")
    plant(data_dir)
    monkeypatch.setenv("MMICD_DEFAULT_COUNTRY", "DEU")
    blocked: list[str] = []
    problems: list[str] = []
    with streamlit_server(data_dir, tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 900}, service_workers="block")
        try:
            context.route("**/*", local_only(blocked))
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{base_url}/")
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)

            def go(path: str) -> None:
                page.locator(f'[data-testid="stSidebarNav"] a[href$="{path}"]').first.click()
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)

            def check(where: str) -> None:
                if page.locator('[data-testid="stException"]').count():
                    problems.append(f"{where}: an exception is shown")
                overflow = [w for w in page.evaluate(GRIDS_OVERFLOW_JS) if w > 1]
                if overflow:
                    problems.append(f"{where}: a table scrolls sideways by {overflow} px")

            go("/account")
            page.get_by_label("User name (or e-mail)").fill(REVIEWER[0])
            page.get_by_label("Password", exact=True).fill(REVIEWER[1])
            page.get_by_role("button", name="Sign in", exact=True).click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)

            go("/review")
            page.get_by_role("tab", name="Change from the published version").first.click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            body = page.inner_text("body")
            for text in ("Added: 2 · changed: 1 · removed: 0 · unchanged: 1", "Approve and publish"):
                if text not in body:
                    problems.append(f"/review: {text!r} not shown")
            check("/review")
            page.screenshot(path=str(SHOTS / "review_changes.png"))
            page.screenshot(path=str(SHOTS / "review_changes_full.png"), full_page=True)
            page.locator('[data-testid="stPlotlyChart"]').first.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "review_chart.png"))
            page.get_by_role("tab", name="International baseline").first.click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            check("/review, baseline")
            page.screenshot(path=str(SHOTS / "review_baseline.png"))

            page.get_by_role("tab", name="M&E progress reports").first.click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            if "Status once approved" not in page.inner_text("body"):
                problems.append("/review, M&E: the submitted report is not shown")
            check("/review, M&E")
            page.screenshot(path=str(SHOTS / "review_me.png"))

            go("/summary")
            box = page.locator('[data-testid="stMultiSelect"] input').first
            for name in ("Senegal", "Nepal", "Mexico"):
                box.fill(name)
                page.keyboard.press("Enter")
                wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.keyboard.press("Escape")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            tabs = page.get_by_role("tab").all_inner_texts()
            if tabs[:4] != ["Germany", "Senegal", "Nepal", "Mexico"]:
                problems.append(f"/summary: tabs {tabs}")
            check("/summary")
            page.screenshot(path=str(SHOTS / "review_summary_four.png"))
        finally:
            context.close()
    problems += [f"non-local request blocked: {u}" for u in dict.fromkeys(blocked)]
    assert not problems, "\n".join(problems)
