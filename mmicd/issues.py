"""Problems are values: every check returns a list of :class:`Issue`; only errors block storing.

An issue may carry the knock-on issues it causes (``consequences``): a text in a value cell makes
the row's total not add up and a later period look like a jump; those warnings are nested under the
error that causes them instead of being listed as problems of their own (fix the cause, they go).
``check`` names the check that found the issue (the rule's translation key), for programs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Literal

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Issue:
    level: Level
    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    check: str | None = None
    consequences: tuple[Issue, ...] = ()

    def as_dict(self) -> dict:
        out = asdict(self)
        out["consequences"] = [c.as_dict() for c in self.consequences]
        return out


def walk(issues: Iterable[Issue]) -> Iterator[tuple[int, Issue]]:
    """Every issue with its depth: 0 for a problem of its own, 1 for a consequence of the one before."""
    for issue in issues:
        yield 0, issue
        for sub in issue.consequences:
            yield 1, sub


class IssuesError(ValueError):
    """Raised when a write is refused; carries every issue found, not just the first."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        first = self.issues[0].message if self.issues else "invalid data"
        more = f" (+{len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


def has_errors(issues: list[Issue]) -> bool:
    return any(i.level == "error" for i in issues)
