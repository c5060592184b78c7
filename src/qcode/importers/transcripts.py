"""Importing transcripts into a project: files from other programs (read by the readers
of this package) written as ``transcripts/<id>.md`` with front matter.

Decides each transcript's id and front matter, checks that the file reads back as
exactly the body and id it was given, never overwrites without ``force``, and with
``force`` re-anchors the codings of the transcript it replaces
(``qcode.coding.anchoring``). Each bad file is reported on its own line; the others still
import. ``Project.import_transcripts`` is the entry point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qcode import progress
from qcode.coding.anchoring import DEFAULT_MIN_SCORE, TranscriptPlan, apply_plan, plan_body
from qcode.errors import QcodeError, UsageError, WriteFailed
from qcode.format.files import atomic_write_text
from qcode.format.text import nfc
from qcode.format.transcripts import (
    NEW_ID_RE,
    Transcript,
    is_new_transcript_id,
    parse_transcript,
    segment,
)
from qcode.format.yamlio import dump_yaml
from qcode.importers import ImportFailed, ImportOptions, load_speaker_map, read_file
from qcode.problems import Problem
from qcode.store.corpus import Corpus
from qcode.store.events import now_iso

RESERVED_KEYS = ("id", "source_file", "imported_at")
_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


@dataclass
class ImportRequest:
    """What to import and how (the options of ``qcode import transcripts``)."""

    files: Sequence[Path]
    attributes: dict[str, str] = field(default_factory=dict)  # front matter for every file
    id: str | None = None                # one file only: its transcript id
    speaker_map: Path | None = None      # CSV of `raw speaker,label` rows
    encoding: str | None = None
    timestamps: bool = True              # subtitles: keep the `%% 00:12:31` lines
    force: bool = False                  # replace an existing transcript, re-anchoring
    dry_run: bool = False
    min_score: float = DEFAULT_MIN_SCORE

    def check(self) -> None:
        """Refuse options that cannot work, before any file is read."""
        if self.id is not None and len(self.files) > 1:
            raise UsageError("--id names one transcript, but several files were given",
                             "import the files one by one, or leave --id out")
        if self.id is not None:
            check_transcript_id(self.id, "--id")
        for key in self.attributes:
            check_attribute_key(key)
        if not 0 <= self.min_score <= 100:
            raise UsageError(f"--min-score {self.min_score:g} is outside 0-100",
                             "scores are percentages; 90 is the default")


@dataclass
class FileReport:
    """What happened to one file."""

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


@dataclass
class ImportResult:
    dry_run: bool
    files: list[FileReport]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.files)

    @property
    def failed(self) -> bool:
        """A file failed, or a replaced transcript left codings it could not place."""
        return not self.ok or any(r.reanchor and r.reanchor.get("orphaned")
                                  for r in self.files)

    def note_problems(self, problems: Iterable[Problem]) -> None:
        """Add what ``qcode check`` says about the written files (a required attribute
        missing, a value not declared) to their reports, so it is fixed now."""
        written = {r.path: r for r in self.files if r.ok and r.path}
        for problem in problems:
            report = written.get(problem.file) if problem.file else None
            if report is not None:
                hint = f" ({problem.hint})" if problem.hint else ""
                report.warnings.append(f"{problem.rule}: {problem.message}{hint}")

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "ok": self.ok,
                "files": [r.to_dict() for r in self.files]}


def import_transcripts(corpus: Corpus, request: ImportRequest) -> ImportResult:
    """Import every file of the request; a file that fails is reported and skipped."""
    request.check()
    mapping: dict[str, str] = {}
    if request.speaker_map is not None:
        try:
            mapping = load_speaker_map(request.speaker_map)
        except ImportFailed as exc:
            raise ImportFailed(f"speaker map {request.speaker_map}: {exc.message}",
                               exc.hint) from None
    options = ImportOptions(encoding=request.encoding, speaker_map=mapping,
                            timestamps=request.timestamps)
    folder = _transcript_folder(corpus)
    reports: list[FileReport] = []
    claimed: dict[str, str] = {}  # id -> file, within this run
    for path in progress.track(request.files, "importing transcripts"):
        report = FileReport(file=str(path))
        reports.append(report)
        try:
            _import_one(corpus, Path(path), folder, options, request, claimed, report)
        except ImportFailed as exc:
            report.ok, report.error, report.hint = False, exc.message, exc.hint
    return ImportResult(request.dry_run, reports)


def _import_one(corpus: Corpus, path: Path, folder: Path, options: ImportOptions,
                request: ImportRequest, claimed: dict[str, str], report: FileReport) -> None:
    imported = read_file(path, options)
    own_id = imported.front_matter.get("id")  # a .md transcript from another project
    if own_id is not None and not is_new_transcript_id(str(own_id)):
        own_id = None
    transcript_id = request.id or (str(own_id) if own_id is not None else None) \
        or id_from_name(path)
    if transcript_id is None:
        raise ImportFailed("has a name qcode cannot make an id of",
                           "give the transcript an id with --id")
    if transcript_id in claimed:
        raise ImportFailed(f"would be transcript {transcript_id!r}, like {claimed[transcript_id]}",
                           "rename one of the files, or import it alone with --id")
    existing: Transcript | None = corpus.transcripts_by_id.get(transcript_id)
    target = (corpus.root / existing.file) if existing is not None \
        else folder / f"{transcript_id}.md"
    rel = corpus.store.rel(target)
    if (existing is not None or target.exists()) and not request.force:
        where = existing.file if existing is not None else rel
        raise ImportFailed(f"transcript {transcript_id!r} exists already ({where})",
                           "use --force to replace it (its codings are re-anchored), or "
                           "--id to import it under another id")
    claimed[transcript_id] = str(path)

    attributes = request.attributes
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
    text = f"---\n{dump_yaml(front)}---\n{imported.text}"
    segmentation = corpus.config.segmentation
    # The file must read back as exactly this body and these attributes.
    check = parse_transcript(text, rel, transcript_id, segmentation)
    if check.body != imported.text or check.id != transcript_id:
        raise ImportFailed("could not be written so that it reads back unchanged "
                           "(a bug in qcode)", "please report it with the file")

    report.id, report.path = transcript_id, rel
    report.format, report.encoding, report.confidence = (imported.format, imported.encoding,
                                                         imported.confidence)
    report.notes, report.warnings = imported.notes, imported.warnings
    if kept:
        report.notes.append("kept attributes of the replaced transcript: " + ", ".join(kept))
    report.speakers = dict(imported.speakers())
    report.passages = len(segment(imported.text, segmentation))

    plan = None
    if existing is not None or target.exists():
        report.replaced = True
        codings = [c for c in corpus.codings() if c.transcript == transcript_id]
        plan = plan_body(transcript_id, imported.text, codings, request.min_score, rel)
        report.reanchor = _plan_summary(plan)
        moved = {p.coding.coder for p in plan.placements if p.moved}
        if moved and not request.dry_run:
            # Before the file changes: a session's screen would go stale under it.
            corpus.store.ensure_no_session(
                sorted(moved),
                "replacing the transcript would move codings under an open `qcode code` "
                "session")
    if request.dry_run:
        report.ok = True
        return
    try:
        atomic_write_text(target, text, overwrite=report.replaced)
    except WriteFailed as exc:  # a full disk: this file is not imported, the others are
        raise ImportFailed(exc.message, exc.hint) from None
    if plan is not None and plan.placements:
        try:
            applied = apply_plan(corpus, plan)
        except WriteFailed as exc:
            raise ImportFailed(f"replaced {rel}, but its codings could not all be moved "
                               f"onto the new text ({exc.message})",
                               "free some space (or make the folder writable), then run "
                               f"`qcode reanchor {transcript_id}`") from None
        assert report.reanchor is not None
        report.reanchor["written"] = sum(applied.written.values())
        report.reanchor["skipped"] = len(applied.skipped)
    report.ok = True


def _plan_summary(plan: TranscriptPlan) -> dict[str, Any]:
    summary: dict[str, Any] = dict(plan.counts())
    summary["orphans"] = [p.to_dict() for p in plan.orphans]
    summary["scores"] = [p.target.score for p in plan.of_kind("fuzzy") if p.target]
    return summary


def _transcript_folder(corpus: Corpus) -> Path:
    folder = corpus.path(corpus.config.transcripts)
    if not folder.is_relative_to(corpus.root):
        raise QcodeError(f"the transcript folder {corpus.config.transcripts} is outside the "
                         "project", "qcode writes only inside the project; fix "
                         "`transcripts:` in qcode.yaml")
    return folder


def id_from_name(path: Path) -> str | None:
    """``Intervju 3 – Voss (rektor).docx`` → ``intervju-3-voss-rektor``."""
    stem = nfc(path.stem).lower()
    slug = re.sub(r"[^\w.-]+", "-", stem).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)[:100].strip("-._")
    return slug if slug and NEW_ID_RE.fullmatch(slug) else None


def check_transcript_id(value: str, what: str) -> None:
    if not is_new_transcript_id(value):
        raise UsageError(f"{what} {value!r} cannot be a transcript id",
                         "use letters, digits, - _ and . (it becomes the file name), "
                         "starting with a letter or digit")


def check_attribute_key(key: str) -> None:
    if not _KEY_RE.fullmatch(key):
        raise UsageError(f"--attr key {key!r} is not a valid attribute name",
                         "use letters, digits, - and _, starting with a letter")
    if key in RESERVED_KEYS:
        raise UsageError(f"--attr {key} is set by qcode",
                         "use --id for the id" if key == "id"
                         else "qcode writes source_file and imported_at itself")
