"""Placing orphans by hand: the codings ``qcode reanchor`` could not move after a
transcript edit, one at a time (``qcode code --review-orphans``).

Each decision is appended to the coder's log at once: a placement as ``remove`` + ``add``
with ``reanchored_from`` (``anchoring.place_coding``), a drop as a plain ``remove``.
"""

from __future__ import annotations

from collections.abc import Iterable

from qcode.coding.anchoring import Placement, list_orphans, place_coding
from qcode.errors import QcodeError, UsageError
from qcode.format.names import check_coder_name
from qcode.store.codings import Coding
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, remove_event


class OrphanReview:
    """One coder's orphaned codings and the decisions on them."""

    def __init__(self, corpus: Corpus | HasCorpus, coder: str,
                 transcripts: Iterable[str] | None = None) -> None:
        corpus = as_corpus(corpus)
        check_coder_name(coder)
        self.corpus = corpus
        self.coder = coder
        self.lock = corpus.store.session_lock(coder)
        self.orphans: list[Placement] = list_orphans(corpus, transcripts, coders=coder)

    def __enter__(self) -> OrphanReview:
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    def target(self, orphan: Placement, answer: str) -> tuple[int, int]:
        """Where an answer puts an orphan: ``a`` (the best candidate), ``START:END`` body
        offsets, or ``t TEXT`` (the first occurrence of TEXT in the transcript)."""
        if answer == "a":
            if orphan.candidate is None:
                raise UsageError("there is no candidate to accept")
            return orphan.candidate.start, orphan.candidate.end
        head, sep, tail = answer.partition(":")
        if sep and head.isdecimal() and tail.isdecimal():
            return int(head), int(tail)
        if answer.startswith("t "):
            text = answer[2:].strip()
            body = self.corpus.transcript(orphan.coding.transcript).body
            start = body.find(text)
            if not text or start < 0:
                raise UsageError(f"{text!r} does not occur in {orphan.coding.transcript}")
            return start, start + len(text)
        raise UsageError(f"{answer!r} is not an answer (`?` lists them)")

    def place(self, orphan: Placement, start: int, end: int) -> str:
        """Move the orphan's coding onto ``[start, end)``; returns the new coding's id."""
        return place_coding(self.corpus, orphan.coding, start, end)

    def drop(self, orphan: Placement) -> None:
        """Withdraw the orphan's coding (a ``remove``), if it is still as it was read."""
        planned = orphan.coding

        def build(active: dict[str, Coding]) -> list[Event]:
            if planned.id not in active:
                raise QcodeError(f"coding {planned.id} changed in {planned.coder}'s log since "
                                 "it was read", "reload and try again")
            return [remove_event(planned.id)]

        self.corpus.store.log(planned.coder).append_checked(build)
