"""``qcode codes rename|merge|move|add``: editing the codebook file in place.

Each command edits the YAML as text where the change goes (``qcode.format.
codebook_changes``), bumps the minor version, puts a changelog entry first, and says
what changed; each refuses while a coding session is open, as that session's screen
would show the codebook as it was.
"""


from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from collections import Counter
    from pathlib import Path

    from qcode.format.codebook_changes import CodebookChange
    from qcode.project import Project

EXAMPLES: dict[str, list[str]] = {
    "codes_rename": ["qcode codes rename origin-history origin-growth "
                     "--note 'the code records growth too'"],
    "codes_merge": ["qcode codes merge origin-enthusiast origin-invitation origin-leadership "
                    "--dry-run"],
    "codes_move": ["qcode codes move origin-history --top"],
    "codes_add": ["qcode codes add success-funding --label 'Stable funding' "
                  "--under success --description 'Names stable funding as a condition.'"],
}

NoteOpt = Annotated[str | None, typer.Option(
    "--note", metavar="TEXT", help="Why: written as the changelog entry's `note`.")]
DryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Show the change (and, for a merge, the codings it folds "
                      "together) without writing.")]
FormatOpt = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]


def codes_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The code's id (or a former id).")],
    new: Annotated[str, typer.Argument(help="Its new id.")],
    note: NoteOpt = None,
    dry_run: DryRunOpt = False,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Give a code a new id; the old id becomes one of its aliases, so codings keep it.

    Its children, definition and place stay as they are.
    """
    from qcode.format.codebook_changes import rename_code

    project, path, rel = _start(ctx, dry_run, f"renaming {old}")
    change = rename_code(path, old, new, rel=rel, note=note, dry_run=dry_run,
                         cache=project.cache)
    _report(project, change, format)


def codes_merge(
    ctx: typer.Context,
    codes: Annotated[list[str], typer.Argument(
        help="The codes to merge, then the code they go into (last).")],
    note: NoteOpt = None,
    dry_run: DryRunOpt = False,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Merge codes into the last one named: their ids become its aliases.

    Their description, include and exclude are appended to its own under the heading
    "Merged from SRC (version X.Y):", their examples, keywords and keyword rules to its
    lists, for you to edit; their shortcut keys and colours are dropped. A code with
    children is refused (move the children first).
    """
    from qcode.errors import UsageError
    from qcode.format.codebook_changes import merge_codes

    if len(codes) < 2:
        raise UsageError("name at least one code to merge and the code it goes into",
                         "e.g. qcode codes merge org-team org-coordination")
    *sources, into = codes
    project, path, rel = _start(ctx, dry_run, f"merging into {into}")
    change = merge_codes(path, sources, into, rel=rel, note=note, dry_run=dry_run,
                         cache=project.cache)
    counting = None
    if dry_run:
        from qcode.coding.codebook_changes import codings_counting_for

        counting = codings_counting_for(project.corpus, [*sources, into])
    _report(project, change, format, counting)


def codes_move(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The code to move (with its children).")],
    under: Annotated[str | None, typer.Option(
        "--under", metavar="PARENT", help="Make it the last child of this code.")] = None,
    top: Annotated[bool, typer.Option("--top", help="Make it a top-level code.")] = False,
    note: NoteOpt = None,
    dry_run: DryRunOpt = False,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Move a code, with its children, under another code or to the top level."""
    from qcode.errors import UsageError
    from qcode.format.codebook_changes import move_code

    if (under is None) == (not top):
        raise UsageError("say where the code goes: --under PARENT or --top")
    project, path, rel = _start(ctx, dry_run, f"moving {code}")
    change = move_code(path, code, under, rel=rel, note=note, dry_run=dry_run,
                       cache=project.cache)
    _report(project, change, format)


def codes_add(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The new code's id.")],
    label: Annotated[str, typer.Option("--label", metavar="TEXT", help="Its label.")],
    under: Annotated[str | None, typer.Option(
        "--under", metavar="PARENT", help="Make it the last child of this code.")] = None,
    description: Annotated[str | None, typer.Option(
        "--description", metavar="TEXT", help="What the code means.")] = None,
    key: Annotated[str | None, typer.Option(
        "--key", metavar="CHAR", help="Its shortcut key in the coder.")] = None,
    color: Annotated[str | None, typer.Option(
        "--color", metavar="#RRGGBB", help="Its colour.")] = None,
    note: NoteOpt = None,
    dry_run: DryRunOpt = False,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Add a code (the coder's new-code form does the same), last under its parent."""
    from qcode.coding.keymap import bound_characters
    from qcode.format.codebook_changes import add_code_logged

    project, path, rel = _start(ctx, dry_run, f"adding {code}")
    fields = {"id": code, "label": label, "description": description, "key": key,
              "color": color}
    change = add_code_logged(path, fields, under, rel=rel, note=note, dry_run=dry_run,
                             taken_keys=bound_characters(project.require_config().keys),
                             cache=project.cache)
    _report(project, change, format)


def _start(ctx: typer.Context, dry_run: bool, what: str) -> "tuple[Project, Path, str]":
    from qcode.cli.context import open_project

    project = open_project(ctx)
    if not dry_run:
        from qcode.coding.codebook_changes import ensure_no_open_session

        ensure_no_open_session(project.corpus, f"{what} would leave its codebook stale")
    rel = project.require_config().codebook
    return project, project.path(rel), rel


def _report(project: "Project", change: "CodebookChange", format: TextFormat,
            counting: "dict[str, Counter[str]] | None" = None) -> None:
    from qcode.cli.output import emit_json, note, write

    if change.written:
        project.forget_codebook()
    if format is TextFormat.json:
        data = {"file": change.file, "written": change.written,
                "old_version": change.old_version, **change.entry(), "notes": change.notes}
        if counting is not None:
            data["codings"] = {coder: {"count": sum(found.values()),
                                       "transcripts": dict(sorted(found.items()))}
                               for coder, found in counting.items()}
        emit_json(data)
        return
    verb = "would change" if not change.written else "changed"
    lines = [f"{change.file} {verb}: version {change.old_version} -> {change.version}"]
    lines += [f"  {line}" for line in change.changes]
    if change.definitions:
        lines.append(f"  definition changed: {', '.join(change.definitions)}")
    if change.note:
        lines.append(f"  note: {change.note}")
    if counting is not None:
        into = change.definitions[0]
        if not counting:
            lines.append(f"no codings count for {into}")
        for coder, found in counting.items():
            places = ", ".join(f"{t} ({n})" for t, n in sorted(found.items()))
            lines.append(f"{coder}: {sum(found.values())} codings will count for {into}: "
                         f"{places}")
    if not change.written:
        lines.append("(dry run: nothing was written)")
    write("\n".join(lines) + "\n")
    for line in change.notes:
        note(f"note: {line}")

