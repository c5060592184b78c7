"""The one prompt loop every line-mode dialogue uses: print, ask, wrap, report errors."""

from __future__ import annotations

import textwrap
from typing import TextIO

from qcode.errors import QcodeError
from qcode.format.text import printable


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
