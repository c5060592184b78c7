"""What an import did: counts, what was skipped and why, and what looked wrong.

REFI-QDA asks importers to tell the user about data loss (§7); nothing an import leaves out
is dropped silently: it is a ``Skipped`` entry here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Skipped:
    kind: str      # source, selection, coding, set, link, graph, variable, code, ...
    name: str
    reason: str


@dataclass
class ImportReport:
    source: str                      # the file imported
    target: str                      # the project folder or codebook written
    origin: str | None = None        # the tool that wrote the file
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    offsets: dict[str, Any] | None = None
    check: dict[str, Any] | None = None

    def skip(self, kind: str, name: str, reason: str) -> None:
        self.skipped.append(Skipped(kind, name, reason))

    def note(self, message: str) -> None:
        self.notes.append(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "target": self.target, "origin": self.origin,
            "counts": dict(self.counts), "skipped": [asdict(s) for s in self.skipped],
            "notes": list(self.notes), "offsets": self.offsets, "check": self.check,
        }
