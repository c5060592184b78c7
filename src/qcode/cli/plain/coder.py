"""``qcode code --plain``: coding one passage at a time on standard input and output.

For screen readers, slow SSH links and scripts. Every answer is one line; the answer is
saved (appended and fsynced) before the next passage is shown, and ``saved`` is printed
only after that, so a file of answers can drive a session and a killed session loses
nothing that was reported saved.
"""


import re
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from qcode.cli.plain.dialogue import Dialogue
from qcode.errors import QcodeError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.coding.session import Change, CodingSession
    from qcode.format.transcripts import Passage

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
  m TEXT            memo on every coding of this passage (m alone removes the memos)
  m CODE: TEXT      memo on this passage's coding of CODE only (its id, former id or
                    shortcut key; m CODE: alone removes it)
  m <<  or  m CODE: <<
                    a memo of several lines: type them, then a line holding only .
  :new ID LABEL [parent=PARENT] [key=K]
                    add a code to the codebook and use it at once (PARENT: an id,
                    former id or one-word label; none: top level). Only its lines
                    are written, the rest of the file stays as it is; refused, with
                    the reason, when `qcode check` would refuse the codebook
  s PATTERN         search your transcripts for PATTERN (words as in `qcode search`:
                    any case, * for any letters) and go to the next passage with a hit
                    after this one, wrapping round; s alone goes to the next hit
                    (:search PATTERN and :search work always)
  ?                 this help
  q                 quit (everything is already saved)
