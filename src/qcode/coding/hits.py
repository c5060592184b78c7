"""Coding the hits of a text search (``qcode.analysis.search``) in one locked append.

Each hit becomes a span to code: its passage (the default), the sentence it is in, or
the matched words themselves. Hits in one span make one coding. Which spans are already
coded is decided under the log's lock, from the log as it is at that moment (as
``Project.tag`` does): a span inside a coding of the same code by the same coder is
already there and is skipped, so running the same search twice codes nothing new.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode.coding.autocode.units import split_sentences
from qcode.errors import UsageError
from qcode.format.matching import text_start
from qcode.format.names import check_coder_name
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, add_event

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import Coding

SPANS = ("passage", "sentence", "word")


@dataclass(frozen=True, slots=True)
class Target:
    """A span to code: in a transcript, within passage ``passage``."""

    transcript: str
    passage: int
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "passage": self.passage,
                "start": self.start, "end": self.end}


@dataclass
class HitCoding:
    """What coding the hits did (or, for a dry run, would do)."""

    code: str
    coder: str
    span: str
    targets: list[Target]
    added: list[Target] = field(default_factory=list)
    already: list[Target] = field(default_factory=list)  # inside a coding of the code
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "coder": self.coder, "span": self.span,
                "dry_run": self.dry_run, "coded": [t.to_dict() for t in self.added],
                "already": [t.to_dict() for t in self.already]}


def hit_targets(corpus: Corpus | HasCorpus, hits: Iterable[Hit], span: str = "passage"
                ) -> list[Target]:
    """The spans ``hits`` make, each once, in text order."""
    corpus = as_corpus(corpus)
    if span not in SPANS:
        raise UsageError(f"unknown span {span!r}", f"one of {', '.join(SPANS)}")
    targets: dict[Target, None] = {}
    for hit in hits:
        if hit.coding is not None:
            raise UsageError("memo hits cannot be coded: they are in memos, not in the text",
                             "search the transcripts (without --memos) to code what they say")
        transcript = corpus.transcript(hit.transcript)
        passage = transcript.passages[hit.passage - 1]
        if span == "passage":
            start, end = passage.start, passage.end
        elif span == "word":
            start, end = hit.start, hit.end
        else:
            start, end = _sentence(transcript, passage.number, hit.start, hit.end)
        targets[Target(transcript.id, passage.number, start, end)] = None
    return list(targets)


def _sentence(transcript: Transcript, number: int, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) holding ``[start, end)``: from the one it starts in to the one
    it ends in (a phrase may run over a sentence's end)."""
    body = transcript.body
    passage = transcript.passages[number - 1]
    sentences = split_sentences(body, text_start(body, passage), passage.end)
    if not sentences:
        return start, end
    starts = [s for s, _ in sentences]
    first = sentences[max(bisect.bisect_right(starts, start) - 1, 0)]
    last = sentences[max(bisect.bisect_right(starts, max(end - 1, start)) - 1, 0)]
    return min(first[0], start), max(last[1], end)


def new_hit_events(corpus: Corpus | HasCorpus, result: HitCoding, current: Iterable[Coding],
                   pattern: str | None = None) -> list[Event]:
    """The add events for ``result.targets`` not yet inside a coding of its code among
    ``current`` (the coder's codings as the log holds them now); sorts the targets into
    ``result.added`` and ``result.already``."""
    corpus = as_corpus(corpus)
    canonical = corpus.codebook.canonical
    covered: dict[str, list[tuple[int, int]]] = {}
    for coding in current:
        if canonical(coding.code) == result.code:
            covered.setdefault(coding.transcript, []).append((coding.start, coding.end))
    result.added, result.already = [], []
    events: list[Event] = []
    for target in result.targets:
        if any(s <= target.start and target.end <= e
               for s, e in covered.get(target.transcript, ())):
            result.already.append(target)
            continue
        result.added.append(target)
        body = corpus.transcript(target.transcript).body
        events.append(add_event(target.transcript, target.start, target.end, result.code,
                                body[target.start:target.end], search=pattern))
    return events


def code_hits(corpus: Corpus | HasCorpus, hits: Iterable[Hit], code: str, coder: str,
              span: str = "passage", dry_run: bool = False,
              pattern: str | None = None) -> HitCoding:
    """Code the span of every hit with ``code`` for ``coder`` in one locked append (with
    ``dry_run``, only say what would be coded). Each new coding's log line names the
    search ``pattern`` (``"search": …``), so what a search coded can be found again."""
    corpus = as_corpus(corpus)
    check_coder_name(coder)
    code_id = corpus.codebook.require(code, codable=True).id
    targets = hit_targets(corpus, hits, span)
    result = HitCoding(code_id, coder, span, targets, dry_run=dry_run)

    def sort_out(current: Iterable[Coding]) -> list[Event]:
        return new_hit_events(corpus, result, current, pattern)

    if dry_run:
        known = coder in corpus.coders
        sort_out(corpus.store.replay(coder).codings if known else [])
    elif targets:
        corpus.store.log(coder).append_checked(lambda current: sort_out(current.values()))
    return result
