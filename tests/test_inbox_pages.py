"""The inbox (sidebar count, notice, page with links) and the reporting status page, in English and
French (AppTest on the seeded store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from mmicd import workflow
from mmicd.auth import SYSTEM, Role
from mmicd.auth.accounts import create_user
from mmicd.store import Store
from tests.conftest import DASHBOARD, ROOT
from tests.test_review_page import PUBLISHED, REVISED, upload


def signed_in(user, page: str | None, lang: str | None = None) -> AppTest:
    """The app as ``user``: its first page (with the sidebar), or ``page`` (run alone by AppTest)."""
    at = AppTest.from_file(str(ROOT / DASHBOARD), default_timeout=180)
    at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    if lang:
        at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def waiting(app_env):
    from mmicd.ingest import commit

    s = Store(app_env)
    commit(upload(PUBLISHED), s, actor="cli", publish=True)
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="SEN")
    rev = create_user(s, SYSTEM, username="rev", role=Role.REVIEWER, password="long enough 1", countries="SEN")
    [draft] = workflow.commit_upload(s, ana, upload(REVISED, store=s, notes="*bold* <b>x</b>"))
    workflow.submit(s, ana, draft.id)
    yield s, draft, ana, rev
    s.engine.dispose()


def texts(elements) -> list[str]:
    return [e.value for e in elements]


@pytest.mark.parametrize(("lang", "badge", "heading", "line"), [
    ("en", "Inbox: 1 item awaits you", "1 to review", "Dataset version {id} of SEN submitted for review"),
    ("fr", "Boîte de réception : 1 élément vous attend", "1 à valider",
     "Version {id} de jeu de données \\(SEN\\) soumise pour validation"),
])
def test_a_reviewer_sees_the_count_and_the_version_to_review(waiting, lang, badge, heading, line):
    s, draft, ana, rev = waiting
    at = signed_in(rev, None, lang)
    assert badge in texts(at.sidebar.caption)
    assert badge in texts(at.toast)  # told on signing in, once
    at.run()
    assert not at.toast
    at = signed_in(rev, "inbox", lang)
    assert heading in texts(at.subheader)
    [item] = [m for m in texts(at.markdown) if line.format(id=draft.id) in m]
    links = [e for e in at.get("page_link")]
    assert len(links) == 1 and f"dataset={draft.id}" in str(links[0].proto)


def test_the_analyst_sees_the_version_returned_with_its_note_and_a_viewer_nothing(waiting):
    s, draft, ana, rev = waiting
    workflow.return_to_draft(s, rev, draft.id, "Row 3: *wrong* year")
    assert "Inbox: 1 item awaits you" in texts(signed_in(ana, None).sidebar.caption)
    at = signed_in(ana, "inbox")
    assert "Note from the reviewer: \\*wrong\\* year" in " ".join(texts(at.caption)).replace("Row 3: ", "")
    viewer = create_user(s, SYSTEM, username="vic", role=Role.VIEWER, password="long enough 1")
    assert "Inbox: nothing awaits you" in texts(signed_in(viewer, None).sidebar.caption)
    at = signed_in(viewer, "inbox")
    assert "Nothing awaits you." in texts(at.info)


@pytest.mark.parametrize(("lang", "title", "legend"), [
    ("en", "Reporting status", "● National data · ◐ Baseline only · ○ None"),
    ("fr", "État des données", "● Données nationales · ◐ Référence seule · ○ Aucune"),
])
def test_the_reporting_status_page(app_env, lang, title, legend):
    at = AppTest.from_file(str(ROOT / DASHBOARD), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/reporting_status.py").run()
    assert not at.exception, at.exception
    assert texts(at.title) == [title]
    assert legend in texts(at.caption)
    metrics = {m.label: m.value for m in at.metric}
    national = "● " + ("National data" if lang == "en" else "Données nationales")
    assert metrics[national] == "0"  # the seeded store holds the baseline only
    assert int(metrics["◐ " + ("Baseline only" if lang == "en" else "Référence seule")]) > 0
    assert len(at.dataframe) >= 2
