"""``qcode export qdc|qdpx`` and ``qcode import qdc|qdpx``: REFI-QDA interchange with NVivo,
ATLAS.ti, MAXQDA, QualCoder, Taguette and qc; ``qcode export tables``: tidy tables for R,
DuckDB and pandas.

The work is done by ``qcode.interchange`` (imported inside the commands: it pulls in XML and
zip handling that ``qcode --help`` has no use for); these commands pick files and report.
"""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import ForceOpt, OutputOpt, TextFormat
from qcode.format.names import plural

if TYPE_CHECKING:  # pragma: no cover
    from qcode.interchange.import_report import ImportReport


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "export_qdc": ['qcode export qdc -o codebook.qdc'],
    "export_qdpx": ['qcode export qdpx -o study.qdpx'],
    "export_codebook": ['qcode export codebook --format taguette-csv -o codebook.csv'],
    "export_tables": ['qcode export tables tables/ --format parquet'],
    "import_qdc": ['qcode import qdc nvivo-codes.qdc --merge'],
    "import_qdpx": ['qcode import qdpx study.qdpx --into ../copy-of-study'],
}

FileArg = Annotated[Path, typer.Argument(help="The REFI-QDA file to import.", metavar="FILE")]
FormatOpt = Annotated[TextFormat, typer.Option(
    "--format", "-f", help="text: a report on stderr; json: the report on stdout.")]


