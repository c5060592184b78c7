"""The new project an imported REFI-QDA project becomes: its files planned in memory from
what was read (``ImportedProject``), then written all at once inside ``--into``
(``write_plan``), or not at all."""

from __future__ import annotations

import csv
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qcode.errors import QcodeError, WriteFailed
from qcode.interchange import guids as guidmod
from qcode.interchange.common import slugify
from qcode.interchange.import_report import ImportReport
from qcode.interchange.offsets import SourceText
from qcode.interchange.qdc import CodeMapper, validate_codebook_data
from qcode.interchange.qdpx_sources import CREATED_KEYS, parse_created
from qcode.interchange.safety import UnsafeInput, inside, safe_relative

CASE_KEY = "case"
SETS_ATTRIBUTE = "sets"
MEMO_FILE = "memos/imported-notes.md"


@dataclass
class Source:
    guid: str                 # as written
    name: str
    text: SourceText
    transcript_id: str = ""
    values: dict[str, Any] = field(default_factory=dict)     # front matter, in order
    selections: list[Any] = field(default_factory=list)      # PlainTextSelection elements
    whole: list[Any] = field(default_factory=list)           # Codings of the whole source
    element: Any = None
    created: str | None = None                               # its creationDateTime


@dataclass
class Plan:
    """Everything the new project will hold, before a byte is written."""

    files: dict[str, str] = field(default_factory=dict)       # relative path -> text
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # coder -> events
    dirs: list[str] = field(default_factory=list)
    codings_dir: str = "codings"
    times: dict[str, float] = field(default_factory=dict)     # relative path -> mtime


@dataclass
class ImportedProject:
    """Everything read from the file, in qcode's terms: what ``plan_files`` lays out."""

    name: str
    file_name: str
    file_stem: str
    meta: dict[str, Any]
    code_entries: list[dict[str, Any]]
    mapper: CodeMapper
    tables: list[dict[str, Any]]
    logs: dict[str, list[dict[str, Any]]]
    sources: dict[str, Source]
    variable_descriptions: dict[str, str]
    case_guids: dict[str, str | None]
    user_guids: dict[str, str]
    memos: list[tuple[str, str]]                # heading, text: imported-notes.md
    memo_files: list[Any] = field(default_factory=list)  # qdpx_memos.ImportedMemo


