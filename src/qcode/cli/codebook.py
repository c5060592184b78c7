"""``qcode codebook diff``: what changed between two versions of the codebook."""


from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from qcode.cli.options import ForceOpt, OutputOpt

EXAMPLES: dict[str, list[str]] = {
    "diff": ["qcode codebook diff", "qcode codebook diff v1.0 HEAD -f md"],
}


class DiffFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"


def diff(
    ctx: typer.Context,
    old: Annotated[str | None, typer.Argument(
        metavar="A", help="The earlier codebook: a file or a git revision (default: HEAD).")
                   ] = None,
    new: Annotated[str | None, typer.Argument(
        metavar="B", help="The later codebook: a file or a git revision (default: the "
                            "codebook file as it is now).")] = None,
    format: Annotated[DiffFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: text, or what -o's suffix says).")
                      ] = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Show the codes added, removed, renamed, moved and redefined between codebooks.

    A and B are codebook files or git revisions (a commit, a tag, HEAD~3) of the project's
    codebook file. With no argument: HEAD against the file as it is now (the uncommitted
    changes); with one: that one against the file as it is now. Exits 1 when a removed
    code (not renamed, not merged into another's aliases) still has codings.
    """
    from qcode.cli.context import open_project
    from qcode.cli.output import choose_format, deliver, note
    from qcode.format.codebook_diff import diff_codebooks
    from qcode.format.names import plural
    from qcode.render.codebook_diff import diff_json, diff_markdown, diff_text
    from qcode.store.versions import still_coded

    project = open_project(ctx)
    chosen = choose_format(DiffFormat, format, output) if format or output else DiffFormat.text
    old_name, old_book = _side(project, old or "HEAD")
    new_name, new_book = _side(project, new)
    changes = diff_codebooks(old_book, new_book, old_name, new_name)
    coded = still_coded(changes.removed, old_book, project.codings())
    render = {DiffFormat.text: diff_text, DiffFormat.md: diff_markdown,
              DiffFormat.json: diff_json}[chosen]
    deliver(render(changes, coded), output, force)
    for code, by_coder in coded.items():
        who = ", ".join(f"{coder} {count}" for coder, count in sorted(by_coder.items()))
        note(f"error: removed code {code} still has "
             f"{plural(sum(by_coder.values()), 'coding')} ({who})")
    if coded:
        note("  hint: keep the code, or name it in another code's `aliases` (qcode codes "
             "merge) so that its codings still count")
        raise typer.Exit(1)


def _side(project, which: str | None):
    """(name, codebook) of one side: the working file (None), a file, or a revision."""
    from qcode.format.codebook_diff import read_codebook_file, read_codebook_revision

    rel = project.require_config().codebook
    if which is None:
        return rel, read_codebook_file(project.path(rel), rel)
    if Path(which).is_file():
        return which, read_codebook_file(Path(which), which)
    return f"{which}:{rel}", read_codebook_revision(project.root, which, rel)
