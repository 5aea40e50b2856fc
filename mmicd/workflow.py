"""The approval workflow of datasets: draft -> submitted -> published, or back to draft with a note.

Every transition checks the acting user's role and country scope on the server (whatever the page
offered), happens in one transaction, and is recorded in the audit trail with the note. Publishing
supersedes the previous published version of the same kind, country and source; a superseded
version can be re-published. Publishing a version that drops most of its series' published values
needs an explicit confirmation (:mod:`mmicd.guards`).
"""

from __future__ import annotations

from mmicd.auth import Action, User, can, require
from mmicd.model import DatasetVersion, Status
from mmicd.store import Store, StoreError


class TransitionError(StoreError):
    """A status change that the workflow does not allow; ``reason`` is a translation key suffix."""

    def __init__(self, reason: str, version: DatasetVersion):
        self.reason, self.version = reason, version
        super().__init__(f"dataset version {version.id} is {version.status.value}: {reason}")


def submit(store: Store, user: User, dataset_id: int) -> DatasetVersion:
    """An analyst submits a draft for review."""
    version = store.dataset(dataset_id)
    require(user, Action.SUBMIT, version.scope)
    if version.status != Status.DRAFT:
        raise TransitionError("only_drafts_submitted", version)
    return store.set_status(dataset_id, Status.SUBMITTED, actor=user.label)


def return_to_draft(store: Store, user: User, dataset_id: int, note: str) -> DatasetVersion:
    """A reviewer returns a submitted version to its author, with a note saying what to fix."""
    version = store.dataset(dataset_id)
    require(user, Action.REVIEW, version.scope)
    if version.status != Status.SUBMITTED:
        raise TransitionError("only_submitted_returned", version)
    if not note.strip():
        raise TransitionError("note_required", version)
    return store.set_status(dataset_id, Status.DRAFT, actor=user.label, note=note.strip())


def publish(store: Store, user: User, dataset_id: int, note: str = "", *,
            confirm_drop: bool = False) -> DatasetVersion:
    """A reviewer publishes a submitted version, or re-publishes a superseded one.

    A version that would drop more than the allowed share of the values of its series' published
    version (:mod:`mmicd.guards`) raises :class:`mmicd.guards.DropNotConfirmed`, changing nothing,
    unless ``confirm_drop``; the confirmation is recorded in the audit trail with its numbers. The
    published version is checked again when publishing (:class:`mmicd.store.SeriesChanged` if
    another one was published meanwhile)."""
    from mmicd.guards import DropNotConfirmed, version_drop_report

    version = store.dataset(dataset_id)
    require(user, Action.REVIEW, version.scope)
    if version.status not in (Status.SUBMITTED, Status.SUPERSEDED):
        raise TransitionError("only_submitted_published", version)
    report = version_drop_report(store, version)
    if report.needs_confirmation and not confirm_drop:
        raise DropNotConfirmed([report])
    return store.publish(dataset_id, actor=user.label, note=note.strip(), check=report.check(confirm_drop))


def visible_datasets(store: Store, user: User) -> list[DatasetVersion]:
    """The versions a user may see: published ones for everybody; drafts within the user's scope."""
    return [v for v in store.datasets()
            if v.status == Status.PUBLISHED or can(user, Action.VIEW_DRAFTS, v.scope)]


def commit_upload(store: Store, user: User, preparation, *, mode: str = "replace") -> list[DatasetVersion]:
    """Store a prepared upload as draft versions, after checking the user may upload for every
    country it touches (``preparation`` is a :class:`mmicd.ingest.Preparation`)."""
    from mmicd.ingest import commit

    for prepared in preparation.datasets:
        require(user, Action.UPLOAD, prepared.meta.scope)
    return commit(preparation, store, actor=user.label, mode=mode, publish=False)
