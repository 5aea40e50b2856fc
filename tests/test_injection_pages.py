"""Pages in-process (AppTest) with hostile text in the store: shown literally (escaped for Markdown),
and every CSV/XLSX the pages offer for download free of live formulas."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from mmicd.store import Store
from mmicd.ui.components import plain
from tests.conftest import DASHBOARD
from tests.hostile import (
    ADMIN,
    csv_fields,
    displayed,
    formula,
    html,
    markdown,
    plant,
    unsafe_csv_fields,
    unsafe_xlsx_cells,
    xlsx_texts,
)

APP = str(Path(__file__).resolve().parents[1] / DASHBOARD)
BEACON = "http://127.0.0.1:9"
TITLE = f"{formula(BEACON)} {markdown(BEACON, 'iv')} {html(BEACON, 'iv')}"
INDICATOR = f"@SUM(1+1) {markdown(BEACON, 'ind')} {html(BEACON, 'ind')} **bold** _it_"
LEAD = "-2+3 [link](http://127.0.0.1:9/lead)"
USER = formula(BEACON)  # typed as a user name at sign-in (the trail records it lower-cased)
# Markdown or HTML that would do something: an image or link, a tag, emphasis
_ACTIVE = re.compile(r"(?<!\\)(!\[|\]\(|<[a-zA-Z/]|\*\*|(?<![\w\\])_\w)")


def shown_as(body: str) -> str:
    """What Streamlit displays for a Markdown body made of escaped text (the escapes removed)."""
    assert not _ACTIVE.search(body), f"active Markdown/HTML left in {body!r}"
    return displayed(body)


@pytest.fixture
def hostile_env(app_env, monkeypatch):
    store = Store(app_env)
    ids = plant(store, title=TITLE, indicator=INDICATOR, lead=LEAD, description=html(BEACON, "desc"),
                user_names=(USER, "@SUM(1+1)"))
    store.engine.dispose()
    return ids


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """Every download button's data, by file name (the page runs in this process)."""
    found: dict[str, bytes] = {}
    original = DeltaGenerator.download_button

    def capture(self, label, data, file_name=None, *args, **kwargs):
        found[file_name] = data.encode("utf-8") if isinstance(data, str) else data
        return original(self, label, data, file_name, *args, **kwargs)

    import streamlit as st

    monkeypatch.setattr(DeltaGenerator, "download_button", capture)
    monkeypatch.setattr(st, "download_button", lambda *a, **k: capture(st._main, *a, **k))
    return found


def open_page(page: str, user=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["country"] = "NPL"
    if user is not None:
        at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def bodies(at: AppTest) -> list[str]:
    return [e.value for kind in ("markdown", "caption", "subheader", "title", "header", "info", "warning", "error",
                                 "success") for e in getattr(at, kind)]


def test_plain_escapes_every_metacharacter_and_shows_the_text_as_typed():
    for text in (TITLE, INDICATOR, LEAD, "a\\b `c` ~d~ $x$ # h | t", ":red[x] :material/home:"):
        assert shown_as(plain(text)) == text
    assert plain("![x](http://h/i.png)") == "\\!\\[x\\]\\(http\u2060://h/i.png\\)"
    assert plain("- 1. a\n2. b\n===") == "\\- 1. a\n2\\. b\n\\==="  # list, numbered item, heading underline
    assert plain("copy-of-a.xlsx: 5 rows") == "copy-of-a.xlsx: 5 rows"  # nothing to escape


def test_interventions_page_shows_the_hostile_title_and_names_literally(hostile_env, downloads):
    iv_id, ind_id = hostile_env
    at = open_page("pages/me_interventions.py")
    assert shown_as(at.subheader[0].value) == TITLE  # the detail view of the first intervention
    assert any(b.endswith(plain(INDICATOR) + "**") and shown_as(b.strip("*")).endswith(INDICATOR)
               for b in bodies(at)), "the indicator's name, escaped, in its bold heading"
    detail = at.table[0].value
    cells = [str(v) for v in detail.iloc[:, 1].tolist()]
    assert plain(LEAD) in cells and plain(html(BEACON, "desc")) in cells
    assert all(shown_as(c) for c in cells)
    # data frames show the text as it is (no Markdown there)
    register = at.dataframe[0].value
    assert TITLE in register.iloc[:, 1].tolist()
    # the exports of the page: the register's CSV and XLSX, the portfolio workbook
    csv = downloads["me-interventions.csv"]
    assert unsafe_csv_fields(csv_fields(csv)) == []
    assert "'" + TITLE in [f for r in csv_fields(csv) for f in r]
    for name in ("me-interventions.xlsx", "me-portfolio-NPL.xlsx"):
        assert unsafe_xlsx_cells(downloads[name]) == [], name
        assert TITLE in xlsx_texts(downloads[name]), name


def test_me_dashboard_tables_download_without_formulas(hostile_env, downloads):
    at = open_page("pages/me_dashboard.py")
    texts = [b for b in bodies(at)]
    assert not any("![x](" in b or "<img" in b for b in texts)
    names = [n for n in downloads if n.startswith("me-indicator-status")]
    assert names == ["me-indicator-status.csv", "me-indicator-status.xlsx"]
    fields = [f for r in csv_fields(downloads["me-indicator-status.csv"]) for f in r]
    assert unsafe_csv_fields([fields]) == []
    assert "'" + INDICATOR in fields and "'" + TITLE in fields
    assert unsafe_xlsx_cells(downloads["me-indicator-status.xlsx"]) == []
    assert {INDICATOR, TITLE} <= set(xlsx_texts(downloads["me-indicator-status.xlsx"]))
    for name, data in downloads.items():
        if name.endswith(".csv"):
            assert unsafe_csv_fields(csv_fields(data)) == [], name
        elif name.endswith(".xlsx"):
            assert unsafe_xlsx_cells(data) == [], name


def test_audit_download_quotes_a_user_name_typed_at_sign_in(hostile_env, downloads):
    at = open_page("pages/audit.py", user=ADMIN)
    trail = at.dataframe[0].value
    assert USER.lower() in trail.iloc[:, :].astype(str).to_numpy().ravel().tolist()
    rows = csv_fields(downloads["mmicd-audit.csv"])
    assert unsafe_csv_fields(rows) == []
    fields = [f for r in rows for f in r]
    assert "'" + USER.lower() in fields and "'@sum(1+1)" in fields
