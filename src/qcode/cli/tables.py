"""Tables for a person at a terminal, fitted to its width without ever making two
headers look alike.

rich shrinks a table that is too wide by cutting headers to ``V…`` and ``Vo…`` (Verdal
and Voss indistinguishable). Here a table that does not fit first gets unique shortened
headers with a legend beneath (``Ver = Verdal``); if it still does not fit it is printed
in blocks of columns under their full headers, each block repeating the label columns (as
R prints a wide data frame). Cells are never cut. A pipe or a file has no width (see ``output.console``): the table is printed
whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

MIN_ABBREVIATION = 4


@dataclass
class Column:
    header: str
    numeric: bool = False  # right-aligned, never cut
    label: bool = False    # repeated in every block, never shortened


def print_table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[str | Text]],
                row_styles: Sequence[str] | None = None, console: Console | None = None,
                ) -> None:
    """Print ``rows`` (cells as plain text or rich ``Text``; never parsed as markup)."""
    from qcode.cli.output import console as make_console

    out = console or make_console()
    headers = [c.header for c in columns]
    everything = range(len(columns))
    table = _table(out, title, columns, headers, rows, row_styles, everything)
    if _fits(out, table):
        out.print(table)
        return
    data = [i for i, c in enumerate(columns) if not c.label]
    widths = [max([_width(row[i]) for row in rows] + [1]) for i in range(len(columns))]
    shortened = unique_abbreviations([headers[i] for i in data], [widths[i] for i in data])
    short_headers = list(headers)
    for i, short in zip(data, shortened, strict=True):
        short_headers[i] = short
    for compact in (False, True):
        table = _table(out, title, columns, short_headers, rows, row_styles, everything,
                       compact)
        if _fits(out, table):
            out.print(table)
            legend = [f"{short_headers[i]} = {headers[i]}" for i in data
                      if short_headers[i] != headers[i]]
            for line in _pack(legend, out.width):
                out.print(_dim(line))
            return
    for number, block in enumerate(_blocks(out, title, columns, headers, rows, row_styles)):
        if number:
            out.print()
        out.print(block)


def unique_abbreviations(names: Sequence[str], widths: Sequence[int]) -> list[str]:
    """Each name cut to its column's width (at least four characters), lengthened until no
    two are alike, even ignoring case. A name at most one longer is kept whole."""
    lengths = [max(MIN_ABBREVIATION, width) for width in widths]
    lengths = [len(name) if len(name) <= length + 1 else length
               for name, length in zip(names, lengths, strict=True)]

    def cut(index: int) -> str:
        return names[index][:lengths[index]]

    while True:
        seen: dict[str, list[int]] = {}
        for index in range(len(names)):
            seen.setdefault(cut(index).casefold(), []).append(index)
        clashes = [group for group in seen.values() if len(group) > 1]
        grown = False
        for group in clashes:
            for index in group:
                if lengths[index] < len(names[index]):
                    lengths[index] += 1
                    grown = True
        if not grown:
            break
    cuts = [cut(i) for i in range(len(names))]
    total: dict[str, int] = {}
    for text in cuts:
        total[text.casefold()] = total.get(text.casefold(), 0) + 1
    numbered: dict[str, int] = {}
    result = []
    for text in cuts:  # names alike even in full (Voss, voss): number them
        key = text.casefold()
        if total[key] > 1:
            numbered[key] = numbered.get(key, 0) + 1
            text = f"{text}#{numbered[key]}"
        result.append(text)
    return result


def _blocks(out: Console, title: str, columns: Sequence[Column], headers: list[str],
            rows: Sequence[Sequence[str | Text]], row_styles: Sequence[str] | None
            ) -> list[Table]:
    """Tables of the label columns and as many data columns as fit, in order."""
    labels = [i for i, c in enumerate(columns) if c.label]
    data = [i for i, c in enumerate(columns) if not c.label]
    blocks: list[list[int]] = []
    current: list[int] = []
    for index in data:
        trial = _table(out, title, columns, headers, rows, row_styles,
                       [*labels, *current, index])
        if current and not _fits(out, trial):
            blocks.append(current)
            current = []
        current.append(index)
    if current or not blocks:
        blocks.append(current)
    tables = []
    for number, block in enumerate(blocks):
        shown_title = title if len(blocks) == 1 else \
            f"{title} (columns {number + 1} of {len(blocks)})"
        tables.append(_table(out, shown_title, columns, headers, rows, row_styles,
                             [*labels, *block]))
    return tables


def _table(out: Console, title: str, columns: Sequence[Column], headers: list[str],
           rows: Sequence[Sequence[str | Text]], row_styles: Sequence[str] | None,
           shown: Sequence[int], compact: bool = False) -> Table:
    """Columns two spaces apart (``compact``: one)."""
    from rich import box
    from rich.table import Table

    table = Table(title=_text(title) if title else None, title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, padding=(0, 0) if compact else (0, 1),
                  collapse_padding=True)
    for index in shown:
        column = columns[index]
        table.add_column(_text(headers[index]), justify="right" if column.numeric else "left",
                         no_wrap=column.numeric or column.label,
                         overflow="fold")
    for position, row in enumerate(rows):
        table.add_row(*[_text(row[i]) for i in shown],
                      style=row_styles[position] if row_styles else None)
    return table


def _pack(items: list[str], width: int) -> list[str]:
    """``items`` joined by "; " into lines of at most ``width``, never splitting one."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) + 1 <= width:
            lines[-1] += f"; {item}"
        else:
            if lines:
                lines[-1] += ";"
            lines.append(f"  {item}")
    return lines


def _fits(out: Console, table: Table) -> bool:
    from rich.measure import Measurement

    from qcode.cli.output import UNWRAPPED

    # measured without the console's width, which would clamp the measure to it
    natural = Measurement.get(out, out.options.update_width(UNWRAPPED), table).maximum
    return natural <= out.width


def _width(cell: str | Text) -> int:
    from rich.cells import cell_len

    return cell_len(_text(cell).plain)  # as shown: a control character takes a column


def _text(cell: str | Text, style: str = "") -> Text:
    """A cell as ``Text``: never markup, and printable (``qcode.format.text.printable``,
    before rich sees it: rich would drop a few controls silently)."""
    from rich.text import Text

    from qcode.format.text import printable

    return cell if isinstance(cell, Text) else Text(printable(cell), style=style)


def _dim(text: str) -> Text:
    return _text(text, style="dim")
