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
    CooccurUnit,
    ForceOpt,
    Measure,
    OutputOpt,
    PlotOpt,
    RawOpt,
    ReportFormat,
    RetrievalFormat,
    RollupOpt,
    ScopeCodersOpt,
    ShowAllCodersOpt,
    ShowCodersOpt,
    WhereOpt,
)
from qcode.cli.output import Outputs

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.analysis.retrieval import Retrieved
    from qcode.project import Project
    from qcode.render.segment_memos import SegmentMemos


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "matrix": [
        'qcode matrix --by school --measure documents-pct --rollup',
        'qcode matrix --by school -o matrix.xlsx --plot matrix.png',
    ],
    "freq": ['qcode freq --by informant_group -f json'],
    "cooccur": ['qcode cooccur --unit passage --rollup'],
    "segments": ['qcode segments leadership-involved --where school=Voss -f md -o voss.md'],
    "query": ['qcode query "leadership-passive & barriers-continuity" -f md'],
}

FormatOpt = Annotated[ReportFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")]
RetrievalFormatOpt = Annotated[RetrievalFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")]
TotalsOpt = Annotated[bool, typer.Option("--totals", help="Add a TOTAL row and column.")]
PLAIN_FORMATS = tuple(ReportFormat(f) for f in ("table", "csv", "tsv", "json", "md"))
MinDocumentsOpt = Annotated[int, typer.Option(
    "--min-documents", metavar="N", min=1, help="A case counts for a code when at least N "
    "of its transcripts have it (case measures and --unit case; default 1).")]


def matrix(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", "-b", metavar="ATTR[,ATTR2]",
                                    help="Attribute(s) for the columns; `transcript`: one "
                                    "column per transcript.")],
    measure: Annotated[Measure, typer.Option(
        "--measure", "-m", help="What a cell counts: coded segments, documents (transcripts) "
        "with the code, their percentage of the column's transcripts, coded words, cases "
        "(`case:` in qcode.yaml, such as schools) with the code, or their percentage of "
        "the column's cases."
    )] = Measure.segments,
    min_documents: MinDocumentsOpt = 1,
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
    raw: RawOpt = False,
) -> None:
    """Count how often each code occurs per school, group or other attribute.

    Rows are all codes in codebook order (zero rows included); columns the attribute's
    declared values, then the others found, then (missing). Two attributes give combined
    columns (Voss|principal in CSV). Each column's size is in its header, `Voss (n=5)`
    (transcripts; cases for the case measures), or a last `n_transcripts` row in CSV.
    """
    from qcode.cli.context import guard, open_project
    from qcode.render import tables as reports
    from qcode.render.tables import typed_cells

    project = open_project(ctx)
    guard(project, coder, all_coders)
    counted = project.matrix_grid if _plain(plot, format, output) else project.matrix
    grid = counted(by, measure, rollup, coder, all_coders, where or (), codes, totals,
                   min_documents)
    chosen = _format(format, output)
    title = (f"{project.name}: {measure} by {' × '.join(grid.attrs['by'])} "
             f"({_scope_text(grid)})")
    codebook = project.codebook
    outputs = Outputs(force)
    if plot is not None:  # drawn first: a plot that fails leaves no other output behind
        _plot(grid, plot, title, outputs, codebook)
    if chosen is ReportFormat.xlsx:
        behind = project.segments(codes, coder, all_coders, where or (), by=grid.attrs["by"][0])
        header, rows = reports.wide_rows(grid)
        header.insert(1, "label")
        for row in rows:
            row.insert(1, _label(codebook, row[0]))
        if (footer := reports.n_footer(grid)) is not None:
            rows.append([footer[0], None, *footer[1:]])
        segments_header, segments_rows = _frame_table(behind)
        _write_xlsx(output, chosen, [
            ("matrix", header, rows, 2),
            ("segments", segments_header, typed_cells(segments_header, segments_rows,
                                                      project.attribute_types()), 2),
        ], outputs)
    elif chosen is ReportFormat.json:
        outputs.text(reports.to_json(reports.matrix_records(grid, codebook, measure)), output)
    elif chosen is ReportFormat.html:  # the report's matrix section, as a page of its own
        from qcode.analysis.report import grid_section
        from qcode.render.report_html import matrix_page

        outputs.text(matrix_page(title, grid_section(grid, codebook, measure.value, rollup)),
                     output)
    else:
        _deliver_wide(grid, chosen, output, outputs, title, codebook, raw)
    outputs.commit()


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
    raw: RawOpt = False,
) -> None:
    """Count each code's segments, documents and coders, as a tree."""
    from qcode.cli.context import guard, open_project

    project = open_project(ctx)
    guard(project, coder, all_coders)
    header, rows = project.freq_rows(by, rollup, coder, all_coders, where or (), codes)
    chosen = _format(format, output)
    if chosen is ReportFormat.table:
        _print_freq_table(header, rows, by, project)
        return
    outputs = Outputs(force)
    _deliver_table(chosen, header, rows, output, outputs, f"{project.name}: code frequencies",
                   label_columns=4 + (1 if by else 0), numeric_from=4 + (1 if by else 0),
                   raw=raw)
    outputs.commit()