def export_qdc(
    ctx: typer.Context,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write the codebook as a REFI-QDA codebook (.qdc) for other QDA tools.

    NVivo, ATLAS.ti, MAXQDA, QualCoder and others read it.

    Labels become names, `codable` isCodable; include/exclude/examples/keywords go into
    the description as marked sections that `qcode import qdc` splits again. Without -o
    the XML goes to stdout.
    """
    from qcode.cli.context import open_project
    from qcode.cli.output import note, write
    from qcode.interchange.qdc import export_codebook
    from qcode.render.tables import write_text_output

    project = open_project(ctx)
    text, count, warnings = export_codebook(project)
    for warning in warnings:
        note(f"warning: {warning}")
    if output is None:
        write(text)
        return
    write_text_output(output, text, force)
    note(f"wrote {output}: {plural(count, 'code')}")


class CodebookFormat(StrEnum):
    taguette_csv = "taguette-csv"
    qdc = "qdc"


def export_codebook(
    ctx: typer.Context,
    format: Annotated[CodebookFormat, typer.Option(
        "--format", "-f", help="taguette-csv: the CSV Taguette imports (tag,description); "
        "qdc: a REFI-QDA codebook, as `qcode export qdc`.")] = CodebookFormat.taguette_csv,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write the codebook for another tool: Taguette's CSV or a REFI-QDA .qdc.

    Taguette reads a `tag` column (the code's path of ids, levels joined by `.`) and a
    `description` (label and definition); grouping folders appear only in their children's
    paths. Without -o the file goes to stdout.
    """
    from qcode.cli.context import open_project
    from qcode.cli.output import note, write
    from qcode.render.tables import write_text_output

    project = open_project(ctx)
    if format is CodebookFormat.qdc:
        from qcode.interchange.qdc import export_codebook as qdc_text

        text, count, warnings = qdc_text(project)
        for warning in warnings:
            note(f"warning: {warning}")
    else:
        from qcode.interchange.taguette import taguette_csv, taguette_rows

        text = taguette_csv(project.codebook)
        count = len(taguette_rows(project.codebook))
    if output is None:
        write(text)
        return
    write_text_output(output, text, force)
    note(f"wrote {output}: {plural(count, 'code')}")


def export_qdpx(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="FILE.qdpx", help="The project file to write.")],
    coder: Annotated[list[str] | None, typer.Option(
        "--coder", "-c", metavar="NAME", help="Only this coder's codings (repeatable; default: all coders).")
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Write the whole project as a REFI-QDA project (.qdpx) for other QDA tools.

    The codebook, the transcripts with their attributes, the cases, and every coder's
    codings and memos.

    GUIDs are stable across exports, and `qcode import qdpx` of the file gives back the
    same project.
    """
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import note
    from qcode.format.files import check_output
    from qcode.interchange.qdpx import export_project_file

    check_output(output, force)  # before reading the project, not only after the work
    project = open_project(ctx)
    guard(project, coder, all_coders=not coder)
    result = export_project_file(project, output, coder, force)
    for warning in _collapse(result.warnings):
        note(f"warning: {warning}")
    c = result.counts
    coders = f" by {plural(c['coders'], 'coder')}" if c["coders"] else ""
    note(f"wrote {output}: {plural(c['codes'], 'code')}, "
         f"{plural(c['transcripts'], 'transcript')}, {plural(c['codings'], 'coding')}{coders}, "
         f"{plural(c['cases'], 'case')}, {plural(c['variables'], 'variable')}")


class TablesFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def export_tables(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(
        help="The folder to write the tables into (made if missing).", metavar="DIR")],
    format: Annotated[TablesFormat, typer.Option(
        "--format", "-f", help="csv, or parquet (needs `pip install 'qcode[parquet]'`).")
    ] = TablesFormat.csv,
    coder: Annotated[list[str] | None, typer.Option(
        "--coder", "-c", metavar="NAME",
        help="Only this coder's codings and events (repeatable; default: all coders).")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the tables' files if DIR holds them.")] = False,
) -> None:
    """Write the project as tidy tables (CSV or Parquet) for R, DuckDB or pandas.

    One file per table (codes.csv, ... or codes.parquet, ...) in DIR, with ids as keys;
    the columns are documented in docs/tables.md. `codings` holds the current codings
    (the logs replayed), `events` every line of the logs. CSV cells are the exact text.
    All files are written or none, and none replaces a file without --force.
    """
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import note
    from qcode.interchange.tables import export_tables as export

    project = open_project(ctx)
    guard(project, coder, all_coders=not coder)
    result = export(project, folder, format.value, coder, force)
    for warning in _collapse(result.warnings):
        note(f"warning: {warning}")
    note(f"wrote {folder}: " + ", ".join(f"{path.name} ({plural(rows, 'row')})"
                                          for path, rows in result.files))


def import_qdc(
    ctx: typer.Context,
    file: FileArg,
    into: Annotated[Path | None, typer.Option(
        "--into", metavar="CODEBOOK.yaml",
        help="The codebook file to write (default: the project's codebook, with --merge).")
    ] = None,
    merge: Annotated[bool, typer.Option(
        "--merge", help="Add the codes the codebook lacks to an existing codebook.")] = False,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Import a REFI-QDA codebook (.qdc) as a qcode codebook.

    Ids are made from the names (slugged, unique); names become labels; the tool's GUIDs
    are kept beside the codebook (<codebook>.guids.yaml) so a qcode export gives them
    back. An existing codebook is only changed with --merge, which adds the codes it
    lacks and keeps a backup.
    """
    from qcode.cli.context import state
    from qcode.errors import ProjectNotFound, UsageError
    from qcode.interchange.qdc import import_codebook
    from qcode.project import Project

    try:
        project = Project.find(explicit=state(ctx).project)
        project.require_config()
    except ProjectNotFound:
        project = None
    if into is None:
        if project is None:
            raise UsageError("no --into and no project here",
                             "give --into CODEBOOK.yaml, or run inside a project with --merge")
        target = project.path(project.require_config().codebook)
    else:
        target = into
    report = import_codebook(file, target, merge, project.name if project else None,
                             display=project.rel(target) if project and into is None
                             else str(into))
    _show(report, format, "codebook")


def import_qdpx(
    ctx: typer.Context,
    file: FileArg,
    into: Annotated[Path, typer.Option(
        "--into", metavar="DIR", help="A new (or empty) folder for the project.")],
    format: FormatOpt = TextFormat.text,
) -> None:
    """Import a REFI-QDA project (.qdpx) as a new qcode project in DIR.

    Transcripts get their variables and cases as attributes, each user a coding log.
    Only plain-text sources are imported; PDF, picture, audio and video sources, and
    anything else qcode cannot hold, are listed in the report. Exit 0 when the project
    was created (then `qcode check` runs on it), 1 when the file is invalid or hostile and
    nothing was written.
    """
    from qcode.project import import_qdpx as import_project

    report = import_project(file, into)
    _show(report, format, "project")


def _show(report: "ImportReport", format: TextFormat, what: str) -> None:
    from qcode.cli.output import emit_json, note

    if format is TextFormat.json:
        emit_json(report.to_dict())
        return
    c = report.counts
    origin = f" ({report.origin})" if report.origin else ""
    if what == "codebook":
        note(f"imported {report.source}{origin} into {report.target}: "
             f"{plural(c.get('added', 0), 'code')} added"
             + (f", {c['kept']} already there" if c.get("kept") else ""))
    else:
        note(f"imported {report.source}{origin} into {report.target}: "
             f"{plural(c['codes'], 'code')}, {plural(c['transcripts'], 'transcript')}, "
             f"{plural(c['codings'], 'coding')} by {plural(c['coders'], 'coder')}, "
             f"{plural(c['cases'], 'case')}")
    offsets = report.offsets
    if offsets and offsets["checked"]:
        note(f"positions: counted as {offsets['model']} (by {offsets['by']}); "
             f"{offsets['matched']} of {offsets['checked']} checkable selections agree")
    if report.skipped:
        note(f"left out ({len(report.skipped)}):")
        for item in report.skipped[:50]:
            note(f"  {item.kind} {item.name!r}: {item.reason}")
        if len(report.skipped) > 50:
            note(f"  ... and {len(report.skipped) - 50} more (--format json lists all)")
    for message in report.notes:
        note(f"note: {message}")
    if report.check is not None:
        errors = report.check["errors"]
        if not errors:
            warnings = report.check["warnings"]
            note("qcode check: ok" + (f" ({warnings} warnings)" if warnings else ""))
        else:
            note(f"qcode check: {plural(len(errors), 'error')} in what the file holds:")
            for problem in errors[:20]:
                where = problem["file"] + (f":{problem['line']}" if problem["line"] else "")
                note(f"  {where}: {problem['message']}")
            if len(errors) > 20:
                note(f"  ... and {len(errors) - 20} more (run `qcode check` in the project)")




def _collapse(warnings: list[str], limit: int = 20) -> list[str]:
    if len(warnings) <= limit:
        return warnings
    return [*warnings[:limit], f"... and {len(warnings) - limit} more"]
