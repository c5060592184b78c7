"""``qcode import transcripts`` and ``qcode reanchor``: bring transcripts in from Word,
OpenDocument, subtitles, RTF and text files, and keep codings on their text after edits.

The work is ``qcode.importers.transcripts`` and ``qcode.coding.anchoring`` (through
``Project.import_transcripts`` and ``Project.reanchor``); this module parses the options
and reports.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.anchoring import ReanchorPlan
    from qcode.importers.transcripts import FileReport


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "import_transcripts": [
        'qcode import transcripts interviews/*.docx -a school=Voss -a informant_group=teacher',
    ],
    "reanchor": ['qcode reanchor --dry-run'],
}

FilesArg = Annotated[list[Path], typer.Argument(
    metavar="FILE...", help="Transcripts to import: .docx, .odt, .vtt, .srt, .txt, .md, .rtf.",
    show_default=False)]
AttrOpt = Annotated[list[str] | None, typer.Option(
    "--attr", "-a", metavar="KEY=VALUE",
    help="An attribute for the front matter of every imported transcript (repeatable).")]
IdOpt = Annotated[str | None, typer.Option(
    "--id", metavar="ID", help="The transcript id (one FILE only; default: from the file name).")]
SpeakerMapOpt = Annotated[Path | None, typer.Option(
    "--speaker-map", metavar="FILE",
    help="CSV of `raw speaker,label` rows, e.g. `Speaker 1,I`.")]
EncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", metavar="NAME",
    help="Encoding of .txt/.md/.vtt/.srt files (default: UTF-8, else guessed).")]
NoTimestampsOpt = Annotated[bool, typer.Option(
    "--no-timestamps", help="Subtitles: leave out the `%% 00:12:31` start-time lines.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace an existing transcript of the same id, re-anchoring its codings.")]
DryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Read and report, write nothing.")]
MinScoreOpt = Annotated[float, typer.Option(
    "--min-score", metavar="0-100", help="Lowest fuzzy score at which a coding is moved.")]
FormatOpt = Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")]


def import_transcripts(
    ctx: typer.Context,
    files: FilesArg,
    attr: AttrOpt = None,
    id: IdOpt = None,
    speaker_map: SpeakerMapOpt = None,
    encoding: EncodingOpt = None,
    no_timestamps: NoTimestampsOpt = False,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    min_score: MinScoreOpt = 90.0,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Import transcripts as transcripts/<id>.md with front matter.

    Each file gets one line: imported, or what is wrong with it; the others still
    import. Exit 1 if any file failed (or, with --force, codings were left orphaned).
    Never overwrites a transcript without --force; --force re-anchors the codings of the
    transcript it replaces (see `qcode reanchor`).
    """
    from qcode.cli.context import open_project
    from qcode.importers.transcripts import ImportRequest

    project = open_project(ctx)
    request = ImportRequest(files=files, attributes=_parse_attrs(attr or []), id=id,
                            speaker_map=speaker_map, encoding=encoding,
                            timestamps=not no_timestamps, force=force, dry_run=dry_run,
                            min_score=min_score)
    result = project.import_transcripts(request)
    _print_import(result.files, format, dry_run)
    if result.failed:
        raise typer.Exit(1)


