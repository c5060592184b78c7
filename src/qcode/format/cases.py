"""Case tables: CSV files of attributes joined to transcripts by a key attribute."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from qcode.format.files import read_text
from qcode.problems import Problems


@dataclass
class CaseTable:
    file: str
    key: str
    columns: list[str]
    rows: dict[str, dict[str, str]] = field(default_factory=dict)  # key value -> attributes
    lines: dict[str, int] = field(default_factory=dict)  # key value -> CSV line

    def attributes(self, key_value: str) -> dict[str, str]:
        """The non-empty attributes of one case (empty cells mean "no value")."""
        row = self.rows.get(key_value, {})
        return {k: v for k, v in row.items() if v != "" and k != self.key}


def load_case_table(path: Path, rel: str, key: str, problems: Problems) -> CaseTable | None:
    text = read_text(path, rel, problems, missing_rule="case-table-missing",
                     missing_hint="create it or fix `cases:` in qcode.yaml")
    if text is None:
        return None
    text = text.removeprefix("\ufeff")  # spreadsheet programs write a BOM
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        problems.error("case-table-syntax", rel, 1, f"case table {rel} is empty",
                       f"the first line must be a header with a {key!r} column")
        return None
    except csv.Error as exc:
        problems.error("case-table-syntax", rel, 1, f"CSV error: {exc}")
        return None
    columns = [c.strip() for c in header]
    if not _header_ok(columns, rel, problems):
        return None
    if key not in columns:
        problems.error("case-table-syntax", rel, 1,
                       f"case table has no {key!r} column (it has {', '.join(columns)})",
                       "fix the header or `cases: key:` in qcode.yaml")
        return None
    table = CaseTable(file=rel, key=key, columns=columns)
    key_index = columns.index(key)
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                problems.error("case-table-syntax", rel, line,
                               f"row has {len(row)} cells, the header has {len(columns)}",
                               "every row needs one cell per column (empty cells are fine)")
                continue
            value = row[key_index].strip()
            if not value:
                problems.error("case-table-syntax", rel, line, f"row has an empty {key!r}")
                continue
            if value in table.rows:
                problems.error("case-key-duplicate", rel, line,
                               f"case {value!r} appears twice (first at line "
                               f"{table.lines[value]})", "keep one row per case")
                continue
            table.rows[value] = {c: cell.strip() for c, cell in zip(columns, row, strict=True)}
            table.lines[value] = line
    except csv.Error as exc:
        problems.error("case-table-syntax", rel, reader.line_num, f"CSV error: {exc}")
    return table


def _header_ok(columns: list[str], rel: str, problems: Problems) -> bool:
    """Every column has a name, and no two the same: else a cell would have no attribute
    to go to, or two cells one attribute, and a column would be lost without a word."""
    ok = True
    first: dict[str, int] = {}
    for number, name in enumerate(columns, start=1):
        if not name:
            problems.error("case-table-header", rel, 1,
                           f"column {number} of the header has no name",
                           "name every column, or delete the empty column (and its cells)")
            ok = False
        elif name in first:
            problems.error("case-table-header", rel, 1,
                           f"column {number} is named {name!r} like column {first[name]}",
                           "give each column its own name")
            ok = False
        else:
            first[name] = number
    return ok
