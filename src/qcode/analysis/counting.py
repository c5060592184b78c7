"""Counting codings: code matrices and frequencies (pandas).

Every number any output shows comes from the functions here and in ``cooccur``,
whatever the format. Definitions (also in the README, "What counts"): see
``qcode.analysis.segments`` for segments and rollup. Measures: ``segments`` (number of
segments), ``documents`` (distinct transcripts with at least one), ``documents-pct``
(documents as a percentage of the transcripts in the column), ``words`` (words inside the
segments), ``cases`` (distinct cases, such as schools, with at least ``min_documents`` of
their transcripts having one) and ``cases-pct`` (as a percentage of the column's cases).

This module is imported only by commands that count; it imports pandas at module level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from qcode.analysis.scope import (
    TRANSCRIPT,
    case_attributes,
    check_attribute,
    resolve_scope,
    scope_attrs,
)
from qcode.analysis.segments import (
    _counted_rows,
    _expand,
    _map_values,
    _span_words,
    segment_frame,
)
from qcode.analysis.tally import (
    ALL,
    CASE_MEASURES,
    TOTAL,
    column_values,
    matrix_layout,
)
from qcode.analysis.tally import MEASURES as MEASURES  # where callers have looked for it
from qcode.analysis.tally import column_key as _column_key
from qcode.store.corpus import Corpus, HasCorpus, as_corpus


def _measure(rows: pd.DataFrame, group: list[str], measure: str,
             units_per_column: dict[int, int], min_documents: int = 1) -> pd.Series:
    """One measure per group; ``column`` (an int) is the last group key. For the
    percentages ``units_per_column`` is the denominator: the column's transcripts
    (documents-pct) or cases (cases-pct, rows then carry a ``case`` number)."""
    if measure == "segments":
        return rows.groupby(group, sort=False, observed=True).size()
    if measure == "words":
        return rows.groupby(group, sort=False, observed=True)["words"].sum()
    if measure in CASE_MEASURES:
        # A case counts when at least min_documents of its transcripts have the code.
        per_case = rows.groupby([*group, "case"], sort=False, observed=True)[
            "transcript"].nunique()
        per_case = per_case[per_case >= min_documents]
        counted = (per_case.groupby(level=group, sort=False).size() if len(per_case)
                   else pd.Series(dtype="int64"))
    else:
        counted = rows.groupby(group, sort=False, observed=True)["transcript"].nunique()
    if measure in ("documents", "cases") or not len(counted):
        return counted
    totals = counted.index.get_level_values("column").map(units_per_column)
    return (counted / totals.to_numpy() * 100).round(1)


def matrix(corpus: Corpus | HasCorpus, by: str | Sequence[str], measure: str = "segments",
           rollup: bool = False, coders: Sequence[str] | None = None, all_coders: bool = False,
           where: Iterable[str] = (), codes: Iterable[str] | None = None,
           totals: bool = False, min_documents: int = 1) -> pd.DataFrame:
    """Codes × attribute value(s). Rows: every shown code in codebook order, zero rows
    included; columns: the values of ``by`` (see ``column_values``), combined values as a
    two-level column index for two attributes. ``attrs`` holds the scope, and
    ``column_n`` each column's number of transcripts (of cases for the case measures;
    ``n_label`` says which), TOTAL's included."""
    corpus = as_corpus(corpus)
    layout = matrix_layout(corpus, by, measure, coders, all_coders, where, codes,
                           min_documents)
    scope, attributes, case_of = layout.scope, layout.attributes, layout.case_of
    columns, column_of, per_column = layout.columns, layout.column_of, layout.per_column

    def prepared(rows: pd.DataFrame) -> pd.DataFrame:
        if measure == "words":
            rows = rows.assign(words=_span_words(corpus, rows))
        if case_of:
            rows = rows.assign(case=_map_values(rows["transcript"], case_of).astype(np.int64))
        return rows

    def measured(rows: pd.DataFrame, group: list[str]) -> pd.Series:
        return _measure(rows, group, measure, per_column, min_documents)

    segments = segment_frame(corpus, scope, categorical=True)
    rows = _counted_rows(corpus, scope, segments, rollup)
    rows = prepared(rows.assign(
        column=_map_values(rows["transcript"], column_of).astype(np.int64)))
    values = measured(rows, ["code", "column"])
    grid = pd.DataFrame(0.0, index=pd.Index(scope.codes), columns=range(len(columns)))
    if len(values):
        grid = values.unstack("column").reindex(index=scope.codes, columns=range(len(columns)))
    grid = grid.fillna(0)
    labels = [c[0] if len(attributes) == 1 else c for c in columns]
    if totals:
        everywhere = rows.assign(column=ALL)
        everywhere_values = measured(everywhere, ["code", "column"])
        grid[len(columns)] = ((everywhere_values.droplevel("column")
                               if len(everywhere_values) else everywhere_values)
                              .reindex(scope.codes).fillna(0))
        # The TOTAL row counts each code's own segments once ("any code" in the column).
        own = segments[segments["code"].isin(scope.codes)]
        own = prepared(own.assign(
            column=_map_values(own["transcript"], column_of).astype(np.int64)))
        by_column = measured(own, ["column"]) if len(own) else {}
        overall = measured(own.assign(column=ALL), ["column"]) if len(own) else {}
        grid.loc[TOTAL] = [by_column.get(i, 0) for i in range(len(columns))] + [
            overall.get(ALL, 0)]
        labels.append(TOTAL if len(attributes) == 1 else (TOTAL, ""))
    grid = grid.astype("float64" if measure.endswith("-pct") else "int64")
    if len(attributes) == 1:
        grid.columns = pd.Index(labels, name=attributes[0], dtype=object)
    else:
        grid.columns = pd.MultiIndex.from_tuples(labels, names=attributes)
    grid.index.name = "code"
    column_n = [per_column[i] for i in range(len(columns))] + ([per_column[ALL]]
                                                                if totals else [])
    if all(a == TRANSCRIPT for a in attributes):
        column_n = []  # a column per transcript: n would always be 1
    grid.attrs = scope_attrs(scope, measure=measure, rollup=rollup, by=attributes,
                             column_transcripts=[Counter(column_of.values())[i]
                                                 for i in range(len(columns))],
                             column_n=column_n,
                             n_label="n_cases" if case_of else "n_transcripts")
    if measure in CASE_MEASURES:
        grid.attrs.update(case=case_attributes(corpus), min_documents=min_documents)
    return grid


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
        check_attribute(corpus, by)
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
