"""``qcode init`` and ``qcode check``."""


from pathlib import Path
from typing import Annotated

import typer

from qcode.cli.options import CheckFormat

# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "init": ['qcode init my-study --name "Teacher interviews"'],
    "check": ['qcode check', 'qcode check --format github --strict',
              'qcode check --key ../study-key.csv'],
}

InitDir = Annotated[Path, typer.Argument(metavar="DIRECTORY", help="Folder for the new project (default: here).")]


def init(
    directory: InitDir = Path("."),
    name: Annotated[str | None, typer.Option(
        metavar="NAME", help="Project name (default: the folder name).")] = None,
) -> None:
    """Create a new project: qcode.yaml, a codebook, transcripts/ and codings/."""
    from qcode.cli.output import note
    from qcode.format.templates import create_project

    created = create_project(directory, name)
    for path in created:
        note(f"created {path}")
    note(f"next: put transcripts in {directory / 'transcripts'} and run `qcode check`")


def check(
    ctx: typer.Context,
    format: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text for people, json for scripts, github for annotations "
                               "in GitHub Actions.")] = CheckFormat.text,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (exit 1) on warnings too.")] = False,
    key: Annotated[Path | None, typer.Option(
        "--key", metavar="PATH", help="The pseudonymisation key (default: $QCODE_KEY): also "
        "report every original and e-mail/phone/national id left anywhere "
        "(identifier-residue), and a key kept inside the project (key-location).")] = None,
) -> None:
    """Validate the whole project; report every problem with its file and line.

    Exit 0 when there is no error (warnings allowed unless --strict), 1 when there
    are errors, 2 for a usage error or when no project is found.
    """
    from qcode.cli.context import state
    from qcode.cli.output import emit_json, write
    from qcode.format.pseudonyms import key_path
    from qcode.project import Project
    from qcode.render.check import render_check_github, render_check_text

    project = Project.find(explicit=state(ctx).project)
    report = project.check(key=key_path(key))
    if format is CheckFormat.json:
        emit_json(report.to_dict())
    elif format is CheckFormat.github:
        write(render_check_github(report), for_people=True)
    else:
        write(render_check_text(report, strict), for_people=True)
    failed = not report.ok or (strict and report.warnings)
    raise typer.Exit(1 if failed else 0)
