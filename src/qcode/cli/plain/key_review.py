"""``qcode pseudonymise review --plain``: the key's candidates, one at a time.

Each candidate shows its count, the transcripts it occurs in and a few places (file:line
and the words around it, the candidate marked ``**like this**``), then a ``>`` prompt.
Every decision is saved to the key before the next candidate is shown
(``qcode.coding.key_review.KeyReview``).
"""

from typing import TextIO

from qcode.cli.plain.dialogue import Dialogue
from qcode.coding.key_review import KeyReview
from qcode.format.pseudonyms import KINDS, KeyEntry

HELP = """\
Answer with one line per candidate:
  1 person  2 school  3 place  4 organisation  5 other
                 accept with that kind; you are then asked for the replacement
                 (empty: the placeholder offered). "2 [Skole Nord]" says both at once.
  n              not identifying: kind none, never proposed again
  s  . or empty  skip it for now (it stays ?)
  ?              this help
  q              quit (every decision is already saved)
"""

_BY_ANSWER = {str(i): kind for i, kind in enumerate(KINDS, start=1)} | {k: k for k in KINDS}


def run_key_review_plain(review: KeyReview, stdin: TextIO, stdout: TextIO,
                         width: int = 80) -> int:
    """Walk the key's ``?`` rows; returns the number of decisions saved."""
    dialogue = Dialogue(stdin, stdout, width)
    say = dialogue.say
    queue = review.pending()
    if not queue:
        say(f"no candidates to review in {review.path} (kind ?): run `qcode pseudonymise "
            f"scan --add-to-key {review.path}` to find some")
        return 0
    say(f"{len(queue)} candidates to review in {review.path} (? for help)")
    dialogue.walk(
        queue, lambda entry, position: _show(review, entry, position, len(queue), dialogue),
        lambda entry, reply: _answer(review, entry, reply, dialogue),
        lambda skipped: _tally(review, skipped), "end: no more candidates", HELP)
    return review.accepted + review.dismissed


def _answer(review: KeyReview, entry: KeyEntry, answer: str, dialogue: Dialogue) -> str:
    """Carry out one answer; returns "decided", "skip", "quit" or "again"."""
    say = dialogue.say
    if answer == "n":
        review.dismiss(entry)
        say(f"saved: {entry.original} is not identifying (none)")
        return "decided"
    first, _, rest = answer.partition(" ")
    kind = _BY_ANSWER.get(first.lower())
    if kind is None:
        say(f"error: {answer!r} is not an answer here (1-5, n, s, q; ? for help)")
        return "again"
    replacement = rest.strip()
    if not replacement:
        offered = review.placeholder(kind)
        typed = dialogue.ask(f"replacement [{offered}]: ")
        if typed is None:
            return "again"
        replacement = typed or offered
    decided = review.accept(entry, kind, replacement)
    say(f"saved: {decided.original} → {decided.replacement} ({decided.kind})")
    return "decided"


def _show(review: KeyReview, entry: KeyEntry, index: int, total: int,
          dialogue: Dialogue) -> None:
    say = dialogue.say
    say()
    candidate = review.candidate(entry)
    if candidate is None:
        say(f"[{index + 1}/{total}] {entry.original}  (not found in the project now)")
    else:
        where = ", ".join(candidate.transcripts) or "memos"
        say(f"[{index + 1}/{total}] {entry.original}  ({candidate.count}× in {where})")
        for place in candidate.places:
            say(f"  {place.file}:{place.line}")
            dialogue.text(place.snippet, indent="    ")
    say("1 person · 2 school · 3 place · 4 organisation · 5 other · n not identifying · "
        "s skip · q quit")


def _tally(review: KeyReview, skipped: int) -> str:
    return (f"{review.accepted} accepted, {review.dismissed} not identifying, {skipped} "
            f"skipped, {len(review.pending())} still to review")