def plan_files(project: ImportedProject, report: ImportReport) -> Plan:
    """Every file of the new project, as text, and every coder's events."""
    from pydantic import ValidationError

    from qcode.format.config import ProjectConfig
    from qcode.format.yamlio import dump_yaml

    plan = Plan()
    # qcode.yaml: qcode's own from the instruction (checked), else a fresh one.
    config: dict[str, Any] | None = None
    meta_config = project.meta.get("config")
    if isinstance(meta_config, dict):
        try:
            config = ProjectConfig.model_validate(meta_config).model_dump(
                mode="json", exclude_defaults=True)
        except ValidationError:
            report.note("qcode's settings in the file do not validate; defaults are used")
            config = None
        if config is not None and not all(
                safe_relative(config.get(k, d)) is not None for k, d in
                (("codebook", None), ("transcripts", "transcripts"), ("codings", "codings"))):
            report.note("qcode's settings in the file name unsafe paths; defaults are used")
            config = None
        if config is not None and any(safe_relative(c.get("file")) is None
                                      for c in config.get("cases", [])):
            config = None
    if config is None:
        config = {"name": project.name, "codebook": "codebooks/codebook.yaml",
                  "transcripts": "transcripts", "codings": "codings",
                  "segmentation": "paragraphs"}
        if project.tables:
            config["cases"] = [{"file": t["file"], "key": t["key"]} for t in project.tables]
        if project.variable_descriptions:
            config["attributes"] = {name: {"description": text} for name, text
                                    in project.variable_descriptions.items()}
    transcripts_dir = config.get("transcripts", "transcripts")
    codings_dir = config.get("codings", "codings")
    plan.codings_dir = codings_dir
    codebook_file = config["codebook"]
    plan.files["qcode.yaml"] = ("# Imported by `qcode import qdpx` from "
                                f"{project.file_name} ({report.origin or 'unknown tool'}).\n"
                                + dump_yaml(config))

    # The codebook.
    book_meta = _mapping(project.meta.get("codebook"))
    codebook = {
        "name": book_meta.get("name") if isinstance(book_meta.get("name"), str)
        else project.name,
        "version": book_meta.get("version") if isinstance(book_meta.get("version"), str)
        else "1",
        "codes": project.code_entries,
    }
    validate_codebook_data(codebook, codebook_file)
    plan.files[codebook_file] = dump_yaml(codebook)

    # Transcripts.
    meta_transcripts = {guidmod.normalize(k): v for k, v in
                        (project.meta.get("transcripts") or {}).items() if guidmod.is_guid(k)}
    used_paths: set[str] = set()
    for key, source in project.sources.items():
        entry = _mapping(meta_transcripts.get(key))
        found = safe_relative(entry.get("file"))
        ok_path = (found is not None and str(found).startswith(f"{transcripts_dir}/")
                   and found.suffix.lower() in (".md", ".txt")
                   and str(found).lower() not in used_paths)
        if found is not None and ok_path:
            rel = found
        else:
            rel = PurePosixPath(transcripts_dir) / f"{slugify(source.transcript_id, 'source')}.md"
            while str(rel).lower() in used_paths:
                rel = rel.with_name(rel.stem + "-2" + rel.suffix)
        used_paths.add(str(rel).lower())
        keys = entry.get("keys") if isinstance(entry.get("keys"), list) else None
        front: dict[str, Any] = {}
        explicit_id = (keys is not None and "id" in keys) or rel.stem != source.transcript_id \
            or not ok_path
        if keys is not None:
            for name in keys:
                if name == "id":
                    if explicit_id:
                        front["id"] = source.transcript_id
                elif isinstance(name, str):
                    front[name] = source.values.get(name)
        elif explicit_id:
            front["id"] = source.transcript_id
        if explicit_id and "id" not in front:
            front = {"id": source.transcript_id, **front}
        for name, value in source.values.items():
            if name not in front:
                front[name] = value
        created = parse_created(source.created)
        if created is not None:
            # The file's time gives the next export the same creationDateTime; a source
            # from another tool that has no date of its own keeps it in front matter too.
            plan.times[str(rel)] = created.timestamp()
            if not entry and not any(key in front for key in CREATED_KEYS):
                front["created"] = source.created
        body = source.text.body
        wants_front = bool(front) or entry.get("front_matter") is True or (
            body.split("\n", 1)[0].rstrip(" \t") == "---")
        text = f"---\n{dump_yaml(front) if front else ''}---\n{body}" if wants_front else body
        plan.files[str(rel)] = text
    if not project.sources:
        plan.dirs.append(transcripts_dir)

    # Case tables.
    for spec in config.get("cases", []):
        table = next((t for t in project.tables if t["file"] == spec["file"]), None)
        columns = table["columns"] if table else [spec["key"]]
        rows = table["rows"].values() if table else []
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([str(row.get(c, "")) for c in columns])
        plan.files[spec["file"]] = out.getvalue()

    # Coding logs.
    for coder, events in project.logs.items():
        plan.logs[coder] = events
    if not project.logs:
        plan.dirs.append(codings_dir)

    # GUIDs to keep: those that differ from what qcode derives in the new project.
    ns = guidmod.project_namespace(config["name"])
    kept: dict[str, dict[str, str]] = {k: {} for k in guidmod.SIDECAR_KINDS}

    def keep(section: str, kind: str, key: str, guid: str | None) -> None:
        if guid and guidmod.normalize(guid) != guidmod.normalize(guidmod.derive(ns, kind, key)):
            kept[section][key] = guid

    for code_id, guid in project.mapper.guid_by_id.items():
        keep("codes", "code", code_id, guid)
    for source in project.sources.values():
        keep("transcripts", "source", source.transcript_id, source.guid)
    for case_key, case_guid in project.case_guids.items():
        keep("cases", "case", case_key, case_guid)
    for coder in project.logs:
        keep("coders", "user", coder, project.user_guids.get(coder))
    if any(kept.values()):
        from qcode.interchange.guids import sidecar_path, sidecar_text

        plan.files[str(sidecar_path(PurePosixPath(codebook_file)))] = sidecar_text(kept)

    # Memos.
    _plan_memos(plan, project, config.get("memos", "memos"))
    plan.files[".gitignore"] = ".qcode/\nexports/\n"

    report.counts = {
        "codes": count_codes_entries(project.code_entries),
        "transcripts": len(project.sources),
        "codings": sum(len(e) for e in project.logs.values()),
        "coders": len(project.logs),
        "cases": sum(len(t["rows"]) for t in project.tables),
        "memos": sum(1 for e in project.logs.values() for event in e if "memo" in event),
        "loose_notes": len(project.memos),
        "memo_files": len(project.memo_files),
        "skipped": len(report.skipped),
    }
    return plan


