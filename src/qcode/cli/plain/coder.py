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
  N: ...            the same, checked to be for passage N (refused when it is not: an
                    answers file that slipped by a line stops instead of coding the
                    wrong passages)
  .  or empty       next passage, no change (:next)
  b                 back one passage (:back)
  u                 undo the last answer (and go back to its passage)
  m TEXT            memo on this passage's codings (m alone removes it)
  ?                 this help
  q                 quit (everything is already saved)
A code whose shortcut key is b or . takes that key: then :back or :next moves.
After the last passage the session waits: b goes back, m writes a memo on the last
passage, q (or the end of input) ends it.
"""

_SPLIT = re.compile(r"[\s,]+")
_NUMBERED = re.compile(r"([0-9]+):(?:\s+(.*))?")


def run_plain(session: "CodingSession", stdin: TextIO, stdout: TextIO,
              compare: str | None = None, width: int = 80) -> int:
    """Drive a session from ``stdin``; returns the number of answers saved."""
    dialogue = Dialogue(stdin, stdout, width)
    say = dialogue.say
    keys = {c.key for c in session.codebook if c.key}

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

    def command(answer: str) -> str | None:
        """The command an answer is, or None for codes (a key that is a code's wins)."""
        if answer in ("", ":next") or (answer == "." and "." not in keys):
            return "next"
        if answer in (":back",) or (answer == "b" and "b" not in keys):
            return "back"
        if answer in ("q", ":quit"):
            return "quit"
        if answer in ("?", ":help"):
            return "help"
        if answer in ("u", ":undo"):
            return "undo"
        if answer == "m" or answer.startswith("m ") or answer.startswith(":memo"):
            return "memo"
        return None

    def move_on() -> bool:
        """To the next passage and show it; False (and say so) after the last."""
        if session.advance():
            show()
            return True
        say("end: no more passages (b goes back, m TEXT writes a memo on the last "
            "passage, q quits)")
        return False

    saved = 0
    at_end = False
    show()
    while True:
        answer = dialogue.ask()
        if answer is None:  # end of input ends the session cleanly
            say()
            say(f"end of input: {saved} answers saved")
            return saved
        numbered = _NUMBERED.fullmatch(answer)
        if numbered is not None:
            wanted = int(numbered.group(1))
            current = session.passage.number if session.passage else 0
            if at_end or wanted != current:
                say(f"error: this answer is for passage {wanted}, but the session is "
                    f"{'past the last passage' if at_end else f'at passage {current}'}; "
                    "nothing saved (an answers file out of step?)")
                continue
            answer = (numbered.group(2) or "").strip()
            if not answer:
                answer = ":next"
        kind = command(answer)
        if kind == "quit":
            say(f"quit: {saved} answers saved")
            return saved
        if kind == "help":
            say(HELP.rstrip())
            continue
        if kind == "back":
            if at_end:
                at_end = False
            elif not session.back():
                say("already at the first passage")
            show()
            continue
        if kind == "undo":
            change = session.undo()
            at_end = False
            if change is None:
                say("nothing to undo in this session")
            else:
                say(f"undone: {_change_text(change, session)}")
            show()
            continue
        if kind == "memo":
            text = answer.removeprefix(":memo").removeprefix("m").strip()
            try:
                change = session.set_memo(text)
            except QcodeError as exc:
                say(f"error: {exc.message}")
                continue
            say(f"saved memo{'' if change.added else ' (unchanged)'}")
            continue
        if at_end:
            if kind == "next":
                say("end: no more passages (b goes back, q quits)")
            else:
                say("error: past the last passage; nothing saved (b goes back to it)")
            continue
        if kind == "next":
            at_end = not move_on()
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
        at_end = not move_on()


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
