"""Intercoder agreement on a project: which units, which codes, which transcripts.

The statistics live in ``qcode.agreement``; this module decides what is compared:

- **Scope.** Two or more coders. Only transcripts that *every* coder in scope has coded
  (at least one current coding) count; the others are listed as left out, with the
  coders who did not code them. ``--where`` filters transcripts by attribute,
  ``--codes`` keeps codes and their descendants; grouping folders (``codable: false``)
  are never compared. A coding made under a former id counts for its code.
- **Unit ``passage``** (default). For each code, every passage of a counted transcript
  is a unit, and each coder's value is 1 if any of that coder's segments with the code
  overlaps the passage, else 0. So every coder has a value for every unit.
- **Unit ``character``.** The same on the characters of the transcript bodies (every
  code point, as NVivo counts characters of a source): a character is 1 for a coder if
  one of their segments with the code covers it.
- **Overall** pools all compared codes: its units are (passage, code) or (character,
  code) pairs, and its counts are the sums of the codes' counts.
- **Family** (``family_agreement``): the children of a parent code are mutually exclusive
  categories; a passage's value for a coder is the child they applied (codings of a
  child's descendants count as the child), missing if none, and a *conflict* (listed,
  and treated as missing) if several. Krippendorff's alpha (nominal) over the coders.

Results are plain dataclasses holding pandas DataFrames; ``to_dict()`` gives the JSON
the command line prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from qcode._bulk import bulk_load
from qcode.analysis import agreement
from qcode.analysis.units import (
    DISAGREEMENT_KINDS,
    coverage,
    disagreement_kind,
    excluded_speakers,
)
from qcode.errors import QcodeError, UsageError
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Passage, Transcript

UNITS = ("passage", "character")
OVERALL = "ALL"

Span = tuple[int, int]

UNIT_TEXT = {
    "passage": ("each passage of a counted transcript, once per code; a coder's value is 1 "
                "if any of their segments with the code overlaps the passage, else 0"),
    "character": ("each character of a counted transcript's body, once per code; a coder's "
                  "value is 1 if one of their segments with the code covers it, else 0"),
}


# -- scope ------------------------------------------------------------------------------------

@dataclass
class AgreementScope:
    """The coders, transcripts and codes an agreement is computed over."""

    coders: list[str]
    transcripts: list[Transcript]          # counted: coded by every coder
    left_out: dict[str, list[str]]         # transcript id -> coders who did not code it
    codes: list[str]                       # codable code ids compared, codebook order
    where: list[str] = field(default_factory=list)
    # coder -> transcript id -> canonical code id -> spans (clipped to the body)
    spans: dict[str, dict[str, dict[str, list[Span]]]] = field(default_factory=dict)
    # The speaker labels whose turns are not units, and per counted transcript the
    # numbers of the passages they spoke (left out of every count and listing).
    excluded_speakers: list[str] = field(default_factory=list)
    skipped: dict[str, frozenset[int]] = field(default_factory=dict)

    def coder_spans(self, coder: str, transcript: str, code: str) -> list[Span]:
        return self.spans.get(coder, {}).get(transcript, {}).get(code, [])

    def kept_passages(self, transcript: Transcript) -> list[Passage]:
        skipped = self.skipped.get(transcript.id, frozenset())
        return [p for p in transcript.passages if p.number not in skipped]


def resolve_agreement_scope(corpus: Corpus | HasCorpus, coders: Sequence[str],
                            codes: Iterable[str] | None = None,
                            where: Iterable[str] = (), min_coders: int = 2,
                            exclude_speakers: Iterable[str] = ()) -> AgreementScope:
    """Check the coders (known, distinct, at least ``min_coders``), filter transcripts and
    codes, and read every coder's current segments once. The turns of speakers matching
    ``exclude_speakers`` (``speaker:`` rule wildcards) are no units."""
    from qcode.analysis.scope import resolve_scope
    from qcode.format.rules import speaker_matcher

    corpus = as_corpus(corpus)
    chosen = list(dict.fromkeys(c.strip() for c in coders if c and c.strip()))
    if len(chosen) < min_coders:
        known = ", ".join(corpus.coders) or "none yet"
        raise UsageError(f"agreement needs at least {min_coders} different coders, got "
                         f"{len(chosen)}", f"name them with --coders A,B (coders: {known})")
    base = resolve_scope(corpus, chosen, False, where, codes)
    codebook = corpus.codebook
    compared = [c for c in base.codes if codebook.require(c).codable]
    lengths = {t.id: t.body_length for t in base.transcripts}
    spans: dict[str, dict[str, dict[str, list[Span]]]] = {c: {} for c in chosen}
    coded: dict[str, set[str]] = {c: set() for c in chosen}
    for coding in corpus.codings(chosen):
        length = lengths.get(coding.transcript)
        code = codebook.resolve(coding.code)
        # Codings `qcode check` reports as broken are left out, as in every count.
        if length is None or code is None or coding.end > length:
            continue
        coded[coding.coder].add(coding.transcript)
        (spans[coding.coder].setdefault(coding.transcript, {})
         .setdefault(code.id, []).append((coding.start, coding.end)))
    counted, left_out = [], {}
    for transcript in base.transcripts:
        missing = [c for c in chosen if transcript.id not in coded[c]]
        if missing:
            left_out[transcript.id] = missing
        else:
            counted.append(transcript)
    where_text = [f"{c.attribute}{'!=' if c.negate else '='}{','.join(sorted(c.values))}"
                  for c in base.where]
    excluded = list(dict.fromkeys(s.strip() for s in exclude_speakers if s.strip()))
    matches = speaker_matcher(excluded)
    skipped = {t.id: frozenset(p.number for p in t.passages if matches(p.speaker))
               for t in counted} if matches else {}
    return AgreementScope(chosen, counted, left_out, compared, where_text, spans, excluded,
                          {t: n for t, n in skipped.items() if n})


def _require_counted(scope: AgreementScope) -> None:
    if not scope.transcripts:
        detail = (f"{len(scope.left_out)} transcript(s) in scope, none coded by all of "
                  f"{', '.join(scope.coders)}" if scope.left_out
                  else "no transcript is in scope")
        raise QcodeError(f"nothing to compare: {detail}",
                         "each coder must have coded a transcript for it to count; "
                         "`qcode transcripts` shows codings per coder")


# -- spans ------------------------------------------------------------------------------------

def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Overlapping or touching spans joined: the characters covered, as sorted spans."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)


def clip(spans: Iterable[Span], start: int, end: int) -> tuple[Span, ...]:
    """The parts of ``spans`` inside ``[start, end)``, merged."""
    return merge_spans((max(s, start), min(e, end)) for s, e in spans
                       if (s < end and start < e) or (s == e and start <= s < end))


def passage_spans(scope: AgreementScope, codes: Sequence[str] | None = None
                  ) -> dict[tuple[str, int, str], dict[str, tuple[Span, ...]]]:
    """For every (transcript, passage number, code) that some coder coded: each coder's
    segments with the code clipped to the passage and merged (coders without any are
    absent). Counted transcripts only; keys in transcript, passage, codebook order."""
    return dict(iter_passage_spans(scope, codes))


def iter_passage_spans(scope: AgreementScope, codes: Sequence[str] | None = None
                       ) -> Iterator[tuple[tuple[str, int, str], dict[str, tuple[Span, ...]]]]:
    """The items of :func:`passage_spans` in its order, one transcript at a time: a caller
    that only counts them never holds the whole corpus's clipped spans at once."""
    wanted = scope.codes if codes is None else list(codes)
    order = {c: i for i, c in enumerate(wanted)}
    for transcript in scope.transcripts:
        # Only the codes some coder used here: scanning every code of the codebook per
        # transcript costs more than the spans themselves on a large codebook.
        by_coder = [(coder, scope.spans.get(coder, {}).get(transcript.id, {}))
                    for coder in scope.coders]
        used = {code for _coder, per_code in by_coder for code in per_code
                if code in order and per_code[code]}
        skipped = scope.skipped.get(transcript.id, frozenset())
        found: dict[tuple[str, int, str], dict[str, tuple[Span, ...]]] = {}
        for code in sorted(used, key=order.__getitem__):
            for coder, per_code in by_coder:
                spans = per_code.get(code)
                if not spans:
                    continue
                touched: dict[int, Passage] = {}
                for start, end in spans:
                    for passage in transcript.passages_overlapping(start, end):
                        if passage.number not in skipped:
                            touched[passage.number] = passage
                for number, passage in touched.items():
                    found.setdefault((transcript.id, number, code), {})[coder] = clip(
                        spans, passage.start, passage.end)
        yield from sorted(found.items(), key=lambda kv: (kv[0][1], order[kv[0][2]]))


