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
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qcode.analysis.scope import (
    MISSING,
    TRANSCRIPT,
    Scope,
    attribute_text,
    attribute_value,
    case_attributes,
    case_key,
    check_attribute,
    resolve_scope,
    scope_attrs,
)
from qcode.errors import UsageError
from qcode.format.text import count_words
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


def _counted_codings(corpus: Corpus, scope: Scope
                     ) -> Iterator[tuple[CodingTable, int, str, int, int, str]]:
    """Each coding in scope that counts, as (table, row, transcript, start, end, canonical
    code), coders in scope order, each in log order: codings ``qcode check`` reports as
    broken (an unknown transcript or code, a span past the body) are left out, as in
    ``segment_frame``."""
    codebook = corpus.codebook
    lengths = {t.id: t.body_length for t in scope.transcripts}
    canonical: dict[str, str | None] = {}
    for table in corpus.tables(scope.coders):
        for row, (transcript, start, end, logged) in enumerate(zip(
                _column(table, "transcripts"), table.starts, table.ends,
                _column(table, "codes"), strict=True)):
            if logged not in canonical:
                code = codebook.resolve(logged)
                canonical[logged] = code.id if code else None
            code_id = canonical[logged]
            length = lengths.get(transcript)
            if code_id is not None and length is not None and end <= length:
                yield table, row, transcript, int(start), int(end), code_id


def segment_coders(corpus: Corpus, scope: Scope) -> dict[Span, set[str]]:
    """Each distinct segment in scope (in order of first occurrence) and who coded it."""
    found: dict[Span, set[str]] = {}
    for table, _row, transcript, start, end, code_id in _counted_codings(corpus, scope):
        found.setdefault((transcript, start, end, code_id), set()).add(table.coder)
    return found


def coding_usage(tables: Iterable[CodingTable], canonical: Callable[[str], str],
                 by: str) -> dict[str, dict[str, int]]:
    """How many codings each code (``by="code"``, aliases counted as their code) or
    transcript (``by="transcript"``) has, per coder: the same span coded twice with one
    code counts once. Unlike the counting commands, codings ``qcode check`` reports as
    broken count too: this is what the logs hold (``qcode codes``, ``qcode transcripts``).
    Reads the columns; no object per coding."""
    usage: dict[str, dict[str, int]] = {}
    resolved: dict[str, str] = {}
    for table in tables:
        coder, seen = table.coder, set()
        for transcript, start, end, logged in zip(
                _column(table, "transcripts"), table.starts, table.ends,
                _column(table, "codes"), strict=True):
            code = resolved.get(logged)
            if code is None:
                code = resolved[logged] = canonical(logged)
            key = (transcript, start, end, code)
            if key in seen:
                continue
            seen.add(key)
            per_coder = usage.setdefault(code if by == "code" else transcript, {})
            per_coder[coder] = per_coder.get(coder, 0) + 1
    return usage


# A distinct segment as ``segment_frame`` gives it: (transcript, start, end, code, coders
# sorted and joined by ", ", distinct memos joined by " | " or None).
SegmentRow = tuple[str, int, int, str, str, str | None]


def segment_records(corpus: Corpus, scope: Scope, codes: Collection[str] | None = None
                    ) -> list[SegmentRow]:
    """The rows of ``segments.segment_frame(corpus, scope)`` in plain Python, in the same
    order (first occurrence, coders in scope order, each in log order): what retrieval
    reads, so that ``qcode segments`` needs no pandas. With ``codes``, only the rows of
    those codes (the others' rows neither merge with nor reorder these)."""
    found: dict[Span, list[Any]] = {}  # span -> [coders, memo]
    for table, row, transcript, start, end, code_id in _counted_codings(corpus, scope):
        if codes is not None and code_id not in codes:
            continue
        span, memo = (transcript, start, end, code_id), table.memos[row]
        known = found.get(span)
        if known is None:
            found[span] = [{table.coder}, memo or None]  # an empty memo is no memo
            continue
        known[0].add(table.coder)
        if memo and known[1] is None:
            known[1] = memo
        elif memo and memo not in known[1].split(" | "):
            known[1] = f"{known[1]} | {memo}"
    return [(*span, ", ".join(sorted(coders)), memo)
            for span, (coders, memo) in found.items()]


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


