"""Problems are values: every check returns a list of :class:`Issue`; only errors block storing."""

from __future__ import annotations

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

    def as_dict(self) -> dict:
        return asdict(self)


class IssuesError(ValueError):
    """Raised when a write is refused; carries every issue found, not just the first."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        first = self.issues[0].message if self.issues else "invalid data"
        more = f" (+{len(self.issues) - 1} more)" if len(self.issues) > 1 else ""
        super().__init__(first + more)


def has_errors(issues: list[Issue]) -> bool:
    return any(i.level == "error" for i in issues)
