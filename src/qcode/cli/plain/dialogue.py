"""The one prompt loop every line-mode dialogue uses: print, ask, wrap, report errors."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import TextIO, TypeVar

from qcode.errors import QcodeError
from qcode.format.text import printable

Item = TypeVar("Item")


class Dialogue:
    """Questions and answers on a pair of text streams, one line per answer. Everything
    it shows is made printable: the project's text never acts on the terminal."""

    def __init__(self, stdin: TextIO, stdout: TextIO, width: int = 80) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.width = width

    def say(self, text: str = "") -> None:
        self.stdout.write(printable(text) + "\n")
        self.stdout.flush()

    def ask(self, prompt: str = "> ") -> str | None:
        """One answer, stripped; None at the end of input (which ends a dialogue cleanly)."""
        self.stdout.write(printable(prompt))
        self.stdout.flush()
        line = self.stdin.readline()
        return None if line == "" else line.strip()

    def text(self, text: str, indent: str = "") -> None:
        """A passage's text, each paragraph wrapped to the width, blank lines kept."""
        for paragraph in printable(text).split("\n"):  # before wrapping: widths hold
            if paragraph.strip():
                self.say(textwrap.indent(textwrap.fill(paragraph, width=self.width
                                                       - len(indent)), indent))
            else:
                self.say("")

    def error(self, exc: QcodeError, prefix: str = "error: ") -> None:
        self.say(f"{prefix}{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))

    def walk(self, queue: Sequence[Item], show: Callable[[Item, int], None],
             answer: Callable[[Item, str], str], tally: Callable[[int], str],
             finished: str, help_text: str,
             still_open: Callable[[Item], bool] = lambda item: True) -> None:
        """One review of ``queue``: show an item, ask until the reply decides it, skips
        it or quits, then the next. Every review reads the same skip (empty, ``.``,
        ``s``), quit (``q``) and help (``?``, which shows ``help_text``); any other reply
        goes to ``answer``, which returns "decided", "skip", "quit" or "again" (a
        ``QcodeError`` is shown and the question asked again). Items no longer ``still_open`` (decided meanwhile) are
        passed over. Ends with a line saying why (the end of input, quit, or
        ``finished``) and what ``tally(skipped)`` says."""
        skipped = 0
        for position, item in enumerate(queue):
            if not still_open(item):
                continue
            show(item, position)
            while True:
                reply = self.ask()
                if reply is None:  # end of input ends the session cleanly
                    self.say()
                    self.say(f"end of input: {tally(skipped)}")
                    return
                if reply == "?":
                    self.say(help_text.rstrip())
                    continue
                try:
                    done = ("skip" if reply in ("", ".", "s") else "quit" if reply == "q"
                            else answer(item, reply))
                except QcodeError as exc:
                    self.error(exc)
                    continue
                if done == "quit":
                    self.say(f"quit: {tally(skipped)}")
                    return
                if done in ("skip", "decided"):
                    skipped += done == "skip"
                    break
        self.say(f"{finished}; {tally(skipped)}")
