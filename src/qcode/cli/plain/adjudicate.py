"""``qcode adjudicate --plain``: one question per disagreement between two coders.

Each disagreement shows the passage (once per passage), the code and what each coder
coded; the answer (``a``, ``b``, ``ab``, ``n``, ``e`` then the spans, ``s``, ``q``) is
appended to the consensus log by ``qcode.coding.adjudication.Adjudication`` before the
next question.
"""

from typing import TYPE_CHECKING, TextIO

from qcode.cli.output import note
from qcode.cli.plain.dialogue import Dialogue
from qcode.coding.adjudication import parse_span
from qcode.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.reliability import Span
    from qcode.coding.adjudication import Adjudication, Item

_CHOICES = {
    "a": "a", "b": "b", "ab": "both", "both": "both", "n": "neither", "neither": "neither",
    "e": "edit", "edit": "edit", "s": "skip", "skip": "skip", "q": "quit", "quit": "quit",
}


def _coverage(item: "Item", spans: "tuple[Span, ...]") -> str:
    if not spans:
        return "—"
    if spans == ((item.start, item.end),):
        return "the whole passage"
    return "; ".join(f"{s}:{e} «{item.excerpt((s, e))}»" for s, e in spans)


def _show(dialogue: Dialogue, session: "Adjudication", item: "Item", index: int, total: int,
          new_passage: bool) -> None:
    _say = dialogue.say
    label = session.corpus.codebook.require(item.code).label
    if new_passage:
        speaker = f" · {item.speaker}" if item.speaker else ""
        _say()
        _say(f"== {item.transcript} · passage {item.passage}{speaker} (line {item.line})")
        for line in item.text.split("\n"):
            _say(f"   {line}")
    _say()
    _say(f"[{index}/{total}] {item.code} ({label}) — {item.kind}")
    _say(f"   {session.first}: {_coverage(item, item.first)}")
    for memo in item.first_memos:
        _say(f"      {session.first}'s memo: {memo}")
    _say(f"   {session.second}: {_coverage(item, item.second)}")
    for memo in item.second_memos:
        _say(f"      {session.second}'s memo: {memo}")


def _ask_span(dialogue: Dialogue, item: "Item") -> "tuple[Span, ...] | None":
    """The spans of an edit, asked until they parse; None for an empty answer or EOF."""
    while True:
        text = _ask(dialogue, "   code what? (passage, none, START:END or text from the "
                              "passage; empty: back) > ")
        if not text:
            return None
        try:
            return parse_span(text, item)
        except UsageError as exc:
            dialogue.say(f"   ? {exc.message}")


def _ask(dialogue: Dialogue, prompt: str) -> str | None:
    answer = dialogue.ask(prompt)
    if answer is None:
        dialogue.say()  # end of input: end the prompt's line
    return answer


def run_adjudication_plain(session: "Adjudication", stdin: TextIO, stdout: TextIO) -> None:
    """Ask for a decision on every pending disagreement, one line each."""
    dialogue = Dialogue(stdin, stdout)
    _say = dialogue.say
    pending = session.pending()
    prompt = (f"   a={session.first} b={session.second} ab=both n=neither e=edit s=skip "
              "q=quit > ")
    decided = skipped = 0
    previous = None
    stopped = False
    for index, item in enumerate(pending, start=1):
        _show(dialogue, session, item, index, len(pending),
              (item.transcript, item.passage) != previous)
        previous = (item.transcript, item.passage)
        while True:
            answer = _ask(dialogue, prompt)
            word, _, reason = (answer or "").partition(" ")
            if answer is None or _CHOICES.get(word.lower()) == "quit":
                stopped = True
                break
            choice = _CHOICES.get(word.lower())
            if choice is None:
                _say(f"   ? {answer!r} is not a choice: a takes {session.first}'s coding, b "
                     f"{session.second}'s, ab both, n neither, e edits it, s skips it for "
                     "now, q quits (decisions so far are saved); words after the choice "
                     "are the reason, e.g. `b the turn names no act of the principal`")
                continue
            if choice == "skip":
                skipped += 1
                break
            spans = None
            if choice == "edit":
                spans = _ask_span(dialogue, item)
                if spans is None:  # an empty answer: back to the choices
                    continue
            result = session.decide(item, choice, spans, reason.strip() or None)
            decided += 1
            _say(f"   -> {session.into}: {_coverage(item, result.spans)}"
                 + (f" (reason: {reason.strip()})" if reason.strip() else ""))
            break
        if stopped:
            break
    done, total = session.progress()
    note(f"decided {decided}, skipped {skipped}; {total - done} of {total} disagreement(s) "
         f"still to decide" + ("; run the command again to continue" if done < total
                               else "; adjudication complete"))
