"""Problems found in a project: what ``qcode check`` reports, one record per problem.

Loaders take a ``Problems`` collector and keep going after a problem, so one pass
reports everything; rule ids are stable and documented (docs/format.md, "Check rules").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    rule: str
    file: str | None
    line: int | None
    message: str
    hint: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def location(self) -> str:
        if self.file is None:
            return "<project>"
        return f"{self.file}:{self.line}" if self.line is not None else self.file


class Problems:
    """An ordered collection of problems, appended to by every loader and check."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def error(self, rule: str, file: str | None, line: int | None, message: str,
              hint: str | None = None) -> None:
        self._items.append(Problem("error", rule, file, line, message, hint))

    def warning(self, rule: str, file: str | None, line: int | None, message: str,
                hint: str | None = None) -> None:
        self._items.append(Problem("warning", rule, file, line, message, hint))

    def add(self, problem: Problem) -> None:
        self._items.append(problem)

    def extend(self, problems: Problems | list[Problem]) -> None:
        self._items.extend(problems)

    def forget(self, file: str) -> None:
        """Drop the problems found in ``file``, which is about to be read again."""
        self._items = [p for p in self._items if p.file != file]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "warning"]

    def sorted(self) -> list[Problem]:
        """Problems by file, then line; the project-level ones (no file) first."""
        return sorted(
            self._items,
            key=lambda p: (p.file or "", p.line if p.line is not None else -1),
        )


@dataclass
class CheckReport:
    """Everything ``qcode check`` found, with a few counts for the summary line."""

    problems: list[Problem]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.problems]}
