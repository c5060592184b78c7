"""``qcode code --plain``: coding one passage at a time on standard input and output.

For screen readers, slow SSH links and scripts. Every answer is one line; the answer is
saved (appended and fsynced) before the next passage is shown, and ``saved`` is printed
only after that, so a file of answers can drive a session and a killed session loses
nothing that was reported saved.
"""


import re
from typing import TYPE_CHECKING, TextIO

from qcode.cli.plain.dialogue import Dialogue
from qcode.errors import QcodeError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import Change, CodingSession

HELP = """\
Answer with one line per passage:
  CODE [CODE ...]   add codes (ids, former ids or shortcut keys; spaces or commas)
  -CODE             remove a code from this passage
  .  or empty       next passage, no change
  b                 back one passage
  u                 undo the last answer (and go back to its passage)
  m TEXT            memo on this passage's codings (m alone removes it)
  ?                 this help
  q                 quit (everything is already saved)
"""

_SPLIT = re.compile(r"[\s,]+")


def run_plain(session: "CodingSession", stdin: TextIO, stdout: TextIO,
              compare: str | None = None, width: int = 80) -> int:
    """Drive a session from ``stdin``; returns the number of answers saved."""
    dialogue = Dialogue(stdin, stdout, width)
    say = dialogue.say

    def show() -> None:
        passage = session.passage
        say()
        say(session.describe())
        if passage is None:
            return
        dialogue.text(session.passage_text())
        say(f"codes: {_codes_text(session)}")
        if compare:
            say(f"{compare}: {', '.join(session.codes_on(coder=compare)) or '-'}")

    saved = 0
    show()
    while True:
        answer = dialogue.ask()
        if answer is None:  # end of input ends the session cleanly
            say()
            say(f"end of input: {saved} answers saved")
            return saved
        if answer in ("", "."):
            if not session.advance():
                say("end: no more passages")
                return saved
            show()
            continue
        if answer == "q":
            say(f"quit: {saved} answers saved")
            return saved
        if answer == "?":
            say(HELP.rstrip())
            continue
        if answer == "b":
            if not session.back():
                say("already at the first passage")
            show()
            continue
        if answer == "u":
            change = session.undo()
            if change is None:
                say("nothing to undo in this session")
            else:
                say(f"undone: {_change_text(change, session)}")
            show()
            continue
        if answer == "m" or answer.startswith("m "):
            try:
                change = session.set_memo(answer[2:].strip())
            except QcodeError as exc:
                say(f"error: {exc.message}")
                continue
            say(f"saved memo{'' if change.added else ' (unchanged)'}")
            continue
        try:
            add, remove = _parse(session, answer)
            change = session.set_codes(add, remove)
        except QcodeError as exc:
            dialogue.error(exc)
            continue
        saved += 1
        say(f"saved: {_change_text(change, session)}" if not change.empty
            else "saved: no change (already so)")
        if not session.advance():
            say("end: no more passages")
            return saved
        show()


def _parse(session: "CodingSession", answer: str) -> tuple[list[str], list[str]]:
    add, remove = [], []
    for token in _SPLIT.split(answer):
        if not token:
            continue
        if token.startswith("-") and len(token) > 1:
            remove.append(session.match_code(token[1:]).id)
        else:
            add.append(session.match_code(token).id)
    return add, remove


def _codes_text(session: "CodingSession") -> str:
    passage = session.passage
    names = []
    for coding in session.codings_on():
        code = session.codebook.resolve(coding.code)
        name = code.id if code else coding.code
        if not session.is_whole(coding, passage):
            name = f"~{name}"
        if coding.memo:
            name += f" (memo: {coding.memo})"
        if name not in names:
            names.append(name)
    return ", ".join(names) or "-"


def _change_text(change: "Change", session: "CodingSession") -> str:
    parts = [f"+{c.code}" for c in change.added] + [f"-{c.code}" for c in change.removed]
    where = f"{change.transcript} passage {change.passage}"
    return f"{' '.join(parts) or 'nothing'} ({where})"
