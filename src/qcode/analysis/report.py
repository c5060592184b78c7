"""``qcode report``: the model of one report, its sections and their numbers.

Plain dataclasses, computed by the same functions as ``matrix``, ``freq``, ``cooccur``,
``saturation``, ``segments``, ``framework`` and ``agree --ci 95`` (so every number equals
theirs), and laid out by a renderer (``qcode.render.report_html``, ``report_docx``).
Nothing here knows HTML: values stay ids and numbers, labels are made by the renderer.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode import progress
from qcode._bulk import bulk_load
from qcode._version import __version__
from qcode.analysis import bootstrap, counting, reliability, retrieval, saturation
from qcode.analysis import cooccur as cooccur_module
from qcode.analysis import framework as framework_module
from qcode.analysis.scope import (
    MISSING,
    attribute_text,
    attribute_value,
    check_attribute,
    resolve_scope,
)
from qcode.errors import QcodeError
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.analysis.framework import FrameworkMatrix
    from qcode.analysis.retrieval import Changed
    from qcode.format.codebook import Codebook
    from qcode.format.memos import Memo

# The default --by: every declared attribute with fewer values than this in scope (more,
# such as an interview date, makes a matrix of one transcript per column).
MAX_DEFAULT_VALUES = 15
TOP_PAIRS = 15  # co-occurrence: the pairs shown, most frequent first


@dataclass
class ReportOptions:
    """What the report covers: the options of ``qcode report``."""

    by: list[str] = field(default_factory=list)  # empty: the default attributes
    measure: str = "segments"
    rollup: bool = False
    coders: list[str] | None = None
    all_coders: bool = False
    where: list[str] = field(default_factory=list)
    codes: list[str] | None = None
    quotes: int = 3
    title: str | None = None
    transcripts: bool = False  # the appendix of full transcripts, quotes linked to it
    command: str = "qcode report"
    date: str = ""


@dataclass
class AttributeCount:
    """How many transcripts in scope have each value of one attribute."""

    attribute: str
    values: list[tuple[str, int]]


@dataclass
class Cover:
    title: str
    project: str
    codebook_name: str
    codebook_version: str
    coders: list[str]
    coders_rule: str        # which codings count: one coder's, several, or the union
    transcripts: int
    where: list[str]
    attributes: list[AttributeCount]
    date: str
    command: str
    version: str


@dataclass
class CodebookEntry:
    id: str
    label: str
    depth: int
    parent: str | None
    codable: bool
    has_children: bool
    description: str
    include: str | None
    exclude: str | None
    examples: list[str]
    segments: int           # its own coded segments in scope (``freq``)
    documents: int          # transcripts with one


@dataclass
class MatrixRow:
    code: str
    label: str
    depth: int
    is_parent: bool         # has sub-codes in the table
    is_sum: bool            # counts its sub-codes' segments too (rollup, or a group folder)
    values: list[float]


@dataclass
class MatrixSection:
    """One ``matrix --by ATTR`` with the report's measure: rows in codebook order."""

    by: list[str]
    measure: str
    rollup: bool
    columns: list[tuple[str, ...]]   # each column's value(s)
    column_n: list[int]              # each column's transcripts (cases for case measures)
    n_label: str
    rows: list[MatrixRow]
    peak: float                      # the largest leaf cell: the top of the shading scale

    @property
    def percent(self) -> bool:
        return self.measure.endswith("-pct")


@dataclass
class Pair:
    code: str
    label: str
    other: str
    other_label: str
    count: int


@dataclass
class CooccurSection:
    unit: str
    pairs: list[Pair]        # the most frequent, off the diagonal, each pair once
    pairs_total: int         # pairs with a count above 0


@dataclass
class SaturationSection:
    order: str
    rows: list[dict[str, Any]]   # position, transcript, codings, new, cumulative, share, new_codes
    codes: int
    transcripts: int
    last_new: str | None
    last_new_position: int | None


@dataclass
class Quote:
    text: str
    transcript: str
    passage: int
    speaker: str | None
    value: str | None        # the first --by attribute's value
    text_changed: bool
    coders: str | None = None    # ``segments -f html`` says who coded it, and their memo
    memo: str | None = None


@dataclass
class CodeQuotes:
    code: str
    label: str
    segments: int            # all its segments in scope; ``quotes`` are some of them
    quotes: list[Quote]