MEASURES = ("segments", "documents", "documents-pct", "words", "cases", "cases-pct")
CASE_MEASURES = ("cases", "cases-pct")
TOTAL = "TOTAL"
ALL = -1  # the column number of "all transcripts in scope"


class PlainGrid:
    """What the command line reads of ``counting.matrix``'s DataFrame: row labels
    (``index``), column labels (a value, or a tuple of two), the cells by row, ``attrs``."""

    def __init__(self, index: list[str], columns: list[Any], cells: list[list[Any]],
                 attrs: dict[str, Any]) -> None:
        self.index, self.columns, self.cells, self.attrs = index, columns, cells, attrs

    def to_numpy(self) -> PlainGrid:  # the DataFrame's ``grid.to_numpy().tolist()``
        return self

    def tolist(self) -> list[list[Any]]:
        return [list(row) for row in self.cells]


def check_matrix_options(attributes: list[str], measure: str, min_documents: int) -> None:
    if not 1 <= len(attributes) <= 2:
        raise UsageError("--by takes one attribute or two (ATTR or ATTR1,ATTR2)")
    if measure not in MEASURES:
        raise UsageError(f"unknown measure {measure!r}", f"choose one of {', '.join(MEASURES)}")
    if min_documents < 1:
        raise UsageError(f"--min-documents {min_documents} must be 1 or more")
    if min_documents != 1 and measure not in CASE_MEASURES:
        raise UsageError("--min-documents applies to the case measures only",
                         "add --measure cases or --measure cases-pct")


def case_numbers(corpus: Corpus, scope: Scope) -> dict[str, int]:
    """Each transcript in scope's case, numbered (see ``case_key``)."""
    attributes = case_attributes(corpus)
    numbers: dict[tuple[str, ...], int] = {}
    return {t.id: numbers.setdefault(case_key(t, attributes), len(numbers))
            for t in scope.transcripts}


