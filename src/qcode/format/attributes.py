"""Transcript attributes: the case tables joined in, the declared attributes' rules
(``attributes:`` in qcode.yaml: required, allowed values, type), and each attribute's
type, declared or inferred from its values, so spreadsheets get numbers, booleans and
dates rather than text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, get_args

from qcode.format.cases import CaseTable
from qcode.format.config import CONFIG_NAME, AttributeSpec, AttributeType, ProjectConfig
from qcode.format.names import did_you_mean
from qcode.format.transcripts import Transcript
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.yamlio import YamlDocument

# Every transcript's id is the attribute of this name (``--by transcript``); no file may
# give it another value. The analysis layer's ``TRANSCRIPT`` is the same name.
RESERVED_ATTRIBUTE = "transcript"


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
                     problems: Problems, tables: Iterable[CaseTable] = ()) -> None:
    """Required attributes present and values among the declared ones. A bad value from
    a case table is reported at its row (once, for every transcript of the case)."""
    tables = list(tables)
    reported: set[tuple[str, int | None, str]] = set()
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
            file, line, case = _source_of(transcript, name, tables)
            if (file, line, name) in reported:
                continue
            if spec.type is not None and typed_value(value, spec.type) is None:
                reported.add((file, line, name))
                problems.error(
                    "attribute-type", file, line,
                    f"{name} {attribute_text(value)!r}{case} is not {_TYPE_NAMES[spec.type]}",
                    f"write {_TYPE_EXAMPLES[spec.type]}, or change `type:` of {name!r} "
                    "in qcode.yaml")
                continue
            if spec.values is not None and str(value) not in spec.values:
                reported.add((file, line, name))
                guess = did_you_mean(str(value), spec.values)
                hint = (f"did you mean {guess[0]!r}?" if guess
                        else f"allowed: {', '.join(spec.values)}")
                problems.error(
                    "attribute-value", file, line,
                    f"{name} {value!r}{case} is not one of the declared values", hint)


def check_units(config: ProjectConfig, doc: YamlDocument | None,
                transcripts: Iterable[Transcript], tables: Iterable[CaseTable],
                problems: Problems) -> None:
    """The units of analysis: ``transcript`` is reserved for the transcript's id (an
    attribute, case column or front matter key of that name is an error: counts by it
    would mix the two), and ``case:`` names attributes some transcript has."""
    def line(*loc: str | int) -> int | None:
        return doc.line_for(loc) if doc is not None else None

    reserved = RESERVED_ATTRIBUTE
    hint = f"rename it: {reserved!r} is each transcript's id in qcode's counts"
    if reserved in config.attributes:
        problems.error("attribute-reserved", CONFIG_NAME, line("attributes", reserved),
                       f"attributes: {reserved!r} is a reserved name", hint)
    transcripts = list(transcripts)
    for table in tables:
        if reserved in table.columns:
            problems.error("attribute-reserved", table.file, 1,
                           f"case table column {reserved!r} is a reserved name", hint)
    for transcript in transcripts:
        if reserved in transcript.front_matter:
            problems.error("attribute-reserved", transcript.file,
                           transcript.front_lines.get(reserved),
                           f"front matter key {reserved!r} is a reserved name", hint)
    configured = config.case
    names = [configured] if isinstance(configured, str) else list(configured or [])
    known = [reserved, *attribute_names(config.attributes, transcripts)]
    for index, name in enumerate(names):
        if name not in known:
            guess = did_you_mean(name, known)
            problems.error(
                "config-case-unknown", CONFIG_NAME,
                line("case") if isinstance(configured, str) else line("case", index),
                f"case: {name!r} is no attribute of any transcript",
                f"did you mean {guess[0]!r}?" if guess
                else f"attributes: {', '.join(known[:12])}")


def _source_of(transcript: Transcript, name: str, tables: list[CaseTable]
               ) -> tuple[str, int | None, str]:
    """Where an attribute's value was written: the front matter line, or the case table
    row it was joined from (file, line, and words naming the case)."""
    if name not in transcript.front_matter:
        for table in tables:
            key_value = transcript.front_matter.get(table.key)
            if key_value is not None and name in table.attributes(str(key_value)):
                return (table.file, table.lines.get(str(key_value)),
                        f" (case {str(key_value)!r})")
    return transcript.file, transcript.front_lines.get(name), ""


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


# -- types ----------------------------------------------------------------------------------

ATTRIBUTE_TYPES: tuple[str, ...] = get_args(AttributeType)
_TYPE_NAMES = {"text": "text", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "date": "a date"}
_TYPE_EXAMPLES = {"text": "any text", "integer": "digits such as 846 or -3",
                  "number": "a number such as 6.6", "boolean": "true or false",
                  "date": "a date as YYYY-MM-DD"}
# Leading zeros make a code (a postcode, "007"), not a number; so does a leading "+".
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def attribute_text(value: object) -> str:
    """An attribute value as the text it stands for (YAML may have given a bool or a date)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def typed_value(value: object, kind: str) -> object | None:
    """``value`` as a Python value of ``kind``; None when it is not one."""
    if kind == "text":
        return attribute_text(value)
    if isinstance(value, bool):
        return value if kind == "boolean" else None
    if isinstance(value, dt.date) and kind == "date":
        return value
    text = attribute_text(value).strip()
    if kind == "integer":
        return int(text) if _INTEGER.fullmatch(text) else None
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            return None
        number = float(text)
        return int(number) if _INTEGER.fullmatch(text) else number
    if kind == "boolean":
        folded = text.lower()
        return True if folded == "true" else False if folded == "false" else None
    if kind == "date" and _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def infer_type(values: Iterable[object]) -> AttributeType:
    """The narrowest type every non-empty value is: integer, number, boolean, date, else
    text. An attribute with no values is text."""
    present = [v for v in values if v is not None and attribute_text(v).strip() != ""]
    if not present:
        return "text"
    for kind in ("integer", "number", "boolean", "date"):
        if all(typed_value(v, kind) is not None for v in present):
            return kind
    return "text"


def attribute_types(declared: Mapping[str, AttributeSpec],
                    transcripts: Iterable[Transcript]) -> dict[str, AttributeType]:
    """Every attribute's type: the declared ``type:``, else inferred from its values in
    every transcript (case table columns included)."""
    values: dict[str, list[object]] = {}
    for transcript in transcripts:
        for name, value in transcript.attributes.items():
            values.setdefault(name, []).append(value)
    types: dict[str, AttributeType] = {}
    for name in [*declared, *values]:
        spec = declared.get(name)
        types[name] = (spec.type if spec is not None and spec.type is not None
                       else infer_type(values.get(name, ())))
    return types