@dataclass
class AgreementSection:
    coders: list[str]
    unit: str
    units: int
    transcripts: int
    header: list[str]
    rows: list[list[Any]]    # as ``qcode agree -f json``'s codes and overall
    statistics: dict[str, str]
    left_out: list[str]      # transcripts not coded by every coder
    note: str | None = None  # why there is no table (no transcript coded by all)
    # per row, as ``agree --ci 95``: {"kappa"|"alpha": (low, high) or None (undefined)}
    intervals: list[dict[str, tuple[float, float] | None]] = field(default_factory=list)
    bootstrap: dict[str, Any] = field(default_factory=dict)  # level, resamples, seed


@dataclass
class AppendixPassage:
    number: int
    speaker: str | None
    text: str


@dataclass
class AppendixTranscript:
    """One transcript in full, for the appendix the quotes link to."""

    id: str
    passages: list[AppendixPassage]


@dataclass
class MemoEntry:
    about: str
    author: str | None
    updated: str | None
    text: str
    file: str


@dataclass
class MethodNotes:
    segmentation: str
    interviewers: list[str]
    counts: list[str]        # what each number means, one sentence each
    version: str


@dataclass
class Report:
    cover: Cover
    codebook: list[CodebookEntry]
    matrices: list[MatrixSection]
    cooccurrence: CooccurSection
    saturation: SaturationSection | None
    quotes_by: str | None
    quotes: list[CodeQuotes]    # empty when ``quotes_per_code`` is 0
    quotes_per_code: int
    agreement: AgreementSection | None
    memos: list[MemoEntry]
    method: MethodNotes
    notes: list[str] = field(default_factory=list)  # what a reader must know (stderr too)
    # ``qcode framework --rows <first --by> --codes <families>``; None without a --by
    framework: FrameworkMatrix | None = None
    transcripts: list[AppendixTranscript] = field(default_factory=list)  # --transcripts


def build_report(source: Corpus | HasCorpus, options: ReportOptions,
                 changed: Changed | None = None, memos: Sequence[Memo] = ()) -> Report:
    """The whole report. ``changed``: coded spans whose text changed (``Project.assess``),
    marked on their quotes; ``memos``: the project's memo files."""
    # Every section counts or lists the whole project: millions of small objects at
    # 10,000 transcripts, few of them in cycles. With the collector running, each of its
    # full passes walked the project loaded before (a third of the time at 1,000
    # transcripts, and more the larger the project); what cycles there are (a few pandas
    # objects) are freed when it resumes.
    with bulk_load():
        return _build_report(as_corpus(source), options, changed, memos)


def _build_report(corpus: Corpus, options: ReportOptions, changed: Changed | None,
                  memos: Sequence[Memo]) -> Report:
    scope = resolve_scope(corpus, options.coders, options.all_coders, options.where,
                          options.codes)
    by = options.by or default_by(corpus, options)
    for attribute in _attributes(by):
        check_attribute(corpus, attribute)  # an unknown name refused with a did-you-mean
    first = _attributes(by[:1])[0] if by else None
    common = (options.coders, options.all_coders, options.where, options.codes)
    notes: list[str] = []
    # Sections, not a loop: one step each (counts, matrices, quotes, agreement, framework).
    stage = progress.current().start("building the report sections", 5)
    counts = counting.freq(corpus, None, False, *common)
    matrices = [matrix_section(corpus, attribute, options) for attribute in by]
    stage.step()
    try:
        curve: SaturationSection | None = saturation_section(
            saturation.saturation(corpus, "coding", options.coders, options.all_coders,
                                  options.where))
    except QcodeError as error:  # the report goes on without the one section
        curve = None
        notes.append(f"no saturation table: {error.message}")
    report = Report(
        cover=_cover(corpus, options, list(scope.coders), len(scope.transcripts), by),
        codebook=_codebook_entries(corpus, counts),
        matrices=matrices,
        cooccurrence=cooccur_section(cooccur_module.cooccur(
            corpus, "segment", False, *common), corpus.codebook),
        saturation=curve,
        quotes_by=first,
        quotes=quote_sections(retrieval.retrieve(corpus, options.codes, options.coders,
                                                 options.all_coders, options.where, first,
                                                 changed, texts=False),
                              options.quotes, first),
        quotes_per_code=options.quotes,
        agreement=None,
        memos=[MemoEntry(str(m.about), m.author, m.updated or m.created, m.text, m.file)
               for m in memos],
        method=_method(corpus, options),
        notes=notes,
    )
    stage.step()
    if len(scope.coders) > 1:
        report.agreement = agreement_section(corpus, list(scope.coders), options)
    stage.step()
    if first and options.quotes > 0:
        try:
            report.framework = framework_module.framework(
                corpus, first, options.codes or framework_themes(corpus, scope.codes),
                options.coders, options.all_coders, options.where, options.quotes,
                "longest", changed)
        except QcodeError as error:
            notes.append(f"no framework matrix: {error.message}")
    stage.step()
    if options.transcripts:
        report.transcripts = [appendix_transcript(t) for t in scope.transcripts]
    stage.step()
    stage.close()
    return report