# -- the patterns each code's statistics are computed from -----------------------------------

# Per code, per counted transcript: how many units each coder bitmask (bit i = coder i
# coded the unit) has. Kept per transcript so that a bootstrap can resample transcripts.
Patterns = dict[str, dict[str, Counter]]


def unit_total(scope: AgreementScope, unit: str, transcript: Transcript) -> int:
    """The units of one counted transcript: its kept passages, or their characters."""
    kept = scope.kept_passages(transcript)
    if unit == "passage":
        return len(kept)
    if len(kept) == len(transcript.passages):
        return transcript.body_length
    return transcript.body_length - sum(p.end - p.start for p in transcript.passages
                                        if p.number in scope.skipped[transcript.id])


def _passage_patterns(scope: AgreementScope) -> Patterns:
    bit = {c: 1 << i for i, c in enumerate(scope.coders)}
    masks: Patterns = {c: {t.id: Counter() for t in scope.transcripts} for c in scope.codes}
    for (tid, _n, code), per_coder in iter_passage_spans(scope):
        mask = 0
        for coder in per_coder:
            mask |= bit[coder]
        masks[code][tid][mask] += 1
    return _fill_zero(scope, "passage", masks)


def _character_patterns(scope: AgreementScope) -> Patterns:
    """A sweep over the spans; the characters of excluded turns carry an extra bit and
    are dropped."""
    masks: Patterns = {c: {t.id: Counter() for t in scope.transcripts} for c in scope.codes}
    excluded_bit = 1 << len(scope.coders)
    for transcript in scope.transcripts:
        skipped = [(p.start, p.end) for p in transcript.passages
                   if p.number in scope.skipped.get(transcript.id, ())]
        for code in scope.codes:
            events: list[tuple[int, int]] = []
            for i, coder in enumerate(scope.coders):
                for start, end in merge_spans(scope.coder_spans(coder, transcript.id, code)):
                    if end > start:
                        events += [(start, 1 << i), (end, -(1 << i))]
            if not events:
                continue
            for start, end in skipped:
                events += [(start, excluded_bit), (end, -excluded_bit)]
            events.sort()
            counter = masks[code][transcript.id]
            mask, previous = 0, events[0][0]
            for position, change in events:
                if position > previous and mask and not mask & excluded_bit:
                    counter[mask] += position - previous
                mask += change
                previous = position
    return _fill_zero(scope, "character", masks)


