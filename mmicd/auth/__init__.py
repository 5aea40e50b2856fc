"""Who may do what. Every state-changing action checks the user's role (and country scope) here,
on the server, whatever the page showed: :func:`require` raises :class:`PermissionDenied`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ALL_COUNTRIES = "*"


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Action(StrEnum):
    VIEW_PUBLISHED = "view_published"
    VIEW_DRAFTS = "view_drafts"
    UPLOAD = "upload"
    SUBMIT = "submit"
    REVIEW = "review"  # approve, publish, return with a note, re-publish
    EDIT_TARGETS = "edit_targets"
    REPORT_PROGRESS = "report_progress"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.VIEW_PUBLISHED}),
    Role.ANALYST: frozenset({Action.VIEW_PUBLISHED, Action.VIEW_DRAFTS, Action.UPLOAD, Action.SUBMIT,
                             Action.REPORT_PROGRESS}),
    Role.REVIEWER: frozenset({Action.VIEW_PUBLISHED, Action.VIEW_DRAFTS, Action.REVIEW, Action.EDIT_TARGETS,
                              Action.VIEW_AUDIT}),
    Role.ADMIN: frozenset(Action),
}
# Actions whose object belongs to a country: an analyst limited to some countries may act only there.
SCOPED = frozenset({Action.UPLOAD, Action.SUBMIT, Action.REPORT_PROGRESS, Action.VIEW_DRAFTS,
                    Action.EDIT_TARGETS})


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    countries: str = ALL_COUNTRIES  # "*" or comma-separated ISO3 codes
    display_name: str = ""
    id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.id is None

    @property
    def label(self) -> str:
        """How the user is named in the audit trail."""
        return self.username if self.id is not None else "anonymous"

    def covers(self, country: str | None) -> bool:
        if self.countries == ALL_COUNTRIES or country is None:
            return True
        return country in self.countries.split(",")


ANONYMOUS = User(username="anonymous", role=Role.VIEWER)
SYSTEM = User(username="system", role=Role.ADMIN, id=0)


class PermissionDenied(PermissionError):
    """Refused: the message key says why (translated by the caller)."""

    def __init__(self, user: User, action: Action, country: str | None = None):
        self.user, self.action, self.country = user, action, country
        where = f" for {country}" if country else ""
        super().__init__(f"{user.label} ({user.role.value}) may not {action.value}{where}")


def can(user: User, action: Action, country: str | None = None) -> bool:
    if action not in PERMISSIONS[user.role]:
        return False
    if action in SCOPED and user.role != Role.ADMIN:
        # an analyst scoped to some countries may not act on all-country datasets ("_ALL")
        if country == "_ALL" and user.countries != ALL_COUNTRIES:
            return False
        return user.covers(country)
    return True


def require(user: User, action: Action, country: str | None = None) -> None:
    if not can(user, action, country):
        raise PermissionDenied(user, action, country)