def framework_themes(corpus: Corpus, codes: Sequence[str]) -> list[str]:
    """The top-level families of ``codes`` in codebook order (``framework`` makes each
    family's children its themes)."""
    codebook = corpus.codebook
    roots = set()
    for code in codes:
        ancestors = codebook.ancestors(code)
        roots.add(ancestors[-1] if ancestors else code)
    return [c.id for c in codebook.roots if c.id in roots]


def appendix_transcript(transcript: Any) -> AppendixTranscript:
    body = transcript.body
    return AppendixTranscript(transcript.id, [
        AppendixPassage(p.number, p.speaker, body[p.start:p.end])
        for p in transcript.passages])


def default_by(corpus: Corpus, options: ReportOptions) -> list[str]:
    """Every declared attribute with fewer than ``MAX_DEFAULT_VALUES`` values in scope."""
    scope = resolve_scope(corpus, options.coders, options.all_coders, options.where,
                          options.codes)
    return [name for name in corpus.config.attributes
            if len(counting.column_values(corpus, scope, name)) < MAX_DEFAULT_VALUES]


def _attributes(by: Sequence[str]) -> list[str]:
    """The attribute names of ``--by`` values, ``school,informant_group`` being two."""
    return [name.strip() for entry in by for name in entry.split(",") if name.strip()]


def _cover(corpus: Corpus, options: ReportOptions, coders: list[str], transcripts: int,
           by: list[str]) -> Cover:
    scope = resolve_scope(corpus, options.coders, options.all_coders, options.where,
                          options.codes)
    attributes = []
    for name in dict.fromkeys([*_attributes(by), *default_by(corpus, options)]):
        if name == counting.TRANSCRIPT:
            continue
        values = counting.column_values(corpus, scope, name)
        per_value = {v: 0 for v in values}
        for transcript in scope.transcripts:
            value = attribute_value(transcript, name)
            key = MISSING if value is None else attribute_text(value)
            per_value[key] = per_value.get(key, 0) + 1
        attributes.append(AttributeCount(name, list(per_value.items())))
    if options.all_coders:
        rule = "the union of all coders' codings (identical spans count once)"
    elif len(coders) > 1:
        rule = "the union of these coders' codings (identical spans count once)"
    else:
        rule = "this coder's codings"
    codebook = corpus.codebook
    return Cover(
        title=options.title or f"{corpus.name}: coding report",
        project=corpus.name, codebook_name=codebook.name, codebook_version=codebook.version,
        coders=coders, coders_rule=rule, transcripts=transcripts, where=list(options.where),
        attributes=attributes, date=options.date, command=options.command,
        version=__version__)


def _codebook_entries(corpus: Corpus, counts: pd.DataFrame) -> list[CodebookEntry]:
    codebook = corpus.codebook
    shown = set(counts["code"])
    entries = []
    for row in counts.to_dict(orient="records"):
        code = codebook.require(row["code"])
        entries.append(CodebookEntry(
            id=code.id, label=code.label, depth=codebook.depth_of[code.id],
            parent=codebook.parent_of.get(code.id), codable=code.codable,
            has_children=any(c in shown for c in codebook.children(code.id)),
            description=code.description, include=code.include, exclude=code.exclude,
            examples=list(code.examples), segments=int(row["segments"]),
            documents=int(row["documents"])))
    return entries


def matrix_section(corpus: Corpus, attribute: str, options: ReportOptions) -> MatrixSection:
    """``qcode matrix --by ATTR`` with the report's measure, scope and rollup."""
    grid = counting.matrix(corpus, attribute, options.measure, options.rollup,
                           options.coders, options.all_coders, options.where, options.codes)
    return grid_section(grid, corpus.codebook, options.measure, options.rollup)