def cooccur(
    ctx: typer.Context,
    unit: Annotated[CooccurUnit, typer.Option(
        "--unit", "-u", help="Codes co-occur in overlapping text (segment), in one passage, "
        "in one transcript, or in one case (`case:` in qcode.yaml, such as a school)."
    )] = CooccurUnit.segment,
    min_documents: MinDocumentsOpt = 1,
    rollup: RollupOpt = False,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: PlotOpt = None,
    raw: RawOpt = False,
) -> None:
    """Count codes that occur together (in a segment, passage, transcript or case).

    Segment: the codings overlap; passage, transcript or case: both codes are in it (in a
    case, in any of its transcripts). The diagonal is each code's own count."""
    from qcode.cli.context import guard, open_project
    from qcode.render import tables as reports

    project = open_project(ctx)
    guard(project, coder, all_coders)
    grid = (project.cooccur_grid if _plain(plot, format, output) else project.cooccur)(
        unit, rollup, coder, all_coders, where or (), codes, min_documents)
    chosen = _format(format, output)
    title = f"{project.name}: co-occurrence by {unit} ({_scope_text(grid)})"
    codebook = project.codebook
    outputs = Outputs(force)
    if plot is not None:  # drawn first: a plot that fails leaves no other output behind
        _plot(grid, plot, title, outputs, codebook)
    if chosen is ReportFormat.json:
        outputs.text(reports.to_json(reports.cooccur_records(grid, codebook)), output)
    elif chosen is ReportFormat.xlsx:
        header, rows = reports.wide_rows(grid)
        header.insert(1, "label")
        for row in rows:
            row.insert(1, _label(codebook, row[0]))
        _write_xlsx(output, chosen, [("cooccurrence", header, rows, 2)], outputs)
    else:
        _deliver_wide(grid, chosen, output, outputs, title, codebook, raw)
    outputs.commit()


def segments(
    ctx: typer.Context,
    code: Annotated[list[str] | None, typer.Argument(
        help="Codes to retrieve (with their descendants); default: all.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", "-b", metavar="ATTR", help="Group by this attribute's value in md/html "
        "(and order by it).")] = None,
    coder: ShowCodersOpt = None,
    all_coders: ShowAllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    format: RetrievalFormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    raw: RawOpt = False,
    memos_json: Annotated[bool, typer.Option(
        "--memos", help="JSON: an object {\"segments\": [...], \"memos\": [...]} with the "
        "memo files on the codes and cases shown (md, html, xlsx and the terminal show "
        "them always).")] = False,
    key: Annotated[str | None, typer.Option(
        "--key", metavar="PATH", help="The pseudonymisation key (default: $QCODE_KEY), "
        "for --reveal.")] = None,
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Show the originals in place of the key's placeholders (for the "
        "holder of the key; never written into the project).")] = False,
) -> None:
    """Print the coded text of codes, with transcript, speaker and attributes.

    Each segment comes with its passage, coders and memo; quotes whose text changed since
    they were coded are marked. The memo files on each code shown, and with --by on each
    case shown (`case:ATTR=VALUE`), come under their headings."""
    from qcode.cli.context import guard, open_project
    from qcode.cli.quotes import is_missing
    from qcode.errors import UsageError
    from qcode.render.segment_memos import segment_memos

    project = open_project(ctx)
    guard(project, coder, all_coders)
    chosen = _format(format, output)
    if memos_json and chosen in (ReportFormat.csv, ReportFormat.tsv):
        raise UsageError(f"--memos has no place in {chosen.value}: it changes only JSON",
                         "use -f json, md, html or xlsx, which show the memo files")
    wanted = [*(code or []), *(codes or [])] or None
    # Plain rows: pandas only where a DataFrame is the product (--reveal).
    segments = project.segment_rows(wanted, coder, all_coders, where or (), by)
    if reveal:
        from qcode.analysis.retrieval import Retrieved
        from qcode.cli.quotes import revealed

        frame = revealed(segments.frame(), project.root, key, output)
        segments = Retrieved(list(frame.columns), frame.to_dict(orient="split")["data"],
                             dict(frame.attrs))
    shown = ", ".join(wanted) if wanted else "all codes"
    values = (list(dict.fromkeys(v for v in segments.values(by) if not is_missing(v)))
              if by and by in segments.columns else [])
    memos = segment_memos(project.memos(), dict.fromkeys(segments.values("code")), by, values,
                          project.codebook.canonical)
    _deliver_retrieval(segments, chosen, output, force, by,
                       f"{project.name}: coded segments of {shown} "
                       f"({_scope_text(segments)})",
                       types=project.attribute_types(), raw=raw, memos=memos,
                       memos_json=memos_json)


