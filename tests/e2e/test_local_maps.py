"""The local maps in a real browser, with every non-local request blocked and logged: the Local map
page (Nepal's provinces from the store, coloured by a subdivision indicator) and the M&E dashboard's
map of interventions by province. Neither may ask anything of another host, and plotly must not even
fetch a world topojson from the app (the maps have no base layer). Screenshots:
/tmp/localmaps_map.png, /tmp/localmaps_me.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mmicd.boundaries import ensure_default_boundaries
from mmicd.me.demo import ensure_demo
from mmicd.store import Store
from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    _is_local,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.test_local_map import add_subdivision_results

SHOTS = Path("/tmp")


@pytest.mark.e2e
def test_local_maps_draw_from_the_store_with_no_outside_request(tmp_path: Path, seeded_file, monkeypatch) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(seeded_file, data_dir / "mmicd.sqlite")
    store = Store(f"sqlite:///{data_dir / 'mmicd.sqlite'}", data_dir=data_dir)
    ensure_default_boundaries(store)
    add_subdivision_results(store)
    ensure_demo(store)
    store.engine.dispose()
    monkeypatch.setenv("MMICD_DEFAULT_COUNTRY", "NPL")
    blocked: list[str] = []
    requests: list[str] = []
    with streamlit_server(data_dir, tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1400}, service_workers="block")
        try:
            context.route("**/*", local_only(blocked))
            page = context.pages[0] if context.pages else context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            # the first run switches Streamlit's old page-folder mode off (mmicd.ui.through_app); then a
            # link to the map with its country and indicator opens it as shared
            page.goto(f"{base_url}/")
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
            page.goto(f"{base_url}/local-map?country=NPL&indicator=imm_stock")
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.wait_for_selector("path.choroplethlocation", timeout=PAGE_RUN_TIMEOUT_S * 1000)
            page.wait_for_timeout(1500)
            # 7 provinces in grey under the 6 with a value
            drawn = page.locator("path.choroplethlocation").count()
            ranked = page.locator('[data-testid="stDataFrame"]').count()
            page.screenshot(path=str(SHOTS / "localmaps_map.png"), full_page=True)

            page.locator('[data-testid="stSidebarNav"] a[href$="/me"]').first.click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.get_by_role("tab", name="Map").click()
            wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
            page.wait_for_selector("path.choroplethlocation", timeout=PAGE_RUN_TIMEOUT_S * 1000)
            page.wait_for_timeout(1500)
            me_drawn = page.locator("path.choroplethlocation").count()
            dots = page.locator(".scattergeo path.point").count()
            page.locator('[data-testid="stTabs"]').last.screenshot(path=str(SHOTS / "localmaps_me.png"))
        finally:
            context.close()
    assert blocked == [], f"non-local requests: {blocked}"
    assert [u for u in requests if not _is_local(u)] == []
    assert [u for u in requests if "topojson" in u] == []  # not even the app's own world map
    assert (drawn, ranked) == (13, 1)
    # 7 provinces; a dot per province and status of the interventions named there (Koshi: ongoing;
    # ... counted from the demo: 7 provinces with ongoing ones, plus the completed, pipeline and
    # suspended ones where they work)
    assert me_drawn == 7 and dots >= 7
