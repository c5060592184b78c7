"""The coded segments in a scope as one table: what every count is made from.

A *segment* is one coded span of one coder. With several coders in scope, identical
``(transcript, start, end, code)`` spans count once. Codes are counted under their
current id (a coding made under a former id counts for the code that lists it in
``aliases``). ``rollup``: a parent counts the distinct spans of itself and all its
descendants (a span coded with two children counts once for the parent). Non-codable
folders are always rolled up.

Imported only by commands that count; it imports pandas at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from qcode.analysis.scope import Scope
from qcode.format.text import count_words
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

SEGMENT_COLUMNS = ["transcript", "start", "end", "code", "coders", "memo"]


def segment_frame(corpus: Corpus | HasCorpus, scope: Scope, categorical: bool = False
                  ) -> pd.DataFrame:
    """Distinct segments in scope: one row per (transcript, start, end, code), in the order
    they first occur (coders in scope order, each in log order).

    ``coders`` lists who coded it (sorted, comma-separated), ``memo`` joins their memos.
    Codings that ``qcode check`` reports as broken (unknown transcript or code, a span
    outside the body) are left out. Built with numpy from the coding tables' columns,
    strings as integer codes: no Python work per coding. With ``categorical``,
    ``transcript`` and ``code`` stay pandas categoricals (of the scope's transcripts and
    the codebook's codes), which the counting groups without hashing text again.
    """
    corpus = as_corpus(corpus)
    codebook = corpus.codebook
    tables = [t for t in corpus.tables(scope.coders) if len(t)]
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("start", "end") else object)
                             for c in SEGMENT_COLUMNS})
    transcript_ids = [t.id for t in scope.transcripts]
    transcript_number = {tid: i for i, tid in enumerate(transcript_ids)}
    # One extra slot for "not in scope", whose length no span fits in.
    lengths = np.array([t.body_length for t in scope.transcripts] + [-1], dtype=np.int64)
    code_ids = [c.id for c in codebook]
    code_number = {cid: i for i, cid in enumerate(code_ids)}

    def numbered(table, column: str, number_of) -> np.ndarray:
        known = table.categories.get(column)
        if known is not None:
            uniques, codes = known[0], np.asarray(known[1], dtype=np.int64)
        else:
            codes, uniques = pd.factorize(np.asarray(getattr(table, column), dtype=object))
        remap = np.array([number_of(u) for u in uniques] + [-1], dtype=np.int64)
        return remap[codes]

    def canonical_number(logged: str) -> int:
        code = codebook.resolve(logged)
        return code_number[code.id] if code else -1

    transcript = np.concatenate([numbered(t, "transcripts",
                                          lambda u: transcript_number.get(u, -1))
                                 for t in tables])
    code = np.concatenate([numbered(t, "codes", canonical_number) for t in tables])
    start = np.concatenate([np.asarray(t.starts, dtype=np.int64) for t in tables])
    end = np.concatenate([np.asarray(t.ends, dtype=np.int64) for t in tables])
    coder = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, t in enumerate(tables)])
    memo = np.concatenate([np.asarray(t.memos, dtype=object) for t in tables])
    memo[memo == ""] = None  # an empty memo is no memo
    keep = (transcript >= 0) & (end <= lengths[transcript]) & (code >= 0)
    transcript, start, end, code = transcript[keep], start[keep], end[keep], code[keep]
    coder, memo = coder[keep], memo[keep]
    # Two int64 keys hold the four numbers: grouping on fewer columns is faster.
    place = transcript * len(code_ids) + code
    if not len(end) or end.max() < (1 << 31):
        keys = {"place": place, "span": start * (1 << 31) + end}
    else:  # pragma: no cover - a transcript of over two billion characters
        keys = {"place": place, "start": start, "end": end}
    group = pd.DataFrame(keys).groupby(list(keys), sort=False).ngroup().to_numpy()
    coder_names = [t.coder for t in tables]
    if not len(group) or group.max() + 1 == len(group):  # no span coded twice
        coders = np.asarray(coder_names, dtype=object)[coder]
    else:
        first, coders, memo = _merge_segments(group, coder, coder_names, memo)
        transcript, start, end, code = transcript[first], start[first], end[first], code[first]
    if categorical:
        transcripts = pd.Categorical.from_codes(transcript, categories=transcript_ids)
        codes = pd.Categorical.from_codes(code, categories=code_ids)
    else:
        transcripts = pd.Series(np.asarray(transcript_ids, dtype=object)[transcript],
                                dtype=object)
        codes = pd.Series(np.asarray(code_ids, dtype=object)[code], dtype=object)
    return pd.DataFrame({
        "transcript": transcripts, "start": start, "end": end, "code": codes,
        "coders": pd.Series(coders, dtype=object), "memo": pd.Series(memo, dtype=object),
    }, columns=SEGMENT_COLUMNS)


def _merge_segments(group: np.ndarray, coder: np.ndarray, coder_names: list[str],
                    memo: np.ndarray) -> tuple[np.ndarray, ...]:
    """Merge the rows of each group (numbered by first occurrence): the first row of each,
    who coded it, and their distinct memos in order."""
    count = int(group.max()) + 1
    _, first = np.unique(group, return_index=True)
    masks = np.zeros(count, dtype=np.int64)
    # Coders in name order, so that "a, b" lists them sorted whatever the scope's order.
    order = sorted(range(len(coder_names)), key=lambda i: coder_names[i])
    bit = np.zeros(len(coder_names), dtype=np.int64)
    for rank, i in enumerate(order):
        bit[i] = 1 << rank
    for i in range(len(coder_names)):  # few coders: one bincount each beats ufunc.at
        masks |= (np.bincount(group[coder == i], minlength=count) > 0) * bit[i]
    distinct = np.unique(masks)
    names = np.asarray([", ".join(coder_names[i] for rank, i in enumerate(order)
                                  if mask & (1 << rank)) for mask in distinct.tolist()],
                       dtype=object)
    coders = names[np.searchsorted(distinct, masks)]
    merged_memo = memo[first].copy()
    repeated = np.ones(len(group), dtype=bool)
    repeated[first] = False  # rows that join an earlier row's group
    with_memo = repeated & np.array([m is not None for m in memo], dtype=bool)
    for g, note in zip(group[with_memo].tolist(), memo[with_memo].tolist(), strict=True):
        known = merged_memo[g]
        if known is None:
            merged_memo[g] = note
        elif note not in known.split(" | "):
            merged_memo[g] = f"{known} | {note}"
    return first, coders, merged_memo


def _counted_rows(corpus: Corpus | HasCorpus, scope: Scope, segments: pd.DataFrame,
                  rollup: bool, distinct: bool = True) -> pd.DataFrame:
    """The (span, code) rows each shown code counts: its own segments, or with rollup
    (always for folders) the spans of its whole subtree, each distinct span once. With
    ``distinct=False`` a span keeps one row per segment it came from (with that
    segment's ``coders``), which is what counting coders needs."""
    corpus = as_corpus(corpus)
    codebook = corpus.codebook
    shown = set(scope.codes)
    rolled_codes = {c for c in shown if rollup or not codebook.require(c).codable}
    spans = segments[["transcript", "start", "end", "code", "coders"]]
    own = spans[spans["code"].isin(shown - rolled_codes)]
    if not rolled_codes:
        return own.reset_index(drop=True)
    # Each span once for every rolled code at or above its code.
    rows, codes = _expand(spans["code"], lambda c: [a for a in (c, *codebook.ancestors(c))
                                                    if a in rolled_codes])
    if not len(rows):
        return own.reset_index(drop=True)
    rolled = spans.iloc[rows].assign(code=codes)
    if distinct:
        rolled = rolled.drop_duplicates(["transcript", "start", "end", "code"])
    return pd.concat([own, rolled], ignore_index=True)


def _codes(column: pd.Series) -> tuple[np.ndarray, Sequence]:
    """A column of repeated values as (integer code per row, distinct values): free for a
    categorical, one hashing pass otherwise."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(dtype=np.int64), column.cat.categories
    return pd.factorize(column.to_numpy(dtype=object))


def _map_values(column: pd.Series, mapping: dict, default=None) -> np.ndarray:
    """``column.map(mapping)`` through the distinct values only."""
    codes, distinct = _codes(column)
    table = np.array([mapping.get(value, default) for value in distinct] + [default],
                     dtype=object)
    return table[codes]


def _expand(column: pd.Series, values_of) -> tuple[np.ndarray, Any]:
    """Each row once per value in ``values_of(its value)``: the row numbers, repeated, and
    the values (a categorical of the same categories when ``column`` is one). numpy's
    repeat over the few distinct values, not pandas' explode (which joins): this runs over
    every segment."""
    number, distinct = _codes(column)
    lists = [list(values_of(value)) for value in distinct]
    width = max((len(values) for values in lists), default=0)
    if not width:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    repeats = np.array([len(values) for values in lists], dtype=np.int64)[number]
    rows = np.repeat(np.arange(len(column)), repeats)
    nth = np.arange(len(rows)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    if isinstance(column.dtype, pd.CategoricalDtype):
        position = {value: i for i, value in enumerate(distinct)}
        table = np.array([[position[v] for v in values] + [-1] * (width - len(values))
                          for values in lists], dtype=np.int64)
        return rows, pd.Categorical.from_codes(table[number[rows], nth],
                                               categories=distinct)
    table = np.array([values + [""] * (width - len(values)) for values in lists],
                     dtype=object)
    return rows, table[number[rows], nth]


def _span_words(corpus: Corpus, frame: pd.DataFrame) -> pd.Series:
    """Words inside each row's span (counted once per distinct span)."""
    cache: dict[tuple[str, int, int], int] = {}
    bodies = {t.id: t.body for t in corpus.transcripts}
    values = []
    for transcript, start, end in zip(frame["transcript"].tolist(), frame["start"].tolist(),
                                      frame["end"].tolist(), strict=True):
        key = (transcript, start, end)
        if key not in cache:
            cache[key] = count_words(bodies[transcript][start:end])
        values.append(cache[key])
    return pd.Series(values, index=frame.index, dtype="int64")
