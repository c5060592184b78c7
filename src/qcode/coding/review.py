"""Reviewing suggestions: a coder accepts or rejects the proposals of ``qcode autocode``
(or of another source) one at a time or all of a code in a transcript."""

from __future__ import annotations

from qcode.errors import QcodeError
from qcode.format.names import check_coder_name
from qcode.format.transcripts import Passage, Transcript
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, accept_event, add_event, now_iso, reject_event
from qcode.store.suggestions import Suggestion, SuggestionLog

# How the review walks the suggestions: learned ones by probability (most certain first),
# by uncertainty (closest to the threshold first, for active learning), or everything by
# position; rules suggestions have no probability and always follow in position order.
ORDERS = ("certain", "uncertain", "position")
KINDS = ("rules", "learned")


class Review:
    """A coder reviewing suggestions: accepting appends the coding to the coder's own log
    (``memo: "autocode: <rule>"``), then records the decision in the suggestions log.

    ``source`` is whose suggestions log is reviewed (default: the coder's own). Only valid
    pending suggestions are offered: on a known transcript whose text is unchanged, with a
    codable code, and not already coded so by the coder (that covers a crash between the
    two appends of an acceptance). ``kind`` keeps only the suggestions of the rules or only
    the learned ones (everything the review does, accept-all included, sees only those);
    ``order`` is how ``queue`` walks them (see ``ORDERS``).
    """

    def __init__(self, corpus: Corpus | HasCorpus, coder: str, source: str | None = None,
                 transcripts: list[str] | None = None, order: str = "certain",
                 kind: str | None = None) -> None:
        corpus = as_corpus(corpus)
        check_coder_name(coder)
        if order not in ORDERS:
            raise QcodeError(f"unknown review order {order!r}; use one of {', '.join(ORDERS)}")
        if kind is not None and kind not in KINDS:
            raise QcodeError(f"unknown suggestion source {kind!r}; use one of {', '.join(KINDS)}")
        self.order = order
        self.kind = kind
        self.corpus = corpus
        self.coder = coder
        self.source = source or coder
        self.codebook = corpus.codebook
        self.log = SuggestionLog(corpus.store, self.source)
        self.coding_log = corpus.store.log(coder)
        self.lock = corpus.store.session_lock(coder)
        self.state = self.log.read()
        chosen = transcripts or [t.id for t in corpus.transcripts]
        self._transcripts: dict[str, Transcript] = {
            t: corpus.transcript(t) for t in chosen}
        self._order = {code.id: index for index, code in enumerate(self.codebook)}
        self._coded: dict[tuple[str, str], list[tuple[int, int]]] = {}
        if self.coding_log.exists():
            for coding in corpus.store.replay(coder).codings:
                self._coded.setdefault((coding.transcript, self.codebook.canonical(coding.code)),
                                       []).append((coding.start, coding.end))
        self._by_transcript: dict[str, list[Suggestion]] = {}
        for suggestion in self.state.suggestions.values():
            self._by_transcript.setdefault(suggestion.transcript, []).append(suggestion)
        self.accepted = 0
        self.rejected = 0

    def __enter__(self) -> Review:
        """Hold the coder's session lock while reviewing (one session per coder)."""
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def transcript(self, suggestion: Suggestion) -> Transcript:
        return self._transcripts[suggestion.transcript]

    def is_pending(self, suggestion: Suggestion) -> bool:
        if suggestion.status != "pending" or (self.kind and suggestion.source != self.kind):
            return False
        transcript = self._transcripts.get(suggestion.transcript)
        if transcript is None or transcript.body[suggestion.start:suggestion.end] != suggestion.text:
            return False
        code = self.codebook.resolve(suggestion.code)
        if code is None or not code.codable:
            return False
        return not any(start <= suggestion.start and suggestion.end <= end
                       for start, end in self._coded.get((suggestion.transcript, code.id), ()))

    def codes_on(self, transcript: str, passage: Passage) -> list[str]:
        """The codes the coder has on (part of) a passage, in codebook order."""
        names = [code_id for (transcript_id, code_id), spans in self._coded.items()
                 if transcript_id == transcript
                 and any(passage.overlaps(start, end) for start, end in spans)]
        return sorted(names, key=lambda c: self._order.get(c, 0))

    def pending(self, transcript: str | None = None, code: str | None = None
                ) -> list[Suggestion]:
        """Valid pending suggestions in transcript order, then by position and codebook order."""
        rank = {t: i for i, t in enumerate(self._transcripts)}
        wanted = self.codebook.canonical(code) if code else None
        pool = (self.state.suggestions.values() if transcript is None
                else self._by_transcript.get(transcript, []))
        found = [s for s in pool if self.is_pending(s)
                 and (wanted is None or self.codebook.canonical(s.code) == wanted)]
        found.sort(key=lambda s: (rank[s.transcript], s.start, s.end,
                                  self._order.get(self.codebook.canonical(s.code), 0)))
        return found

    def queue(self) -> list[Suggestion]:
        """The pending suggestions in the order they are reviewed: the learned ones first,
        by ``order``, then the rules' in position order (``pending``); ``position`` keeps
        everything in position order. Ties keep position order."""
        found = self.pending()
        if self.order == "position":
            return found
        learned = [s for s in found if s.source == "learned"]
        rules = [s for s in found if s.source != "learned"]
        if self.order == "certain":
            learned.sort(key=lambda s: -(s.probability if s.probability is not None else -1.0))
        else:
            learned.sort(key=uncertainty)
        return learned + rules

    def accept(self, suggestions: list[Suggestion]) -> list[Event]:
        """Accept pending suggestions; returns the coding events appended to the coder's log."""
        for suggestion in suggestions:
            if suggestion.status != "pending":
                raise QcodeError(f"suggestion {suggestion.id} is already {suggestion.status}")
        chosen = list({s.id: s for s in suggestions if self.is_pending(s)}.values())
        if not chosen:
            return []
        codings = [add_event(s.transcript, s.start, s.end, self.codebook.canonical(s.code), s.text,
                             s.memo, suggestion=s.id) for s in chosen]
        # The coding first: a crash before the second append leaves a coded passage whose
        # suggestion is no longer offered (see is_pending), never a lost acceptance.
        self.coding_log.append(codings)
        at = now_iso()
        self.log.append([accept_event(s.id, self.coder, c["id"], at)
                         for s, c in zip(chosen, codings, strict=True)])
        for suggestion, coding in zip(chosen, codings, strict=True):
            suggestion.status, suggestion.decided_at = "accepted", at
            suggestion.decided_by, suggestion.coding = self.coder, coding["id"]
            self._coded.setdefault((suggestion.transcript, coding["code"]), []).append(
                (suggestion.start, suggestion.end))
        self.accepted += len(chosen)
        return codings

    def reject(self, suggestions: list[Suggestion]) -> int:
        chosen = list({s.id: s for s in suggestions if s.status == "pending"}.values())
        if not chosen:
            return 0
        at = now_iso()
        self.log.append([reject_event(s.id, self.coder, at) for s in chosen])
        for suggestion in chosen:
            suggestion.status, suggestion.decided_at = "rejected", at
            suggestion.decided_by = self.coder
        self.rejected += len(chosen)
        return len(chosen)

    def accept_all(self, transcript: str, code: str) -> list[Event]:
        """Accept every pending suggestion of ``code`` in ``transcript``."""
        return self.accept(self.pending(transcript, code))

    def reject_all(self, transcript: str, code: str) -> int:
        return self.reject(self.pending(transcript, code))


def uncertainty(suggestion: Suggestion) -> float:
    """How far a learned suggestion's probability is from the decision: the threshold it
    was proposed at when the log stores one, else 0.5; smaller is less certain (a
    suggestion without a probability counts as the most certain, reviewed last)."""
    if suggestion.probability is None:
        return float("inf")
    threshold = suggestion.threshold if suggestion.threshold is not None else 0.5
    return abs(suggestion.probability - threshold)


def provenance(suggestion: Suggestion) -> str:
    """Where a suggestion comes from, in one line for the reviewer: the rule that matched,
    or «learned p=0.87» with the threshold when stored and the words that weighed most."""
    if suggestion.source != "learned":
        return f"rule: {suggestion.rule or '-'}"
    text = "learned"
    if suggestion.probability is not None:
        text += f" p={suggestion.probability:.2f}"
    if suggestion.threshold is not None:
        text += f" (threshold {suggestion.threshold:.2f})"
    if suggestion.features:
        text += f" · words: {', '.join(suggestion.features)}"
    return text
