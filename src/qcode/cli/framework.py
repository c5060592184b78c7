"""``qcode framework``: the framework matrix, cases × themes with quotes in the cells.

The library builds it (``Project.framework``); this command picks a format and delivers
it. pandas and openpyxl are imported only inside the command.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import (
    ForceOpt,
    OutputOpt,
    RawOpt,
    ShowAllCodersOpt,
    ShowCodersOpt,
    WhereOpt,
)

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.framework import FrameworkMatrix

EXAMPLES: dict[str, list[str]] = {
    "framework": ["qcode framework --rows school --codes leadership -o leadership.xlsx",
                  "qcode framework --rows transcript --codes ownership --quotes 1 -f md"],
}


class FrameworkFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"
    xlsx = "xlsx"


class Pick(StrEnum):  # qcode.analysis.framework.PICKS
    longest = "longest"
    first = "first"


def framework(
    ctx: typer.Context,
    rows: Annotated[str, typer.Option(
        "--rows", "-r", metavar="ATTR|transcript",
        help="One row per value of this attribute (declared order), or per transcript.")],
    codes: Annotated[list[str], typer.Option(
        "--codes", metavar="FAMILY|ID,...",
        help="The themes (columns): a family stands for its children, a code for itself "
             "(repeatable).")],
    quotes: Annotated[int, typer.Option(
        "--quotes", "-n", metavar="N", min=0,
        help="Quotes per cell (0: all).")] = 3,
    pick: Annotated[Pick, typer.Option(
        "--pick", help="Which quotes a cell keeps: the longest (ties in reading order), or "
                       "the first in reading order.")] = Pick.longest,
    coder: ShowCodersOpt = None,
    all_coders: ShowAllCodersOpt = False,
    where: WhereOpt = None,
    format: Annotated[FrameworkFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv "
                               "otherwise).")] = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    raw: RawOpt = False,
) -> None:
    """Cases × themes with each cell's quotes: the view a report is written from.

    A cell holds what `qcode segments CODE --where ATTR=VALUE` retrieves, the N longest
    (or first) of them, each with transcript, passage, speaker, coders and memo."""
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import Outputs, choose_format
    from qcode.errors import UsageError
    from qcode.render import framework as render

    project = open_project(ctx)
    guard(project, coder, all_coders)
    matrix = project.framework(rows, codes, coder, all_coders, where or (), quotes,
                               pick.value)
    chosen = choose_format(FrameworkFormat, format, output)
    title = _title(project.name, matrix)
    if chosen is FrameworkFormat.table and output is None:
        _print_table(matrix, title)
        return
    outputs = Outputs(force)
    if chosen is FrameworkFormat.xlsx:
        if output is None:
            raise UsageError("--format xlsx writes a file: add -o FILE.xlsx")
        outputs.file(output, render.xlsx_bytes(matrix, title))
    elif chosen is FrameworkFormat.md:
        outputs.text(render.markdown(matrix, title), output)
    elif chosen is FrameworkFormat.html:
        outputs.text(render.html_page(matrix, title), output)
    elif chosen is FrameworkFormat.json:
        outputs.text(render.json_text(matrix), output)
    else:  # csv, and "table" written to a file
        outputs.text(render.csv_text(matrix, raw), output)
    outputs.commit()


def _title(name: str, matrix: "FrameworkMatrix") -> str:
    attrs = matrix.attrs
    each = "all quotes" if not matrix.quotes else f"the {matrix.quotes} {matrix.pick}"
    text = (f"{name}: framework, {matrix.rows_by} × "
            f"{', '.join(t.code for t in matrix.themes)}; {each} per cell "
            f"(coders: {', '.join(attrs.get('coders') or ['none'])}; "
            f"{attrs.get('transcripts', 0)} transcripts")
    if attrs.get("where"):
        text += f"; where {' and '.join(attrs['where'])}"
    return text + ")"


def _print_table(matrix: "FrameworkMatrix", title: str) -> None:
    from qcode.cli.tables import Column, print_table
    from qcode.render.framework import cell_text, theme_heading

    columns = [Column(matrix.rows_by, label=True),
               *[Column(theme_heading(t)) for t in matrix.themes]]
    rows = [[row, *[cell_text(matrix.cell(row, t.code)) for t in matrix.themes]]
            for row in matrix.rows]
    print_table(title, columns, rows)
