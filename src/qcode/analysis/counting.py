"""Counting codings: code matrices and frequencies (pandas).

Every number any output shows comes from the functions here and in ``cooccur``,
whatever the format. Definitions (also in the README, "What counts"): see
``qcode.analysis.segments`` for segments and rollup. Measures: ``segments`` (number of
segments), ``documents`` (distinct transcripts with at least one), ``documents-pct``
(documents as a percentage of the transcripts in the column), ``words`` (words inside the
segments).

This module is imported only by commands that count; it imports pandas at module level.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from qcode.analysis.scope import MISSING, Scope, attribute_text, resolve_scope, scope_attrs
from qcode.analysis.segments import (
    _counted_rows,
    _expand,
    _map_values,
    _span_words,
    segment_frame,
)
from qcode.errors import UnknownName, UsageError
from qcode.format.names import did_you_mean
from qcode.format.transcripts import Transcript
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

MEASURES = ("segments", "documents", "documents-pct", "words")
TOTAL = "TOTAL"
ALL = -1  # the internal column number of "all transcripts in scope"


def column_values(corpus: Corpus, scope: Scope, attribute: str) -> list[str]:
    """Declared values in declared order, then the other values found, sorted; then
    ``(missing)`` if some transcript in scope lacks the attribute."""
    declared = corpus.config.attributes.get(attribute)
    values = list(declared.values) if declared and declared.values else []
    found = {attribute_text(t.attributes[attribute]) for t in scope.transcripts
             if t.attributes.get(attribute) is not None}
    values += sorted(found - set(values), key=_natural)
    if any(t.attributes.get(attribute) is None for t in scope.transcripts):
        values.append(MISSING)
    return values


def _natural(text: str) -> tuple:
    return tuple(int(p) if p.isdecimal() else p.lower() for p in re.split(r"(\d+)", text))


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


def matrix(corpus: Corpus | HasCorpus, by: str | Sequence[str], measure: str = "segments",
           rollup: bool = False, coders: Sequence[str] | None = None, all_coders: bool = False,
           where: Iterable[str] = (), codes: Iterable[str] | None = None,
           totals: bool = False) -> pd.DataFrame:
    """Codes × attribute value(s). Rows: every shown code in codebook order, zero rows
    included; columns: the values of ``by`` (see ``column_values``), combined values as a
    two-level column index for two attributes. ``attrs`` holds the scope."""
    corpus = as_corpus(corpus)
    attributes = _by_list(by)
    if not 1 <= len(attributes) <= 2:
        raise UsageError("--by takes one attribute or two (ATTR or ATTR1,ATTR2)")
    if measure not in MEASURES:
        raise UsageError(f"unknown measure {measure!r}", f"choose one of {', '.join(MEASURES)}")
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    names = corpus.attribute_names()
    for attribute in attributes:
        if attribute not in names:
            raise UnknownName("attribute", attribute, did_you_mean(attribute, names),
                              hint=f"attributes: {', '.join(names)}")
    keys = {t.id: _column_key(t, attributes) for t in scope.transcripts}
    columns: list[tuple[str, ...]]
    if len(attributes) == 1:
        columns = [(v,) for v in column_values(corpus, scope, attributes[0])]
    else:
        present = set(keys.values())
        orders = [column_values(corpus, scope, a) for a in attributes]
        columns = [(a, b) for a in orders[0] for b in orders[1] if (a, b) in present]
    # Columns are numbered internally so that tuples never meet pandas' index inference.
    number = {key: i for i, key in enumerate(columns)}
    column_of = {tid: number[key] for tid, key in keys.items()}
    per_column = Counter(column_of.values())
    per_column[ALL] = len(scope.transcripts)

    segments = segment_frame(corpus, scope, categorical=True)
    rows = _counted_rows(corpus, scope, segments, rollup)
    rows = rows.assign(column=_map_values(rows["transcript"], column_of).astype(np.int64))
    if measure == "words":
        rows = rows.assign(words=_span_words(corpus, rows))
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
            own = own.assign(words=_span_words(corpus, own))
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
    grid.attrs = scope_attrs(scope, measure=measure, rollup=rollup, by=attributes,
                        column_transcripts=[per_column[i] for i in range(len(columns))])
    return grid


def _by_list(by: str | Sequence[str]) -> list[str]:
    if isinstance(by, str):
        return [a.strip() for a in by.split(",") if a.strip()]
    return [a for part in by for a in _by_list(part)]


def freq(corpus: Corpus | HasCorpus, by: str | None = None, rollup: bool = False,
         coders: Sequence[str] | None = None, all_coders: bool = False,
         where: Iterable[str] = (), codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Per code: segments, documents, coders (how many coded it); optionally per value of
    ``by``. One row per code (and value), codebook order, zero rows included. (Words are
    a measure of ``matrix``: counting them reads every coded character.)"""
    corpus = as_corpus(corpus)
    scope = resolve_scope(corpus, coders, all_coders, where, codes)
    codebook = corpus.codebook
    segments = segment_frame(corpus, scope, categorical=True)
    rows = _counted_rows(corpus, scope, segments, rollup)
    # Who coded what: every contributing segment's coders, one row per coder.
    contributions = _counted_rows(corpus, scope, segments, rollup, distinct=False)
    contributing, coder = _expand(contributions["coders"], lambda value: value.split(", "))
    contributions = contributions.iloc[contributing].assign(coder=coder)
    group = ["code"]
    values: list[str] = []
    if by:
        names = corpus.attribute_names()
        if by not in names:
            raise UnknownName("attribute", by, did_you_mean(by, names),
                              hint=f"attributes: {', '.join(names)}")
        values = column_values(corpus, scope, by)
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
    table.insert(1, "label", table["code"].map(lambda c: codebook.require(c).label))
    table.insert(2, "parent", table["code"].map(lambda c: codebook.parent_of[c]))
    table.insert(3, "depth", table["code"].map(lambda c: codebook.depth_of[c]))
    if by:
        table = table.rename(columns={"value": by})
    table.attrs = scope_attrs(scope, rollup=rollup, by=[by] if by else [])
    return table
