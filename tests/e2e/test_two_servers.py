"""Two app servers, each with its own data folder, on one PostgreSQL database: survey microdata
published through the store of server A are shown as computed indicators by server B (its
Indicators page in headless Chromium, whose CSV download is checked against a hand computation).
Needs MMICD_TEST_DATABASE_URL: skipped without it locally, a failure in CI."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mmicd.engine.synthetic import lfs_microdata
from mmicd.model import DatasetMeta, Kind, Status
from mmicd.store import Store
from tests.conftest import pg_schema_url
from tests.e2e.test_browser import (
    CHROMIUM_ARGS,
    PAGE_RUN_TIMEOUT_S,
    _find_chromium,
    local_only,
    streamlit_server,
    wait_for_app_idle,
)
from tests.test_store_shared import headline, unemployment_rate

PG_URL = os.environ.get("MMICD_TEST_DATABASE_URL")


@pytest.fixture
def shared_url():
    """A fresh schema on the test PostgreSQL database, as a URL both servers use."""
    if not PG_URL:
        reason = "two app servers share a PostgreSQL database: set MMICD_TEST_DATABASE_URL"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with pg_schema_url() as url:
        yield url


def app_server(url: str, data_dir: Path, log_path: Path):
    """`streamlit run app.py` on ``url`` with its own data folder; its base URL once healthy."""
    return streamlit_server(data_dir, log_path, {"MMICD_DATABASE_URL": url, "MMICD_DEMO": "0"})


def unemployment_csv(context, base_url: str) -> pd.DataFrame:
    """The Indicators page of a server for Nepal, the unemployment rate picked, its CSV download."""
    page = context.new_page()
    page.goto(f"{base_url}/indicators")
    wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
    page.get_by_label("Indicator", exact=True).first.click()
    page.keyboard.type("Unemployment rate")
    page.keyboard.press("Enter")
    wait_for_app_idle(page, PAGE_RUN_TIMEOUT_S)
    assert not page.locator('[data-testid="stException"]').count(), page.locator('[data-testid="stException"]')
    assert page.get_by_text("Indicators: Nepal").count()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV + metadata (zip)").click()
    with zipfile.ZipFile(download.value.path()) as bundle:   # the CSV beside its datapackage.json
        [name] = [n for n in bundle.namelist() if n.endswith(".csv")]
        data = bundle.read(name)
    page.close()
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.mark.e2e
def test_microdata_published_through_one_server_are_computed_by_the_other(shared_url, tmp_path):
    chromium = _find_chromium()
    from playwright.sync_api import sync_playwright

    lfs = lfs_microdata(3_000, strata=6, psus=30, seed=21)
    with (app_server(shared_url, tmp_path / "a", tmp_path / "a.log") as server_a,
          app_server(shared_url, tmp_path / "b", tmp_path / "b.log") as server_b,
          sync_playwright() as p):
        # published through the store as server A opens it (its URL, its data folder)
        a = Store(shared_url, data_dir=tmp_path / "a")
        a.add_microdata(DatasetMeta(kind=Kind.LFS, source="NSO LFS e2e", edition="2022", scope="NPL"), lfs,
                        actor="analyst", status=Status.PUBLISHED)
        a.engine.dispose()
        assert not list(tmp_path.glob("*/microdata/*")) and not list(tmp_path.glob("*/*.parquet"))
        context = p.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path / "chromium-profile"), executable_path=chromium, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000}, service_workers="block", accept_downloads=True)
        try:
            context.route("**/*", local_only([]))
            tables = {name: unemployment_csv(context, base) for name, base in (("b", server_b), ("a", server_a))}
        finally:
            context.close()
    expected = unemployment_rate(lfs)
    for name, table in tables.items():
        table["value"] = pd.to_numeric(table["value"], errors="coerce")
        assert set(table["source"]) == {"NSO LFS e2e"}, name
        assert headline(table, "unemp_rate") == pytest.approx(expected, rel=1e-6), name