def _fill_zero(scope: AgreementScope, unit: str, masks: Patterns) -> Patterns:
    """Mask 0 (no coder coded the unit) gets the transcript's remaining units."""
    totals = {t.id: unit_total(scope, unit, t) for t in scope.transcripts}
    for per_transcript in masks.values():
        for tid, counter in per_transcript.items():
            counter[0] = totals[tid] - sum(n for m, n in counter.items() if m)
    return masks


@dataclass(frozen=True)
class CodeAgreement:
    """The counts and statistics of one code (or of all codes pooled)."""

    code: str
    units: int
    patterns: dict[int, int]          # coder bitmask -> units
    percent: agreement.AgreementResult
    kappa: agreement.AgreementResult  # Cohen's (2 coders) or Fleiss' (more)
    alpha: agreement.AgreementResult  # Krippendorff's, nominal
    coders: int = 2

    @property
    def reason(self) -> str | None:
        """Why a statistic is undefined, in the terms of codes and units."""
        reason = self.kappa.reason or self.alpha.reason or self.percent.reason
        if reason is None or not self.units:
            return reason
        if set(self.patterns) == {0}:
            return "no variation: no coder used the code in these units"
        if set(self.patterns) == {(1 << self.coders) - 1}:
            return "no variation: every coder coded every unit with it"
        return reason


