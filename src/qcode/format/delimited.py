"""Delimited text (CSV, TSV) as qcode writes it: one writer for every table a command
prints or saves and for the data tables ``qcode export tables`` writes, so a lone CR, a
formula-looking cell or a boolean is handled the same everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from typing import IO, Any


def delimited(header: Sequence[str] | None, rows: Sequence[Sequence[Any]],
              delimiter: str = ",", raw: bool = False) -> str:
    """CSV (or TSV) with every cell, the header's too, made safe for a spreadsheet
    (``spreadsheet_safe``); ``raw`` writes each cell exactly as it is, for scripts.
    Without a header: only the rows (a long table written a piece at a time)."""
    out = io.StringIO()
    writer = DelimitedWriter(out, delimiter, raw)
    if header is not None:
        writer.writeheader(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


class DelimitedWriter:
    """Writes ``delimited``'s rows one at a time to a text stream: a long table (the
    data tables of ``qcode export tables``) goes out without being held as rows."""

    def __init__(self, out: IO[str], delimiter: str = ",", raw: bool = False) -> None:
        self._out = out
        self._raw = raw
        self._safe: Callable[[Any], Any] = (lambda value: value) if raw else spreadsheet_safe
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        # Python's writer quotes a cell holding the line terminator, "\n", but not a lone
        # "\r", which CSV readers and spreadsheets also take for a line end: a row with one
        # goes through a writer whose terminator has both, its "\r\n" swapped for ours.
        self._one = io.StringIO()
        self._quoting = csv.writer(self._one, delimiter=delimiter, lineterminator="\r\n")

    def writeheader(self, header: Sequence[str]) -> None:
        self._write([str(self._safe(name)) for name in header])

    def writerow(self, row: Sequence[Any]) -> None:
        raw, safe = self._raw, self._safe
        self._write([value if type(value) is str and raw else "" if value is None
                     else cell_text(safe(value)) for value in row])

    def _write(self, cells: list[str]) -> None:
        if any("\r" in cell for cell in cells):
            self._one.seek(0)
            self._one.truncate()
            self._quoting.writerow(cells)
            self._out.write(self._one.getvalue()[:-2] + "\n")
        else:
            self._writer.writerow(cells)


# What a spreadsheet reads as the start of a formula (or of a DDE command, `=cmd|...`).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A cell no spreadsheet will run: text that starts with ``= + - @``, a tab or a CR
    gets a leading ``'``. Numbers stay numbers, and so does text that is a plain number
    (``-3``, ``-0.5``): a spreadsheet reads it as that number, never as a formula."""
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def cell_text(value: Any) -> str:
    """A cell as CSV text: booleans as true/false, floats to one decimal (a share)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
