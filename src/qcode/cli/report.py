"""``qcode report``: one self-contained document of the project's results.

The sections and numbers come from ``Project.report`` (``qcode.analysis.report``); the
HTML from ``qcode.render.report_html``. pandas is imported only inside the command.
"""

import shlex
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qcode.cli.options import (
    AllCodersOpt,
    CodesOpt,
    ForceOpt,
    Measure,
    RollupOpt,
    ScopeCodersOpt,
    WhereOpt,
)

EXAMPLES: dict[str, list[str]] = {
    "report": [
        "qcode report -o report.html",
        "qcode report -o report.docx",
        "qcode report --by school --by informant_group --measure documents-pct --quotes 2",
    ],
}


class DocumentFormat(StrEnum):
    html = "html"
    docx = "docx"


def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="FILE", help="The file to write.")] = Path("report.html"),
    format: Annotated[DocumentFormat | None, typer.Option(
        "--format", "-f", help="The document's format (default: from -o's suffix, else "
        "html).")] = None,
    by: Annotated[list[str] | None, typer.Option(
        "--by", "-b", metavar="ATTR[,ATTR2]", help="A code matrix by this attribute "
        "(repeatable; quotes are grouped by the first). Default: every declared attribute "
        "with fewer than 15 values.")] = None,
    measure: Annotated[Measure, typer.Option(
        "--measure", "-m", help="What a matrix cell counts, as in `qcode matrix`.")
    ] = Measure.segments,
    rollup: RollupOpt = False,
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    codes: CodesOpt = None,
    quotes: Annotated[int, typer.Option(
        "--quotes", metavar="N", min=0, help="Quotes per code, taken in turn from each "
        "value of the first --by attribute.")] = 3,
    title: Annotated[str | None, typer.Option(
        "--title", metavar="TEXT", help="The report's title (default: the project's name "
        "and \"coding report\").")] = None,
    transcripts: Annotated[bool, typer.Option(
        "--transcripts", help="Add an appendix with every transcript in scope in full "
        "(numbered passages, speakers); each quote links to its passage.")] = False,
    force: ForceOpt = False,
) -> None:
    """Write one HTML or Word report of the codebook, counts, quotes and memos.

    A cover with the scope and the command that made it; the codebook with each code's
    counts; a heat-mapped code matrix per --by attribute; the most frequent co-occurring
    codes; the saturation table; the framework matrix (rows: the first --by, themes: the
    top-level families in scope or --codes); quotes per code; agreement (with 95 % bootstrap
    intervals) when several coders are in scope; the memo files; method notes; and with
    --transcripts an appendix of the transcripts the quotes link to. One HTML file with
    no script and no external request, printable to A4; or, with -o FILE.docx or --format docx, the same sections
    as a Word document."""
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import Outputs, note
    from qcode.format.files import check_output

    chosen = _document_format(format, output)
    check_output(output, force)  # refused before any work
    project = open_project(ctx)
    guard(project, coder, all_coders)
    from qcode.analysis.report import ReportOptions
    options = ReportOptions(
        by=list(by or []), measure=measure.value, rollup=rollup, coders=coder,
        all_coders=all_coders, where=list(where or []), codes=codes, quotes=quotes,
        title=title, date=_today(), transcripts=transcripts,
        command=_command_line(output, by, measure, rollup, coder, all_coders, where,
                              codes, quotes, title, force, transcripts))
    made = project.report(options)
    for line in made.notes:
        note(f"warning: {line}")
    outputs = Outputs(force)
    if chosen is DocumentFormat.docx:
        from qcode.render.report_docx import render_report_docx

        outputs.file(output, render_report_docx(made))
    else:
        from qcode.render.report_html import render_report

        outputs.file(output, render_report(made))
    outputs.commit()


def _document_format(chosen: DocumentFormat | None, output: Path) -> DocumentFormat:
    """``--format``, else the one ``-o``'s suffix names (an unknown suffix refused), as
    the other commands choose."""
    from qcode.cli.output import choose_format

    return choose_format(DocumentFormat, chosen, output)


def _today() -> str:
    """Today's date; ``SOURCE_DATE_EPOCH`` fixes it, so that a report can be made again
    byte for byte."""
    import datetime
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdecimal():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date().isoformat()
    return datetime.date.today().isoformat()


def _command_line(output: Path, by: list[str] | None,
                  measure: Measure, rollup: bool, coder: list[str] | None, all_coders: bool,
                  where: list[str] | None, codes: list[str] | None, quotes: int,
                  title: str | None, force: bool, transcripts: bool = False) -> str:
    """The command as it was given, each option spelled out (a shell can run it again)."""
    words = ["qcode", "report", "-o", str(output)]
    for value in by or []:
        words += ["--by", value]
    if measure is not Measure.segments:
        words += ["--measure", measure.value]
    if rollup:
        words.append("--rollup")
    for value in coder or []:
        words += ["--coder", value]
    if all_coders:
        words.append("--all-coders")
    for value in where or []:
        words += ["--where", value]
    for value in codes or []:
        words += ["--codes", value]
    if quotes != 3:
        words += ["--quotes", str(quotes)]
    if title is not None:
        words += ["--title", title]
    if transcripts:
        words.append("--transcripts")
    if force:
        words.append("--force")
    return shlex.join(words)