def query(
    ctx: typer.Context,
    expression: Annotated[str, typer.Argument(
        metavar="EXPR", help="Code logic: a & b, a | b, a & !b, near(a, b, N), ( ).")],
    coder: ShowCodersOpt = None,
    all_coders: ShowAllCodersOpt = False,
    where: WhereOpt = None,
    format: RetrievalFormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    raw: RawOpt = False,
) -> None:
    """Find the passages where a code expression holds, such as `a & !b`.

    Operators: `a & b` (both), `a | b` (either), `!a` (not), `near(a, b, N)` (within N
    passages), parentheses."""
    from qcode.cli.context import guard, open_project

    project = open_project(ctx)
    guard(project, coder, all_coders)
    frame = project.query(expression, coder, all_coders, where or ())
    frame = frame.assign(code=expression, label=f"Query: {expression}")
    from qcode.analysis.retrieval import Retrieved

    passages = Retrieved(list(frame.columns), frame.to_dict(orient="split")["data"],
                         dict(frame.attrs))
    _deliver_retrieval(passages, _format(format, output), output, force, None,
                       f"{project.name}: passages where {expression} ({_scope_text(frame)})",
                       query=True, types=project.attribute_types(), raw=raw)


# -- delivery -----------------------------------------------------------------------------------

def _plain(plot: Path | None, chosen, output: Path | None) -> bool:
    """Whether the output is rows counted without pandas (the import alone outweighs the
    counting of a small study). A bad format fails after the counting, as it always has."""
    from qcode.errors import QcodeError

    try:
        return plot is None and _format(chosen, output) in PLAIN_FORMATS
    except QcodeError:
        return False


def _format(chosen, output: Path | None) -> ReportFormat:
    from qcode.cli.output import choose_format

    return choose_format(ReportFormat, chosen, output)


def _write_xlsx(output: Path | None, chosen, sheets, outputs: Outputs,
                types: dict[str, str] | None = None) -> None:
    """The sheets as a workbook for ``-o``; ``types`` (attribute name -> type) makes
    attribute columns typed."""
    from qcode.render.tables import typed_cells, xlsx_bytes

    path = _need_output(output, chosen)
    if types:
        sheets = [(name, header, typed_cells(header, rows, types), labels)
                  for name, header, rows, labels in sheets]
    outputs.file(path, xlsx_bytes(sheets))


def _need_output(output: Path | None, chosen) -> Path:
    from qcode.errors import UsageError

    if output is None:
        raise UsageError(f"--format {chosen.value} writes a file: add -o FILE.{chosen.value}")
    return output


