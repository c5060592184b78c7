"""Retrieval: the coded text itself, one row per segment, with where it sits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from qcode.analysis.counting import column_values
from qcode.analysis.scope import (
    MISSING,
    TRANSCRIPT,
    attribute_text,
    check_attribute,
    resolve_scope,
    scope_attrs,
)
from qcode.analysis.segments import segment_frame
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

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
    changed = changed or {}
    corpus = as_corpus(corpus)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    if by:
        check_attribute(corpus, by)
    codebook = corpus.codebook
    frame = segment_frame(corpus, scope)
    frame = frame[frame["code"].isin(scope.codes)]
    transcripts = {t.id: t for t in scope.transcripts}
    order = {c: i for i, c in enumerate(scope.codes)}
    records = []
    for row in frame.itertuples(index=False):
        t = transcripts[row.transcript]
        passage = t.passage_at(row.start) or next(
            iter(t.passages_overlapping(row.start, row.end)), None)
        coded = changed.get((row.transcript, int(row.start), int(row.end), row.code))
        records.append({
            "code": row.code, "label": codebook.require(row.code).label,
            "transcript": row.transcript,
            "passage": passage.number if passage else None,
            "speaker": passage.speaker if passage else None,
            "start": int(row.start), "end": int(row.end),
            "text": t.body[row.start:row.end] if coded is None else coded,
            "text_changed": coded is not None,
            "coders": row.coders, "memo": row.memo,
            **{f"@{k}": attribute_text(v) for k, v in t.attributes.items()},
        })
    result = pd.DataFrame.from_records(records, columns=_retrieval_columns(corpus, records))
    values = column_values(corpus, scope, by) if by else []
    result = _order_retrieval(result, order, by, {v: i for i, v in enumerate(values)})
    result.attrs = scope_attrs(scope, by=[by] if by else [])
    return result


def _retrieval_columns(corpus: Corpus, records: list[dict]) -> list[str]:
    attributes = [f"@{a}" for a in corpus.attribute_names()]
    return RETRIEVAL_COLUMNS + attributes


def _order_retrieval(frame: pd.DataFrame, order: dict[str, int], by: str | None,
                     rank: dict[str, int]) -> pd.DataFrame:
    if not len(frame):
        return frame.rename(columns=lambda c: c[1:] if c.startswith("@") else c)
    keys = [frame["code"].map(order).rename("_order")]
    sort = ["_order"]
    column = "transcript" if by == TRANSCRIPT else f"@{by}"
    if by and column in frame.columns:
        keys.append(frame[column].fillna(MISSING).map(rank).rename("_by"))
        sort.append("_by")
    frame = pd.concat([frame, *keys], axis=1).sort_values([*sort, "transcript", "start", "end"],
                                                       kind="stable")
    frame = frame.drop(columns=sort).reset_index(drop=True)
    return frame.rename(columns=lambda c: c[1:] if c.startswith("@") else c)
