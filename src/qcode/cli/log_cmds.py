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


def erase(
    ctx: typer.Context,
    transcript: Annotated[str, typer.Argument(help="The transcript id of the participant.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Erase without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; "
                                          "remove nothing.")] = False,
    format: Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TextFormat.text,
) -> None:
    """Remove a participant's transcript and every coding, suggestion and memo on it."""
    from qcode.cli.output import emit_json, stdin_is_tty, write
    from qcode.errors import QcodeError, UsageError
    from qcode.project.erase import erase as erase_transcript
    from qcode.project.erase import plan_erase

    project = _open(ctx)
    plan = plan_erase(project, transcript)
    if not dry_run and not yes:
        if not stdin_is_tty():
            raise UsageError(f"erasing {plan.transcript} cannot be undone; say --yes",
                             "see what would go with --dry-run first")
        write(_erase_text(plan.to_dict(), dry_run=True))
        answer = input(f"Erase {plan.transcript} for good? Type its id to confirm: ")
        if answer.strip() != plan.transcript:
            raise QcodeError("not confirmed; nothing was removed")
    if not dry_run:
        erase_transcript(project, plan)
    if format is TextFormat.json:
        emit_json(plan.to_dict())
        return
    write(_erase_text(plan.to_dict(), dry_run))


def _erase_text(plan: dict, dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    lines = [f"{verb} {plan['file']} (transcript {plan['transcript']})"]
    for kind in ("codings", "suggestions"):
        for coder, count in plan[kind].items():
            lines.append(f"{verb} {count} {kind} of {coder}")
    lines += [f"{'would rewrite' if dry_run else 'rewrote'} {log}" for log in plan["logs"]]
    lines += [f"{verb} memo {file}" for file in plan["memo_files"]]
    if plan["cache_files"]:
        lines.append(f"{verb} the cache ({plan['cache_files']} files; it holds transcript "
                     "text and is rebuilt on the next read)")
    lines += [f"kept the case row {row} (attributes, not text): remove it by hand if it "
              "identifies the participant" for row in plan["case_rows_kept"]]
    if plan["exports_to_redo"]:
        lines.append("made before the erase and may hold the transcript; redo or delete:")
        lines += [f"  {path}" for path in plan["exports_to_redo"]]
    lines.append("git history and copies outside the project are not changed")
    return "".join(line + "\n" for line in lines)
