"""``qcode compact`` (a coding log replaced by its current state, proven equal) and
``qcode erase`` (a participant's transcript and everything about it removed as one)."""


from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.project import Project

EXAMPLES: dict[str, list[str]] = {
    "compact": ["qcode compact me --dry-run", "qcode compact --all --backup ~/qcode-backups"],
    "erase": ["qcode erase voss-teacher2 --dry-run", "qcode erase voss-teacher2 --yes"],
}


def compact(
    ctx: typer.Context,
    coder: Annotated[str | None, typer.Argument(
        help="The coder whose logs to compact (codings/CODER.jsonl and its suggestions "
             "log).")] = None,
    all_coders: Annotated[bool, typer.Option("--all", help="Compact every coder's logs.")
                          ] = False,
    backup: Annotated[Path | None, typer.Option(
        "--backup", metavar="DIR", help="Copy the logs as they are to a new folder in DIR "
        "first (outside the project unless --backup-inside-project).")] = None,
    backup_inside: Annotated[bool, typer.Option(
        "--backup-inside-project", help="Allow --backup DIR inside the project.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would change; write "
                                          "nothing.")] = False,
    format: Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TextFormat.text,
) -> None:
    """Rewrite coding logs as their current state (the one exception to append-only)."""
    from qcode.cli.output import emit_json, note, write
    from qcode.errors import UsageError
    from qcode.store.compact import compact as compact_logs
    from qcode.store.compact import log_coders, plan_compaction

    project = _open(ctx)
    store = project.store
    if all_coders == (coder is not None):
        raise UsageError("name one coder or say --all", "e.g. qcode compact me")
    coders = log_coders(store) if all_coders else [str(coder)]
    if coder is not None and coder not in log_coders(store):
        from qcode.errors import UnknownName

        raise UnknownName("coder", coder, log_coders(store))
    if backup is not None:
        _check_backup(project, backup, backup_inside)
    if dry_run:
        store.ensure_no_session(coders, "compacting rewrites the coder's log")
        plan, folder = plan_compaction(store, coders), None
    else:
        plan, folder = compact_logs(store, coders, backup)
    logs = plan.to_list()
    if format is TextFormat.json:
        emit_json({"dry_run": dry_run, "backup": str(folder) if folder else None,
                   "logs": logs})
        return
    verb = "would compact" if dry_run else "compacted"
    lines = [f"{verb} {log['log']}: {log['events_before']} events -> "
             f"{log['events_after']} ({log['bytes_before']} -> {log['bytes_after']} bytes)"
             for log in logs]
    write("".join(line + "\n" for line in lines) or "no logs to compact\n")
    if folder is not None:
        note(f"the logs as they were are in {folder}")


def _open(ctx: typer.Context) -> "Project":
    from qcode.cli.context import open_project

    return open_project(ctx)


def _check_backup(project: "Project", backup: Path, inside_allowed: bool) -> None:
    from qcode.errors import UsageError

    where = backup.expanduser().resolve()
    if where.is_relative_to(project.root) and not inside_allowed:
        raise UsageError(f"--backup {backup} is inside the project",
                         "a backup there is exported and committed with the project, and "
                         "holds the text compaction or erasure removes; give a folder "
                         "outside it, or add --backup-inside-project if you mean it")
    if where.exists() and not where.is_dir():
        raise UsageError(f"--backup {backup} is a file", "give a folder")