def by_list(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        return [a.strip() for a in by.split(",") if a.strip()]
    return [a for part in by for a in by_list(part)]


@dataclass
class MatrixLayout:
    """The columns of a matrix and what each holds, shared by both ways of counting it
    (``matrix_grid`` here, ``counting.matrix`` with pandas): the scope, the attributes,
    each transcript's case number (case measures), the column keys in order, each
    transcript's column number, and each column's n (``ALL``: the whole scope's)."""

    scope: Scope
    attributes: list[str]
    case_of: dict[str, int]
    columns: list[tuple[str, ...]]
    column_of: dict[str, int]
    per_column: dict[int, int]


def matrix_layout(corpus: Corpus, by: str | Sequence[str], measure: str,
                  coders: Sequence[str] | None, all_coders: bool, where: Iterable[str],
                  codes: Iterable[str] | None, min_documents: int) -> MatrixLayout:
    attributes = by_list(by)
    check_matrix_options(attributes, measure, min_documents)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    for attribute in attributes:
        check_attribute(corpus, attribute)
    case_of = case_numbers(corpus, scope) if measure in CASE_MEASURES else {}
    keys = {t.id: column_key(t, attributes) for t in scope.transcripts}
    columns: list[tuple[str, ...]]
    if len(attributes) == 1:
        columns = [(v,) for v in column_values(corpus, scope, attributes[0])]
    else:
        present = set(keys.values())
        orders = [column_values(corpus, scope, a) for a in attributes]
        columns = [(a, b) for a in orders[0] for b in orders[1] if (a, b) in present]
    # Columns are numbered so that tuples never meet pandas' index inference.
    number = {key: i for i, key in enumerate(columns)}
    column_of = {tid: number[key] for tid, key in keys.items()}
    per_column: dict[int, int] = Counter(column_of.values())
    per_column[ALL] = len(scope.transcripts)
    if case_of:
        per_column = Counter(column for column, _ in {(column_of[tid], case_of[tid])
                                                      for tid in column_of})
        per_column[ALL] = len(set(case_of.values()))
    return MatrixLayout(scope, attributes, case_of, columns, column_of, per_column)


def matrix_grid(corpus: Corpus | HasCorpus, by: str | Sequence[str], measure: str = "segments",
                rollup: bool = False, coders: Sequence[str] | None = None,
                all_coders: bool = False, where: Iterable[str] = (),
                codes: Iterable[str] | None = None, totals: bool = False,
                min_documents: int = 1) -> PlainGrid:
    """``counting.matrix`` without pandas: the same cells, labels and ``attrs``."""
    corpus = as_corpus(corpus)
    layout = matrix_layout(corpus, by, measure, coders, all_coders, where, codes,
                           min_documents)
    scope, attributes, case_of = layout.scope, layout.attributes, layout.case_of
    columns, column_of, per_column = layout.columns, layout.column_of, layout.per_column
    transcripts_per_column = Counter(column_of.values())
    # Bodies only for the words measure: reading them is most of a small matrix.
    bodies = {t.id: t.body for t in corpus.transcripts} if measure == "words" else {}
    words: dict[Span, int] = {}

    def measured(spans: Iterable[Span], key) -> dict[Any, Any]:
        """One value per ``key(span)``, which ends in the column's number."""
        totals_of: dict[Any, Any] = {}
        if measure == "segments":
            for span in spans:
                group = key(span)
                totals_of[group] = totals_of.get(group, 0) + 1
            return totals_of
        if measure == "words":
            for span in spans:
                place = (span[0], span[1], span[2], "")
                if place not in words:
                    words[place] = count_words(bodies[span[0]][span[1]:span[2]])
                group = key(span)
                totals_of[group] = totals_of.get(group, 0) + words[place]
            return totals_of
        documents: dict[Any, set[str]] = {}
        for span in spans:
            documents.setdefault(key(span), set()).add(span[0])
        if case_of:
            per_case: dict[Any, dict[int, set[str]]] = {}
            for group, found in documents.items():
                for transcript in found:
                    per_case.setdefault(group, {}).setdefault(case_of[transcript],
                                                              set()).add(transcript)
            counted = {group: sum(len(found) >= min_documents for found in cases.values())
                       for group, cases in per_case.items()}
            counted = {group: n for group, n in counted.items() if n}
        else:
            counted = {group: len(found) for group, found in documents.items()}
        if measure in ("documents", "cases"):
            return counted
        # As pandas rounds: numpy's rint of the value times ten, then divided by ten.
        return {group: round(n / per_column[group[-1]] * 100 * 10) / 10
                for group, n in counted.items()}

    counted = counted_spans(corpus, scope, segment_coders(corpus, scope), rollup)
    cells = measured(counted, lambda span: (span[3], column_of[span[0]]))
    grid = [[cells.get((code, i), 0) for i in range(len(columns))] for code in scope.codes]
    labels: list[Any] = [c[0] if len(attributes) == 1 else c for c in columns]
    index = list(scope.codes)
    if totals:
        everywhere = measured(counted, lambda span: (span[3], ALL))
        for row, code in zip(grid, scope.codes, strict=True):
            row.append(everywhere.get((code, ALL), 0))
        # The TOTAL row counts each code's own segments once ("any code" in the column).
        shown = set(scope.codes)
        own = [span for span in segment_coders(corpus, scope) if span[3] in shown]
        by_column = measured(own, lambda span: (column_of[span[0]],))
        overall = measured(own, lambda span: (ALL,))
        grid.append([by_column.get((i,), 0) for i in range(len(columns))]
                    + [overall.get((ALL,), 0)])
        index.append(TOTAL)
        labels.append(TOTAL if len(attributes) == 1 else (TOTAL, ""))
    kind = float if measure.endswith("-pct") else int
    grid = [[kind(value) for value in row] for row in grid]
    column_n = [per_column[i] for i in range(len(columns))] + ([per_column[ALL]]
                                                                if totals else [])
    if all(a == TRANSCRIPT for a in attributes):
        column_n = []  # a column per transcript: n would always be 1
    attrs = scope_attrs(scope, measure=measure, rollup=rollup, by=attributes,
                        column_transcripts=[transcripts_per_column[i]
                                            for i in range(len(columns))],
                        column_n=column_n, n_label="n_cases" if case_of else "n_transcripts")
    if measure in CASE_MEASURES:
        attrs.update(case=case_attributes(corpus), min_documents=min_documents)
    return PlainGrid(index, labels, grid, attrs)


COOCCUR_UNITS = ("segment", "passage", "transcript", "case")


def check_cooccur_options(unit: str, min_documents: int) -> None:
    if unit not in COOCCUR_UNITS:
        raise UsageError(f"unknown unit {unit!r}", f"choose one of {', '.join(COOCCUR_UNITS)}")
    if min_documents < 1:
        raise UsageError(f"--min-documents {min_documents} must be 1 or more")
    if min_documents != 1 and unit != "case":
        raise UsageError("--min-documents applies to --unit case only")


def cooccur_grid(corpus: Corpus | HasCorpus, unit: str = "segment", rollup: bool = False,
                 coders: Sequence[str] | None = None, all_coders: bool = False,
                 where: Iterable[str] = (), codes: Iterable[str] | None = None,
                 min_documents: int = 1) -> PlainGrid:
    """``cooccur.cooccur`` without pandas: the same code × code counts and ``attrs``."""
    corpus = as_corpus(corpus)
    check_cooccur_options(unit, min_documents)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    shown = list(scope.codes)
    index = {c: i for i, c in enumerate(shown)}
    spans = [(t, s, e, index[c]) for t, s, e, c in
             counted_spans(corpus, scope, segment_coders(corpus, scope), rollup)]
    counts = [[0] * len(shown) for _ in shown]
    extra: dict[str, Any] = {}
    if unit == "segment":
        _overlaps(spans, counts)
    else:
        units: dict[Any, set[int]] = {}
        if unit == "transcript":
            for transcript, _, _, code in spans:
                units.setdefault(transcript, set()).add(code)
        elif unit == "passage":
            by_id = {t.id: t for t in corpus.transcripts}
            for transcript, start, end, code in spans:
                starts, ends = by_id[transcript].passage_columns()[:2]
                for passage in _passages_overlapping(starts, ends, start, end):
                    units.setdefault((transcript, passage), set()).add(code)
        else:
            attributes = case_attributes(corpus)
            case_of = {t.id: case_key(t, attributes) for t in scope.transcripts}
            documents: dict[tuple[Any, int], set[str]] = {}
            for transcript, _, _, code in spans:
                documents.setdefault((case_of[transcript], code), set()).add(transcript)
            for (case, code), found in documents.items():
                if len(found) >= min_documents:
                    units.setdefault(case, set()).add(code)
            extra = {"case": attributes, "min_documents": min_documents}
        for present in units.values():
            for a in present:
                for b in present:
                    counts[a][b] += 1
    return PlainGrid(shown, list(shown), counts,
                     scope_attrs(scope, unit=unit, rollup=rollup, **extra))


def _overlaps(spans: list[tuple[str, int, int, int]], counts: list[list[int]]) -> None:
    """The diagonal counts segments; elsewhere, pairs of segments of two codes whose spans
    share a character."""
    for _, _, _, code in spans:
        counts[code][code] += 1
    ordered = sorted(spans, key=lambda span: (span[0], span[1]))
    total = len(ordered)
    for i, (transcript, start, end, code) in enumerate(ordered):
        # by index, not ``ordered[i + 1:]``: a slice copies the rest of the list for
        # every span, quadratic in the project's segments (175 s at 200,000 codings)
        j = i + 1
        while j < total:
            other, other_start, other_end, other_code = ordered[j]
            if other != transcript or other_start >= end:
                break
            if start < other_end and code != other_code:
                counts[code][other_code] += 1
                counts[other_code][code] += 1
            j += 1


def _passages_overlapping(starts: list[int], ends: list[int], start: int, end: int
                          ) -> range:
    """The passages (sorted, disjoint) that share a character with ``[start, end)``; an
    empty span takes the passage it lies in (``Transcript.passages_overlapping``)."""
    if end <= start:
        at = bisect_right(starts, start) - 1
        return range(at, at + 1) if at >= 0 and start < ends[at] else range(0)
    first, stop = bisect_right(ends, start), bisect_left(starts, end)
    return range(first, max(stop, first))
