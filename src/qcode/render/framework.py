"""The framework matrix as Markdown, HTML, XLSX, CSV (long form) and JSON.

Every format shows the same ``FrameworkMatrix``: the same quotes in the same order. The
escaping is ``qcode.render.tables``': transcript text never becomes Markdown or HTML
markup, a link, or a spreadsheet formula.
"""

from __future__ import annotations

import html
import io
import re
from typing import TYPE_CHECKING, Any

from qcode.format.text import printable
from qcode.render.tables import (
    CHANGED_MARK,
    _excel_value,
    delimited,
    html_document,
    markdown_table,
    markdown_text,
    to_json,
)

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.framework import Cell, FrameworkMatrix, Theme

# The long form, one line per quote (``FrameworkMatrix.records`` with the text as quote).
CSV_COLUMNS = ["row", "theme", "label", "rank", "of", "transcript", "passage", "speaker",
               "coders", "code", "start", "end", "quote", "text_changed", "memo", "cell_memo"]
EXCEL_CELL_LIMIT = 32_767  # characters a spreadsheet cell holds
_LINE_END = re.compile(r"\r\n|\r")


def theme_heading(theme: Theme) -> str:
    return f"{theme.label} ({theme.code})" + (" itself" if theme.own_only else "")


def attribution(quote: dict[str, Any]) -> str:
    """Where a quote comes from: transcript, passage, speaker and coders."""
    where = f"{quote['transcript']}, passage {quote['passage']}"
    if quote.get("speaker"):
        where += f" ({quote['speaker']})"
    if quote.get("coders"):
        where += f"; coded by {quote['coders']}"
    return where


def shown_count(cell: Cell) -> str:
    """``3 of 12 segments`` when some are left out, else nothing."""
    if len(cell.quotes) < cell.total:
        return f"{len(cell.quotes)} of {cell.total} segments"
    return ""


def cell_text(cell: Cell) -> str:
    """A cell as plain text: each quote, its source and memo, a blank line between."""
    parts = []
    for quote in cell.quotes:
        text = f"“{_lines(quote['text'])}”\n— {attribution(quote)}"
        if quote.get("text_changed"):
            text = f"{CHANGED_MARK}\n{text}"
        if quote.get("memo"):
            text += f"\nmemo: {_lines(quote['memo'])}"
        parts.append(text)
    if shown_count(cell):
        parts.append(f"({shown_count(cell)})")
    return "\n\n".join(parts)


def _lines(text: Any) -> str:
    """CR ends a line in Markdown and spreadsheets too: every line end becomes LF."""
    return _LINE_END.sub("\n", str(text))


def _grid(matrix: FrameworkMatrix) -> tuple[list[str], list[list[str]]]:
    header = [matrix.rows_by, *[theme_heading(t) for t in matrix.themes]]
    rows = [[row, *[cell_text(matrix.cell(row, t.code)) for t in matrix.themes]]
            for row in matrix.rows]
    return header, rows


def markdown(matrix: FrameworkMatrix, title: str) -> str:
    """A Markdown table; ``markdown_table`` escapes every cell and makes its line breaks
    ``<br>`` (the only HTML in it)."""
    header, rows = _grid(matrix)
    return (f"**{markdown_text(title, one_line=True)}**\n\n"
            + markdown_table(header, rows, numeric_from=len(header)))


def html_page(matrix: FrameworkMatrix, title: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>"
                   for h in [matrix.rows_by, *[theme_heading(t) for t in matrix.themes]])
    lines = ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in matrix.rows:
        cells = [f"<th>{html.escape(row)}</th>"]
        for theme in matrix.themes:
            cells.append(f"<td>{_html_cell(matrix.cell(row, theme.code))}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table>\n")
    return html_document(title, "\n".join(lines))


def _html_cell(cell: Cell) -> str:
    def escaped(text: Any) -> str:
        return html.escape(_lines(text)).replace("\n", "<br>\n")

    out = []
    for quote in cell.quotes:
        text = escaped(quote["text"])
        if quote.get("text_changed"):
            text = f"<strong>{html.escape(CHANGED_MARK)}</strong><br>\n{text}"
        memo = f"; memo: {escaped(quote['memo'])}" if quote.get("memo") else ""
        out.append(f"<blockquote>{text}<br><cite>— {html.escape(attribution(quote))}"
                   f"{memo}</cite></blockquote>")
    if shown_count(cell):
        out.append(f"<p><cite>({html.escape(shown_count(cell))})</cite></p>")
    return "".join(out)


def csv_text(matrix: FrameworkMatrix, raw: bool = False) -> str:
    return delimited(CSV_COLUMNS, [[record["text"] if c == "quote" else record[c]
                                    for c in CSV_COLUMNS] for record in matrix.records()],
                     raw=raw)


def json_text(matrix: FrameworkMatrix) -> str:
    return to_json(matrix.to_dict())


def xlsx_bytes(matrix: FrameworkMatrix, title: str) -> bytes:
    """One sheet: a row per case, a column per theme, each cell its quotes (wrapped), and
    a comment on the cell with each quote's source. No cell is a formula."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])  # the empty default sheet
    sheet = book.create_sheet(title="framework")
    wrapped = Alignment(wrap_text=True, vertical="top")
    header, rows = _grid(matrix)
    sheet.append([_excel_value(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = wrapped
    for number, (row, values) in enumerate(zip(matrix.rows, rows, strict=True), start=2):
        sheet.append([_excel_value(row), *[_excel_value(_fit(v)) for v in values[1:]]])
        sheet.cell(row=number, column=1).font = Font(bold=True)
        for column, theme in enumerate(matrix.themes, start=2):
            target = sheet.cell(row=number, column=column)
            target.alignment = wrapped
            source = _sources(matrix.cell(row, theme.code))
            if source:
                target.comment = Comment(_fit(source), "qcode", width=400, height=200)
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 18
    for column in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 50
    book.properties.title = printable(title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sources(cell: Cell) -> str:
    """A cell comment: where each quote is, so a reader can find it in the transcript."""
    lines = []
    for rank, quote in enumerate(cell.quotes, start=1):
        line = (f"{rank}. {quote['transcript']}, passage {quote['passage']}, speaker "
                f"{quote.get('speaker') or '-'}, characters {quote['start']}-{quote['end']}, "
                f"code {quote['code']}, coded by {quote.get('coders') or '-'}")
        if quote.get("memo"):
            line += f"; memo: {_lines(quote['memo'])}"
        lines.append(line)
    return printable("\n".join(lines)) if lines else ""


def _fit(text: str) -> str:
    """Text a spreadsheet cell can hold; a longer one is cut, and says so."""
    if len(text) <= EXCEL_CELL_LIMIT:
        return text
    note = "\n… (cut: a spreadsheet cell holds 32,767 characters; see the CSV or JSON)"
    return text[:EXCEL_CELL_LIMIT - len(note)] + note