def statistics_from_patterns(code: str, patterns: Counter | dict[int, int], coders: int
                             ) -> CodeAgreement:
    """All statistics of one code from its bitmask counts (binary data, complete)."""
    items = sorted((mask, n) for mask, n in patterns.items() if n)
    units = sum(n for _, n in items)
    rows = [[coders - mask.bit_count(), mask.bit_count()] for mask, _ in items]
    counts = agreement.UnitCounts.from_table(rows or [[0, 0]], categories=(0, 1),
                                             weights=[n for _, n in items] or [0],
                                             coders=coders)
    if coders == 2:
        get = patterns.get
        table = [[get(0, 0), get(1, 0)], [get(2, 0), get(3, 0)]]  # rows A: 0/1, cols B: 0/1
        kappa = agreement.cohen_kappa_table(table)
    else:
        kappa = agreement.fleiss_kappa(counts)
    return CodeAgreement(code, units, dict(items), agreement.percent_agreement(counts), kappa,
                         agreement.krippendorff_alpha(counts, "nominal"), coders)


@dataclass
class AgreementReport:
    """``qcode agree``: one row per code and an overall row, on a stated unit."""

    unit: str
    scope: AgreementScope
    units: int                        # passages or characters in the counted transcripts
    rows: list[CodeAgreement]         # compared codes, codebook order, then OVERALL
    unused: list[str]                 # codes in scope no coder used (not in ``rows``)
    labels: dict[str, str]
    # per code (and OVERALL) per counted transcript, the coder-bitmask counts
    per_transcript: Patterns = field(default_factory=dict)
    dropped: int = 0                  # units of excluded speakers' turns, not counted
    coverage: dict[str, Any] = field(default_factory=dict)
    # set by qcode.analysis.bootstrap.add_intervals and flag_below
    intervals: dict[str, dict[str, Any]] = field(default_factory=dict)
    bootstrap: dict[str, Any] = field(default_factory=dict)
    flag: float | None = None

    @property
    def coders(self) -> list[str]:
        return self.scope.coders

    @property
    def kappa_name(self) -> str:
        return "cohen_kappa" if len(self.coders) == 2 else "fleiss_kappa"

    def count_columns(self) -> list[str]:
        if len(self.coders) == 2:
            a, b = self.coders
            return ["both", f"only_{a}", f"only_{b}", "neither"]
        return ["all", "some", "none"]

    def _counts(self, row: CodeAgreement) -> list[int]:
        patterns = row.patterns
        if len(self.coders) == 2:
            return [patterns.get(3, 0), patterns.get(1, 0), patterns.get(2, 0),
                    patterns.get(0, 0)]
        full = (1 << len(self.coders)) - 1
        return [patterns.get(full, 0),
                sum(n for m, n in patterns.items() if m not in (0, full)),
                patterns.get(0, 0)]

    @property
    def table(self) -> pd.DataFrame:
        """One row per code, then ``ALL``: code, label, units, counts, statistics, reason."""
        statistics = ["agreement_pct", self.kappa_name, "krippendorff_alpha"]
        columns = ["code", "label", self.unit_plural, *self.count_columns(), *statistics,
                   "reason"]
        records = []
        for row in self.rows:
            records.append([row.code, self.labels.get(row.code, row.code), row.units,
                            *self._counts(row), _pct(row.percent.value),
                            _round(row.kappa.value), _round(row.alpha.value),
                            row.reason])
        frame = pd.DataFrame(records, columns=columns)
        if self.intervals:
            for name in statistics:
                for end in ("ci_low", "ci_high"):
                    frame[f"{name}_{end}"] = [self.intervals[r.code][name][end]
                                              for r in self.rows]
            frame["resamples_used"] = [self.intervals[r.code]["krippendorff_alpha"]["used"]
                                       for r in self.rows]
        if self.flag is not None:
            frame["flagged"] = [self.is_flagged(r) for r in self.rows]
        return frame

    def is_flagged(self, row: CodeAgreement) -> bool:
        """Krippendorff's alpha below ``flag`` (an undefined alpha is not flagged)."""
        return (self.flag is not None and row.alpha.value is not None
                and round(row.alpha.value, 3) < self.flag)

    def flagged(self) -> list[str]:
        return [r.code for r in self.rows if r.code != OVERALL and self.is_flagged(r)]

    @property
    def unit_plural(self) -> str:
        return f"{self.unit}s"

    def statistics(self) -> dict[str, str]:
        kappa = ("Cohen's (1960) kappa, chance from each coder's own shares"
                 if len(self.coders) == 2 else
                 "Fleiss' (1971) kappa, chance from the pooled shares")
        return {
            "agreement_pct": ("percent agreement: agreeing pairs of coders per unit, "
                              "averaged over the units (two coders: units where both agree)"),
            self.kappa_name: kappa,
            "krippendorff_alpha": "Krippendorff's (2011) alpha, nominal (binary 1/0 values)",
        }

    def to_dict(self) -> dict[str, Any]:
        table = self.table
        records = [_record(r) for r in table.to_dict(orient="records")]
        return {
            "unit": self.unit,
            "unit_definition": UNIT_TEXT[self.unit],
            "statistics": self.statistics(),
            "coders": self.coders,
            "transcripts": _transcripts_dict(self.scope),
            self.unit_plural: self.units,
            "where": self.scope.where,
            "codes": records[:-1],
            "overall": records[-1],
            "unused_codes": self.unused,
            "excluded_speakers": self.scope.excluded_speakers,
            f"dropped_{self.unit_plural}": self.dropped,
            "coverage": self.coverage,
            **({"bootstrap": self.bootstrap} if self.bootstrap else {}),
            **({"flag": {"statistic": "krippendorff_alpha", "below": self.flag,
                         "codes": self.flagged()}} if self.flag is not None else {}),
        }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * float(value), 1)


