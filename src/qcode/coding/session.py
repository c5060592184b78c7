"""An interactive coding session: where the coder is, and every change they make.

The full-screen coder and the line mode both present a ``CodingSession`` and dispatch to
it. It holds no state that is not in the coding log except the cursor and the undo
history of this session: every change is appended (and fsynced) before the method
returns, and the in-memory index of the coder's codings is updated in place, so moving
and toggling never re-read the project.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode.coding.text_cursor import TextCursor
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.names import check_coder_name, did_you_mean
from qcode.store.codings import Coding
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import add_event, remove_event
from qcode.store.locks import SessionLock

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.format.codebook import Code
    from qcode.format.transcripts import Passage, Transcript


@dataclass
class Change:
    """One undoable step: the codings it added and the codings it removed."""

    transcript: str
    passage: int
    added: list[Coding] = field(default_factory=list)
    removed: list[Coding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


class CodingSession:
    """The coder's position in the project and their codings, kept in step with the log."""

    def __init__(self, corpus: Corpus | HasCorpus, coder: str,
                 transcripts: Iterable[str] | None = None, others: Iterable[str] = (),
                 review: str | None = None) -> None:
        corpus = as_corpus(corpus)
        check_coder_name(coder)
        self.corpus = corpus
        self.coder = coder
        self.codebook = corpus.codebook
        self.log = corpus.store.log(coder)
        self.lock = corpus.store.session_lock(coder)
        chosen = list(transcripts) if transcripts else [t.id for t in corpus.transcripts]
        self.transcripts: list[Transcript] = [corpus.transcript(t) for t in chosen]
        if not self.transcripts:
            raise UsageError("there are no transcripts to code",
                             f"put transcripts in {corpus.config.transcripts}/")
        self._mine: dict[str, list[Coding]] = {t.id: [] for t in self.transcripts}
        self._counts: Counter[str] = Counter()
        replay = corpus.store.replay(coder) if coder in corpus.coders else None
        for coding in replay.codings if replay else ():
            if coding.transcript in self._mine:
                self._mine[coding.transcript].append(coding)
                self._counts[self.codebook.canonical(coding.code)] += 1
        self.others: dict[str, dict[str, list[Coding]]] = {}
        for other in others:
            if other not in corpus.coders:
                raise UnknownName("coder", other, did_you_mean(other, corpus.coders))
            per_transcript: dict[str, list[Coding]] = {}
            for coding in corpus.codings(other):
                per_transcript.setdefault(coding.transcript, []).append(coding)
            self.others[other] = per_transcript
        self.review: str | None = None
        self._review_family: set[str] = set()
        if review is not None:
            self.review = self.codebook.require(review).id
            self._review_family = set(self.codebook.descendants(self.review))
        self.history: list[Change] = []
        self.t_index = 0
        self.p_index = 0
        self._cursor: TextCursor | None = None
        self._cursor_key: tuple[int, int] | None = None
        self._last_position = replay.last_position if replay else None

    def __enter__(self) -> CodingSession:
        """Hold the coder's session lock while coding (one session per coder; see
        ``qcode.store.locks.SessionLock``)."""
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    # -- where we are ------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.transcripts[self.t_index]

    @property
    def passage(self) -> Passage | None:
        passages = self.transcript.passages
        return passages[self.p_index] if passages else None

    def passage_text(self, passage: Passage | None = None) -> str:
        passage = passage or self.passage
        return self.transcript.body[passage.start:passage.end] if passage else ""

    def codings_on(self, passage: Passage | None = None, coder: str | None = None
                   ) -> list[Coding]:
        """This coder's (or another coder's) codings touching a passage of the current
        transcript."""
        passage = passage or self.passage
        if passage is None:
            return []
        if coder is None or coder == self.coder:
            pool = self._mine.get(self.transcript.id, [])
        else:
            pool = self.others.get(coder, {}).get(self.transcript.id, [])
        return [c for c in pool if c.start < passage.end and passage.start < c.end]

    def codes_on(self, passage: Passage | None = None, coder: str | None = None) -> list[str]:
        """Code ids on a passage, in codebook order, each once."""
        present = {self.codebook.canonical(c.code) for c in self.codings_on(passage, coder)}
        return [c.id for c in self.codebook if c.id in present]

    def is_whole(self, coding: Coding, passage: Passage | None = None) -> bool:
        passage = passage or self.passage
        return passage is not None and (coding.start, coding.end) == (passage.start,
                                                                        passage.end)

    def is_coded(self, passage: Passage) -> bool:
        return bool(self.codings_on(passage))

    def counts(self) -> Counter[str]:
        """Codings per code of this coder in the transcripts of this session (kept up to
        date by every change, never recounted)."""
        return self._counts

    def _visible(self, passage: Passage) -> bool:
        if self.review is None:
            return True
        return any(self.codebook.canonical(c.code) in self._review_family
                   for c in self.codings_on(passage))

    # -- moving ------------------------------------------------------------------------------

    def start_at_first_uncoded(self) -> bool:
        """Put the cursor on the first uncoded passage of the first transcript that has
        one; False (cursor at the very start) when everything is coded."""
        for t_index, transcript in enumerate(self.transcripts):
            for p_index, passage in enumerate(transcript.passages):
                if not self._is_coded_in(transcript, passage):
                    self.t_index, self.p_index = t_index, p_index
                    return True
        self.t_index = self.p_index = 0
        return False

    def _is_coded_in(self, transcript: Transcript, passage: Passage) -> bool:
        return any(c.start < passage.end and passage.start < c.end
                   for c in self._mine[transcript.id])

    def resume(self) -> bool:
        """Put the cursor where this coder last added or removed a coding, if that is in
        this session; True when it did."""
        if self._last_position is None:
            return False
        transcript_id, offset = self._last_position
        for t_index, transcript in enumerate(self.transcripts):
            if transcript.id == transcript_id:
                passage = transcript.passage_at(offset) or next(
                    (p for p in transcript.passages if p.start >= offset), None)
                self.t_index = t_index
                self.p_index = passage.number - 1 if passage else 0
                return True
        return False

    def goto(self, transcript: int, passage: int = 0) -> None:
        self.t_index = max(0, min(transcript, len(self.transcripts) - 1))
        count = len(self.transcript.passages)
        self.p_index = max(0, min(passage, count - 1)) if count else 0

    def move(self, delta: int) -> bool:
        """Next/previous passage (visible in review mode); False at either end."""
        step = 1 if delta > 0 else -1
        index = self.p_index
        passages = self.transcript.passages
        for _ in range(abs(delta)):
            index += step
            while 0 <= index < len(passages) and not self._visible(passages[index]):
                index += step
            if not 0 <= index < len(passages):
                return False
            self.p_index = index
        return True

    def advance(self) -> bool:
        """The next visible passage, crossing into the next transcripts; False at the end."""
        if self.move(1):
            return True
        for t_index in range(self.t_index + 1, len(self.transcripts)):
            if self._first_visible(t_index):
                return True
        return False

    def back(self) -> bool:
        """The previous visible passage, crossing into earlier transcripts."""
        if self.move(-1):
            return True
        for t_index in range(self.t_index - 1, -1, -1):
            visible = [i for i, p in enumerate(self.transcripts[t_index].passages)
                       if self._visible_in(t_index, p)]
            if visible:
                self.t_index, self.p_index = t_index, visible[-1]
                return True
        return False

    def _first_visible(self, t_index: int) -> bool:
        for p_index, passage in enumerate(self.transcripts[t_index].passages):
            if self._visible_in(t_index, passage):
                self.t_index, self.p_index = t_index, p_index
                return True
        return False

    def _visible_in(self, t_index: int, passage: Passage) -> bool:
        saved = self.t_index
        self.t_index = t_index
        try:
            return self._visible(passage)
        finally:
            self.t_index = saved

    def start_review(self) -> bool:
        """Put the cursor on the first passage coded with the reviewed code."""
        return any(self._first_visible(i) for i in range(len(self.transcripts)))

    def move_uncoded(self, delta: int) -> bool:
        """Next/previous passage without a coding of this coder, across transcripts."""
        step = 1 if delta > 0 else -1
        t_index, p_index = self.t_index, self.p_index + step
        while 0 <= t_index < len(self.transcripts):
            transcript = self.transcripts[t_index]
            passages = transcript.passages
            while 0 <= p_index < len(passages):
                if not self._is_coded_in(transcript, passages[p_index]):
                    self.t_index, self.p_index = t_index, p_index
                    return True
                p_index += step
            t_index += step
            if 0 <= t_index < len(self.transcripts):
                p_index = 0 if step > 0 else len(self.transcripts[t_index].passages) - 1
        return False

    # -- searching ---------------------------------------------------------------------------

    def search(self, pattern: str, **options: Any) -> list[Hit]:
        """The hits of ``pattern`` in this session's transcripts, in text order (the
        options of ``qcode.analysis.search.search``: ``mode``, ``speakers``, ...)."""
        from qcode.analysis.search import search

        chosen = [t.id for t in self.transcripts]
        return search(self.corpus, pattern, transcripts=chosen, **options).hits

    def next_hit(self, hits: Sequence[Hit], delta: int = 1) -> tuple[int, bool] | None:
        """The index of the first hit in a passage after the current one (``delta`` -1:
        before it) and whether the walk wrapped round the end; None without hits."""
        if not hits:
            return None
        order = {t.id: index for index, t in enumerate(self.transcripts)}
        here = (self.t_index, self.p_index)
        places = [(order.get(hit.transcript, -1), hit.passage - 1) for hit in hits]
        if delta > 0:
            after = next((i for i, place in enumerate(places) if place > here), None)
            return (0, True) if after is None else (after, False)
        before = [place for place in places if place < here]
        # the first hit of that passage, as walking forwards would reach it
        return places.index(before[-1] if before else places[-1]), not before

    def goto_hit(self, hit: Hit) -> None:
        """Put the cursor on the passage of ``hit``."""
        self._goto_id(hit.transcript, hit.passage)

    def move_transcript(self, delta: int) -> bool:
        target = self.t_index + delta
        if not 0 <= target < len(self.transcripts):
            return False
        self.t_index, self.p_index = target, 0
        passage = self.passage
        if self.review is not None and passage is not None and not self._visible(passage):
            self.move(1)
        return True

    # -- changing ----------------------------------------------------------------------------

    def require_code(self, name: str) -> Code:
        return self.codebook.require(name, codable=True)

    def match_code(self, answer: str) -> Code:
        """What a coder typed → a code: a shortcut key (one character), an id or former
        id, a unique id prefix, or a clear fuzzy match on ids and labels. Anything less
        certain is refused with the candidates, never guessed."""
        answer = answer.strip()
        if len(answer) == 1:
            code = self.codebook.by_key(answer)
            if code is None:
                raise UnknownName("shortcut key", answer,
                                  hint="`?` lists the keys; `qcode codes` the codebook")
            return self.require_code(code.id)
        code = self.codebook.resolve(answer)
        if code is not None:
            return self.require_code(code.id)
        codable = [c for c in self.codebook if c.codable]
        prefixed = [c for c in codable if c.id.startswith(answer.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        from rapidfuzz import fuzz, process

        names = [(c.id, c.id) for c in codable] + [(c.label, c.id) for c in codable]
        best: dict[str, float] = {}
        for _name, score, index in process.extract(
                answer, [n for n, _ in names], scorer=fuzz.WRatio, processor=str.lower,
                limit=12, score_cutoff=60):
            code_id = names[index][1]
            best[code_id] = max(best.get(code_id, 0), score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        if ranked and ranked[0][1] >= 85 and (len(ranked) == 1
                                              or ranked[0][1] - ranked[1][1] >= 8):
            return self.require_code(ranked[0][0])
        raise UnknownName("code", answer, [code_id for code_id, _ in ranked[:3]] or
                          [c.id for c in prefixed[:3]],
                          hint="type more of the id, or its shortcut key")

    def toggle(self, name: str) -> Change:
        """Code the whole passage, or uncode it if this code already covers it exactly."""
        code = self.require_code(name)
        passage = self._require_passage()
        existing = [c for c in self.codings_on(passage) if self.codebook.canonical(c.code) == code.id
                    and self.is_whole(c, passage)]
        if existing:
            return self._apply(remove=existing)
        return self._apply(add=[(code.id, passage.start, passage.end, None)])

    def set_codes(self, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Change:
        """Add codes to the whole passage (those not there yet) and remove codes (every
        coding of them on the passage), in one undoable change."""
        passage = self._require_passage()
        present = set(self.codes_on(passage))
        additions: list[tuple[str, int, int, str | None]] = []
        for name in add:
            code = self.require_code(name)
            if code.id not in present and code.id not in {a[0] for a in additions}:
                additions.append((code.id, passage.start, passage.end, None))
        removals = []
        for name in remove:
            code_id = self.codebook.require(name).id
            removals += [c for c in self.codings_on(passage)
                         if self.codebook.canonical(c.code) == code_id and c not in removals]
        return self._apply(add=additions, remove=removals)

    def code_span(self, name: str, start: int, end: int) -> Change:
        """Code part of the current passage, ``[start, end)`` in body offsets."""
        code = self.require_code(name)
        passage = self._require_passage()
        if not passage.start <= start < end <= passage.end:
            raise UsageError(f"span {start}:{end} is not inside passage {passage.number}")
        for coding in self.codings_on(passage):
            if (self.codebook.canonical(coding.code), coding.start, coding.end) == (code.id, start,
                                                                           end):
                return Change(self.transcript.id, passage.number)
        return self._apply(add=[(code.id, start, end, None)])

    def set_memo(self, memo: str) -> Change:
        """Give every coding of this coder on the passage this memo (empty: no memo).
        The log stays append-only: each coding is removed and added again with the memo."""
        passage = self._require_passage()
        targets = [c for c in self.codings_on(passage) if (c.memo or "") != memo]
        if not targets:
            if not self.codings_on(passage):
                raise QcodeError("this passage has no codings to attach a memo to",
                                 "code the passage first")
            return Change(self.transcript.id, passage.number)
        return self._apply(add=[(self.codebook.canonical(c.code), c.start, c.end, memo or None)
                                for c in targets], remove=targets)

    def undo(self) -> Change | None:
        """Reverse the last change of this session (append-only: removes its additions and
        adds back what it removed); the cursor returns to its passage."""
        while self.history:
            change = self.history.pop()
            if change.empty:
                continue
            self._goto_id(change.transcript, change.passage)
            reverse = self._apply(
                add=[(self.codebook.canonical(c.code), c.start, c.end, c.memo) for c in change.removed],
                remove=list(change.added), record=False)
            # Re-added codings have new ids: earlier changes must now undo those.
            renamed = {old.id: new for old, new in zip(change.removed, reverse.added,
                                                      strict=True)}
            for earlier in self.history:
                earlier.added = [renamed.get(c.id, c) for c in earlier.added]
                earlier.removed = [renamed.get(c.id, c) for c in earlier.removed]
            return reverse
        return None

    def _goto_id(self, transcript_id: str, passage_number: int) -> None:
        for index, transcript in enumerate(self.transcripts):
            if transcript.id == transcript_id:
                self.goto(index, passage_number - 1)
                return

    def _require_passage(self) -> Passage:
        if self.passage is None:
            raise UsageError(f"transcript {self.transcript.id!r} has no passages")
        return self.passage

    def _apply(self, add: Iterable[tuple] = (), remove: Iterable[Coding] = (),
               record: bool = True) -> Change:
        transcript = self.transcript
        passage = self.passage
        events = [remove_event(c.id) for c in remove]
        new_events = [add_event(transcript.id, start, end, code, transcript.body[start:end],
                                memo) for code, start, end, memo in add]
        self.log.append(events + new_events)  # durable before anything changes on screen
        removed = list(remove)
        removed_ids = {c.id for c in removed}
        mine = self._mine[transcript.id]
        mine[:] = [c for c in mine if c.id not in removed_ids]
        added = [Coding(id=e["id"], coder=self.coder, transcript=e["transcript"],
                        start=e["start"], end=e["end"], code=e["code"], text=e["text"],
                        at=e["at"], memo=e.get("memo")) for e in new_events]
        mine.extend(added)
        self._counts.subtract(self.codebook.canonical(c.code) for c in removed)
        self._counts.update(self.codebook.canonical(c.code) for c in added)
        change = Change(transcript.id, passage.number if passage else 0, added, removed)
        if record and not change.empty:
            self.history.append(change)
        return change

    # -- inside the passage: the cursor, the selection, partial codings -------------------------

    @property
    def cursor(self) -> TextCursor:
        """The word cursor (and selection) in the current passage; a new passage starts
        with the cursor on its first word and nothing selected."""
        key = (self.t_index, self.p_index)
        if self._cursor is None or self._cursor_key != key:
            passage = self.passage
            body = self.transcript.body
            self._cursor = (TextCursor(body, passage.start, passage.end,
                                       speaker=passage.speaker is not None)
                            if passage is not None else TextCursor(body, 0, 0))
            self._cursor_key = key
        return self._cursor

    def codings_at(self, offset: int) -> list[Coding]:
        """This coder's codings over a body offset of the current transcript."""
        return [c for c in self._mine.get(self.transcript.id, []) if c.start <= offset < c.end]

    def apply_code(self, name: str) -> Change:
        """What a code's key does: with words selected, code exactly them (coding the same
        span again is a no-op, said by an empty change); with nothing selected, the code's
        presence on the passage toggles: every coding of it on the passage, whole or part,
        goes; or, when there is none, the whole passage is coded."""
        selection = self.cursor.selection
        if selection is not None:
            change = self.code_span(name, *selection)
            if not change.empty:
                self.cursor.clear()
            return change
        code = self.require_code(name)
        passage = self._require_passage()
        existing = [c for c in self.codings_on(passage)
                    if self.codebook.canonical(c.code) == code.id]
        if existing:
            return self._apply(remove=existing)
        return self._apply(add=[(code.id, passage.start, passage.end, None)])

    def set_coding_memo(self, coding: Coding, memo: str) -> Change:
        """Give one coding a memo (several lines allowed; empty: no memo), written as
        remove + add with the memo."""
        memo = memo.strip("\n")
        if (coding.memo or "") == memo:
            return Change(self.transcript.id, self.passage.number if self.passage else 0)
        return self._apply(add=[(self.codebook.canonical(coding.code), coding.start,
                                 coding.end, memo or None)], remove=[coding])

    def remove_coding(self, coding: Coding) -> Change:
        return self._apply(remove=[coding])

    def resize_coding(self, coding: Coding, start: int, end: int) -> Change:
        """Give a coding another span in its passage (widen or narrow it), keeping its code
        and memo: written as remove + add, as every change."""
        passage = self._require_passage()
        if not passage.start <= start < end <= passage.end:
            raise UsageError(f"span {start}:{end} is not inside passage {passage.number}")
        if (start, end) == (coding.start, coding.end):
            return Change(self.transcript.id, passage.number)
        return self._apply(add=[(self.codebook.canonical(coding.code), start, end, coding.memo)],
                           remove=[coding])

    # -- plain text for line mode and tests ---------------------------------------------------

    def describe(self, passage: Passage | None = None) -> str:
        passage = passage or self.passage
        if passage is None:
            return f"{self.transcript.id}: (no passages)"
        total = len(self.transcript.passages)
        head = f"[{self.transcript.id}] passage {passage.number}/{total}"
        if passage.speaker:
            head += f"  {passage.speaker}"
        return head


__all__ = ["Change", "CodingSession", "SessionLock"]
