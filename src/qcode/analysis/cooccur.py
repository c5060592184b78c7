"""Code × code co-occurrence, on segments, passages, transcripts or cases (numpy, pandas)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from qcode.analysis.scope import case_attributes, case_key, resolve_scope, scope_attrs
from qcode.analysis.segments import _codes, _counted_rows, _map_values, segment_frame
from qcode.analysis.tally import COOCCUR_UNITS as COOCCUR_UNITS  # where callers look
from qcode.analysis.tally import check_cooccur_options
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

# Candidate pairs of overlapping segments examined at once (see _overlap_counts).
PAIR_BLOCK = 1 << 22


def cooccur(corpus: Corpus | HasCorpus, unit: str = "segment", rollup: bool = False,
            coders: Sequence[str] | None = None, all_coders: bool = False,
            where: Iterable[str] = (), codes: Iterable[str] | None = None,
            min_documents: int = 1) -> pd.DataFrame:
    """Code × code co-occurrence, symmetric; the diagonal is each code's own count.

    - ``segment``: pairs of distinct segments (one of each code) whose spans overlap;
      the diagonal counts segments.
    - ``passage``: passages where both codes have a segment overlapping the passage.
    - ``transcript``: transcripts where both codes occur.
    - ``case``: cases (``case:`` in qcode.yaml, such as schools) where both codes occur,
      each in at least ``min_documents`` of the case's transcripts (not necessarily the
      same ones).
    """
    corpus = as_corpus(corpus)
    check_cooccur_options(unit, min_documents)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    rows = _counted_rows(corpus, scope, segment_frame(corpus, scope, categorical=True),
                         rollup)
    shown = scope.codes
    extra = {}
    if unit == "segment":
        counts = _overlap_counts(rows, shown)
    elif unit == "case":
        attributes = case_attributes(corpus)
        counts = _case_counts(rows, {t.id: case_key(t, attributes) for t in scope.transcripts},
                              shown, min_documents)
        extra = {"case": attributes, "min_documents": min_documents}
    else:
        counts = _unit_counts(corpus, rows, unit, shown)
    grid = pd.DataFrame(counts, index=pd.Index(shown, name="code"), columns=pd.Index(shown),
                        dtype="int64")
    grid.attrs = scope_attrs(scope, unit=unit, rollup=rollup, **extra)
    return grid


def _case_counts(rows: pd.DataFrame, case_of: dict[str, tuple[str, ...]], shown: list[str],
                 min_documents: int) -> np.ndarray:
    """Code × code: cases where both codes have at least ``min_documents`` transcripts
    (the diagonal: cases per code). The (case, code) pairs that qualify become the units
    of ``_pair_table``."""
    numbers: dict[tuple[str, ...], int] = {}
    case_number = {tid: numbers.setdefault(key, len(numbers)) for tid, key in case_of.items()}
    index = {c: i for i, c in enumerate(shown)}
    number, names = _codes(rows["code"])
    code = np.array([index.get(n, -1) for n in names] + [-1], dtype=np.int64)[number]
    transcript = _codes(rows["transcript"])[0]
    case = _map_values(rows["transcript"], case_number, -1).astype(np.int64)
    known = code >= 0
    case, transcript, code = case[known] + 1, transcript[known], code[known]  # case -1: none
    # Distinct (case, transcript, code), then how many transcripts each (case, code) has,
    # each tuple packed into one integer: a 1-D unique is many times faster than rows'.
    width, size = (int(transcript.max()) + 1 if len(transcript) else 1), len(shown)
    triples = np.unique((case * width + transcript) * size + code)
    pairs, documents = np.unique(triples // (width * size) * size + triples % size,
                                 return_counts=True)
    pairs = pairs[documents >= min_documents]
    return _pair_table(np.stack([pairs // size - 1, pairs % size], axis=1), size)


def _overlap_counts(rows: pd.DataFrame, shown: list[str]) -> np.ndarray:
    """Code × code: pairs of segments of two different codes whose spans overlap; the
    diagonal counts segments. Sorting by (transcript, start) lets a binary search find,
    for each segment, the later ones that start before it ends: no loop over pairs."""
    counts = np.zeros((len(shown), len(shown)), dtype=np.int64)
    index = {c: i for i, c in enumerate(shown)}
    number, names = _codes(rows["code"])
    code = np.array([index.get(n, -1) for n in names] + [-1], dtype=np.int64)[number]
    transcript = _codes(rows["transcript"])[0]
    start = rows["start"].to_numpy(dtype=np.int64)
    end = rows["end"].to_numpy(dtype=np.int64)
    known = code >= 0
    transcript, start, end, code = transcript[known], start[known], end[known], code[known]
    counts += _pair_counts(code, code, len(shown))
    if not len(code):
        return counts
    order = np.lexsort((start, transcript))
    transcript, start, end, code = transcript[order], start[order], end[order], code[order]
    # Search on one number line: transcripts far apart, so no span reaches the next one.
    offset = transcript * (int(end.max()) + 1)
    line_start, line_end = offset + start, offset + end
    reach = np.searchsorted(line_start, line_end, side="left")  # later rows starting before
    later = np.maximum(reach - np.arange(len(code)) - 1, 0)
    # The candidate pairs, a block of rows at a time: all at once they take several
    # arrays of 8 bytes per pair (about 1 GB at 10,000 transcripts).
    candidates = np.cumsum(later)
    bounds = np.searchsorted(candidates, np.arange(PAIR_BLOCK, int(candidates[-1]),
                                                   PAIR_BLOCK), side="left")
    for low, high in zip([0, *bounds.tolist()], [*bounds.tolist(), len(code)], strict=True):
        if high <= low:
            continue
        block = later[low:high]
        first = np.repeat(np.arange(low, high), block)
        second = first + 1 + (np.arange(len(first))
                              - np.repeat(np.cumsum(block) - block, block))
        overlap = ((start[first] < end[second]) & (start[second] < end[first])
                   & (code[first] != code[second]))
        first, second = first[overlap], second[overlap]
        pairs = _pair_counts(code[first], code[second], len(shown))
        counts += pairs + pairs.T
    return counts


def _pair_counts(first: np.ndarray, second: np.ndarray, size: int) -> np.ndarray:
    """A size × size table counting each (first[i], second[i]) pair (``bincount``: many
    times faster than ``np.add.at``)."""
    flat = np.bincount(first * size + second, minlength=size * size)
    return flat.reshape(size, size).astype(np.int64)


def _unit_counts(corpus: Corpus, rows: pd.DataFrame, unit: str, shown: list[str]
                 ) -> np.ndarray:
    """Code × code: units (passages or transcripts) where both codes have a segment; the
    diagonal counts units per code. Every (unit, code) pair once, then each unit's codes
    paired with each other: one numpy pass, no loop over units."""
    index = {c: i for i, c in enumerate(shown)}
    number, names = _codes(rows["code"])
    code = np.array([index.get(n, -1) for n in names] + [-1], dtype=np.int64)[number]
    transcript, transcript_ids = _codes(rows["transcript"])
    known = code >= 0
    code, transcript = code[known], transcript[known]
    if unit == "transcript":
        unit_of = transcript
    else:
        start = rows["start"].to_numpy(dtype=np.int64)[known]
        end = rows["end"].to_numpy(dtype=np.int64)[known]
        by_id = {t.id: t for t in corpus.transcripts}
        rows_of, passage_of = [], []
        for number_, tid in enumerate(transcript_ids):
            mine = np.flatnonzero(transcript == number_)
            starts, ends = (np.asarray(c, dtype=np.int64)
                            for c in by_id[tid].passage_columns()[:2])
            if not len(starts):
                continue
            first, stop = _passages_overlapping(starts, ends, start[mine], end[mine])
            count = stop - first
            rows_of.append(np.repeat(mine, count))
            passage_of.append(np.repeat(first, count) + np.arange(count.sum())
                              - np.repeat(np.cumsum(count) - count, count))
        hit = np.concatenate(rows_of) if rows_of else np.zeros(0, dtype=np.int64)
        passage = np.concatenate(passage_of) if passage_of else np.zeros(0, dtype=np.int64)
        width = int(passage.max()) + 1 if len(passage) else 1
        code, unit_of = code[hit], transcript[hit] * width + passage
    size = len(shown)
    pairs = np.unique(unit_of * size + code)  # distinct (unit, code), sorted by unit
    return _pair_table(np.stack([pairs // size, pairs % size], axis=1), size)


def _pair_table(pairs: np.ndarray, size: int) -> np.ndarray:
    """Code × code from distinct (unit, code) rows sorted by unit: units where both codes
    occur; each unit's codes paired with each other, no loop over units."""
    counts = np.zeros((size, size), dtype=np.int64)
    if not len(pairs):
        return counts
    unit_of, code = pairs[:, 0], pairs[:, 1]
    block = np.diff(np.flatnonzero(np.r_[True, unit_of[1:] != unit_of[:-1], True]))
    block_start = np.repeat(np.cumsum(block) - block, block)
    per_row = np.repeat(block, block)  # each row pairs with every row of its unit
    left = np.repeat(np.arange(len(code)), per_row)
    right = np.repeat(block_start, per_row) + (np.arange(len(left))
                                               - np.repeat(np.cumsum(per_row) - per_row,
                                                           per_row))
    counts += _pair_counts(code[left], code[right], size)
    return counts


def _passages_overlapping(starts: np.ndarray, ends: np.ndarray, start: np.ndarray,
                          end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For spans ``[start, end)``: the range of passages (sorted, disjoint) that share a
    character with each, as first and stop indexes; an empty span takes the passage it
    lies in (``Transcript.passages_overlapping``)."""
    first = np.searchsorted(ends, start, side="right")
    stop = np.searchsorted(starts, end, side="left")
    empty = end <= start
    if empty.any():
        at = np.searchsorted(starts, start[empty], side="right") - 1
        inside = (at >= 0) & (start[empty] < ends[np.maximum(at, 0)])
        first[empty] = np.where(inside, at, 0)
        stop[empty] = np.where(inside, at + 1, 0)
    return first, np.maximum(stop, first)
