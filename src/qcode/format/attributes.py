"""Transcript attributes: the case tables joined in, and the declared attributes' rules
(``attributes:`` in qcode.yaml: required, allowed values)."""

from __future__ import annotations

from collections.abc import Iterable

from qcode.format.cases import CaseTable
from qcode.format.config import AttributeSpec
from qcode.format.names import did_you_mean
from qcode.format.transcripts import Transcript
from qcode.problems import Problems


def join_cases(transcripts: Iterable[Transcript], tables: list[CaseTable],
               problems: Problems) -> None:
    """Give each transcript the attributes of its case (by the table's key attribute).
    A value in the transcript's own front matter wins over the table's, with a warning
    when they differ."""
    for transcript in transcripts:
        for table in tables:
            value = transcript.front_matter.get(table.key)
            if value is None:
                continue
            value = str(value)
            if value not in table.rows:
                guess = did_you_mean(value, table.rows)
                problems.error(
                    "case-key-unknown", transcript.file, transcript.front_lines.get(table.key),
                    f"{table.key} {value!r} is not in the case table {table.file}",
                    f"did you mean {guess[0]!r}?" if guess else f"add a row for {value!r}")
                continue
            for column, cell in table.attributes(value).items():
                own = transcript.front_matter.get(column)
                if own is None:
                    transcript.attributes[column] = cell
                elif str(own) != cell:
                    problems.warning(
                        "case-attribute-conflict", transcript.file,
                        transcript.front_lines.get(column),
                        f"{column} is {own!r} here but {cell!r} in {table.file} "
                        f"(line {table.lines[value]}); the transcript's value is used",
                        "make the two agree or remove one of them")


def check_attributes(transcripts: Iterable[Transcript], declared: dict[str, AttributeSpec],
                     problems: Problems) -> None:
    """Required attributes present and values among the declared ones."""
    for transcript in transcripts:
        for name, spec in declared.items():
            value = transcript.attributes.get(name)
            if value is None:
                if spec.required:
                    problems.error(
                        "attribute-missing", transcript.file, 1,
                        f"transcript {transcript.id!r} has no {name!r}",
                        f"add `{name}: ...` to its front matter")
                continue
            if spec.values is not None and str(value) not in spec.values:
                guess = did_you_mean(str(value), spec.values)
                hint = (f"did you mean {guess[0]!r}?" if guess
                        else f"allowed: {', '.join(spec.values)}")
                problems.error(
                    "attribute-value", transcript.file, transcript.front_lines.get(name),
                    f"{name} {value!r} is not one of the declared values", hint)


def attribute_names(declared: Iterable[str], transcripts: Iterable[Transcript]) -> list[str]:
    """Declared attributes first (in qcode.yaml order), then the others as first seen."""
    names = list(declared)
    seen = set(names)
    for transcript in transcripts:
        for name in transcript.attributes:
            if name not in seen:
                names.append(name)
                seen.add(name)
    return names
