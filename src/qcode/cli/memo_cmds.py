"""``qcode memo`` and ``qcode memos``: memos on transcripts, codes, cases and the
project, kept as Markdown files in ``memos/`` (see ``qcode.format.memos``)."""


import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.memos import Memo

EXAMPLES: dict[str, list[str]] = {
    "memo": ['qcode memo transcript voss-principal --coder me',
             'qcode memo case school=Voss --coder me --text "A mature project."'],
    "memos": ['qcode memos --about code', 'qcode memos --about transcript:voss-principal -f md'],
}


class MemoKind(StrEnum):
    transcript = "transcript"
    code = "code"
    case = "case"
    project = "project"


class MemoFormat(StrEnum):
    table = "table"
    csv = "csv"
    md = "md"
    json = "json"


def memo(
    ctx: typer.Context,
    kind: Annotated[MemoKind, typer.Argument(help="What the memo is about.")],
    target: Annotated[str | None, typer.Argument(
        help="A transcript id, a code id, a case as ATTRIBUTE=VALUE; none for project.")
                      ] = None,
    coder: Annotated[str | None, typer.Option(
        "--coder", "-c", envvar="QCODE_CODER", show_envvar=True, metavar="NAME",
        help="The memo's author (one memo per target and author).")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", "-t", metavar="TEXT",
        help="The memo's text (replaces the body); without it, standard input when it "
             "is not a terminal, else $VISUAL/$EDITOR on the memo.")] = None,
    format: Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TextFormat.text,
) -> None:
    """Write or edit the memo on a transcript, a code, a case or the project."""
    from qcode.cli.context import open_project
    from qcode.cli.output import emit_json, note, stdin_is_tty

    project = open_project(ctx)
    if kind is not MemoKind.project and not target:
        raise _usage(f"say which {kind.value} the memo is about",
                     "e.g. qcode memo case school=Voss" if kind is MemoKind.case
                     else f"e.g. qcode memo {kind.value} ID")
    about = project.memo_about(kind.value, target)
    existing = project.memo_by(about, coder)
    if text is None and not stdin_is_tty():
        text = sys.stdin.read()
    elif text is None:
        text = _edit(existing.text if existing else "", str(about))
        if text is None or text.strip() == (existing.text if existing else "").strip():
            note(f"memo on {about} unchanged; nothing written")
            return
    written = project.write_memo(kind.value, target, text, coder)
    if format is TextFormat.json:
        emit_json(written.to_dict())
        return
    note(f"{'updated' if existing else 'wrote'} memo on {written.about} in {written.file}")


def memos(
    ctx: typer.Context,
    about: Annotated[str | None, typer.Option(
        "--about", "-a", metavar="KIND[:TARGET]",
        help="Only memos on this kind (transcript, code, case, project) or target "
             "(code:lead-strong, case:school=Voss).")] = None,
    format: Annotated[MemoFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")
                      ] = None,
) -> None:
    """List the memos on transcripts, codes, cases and the project."""
    from qcode.cli.context import open_project
    from qcode.cli.output import cell, choose_format, emit_csv, emit_json, write

    project = open_project(ctx)
    found = project.memos(about)
    format = choose_format(MemoFormat, format)
    if format is MemoFormat.json:
        emit_json([m.to_dict() for m in found])
        return
    if format is MemoFormat.md:
        write(memos_markdown(found))
        return
    columns = ["about", "author", "created", "updated", "file", "text"]
    rows = [[str(m.about), cell(m.author), cell(m.created), cell(m.updated), m.file, m.text]
            for m in found]
    if format is MemoFormat.csv:
        emit_csv(columns, rows)
        return
    from qcode.cli.tables import Column, print_table

    first_lines = [[*row[:5], row[5].split("\n", 1)[0]] for row in rows]
    print_table(f"{project.name}: {len(found)} memos", [
        Column("about", label=True), Column("author"), Column("created"),
        Column("updated"), Column("file"), Column("text")], first_lines)


def memos_markdown(found: "list[Memo]") -> str:
    """Each memo as a Markdown section: what it is about, who wrote it when, the body."""
    parts = []
    for m in found:
        by = f"*{m.author or 'no author'}, {m.updated or m.created or 'undated'}*"
        parts.append(f"## {m.about}\n\n{by} ({m.file})\n\n{m.text}\n")
    return "\n".join(parts)


def _edit(text: str, about: str) -> str | None:
    """``text`` edited in ``$VISUAL`` or ``$EDITOR`` (a temp file); None when the editor
    fails (exits non-zero) or none is set."""
    import os
    import shlex
    import subprocess
    import tempfile

    from qcode.cli.output import note

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise _usage("no editor: $VISUAL and $EDITOR are not set",
                     "set EDITOR, or give the memo with --text or on standard input")
    with tempfile.TemporaryDirectory(prefix="qcode-memo-") as folder:
        path = os.path.join(folder, "memo.md")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + ("\n" if text else ""))
        try:
            done = subprocess.run([*shlex.split(editor), path], check=False)
        except OSError as exc:
            raise _usage(f"the editor {editor!r} could not be started ({exc.strerror})",
                         "set EDITOR to an editor that is installed") from None
        if done.returncode != 0:
            note(f"the editor exited with status {done.returncode}; the memo on {about} "
                 "is unchanged")
            return None
        with open(path, encoding="utf-8") as handle:
            return handle.read()


def _usage(message: str, hint: str):
    from qcode.errors import UsageError

    return UsageError(message, hint)
