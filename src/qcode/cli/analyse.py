"""``qcode matrix``, ``freq``, ``cooccur``, ``segments`` and ``query``: counting and retrieval.

The library computes (``Project.matrix`` and friends return DataFrames); these commands
choose a format and deliver it to stdout or ``-o FILE``. pandas is imported only inside
the command functions.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qcode.cli.options import (
    AllCodersOpt,
    CodesOpt,
    ForceOpt,
    OutputOpt,
    PlotOpt,
    ReportFormat,
    RetrievalFormat,
    RollupOpt,
    ScopeCodersOpt,
    WhereOpt,
)
from qcode.cli.output import deliver

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.project import Project

FormatOpt = Annotated[ReportFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")]
RetrievalFormatOpt = Annotated[RetrievalFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")]
TotalsOpt = Annotated[bool, typer.Option("--totals", help="Add a TOTAL row and column.")]


def matrix(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", "-b", metavar="ATTR[,ATTR2]",
                                    help="Attribute(s) for the columns.")],
    measure: Annotated[str, typer.Option(
        "--measure", "-m", help="segments, documents, documents-pct or words.")] = "segments",
    rollup: RollupOpt = False,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    totals: TotalsOpt = False,
    format: FormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Codes × attribute values: how often each code occurs per school, group, ...

    Rows are all codes in codebook order (zero rows included); columns the attribute's
    declared values, then the others found, then (missing). Two attributes give combined
    columns (Voss|principal in CSV).
    """
    from qcode.cli.context import open_project, warn_if_problems
    from qcode.render import tables as reports

    project = open_project(ctx)
    grid = project.matrix(by, measure, rollup, coder, all_coders, where or (), codes, totals)
    warn_if_problems(project)
    chosen = _format(format, output)
    title = (f"{project.name}: {measure} by {' × '.join(grid.attrs['by'])} "
             f"({_scope_text(grid)})")
    codebook = project.codebook
    if chosen is ReportFormat.xlsx:
        behind = project.segments(codes, coder, all_coders, where or (), by=grid.attrs["by"][0])
        header, rows = reports.wide_rows(grid)
        header.insert(1, "label")
        for row in rows:
            row.insert(1, _label(codebook, row[0]))
        _write_xlsx(output, chosen, [
            ("matrix", header, rows, 2),
            ("segments", *_frame_table(behind), 2),
        ], force)
    elif chosen is ReportFormat.json:
        deliver(reports.to_json(reports.matrix_records(grid, codebook, measure)), output,
                 force)
    else:
        _deliver_wide(grid, chosen, output, force, title, codebook)
    if plot is not None:
        _plot(grid, plot, title, force, codebook)


