"""Text search: where a pattern occurs in the transcripts (or in the coding memos), each
hit with its words of context, counted per transcript. Read-only; coding the hits is
``qcode.coding.hits``.

A pattern is read as auto-coding reads a rule of the same kind (docs/autocode.md), with
the same matcher (``qcode.format.rules``, ``qcode.format.matching``), so a search finds
exactly what a rule would:

- ``match`` (the default): whole words, case-insensitive (Norwegian letters and every
  other letter fold), ``*`` any run of letters or digits, ``?`` one; the words of a phrase
  match across any whitespace, line breaks included.
- ``regex``: a Python regular expression run with the ``regex`` package, as written
  (case-sensitive unless ``(?i)``), stopped past autocode's time budget.
- ``fuzzy``: rapidfuzz's partial ratio of a phrase, at least ``score`` (default 85).

What is searched is each passage's text without its speaker label, inside one passage (a
phrase never runs from one turn into the next). Interviewer turns (``interviewer:`` in
qcode.yaml) are left out unless asked for, or unless speakers are named: then exactly
their turns are searched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode.analysis.excerpts import keyword_context
from qcode.analysis.scope import choose_coders, transcripts_where
from qcode.errors import PatternTooSlow, UsageError
from qcode.format.matching import (
    SLOW_REGEX_HINT,
    fuzzy_phrase,
    fuzzy_spans,
    regex_budget,
    text_areas,
)
from qcode.format.rules import (
    DEFAULT_SCORE,
    Rule,
    check_pattern,
    compile_regex,
    speaker_matcher,
    wildcard_regex,
)
from qcode.format.text import fold, nfc
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Passage, Transcript

MODES = ("match", "regex", "fuzzy")
CONTEXT = 40  # characters of context on each side of a hit, cut at whole words

Found = tuple[int, int, int]  # (area index, start, end)


@dataclass(frozen=True, slots=True)
class Hit:
    """One place the pattern matched: ``start``/``end`` are code points into the
    transcript's body (into the memo for a memo hit, which names its coding).
    ``left + text + right`` reads as the text does, whitespace collapsed."""

    transcript: str
    passage: int
    speaker: str | None
    start: int
    end: int
    text: str
    left: str
    right: str
    coding: str | None = None
    coder: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transcript": self.transcript, "passage": self.passage, "speaker": self.speaker,
            "start": self.start, "end": self.end, "left": self.left, "hit": self.text,
            "right": self.right}
        if self.coding is not None:
            out.update(coding=self.coding, coder=self.coder, code=self.code)
        return out


@dataclass
class SearchResult:
    """The hits in text order (transcripts in project order), and what was searched."""

    pattern: str
    mode: str
    hits: list[Hit]
    transcripts: list[str]            # the transcripts searched
    memos: bool = False
    skipped: list[str] = field(default_factory=list)   # interviewer labels left out
    warnings: list[str] = field(default_factory=list)  # from the pattern's checks

    def counts(self) -> dict[str, int]:
        """Hits per transcript that has any, in project order."""
        counts: dict[str, int] = {}
        for hit in self.hits:
            counts[hit.transcript] = counts.get(hit.transcript, 0) + 1
        return counts

    def passage_counts(self) -> dict[str, int]:
        """Passages with a hit, per transcript that has any."""
        counts: dict[str, int] = {}
        for transcript, _ in dict.fromkeys((hit.transcript, hit.passage)
                                           for hit in self.hits):
            counts[transcript] = counts.get(transcript, 0) + 1
        return counts

    @property
    def passages(self) -> int:
        return len({(hit.transcript, hit.passage) for hit in self.hits})

    def to_dict(self) -> dict[str, Any]:
        passages = self.passage_counts()
        return {"pattern": self.pattern, "mode": self.mode, "memos": self.memos,
                "transcripts_searched": len(self.transcripts),
                "skipped_speakers": self.skipped,
                "hits": [hit.to_dict() for hit in self.hits],
                "counts": [{"transcript": t, "hits": n, "passages": passages[t]}
                           for t, n in self.counts().items()],
                "total": {"hits": len(self.hits), "passages": self.passages,
                          "transcripts": len(self.counts())}}


def search(corpus: Corpus | HasCorpus, pattern: str, mode: str = "match",
           score: float | None = None, where: Iterable[str] = (),
           speakers: Sequence[str] = (), coder: str | None = None,
           uncoded: str | None = None, memos: bool = False,
           include_interviewer: bool = False, transcripts: Iterable[str] | None = None,
           context: int = CONTEXT) -> SearchResult:
    """Every hit of ``pattern`` (read as ``mode``) in the transcripts in scope.

    ``where``: ``--where`` conditions on attributes; ``speakers``: speaker patterns (as a
    ``speaker:`` rule), a passage must match one; ``uncoded`` with ``coder``: only
    passages ``coder`` has not coded with that code or a code below it; ``memos``: search
    the memos of the codings (of ``coder``, else of every coder) instead of the text;
    ``include_interviewer``: also the turns of the labels qcode.yaml declares as
    interviewers; ``transcripts``: only these ids (the transcripts of a coding session).
    """
    corpus = as_corpus(corpus)
    matcher = Matcher(pattern, mode, score)
    if uncoded is not None and coder is None:
        raise UsageError("--uncoded needs --coder NAME: whose codings count",
                         "e.g. --coder me --uncoded barriers")
    if uncoded is not None and memos:
        raise UsageError("--uncoded and --memos do not go together",
                         "a memo belongs to a coding, so its passage is coded")
    chosen = transcripts_where(corpus, where)[1] if where else corpus.transcripts
    if transcripts is not None:
        wanted = set(transcripts)
        chosen = [t for t in chosen if t.id in wanted]
    # A memo is searched whoever speaks: it was written on a coding, so someone chose
    # to code that turn. Naming speakers says exactly whose turns to search.
    skipped = ([] if include_interviewer or memos or speakers
               else list(corpus.config.interviewer))
    keep = _PassageFilter(speakers, skipped)
    result = SearchResult(pattern, mode, [], [t.id for t in chosen], memos, skipped,
                          matcher.warnings)
    if memos:
        coders = choose_coders(corpus, [coder], False) if coder else corpus.coders
        result.hits = _memo_hits(corpus, matcher, chosen, coders, keep, context)
        return result
    coded: dict[str, list[tuple[int, int]]] | None = None
    if uncoded is not None and coder is not None:
        coded = _coded_spans(corpus, coder, uncoded)
    for transcript in chosen:
        result.hits.extend(_transcript_hits(transcript, matcher, keep, coded, context))
    return result


class Matcher:
    """A search pattern compiled once, found in one text at a time."""

    def __init__(self, pattern: str, mode: str = "match", score: float | None = None) -> None:
        if mode not in MODES:
            raise UsageError(f"unknown search mode {mode!r}", f"one of {', '.join(MODES)}")
        if score is not None and mode != "fuzzy":
            raise UsageError("a score goes with a fuzzy search", "add --fuzzy, or drop --score")
        rule = Rule(**{mode: pattern}, score=score)  # type: ignore[arg-type]
        problems = check_pattern(rule, "the search pattern")
        if problems.errors:
            first = problems.errors[0]
            hint = ("Python regular expression syntax (the `regex` package)"
                    if first.rule == "rule-regex" else first.hint)
            raise UsageError(first.message, hint)
        self.warnings = [p.message for p in problems.warnings]
        self.pattern, self.mode = pattern, mode
        self.score = float(score if score is not None else DEFAULT_SCORE)
        self.phrase = ""
        if mode == "match":
            self.compiled: Any = re.compile(wildcard_regex(pattern)[0])
        elif mode == "regex":
            self.compiled = compile_regex(pattern)
        else:
            self.phrase, prefixes = fuzzy_phrase(pattern)
            alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len,
                                                                 reverse=True))
            self.compiled = re.compile(rf"(?<!\w)(?:{alternatives})")

    def find(self, text: str, low: str, areas: Sequence[tuple[int, int]],
             deadline: float) -> list[Found]:
        """The hits in ``text`` (``low`` is it folded) inside each area, in order; a
        ``regex`` past ``deadline`` (a ``perf_counter`` time) raises TimeoutError."""
        found: list[Found] = []
        if self.mode == "match":
            finditer = self.compiled.finditer
            for index, (start, end) in enumerate(areas):
                found.extend((index, *m.span()) for m in finditer(low, start, end))
        elif self.mode == "regex":
            for index, (start, end) in enumerate(areas):
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError
                found.extend((index, *m.span()) for m in
                             self.compiled.finditer(text, start, end, timeout=left)
                             if m.end() > m.start())
        else:
            starts = [(index, m.start()) for index, (start, end) in enumerate(areas)
                      for m in self.compiled.finditer(low, start, end)]
            if starts:
                spans = fuzzy_spans(self.phrase, self.score, low, starts, areas)
                found = [(index, s, e) for index in sorted(spans) for s, e in spans[index]]
        return found

    def too_slow(self, budget: float, where: str) -> PatternTooSlow:
        shown = self.pattern if len(self.pattern) <= 60 else self.pattern[:57] + "..."
        return PatternTooSlow(f"the regex {shown!r} took more than {budget:.1f} s on "
                              f"{where}; the search stopped and shows nothing",
                              SLOW_REGEX_HINT)


class _PassageFilter:
    """Which passages are searched: a speaker one of ``speakers`` matches (when given),
    and not one of the interviewer labels ``skipped``."""

    def __init__(self, speakers: Sequence[str], skipped: Sequence[str]) -> None:
        self.wanted = speaker_matcher(speakers)
        self.skipped = speaker_matcher(skipped)

    def __call__(self, passage: Passage | None) -> bool:
        speaker = passage.speaker if passage is not None else None
        return ((self.wanted is None or self.wanted(speaker))
                and (self.skipped is None or not self.skipped(speaker)))


def _transcript_hits(transcript: Transcript, matcher: Matcher, keep: _PassageFilter,
                     coded: dict[str, list[tuple[int, int]]] | None,
                     context: int) -> list[Hit]:
    passages = transcript.passages
    spans = coded.get(transcript.id, []) if coded is not None else []
    chosen = [p for p in passages if keep(p)
              and not (spans and any(s < p.end and p.start < e for s, e in spans))]
    if not chosen:
        return []
    body = transcript.body
    areas = text_areas(body, chosen)
    budget = regex_budget(len(body))
    try:
        found = matcher.find(body, fold(body), areas, time.perf_counter() + budget)
    except TimeoutError:
        raise matcher.too_slow(budget, f"transcript {transcript.id!r}") from None
    hits = []
    for index, start, end in found:
        passage = chosen[index]
        left, right = keyword_context(body, start, end, *areas[index], context)
        hits.append(Hit(transcript.id, passage.number, passage.speaker, start, end,
                        body[start:end], left, right))
    return hits


def _coded_spans(corpus: Corpus, coder: str, code: str) -> dict[str, list[tuple[int, int]]]:
    """The spans ``coder`` coded with ``code`` or a code below it, per transcript."""
    choose_coders(corpus, [coder], False)  # an unknown coder gets a did-you-mean
    codebook = corpus.codebook
    family = set(codebook.descendants(codebook.require(code).id))
    table = corpus.store.replay(coder).table
    spans: dict[str, list[tuple[int, int]]] = {}
    for transcript, start, end, name in zip(table.transcripts, table.starts, table.ends,
                                            table.codes, strict=True):
        if codebook.canonical(name) in family:
            spans.setdefault(transcript, []).append((start, end))
    return spans


def _memo_hits(corpus: Corpus, matcher: Matcher, chosen: list[Transcript],
               coders: Sequence[str], keep: _PassageFilter, context: int) -> list[Hit]:
    order = {t.id: index for index, t in enumerate(chosen)}
    by_id = {t.id: t for t in chosen}
    codings = sorted((c for coder in coders for c in corpus.store.replay(coder).codings
                      if c.memo and c.transcript in order),
                     key=lambda c: (order[c.transcript], c.start, c.end, c.coder, c.id))
    budget = regex_budget(sum(len(c.memo or "") for c in codings))
    deadline = time.perf_counter() + budget
    canonical = corpus.codebook.canonical
    hits = []
    for coding in codings:
        passage = by_id[coding.transcript].passage_at(coding.start)
        if not keep(passage):
            continue
        memo = nfc(coding.memo or "")
        try:
            found = matcher.find(memo, fold(memo), [(0, len(memo))], deadline)
        except TimeoutError:
            raise matcher.too_slow(budget, "the memos") from None
        for _, start, end in found:
            left, right = keyword_context(memo, start, end, 0, len(memo), context)
            hits.append(Hit(coding.transcript, passage.number if passage else 0,
                            passage.speaker if passage else None, start, end,
                            memo[start:end], left, right, coding.id, coding.coder,
                            canonical(coding.code)))
    return hits