A code whose shortcut key is b, . or s takes that key: then :back, :next or :search.
Interviewers' turns (qcode.yaml `interviewer:`) you have not coded are passed over;
each is shown above the answer after it, marked |  (--include-interviewer stops on them).
After the last passage the session waits: b goes back, m writes a memo on the last
passage, q (or the end of input) ends it.
"""

_SPLIT = re.compile(r"[\s,]+")
_NUMBERED = re.compile(r"([0-9]+):(?:\s+(.*))?")
_CODE_MEMO = re.compile(r"(\S+):(?:\s+(.*))?", re.DOTALL)
_BLOCK = "<<"
_NEW_OPTION = re.compile(r"(parent|key)=(\S+)")
_NEW_USAGE = ":new ID LABEL [parent=PARENT] [key=K]"
_CONTEXT_TURNS = 2  # interviewers' turns shown above an answer, at most


def run_plain(session: "CodingSession", stdin: TextIO, stdout: TextIO,
              compare: str | None = None, width: int = 80) -> int:
    """Drive a session from ``stdin``; returns the number of answers saved."""
    dialogue = Dialogue(stdin, stdout, width)
    say = dialogue.say

    def keys() -> set[str]:  # read each time: a code added with :new may take b . or s
        return {c.key for c in session.codebook if c.key}

    def show() -> None:
        passage = session.passage
        say()
        say(session.describe())
        if passage is None:
            return
        for question in _passed_over_before(session):
            dialogue.text(session.passage_text(question), indent="  | ")
        dialogue.text(session.passage_text())
        say(f"codes: {_codes_text(session)}")
        for line in _memo_lines(session):
            say(line)
        if compare:
            say(f"{compare}: {', '.join(session.codes_on(coder=compare)) or '-'}")

    def command(answer: str) -> str | None:
        """The command an answer is, or None for codes (a key that is a code's wins)."""
        if answer in ("", ":next") or (answer == "." and "." not in keys()):
            return "next"
        if answer in (":back",) or (answer == "b" and "b" not in keys()):
            return "back"
        if answer in ("q", ":quit"):
            return "quit"
        if answer in ("?", ":help"):
            return "help"
        if answer in ("u", ":undo"):
            return "undo"
        if answer == "m" or answer.startswith("m ") or answer.startswith(":memo"):
            return "memo"
        if answer == ":search" or answer.startswith(":search ") or (
                (answer == "s" or answer.startswith("s ")) and "s" not in keys()):
            return "search"
        if answer == ":new" or answer.startswith(":new "):
            return "new"
        return None

    def move_on() -> bool:
        """To the next passage and show it; False (and say so) after the last."""
        if session.advance():
            show()
            return True
        say("end: no more passages (b goes back, m TEXT writes a memo on the last "
            "passage, q quits)")
        return False

    found = _Search(session, say)
    saved = 0
    at_end = False
    session.settle()
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
        if kind == "search":
            pattern = answer.removeprefix(":search").removeprefix("s").strip()
            if found.go(pattern):
                at_end = False
                show()
                found.show_hit()
            continue
        if kind == "memo":
            if not _memo(session, dialogue,
                         answer.removeprefix(":memo").removeprefix("m").strip()):
                say()
                say(f"end of input inside a memo (not saved): {saved} answers saved")
                return saved
            continue
        if kind == "new":
            _new_code(session, dialogue, answer.removeprefix(":new"))
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


class _Search:
    """The last search of a line-mode session and the hit it is at."""

    def __init__(self, session: "CodingSession", say: Callable[[str], None]) -> None:
        self.session = session
        self.say = say
        self.pattern = ""
        self.hits: list[Hit] = []
        self.index = 0

    def go(self, pattern: str) -> bool:
        """Search for ``pattern`` (the last pattern when empty) and go to the next hit's
        passage; False (and say why) when there is none."""
        if pattern:
            try:
                self.hits = self.session.search(pattern)
            except QcodeError as exc:
                self.say(f"error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
                return False
            self.pattern = pattern
        elif not self.pattern:
            self.say("no search yet: s PATTERN searches")
            return False
        found = self.session.next_hit(self.hits)
        if found is None:
            self.say(f"no hits for {self.pattern!r}")
            return False
        self.index, wrapped = found
        self.session.goto_hit(self.hits[self.index])
        if wrapped:
            self.say("search wrapped round to the first hit")
        return True

    def show_hit(self) -> None:
        hit = self.hits[self.index]
        self.say(f"hit {self.index + 1} of {len(self.hits)} for {self.pattern!r}: "
                 f"{hit.left}**{' '.join(hit.text.split())}**{hit.right}")


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
        if name not in names:
            names.append(name)
    return ", ".join(names) or "-"


def _new_code(session: "CodingSession", dialogue: Dialogue, text: str) -> None:
    """``:new ID LABEL [parent=PARENT] [key=K]``: the options are the last words, so a
    label may hold any word but those."""
    words = text.split()
    options: dict[str, str] = {}
    while words and (option := _NEW_OPTION.fullmatch(words[-1])) is not None:
        name, value = option.groups()
        if name in options:
            dialogue.say(f"error: {name}= is given twice; nothing added")
            return
        options[name] = value
        words.pop()
    if len(words) < 2:
        dialogue.say(f"usage: {_NEW_USAGE} (e.g. :new staff-support Support from "
                     "staff parent=leadership key=s)")
        return
    fields = {"id": words[0], "label": " ".join(words[1:]), "key": options.get("key")}
    try:
        code = session.add_code(fields, options.get("parent"))
    except QcodeError as exc:
        dialogue.error(exc)
        return
    parent = session.codebook.parent_of.get(code.id)
    dialogue.say(f"added code {code.id} to {session.corpus.config.codebook}"
                 + (f" under {parent}" if parent else "")
                 + (f" (key {code.key})" if code.key else "")
                 + f"; answer {code.key or code.id} to use it")


def _memo(session: "CodingSession", dialogue: Dialogue, text: str) -> bool:
    """An ``m`` answer: ``TEXT``, ``CODE: TEXT``, either with ``<<`` for lines up to a
    line ``.``. The word before the colon is a code only when it is exactly one's id,
    former id or shortcut key: ``m Note: ...`` is a memo that starts with "Note:". False
    when the input ends inside a memo (nothing is saved)."""
    code = None
    named = _CODE_MEMO.fullmatch(text)
    if named is not None:
        word = named.group(1)
        found = session.codebook.resolve(word) or (
            session.codebook.by_key(word) if len(word) == 1 else None)
        if found is not None:
            code, text = found.id, (named.group(2) or "").strip()
    if text == _BLOCK:
        try:
            session.memo_targets(code)  # said before the lines are typed, not after
        except QcodeError as exc:
            # The lines are still read up to the `.`, never taken for answers (codes!).
            dialogue.error(exc)
            dialogue.say("nothing will be saved: end the memo with a line holding only .")
            return _read_block(dialogue) is not None
        dialogue.say("memo: type its lines, then a line holding only .")
        lines = _read_block(dialogue)
        if lines is None:
            return False
        text = "\n".join(lines)
    try:
        change = session.set_memo(text, code)
    except QcodeError as exc:
        dialogue.error(exc)
        return True
    what = f"memo on {code}" if code else "memo"
    dialogue.say(f"saved {what}" + (" (unchanged)" if change.empty else ""))
    return True


def _read_block(dialogue: Dialogue) -> list[str] | None:
    """Lines as typed (indentation kept) up to a line holding only ``.``; None at the end
    of input."""
    lines: list[str] = []
    while True:
        dialogue.stdout.write("... ")
        dialogue.stdout.flush()
        line = dialogue.stdin.readline()
        if line == "":
            return None
        line = line.rstrip("\n").rstrip("\r")
        if line.strip() == ".":
            return lines
        lines.append(line)


def _memo_lines(session: "CodingSession") -> list[str]:
    """``memo on CODE: ...`` for each memo on the passage, later lines indented."""
    out = []
    for coding in session.codings_on():
        if coding.memo:
            code = session.codebook.resolve(coding.code)
            name = code.id if code else coding.code
            if not session.is_whole(coding):
                name = f"~{name}"
            first, *rest = coding.memo.split("\n")
            out.append(f"memo on {name}: {first}")
            out += [textwrap.indent(line, "  ") for line in rest]
    return out


def _passed_over_before(session: "CodingSession") -> list["Passage"]:
    """The interviewers' turns the walk passed over just before this passage (the
    question it answers), the last few."""
    passages = session.transcript.passages
    index = session.p_index - 1
    while index >= 0 and session.p_index - index <= _CONTEXT_TURNS \
            and session.passed_over(passages[index]):
        index -= 1
    return passages[index + 1:session.p_index]


def _change_text(change: "Change", session: "CodingSession") -> str:
    parts = [f"+{c.code}" for c in change.added] + [f"-{c.code}" for c in change.removed]
    where = f"{change.transcript} passage {change.passage}"
    return f"{' '.join(parts) or 'nothing'} ({where})"