def _deliver_wide(grid: "pd.DataFrame", chosen, output, outputs: Outputs, title, codebook,
                  raw: bool) -> None:
    from qcode.render import tables as reports

    header, rows = reports.wide_rows(grid)
    if chosen is ReportFormat.table and output is None:
        _print_heat_table(grid, title, codebook)
        return
    if chosen in (ReportFormat.csv, ReportFormat.tsv, ReportFormat.table):
        delimiter = "\t" if chosen is ReportFormat.tsv else ","
        footer = reports.n_footer(grid)
        outputs.text(reports.delimited(header, rows + ([footer] if footer else []),
                                       delimiter, raw), output)
        return
    header[1:] = reports.column_headings(grid)
    header.insert(1, "label")
    for row in rows:
        row.insert(1, _label(codebook, row[0]))
    if chosen is ReportFormat.md:
        outputs.text(f"**{reports.markdown_text(title, one_line=True)}**\n\n"
                     + reports.markdown_table(header, rows, 2), output)
    elif chosen is ReportFormat.html:
        outputs.text(reports.html_document(title, reports.html_table(header, rows, 2,
                                                                     heat=True)), output)


def _deliver_table(chosen, header, rows, output, outputs: Outputs, title, label_columns: int,
                   numeric_from: int, types: dict[str, str] | None = None,
                   raw: bool = False) -> None:
    from qcode.render import tables as reports

    if chosen is ReportFormat.json:
        outputs.text(reports.to_json([dict(zip(header, row, strict=True)) for row in rows]),
                     output)
    elif chosen is ReportFormat.xlsx:
        _write_xlsx(output, chosen, [("data", header, rows, label_columns)], outputs, types)
    elif chosen is ReportFormat.md:
        outputs.text(f"**{reports.markdown_text(title, one_line=True)}**\n\n"
                     + reports.markdown_table(header, rows, numeric_from), output)
    elif chosen is ReportFormat.html:
        outputs.text(reports.html_document(title, reports.html_table(header, rows,
                                                                     numeric_from)), output)
    else:
        delimiter = "\t" if chosen is ReportFormat.tsv else ","
        outputs.text(reports.delimited(header, rows, delimiter, raw), output)


def _deliver_retrieval(retrieved: "Retrieved", chosen, output, force, by, title,
                       query: bool = False, types: dict[str, str] | None = None,
                       raw: bool = False, memos: "SegmentMemos | None" = None,
                       memos_json: bool = False) -> None:
    """Segments (or a query's passages) in the format chosen, from their plain rows."""
    from qcode.render import tables as reports
    from qcode.render.segment_memos import memos_sheet

    if chosen is ReportFormat.table and output is None:
        from qcode.cli.quotes import print_quotes

        print_quotes(retrieved.records(), title, query, by, memos)
        return
    outputs = Outputs(force)
    if chosen is ReportFormat.md:
        outputs.text(reports.quotes_markdown(retrieved.records(), by, title, memos), output)
    elif chosen is ReportFormat.html:
        from qcode.analysis.report import quote_sections
        from qcode.render.report_html import quotes_page

        sections = quote_sections(retrieved, len(retrieved), by, detail=True)
        outputs.text(quotes_page(title, sections, by, memos), output)
    else:
        header = list(retrieved.columns)
        rows = reports.plain_rows(retrieved.rows)
        if query:
            kept = [i for i, column in enumerate(header) if column not in ("code", "label")]
            header = [header[i] for i in kept]
            rows = [[row[i] for i in kept] for row in rows]
        if memos_json and chosen is ReportFormat.json:
            # An object only when asked: the JSON of segments stays a bare list otherwise.
            outputs.text(reports.to_json({
                "segments": [dict(zip(header, row, strict=True)) for row in rows],
                "memos": memos.records() if memos else []}), output)
        elif memos and memos.all() and chosen is ReportFormat.xlsx:
            data = reports.typed_cells(header, rows, types) if types else rows
            _write_xlsx(output, chosen, [("data", header, data, 0), memos_sheet(memos)],
                        outputs)
        else:
            _deliver_table(chosen, header, rows, output, outputs, title, label_columns=0,
                           numeric_from=len(header), types=types, raw=raw)
    outputs.commit()


def _frame_table(frame: "pd.DataFrame") -> tuple[list[str], list[list[Any]]]:
    from qcode.render.tables import frame_rows

    return frame_rows(frame)


def _label(codebook, code_id: str) -> str:
    code = codebook.get(code_id)
    return code.label if code else code_id