def grid_section(grid: pd.DataFrame, codebook: Codebook, measure: str,
                 rollup: bool) -> MatrixSection:
    """A ``counting.matrix`` grid as the report's matrix section: the one model that
    ``qcode report`` and ``matrix -f html`` render. A row outside the codebook (the
    ``--totals`` row) is a sum."""
    index = [str(code) for code in grid.index]
    shown = set(index)
    rows = []
    for code, values in zip(index, grid.to_numpy().tolist(), strict=True):
        known = codebook.get(code)
        parent = known is not None and any(c in shown for c in codebook.children(code))
        rows.append(MatrixRow(
            code=code, label=known.label if known else code,
            depth=codebook.depth_of[code] if known else 0, is_parent=parent or known is None,
            # a group folder (not codable) always counts its sub-codes (``segments``)
            is_sum=known is None or (parent and (rollup or not known.codable)),
            values=[_plain(v) for v in values]))
    # A sum is left out of the scale's top so that it does not make every leaf look pale.
    columns = [c if isinstance(c, tuple) else (str(c),) for c in grid.columns]
    # so is the --totals column
    leaves = [v for row in rows if not row.is_sum
              for column, v in zip(columns, row.values, strict=True)
              if column[0] != counting.TOTAL]
    return MatrixSection(
        by=list(grid.attrs["by"]), measure=measure, rollup=rollup,
        columns=[tuple(str(p) for p in c) for c in columns],
        column_n=[int(n) for n in grid.attrs.get("column_n") or []],
        n_label=grid.attrs.get("n_label", "n_transcripts"), rows=rows,
        peak=max(leaves, default=0.0))


def _plain(value: Any) -> float:
    value = value.item() if hasattr(value, "item") else value
    return int(value) if float(value).is_integer() else float(value)


def cooccur_section(grid: pd.DataFrame, codebook: Codebook, top: int = TOP_PAIRS
                    ) -> CooccurSection:
    """The pairs of different codes with the most co-occurrences, each pair once."""
    codes = [str(c) for c in grid.index]
    values = grid.to_numpy().tolist()
    labels = {c: codebook.require(c).label for c in codes}
    pairs = [(int(values[i][j]), i, j) for i, j in itertools.combinations(range(len(codes)), 2)
             if values[i][j]]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return CooccurSection(
        unit=str(grid.attrs.get("unit", "segment")),
        pairs=[Pair(codes[i], labels.get(codes[i], codes[i]), codes[j],
                    labels.get(codes[j], codes[j]), n) for n, i, j in pairs[:top]],
        pairs_total=len(pairs))


def saturation_section(frame: pd.DataFrame) -> SaturationSection:
    attrs = frame.attrs
    keep = ["position", "transcript", "codings", "new", "cumulative", "share", "new_codes"]
    rows = [{k: _cell(row[k]) for k in keep} for row in frame.to_dict(orient="records")]
    return SaturationSection(order=str(attrs["order"]), rows=rows, codes=int(attrs["codes"]),
                             transcripts=int(attrs["transcripts"]),
                             last_new=attrs["last_new"],
                             last_new_position=attrs["last_new_position"])


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    return value.item() if hasattr(value, "item") else value


def quote_sections(retrieved: retrieval.Retrieved, per_code: int, by: str | None,
                   detail: bool = False) -> list[CodeQuotes]:
    """Up to ``per_code`` quotes of each code, taken in turn from each value of ``by`` (in
    the matrix's column order), so that the groups are all heard before any twice.
    ``detail``: each quote's coders and memo too (``segments``/``query -f html``)."""
    out: list[CodeQuotes] = []
    if not len(retrieved) or per_code <= 0:
        return out
    index = {name: at for at, name in enumerate(retrieved.columns)}
    code_at, label_at = index["code"], index["label"]
    by_at = index.get(by) if by else None

    def cell(row: list[Any], name: str) -> Any:  # query's passages have no coders column
        return row[index[name]] if name in index else None

    groups: dict[tuple[str, str], list[list[Any]]] = {}
    for row in retrieved.rows:  # the rows come ordered by code
        groups.setdefault((row[code_at], row[label_at]), []).append(row)
    for (code, label), group in groups.items():
        # Only the chosen rows are made quotes (and have their text read): a code of a
        # large project has hundreds of thousands of segments.
        if by_at is not None:
            buckets: dict[str, list[int]] = {}
            for position, row in enumerate(group):
                value = row[by_at]
                key = MISSING if value is None else str(value)
                buckets.setdefault(key, []).append(position)
            turns = itertools.chain.from_iterable(itertools.zip_longest(*buckets.values()))
            rank = {position: i for i, positions in enumerate(buckets.values())
                    for position in positions[:per_code]}
            positions = sorted([p for p in turns if p is not None][:per_code],
                               key=lambda p: rank[p])
        else:
            positions = list(range(min(per_code, len(group))))
        chosen = [group[p] for p in positions]
        out.append(CodeQuotes(str(code), str(label), len(group), [
            Quote(text=retrieved.text(row), transcript=str(cell(row, "transcript")),
                  passage=int(cell(row, "passage")), speaker=cell(row, "speaker") or None,
                  value=None if not by else _value(row, by_at),
                  text_changed=bool(cell(row, "text_changed")),
                  coders=_present(cell(row, "coders")) if detail else None,
                  memo=_present(cell(row, "memo")) if detail else None)
            for row in chosen]))
    return out


