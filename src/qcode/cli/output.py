"""One output sink: data to stdout (table, CSV, JSON), diagnostics to stderr.

rich is imported only when a human-readable table is drawn; ``NO_COLOR`` is honoured
by rich itself, and nothing is coloured when stdout is not a terminal.

The default format is one rule for every command that prints a table: a table (or a
tree) for a person at a terminal, CSV when stdout is a pipe or a file (``choose_format``).
Text for people is fitted to a terminal's width; for a pipe or a file nothing wraps,
unless ``COLUMNS`` names a width.

Project text is data, never instructions to the terminal or to rich: everything printed
for people goes through ``qcode.format.text.printable`` (control characters shown, not
sent), and rich never reads markup or emoji codes in it. Data for a pipe or a file is
written exactly (made printable only when stdout is a terminal).
"""


import functools
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

UNWRAPPED = 1_000_000  # the width of a pipe: longer than any line qcode prints


def console(stderr: bool = False):
    """A rich console for people: no markup, no emoji codes, no highlighting, and no
    control character of the text it prints ever reaches the terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else UNWRAPPED
    return _console_class()(stderr=stderr, highlight=False, soft_wrap=False, width=width,
                            markup=False, emoji=False)


@functools.cache
def _console_class():
    from rich.console import Console
    from rich.segment import Segment

    from qcode.format.text import printable

    class TerminalConsole(Console):
        """Shows the text of every segment through ``printable``, whatever renderable it
        comes from (rich's own escape codes are styles and control segments, kept apart
        from the text)."""

        def render(self, renderable, options=None):
            for segment in super().render(renderable, options):
                if segment.control is None:
                    text = printable(segment.text)
                    if text is not segment.text:
                        segment = Segment(text, segment.style)
                yield segment

    return TerminalConsole


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


def stdin_is_tty() -> bool:
    """Whether a person can type an answer (a confirmation) on stdin."""
    return sys.stdin.isatty()


def choose_format(formats, chosen=None, output=None):
    """The output format: the one asked for; else the one ``-o FILE``'s suffix names;
    else the first (``table`` or ``tree``) for a person at a terminal and ``csv`` for a
    pipe or a file. ``formats`` is the command's format enum (with a ``csv`` member)."""
    if chosen is not None:
        return formats(chosen.value)
    if output is not None:
        suffix = output.suffix.lower().lstrip(".")
        suffix = {"markdown": "md", "htm": "html"}.get(suffix, suffix)
        if suffix in formats.__members__:
            return formats(suffix)
        from qcode.errors import UsageError

        files = [f for f in formats.__members__ if f not in ("table", "tree")]
        raise UsageError(f"-o {output}: qcode cannot tell the format from "
                         f"{'the suffix ' + output.suffix if output.suffix else 'a name without a suffix'}",
                         f"use a suffix of {', '.join('.' + f for f in files)}, or say "
                         "--format")
    return next(iter(formats)) if stdout_is_tty() else formats.csv


def write(text: str, for_people: bool = False) -> None:
    """Text to stdout. Data (CSV, Markdown, ...) goes exactly as it is to a pipe or a file
    and made printable to a terminal; text ``for_people`` (reports) is always printable."""
    if for_people or stdout_is_tty():
        from qcode.format.text import printable

        text = printable(text)
    sys.stdout.write(text)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    from qcode.render.tables import to_json

    write(to_json(data))


CSV_BATCH_ROWS = 5000


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], delimiter: str = ",",
             raw: bool = False) -> None:
    """CSV to stdout, safe for a spreadsheet unless ``raw`` (``render.tables.delimited``).

    Written a batch of rows at a time: a listing of a million rows (an auto-coding dry run
    at 10,000 transcripts) never lives in memory whole, as rows or as text."""
    from itertools import islice

    from qcode.render.tables import delimited

    pending = iter(rows)
    batch = list(islice(pending, CSV_BATCH_ROWS))
    write(delimited(columns, batch, delimiter, raw))
    while len(batch) == CSV_BATCH_ROWS:
        batch = list(islice(pending, CSV_BATCH_ROWS))
        if batch:
            write(delimited(None, batch, delimiter, raw))


# A line for people: its pieces of text with their rich styles, and whether the terminal
# (not rich) wraps it (``soft_wrap``).
Piece = tuple[str, str]
Line = tuple[Sequence[Piece], bool]


def print_lines(lines: Iterable[Line]) -> None:
    """Lines of styled text for people on stdout: through rich at a terminal (styles, its
    width); to a pipe or a file the bytes rich would write there (no style, nothing
    wrapped, every piece printable), without importing rich, which would take longer than
    a short command's own work. A tab goes through rich: it expands tabs by cell width."""
    lines = list(lines)
    if _rich_writes_plain() and not any("\t" in text for pieces, _ in lines
                                        for text, _style in pieces):
        from qcode.format.text import printable

        sys.stdout.write("".join(printable("".join(text for text, _ in pieces)) + "\n"
                                 for pieces, _ in lines))
        sys.stdout.flush()
        return
    print_lines_with_rich(lines)


def print_lines_with_rich(lines: Iterable[Line]) -> None:
    from rich.text import Text

    from qcode.format.text import printable

    out = console()
    for pieces, soft_wrap in lines:
        text = Text()
        for piece, style in pieces:
            text.append(printable(piece), style=style)
        out.print(text, soft_wrap=soft_wrap)


def _rich_writes_plain() -> bool:
    """Whether rich would write stdout without styles or wrapping (see ``console``)."""
    env = os.environ
    return (not sys.stdout.isatty() and not env.get("COLUMNS")
            and env.get("TTY_COMPATIBLE") != "1" and not env.get("FORCE_COLOR"))


def plain_text(value: Any, style: str = ""):
    """Project text as a rich ``Text`` for people: printable (``printable`` before rich
    sees it, which would drop a few controls silently), and never markup."""
    from rich.text import Text

    from qcode.format.text import printable

    return Text(printable(cell(value)), style=style)


def note(message: str) -> None:
    """A diagnostic line on stderr (never mixed into data on stdout), printable."""
    from qcode.format.text import printable

    sys.stderr.write(printable(message.rstrip("\n")) + "\n")
    sys.stderr.flush()


def error_line(message: str, hint: str | None = None) -> None:
    note(f"error: {message}")
    if hint:
        note(f"  hint: {hint}")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def deliver(text: str, output, force: bool) -> None:
    """Data to stdout, or to the file the user named with ``-o`` (never replacing one
    without ``--force``; written atomically)."""
    outputs = Outputs(force)
    outputs.text(text, output)
    outputs.commit()


class Outputs:
    """What one command delivers: text to stdout, and files, which are written together
    at ``commit`` (each through a temp file, all renamed into place only when every one
    is complete), so a command that fails half way leaves none of its files behind."""

    def __init__(self, force: bool) -> None:
        self.force = force
        self.files: list[tuple[Path, bytes | str]] = []
        self.stdout: list[str] = []

    def text(self, text: str, output: Path | None) -> None:
        """Data for ``-o FILE``, or for stdout when there is no file."""
        if output is None:
            self.stdout.append(text)
        else:
            self.file(output, text)

    def file(self, path: Path, data: bytes | str) -> None:
        from qcode.format.files import check_output

        check_output(path, self.force)  # refused before any work is written
        self.files.append((path, data))

    def commit(self) -> None:
        from qcode.format.files import atomic_write_all

        atomic_write_all(self.files, overwrite=self.force)
        for text in self.stdout:
            write(text)
        for path, _data in self.files:
            note(f"wrote {path}")
