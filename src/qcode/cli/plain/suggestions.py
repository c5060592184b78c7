"""``qcode code --suggestions --plain``: reviewing auto-coding proposals line by line.

One suggestion at a time: where it is, the code and what proposed it (the rule, or the
learned model's probability and the words that weighed most), the text with the matched
words marked ``**like this**``, and a ``>`` prompt. Every decision is
appended (and fsynced) before the next suggestion is shown; accepting adds the coding to
the coder's own log with ``memo: "autocode: <rule>"`` (``qcode.coding.review.Review``).
"""


from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from qcode.analysis.excerpts import highlight
from qcode.cli.plain.dialogue import Dialogue

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.review import Review
    from qcode.format.transcripts import Passage, Transcript
    from qcode.store.corpus import Corpus, HasCorpus
    from qcode.store.suggestions import Suggestion

HELP = """\
Answer with one line per suggestion:
  a              accept: add the code to your log (memo "autocode: <rule>")
  r              reject: never propose this again
  A              accept every pending suggestion of this code in this transcript
  R              reject every pending suggestion of this code in this transcript
  s  . or empty  skip it for now (it stays pending)
  ?              this help
  q              quit (every decision is already saved)
"""


def run_suggestions_plain(corpus: "Corpus | HasCorpus", coder: str, stdin: TextIO,
                          stdout: TextIO, source: str | None = None,
                          transcripts: list[str] | None = None, width: int = 80,
                          order: str = "certain", kind: str | None = None) -> int:
    """Walk the pending suggestions in ``codings/<source>.suggestions.jsonl`` (default
    source: ``coder``); what ``coder`` accepts goes to ``codings/<coder>.jsonl``. Holds
    the coder's session lock while it runs. ``order`` and ``kind`` are those of
    ``qcode.coding.review.Review`` (learned suggestions most certain first by default).

    Returns the number of decisions saved (accepted plus rejected suggestions).
    """
    from qcode.coding.review import Review

    with Review(corpus, coder, source=source, transcripts=transcripts, order=order,
                kind=kind) as review:
        return _walk(review, stdin, stdout, width)


def _walk(review: "Review", stdin: TextIO, stdout: TextIO, width: int) -> int:
    dialogue = Dialogue(stdin, stdout, width)
    say = dialogue.say
    queue = review.queue()
    if not queue:
        say(_nothing_pending(review))
        return 0
    say(f"{len(queue)} suggestions to review for {review.coder} from {review.log.rel}"
        f"{_order_note(review, queue)} (? for help)")
    dialogue.walk(
        queue, lambda suggestion, position: _show(review, suggestion, position, len(queue),
                                                  dialogue),
        lambda suggestion, reply: _answer(review, suggestion, reply, say),
        lambda skipped: _tally(review, skipped), "end: no more suggestions", HELP,
        still_open=review.is_pending)  # an A or R may decide later ones
    return review.accepted + review.rejected


def _answer(review: "Review", suggestion: "Suggestion", answer: str,
            say: Callable[[str], None]) -> str:
    """Carry out one answer; returns "decided", "skip", "quit" or "again"."""
    code = review.codebook.resolve(suggestion.code)
    code_id = code.id if code else suggestion.code
    if answer == "a":
        review.accept([suggestion])
        say(f"saved: +{code_id} ({suggestion.transcript} {_where(review, suggestion)})")
        return "decided"
    if answer == "r":
        review.reject([suggestion])
        say(f"saved: rejected {code_id} ({suggestion.transcript} "
            f"{_where(review, suggestion)})")
        return "decided"
    if answer == "A":
        codings = review.accept_all(suggestion.transcript, code_id)
        say(f"saved: +{code_id} ({len(codings)} in {suggestion.transcript})")
        return "decided"
    if answer == "R":
        count = review.reject_all(suggestion.transcript, code_id)
        say(f"saved: rejected {code_id} ({count} in {suggestion.transcript})")
        return "decided"
    say(f"error: {answer!r} is not an answer here (a, r, A, R, s, q; ? for help)")
    return "again"


def _show(review: "Review", suggestion: "Suggestion", index: int, total: int,
          dialogue: Dialogue) -> None:
    from qcode.coding.review import provenance

    say = dialogue.say
    transcript = review.transcript(suggestion)
    passages = transcript.passages_overlapping(suggestion.start, suggestion.end)
    passage = passages[0] if passages else None
    code = review.codebook.resolve(suggestion.code)
    code_id = code.id if code else suggestion.code
    say()
    where = _where(review, suggestion)
    speaker = f"  {passage.speaker}" if passage and passage.speaker else ""
    say(f"[{index + 1}/{total}] [{transcript.id}] {where}{speaker}")
    say(f"suggested: {code_id}" + (f" ({code.label})" if code else ""))
    say(provenance(suggestion))
    matches = [(start, end) for start, end in suggestion.matches]
    dialogue.text(highlight(suggestion.text, suggestion.start, matches))
    mine = _codes_on(review, transcript, passage)
    say(f"your codes here: {', '.join(mine) or '-'}")
    same = len(review.pending(transcript.id, code_id))
    say(f"a accept · r reject · A/R accept/reject all {same} of {code_id} in "
        f"{transcript.id} · s skip · q quit")


def _order_note(review: "Review", queue: list["Suggestion"]) -> str:
    """Say how the queue is ordered when that is not plain position order."""
    learned = sum(1 for s in queue if s.source == "learned")
    if not learned or review.order == "position":
        return ""
    how = "most certain first" if review.order == "certain" else "least certain first"
    rules = len(queue) - learned
    return f"; {learned} learned {how}" + (f", then {rules} from rules" if rules else "")


def _where(review: "Review", suggestion: "Suggestion") -> str:
    transcript = review.transcript(suggestion)
    passages = transcript.passages_overlapping(suggestion.start, suggestion.end)
    if not passages:
        return f"{suggestion.start}:{suggestion.end}"
    passage = passages[0]
    text = f"passage {passage.number}/{len(transcript.passages)}"
    if (suggestion.start, suggestion.end) != (passage.start, passage.end):
        text += " (part)"
    return text


def _codes_on(review: "Review", transcript: "Transcript", passage: "Passage | None"
              ) -> list[str]:
    return review.codes_on(transcript.id, passage) if passage is not None else []


def _tally(review: "Review", skipped: int) -> str:
    return (f"{review.accepted} accepted, {review.rejected} rejected, {skipped} skipped, "
            f"{len(review.pending())} still pending")


def _nothing_pending(review: "Review") -> str:
    if not review.log.exists():
        others = [c for c in review.corpus.store.suggestion_logs() if c != review.source]
        hint = (f"; there are suggestions from {', '.join(others)} "
                f"(--from {others[0]})" if others else "")
        return (f"no suggestions in {review.log.rel}: run `qcode autocode --coder "
                f"{review.source}` first{hint}")
    return f"no pending suggestions in {review.log.rel}"
