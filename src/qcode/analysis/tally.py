"""Counting in plain Python, for the command line: no pandas, no numpy.

On a study of tens or hundreds of interviews, importing pandas costs more than the
counting itself (about 0.3 s of a command's 0.5 s on the bundled study, measured with
``python -X importtime``). These functions give the same numbers as ``counting`` from the
coding tables' columns with dicts and sets, for commands that print rows; the library's
``Project.freq()`` and friends still return DataFrames. ``tests/test_tally.py`` holds
the two to the same results.

The definitions (distinct segments, rollup, who coded what) are those of
``qcode.analysis.segments``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from qcode.analysis.scope import (
    MISSING,
    TRANSCRIPT,
    Scope,
    attribute_text,
    attribute_value,
    check_attribute,
    resolve_scope,
)
from qcode.format.transcripts import Transcript
from qcode.store.codings import CodingTable
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

FREQ_COUNTS = ("segments", "documents", "coders")

# A distinct segment: (transcript, start, end, canonical code id).
Span = tuple[str, int, int, str]


def column_values(corpus: Corpus, scope: Scope, attribute: str) -> list[str]:
    """Declared values in declared order, then the other values found, sorted; then
    ``(missing)`` if some transcript in scope lacks the attribute. ``transcript``: the
    ids in file order."""
    if attribute == TRANSCRIPT:
        return [t.id for t in scope.transcripts]
    declared = corpus.config.attributes.get(attribute)
    values = list(declared.values) if declared and declared.values else []
    found = {attribute_text(t.attributes[attribute]) for t in scope.transcripts
             if t.attributes.get(attribute) is not None}
    values += sorted(found - set(values), key=natural)
    if any(t.attributes.get(attribute) is None for t in scope.transcripts):
        values.append(MISSING)
    return values


def natural(text: str) -> tuple:
    return tuple(int(p) if p.isdecimal() else p.lower() for p in re.split(r"(\d+)", text))


def column_key(transcript: Transcript, by: Sequence[str]) -> tuple[str, ...]:
    return tuple(MISSING if (value := attribute_value(transcript, a)) is None
                 else attribute_text(value) for a in by)


def _column(table: CodingTable, column: str) -> Iterable[str]:
    known = table.categories.get(column)
    if known is None:
        return getattr(table, column)
    uniques, numbers = known
    return (uniques[n] for n in numbers)


def segment_coders(corpus: Corpus, scope: Scope) -> dict[Span, set[str]]:
    """Each distinct segment in scope (in order of first occurrence) and who coded it;
    codings ``qcode check`` reports as broken are left out, as in ``segment_frame``."""
    codebook = corpus.codebook
    lengths = {t.id: t.body_length for t in scope.transcripts}
    canonical: dict[str, str | None] = {}
    found: dict[Span, set[str]] = {}
    for table in corpus.tables(scope.coders):
        if not len(table):
            continue
        for transcript, start, end, logged in zip(
                _column(table, "transcripts"), table.starts, table.ends,
                _column(table, "codes"), strict=True):
            if logged not in canonical:
                code = codebook.resolve(logged)
                canonical[logged] = code.id if code else None
            code_id = canonical[logged]
            length = lengths.get(transcript)
            if code_id is None or length is None or end > length:
                continue
            found.setdefault((transcript, int(start), int(end), code_id), set()).add(
                table.coder)
    return found


def counted_spans(corpus: Corpus, scope: Scope, segments: dict[Span, set[str]],
                  rollup: bool) -> dict[Span, set[str]]:
    """The (span, shown code) pairs each code counts and who coded them: its own segments,
    or with rollup (always for folders) the distinct spans of its whole subtree."""
    codebook = corpus.codebook
    shown = set(scope.codes)
    rolled = {c for c in shown if rollup or not codebook.require(c).codable}
    above: dict[str, list[str]] = {}
    counted: dict[Span, set[str]] = {}
    for (transcript, start, end, code), coders in segments.items():
        if code not in above:
            above[code] = [a for a in (code, *codebook.ancestors(code)) if a in rolled]
            if code in shown and code not in rolled:
                above[code].insert(0, code)
        for shown_code in above[code]:
            counted.setdefault((transcript, start, end, shown_code), set()).update(coders)
    return counted


def freq_rows(corpus: Corpus | HasCorpus, by: str | None = None, rollup: bool = False,
              coders: Sequence[str] | None = None, all_coders: bool = False,
              where: Iterable[str] = (), codes: Iterable[str] | None = None
              ) -> tuple[list[str], list[list[Any]]]:
    """``counting.freq`` as a header and rows: code, label, parent, depth, (``by``),
    segments, documents, coders; one row per code (and value), codebook order."""
    corpus = as_corpus(corpus)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    codebook = corpus.codebook
    values: list[str] = []
    value_of: dict[str, str] = {}
    if by:
        check_attribute(corpus, by)
        values = column_values(corpus, scope, by)
        value_of = {t.id: column_key(t, [by])[0] for t in scope.transcripts}
    counted = counted_spans(corpus, scope, segment_coders(corpus, scope), rollup)
    segments: dict[tuple[str, str], int] = {}
    documents: dict[tuple[str, str], set[str]] = {}
    who: dict[tuple[str, str], set[str]] = {}
    for (transcript, _, _, code), span_coders in counted.items():
        group = (code, value_of.get(transcript, ""))
        segments[group] = segments.get(group, 0) + 1
        documents.setdefault(group, set()).add(transcript)
        who.setdefault(group, set()).update(span_coders)
    header = ["code", "label", "parent", "depth", *([by] if by else []), *FREQ_COUNTS]
    rows = []
    for code, value in _groups(scope.codes, values if by else None):
        group = (code, value)
        rows.append([code, codebook.require(code).label, codebook.parent_of[code],
                     codebook.depth_of[code], *([value] if by else []),
                     segments.get(group, 0), len(documents.get(group, ())),
                     len(who.get(group, ()))])
    return header, rows


def _groups(codes: list[str], values: list[str] | None) -> Iterator[tuple[str, str]]:
    for code in codes:
        if values is None:
            yield code, ""
        else:
            yield from ((code, value) for value in values)