def _present(value: Any) -> str | None:
    return None if value is None or value != value or value == "" else str(value)


def _value(row: list[Any], at: int | None) -> str:
    value = None if at is None else row[at]
    return MISSING if value is None else str(value)


def agreement_section(corpus: Corpus, coders: list[str], options: ReportOptions
                      ) -> AgreementSection:
    """``qcode agree`` of the coders in scope on passages; a note instead of the table
    when no transcript was coded by all of them."""
    try:
        report = reliability.agreement_report(corpus, coders, "passage", options.codes,
                                              options.where)
    except QcodeError as error:
        return AgreementSection(coders, "passage", 0, 0, [], [], {}, [], note=error.message)
    data = report.to_dict()
    table = report.table  # before the intervals: they have columns of their own here
    # the same call as ``qcode agree --ci 95`` (its default resamples and seed)
    bootstrap.add_intervals(report, 0.95, bootstrap.DEFAULT_RESAMPLES,
                            bootstrap.DEFAULT_SEED)
    intervals = []
    for row in report.rows:
        found = report.intervals[row.code]
        intervals.append({short: _interval(found[name]) for short, name in
                          (("kappa", report.kappa_name), ("alpha", "krippendorff_alpha"))})
    if not table["reason"].notna().any():
        table = table.drop(columns=["reason"])
    header = [str(c) for c in table.columns]
    rows = [[reliability.plain_value(v) for v in row]
            for row in table.itertuples(index=False, name=None)]
    return AgreementSection(
        coders=coders, unit=report.unit, units=report.units,
        transcripts=len(report.scope.transcripts), header=header, rows=rows,
        statistics={"unit": data["unit_definition"], **data["statistics"]},
        left_out=sorted(report.scope.left_out), intervals=intervals,
        bootstrap=dict(report.bootstrap))


def _interval(found: dict[str, Any]) -> tuple[float, float] | None:
    if found["ci_low"] is None or found["ci_high"] is None:
        return None
    return (found["ci_low"], found["ci_high"])


def _method(corpus: Corpus, options: ReportOptions) -> MethodNotes:
    config = corpus.config
    measure = {
        "segments": "a cell counts coded segments (spans of text with the code)",
        "documents": "a cell counts transcripts with at least one segment of the code",
        "documents-pct": "a cell is the percentage of the column's transcripts with the code",
        "words": "a cell counts the words inside the code's segments",
        "cases": "a cell counts cases with at least one transcript with the code",
        "cases-pct": "a cell is the percentage of the column's cases with the code",
    }[options.measure]
    counts = [
        f"Matrices: {measure}; n under each column is its number of "
        f"{'cases' if options.measure.startswith('cases') else 'transcripts'}.",
        ("Rows marked Σ are sums: they count their own and all sub-codes' segments, each "
         "span once; do not add them to their sub-codes. "
         + ("Every parent code is such a sum (rollup)." if options.rollup else
            "Group folders (codes not coded themselves) are sums; a codable parent counts "
            "only the segments coded with it (no rollup).")),
        "Codebook counts: each code's own segments and the transcripts with one.",
        "Co-occurrence: two codes co-occur when their segments overlap (unit: segment).",
        "Saturation: the distinct codes used so far, transcripts in the order they were "
        "first coded.",
        "Agreement (when several coders are in scope): on passages, only transcripts "
        "coded by every coder; interviewer turns left out; the intervals are 95 % "
        "percentile intervals from resampling the transcripts (as agree --ci 95).",
        "Framework matrix: each cell the longest quotes of a theme in one row's "
        "transcripts, as qcode framework --pick longest.",
    ]
    return MethodNotes(segmentation=config.segmentation,
                       interviewers=list(config.interviewer), counts=counts,
                       version=__version__)