def _parse_attrs(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` options as a mapping (the library checks the keys)."""
    from qcode.errors import UsageError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--attr {item!r} is not KEY=VALUE", "e.g. --attr school=Voss")
        if key in out and out[key] != value:
            raise UsageError(f"--attr {key} is given twice")
        out[key] = value
    return out


def _print_import(reports: "list[FileReport]", format: TextFormat, dry_run: bool) -> None:
    from qcode.cli.output import emit_json, note

    if format is TextFormat.json:
        emit_json({"dry_run": dry_run, "ok": all(r.ok for r in reports),
                   "files": [r.to_dict() for r in reports]})
        return
    verb = "would import" if dry_run else "imported"
    for report in reports:
        if not report.ok:
            note(f"error: {report.file}: {report.error}")
            if report.hint:
                note(f"  hint: {report.hint}")
            continue
        speakers = ", ".join(f"{name} ×{count}" for name, count in
                             sorted(report.speakers.items(), key=lambda kv: -kv[1])[:8])
        action = "replaced" if report.replaced else verb
        if dry_run and report.replaced:
            action = "would replace"
        note(f"{action} {report.file} → {report.path} ({report.passages} passages"
             + (f"; speakers: {speakers}" if speakers else "") + ")")
        for line in report.notes:
            note(f"  {line}")
        for line in report.warnings:
            note(f"  warning: {line}")
        if report.reanchor is not None:
            _print_replacement(report.reanchor, dry_run)
    failed = sum(1 for r in reports if not r.ok)
    if len(reports) > 1 or failed:
        note(f"{len(reports) - failed} of {len(reports)} files {verb}"
             + (f", {failed} failed" if failed else ""))


def _print_replacement(summary: dict[str, Any], dry_run: bool) -> None:
    from qcode.cli.output import note

    would = "would be " if dry_run else ""
    note(f"  codings: {summary['in_place']} in place, {summary['exact']} {would}moved exactly, "
         f"{summary['fuzzy']} {would}moved approximately, {summary['orphaned']} orphaned")
    for orphan in summary["orphans"][:10]:
        note(f"  warning: orphaned: {_orphan_line(orphan)}")
    if summary["orphaned"]:
        note("  hint: `qcode reanchor` lists the orphaned codings; place them by hand or "
             "restore the text")


# -- qcode reanchor ---------------------------------------------------------------------

TranscriptsArg = Annotated[list[str] | None, typer.Argument(
    metavar="TRANSCRIPT", help="Transcript ids (default: all).", show_default=False)]


def reanchor(
    ctx: typer.Context,
    transcripts: TranscriptsArg = None,
    dry_run: DryRunOpt = False,
    min_score: MinScoreOpt = 90.0,
    format: FormatOpt = TextFormat.text,
) -> None:
    """Move codings whose transcript text changed back onto their text.

    For every coding whose span no longer holds the text it was made on (every coder's):
    the exact text nearest its old place, else the best approximate match (rapidfuzz)
    near it, then anywhere, if it scores at least --min-score. A move is written as
    `remove` + `add` with `reanchored_from`; the rest are listed as orphans with their
    old text and the best candidate. Exit 1 when orphans remain.
    """
    from qcode.cli.context import open_project, warn_if_problems

    project = open_project(ctx)
    plan, applied = project.reanchor(transcripts or None, min_score, dry_run=dry_run)
    warn_if_problems(project)
    written: dict[str, int] = {}
    skipped = 0
    if applied is not None:
        written = {project.log(c).rel: n for c, n in applied.written.items() if n}
        skipped = len(applied.skipped)
    if format is TextFormat.json:
        from qcode.cli.output import emit_json

        emit_json({**plan.to_dict(), "dry_run": dry_run, "written": written,
                   "skipped": skipped})
    else:
        _print_reanchor(plan, dry_run, written, skipped)
    if plan.orphans:
        raise typer.Exit(1)


def _print_reanchor(plan: "ReanchorPlan", dry_run: bool, written: dict[str, int],
                    skipped: int) -> None:
    from qcode.cli.output import note, write

    lines: list[str] = []
    quiet = 0
    for item in plan.transcripts:
        if not item.placements:
            quiet += 1
            continue
        counts = item.counts()
        fuzzy = item.of_kind("fuzzy")
        scores = ", ".join(f"{p.target.score:.1f}" for p in fuzzy[:6] if p.target)
        if len(fuzzy) > 6:
            scores += ", …"
        lines.append(f"{item.transcript}: {counts['exact']} exact, {counts['fuzzy']} fuzzy"
                     + (f" (score {scores})" if fuzzy else "")
                     + f", {counts['orphaned']} orphaned; {counts['in_place']} in place")
        spans: dict[tuple[int, int, int, int, float], list[str]] = {}
        for placement in fuzzy:
            c, t = placement.coding, placement.target
            if t is not None:
                spans.setdefault((c.start, c.end, t.start, t.end, t.score), []).append(
                    f"{c.code}@{c.coder}")
        for (start, end, new_start, new_end, score), names in spans.items():
            lines.append(f"  moved {start}:{end} → {new_start}:{new_end} (score {score:.1f}): "
                         + ", ".join(names))
        for placement in item.orphans:
            lines.append(f"  orphan: {_orphan_line(placement.to_dict())}")
    total = sum(len(t.placements) for t in plan.transcripts)
    if not total:
        lines.append(f"every coding is on its text ({len(plan.transcripts)} transcripts "
                     "checked)")
    elif quiet:
        lines.append(f"({quiet} other transcripts: every coding on its text)")
    write("\n".join(lines) + "\n", for_people=True)
    if dry_run:
        note(f"dry run: {len(plan.moves)} codings would move; nothing written")
    elif written:
        note("appended " + ", ".join(f"{n} events to {rel}" for rel, n in written.items()))
    if skipped:
        note(f"warning: {skipped} codings changed in their logs while planning; they were "
             "left alone (run `qcode reanchor` again)")
    if plan.orphans:
        note(f"{len(plan.orphans)} codings could not be placed (score below "
             f"{plan.min_score:g}); they stay where they were and `qcode check` reports them")
        note("  hint: restore the text, place them by hand, or lower --min-score after "
             "looking at the candidates")


def _orphan_line(orphan: dict[str, Any]) -> str:
    old = orphan["old"]
    line = (f"{orphan['code']}@{orphan['coder']} {old['start']}:{old['end']} "
            f"{_quote(old['text'])}")
    candidate = orphan.get("candidate")
    if candidate:
        line += (f"; best candidate {candidate['start']}:{candidate['end']} "
                 f"(score {candidate['score']:.1f}) {_quote(candidate['text'])}")
    else:
        line += "; no candidate"
    if orphan.get("reason"):
        line += f" [{orphan['reason']}]"
    return line


def _quote(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return "«" + (flat if len(flat) <= width else flat[: width - 1] + "…") + "»"
