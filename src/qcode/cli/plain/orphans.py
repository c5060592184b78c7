"""``qcode code --review-orphans``: place by hand the codings ``qcode reanchor`` could not.

A line dialogue, one orphan at a time: its old text, the best candidate found in the
edited transcript, and the choice to accept the candidate, give a span or a piece of
text, drop the coding, or skip. Every decision is appended to the coder's log at once
(``remove`` + ``add`` with ``reanchored_from``, or a plain ``remove``) by
``qcode.coding.orphans.OrphanReview``.
"""

import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from qcode.cli.plain.dialogue import Dialogue
from qcode.errors import QcodeError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.anchoring import Placement
    from qcode.coding.orphans import OrphanReview
    from qcode.store.corpus import Corpus, HasCorpus

HELP = """\
  a            accept the best candidate
  START:END    place the coding on these body offsets
  t TEXT       place it on the first occurrence of TEXT in the transcript
  d            drop the coding (append a remove)
  s  or empty  skip, decide later
  q            quit"""


def run_orphan_review(corpus: "Corpus | HasCorpus", coder: str, stdin: TextIO,
                      stdout: TextIO, transcripts: list[str] | None = None,
                      width: int = 80) -> dict[str, int]:
    """Walk the coder's orphans, holding the coder's session lock; returns the tally."""
    from qcode.coding.orphans import OrphanReview

    with OrphanReview(corpus, coder, transcripts) as review:
        return _walk(review, Dialogue(stdin, stdout, width))


def _walk(review: "OrphanReview", dialogue: Dialogue) -> dict[str, int]:
    say, coder, width = dialogue.say, review.coder, dialogue.width
    orphans = review.orphans
    tally = {"placed": 0, "dropped": 0, "skipped": 0}
    if not orphans:
        say(f"no orphaned codings for {coder}: nothing to place")
        return tally
    say(f"{len(orphans)} orphaned codings of {coder} (`?` for the answers)")
    for number, orphan in enumerate(orphans, start=1):
        _show(say, number, len(orphans), orphan, width)
        while True:
            answer = dialogue.ask()
            if answer is None:
                say(f"end of input: {_summary(tally)}")
                return tally
            if answer == "q":
                say(f"quit: {_summary(tally)}")
                return tally
            if answer == "?":
                say(HELP)
                continue
            if answer in ("", "s"):
                tally["skipped"] += 1
                break
            try:
                if answer == "d":
                    review.drop(orphan)
                else:
                    start, end = review.target(orphan, answer)
                    review.place(orphan, start, end)
            except QcodeError as exc:
                say(f"error: {exc.message}")
                continue
            if answer == "d":
                tally["dropped"] += 1
                say("saved: dropped")
                break
            tally["placed"] += 1
            say(f"saved: placed at {start}:{end}")
            break
    say(f"done: {_summary(tally)}")
    return tally


def _show(say: Callable[..., None], number: int, total: int, orphan: "Placement",
          width: int) -> None:
    coding = orphan.coding
    say()
    say(f"[orphan {number}/{total}] {coding.code} in {coding.transcript} "
        f"(was {coding.start}:{coding.end}; {orphan.reason})")
    say("old text:")
    say(textwrap.indent(textwrap.fill(coding.text, width=width - 2), "  "))
    candidate = orphan.candidate
    if candidate is not None:
        say(f"best candidate ({candidate.start}:{candidate.end}, score {candidate.score:.0f}):")
        say(textwrap.indent(textwrap.fill(candidate.text, width=width - 2), "  "))
    else:
        say("no candidate found")


def _summary(tally: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in tally.items())
