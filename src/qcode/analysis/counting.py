"""Counting codings: matrices, frequencies, co-occurrence, retrieval (pandas).

Every number any output shows comes from the functions here, whatever the format.

Definitions (also in the README, "What counts"):

- A *segment* is one coded span of one coder. With several coders in scope, identical
  ``(transcript, start, end, code)`` spans count once. Codes are counted under their
  current id (a coding made under a former id counts for the code that lists it in
  ``aliases``).
- Measures: ``segments`` (number of segments), ``documents`` (distinct transcripts with
  at least one), ``documents-pct`` (documents as a percentage of the transcripts in the
  column), ``words`` (words inside the segments).
- ``rollup``: a parent counts the distinct spans of itself and all its descendants (a
  span coded with two children counts once for the parent). Non-codable folders are
  always rolled up.

This module is imported only by commands that count; it imports pandas at module level.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from qcode.analysis.scope import MISSING, Condition, attribute_text, transcripts_where
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.names import did_you_mean
from qcode.format.text import count_words

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript
    from qcode.project import Project

MEASURES = ("segments", "documents", "documents-pct", "words")
TOTAL = "TOTAL"
ALL = -1  # the internal column number of "all transcripts in scope"
COOCCUR_UNITS = ("segment", "passage", "transcript")



# -- scope: which coders, which transcripts, which codes -------------------------------------

@dataclass
class Scope:
    """The coders, transcripts and codes a count is made over."""

    coders: list[str]
    transcripts: list[Transcript]
    codes: list[str]  # canonical code ids shown, in codebook order
    where: list[Condition] = field(default_factory=list)


def resolve_scope(project: Project, coders: Sequence[str] | None = None,
                  all_coders: bool = False, where: Iterable[str | Condition] = (),
                  codes: Iterable[str] | None = None) -> Scope:
    """Check and resolve coder scope, ``--where`` filters and ``--codes`` (with descendants)."""
    known = project.coders
    if coders:
        for coder in coders:
            if coder not in known:
                raise UnknownName("coder", coder, did_you_mean(coder, known),
                                  hint=f"coders with a log: {', '.join(known) or 'none yet'}")
        chosen = list(dict.fromkeys(coders))
    elif all_coders or len(known) <= 1:
        chosen = list(known)
    else:
        primary = project.require_config().primary_coder
        if primary is None:
            raise UsageError(
                f"this project has {len(known)} coders ({', '.join(known)}); say whose "
                "codings to count", "add --coder NAME (repeatable) or --all-coders, or set "
                "`primary_coder:` in qcode.yaml")
        if primary not in known:
            raise QcodeError(f"primary_coder {primary!r} in qcode.yaml has no coding log",
                             f"coders with a log: {', '.join(known)}")
        chosen = [primary]
    conditions, transcripts = transcripts_where(project, where)
    codebook = project.codebook
    if codes:
        wanted: set[str] = set()
        for name in codes:
            for part in str(name).split(","):
                if part.strip():
                    wanted.update(codebook.descendants(codebook.require(part.strip()).id))
        shown = [c.id for c in codebook if c.id in wanted and c.id in codebook.parent_of]
    else:
        shown = [c.id for c in codebook if c.id in codebook.parent_of]
    return Scope(chosen, transcripts, shown, conditions)


# -- segments ---------------------------------------------------------------------------------

SEGMENT_COLUMNS = ["transcript", "start", "end", "code", "coders", "memo"]


def segment_frame(project: Project, scope: Scope, categorical: bool = False) -> pd.DataFrame:
    """Distinct segments in scope: one row per (transcript, start, end, code), in the order
    they first occur (coders in scope order, each in log order).

    ``coders`` lists who coded it (sorted, comma-separated), ``memo`` joins their memos.
    Codings that ``qcode check`` reports as broken (unknown transcript or code, a span
    outside the body) are left out. Built with numpy from the coding tables' columns,
    strings as integer codes: no Python work per coding. With ``categorical``,
    ``transcript`` and ``code`` stay pandas categoricals (of the scope's transcripts and
    the codebook's codes), which the counting groups without hashing text again.
    """
    codebook = project.codebook
    tables = [t for t in project.coding_tables(scope.coders) if len(t)]
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
    with_memo = repeated & np.not_equal(memo, None)
    for g, note in zip(group[with_memo].tolist(), memo[with_memo].tolist(), strict=True):
        known = merged_memo[g]
        if known is None:
            merged_memo[g] = note
        elif note not in known.split(" | "):
            merged_memo[g] = f"{known} | {note}"
    return first, coders, merged_memo


def _counted_rows(project: Project, scope: Scope, segments: pd.DataFrame,
                  rollup: bool, distinct: bool = True) -> pd.DataFrame:
    """The (span, code) rows each shown code counts: its own segments, or with rollup
    (always for folders) the spans of its whole subtree, each distinct span once. With
    ``distinct=False`` a span keeps one row per segment it came from (with that
    segment's ``coders``), which is what counting coders needs."""
    codebook = project.codebook
    shown = set(scope.codes)
    rolled_codes = {c for c in shown if rollup or not codebook.get(c).codable}
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


def _span_words(project: Project, frame: pd.DataFrame) -> pd.Series:
    """Words inside each row's span (counted once per distinct span)."""
    cache: dict[tuple[str, int, int], int] = {}
    bodies = {t.id: t.body for t in project.transcripts}
    values = []
    for transcript, start, end in zip(frame["transcript"].tolist(), frame["start"].tolist(),
                                      frame["end"].tolist(), strict=True):
        key = (transcript, start, end)
        if key not in cache:
            cache[key] = count_words(bodies[transcript][start:end])
        values.append(cache[key])
    return pd.Series(values, index=frame.index, dtype="int64")


# -- matrix -----------------------------------------------------------------------------------

def column_values(project: Project, scope: Scope, attribute: str) -> list[str]:
    """Declared values in declared order, then the other values found, sorted; then
    ``(missing)`` if some transcript in scope lacks the attribute."""
    declared = project.require_config().attributes.get(attribute)
    values = list(declared.values) if declared and declared.values else []
    found = {attribute_text(t.attributes[attribute]) for t in scope.transcripts
             if t.attributes.get(attribute) is not None}
    values += sorted(found - set(values), key=_natural)
    if any(t.attributes.get(attribute) is None for t in scope.transcripts):
        values.append(MISSING)
    return values


def _natural(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text))


def _column_key(transcript: Transcript, by: Sequence[str]) -> tuple[str, ...]:
    return tuple(MISSING if transcript.attributes.get(a) is None
                 else attribute_text(transcript.attributes[a]) for a in by)


def _measure(rows: pd.DataFrame, group: list[str], measure: str,
             transcripts_per_column: dict[int, int]) -> pd.Series:
    """One measure per group; ``column`` (an int) is the last group key."""
    if measure == "segments":
        return rows.groupby(group, sort=False, observed=True).size()
    if measure == "words":
        return rows.groupby(group, sort=False, observed=True)["words"].sum()
    documents = rows.groupby(group, sort=False, observed=True)["transcript"].nunique()
    if measure == "documents":
        return documents
    # documents-pct: relative to the number of transcripts in that column
    totals = documents.index.get_level_values("column").map(transcripts_per_column)
    return (documents / totals.to_numpy() * 100).round(1)


def matrix(project: Project, by: str | Sequence[str], measure: str = "segments",
           rollup: bool = False, coders: Sequence[str] | None = None, all_coders: bool = False,
           where: Iterable[str] = (), codes: Iterable[str] | None = None,
           totals: bool = False) -> pd.DataFrame:
    """Codes × attribute value(s). Rows: every shown code in codebook order, zero rows
    included; columns: the values of ``by`` (see ``column_values``), combined values as a
    two-level column index for two attributes. ``attrs`` holds the scope."""
    attributes = _by_list(by)
    if not 1 <= len(attributes) <= 2:
        raise UsageError("--by takes one attribute or two (ATTR or ATTR1,ATTR2)")
    if measure not in MEASURES:
        raise UsageError(f"unknown measure {measure!r}", f"choose one of {', '.join(MEASURES)}")
    scope = resolve_scope(project, coders, all_coders, where, codes)
    names = project.attribute_names()
    for attribute in attributes:
        if attribute not in names:
            raise UnknownName("attribute", attribute, did_you_mean(attribute, names),
                              hint=f"attributes: {', '.join(names)}")
    keys = {t.id: _column_key(t, attributes) for t in scope.transcripts}
    if len(attributes) == 1:
        columns = [(v,) for v in column_values(project, scope, attributes[0])]
    else:
        present = set(keys.values())
        orders = [column_values(project, scope, a) for a in attributes]
        columns = [(a, b) for a in orders[0] for b in orders[1] if (a, b) in present]
    # Columns are numbered internally so that tuples never meet pandas' index inference.
    number = {key: i for i, key in enumerate(columns)}
    column_of = {tid: number[key] for tid, key in keys.items()}
    per_column = Counter(column_of.values())
    per_column[ALL] = len(scope.transcripts)

    segments = segment_frame(project, scope, categorical=True)
    rows = _counted_rows(project, scope, segments, rollup)
    rows = rows.assign(column=_map_values(rows["transcript"], column_of).astype(np.int64))
    if measure == "words":
        rows = rows.assign(words=_span_words(project, rows))
    values = _measure(rows, ["code", "column"], measure, per_column)
    grid = pd.DataFrame(0.0, index=pd.Index(scope.codes), columns=range(len(columns)))
    if len(values):
        grid = values.unstack("column").reindex(index=scope.codes, columns=range(len(columns)))
    grid = grid.fillna(0)
    labels = [c[0] if len(attributes) == 1 else c for c in columns]
    if totals:
        everywhere = rows.assign(column=ALL)
        grid[len(columns)] = (_measure(everywhere, ["code", "column"], measure, per_column)
                              .droplevel("column").reindex(scope.codes).fillna(0))
        # The TOTAL row counts each code's own segments once ("any code" in the column).
        own = segments[segments["code"].isin(scope.codes)]
        own = own.assign(column=_map_values(own["transcript"], column_of).astype(np.int64))
        if measure == "words":
            own = own.assign(words=_span_words(project, own))
        by_column = _measure(own, ["column"], measure, per_column) if len(own) else {}
        overall = (_measure(own.assign(column=ALL), ["column"], measure, per_column)
                   if len(own) else {})
        grid.loc[TOTAL] = [by_column.get(i, 0) for i in range(len(columns))] + [
            overall.get(ALL, 0)]
        labels.append(TOTAL if len(attributes) == 1 else (TOTAL, ""))
    grid = grid.astype("float64" if measure == "documents-pct" else "int64")
    if len(attributes) == 1:
        grid.columns = pd.Index(labels, name=attributes[0], dtype=object)
    else:
        grid.columns = pd.MultiIndex.from_tuples(labels, names=attributes)
    grid.index.name = "code"
    grid.attrs = _attrs(scope, measure=measure, rollup=rollup, by=attributes,
                        column_transcripts=[per_column[i] for i in range(len(columns))])
    return grid


def _by_list(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        return [a.strip() for a in by.split(",") if a.strip()]
    return [a for part in by for a in _by_list(part)]


def _attrs(scope: Scope, **extra) -> dict:
    return {"coders": list(scope.coders), "transcripts": len(scope.transcripts),
            "where": [f"{c.attribute}{'!=' if c.negate else '='}{','.join(sorted(c.values))}"
                      for c in scope.where], **extra}


# -- frequencies ------------------------------------------------------------------------------

def freq(project: Project, by: str | None = None, rollup: bool = False,
         coders: Sequence[str] | None = None, all_coders: bool = False,
         where: Iterable[str] = (), codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Per code: segments, documents, coders (how many coded it); optionally per value of
    ``by``. One row per code (and value), codebook order, zero rows included. (Words are
    a measure of ``matrix``: counting them reads every coded character.)"""
    scope = resolve_scope(project, coders, all_coders, where, codes)
    codebook = project.codebook
    segments = segment_frame(project, scope, categorical=True)
    rows = _counted_rows(project, scope, segments, rollup)
    # Who coded what: every contributing segment's coders, one row per coder.
    contributions = _counted_rows(project, scope, segments, rollup, distinct=False)
    contributing, coder = _expand(contributions["coders"], lambda value: value.split(", "))
    contributions = contributions.iloc[contributing].assign(coder=coder)
    group = ["code"]
    values: list[str] = []
    if by:
        names = project.attribute_names()
        if by not in names:
            raise UnknownName("attribute", by, did_you_mean(by, names),
                              hint=f"attributes: {', '.join(names)}")
        values = column_values(project, scope, by)
        keys = {t.id: _column_key(t, [by])[0] for t in scope.transcripts}
        rows = rows.assign(value=_map_values(rows["transcript"], keys))
        contributions = contributions.assign(value=_map_values(contributions["transcript"],
                                                               keys))
        group = ["code", "value"]
    grouped = rows.groupby(group, sort=False, observed=True)
    table = pd.DataFrame({
        "segments": grouped.size(),
        "documents": grouped["transcript"].nunique(),
        "coders": contributions.groupby(group, sort=False, observed=True)["coder"].nunique(),
    })
    index = (pd.MultiIndex.from_tuples([(c, v) for c in scope.codes for v in values],
                                       names=group)
             if by else pd.Index(scope.codes, name="code"))
    table = table.reindex(index, fill_value=0).astype("int64").reset_index()
    table.insert(1, "label", table["code"].map(lambda c: codebook.get(c).label))
    table.insert(2, "parent", table["code"].map(lambda c: codebook.parent_of[c]))
    table.insert(3, "depth", table["code"].map(lambda c: codebook.depth_of[c]))
    if by:
        table = table.rename(columns={"value": by})
    table.attrs = _attrs(scope, rollup=rollup, by=[by] if by else [])
    return table


# -- co-occurrence ----------------------------------------------------------------------------

def cooccur(project: Project, unit: str = "segment", rollup: bool = False,
            coders: Sequence[str] | None = None, all_coders: bool = False,
            where: Iterable[str] = (), codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Code × code co-occurrence, symmetric; the diagonal is each code's own count.

    - ``segment``: pairs of distinct segments (one of each code) whose spans overlap;
      the diagonal counts segments.
    - ``passage``: passages where both codes have a segment overlapping the passage.
    - ``transcript``: transcripts where both codes occur.
    """
    if unit not in COOCCUR_UNITS:
        raise UsageError(f"unknown unit {unit!r}", f"choose one of {', '.join(COOCCUR_UNITS)}")
    scope = resolve_scope(project, coders, all_coders, where, codes)
    rows = _counted_rows(project, scope, segment_frame(project, scope, categorical=True),
                         rollup)
    shown = scope.codes
    if unit == "segment":
        counts = _overlap_counts(rows, shown)
    else:
        counts = _unit_counts(project, rows, unit, shown)
    grid = pd.DataFrame(counts, index=pd.Index(shown, name="code"), columns=pd.Index(shown),
                        dtype="int64")
    grid.attrs = _attrs(scope, unit=unit, rollup=rollup)
    return grid


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
    first = np.repeat(np.arange(len(code)), later)
    second = first + 1 + (np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later))
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


def _unit_counts(project: Project, rows: pd.DataFrame, unit: str, shown: list[str]
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
        by_id = {t.id: t for t in project.transcripts}
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
    pairs = np.unique(np.stack([unit_of, code], axis=1), axis=0)  # sorted by unit
    counts = np.zeros((len(shown), len(shown)), dtype=np.int64)
    if not len(pairs):
        return counts
    unit_of, code = pairs[:, 0], pairs[:, 1]
    size = np.diff(np.flatnonzero(np.r_[True, unit_of[1:] != unit_of[:-1], True]))
    block_start = np.repeat(np.cumsum(size) - size, size)
    per_row = np.repeat(size, size)  # each row pairs with every row of its unit
    left = np.repeat(np.arange(len(code)), per_row)
    right = np.repeat(block_start, per_row) + (np.arange(len(left))
                                               - np.repeat(np.cumsum(per_row) - per_row,
                                                           per_row))
    counts += _pair_counts(code[left], code[right], len(shown))
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


# -- retrieval --------------------------------------------------------------------------------

RETRIEVAL_COLUMNS = ["code", "label", "transcript", "passage", "speaker", "start", "end",
                     "text", "coders", "memo"]


def segments(project: Project, codes: Iterable[str] | None = None,
             coders: Sequence[str] | None = None, all_coders: bool = False,
             where: Iterable[str] = (), by: str | None = None) -> pd.DataFrame:
    """The coded text itself: one row per segment, with its transcript's attributes,
    passage number and speaker, coders and memo; ordered by code (codebook order), then
    by ``by``'s value, then transcript and position."""
    scope = resolve_scope(project, coders, all_coders, where, codes)
    codebook = project.codebook
    frame = segment_frame(project, scope)
    frame = frame[frame["code"].isin(scope.codes)]
    transcripts = {t.id: t for t in scope.transcripts}
    order = {c: i for i, c in enumerate(scope.codes)}
    records = []
    for row in frame.itertuples(index=False):
        t = transcripts[row.transcript]
        passage = t.passage_at(row.start) or next(
            iter(t.passages_overlapping(row.start, row.end)), None)
        records.append({
            "code": row.code, "label": codebook.get(row.code).label,
            "transcript": row.transcript,
            "passage": passage.number if passage else None,
            "speaker": passage.speaker if passage else None,
            "start": int(row.start), "end": int(row.end), "text": t.body[row.start:row.end],
            "coders": row.coders, "memo": row.memo,
            **{f"@{k}": attribute_text(v) for k, v in t.attributes.items()},
        })
    result = pd.DataFrame.from_records(records, columns=_retrieval_columns(project, records))
    result = _order_retrieval(result, order, by)
    result.attrs = _attrs(scope, by=[by] if by else [])
    return result


def _retrieval_columns(project: Project, records: list[dict]) -> list[str]:
    attributes = [f"@{a}" for a in project.attribute_names()]
    return RETRIEVAL_COLUMNS + attributes


def _order_retrieval(frame: pd.DataFrame, order: dict[str, int], by: str | None
                     ) -> pd.DataFrame:
    if not len(frame):
        return frame.rename(columns=lambda c: c[1:] if c.startswith("@") else c)
    keys = [frame["code"].map(order).rename("_order")]
    sort = ["_order"]
    if by and f"@{by}" in frame.columns:
        keys.append(frame[f"@{by}"].fillna("~").map(_natural).rename("_by"))
        sort.append("_by")
    frame = pd.concat([frame, *keys], axis=1).sort_values([*sort, "transcript", "start", "end"],
                                                       kind="stable")
    frame = frame.drop(columns=sort).reset_index(drop=True)
    return frame.rename(columns=lambda c: c[1:] if c.startswith("@") else c)


# -- query: code logic over text regions --------------------------------------------------------

Intervals = list[tuple[int, int]]  # sorted, disjoint, non-empty


def _normalise(spans: Iterable[tuple[int, int]]) -> Intervals:
    out: Intervals = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _complement(a: Intervals, universe: Intervals) -> Intervals:
    out: Intervals = []
    for us, ue in universe:
        cursor = us
        for s, e in a:
            if e <= cursor or s >= ue:
                continue
            if s > cursor:
                out.append((cursor, s))
            cursor = max(cursor, e)
        if cursor < ue:
            out.append((cursor, ue))
    return out


@dataclass
class _Node:
    op: str  # code | and | or | not | near
    args: list = field(default_factory=list)
    value: object = None


_TOKEN_RE = re.compile(r"\s*(?:(?P<num>\d+)(?![a-z_-])|(?P<name>[a-z0-9][a-z0-9_-]*)"
                       r"|(?P<sym>[&|!(),]))")


class QueryError(UsageError):
    pass


def parse_query(expression: str) -> _Node:
    """``a & b``, ``a | b``, ``!a``, ``near(a, b, N)``, parentheses; ``!`` binds
    tightest, then ``&``, then ``|``."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot read the query at column {pos + 1}: {text[pos:pos + 10]!r}",
                             "use code ids with & | ! ( ) and near(a, b, N)")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    stream = _Tokens(tokens, text)
    node = stream.parse_or()
    if stream.peek() is not None:
        raise QueryError(f"unexpected {stream.peek()[1]!r} at column {stream.peek()[2]}",
                         "check the parentheses and operators")
    return node


class _Tokens:
    def __init__(self, tokens, text):
        self.tokens, self.i, self.text = tokens, 0, text

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None):
        token = self.peek()
        if token is None:
            raise QueryError(f"the query ends too early: {self.text!r}",
                             "finish the expression")
        if value is not None and token[1] != value:
            raise QueryError(f"expected {value!r} at column {token[2]}, found {token[1]!r}")
        self.i += 1
        return token

    def parse_or(self):
        node = self.parse_and()
        while self.peek() and self.peek()[1] == "|":
            self.take()
            node = _Node("or", [node, self.parse_and()])
        return node

    def parse_and(self):
        node = self.parse_not()
        while self.peek() and self.peek()[1] == "&":
            self.take()
            node = _Node("and", [node, self.parse_not()])
        return node

    def parse_not(self):
        if self.peek() and self.peek()[1] == "!":
            self.take()
            return _Node("not", [self.parse_not()])
        return self.parse_atom()

    def parse_atom(self):
        kind, value, column = self.take()
        if value == "(":
            node = self.parse_or()
            self.take(")")
            return node
        if kind == "name" and value == "near" and self.peek() and self.peek()[1] == "(":
            self.take("(")
            a = self.parse_or()
            self.take(",")
            b = self.parse_or()
            self.take(",")
            kind_n, n, col = self.take()
            if kind_n != "num":
                raise QueryError(f"near() needs a number of passages at column {col}")
            self.take(")")
            return _Node("near", [a, b], int(n))
        if kind == "name":
            return _Node("code", value=value)
        raise QueryError(f"unexpected {value!r} at column {column}",
                         "a code id, ( or ! is expected here")


def query(project: Project, expression: str, coders: Sequence[str] | None = None,
          all_coders: bool = False, where: Iterable[str] = ()) -> pd.DataFrame:
    """Passages matching a code expression, evaluated on text regions per transcript:
    a code is the text its segments cover (descendants included); ``&`` intersects, ``|``
    unites, ``!`` is the rest of the passages' text, and ``near(a, b, N)`` keeps the text of
    ``a`` and of ``b`` where the other occurs within N passages. One row per passage that
    overlaps the result, with the matched spans."""
    tree = parse_query(expression)
    scope = resolve_scope(project, coders, all_coders, where)
    codebook = project.codebook
    names: set[str] = set()
    _collect(tree, names)
    resolved = {n: codebook.descendants(codebook.require(n).id) for n in names}
    frame = segment_frame(project, scope)
    by_code: dict[tuple[str, str], list] = defaultdict(list)
    for t, s, e, c in frame[["transcript", "start", "end", "code"]].itertuples(index=False):
        by_code[(t, c)].append((s, e))
    records = []
    for transcript in scope.transcripts:
        universe = [(p.start, p.end) for p in transcript.passages]

        def regions(code_name: str, tid=transcript.id) -> Intervals:
            return _normalise(span for c in resolved[code_name] for span in by_code[(tid, c)])

        result = _evaluate(tree, regions, universe, transcript)
        for passage in transcript.passages:
            hits = _intersect(result, [(passage.start, passage.end)])
            if not hits:
                continue
            records.append({
                "transcript": transcript.id, "passage": passage.number,
                "speaker": passage.speaker, "start": passage.start, "end": passage.end,
                "text": transcript.body[passage.start:passage.end],
                "matches": "; ".join(f"{s}:{e}" for s, e in hits),
                **{a: attribute_text(v) for a, v in transcript.attributes.items()},
            })
    columns = ["transcript", "passage", "speaker", "start", "end", "text", "matches",
               *project.attribute_names()]
    result_frame = pd.DataFrame.from_records(records, columns=columns)
    result_frame.attrs = _attrs(scope, query=expression)
    return result_frame


def _collect(node: _Node, names: set[str]) -> None:
    if node.op == "code":
        names.add(node.value)
    for arg in node.args:
        _collect(arg, names)


def _evaluate(node: _Node, regions, universe: Intervals, transcript: Transcript) -> Intervals:
    if node.op == "code":
        return regions(node.value)
    if node.op == "and":
        return _intersect(*(_evaluate(a, regions, universe, transcript) for a in node.args))
    if node.op == "or":
        left, right = (_evaluate(a, regions, universe, transcript) for a in node.args)
        return _normalise(left + right)
    if node.op == "not":
        return _complement(_evaluate(node.args[0], regions, universe, transcript), universe)
    left, right = (_evaluate(a, regions, universe, transcript) for a in node.args)
    distance = int(node.value)

    def passage_numbers(spans: Intervals) -> list[int]:
        return sorted({p.number for s, e in spans
                       for p in transcript.passages_overlapping(s, e)})

    def near(spans: Intervals, others: list[int]) -> Intervals:
        kept = []
        for s, e in spans:
            numbers = [p.number for p in transcript.passages_overlapping(s, e)]
            if any(_within(others, n, distance) for n in numbers):
                kept.append((s, e))
        return kept

    left_numbers, right_numbers = passage_numbers(left), passage_numbers(right)
    if not left_numbers or not right_numbers:
        return []
    return _normalise(near(left, right_numbers) + near(right, left_numbers))


def _within(sorted_numbers: list[int], n: int, distance: int) -> bool:
    i = bisect.bisect_left(sorted_numbers, n - distance)
    return i < len(sorted_numbers) and sorted_numbers[i] <= n + distance
