"""``qcode pseudonymise apply``: replace the key's originals everywhere in the project."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.pseudonymise import ApplyResult

EXAMPLES: dict[str, list[str]] = {
    "apply": ["qcode pseudonymise apply --key ~/keys/study.csv --dry-run",
              "qcode pseudonymise apply --key ~/keys/study.csv"],
}

KeyOpt = Annotated[str | None, typer.Option(
    "--key", metavar="PATH", help="The key file (default: $QCODE_KEY); kept outside the "
    "project.")]


def apply(
    ctx: typer.Context,
    key: KeyOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would change; write nothing.")] = False,
    show_originals: Annotated[bool, typer.Option(
        "--show-originals", help="Name the originals replaced (and renamed files) in "
        "the summary; by default only kinds and counts are shown.")] = False,
    format: Annotated[TextFormat, typer.Option(
        "--format", "-f", help="Output format.")] = TextFormat.text,
) -> None:
    """Replace the key's originals in transcripts, case tables, memos and logs.

    Transcripts get the replacements in their text and front matter values; every coding
    moves with its text (its offsets carried across the replacements, its text taken
    from the new transcript); case tables, memo files and coding memos get the same
    replacements; the coding and suggestions logs are compacted so that no old text
    stays in their history; the cache is dropped. All files change as one: a crash
    leaves the project as it was or wholly pseudonymised. Refused while a coding session
    is open. Exit 1 when a coding could not be verified in place (an orphan)."""
    from qcode.cli.context import open_project
    from qcode.errors import UsageError
    from qcode.format.pseudonyms import key_path

    path = key_path(key)
    if path is None:
        raise UsageError("no key given", "name the key file with --key PATH or QCODE_KEY")
    project = open_project(ctx)
    result = project.pseudonymise(Path(path), dry_run=dry_run)
    if format is TextFormat.json:
        from qcode.cli.output import emit_json

        emit_json(result.to_dict(show_originals))
    else:
        _print(result, show_originals)
    if result.orphans:
        raise typer.Exit(1)


def _print(result: "ApplyResult", show_originals: bool) -> None:
    from qcode.cli.output import note, write

    if result.nothing_to_do:
        write("Nothing to replace: no original of the key is left in the project.\n")
        _print_left(result, show_originals)
        return
    verb = "would replace" if result.dry_run else "replaced"
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.by_kind.items()))
    lines = [f"{verb.capitalize()} {result.replacements} occurrence"
             f"{'s' if result.replacements != 1 else ''} ({kinds})."]
    places = ", ".join(f"{place} {n}" for place, n in result.by_place.items())
    lines.append(f"  where: {places}")
    for transcript, counts in sorted(result.by_transcript.items()):
        per_kind = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        lines.append(f"  {transcript}: {per_kind}")
    lines.append(f"Codings: {result.codings}, {result.moved} moved with their text"
                 + (f" ({result.widened} widened to a whole placeholder)"
                    if result.widened else "")
                 + f"; {len(result.orphans)} orphaned.")
    if result.suggestions_moved:
        lines.append(f"Suggestions rewritten: {result.suggestions_moved}.")
    if result.ids:
        lines.append(f"Transcripts renamed: {len(result.ids)} (their files, codings, "
                     "suggestions and memos follow).")
        lines.extend(f"  {old} -> {new}" if show_originals else f"  {new}"
                     for old, new in result.ids)
    if result.renamed:
        lines.append(f"Memo files renamed: {len(result.renamed)}.")
        lines.extend(f"  {old} -> {new}" if show_originals else f"  {new}"
                     for old, new in result.renamed)
    if show_originals:
        lines.append("Originals: " + ", ".join(f"{original} ({n})" for original, n
                                              in sorted(result.originals.items())))
    files = len(result.files)
    lines.append(f"{'Would write' if result.dry_run else 'Wrote'} {files} file"
                 f"{'s' if files != 1 else ''} in one change"
                 + ("; dropped the cache." if not result.dry_run else "."))
    for orphan in result.orphans:
        lines.append(f"  orphan: {orphan['coder']} {orphan['id']} in {orphan['transcript']} "
                     f"at {orphan['start']}:{orphan['end']}")
    write("\n".join(lines) + "\n", for_people=True)
    _print_left(result, show_originals)
    if result.dry_run:
        note("dry run: nothing was written")


def _print_left(result: "ApplyResult", show_originals: bool) -> None:
    from qcode.cli.output import note

    for place in result.left:
        note(f"warning: {place}")
