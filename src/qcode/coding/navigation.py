"""Moving through a session's transcripts: passage by passage, to the next passage
without a coding, between transcripts, to search hits. A part of ``CodingSession``
(``qcode.coding.session``), kept in a module of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.format.transcripts import Passage, Transcript
    from qcode.store.codings import Coding
    from qcode.store.corpus import Corpus


class Navigation:
    """Where the coder is: ``t_index`` (transcript) and ``p_index`` (passage)."""

    transcripts: list[Transcript]
    t_index: int
    p_index: int
    review: str | None
    corpus: Corpus
    coder: str
    _mine: dict[str, list[Coding]]
    _last_position: tuple[str, int] | None

    if TYPE_CHECKING:  # provided by CodingSession
        @property
        def transcript(self) -> Transcript: ...

        @property
        def passage(self) -> Passage | None: ...

        def _visible(self, passage: Passage) -> bool: ...

        def passed_over(self, passage: Passage, transcript: Transcript | None = None
                        ) -> bool: ...

        def is_interviewer(self, passage: Passage) -> bool: ...

        include_interviewer: bool

    # -- moving ------------------------------------------------------------------------------

    def start_at_first_uncoded(self) -> bool:
        """Put the cursor on the first uncoded passage of the first transcript that has
        one; False (cursor at the very start) when everything is coded."""
        for t_index, transcript in enumerate(self.transcripts):
            for p_index, passage in enumerate(transcript.passages):
                if not self._is_coded_in(transcript, passage) \
                        and not self.is_interviewer(passage):
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

    def move(self, delta: int, walk: bool = False) -> bool:
        """Next/previous passage (visible in review mode; with ``walk``, not one the walk
        passes over); False at either end."""
        step = 1 if delta > 0 else -1
        index = self.p_index
        passages = self.transcript.passages
        for _ in range(abs(delta)):
            index += step
            while 0 <= index < len(passages) and not self._stop(self.t_index,
                                                                 passages[index], walk):
                index += step
            if not 0 <= index < len(passages):
                return False
            self.p_index = index
        return True

    def advance(self) -> bool:
        """The walk: the next visible passage, crossing into the next transcripts and
        passing over interviewers' uncoded turns; False at the end."""
        if self.move(1, walk=True):
            return True
        for t_index in range(self.t_index + 1, len(self.transcripts)):
            if self._first_visible(t_index, walk=True):
                return True
        return False

    def back(self) -> bool:
        """The walk backwards: the previous visible passage, crossing into earlier
        transcripts."""
        if self.move(-1, walk=True):
            return True
        for t_index in range(self.t_index - 1, -1, -1):
            visible = [i for i, p in enumerate(self.transcripts[t_index].passages)
                       if self._stop(t_index, p, walk=True)]
            if visible:
                self.t_index, self.p_index = t_index, visible[-1]
                return True
        return False

    def settle(self) -> bool:
        """On a passage the walk passes over (a transcript opening with a question), move
        on to the next one it stops at; True when the cursor moved."""
        passage = self.passage
        return passage is not None and self.passed_over(passage) and self.advance()

    def _first_visible(self, t_index: int, walk: bool = False) -> bool:
        for p_index, passage in enumerate(self.transcripts[t_index].passages):
            if self._stop(t_index, passage, walk):
                self.t_index, self.p_index = t_index, p_index
                return True
        return False

    def _stop(self, t_index: int, passage: Passage, walk: bool) -> bool:
        if walk and self.passed_over(passage, self.transcripts[t_index]):
            return False
        return self._visible_in(t_index, passage)

    def _visible_in(self, t_index: int, passage: Passage) -> bool:
        if self.review is None:
            return True
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
        """Next/previous passage without a coding of this coder, across transcripts; not
        an interviewer's turn (``is_interviewer``)."""
        step = 1 if delta > 0 else -1
        t_index, p_index = self.t_index, self.p_index + step
        while 0 <= t_index < len(self.transcripts):
            transcript = self.transcripts[t_index]
            passages = transcript.passages
            while 0 <= p_index < len(passages):
                if not self._is_coded_in(transcript, passages[p_index]) \
                        and not self.is_interviewer(passages[p_index]):
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
        options of ``qcode.analysis.search.search``: ``mode``, ``speakers``, ...); the
        interviewers' turns are searched when the session stops on them."""
        from qcode.analysis.search import search

        chosen = [t.id for t in self.transcripts]
        options.setdefault("include_interviewer", self.include_interviewer)
        hits = search(self.corpus, pattern, transcripts=chosen, **options).hits
        order = {t.id: index for index, t in enumerate(self.transcripts)}
        return sorted(hits, key=lambda h: (order[h.transcript], h.start))  # the walk's order

    def step_hit(self, hits: Sequence[Hit], current: int | None, delta: int = 1
                 ) -> tuple[int, bool] | None:
        """The hit to go to ``delta`` on from hit ``current`` (the one last gone to): its
        neighbour in ``hits`` while the cursor is still in its passage, else the first
        hit after (``delta`` -1: before) the passage the cursor is on; and whether the
        walk wrapped round. None without hits."""
        if not hits:
            return None
        if current is not None and 0 <= current < len(hits):
            hit, passage = hits[current], self.passage
            if (hit.transcript == self.transcript.id and passage is not None
                    and hit.passage == passage.number):
                target = current + delta
                return target % len(hits), not 0 <= target < len(hits)
        return self.next_hit(hits, delta)

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

    def _goto_id(self, transcript_id: str, passage_number: int) -> None:
        for index, transcript in enumerate(self.transcripts):
            if transcript.id == transcript_id:
                self.goto(index, passage_number - 1)
                return
