"""The codebook as the CSV that Taguette imports (``qcode export codebook --format
taguette-csv``).

Taguette's codebook import reads a header row with exactly one of the columns ``tag``,
``name`` or ``path`` (more than one is refused as ambiguous) and an optional
``description``. A tag's hierarchy is its path with ``.`` between the levels (Taguette's
``interesting.places``), so each code is written as the ids of its ancestors and itself
joined by dots: code ids are unique and hold no dots, so the paths are unique and split
back into the same tree. Grouping folders (``codable: false``) cannot be applied, so they
are not tags of their own; they appear in their children's paths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Code, Codebook

TAGUETTE_HEADER = ("tag", "description")


def taguette_rows(codebook: Codebook) -> list[tuple[str, str]]:
    """``(tag path, description)`` for every codable code, in codebook order."""
    return [(".".join(path), _description(code)) for path, code in _walk(codebook.roots, [])
            if code.codable]


def taguette_csv(codebook: Codebook) -> str:
    """The CSV text: a ``tag,description`` header and one row per codable code."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TAGUETTE_HEADER)
    writer.writerows(taguette_rows(codebook))
    return out.getvalue()


def _walk(codes: list[Code], parents: list[str]) -> Iterator[tuple[list[str], Code]]:
    for code in codes:
        path = [*parents, code.id]
        yield path, code
        yield from _walk(code.children, path)


def _description(code: Code) -> str:
    """The label (Taguette shows only the path) and the definition, on one line each."""
    lines = [code.label]
    if code.description.strip():
        lines.append(" ".join(code.description.split()))
    return "\n".join(lines)
