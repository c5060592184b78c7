"""Codings made before their code's definition changed.

A changelog entry of the codebook names in ``definitions`` the codes whose definition
(description, include, exclude, examples) changed in its version. A coding of such a code
predates the change when it was made under an earlier codebook version (its ``cb``), or,
for a coding without ``cb`` (logged before qcode stamped versions, or imported), when it
was made before the entry's date. Only the newest change of each code counts: a coding
that predates an older change predates the newest one as well, and one review answers both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from qcode.format.codebook import ChangelogEntry, Codebook
from qcode.store.codings import Coding
from qcode.store.events import CODEBOOK_VERSION


def version_key(version: str | int | float) -> tuple[int, ...]:
    """A version as a tuple of whole numbers, to compare: "1.10" comes after "1.9", and
    "2" is "2.0". A part that is not a number counts by its leading digits (0 without)."""
    parts = [int(match.group()) if (match := re.match(r"\d+", part)) else 0
             for part in str(version).strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass
class Predating:
    """The codings of ``code`` made before ``entry`` changed its definition."""

    code: str
    entry: ChangelogEntry
    line: int | None  # the codebook line of the changelog entry
    by_coder: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.by_coder.values())


def newest_definition_changes(codebook: Codebook
                              ) -> dict[str, tuple[ChangelogEntry, int | None]]:
    """Each code (current id) whose definition a changelog entry names, with the newest
    such entry and its line. Names that are no code of the codebook are left out."""
    newest: dict[str, tuple[ChangelogEntry, int | None]] = {}
    lines = codebook.changelog_lines
    for index, entry in enumerate(codebook.changelog):
        line = lines[index] if index < len(lines) else None
        for name in entry.definitions:
            code = codebook.resolve(name)
            if code is None:
                continue
            known = newest.get(code.id)
            if known is None or version_key(entry.version) > version_key(known[0].version):
                newest[code.id] = (entry, line)
    return newest


def predates(coding: Coding, entry: ChangelogEntry) -> bool:
    """Whether ``coding`` was made before ``entry``'s version (see the module text)."""
    version = coding.extra.get(CODEBOOK_VERSION)
    if isinstance(version, str):
        return version_key(version) < version_key(entry.version)
    return coding.at[:10] < entry.date


def predating_codings(codebook: Codebook, codings: Iterable[Coding]) -> list[Predating]:
    """Per code whose definition changed, the codings made before the change, by coder;
    codes without such codings are left out. In codebook order."""
    changes = newest_definition_changes(codebook)
    if not changes:
        return []
    found: dict[str, Predating] = {}
    for coding in codings:
        code = codebook.canonical(coding.code)
        change = changes.get(code)
        if change is None or not predates(coding, change[0]):
            continue
        item = found.get(code)
        if item is None:
            item = found[code] = Predating(code, change[0], change[1])
        item.by_coder[coding.coder] = item.by_coder.get(coding.coder, 0) + 1
    order = {code_id: index for index, code_id in enumerate(codebook.ids)}
    return sorted(found.values(), key=lambda p: order.get(p.code, len(order)))


def still_coded(removed: Iterable[str], old: Codebook, codings: Iterable[Coding]
                ) -> dict[str, dict[str, int]]:
    """How many codings (by coder) each of the ``removed`` codes of the ``old`` codebook
    still has: codings of a code, or of one of its former ids, that the new codebook can
    no longer count."""
    gone = set(removed)
    found: dict[str, dict[str, int]] = {}
    for coding in codings:
        code = old.canonical(coding.code)
        if code in gone:
            counts = found.setdefault(code, {})
            counts[coding.coder] = counts.get(coding.coder, 0) + 1
    return {code: found[code] for code in removed if code in found}


def changed_since(codebook: Codebook, since: str) -> dict[str, list[str]]:
    """The codes (current ids) the changelog says were added or changed after version
    ``since``, each with those versions (oldest first): named in an entry's
    ``definitions``, or by id or former id in one of its ``changes`` lines."""
    floor = version_key(since)
    found: dict[str, list[str]] = {}
    for entry in sorted(codebook.changelog, key=lambda e: version_key(e.version)):
        if version_key(entry.version) <= floor:
            continue
        names = list(entry.definitions)
        for line in entry.changes:
            names += re.findall(r"[a-z0-9][a-z0-9_-]*", line.lower())
        for name in names:
            code = codebook.resolve(name)
            if code is not None and entry.version not in found.setdefault(code.id, []):
                found[code.id].append(str(entry.version))
    order = {code_id: index for index, code_id in enumerate(codebook.ids)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))
