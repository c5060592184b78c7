"""``--where`` filters on transcript attributes, shared by every command that takes them.

Light on purpose (no pandas): ``autocode`` and the counting commands both use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qcode.errors import UnknownName, UsageError
from qcode.format.names import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript
    from qcode.project import Project

MISSING = "(missing)"

_WHERE_RE = re.compile(r"^\s*([^=!\s]+)\s*(!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Condition:
    """One ``--where`` filter: ``attr=value[,value…]`` or ``attr!=value[,value…]``."""

    attribute: str
    negate: bool
    values: frozenset[str]

    def matches(self, transcript: Transcript) -> bool:
        value = transcript.attributes.get(self.attribute)
        text = MISSING if value is None else attribute_text(value)
        return (text in self.values) != self.negate

    @classmethod
    def parse(cls, expression: str) -> Condition:
        match = _WHERE_RE.match(expression)
        if not match or not match.group(3):
            raise UsageError(f"--where {expression!r} is not ATTR=VALUE or ATTR!=VALUE",
                             "e.g. --where school=Voss or --where informant_group!=teacher")
        attribute, op, values = match.groups()
        return cls(attribute, op == "!=",
                   frozenset(v.strip() for v in values.split(",") if v.strip()))


def transcripts_where(project: Project, where: Iterable[str | Condition]
                      ) -> tuple[list[Condition], list[Transcript]]:
    """Parse and check the conditions (unknown attributes get a did-you-mean) and return
    them with the transcripts that meet them all."""
    conditions = [c if isinstance(c, Condition) else Condition.parse(c) for c in where]
    names = project.attribute_names()
    for condition in conditions:
        if condition.attribute not in names:
            raise UnknownName("attribute", condition.attribute,
                              did_you_mean(condition.attribute, names),
                              hint=f"attributes: {', '.join(names)}")
    return conditions, [t for t in project.transcripts
                        if all(c.matches(t) for c in conditions)]


def attribute_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