def freq(
    ctx: typer.Context,
    by: Annotated[str | None, typer.Option("--by", "-b", metavar="ATTR",
                                           help="Break the counts down by an attribute.")
                  ] = None,
    rollup: RollupOpt = False,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Code frequencies as a tree: segments, documents and coders per code."""
    from qcode.cli.context import open_project, warn_if_problems

    project = open_project(ctx)
    table = project.freq(by, rollup, coder, all_coders, where or (), codes)
    warn_if_problems(project)
    chosen = _format(format, output)
    header, rows = _frame_table(table)
    if chosen is ReportFormat.table:
        _print_freq_table(table, by, project)
        return
    _deliver_table(chosen, header, rows, output, force, f"{project.name}: code frequencies",
                   label_columns=4 + (1 if by else 0), numeric_from=4 + (1 if by else 0))


def cooccur(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option(
        "--unit", "-u", help="segment (overlapping text), passage or transcript.")
                    ] = "segment",
    rollup: RollupOpt = False,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: PlotOpt = None,
) -> None:
    """Code × code co-occurrence: overlapping segments, or codes sharing a passage or a
    transcript. The diagonal is each code's own count."""
    from qcode.cli.context import open_project, warn_if_problems
    from qcode.render import tables as reports

    project = open_project(ctx)
    grid = project.cooccur(unit, rollup, coder, all_coders, where or (), codes)
    warn_if_problems(project)
    chosen = _format(format, output)
    title = f"{project.name}: co-occurrence by {unit} ({_scope_text(grid)})"
    codebook = project.codebook
    if chosen is ReportFormat.json:
        deliver(reports.to_json(reports.cooccur_records(grid, codebook)), output, force)
    elif chosen is ReportFormat.xlsx:
        header, rows = reports.wide_rows(grid)
        header.insert(1, "label")
        for row in rows:
            row.insert(1, _label(codebook, row[0]))
        _write_xlsx(output, chosen, [("cooccurrence", header, rows, 2)], force)
    else:
        _deliver_wide(grid, chosen, output, force, title, codebook)
    if plot is not None:
        _plot(grid, plot, title, force, codebook)


def segments(
    ctx: typer.Context,
    code: Annotated[list[str] | None, typer.Argument(
        help="Codes to retrieve (with their descendants); default: all.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", "-b", metavar="ATTR", help="Group by this attribute's value in md/html "
        "(and order by it).")] = None,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    format: RetrievalFormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """The coded text itself, with transcript, attributes, passage, speaker, coders and memo."""
    from qcode.cli.context import open_project, warn_if_problems

    project = open_project(ctx)
    wanted = [*(code or []), *(codes or [])] or None
    frame = project.segments(wanted, coder, all_coders, where or (), by)
    warn_if_problems(project)
    _deliver_retrieval(frame, _format(format, output), output, force, by,
                       f"{project.name}: coded segments")


def query(
    ctx: typer.Context,
    expression: Annotated[str, typer.Argument(
        metavar="EXPR", help="Code logic: a & b, a | b, a & !b, near(a, b, N), ( ).")],
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    format: RetrievalFormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Passages where a code expression holds, e.g. `leadership-strong & !ownership-broad`."""
    from qcode.cli.context import open_project, warn_if_problems

    project = open_project(ctx)
    frame = project.query(expression, coder, all_coders, where or ())
    warn_if_problems(project)
    frame = frame.assign(code=expression, label=f"Query: {expression}")
    _deliver_retrieval(frame, _format(format, output), output, force, None,
                       f"{project.name}: {expression}", query=True)


# -- delivery -----------------------------------------------------------------------------------

def _format(chosen, output: Path | None) -> ReportFormat:
    from qcode.cli.output import choose_format

    return choose_format(ReportFormat, chosen, output)


def _write_xlsx(output: Path | None, chosen, sheets, force: bool) -> None:
    from qcode.cli.output import note
    from qcode.render.tables import write_xlsx

    path = _need_output(output, chosen)
    write_xlsx(path, sheets, force)
    note(f"wrote {path}")


def _need_output(output: Path | None, chosen) -> Path:
    from qcode.errors import UsageError

    if output is None:
        raise UsageError(f"--format {chosen.value} writes a file: add -o FILE.{chosen.value}")
    return output


def _deliver_wide(grid: "pd.DataFrame", chosen, output, force, title, codebook) -> None:
    from qcode.render import tables as reports

    header, rows = reports.wide_rows(grid)
    if chosen is ReportFormat.table and output is None:
        _print_heat_table(grid, title, codebook)
        return
    if chosen in (ReportFormat.csv, ReportFormat.tsv, ReportFormat.table):
        delimiter = "\t" if chosen is ReportFormat.tsv else ","
        deliver(reports.delimited(header, rows, delimiter), output, force)
        return
    header.insert(1, "label")
    for row in rows:
        row.insert(1, _label(codebook, row[0]))
    if chosen is ReportFormat.md:
        deliver(f"**{title}**\n\n" + reports.markdown_table(header, rows, 2), output, force)
    elif chosen is ReportFormat.html:
        deliver(reports.html_document(title, reports.html_table(header, rows, 2, heat=True)),
                 output, force)


def _deliver_table(chosen, header, rows, output, force, title, label_columns: int,
                   numeric_from: int) -> None:
    from qcode.render import tables as reports

    if chosen is ReportFormat.json:
        deliver(reports.to_json([dict(zip(header, row, strict=True)) for row in rows]),
                 output, force)
    elif chosen is ReportFormat.xlsx:
        _write_xlsx(output, chosen, [("data", header, rows, label_columns)], force)
    elif chosen is ReportFormat.md:
        deliver(f"**{title}**\n\n" + reports.markdown_table(header, rows, numeric_from),
                 output, force)
    elif chosen is ReportFormat.html:
        deliver(reports.html_document(title, reports.html_table(header, rows, numeric_from)),
                 output, force)
    else:
        delimiter = "\t" if chosen is ReportFormat.tsv else ","
        deliver(reports.delimited(header, rows, delimiter), output, force)


def _deliver_retrieval(frame: "pd.DataFrame", chosen, output, force, by, title,
                       query: bool = False) -> None:
    from qcode.render import tables as reports

    if chosen is ReportFormat.table and output is None:
        _print_quotes(frame, title, query)
        return
    if chosen is ReportFormat.md:
        deliver(reports.quotes_markdown(frame, by, title), output, force)
    elif chosen is ReportFormat.html:
        deliver(reports.quotes_html(frame, by, title), output, force)
    else:
        if query:
            frame = frame.drop(columns=["code", "label"])
        header, rows = _frame_table(frame)
        _deliver_table(chosen, header, rows, output, force, title, label_columns=0,
                       numeric_from=len(header))


def _frame_table(frame: "pd.DataFrame") -> tuple[list[str], list[list[Any]]]:
    from qcode.render.tables import number

    header = [str(c) for c in frame.columns]
    rows = [[None if _is_missing(v) else number(v) for v in row]
            for row in frame.itertuples(index=False, name=None)]
    return header, rows


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _label(codebook, code_id: str) -> str:
    code = codebook.get(code_id)
    return code.label if code else code_id


def _scope_text(grid: "pd.DataFrame") -> str:
    attrs = grid.attrs
    text = f"coders: {', '.join(attrs.get('coders') or ['none'])}; "
    text += f"{attrs.get('transcripts', 0)} transcripts"
    if attrs.get("where"):
        text += f"; where {' and '.join(attrs['where'])}"
    if attrs.get("rollup"):
        text += "; rollup"
    return text


def _plot(grid: "pd.DataFrame", path: Path, title: str, force: bool, codebook) -> None:
    from qcode.cli.output import note
    from qcode.render.tables import heatmap

    labels = [f"{_label(codebook, c)} ({c})" if codebook.get(c) else str(c) for c in grid.index]
    heatmap(grid, path, title, force, labels)
    note(f"wrote {path}")


# -- terminal rendering ---------------------------------------------------------------------------

_HEAT = ["", "on #dbe9f6", "on #9ecae1", "on #4292c6", "on #08519c"]


def _heat_style(value: float, peak: float) -> str:
    if not value or not peak:
        return ""
    return _HEAT[min(4, 1 + int(3.999 * value / peak))]


def _print_heat_table(grid: "pd.DataFrame", title: str, codebook) -> None:
    from rich.table import Table

    from qcode.cli.output import console
    from qcode.render.tables import DISPLAY_SEPARATOR, column_names, number

    out = console()
    shade = out.is_terminal and not out.no_color
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("code", no_wrap=True)
    for name in column_names(grid, DISPLAY_SEPARATOR):
        table.add_column(name, justify="right")
    peak = float(grid.drop(index="TOTAL", columns="TOTAL", errors="ignore").to_numpy().max()
                 if grid.size else 0)
    for code, values in zip(grid.index, grid.to_numpy().tolist(), strict=True):
        depth = codebook.depth_of.get(code, 0)
        known = codebook.get(code)
        name = ("  " * depth + code) if known else str(code)
        style = "bold" if (known is not None and not known.codable) or code == "TOTAL" else ""
        cells = []
        for value in values:
            text = str(number(value))
            cells.append(f"[{_heat_style(value, peak)}]{text}[/]" if shade and
                         _heat_style(value, peak) else text)
        table.add_row(name, *cells, style=style)
    out.print(table)


def _print_freq_table(table: "pd.DataFrame", by: str | None, project: "Project") -> None:
    from rich.table import Table

    from qcode.cli.output import console

    out = console()
    view = Table(title=f"{project.name}: code frequencies", title_justify="left")
    view.add_column("code", no_wrap=True)
    if by:
        view.add_column(by)
    for column in ("segments", "documents", "coders"):
        view.add_column(column, justify="right")
    codebook = project.codebook
    for row in table.to_dict(orient="records"):
        known = codebook.get(row["code"])
        style = "bold" if known is not None and not known.codable else ""
        cells = ["  " * int(row["depth"]) + row["code"]]
        if by:
            cells.append(str(row[by]))
        cells += [str(row[c]) for c in ("segments", "documents", "coders")]
        view.add_row(*cells, style=style)
    out.print(view)


def _print_quotes(frame: "pd.DataFrame", title: str, query: bool) -> None:
    from rich.text import Text

    from qcode.cli.output import console

    out = console()
    out.print(Text(f"{title} ({len(frame)} {'passages' if query else 'segments'})",
                   style="bold"))
    current = None
    for row in frame.to_dict(orient="records"):
        if not query and row["code"] != current:
            current = row["code"]
            out.print(Text(f"\n{row['label']} ({current})", style="bold underline"))
        where = f"{row['transcript']} [{row['passage']}]"
        if row.get("speaker"):
            where += f" {row['speaker']}"
        if row.get("coders"):
            where += f" · {row['coders']}"
        out.print(Text(f"\n{where}", style="cyan"))
        out.print(Text(str(row["text"])), soft_wrap=True)
        if row.get("memo"):
            out.print(Text(f"memo: {row['memo']}", style="italic"))