def _scope_text(grid: "pd.DataFrame | Retrieved") -> str:
    attrs = grid.attrs
    text = f"coders: {', '.join(attrs.get('coders') or ['none'])}; "
    text += f"{attrs.get('transcripts', 0)} transcripts"
    if attrs.get("where"):
        text += f"; where {' and '.join(attrs['where'])}"
    if attrs.get("rollup"):
        text += "; rollup"
    if attrs.get("case"):  # what a case is, and when it counts
        text += f"; case: {', '.join(attrs['case'])}"
        if attrs.get("min_documents", 1) > 1:
            text += f", at least {attrs['min_documents']} transcripts"
    return text


def _plot(grid: "pd.DataFrame", path: Path, title: str, outputs: Outputs, codebook) -> None:
    from qcode.render.tables import check_plot_path, heatmap_bytes

    check_plot_path(path, outputs.force)
    labels = [f"{_label(codebook, c)} ({c})" if codebook.get(c) else str(c) for c in grid.index]
    sums = sum_rows(grid, codebook)
    if path.suffix.lower() == ".svg":  # drawn by qcode: no matplotlib to import
        from qcode.render.svg import heatmap_svg

        outputs.file(path, heatmap_svg(grid, title, labels, sums).encode("utf-8"))
    else:
        outputs.file(path, heatmap_bytes(grid, path.suffix, title, labels, sums))


def sum_rows(grid: "pd.DataFrame", codebook) -> set[str]:
    """The rows of a grid that are sums of the rows under them: a parent under --rollup,
    a grouping folder (codable: false, always counted with its children), TOTAL."""
    from qcode.render.tables import TOTAL

    rollup = bool(grid.attrs.get("rollup"))
    sums = set()
    for code_id in map(str, grid.index):
        code = codebook.get(code_id)
        if code is None:
            if code_id == TOTAL:
                sums.add(code_id)
        elif codebook.children(code_id) and (rollup or not code.codable):
            sums.add(code_id)
    return sums


# -- terminal rendering ---------------------------------------------------------------------------

_HEAT = ["", "on #dbe9f6", "on #9ecae1", "on #4292c6", "on #08519c"]


def _heat_style(value: float, peak: float) -> str:
    if not value or not peak:
        return ""
    return _HEAT[min(4, 1 + int(3.999 * value / peak))]


def _print_heat_table(grid: "pd.DataFrame", title: str, codebook) -> None:
    from rich.text import Text

    from qcode.cli.output import console
    from qcode.cli.tables import Column, print_table
    from qcode.render.tables import column_headings, number

    out = console()
    shade = out.is_terminal and not out.no_color
    columns = [Column("code", label=True),
               *[Column(name, numeric=True) for name in column_headings(grid)]]
    inner = [i for i, c in enumerate(grid.columns) if (c[0] if isinstance(c, tuple) else c)
             != "TOTAL"]  # the peak of the cells, sums left out; grid may be a PlainGrid
    cells = zip(grid.index, grid.to_numpy().tolist(), strict=True)
    peak = float(max((r[i] for code, r in cells if code != "TOTAL" for i in inner), default=0))
    rows, styles = [], []
    for code, values in zip(grid.index, grid.to_numpy().tolist(), strict=True):
        known = codebook.get(code)
        name = ("  " * codebook.depth_of.get(code, 0) + code) if known else str(code)
        styles.append("bold" if (known is not None and not known.codable) or code == "TOTAL"
                      else "")
        rows.append([name, *[Text(str(number(value)),
                                  style=_heat_style(value, peak) if shade else "")
                             for value in values]])
    print_table(title, columns, rows, styles, out)


def _print_freq_table(header: list[str], table: list[list[Any]], by: str | None,
                      project: "Project") -> None:
    from qcode.cli.tables import Column, print_table

    columns = [Column("code", label=True), *([Column(by)] if by else []),
               *[Column(name, numeric=True) for name in ("segments", "documents", "coders")]]
    codebook = project.codebook
    rows, styles = [], []
    for row in (dict(zip(header, values, strict=True)) for values in table):
        known = codebook.get(row["code"])
        styles.append("bold" if known is not None and not known.codable else "")
        rows.append(["  " * int(row["depth"]) + row["code"], *([str(row[by])] if by else []),
                     *[str(row[c]) for c in ("segments", "documents", "coders")]])
    print_table(f"{project.name}: code frequencies", columns, rows, styles)
