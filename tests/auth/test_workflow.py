"""The approval workflow: roles checked on the server, every step in the audit trail."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mmicd import workflow
from mmicd.auth import ANONYMOUS, SYSTEM, Action, PermissionDenied, Role, User, can
from mmicd.auth.accounts import create_user
from mmicd.model import DatasetMeta, Kind, Status

ROOT = Path(__file__).resolve().parents[2]
META = DatasetMeta(kind=Kind.CENSUS, source="Nepal NSO census", edition="2021", scope="NPL")


def table(total: float) -> pd.DataFrame:
    return pd.DataFrame({"measure": "POP", "ref_area": "NPL", "time_period": "2021", "sex": ["_T", "F", "M"],
                         "value": [total, total * 0.52, total * 0.48]})


@pytest.fixture
def people(store):
    make = lambda name, role, countries="*": create_user(  # noqa: E731
        store, SYSTEM, username=name, role=role, password="long enough 1", countries=countries)
    return {
        "analyst": make("ana", Role.ANALYST, "NPL"),
        "other_analyst": make("sam", Role.ANALYST, "SEN"),
        "reviewer": make("rev", Role.REVIEWER),
        "viewer": make("vic", Role.VIEWER),
    }


def state(store):
    return [(v.id, v.status) for v in store.datasets()], len(store.audit())


def test_permission_table():
    analyst = User("a", Role.ANALYST, countries="NPL", id=1)
    assert can(analyst, Action.UPLOAD, "NPL") and not can(analyst, Action.UPLOAD, "SEN")
    assert not can(analyst, Action.UPLOAD, "_ALL")  # a scoped analyst may not touch all-country data
    assert not can(analyst, Action.REVIEW, "NPL")
    assert can(User("r", Role.REVIEWER, id=2), Action.REVIEW, "SEN")
    assert not can(ANONYMOUS, Action.VIEW_DRAFTS)
    assert all(can(SYSTEM, a, "NPL") for a in Action)


def test_scripted_scenario_upload_return_fix_approve_publish_republish(store, people):
    ana, rev = people["analyst"], people["reviewer"]
    v1 = store.add_dataset(META, table(29_000_000), actor=ana.label)
    workflow.submit(store, ana, v1.id)
    workflow.return_to_draft(store, rev, v1.id, note="Female count looks low: check row 3")
    assert store.dataset(v1.id).status_note == "Female count looks low: check row 3"
    workflow.submit(store, ana, v1.id)  # fixed and submitted again
    workflow.publish(store, rev, v1.id, note="approved by the task force")
    v2 = store.add_dataset(META, table(29_164_578), actor=ana.label)
    workflow.submit(store, ana, v2.id)
    workflow.publish(store, rev, v2.id)
    assert store.dataset(v1.id).status == Status.SUPERSEDED
    workflow.publish(store, rev, v1.id, note="v2 withdrawn: re-publish v1")  # re-publish an old version
    assert store.published_ids() == (v1.id,)

    trail = store.audit(entity_type="dataset")
    steps = list(zip(trail["entity_id"], trail["actor"], trail["action"], trail["reason"], strict=True))
    one, two = str(v1.id), str(v2.id)
    assert steps == [
        (one, "ana", "created", ""),
        (one, "ana", "status:submitted", ""),
        (one, "rev", "status:draft", "Female count looks low: check row 3"),
        (one, "ana", "status:submitted", ""),
        (one, "rev", "status:published", "approved by the task force"),
        (two, "ana", "created", ""),
        (two, "ana", "status:submitted", ""),
        (one, "rev", "status:superseded", f"superseded by version id {v2.id}"),
        (two, "rev", "status:published", ""),
        (two, "rev", "status:superseded", f"superseded by version id {v1.id}"),
        (one, "rev", "status:published", "v2 withdrawn: re-publish v1"),
    ]


@pytest.mark.parametrize(
    ("who", "action"),
    [("viewer", "submit"), ("other_analyst", "submit"), ("analyst", "publish"), ("analyst", "return"),
     ("viewer", "publish"), ("anonymous", "publish")],
)
def test_forbidden_actions_invoked_directly_are_refused_and_change_nothing(store, people, who, action):
    ana = people["analyst"]
    v = store.add_dataset(META, table(1000), actor=ana.label)
    if action != "submit":
        workflow.submit(store, ana, v.id)
    before = state(store)
    user = ANONYMOUS if who == "anonymous" else people[who]
    call = {"submit": lambda: workflow.submit(store, user, v.id),
            "publish": lambda: workflow.publish(store, user, v.id),
            "return": lambda: workflow.return_to_draft(store, user, v.id, "no")}[action]
    with pytest.raises(PermissionDenied):
        call()
    assert state(store) == before


def test_transitions_out_of_order_are_refused(store, people):
    ana, rev = people["analyst"], people["reviewer"]
    v = store.add_dataset(META, table(1000), actor=ana.label)
    with pytest.raises(workflow.TransitionError, match="only_submitted_published"):
        workflow.publish(store, rev, v.id)  # a draft cannot skip review
    workflow.submit(store, ana, v.id)
    with pytest.raises(workflow.TransitionError, match="note_required"):
        workflow.return_to_draft(store, rev, v.id, note="  ")
    with pytest.raises(workflow.TransitionError, match="only_drafts_submitted"):
        workflow.submit(store, ana, v.id)


def test_drafts_are_visible_only_within_scope(store, people):
    ana = people["analyst"]
    draft = store.add_dataset(META, table(1000), actor=ana.label)
    published = store.add_dataset(META.model_copy(update={"source": "other"}), table(5), actor="x",
                                  status=Status.PUBLISHED)
    ids = lambda user: [v.id for v in workflow.visible_datasets(store, user)]  # noqa: E731
    assert ids(people["viewer"]) == ids(ANONYMOUS) == [published.id]
    assert ids(people["other_analyst"]) == [published.id]
    assert ids(ana) == ids(people["reviewer"]) == [draft.id, published.id]
    assert store.observations()["source"].unique().tolist() == ["other"]  # published reads: no drafts


def test_uploads_are_stored_only_for_the_countries_of_the_analyst(store, people):
    from mmicd.ingest import Upload, prepare
    from mmicd.workflow import commit_upload

    data = (ROOT / "data" / "demo" / "npl_census_2021_synthetic.xlsx").read_bytes()
    prep = prepare([Upload("npl_census_2021_synthetic.xlsx", data)])
    assert prep.ok and {d.meta.scope for d in prep.datasets} == {"NPL"}
    before = state(store)
    with pytest.raises(PermissionDenied):
        commit_upload(store, people["other_analyst"], prep)  # scoped to Senegal
    with pytest.raises(PermissionDenied):
        commit_upload(store, people["viewer"], prep)
    assert state(store) == before
    versions = commit_upload(store, people["analyst"], prep)
    assert versions and all(v.status == Status.DRAFT and v.loaded_by == "ana" for v in versions)
