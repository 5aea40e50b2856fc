"""The pages show what a large drop removes, and publishing it on the Review page needs the explicit
confirmation (AppTest on the seeded store, with the demo census published as a national series)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mmicd import workflow
from mmicd.auth import SYSTEM, Role, User
from mmicd.auth.accounts import create_user
from mmicd.ingest import commit, prepare
from mmicd.model import Status
from mmicd.store import Store
from tests.conftest import DASHBOARD
from tests.hostile import displayed
from tests.ingest.conftest import snapshot
from tests.test_guards import SOURCE, census_upload, totals_only

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / DASHBOARD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def signed_in(user: User, page: str, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["_auth"] = {"user": user, "expires": datetime.now(UTC) + timedelta(minutes=30)}
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def census(app_env):
    s = Store(app_env)
    [published] = commit(prepare([census_upload()], source=SOURCE, country="NPL"), s, actor="cli", publish=True)
    return s, published


@pytest.fixture
def submitted(census):
    s, published = census
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="NPL")
    [draft] = workflow.commit_upload(s, ana, prepare([totals_only()], source=SOURCE, country="NPL", store=s))
    workflow.submit(s, ana, draft.id)
    return s, published, draft


def test_review_shows_what_disappears_and_publishes_only_once_confirmed(submitted):
    s, published, draft = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3), "review")
    warnings = [displayed(w.value) for w in at.warning if "would replace" in w.value]
    assert warnings == [f"#{draft.id} would replace published version #{published.id} (v1) of “Census table, "
                        "Nepal (NPL), Nepal CBS” and drop 225 of its 228 values (98.7%), more than the 50% "
                        "allowed without an explicit confirmation."]
    table = next(d.value for d in at.dataframe if "Values that disappear" in d.value.columns)
    assert table["Values that disappear"].sum() == 225 and len(table) == 8
    assert table.iloc[0][["Measure", "Area", "Detail", "Years", "Values that disappear"]].tolist() == [
        "POP", "Nepal", "sex × age × migrant status", "2021", 84]
    box = at.checkbox(key=f"confirm_drop_{draft.id}")
    assert not box.value
    before = snapshot(s)
    next(b for b in at.button if b.label == "Approve and publish").click().run()
    assert not at.exception, at.exception
    assert any(e.value.startswith("Not published: this version drops most of the published series")
               for e in at.error)
    assert snapshot(s) == before and s.dataset(draft.id).status == Status.SUBMITTED
    at.checkbox(key=f"confirm_drop_{draft.id}").check()
    at.text_area[0].set_value("Detail withdrawn for revision")
    next(b for b in at.button if b.label == "Approve and publish").click().run()
    assert not at.exception, at.exception
    assert s.dataset(draft.id).status == Status.PUBLISHED
    assert s.dataset(published.id).status == Status.SUPERSEDED
    entry = s.audit(dataset_id=draft.id, action="confirmed_drop").iloc[0]
    assert (entry["actor"], entry["reason"]) == ("rev", "Detail withdrawn for revision")
    assert (entry["detail"]["published_values"], entry["detail"]["removed"]) == (228, 225)


@pytest.mark.parametrize(("lang", "confirm"), [
    ("fr", "J'ai vérifié ce qui disparaît : publier quand même"),
    ("es", "He comprobado lo que desaparece: publicar de todos modos")])
def test_review_confirmation_is_translated(submitted, lang, confirm):
    s, _, draft = submitted
    at = signed_in(User("rev", Role.REVIEWER, id=3), "review", lang=lang)
    assert at.checkbox(key=f"confirm_drop_{draft.id}").label.startswith(confirm)


def test_the_analyst_sees_it_before_submitting(census):
    s, published = census
    ana = create_user(s, SYSTEM, username="ana", role=Role.ANALYST, password="long enough 1", countries="NPL")
    workflow.commit_upload(s, ana, prepare([totals_only()], source=SOURCE, country="NPL", store=s))
    at = signed_in(ana, "review")
    assert any("drop 225 of its 228 values" in w.value for w in at.warning)
    assert any(c.value.startswith("The reviewer will have to confirm this explicitly") for c in at.caption)


def test_upload_page_says_what_would_disappear_and_that_publishing_needs_confirmation(census):
    s, published = census
    at = signed_in(User("ana", Role.ANALYST, countries="NPL", id=5), "upload")
    at.text_input(key="upload_source").set_value(SOURCE).run()
    upload = totals_only()
    at.get("file_uploader")[0].set_value([(upload.name, upload.data, XLSX)])
    at.run()
    assert not at.exception, at.exception
    at.radio(key="upload_mode").set_value("replace").run()
    assert any(displayed(w.value).startswith("npl-totals.xlsx · data would replace published version")
               for w in at.warning)
    assert any(i.value.startswith("Storing it as a draft is fine. Publishing it will need an explicit "
                                  "confirmation on the Review page, because more than 50%") for i in at.info)
    assert any("Values that disappear" in d.value.columns for d in at.dataframe)
    at.radio(key="upload_mode").set_value("add").run()
    assert not [w for w in at.warning if "would replace" in w.value]
    at.radio(key="upload_mode").set_value("replace").run()
    next(b for b in at.button if b.label == "Confirm and store as draft").click().run()
    assert not at.exception, at.exception
    drafts = [v for v in s.datasets() if v.status == Status.DRAFT]
    assert [(v.rows, v.loaded_by) for v in drafts] == [(3, "ana")]  # a draft is never blocked
    assert s.published_ids()[-1] == published.id


def test_upload_page_refuses_a_header_only_file_naming_it(census):
    from tests.test_guards import header_only

    s, published = census
    at = signed_in(User("ana", Role.ANALYST, countries="NPL", id=5), "upload")
    before = snapshot(s)  # (the first run creates the first admin: after it)
    upload = header_only()
    at.get("file_uploader")[0].set_value([(upload.name, upload.data, XLSX)])
    at.run()
    assert not at.exception, at.exception
    assert at.error and at.error[0].value.startswith("1 error blocks storing")
    issues = at.dataframe[1].value
    assert issues[["File", "Sheet"]].values.tolist() == [["npl-empty.xlsx", "data"]]
    assert issues["Problem"].iloc[0].startswith("No data rows")
    assert next(b for b in at.button if b.label == "Confirm and store as draft").disabled
    assert snapshot(s) == before
