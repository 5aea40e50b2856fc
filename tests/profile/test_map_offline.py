"""The profile page's world maps draw in headless Chromium with every non-local request blocked:
plotly.js fetches its topojson from the app itself (static/topojson/world_110m.json)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    FIRST_RUN_TIMEOUT_S,
    SCREENSHOT_DIR,
    _find_chromium,
    _is_local,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)


@pytest.mark.e2e
def test_profile_map_draws_offline(tmp_path: Path) -> None:
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    topojson: list[tuple[str, int]] = []

    guard = local_only(blocked)

    with streamlit_server(tmp_path / "data", tmp_path / "streamlit.log") as base_url, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "profile"), executable_path=chromium, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000}, service_workers="block")
        try:
            context.route("**/*", guard)
            context.route_web_socket(lambda url: not _is_local(url), lambda ws: (blocked.append(ws.url), ws.close()))
            page = context.pages[0] if context.pages else context.new_page()
            page.on("response", lambda r: topojson.append((r.url, r.status)) if "topojson" in r.url else None)
            page.goto(f"{base_url}/profile")
            wait_for_app_idle(page, FIRST_RUN_TIMEOUT_S)
            maps = page.locator(".js-plotly-plot .geo")
            maps.first.scroll_into_view_if_needed()
            # the basemap's country borders come from the topojson; the choropleth fills the origins
            page.wait_for_selector(".choroplethlocation", state="attached", timeout=60_000)
            n_maps = maps.count()
            n_locations = page.locator(".choroplethlocation").count()
            n_paths = page.locator(".js-plotly-plot .geo path").count()
            maps.first.screenshot(path=str(SCREENSHOT_DIR / "profile-map.png"))
        finally:
            context.close()

    assert n_maps >= 2, "the profile page should show the origins and destinations maps"
    assert n_locations >= 3, "the choropleth drew no country"
    print(f"maps: {n_maps}, choropleth locations: {n_locations}, geo paths: {n_paths}")
    assert n_paths > n_locations, f"no basemap layer (land, borders) drawn: {n_paths} paths"
    assert any(url.endswith("/app/static/topojson/world_110m.json") and status == 200 for url, status in topojson), \
        topojson
    assert not blocked, blocked
