"""``qcode tag`` and ``qcode untag``: coding from scripts, one passage at a time."""


from typing import Annotated

import typer

from qcode.cli.options import CoderOpt, TextFormat

# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "tag": [
        'qcode tag voss-principal 4 leadership-enabling --coder me -m "clear case"',
        'qcode tag voss-principal 120:342 E --coder me',
    ],
    "untag": ['qcode untag voss-principal 4 leadership-enabling --coder me'],
}

TranscriptArg = Annotated[str, typer.Argument(help="Transcript id.")]
PassageArg = Annotated[str, typer.Argument(
    help="Passage number (see `qcode show`) or START:END code-point offsets into the body.")]
CodesArg = Annotated[list[str], typer.Argument(help="One or more code ids (or aliases).")]
FormatOpt = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]


def tag(
    ctx: typer.Context,
    transcript: TranscriptArg,
    passage: PassageArg,
    codes: CodesArg,
    coder: CoderOpt,
    memo: Annotated[str | None, typer.Option("--memo", "-m", metavar="TEXT", help="A memo on the coding.")
                    ] = None,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Code a passage (or a START:END span) with one or more codes.

    A code already there: a no-op with a note.

    Unknown codes or transcripts stop the command before anything is written.
    """
    from qcode.cli.context import open_project

    project = open_project(ctx)
    result = project.tag(transcript, passage, codes, coder, memo=memo)
    _report(result, format, "tagged", "already tagged")


def untag(
    ctx: typer.Context,
    transcript: TranscriptArg,
    passage: PassageArg,
    codes: CodesArg,
    coder: CoderOpt,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Remove codes from a passage (every coding inside it) or an exact span."""
    from qcode.cli.context import open_project

    project = open_project(ctx)
    result = project.untag(transcript, passage, codes, coder)
    _report(result, format, "untagged", "not tagged")


def _report(result, format: TextFormat, done: str, unchanged: str) -> None:
    from qcode.cli.output import emit_json, note

    where = (f"passage {result.passage.number}" if result.passage
             else f"span {result.start}:{result.end}")
    if format is TextFormat.json:
        emit_json({"transcript": result.transcript, "start": result.start, "end": result.end,
                   "passage": result.passage.number if result.passage else None,
                   done: result.added, unchanged.replace(" ", "_"): result.unchanged})
        return
    if result.added:
        note(f"{done} {result.transcript} {where}: {', '.join(result.added)}")
    if result.unchanged:
        note(f"note: {unchanged} on {result.transcript} {where}: {', '.join(result.unchanged)} "
             "(nothing to do)")
