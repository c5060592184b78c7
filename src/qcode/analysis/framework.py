"""The framework matrix (``qcode framework``): cases × themes, each cell the quotes a
qualitative report is written from.

A cell is exactly what ``qcode segments CODE --where ROWS=VALUE`` retrieves (same coder
choice, same descendants, same text), of which the first ``quotes`` are kept by a stated
rule (``pick``). The segments come from one call of ``retrieval.segments``, so a cell can
never disagree with ``segments``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from qcode.analysis.counting import column_values
from qcode.analysis.retrieval import Changed, Retrieved, retrieve
from qcode.analysis.scope import (
    MISSING,
    Scope,
    attribute_text,
    attribute_value,
    check_attribute,
    resolve_scope,
)
from qcode.errors import UsageError
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

PICKS = ("longest", "first")
Q = TypeVar("Q")
DEFAULT_QUOTES = 3
# The fields of one quote, in the order the long form (CSV, JSON) lists them.
QUOTE_FIELDS = ["transcript", "passage", "speaker", "coders", "code", "start", "end",
                "text", "text_changed", "memo"]


@dataclass(frozen=True)
class Theme:
    """One column: a code and the codes whose segments it holds."""

    code: str
    label: str
    codes: tuple[str, ...]  # the code and its descendants, or the code alone (own_only)
    own_only: bool = False  # a codable family code: only the segments coded with it
    memo: str | None = None  # the memos on the code (memos/), authors named


@dataclass
class Cell:
    """The quotes of one row and theme: the ``quotes`` chosen of ``total`` segments.

    ``memo``: the memos on the row (memos/): on the case ``ROWS=VALUE`` when the rows
    are an attribute's values, on the transcript when they are transcripts; None
    without one (``Project.framework`` fills it in). Each quote carries its coding's memo.
    """

    quotes: list[dict[str, Any]]
    total: int
    memo: str | None = None


@dataclass
class FrameworkMatrix:
    rows_by: str
    rows: list[str]
    themes: list[Theme]
    cells: dict[tuple[str, str], Cell]
    pick: str
    quotes: int  # 0: every quote
    attrs: dict[str, Any] = field(default_factory=dict)

    def cell(self, row: str, code: str) -> Cell:
        return self.cells[(row, code)]

    def records(self) -> list[dict[str, Any]]:
        """The long form: one record per quote, in row, theme and rank order; a cell
        without quotes is left out (its count is 0)."""
        out = []
        for row in self.rows:
            for theme in self.themes:
                cell = self.cells[(row, theme.code)]
                for rank, quote in enumerate(cell.quotes, start=1):
                    out.append({"row": row, "theme": theme.code, "label": theme.label,
                                "rank": rank, "of": cell.total,
                                **{k: quote[k] for k in QUOTE_FIELDS},
                                "cell_memo": cell.memo})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON: the scope, the rule, the rows and themes, and every cell (empty ones too)."""
        return {
            "rows_by": self.rows_by, "rows": self.rows,
            "themes": [{"code": t.code, "label": t.label, "codes": list(t.codes),
                        "own_only": t.own_only, "memo": t.memo} for t in self.themes],
            "pick": self.pick, "quotes": self.quotes,
            "coders": self.attrs.get("coders", []),
            "transcripts": self.attrs.get("transcripts", 0),
            "where": self.attrs.get("where", []),
            "cells": [{"row": row, "theme": theme.code,
                       "segments": self.cells[(row, theme.code)].total,
                       "memo": self.cells[(row, theme.code)].memo,
                       "quotes": self.cells[(row, theme.code)].quotes}
                      for row in self.rows for theme in self.themes],
        }