def _plan_memos(plan: Plan, project: ImportedProject, folder: str) -> None:
    """Memo files (docs/format.md "Memos"): one per target and author
    (``qdpx_memos``), and the notes placed nowhere else in ``imported-notes.md``, a
    project memo without an author (added to such a memo when the file has one, since
    ``check`` wants one memo per target and author)."""
    from qcode.format.memos import MemoAbout, render_memo
    from qcode.store.memos import now_stamp

    memos = list(project.memo_files)
    taken = {MEMO_FILE.lower()}
    loose = ""
    if project.memos:
        lines = [f"# Notes imported from {project.file_name}\n",
                 "Memos and descriptions that qcode keeps nowhere else.\n"]
        for heading, text in project.memos:
            lines.append(f"## {heading}\n\n{text.strip()}\n")
        loose = "\n".join(lines)
        shared = next((m for m in memos if m.about.kind == "project" and m.author is None),
                      None)
        if shared is not None:
            shared.text += f"\n\n{loose}"
        else:
            plan.files[MEMO_FILE] = render_memo(MemoAbout("project"), None, now_stamp(),
                                                None, loose)
    for memo in memos:
        stem = memo.about.file_stem
        names = [stem] + ([f"{stem}--{memo.author}"] if memo.author else [])
        base, number = names[-1], 2
        while all(f"{folder}/{name}.md".lower() in taken for name in names):
            names = [f"{base}-{number}"]
            number += 1
        name = next(n for n in names if f"{folder}/{n}.md".lower() not in taken)
        rel = f"{folder}/{name}.md"
        taken.add(rel.lower())
        plan.files[rel] = render_memo(memo.about, memo.author, memo.created, memo.updated,
                                      memo.text)


def count_codes_entries(entries: list[dict[str, Any]]) -> int:
    return sum(1 + count_codes_entries(e.get("children", [])) for e in entries)


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object from the metadata block, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def write_plan(plan: Plan, into: Path) -> None:
    """Write the planned files, all inside ``into``; on failure remove what was written."""
    from qcode.format.files import atomic_write_text
    from qcode.format.names import CODER_RE as coder_re
    from qcode.store.log import CodingLog

    created = not into.exists()
    try:
        into.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailed.of(exc, into, "create") from None
    root = into.resolve()
    try:
        for rel, text in plan.files.items():
            target = root / rel
            if not inside(root, target):  # pragma: no cover - paths are checked when planned
                raise UnsafeInput(f"refusing to write {rel} outside {into}")
            atomic_write_text(target, text)
            if rel in plan.times:
                os.utime(target, (plan.times[rel], plan.times[rel]))
        for folder in plan.dirs:
            path = root / folder
            if inside(root, path):
                path.mkdir(parents=True, exist_ok=True)
                (path / ".gitkeep").touch()
        for coder, events in plan.logs.items():
            if not coder_re.fullmatch(coder):  # pragma: no cover - names are made valid
                raise QcodeError(f"internal error: coder name {coder!r}")
            CodingLog(root / plan.codings_dir / f"{coder}.jsonl", coder).append(events)
    except BaseException as exc:
        if created:
            shutil.rmtree(into, ignore_errors=True)
        else:
            for item in into.iterdir():
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a folder made read-only or the disk full meanwhile
            raise WriteFailed.of(exc, into, "write the project in") from None
        raise
