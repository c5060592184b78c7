"""Retrieval: the coded text itself, one row per segment, with where it sits.

Built in plain Python (``Retrieved``); the DataFrame of ``Project.segments`` is made from
those rows, so the command line's text, CSV and JSON need no pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode._bulk import bulk_load
from qcode.analysis.scope import (
    MISSING,
    TRANSCRIPT,
    attribute_text,
    check_attribute,
    resolve_scope,
    scope_attrs,
)
from qcode.analysis.tally import column_values, segment_records
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:
    import pandas as pd

    from qcode.analysis.scope import Scope
    from qcode.format.codebook import Codebook
    from qcode.format.transcripts import Transcript

RETRIEVAL_COLUMNS = ["code", "label", "transcript", "passage", "speaker", "start", "end",
                     "text", "text_changed", "coders", "memo"]

# A coded span whose transcript changed under it, (transcript, start, end, code), and the
# text that was coded there (``Project.assess`` finds them).
Changed = dict[tuple[str, int, int, str], str]


def segments(corpus: Corpus | HasCorpus, codes: Iterable[str] | None = None,
             coders: Sequence[str] | None = None, all_coders: bool = False,
             where: Iterable[str] = (), by: str | None = None,
             changed: Changed | None = None) -> pd.DataFrame:
    """The coded text itself: one row per segment, with its transcript's attributes,
    passage number and speaker, coders and memo; ordered by code (codebook order), then
    by ``by``'s value (declared values in declared order, as the columns of ``matrix``),
    then transcript and position. A segment in ``changed`` (its
    transcript was edited after coding) shows the text that was coded, with
    ``text_changed`` true: never the words that now happen to sit at its old offsets."""
    return retrieve(corpus, codes, coders, all_coders, where, by, changed).frame()


@dataclass
class Retrieved:
    """The rows of ``segments`` in plain Python (``columns`` as the DataFrame's): what the
    command line prints and writes as CSV, JSON or Markdown, without importing pandas."""

    columns: list[str]
    rows: list[list[Any]]
    attrs: dict[str, Any] = field(default_factory=dict)
    # Rows retrieved without their text (``retrieve(texts=False)``): how to read a row's.
    text_of: Callable[[list[Any]], str] | None = field(default=None, repr=False,
                                                       compare=False)

    def __len__(self) -> int:
        return len(self.rows)

    def text(self, row: list[Any]) -> str:
        """A row's text, read now (and kept in the row) when it was retrieved without."""
        at = self.columns.index("text")
        if row[at] is None and self.text_of is not None:
            row[at] = self.text_of(row)
        return str(row[at])

    def text_length(self, row: list[Any]) -> int:
        """``len(text(row))``, without reading a text that was not retrieved: the span's
        length (a counted span lies inside its transcript's text)."""
        text = row[self.columns.index("text")]
        if text is None and self.text_of is not None:
            return int(row[self.columns.index("end")]) - int(row[self.columns.index("start")])
        return len(str(text))

    def records(self) -> list[dict[str, Any]]:
        """Each row as ``DataFrame.to_dict(orient="records")`` gives it."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def values(self, column: str) -> list[Any]:
        at = self.columns.index(column)
        return [row[at] for row in self.rows]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame.from_records(self.rows, columns=self.columns)
        frame.attrs = dict(self.attrs)
        return frame


def retrieve(corpus: Corpus | HasCorpus, codes: Iterable[str] | None = None,
             coders: Sequence[str] | None = None, all_coders: bool = False,
             where: Iterable[str] = (), by: str | None = None,
             changed: Changed | None = None, texts: bool = True) -> Retrieved:
    """``segments`` as plain rows (see there). ``texts=False`` leaves the text of a
    segment whose transcript is unchanged out (None), read by ``Retrieved.text`` for the
    rows that are shown: a report quotes a few of a large project's millions."""
    changed = changed or {}
    corpus = as_corpus(corpus)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    if by:
        check_attribute(corpus, by)
    codebook = corpus.codebook
    transcripts = {t.id: t for t in scope.transcripts}
    order = {c: i for i, c in enumerate(scope.codes)}
    attributes = corpus.attribute_names()
    columns = RETRIEVAL_COLUMNS + [f"@{a}" for a in attributes]
    with bulk_load():  # a row per segment: many small lists, no cycles
        rows = _rows(corpus, scope, transcripts, order, changed, attributes, codebook, texts)
        values = column_values(corpus, scope, by) if by else []
        rows = _order_retrieval(rows, columns, order, by,
                                {v: i for i, v in enumerate(values)})
    at = RETRIEVAL_COLUMNS.index

    def text_of(row: list[Any]) -> str:
        return transcripts[row[at("transcript")]].body[row[at("start")]:row[at("end")]]

    return Retrieved([c[1:] if c.startswith("@") else c for c in columns], rows,
                     scope_attrs(scope, by=[by] if by else []), None if texts else text_of)


def _rows(corpus: Corpus, scope: Scope, transcripts: dict[str, Transcript],
          order: dict[str, int], changed: Changed, attributes: list[str],
          codebook: Codebook, texts: bool) -> list[list[Any]]:
    """One row per segment, in ``segment_records`` order."""
    rows = []
    for transcript_id, start, end, code, coded_by, memo in segment_records(corpus, scope,
                                                                           order):
        t = transcripts[transcript_id]
        passage = t.passage_at(start) or next(iter(t.passages_overlapping(start, end)), None)
        coded = changed.get((transcript_id, start, end, code))
        text = coded if coded is not None else t.body[start:end] if texts else None
        row = [code, codebook.require(code).label, transcript_id,
               passage.number if passage else None, passage.speaker if passage else None,
               start, end, text, coded is not None, coded_by, memo]
        # A record's attribute columns, as a DataFrame built from records fills them.
        row += [attribute_text(t.attributes[a]) if a in t.attributes else None
                for a in attributes]
        rows.append(row)
    return rows


def _order_retrieval(rows: list[list[Any]], columns: list[str], order: dict[str, int],
                     by: str | None, rank: dict[str, int]) -> list[list[Any]]:
    """By code, then by ``by``'s rank (values without one last), transcript, start, end:
    a stable sort, as pandas' ``sort_values(kind="stable")`` made it."""
    column = "transcript" if by == TRANSCRIPT else f"@{by}"
    at = columns.index(column) if by and column in columns else None

    def key(row: list[Any]) -> tuple:
        if at is None:
            placed: tuple = ()
        else:
            value = row[at]
            known = rank.get(MISSING if value is None else value)
            placed = (1, 0) if known is None else (0, known)
        return (order[row[0]], placed, row[2], row[5], row[6])

    return sorted(rows, key=key)
