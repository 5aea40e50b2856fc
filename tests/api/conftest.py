"""A running `streamlit run app.py` per backend (SQLite, and PostgreSQL when configured) whose store
holds the baseline, a draft census of Nepal, a draft of Germany and accounts with API tokens; and a
small HTTP client. The API is called over HTTP, as a partner system would."""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from mmicd.api.tokens import create_token
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.baseline import seed
from mmicd.model import DatasetMeta, Kind
from mmicd.store import Store
from tests.conftest import BACKENDS, pg_schema_url
from tests.e2e.test_browser import streamlit_server

RATE = 30  # requests per address and window on the test servers
TOKEN_RATE = 35
DRAFT_POP = 29_164_578.0  # the draft census of Nepal, 2021


@dataclass
class Server:
    url: str  # base URL
    store_url: str
    store: Store
    tokens: dict[str, str]  # name -> clear token
    draft_ids: dict[str, int]
    env: dict[str, str]
    folder: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def get(url: str, *, token: str | None = None, address: str = "192.0.2.1", headers: dict | None = None) -> Answer:
    """GET ``url`` as a client at ``address`` (the test servers trust one proxy hop)."""
    sent = {"X-Forwarded-For": address, **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return Answer(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


def prepare(store: Store) -> tuple[dict[str, str], dict[str, int]]:
    """Accounts with tokens and two drafts."""
    census = DatasetMeta(kind=Kind.CENSUS, source="Nepal NSO census", edition="2021", scope="NPL")
    npl = store.add_dataset(census, pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": "2021",
                                                  "sex": ["_T", "F", "M"],
                                                  "value": [DRAFT_POP, DRAFT_POP * 0.52, DRAFT_POP * 0.48]}),
                            actor="ana")
    german = DatasetMeta(kind=Kind.CENSUS, source="Destatis census", edition="2022", scope="DEU")
    deu = store.add_dataset(german, pd.DataFrame({"measure": "POP", "ref_area": "DEU", "time_period": "2022",
                                                  "value": [83_000_000.0]}), actor="ana")
    tokens = {}
    for name, role, countries in (("ana", Role.ANALYST, "NPL"), ("vic", Role.VIEWER, "*"),
                                  ("rate", Role.VIEWER, "*"), ("gone", Role.ANALYST, "NPL")):
        user = create_user(store, SYSTEM, username=name, role=role, password="long enough password",
                           countries=countries)
        tokens[name] = create_token(store, user, f"{name}'s partner system")
    return tokens, {"NPL": npl.id, "DEU": deu.id}


@pytest.fixture(scope="session", params=BACKENDS)
def api_server(request, seeded_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            shutil.copy(seeded_file, folder / "mmicd.sqlite")
            url = f"sqlite:///{folder / 'mmicd.sqlite'}"
            store = Store(url)
        else:
            url = stack.enter_context(pg_schema_url())
            store = Store(url)
            seed(store)
        stack.callback(store.engine.dispose)
        tokens, drafts = prepare(store)
        env = {"MMICD_DATABASE_URL": url, "MMICD_DEMO": "0", "MMICD_PROXY_HOPS": "1",
               "MMICD_API_RATE": str(RATE), "MMICD_API_TOKEN_RATE": str(TOKEN_RATE),
               "MMICD_API_WINDOW_SECONDS": "300"}
        base = stack.enter_context(streamlit_server(folder / "a", folder / "a.log", env))
        yield Server(base, url, store, tokens, drafts, env, folder)