def framework(corpus: Corpus | HasCorpus, rows: str, codes: Iterable[str],
              coders: Sequence[str] | None = None, all_coders: bool = False,
              where: Iterable[str] = (), quotes: int = DEFAULT_QUOTES,
              pick: str = "longest", changed: Changed | None = None) -> FrameworkMatrix:
    """Rows (an attribute's values, or transcripts) × themes, each cell the segments of
    that theme in that row's transcripts, ``quotes`` of them kept (0 keeps all).

    ``codes``: a family (a code with children) stands for its children, one theme each
    (a codable family code adds a theme before them holding the segments coded with the
    family code itself); a code without children is one theme. ``pick``: ``longest``
    keeps the longest quotes (most characters; ties in reading order), ``first`` the
    first in reading order (transcripts by id, then position), as ``segments`` lists them.
    """
    corpus = as_corpus(corpus)
    if pick not in PICKS:
        raise UsageError(f"--pick {pick!r} is not one of {', '.join(PICKS)}")
    if quotes < 0:
        raise UsageError(f"--quotes {quotes} must be 0 (all) or more")
    themes = _themes(corpus, codes)
    where = list(where)
    scope = resolve_scope(corpus, coders, all_coders, where, [t.code for t in themes])
    row_values, row_of = _rows(corpus, scope, rows)
    # Without their texts: only the quotes kept have theirs read (a project of 10,000
    # transcripts has millions of segments, of which a cell shows three).
    retrieved = retrieve(corpus, sorted({c for t in themes for c in t.codes}), coders,
                         all_coders, where, None, changed, texts=False)
    column = retrieved.columns.index
    code_at, transcript_at = column("code"), column("transcript")
    start_at, end_at = column("start"), column("end")
    found: dict[tuple[str, str], list[list[Any]]] = {}
    theme_of: dict[str, list[Theme]] = {}
    for theme in themes:
        for code in theme.codes:
            theme_of.setdefault(code, []).append(theme)
    for row in retrieved.rows:
        for theme in theme_of.get(row[code_at], []):
            found.setdefault((row_of[row[transcript_at]], theme.code), []).append(row)
    cells = {}
    for value in row_values:
        for theme in themes:
            # reading order: transcript, position (a family's codes are interleaved)
            every = sorted(found.get((value, theme.code), []),
                           key=lambda r: (r[transcript_at], r[start_at], r[end_at]))
            kept = choose_quotes(every, quotes, pick, retrieved.text_length)
            cells[(value, theme.code)] = Cell([_quote(retrieved, r) for r in kept],
                                              len(every))
    return FrameworkMatrix(rows, row_values, themes, cells, pick, quotes,
                           dict(retrieved.attrs))


def _quote(retrieved: Retrieved, row: list[Any]) -> dict[str, Any]:
    record = dict(zip(retrieved.columns, row, strict=True))
    record["text"] = retrieved.text(row)
    return {k: record.get(k) for k in QUOTE_FIELDS}


def choose_quotes(quotes: list[Q], count: int, pick: str,
                  length: Callable[[Q], int] = lambda q: len(str(q["text"]))  # type: ignore[index]
                  ) -> list[Q]:
    """The ``count`` quotes a cell shows (all when 0), from quotes in reading order;
    ``length``: a quote's length in characters."""
    if pick == "longest":
        # sorted is stable: equally long quotes stay in reading order
        quotes = sorted(quotes, key=lambda q: -length(q))
    return quotes[:count] if count else list(quotes)


def _themes(corpus: Corpus, codes: Iterable[str]) -> list[Theme]:
    codebook = corpus.codebook
    themes: list[Theme] = []
    for name in codes:
        for part in (p.strip() for p in str(name).split(",")):
            if not part:
                continue
            code = codebook.require(part)
            children = codebook.children(code.id)
            if not children:
                themes.append(Theme(code.id, code.label, (code.id,)))
                continue
            if code.codable:
                themes.append(Theme(code.id, code.label, (code.id,), own_only=True))
            themes += [Theme(c, codebook.require(c).label, tuple(codebook.descendants(c)))
                       for c in children]
    if not themes:
        raise UsageError("--codes names no code", "e.g. --codes leadership (a family) or "
                         "--codes leadership-involved,ownership-culture")
    seen: set[str] = set()
    unique = []
    for theme in themes:  # a code named twice (itself and in its family) is one column
        if theme.code not in seen:
            seen.add(theme.code)
            unique.append(theme)
    return unique


def _rows(corpus: Corpus, scope: Scope, rows: str) -> tuple[list[str], dict[str, str]]:
    """The row values in order and the row of each transcript in scope (``transcript``:
    one row per transcript, as ``--by transcript`` makes one column per transcript)."""
    check_attribute(corpus, rows)
    row_of = {}
    for transcript in scope.transcripts:
        value = attribute_value(transcript, rows)
        row_of[transcript.id] = MISSING if value is None else attribute_text(value)
    # Declared order, but only values some transcript in scope has: a row outside
    # --where would read as "no quotes" when it was never looked at.
    present = set(row_of.values())
    return [v for v in column_values(corpus, scope, rows) if v in present], row_of
