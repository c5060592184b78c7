"""Delimited text (CSV, TSV) as qcode writes it: one writer for every table a command
prints or saves and for the data tables ``qcode export tables`` writes, so a lone CR, a
formula-looking cell or a boolean is handled the same everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any


def delimited(header: Sequence[str] | None, rows: Sequence[Sequence[Any]],
              delimiter: str = ",", raw: bool = False) -> str:
    """CSV (or TSV) with every cell, the header's too, made safe for a spreadsheet
    (``spreadsheet_safe``); ``raw`` writes each cell exactly as it is, for scripts.
    Without a header: only the rows (a long table written a piece at a time)."""
    safe = (lambda value: value) if raw else spreadsheet_safe
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    # Python's writer quotes a cell holding the line terminator, "\n", but not a lone
    # "\r", which CSV readers and spreadsheets also take for a line end: a row with one
    # goes through a writer whose terminator has both, its "\r\n" swapped for ours.
    quoting = csv.writer(one := io.StringIO(), delimiter=delimiter, lineterminator="\r\n")
    head = [] if header is None else [[str(safe(h)) for h in header]]
    for row in [*head, *([v if type(v) is str and raw else "" if v is None  # the common case
                          else cell_text(safe(v)) for v in row] for row in rows)]:
        if any("\r" in cell for cell in row):
            one.seek(0)
            one.truncate()
            quoting.writerow(row)
            out.write(one.getvalue()[:-2] + "\n")
        else:
            writer.writerow(row)
    return out.getvalue()


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