def plain_value(value: Any) -> Any:
    """A JSON-ready value: numpy scalars as Python numbers, NaN as None."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _record(row: dict[str, Any]) -> dict[str, Any]:
    return {k: plain_value(v) for k, v in row.items()}


def _transcripts_dict(scope: AgreementScope) -> dict[str, Any]:
    return {"counted": [t.id for t in scope.transcripts],
            "left_out": [{"transcript": t, "not_coded_by": coders}
                         for t, coders in scope.left_out.items()]}


def agreement_report(corpus: Corpus | HasCorpus, coders: Sequence[str], unit: str = "passage",
                     codes: Iterable[str] | None = None, where: Iterable[str] = (),
                     exclude_speakers: Iterable[str] = (), include_interviewer: bool = False
                     ) -> AgreementReport:
    """Per-code agreement of two or more coders on passages or characters, and overall.

    Codes no coder used in the counted transcripts are listed in ``unused`` instead of
    getting a row of undefined statistics, unless they were asked for with ``codes``.
    The turns of ``excluded_speakers(...)`` are no units (``dropped`` counts them).
    """
    corpus = as_corpus(corpus)
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}", f"choose one of {', '.join(UNITS)}")
    speakers = excluded_speakers(corpus, exclude_speakers, include_interviewer)
    scope = resolve_agreement_scope(corpus, coders, codes, where, exclude_speakers=speakers)
    _require_counted(scope)
    with bulk_load():  # a counter per transcript and code: many small dicts, no cycles
        patterns = (_passage_patterns(scope) if unit == "passage"
                    else _character_patterns(scope))
    total = sum(unit_total(scope, unit, t) for t in scope.transcripts)
    every = (sum(len(t.passages) for t in scope.transcripts) if unit == "passage"
             else sum(t.body_length for t in scope.transcripts))
    asked = bool(codes)
    rows, unused = [], []
    pooled: dict[str, Counter] = {t.id: Counter() for t in scope.transcripts}
    kept: Patterns = {}
    for code in scope.codes:
        per_transcript = patterns[code]
        counter = sum(per_transcript.values(), Counter())
        if not asked and set(counter) <= {0}:
            unused.append(code)
            continue
        counter[0] = sum(c[0] for c in per_transcript.values())  # Counter + drops zeros
        rows.append(statistics_from_patterns(code, counter, len(scope.coders)))
        kept[code] = per_transcript
        for tid, transcript_counter in per_transcript.items():
            pooled[tid].update(transcript_counter)
    rows.append(statistics_from_patterns(OVERALL, sum(pooled.values(), Counter()),
                                         len(scope.coders)))
    kept[OVERALL] = pooled
    codebook = corpus.codebook
    labels = {c.id: c.label for c in codebook}
    labels[OVERALL] = "all codes (pooled)"
    return AgreementReport(unit, scope, total, rows, unused, labels, kept, every - total,
                           coverage(corpus, scope.transcripts, list(scope.left_out)))


# -- disagreements ----------------------------------------------------------------------------

def disagreement_counts(scope: AgreementScope) -> dict[str, int]:
    """Disagreements (``qcode.analysis.units.DISAGREEMENT_KINDS``) per kind, and how many
    are on excluded speakers' turns (``excluded``; not in the other counts)."""
    from dataclasses import replace

    counts = {"presence": 0, "extent": 0, "excluded": 0}
    for (tid, number, _code), per_coder in iter_passage_spans(replace(scope, skipped={})):
        kind = disagreement_kind([per_coder.get(c, ()) for c in scope.coders])
        if kind is not None:
            counts["excluded" if number in scope.skipped.get(tid, ()) else kind] += 1
    return counts


