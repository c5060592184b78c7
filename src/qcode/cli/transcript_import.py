"""``qcode import transcripts`` and ``qcode reanchor``: bring transcripts in from Word,
OpenDocument, subtitles, RTF and text files, and keep codings on their text after edits.

The readers are ``qcode.importers``, the re-anchoring is ``qcode.anchoring``; this module
decides file names and front matter, writes, and reports.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qcode.cli.options import TextFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.anchoring import ReanchorPlan, TranscriptPlan
    from qcode.project import Project

RESERVED_KEYS = ("id", "source_file", "imported_at")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
_ID_RE = re.compile(r"^[^\W_][\w.-]{0,99}$")

FilesArg = Annotated[list[Path], typer.Argument(
    metavar="FILE...", help="Transcripts to import: .docx, .odt, .vtt, .srt, .txt, .md, .rtf.",
    show_default=False)]
AttrOpt = Annotated[list[str] | None, typer.Option(
    "--attr", "-a", metavar="KEY=VALUE",
    help="An attribute for the front matter of every imported transcript (repeatable).")]
IdOpt = Annotated[str | None, typer.Option(
    "--id", help="The transcript id (one FILE only; default: from the file name).")]
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


@dataclass
class FileReport:
    file: str
    ok: bool = False
    id: str | None = None
    path: str | None = None
    format: str | None = None
    encoding: str | None = None
    confidence: float | None = None
    speakers: dict[str, int] = field(default_factory=dict)
    passages: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replaced: bool = False
    reanchor: dict[str, Any] | None = None
    error: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
    from qcode.errors import UsageError
    from qcode.importers import ImportFailed, ImportOptions, load_speaker_map

    project = open_project(ctx)
    if id is not None and len(files) > 1:
        raise UsageError("--id names one transcript, but several files were given",
                         "import the files one by one, or leave --id out")
    if id is not None:
        _check_id(id, "--id")
    attributes = _parse_attrs(attr or [])
    mapping: dict[str, str] = {}
    if speaker_map is not None:
        try:
            mapping = load_speaker_map(speaker_map)
        except ImportFailed as exc:
            raise ImportFailed(f"speaker map {speaker_map}: {exc.message}", exc.hint) from None
    _check_score(min_score)
    options = ImportOptions(encoding=encoding, speaker_map=mapping,
                            timestamps=not no_timestamps)
    folder = _transcript_folder(project)
    reports: list[FileReport] = []
    claimed: dict[str, str] = {}  # id -> file, within this run
    for path in files:
        report = FileReport(file=str(path))
        reports.append(report)
        try:
            _import_one(project, path, folder, options, attributes, id, force, dry_run,
                        min_score, claimed, report)
        except ImportFailed as exc:
            report.ok, report.error, report.hint = False, exc.message, exc.hint
    if not dry_run:
        _report_project_problems(project, reports)
    _print_import(reports, format, dry_run)
    failed = any(not r.ok for r in reports) or any(
        r.reanchor and r.reanchor.get("orphaned") for r in reports)
    if failed:
        raise typer.Exit(1)


def _import_one(project: "Project", path: Path, folder: Path, options, attributes: dict,
                explicit_id: str | None, force: bool, dry_run: bool, min_score: float,
                claimed: dict[str, str], report: FileReport) -> None:
    from qcode.format.files import atomic_write_text
    from qcode.format.transcripts import parse_transcript, segment
    from qcode.importers import ImportFailed, read_file
    from qcode.store.log import now_iso

    imported = read_file(path, options)
    own_id = imported.front_matter.get("id")  # a .md transcript from another project
    if own_id is not None and not _ID_RE.match(str(own_id)):
        own_id = None
    transcript_id = explicit_id or (str(own_id) if own_id is not None else None) \
        or _id_from_name(path)
    if transcript_id is None:
        raise ImportFailed("has a name qcode cannot make an id of",
                           "give the transcript an id with --id")
    if transcript_id in claimed:
        raise ImportFailed(f"would be transcript {transcript_id!r}, like {claimed[transcript_id]}",
                           "rename one of the files, or import it alone with --id")
    existing = _existing(project, transcript_id)
    target = (project.root / existing.file) if existing is not None \
        else folder / f"{transcript_id}.md"
    if (existing is not None or target.exists()) and not force:
        where = existing.file if existing is not None else project.rel(target)
        raise ImportFailed(f"transcript {transcript_id!r} exists already ({where})",
                           "use --force to replace it (its codings are re-anchored), or "
                           "--id to import it under another id")
    claimed[transcript_id] = str(path)

    front: dict[str, Any] = {"id": transcript_id}
    kept = []
    if existing is not None:  # --force keeps what the researcher added to the old one
        for key, value in existing.front_matter.items():
            if key not in RESERVED_KEYS and key not in attributes:
                front[key] = value
                kept.append(key)
    for key, value in imported.front_matter.items():
        if key not in RESERVED_KEYS and key not in attributes:
            front.setdefault(key, value)
    front["source_file"] = path.name
    front["imported_at"] = now_iso()
    front.update(attributes)
    text = _compose(front, imported.text)
    # The file must read back as exactly this body and these attributes.
    check = parse_transcript(text, project.rel(target), transcript_id,
                             project.require_config().segmentation)
    if check.body != imported.text or check.id != transcript_id:
        raise ImportFailed("could not be written so that it reads back unchanged "
                           "(a bug in qcode)", "please report it with the file")

    report.id, report.path = transcript_id, project.rel(target)
    report.format, report.encoding, report.confidence = (imported.format, imported.encoding,
                                                         imported.confidence)
    report.notes, report.warnings = imported.notes, imported.warnings
    if kept:
        report.notes.append("kept attributes of the replaced transcript: " + ", ".join(kept))
    report.speakers = dict(imported.speakers())
    report.passages = len(segment(imported.text, project.require_config().segmentation))

    plan = None
    if existing is not None or target.exists():
        report.replaced = True
        plan = _plan_replacement(project, transcript_id, imported.text, min_score,
                                 project.rel(target))
        report.reanchor = _plan_summary(plan)
    if dry_run:
        report.ok = True
        return
    atomic_write_text(target, text, overwrite=report.replaced)
    if plan is not None and plan.placements:
        from qcode.coding.anchoring import apply_plan

        applied = apply_plan(project, plan)
        report.reanchor["written"] = sum(applied.written.values())
        report.reanchor["skipped"] = len(applied.skipped)
    report.ok = True


def _report_project_problems(project: "Project", reports: list[FileReport]) -> None:
    """What `qcode check` will say about the new files (a required attribute missing,
    a value not declared), so it is fixed now rather than found later."""
    from qcode.project import Project as FreshProject

    written = {r.path: r for r in reports if r.ok and r.path}
    if not written:
        return
    fresh = FreshProject.open(project.root)
    fresh.transcripts  # noqa: B018 - reading them applies the attribute rules
    for problem in fresh.problems:
        report = written.get(problem.file)
        if report is not None:
            hint = f" ({problem.hint})" if problem.hint else ""
            report.warnings.append(f"{problem.rule}: {problem.message}{hint}")


def _plan_replacement(project: "Project", transcript_id: str, body: str, min_score: float,
                      file: str) -> "TranscriptPlan":
    from qcode.coding.anchoring import plan_body

    codings = [c for c in project.codings() if c.transcript == transcript_id]
    return plan_body(transcript_id, body, codings, min_score, file)


def _plan_summary(plan: "TranscriptPlan") -> dict[str, Any]:
    counts = plan.counts()
    counts["orphans"] = [p.to_dict() for p in plan.orphans]
    counts["scores"] = [p.target.score for p in plan.of_kind("fuzzy") if p.target]
    return counts


def _compose(front: dict[str, Any], body: str) -> str:
    from qcode.format.yamlio import dump_yaml

    return f"---\n{dump_yaml(front)}---\n{body}"


def _existing(project: "Project", transcript_id: str):
    for transcript in project.transcripts:
        if transcript.id == transcript_id:
            return transcript
    return None


def _transcript_folder(project: "Project") -> Path:
    from qcode.errors import QcodeError

    config = project.require_config()
    folder = project.path(config.transcripts)
    if not folder.is_relative_to(project.root):
        raise QcodeError(f"the transcript folder {config.transcripts} is outside the project",
                         "qcode writes only inside the project; fix `transcripts:` in "
                         "qcode.yaml")
    return folder


def _id_from_name(path: Path) -> str | None:
    """``Intervju 3 – Voss (rektor).docx`` → ``intervju-3-voss-rektor``."""
    import unicodedata

    stem = unicodedata.normalize("NFC", path.stem).lower()
    slug = re.sub(r"[^\w.-]+", "-", stem).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)[:100].strip("-._")
    return slug if slug and _ID_RE.match(slug) else None


def _check_id(value: str, what: str) -> None:
    from qcode.errors import UsageError

    if not _ID_RE.match(value) or ".." in value:
        raise UsageError(f"{what} {value!r} cannot be a transcript id",
                         "use letters, digits, - _ and . (it becomes the file name), "
                         "starting with a letter or digit")


def _parse_attrs(items: list[str]) -> dict[str, str]:
    from qcode.errors import UsageError

    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--attr {item!r} is not KEY=VALUE", "e.g. --attr school=Voss")
        if not _KEY_RE.match(key):
            raise UsageError(f"--attr key {key!r} is not a valid attribute name",
                             "use letters, digits, - and _, starting with a letter")
        if key in RESERVED_KEYS:
            raise UsageError(f"--attr {key} is set by qcode",
                             "use --id for the id" if key == "id"
                             else "qcode writes source_file and imported_at itself")
        if key in out and out[key] != value:
            raise UsageError(f"--attr {key} is given twice")
        out[key] = value
    return out


def _check_score(min_score: float) -> None:
    from qcode.errors import UsageError

    if not 0 <= min_score <= 100:
        raise UsageError(f"--min-score {min_score:g} is outside 0-100",
                         "scores are percentages; 90 is the default")


def _print_import(reports: list[FileReport], format: TextFormat, dry_run: bool) -> None:
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
    metavar="[TRANSCRIPT]...", help="Transcript ids (default: all).", show_default=False)]


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
    from qcode.coding.anchoring import apply_plan, plan_reanchor

    project = open_project(ctx)
    _check_score(min_score)
    plan = plan_reanchor(project, transcripts or None, min_score)
    warn_if_problems(project)
    written: dict[str, int] = {}
    skipped = 0
    if not dry_run and plan.moves:
        from qcode.coding.session import SessionLock

        for coder in sorted({p.coding.coder for p in plan.moves}):
            SessionLock(project, coder).ensure_free(
                "it would move codings under an open `qcode code` session")
        applied = apply_plan(project, plan)
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
    write("\n".join(lines) + "\n")
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
