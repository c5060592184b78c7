"""One output sink: data to stdout (table, CSV, JSON), diagnostics to stderr.

rich is imported only when a human-readable table is drawn; ``NO_COLOR`` is honoured
by rich itself, and nothing is coloured when stdout is not a terminal.

The default format is one rule for every command that prints a table: a table (or a
tree) for a person at a terminal, CSV when stdout is a pipe or a file (``choose_format``).
Text for people is fitted to a terminal's width; for a pipe or a file nothing wraps,
unless ``COLUMNS`` names a width.
"""


import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

UNWRAPPED = 1_000_000  # the width of a pipe: longer than any line qcode prints


def console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else UNWRAPPED
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


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


def write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def emit_json(data: Any) -> None:
    write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], delimiter: str = ",") -> None:
    writer = csv.writer(sys.stdout, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    sys.stdout.flush()


def note(message: str) -> None:
    """A diagnostic line on stderr (never mixed into data on stdout)."""
    sys.stderr.write(message.rstrip("\n") + "\n")
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
    if output is None:
        write(text)
        return
    from qcode.render.tables import write_text_output

    write_text_output(output, text, force)
    note(f"wrote {output}")