DISAGREEMENT_COLUMNS = ["transcript", "passage", "speaker", "line", "code", "label", "kind",
                        "coded_by", "not_coded_by"]


def span_text(spans: Sequence[Span], passage: Passage) -> str:
    """How a coder coded a passage, in words: ``passage`` (all of it), ``S:E ...`` or ''."""
    if not spans:
        return ""
    if len(spans) == 1 and spans[0] == (passage.start, passage.end):
        return "passage"
    return " ".join(f"{s}:{e}" for s, e in spans)


def disagreements(corpus: Corpus | HasCorpus, coders: Sequence[str], unit: str = "passage",
                  codes: Iterable[str] | None = None, where: Iterable[str] = (),
                  exclude_speakers: Iterable[str] = (), include_interviewer: bool = False
                  ) -> pd.DataFrame:
    """The passages where the coders differ on a code, with the passage text.

    ``kind`` is ``presence`` (some coders coded the passage with the code, others did
    not) or, with ``unit="character"``, also ``extent`` (all coded it, but not the same
    characters). One column per coder says what they coded (see ``span_text``).
    ``attrs["counts"]`` (``disagreement_counts``) counts every kind, also the extent
    disagreements not listed on passages. Excluded speakers' turns are not listed.
    """
    corpus = as_corpus(corpus)
    if unit not in UNITS:
        raise UsageError(f"unknown unit {unit!r}", f"choose one of {', '.join(UNITS)}")
    speakers = excluded_speakers(corpus, exclude_speakers, include_interviewer)
    scope = resolve_agreement_scope(corpus, coders, codes, where, exclude_speakers=speakers)
    _require_counted(scope)
    codebook = corpus.codebook
    transcripts = {t.id: t for t in scope.transcripts}
    records = []
    for (tid, number, code), per_coder in iter_passage_spans(scope):
        coded = [c for c in scope.coders if c in per_coder]
        kind = disagreement_kind([per_coder.get(c, ()) for c in scope.coders])
        if kind is None or (kind == "extent" and unit == "passage"):
            continue
        transcript = transcripts[tid]
        passage = transcript.passage(number)
        records.append([tid, number, passage.speaker, passage.line, code,
                        codebook.require(code).label, kind, ", ".join(coded),
                        ", ".join(c for c in scope.coders if c not in per_coder),
                        *[span_text(per_coder.get(c, ()), passage) for c in scope.coders],
                        transcript.body[passage.start:passage.end]])
    frame = pd.DataFrame(records, columns=[*DISAGREEMENT_COLUMNS, *scope.coders, "text"])
    frame = frame.astype({"passage": "int64", "line": "int64"})
    frame.attrs = {"unit": unit, "coders": scope.coders,
                   "transcripts": _transcripts_dict(scope), "where": scope.where,
                   "counts": disagreement_counts(scope),
                   "excluded_speakers": scope.excluded_speakers}
    return frame


__all__ = [
    "DISAGREEMENT_KINDS", "OVERALL", "UNITS", "AgreementReport", "AgreementScope",
    "CodeAgreement", "agreement_report", "clip", "disagreement_counts", "disagreements",
    "iter_passage_spans", "merge_spans", "passage_spans", "plain_value",
    "resolve_agreement_scope", "statistics_from_patterns",
]
