"""The REFI-QDA project (``.qdpx``): a whole qcode project to a zip of XML and text, and back.

Export writes ``project.qde`` and one ``sources/<GUID>.txt`` per transcript: the normalised
body as UTF-8 with LF line ends and no BOM, so that every tool's position counting agrees
(FORMAT-NOTES §3). Every current coding becomes a ``Coding`` inside a ``PlainTextSelection``
whose positions are qcode's own offsets (code points, end exclusive) and whose ``name``
quotes the selected text, so any importer can check them. Selections are grouped per coder
and span; a coding's memo is a ``Note`` referred to from the coding.

qcode's own ids (code ids, transcript ids and files, coder names, coding ids), and what
REFI-QDA cannot hold (shortcut keys, aliases, qcode.yaml), travel in a ``<?qcode {...}?>``
processing instruction before the root element: other tools skip it, and importing the
file into qcode gives back the very same project. The XML stays the authority: the
instruction only names and completes what the XML says.

Import (``import_project``) reads leniently what real tools write and reports everything
it leaves out; see docs/refi-qda.md.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode import __version__
from qcode.errors import UnknownName
from qcode.interchange import guids as guidmod
from qcode.interchange.common import (
    META_FORMAT,
    PROJECT_NS,
    is_datetime,
    value_kind,
    value_text,
    variable_type,
    xml_safe,
)
from qcode.interchange.qdc import ORIGIN, code_elements, guid_store, serialize
from qcode.matching import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from qcode.project import Project
    from qcode.store import Coding
    from qcode.transcripts import Transcript

QDE_NAME = "project.qde"
SOURCES_DIR = "sources"


def _el(parent: ET.Element, name: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, name, attrs or {})


@dataclass
class ExportResult:
    data: bytes
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    qde: str = ""


def export_project(project: Project, coders: list[str] | None = None) -> ExportResult:
    """The project as a ``.qdpx`` archive (bytes). ``coders`` narrows it to those coders."""
    config = project.require_config()
    codebook = project.codebook
    transcripts = project.transcripts
    chosen = _choose_coders(project, coders)
    store = guid_store(project)
    warnings: list[str] = []
    if project.problems.errors:
        first = project.problems.errors[0]
        warnings.append(f"the project has errors ({first.location()}: {first.message}); what "
                        "cannot be read is left out: run `qcode check`")

    root = ET.Element("Project", {"name": xml_safe(config.name),
                                                   "origin": ORIGIN})
    meta: dict[str, Any] = {
        "format": META_FORMAT, "qcode": __version__, "project": config.name,
        "config": config.model_dump(mode="json", exclude_defaults=True),
        "codebook": {"name": codebook.name, "version": codebook.version},
    }

    # Users: one per coder.
    user_guid = {coder: store.get("user", coder) for coder in chosen}
    if chosen:
        users = _el(root, "Users")
        for coder in chosen:
            _el(users, "User", {"guid": user_guid[coder], "name": coder, "id": coder})
    meta["coders"] = {user_guid[c]: c for c in chosen}

    # The codebook.
    meta_codes: dict[str, Any] = {}
    code_guid: dict[str, str] = {}
    if codebook.roots:
        book = _el(root, "CodeBook")
        codes_el = _el(book, "Codes")
        count = code_elements(codes_el, codebook.roots, store, meta_codes, set(),
                              warnings)
        if count == 0:  # pragma: no cover - roots exist, so at least one code is written
            root.remove(book)
    for guid, entry in meta_codes.items():
        code_guid[entry["id"]] = guid
    meta["codes"] = meta_codes

    # Variables: every attribute in front matter or a case table, typed by its values.
    own = {t.id: {k: v for k, v in t.front_matter.items() if k != "id" and v is not None}
           for t in transcripts}
    kinds: dict[str, set[str]] = {}
    for values in own.values():
        for name, value in values.items():
            kind = value_kind(value, from_table=False)
            if kind:
                kinds.setdefault(name, set()).add(kind)
    for table in project.case_tables:
        for key_value in table.rows:
            for name, value in table.attributes(key_value).items():
                kind = value_kind(value, from_table=True)
                if kind:
                    kinds.setdefault(name, set()).add(kind)
    names = [n for n in project.attribute_names() if n in kinds or n in config.attributes]
    names += [n for n in kinds if n not in names]
    var_type = {n: variable_type(kinds.get(n, set())) if kinds.get(n) else "Text" for n in names}
    var_guid = {n: store.get("variable", n) for n in names}
    if names:
        variables = _el(root, "Variables")
        for name in names:
            element = _el(variables, "Variable", {"guid": var_guid[name], "name": xml_safe(name),
                                                  "typeOfVariable": var_type[name]})
            spec = config.attributes.get(name)
            if spec is not None and spec.description:
                _el(element, "Description").text = xml_safe(spec.description)

    def add_value(parent: ET.Element, name: str, value: Any) -> None:
        kind = var_type[name]
        holder = _el(parent, "VariableValue")
        _el(holder, "VariableRef", {"targetGUID": var_guid[name]})
        _el(holder, f"{kind}Value").text = xml_safe(value_text(value, kind))

    # Cases: one per case-table row, with its attributes and its transcripts.
    source_guid = {t.id: store.get("source", t.id) for t in transcripts}
    meta["case_tables"] = []
    meta["cases"] = {}
    case_count = 0
    cases_el = _el(root, "Cases")
    for table in project.case_tables:
        meta["case_tables"].append({"file": table.file, "key": table.key,
                                    "columns": list(table.columns)})
        for key_value in table.rows:
            guid = store.get("case", f"{table.key}={key_value}")
            case = _el(cases_el, "Case", {"guid": guid, "name": xml_safe(key_value)})
            for name, value in table.attributes(key_value).items():
                if name in var_guid:
                    add_value(case, name, value)
            for t in transcripts:
                value = t.front_matter.get(table.key)
                if value is not None and str(value) == key_value:
                    _el(case, "SourceRef", {"targetGUID": source_guid[t.id]})
            meta["cases"][guid] = {"table": table.file, "key": key_value}
            case_count += 1
    if case_count == 0:
        root.remove(cases_el)

    # Sources, selections and codings.
    codings = project.codings(chosen) if chosen else []
    by_transcript: dict[str, list[Coding]] = {}
    known = {t.id for t in transcripts}
    for coding in codings:
        if coding.transcript not in known:
            warnings.append(f"coding {coding.id} of {coding.coder} is on unknown transcript "
                            f"{coding.transcript!r}; left out")
            continue
        by_transcript.setdefault(coding.transcript, []).append(coding)
    files: list[tuple[str, bytes]] = []
    notes: list[tuple[str, Coding, str]] = []  # note guid, coding, code label
    meta["transcripts"] = {}
    meta["codings"] = {}
    exported = 0
    non_bmp = []
    sources_el = _el(root, "Sources") if transcripts else None
    for transcript in transcripts:
        guid = source_guid[transcript.id]
        file_name = f"{guid}.txt"
        files.append((f"{SOURCES_DIR}/{file_name}", transcript.body.encode("utf-8")))
        if any(ord(ch) > 0xFFFF for ch in transcript.body):
            non_bmp.append(transcript.id)
        source = _el(sources_el, "TextSource", {  # type: ignore[arg-type]
            "guid": guid, "name": xml_safe(transcript.id),
            "plainTextPath": f"internal://{file_name}"})
        meta["transcripts"][guid] = {"id": transcript.id, "file": transcript.file,
                                     "keys": list(transcript.front_matter),
                                     "front_matter": transcript.body_line > 1}
        exported += _selections(source, transcript, by_transcript.get(transcript.id, []),
                                codebook, code_guid, user_guid, store, meta, notes, warnings)
        for name, value in own[transcript.id].items():
            if name in var_guid and value_kind(value, from_table=False):
                add_value(source, name, value)

    # Memos on codings, as notes the codings refer to.
    if notes:
        notes_el = _el(root, "Notes")
        for guid, coding, label in notes:
            attrs = {"guid": guid, "name": xml_safe(f"Memo: {label}"),
                     "creatingUser": user_guid[coding.coder]}
            if is_datetime(coding.at):
                attrs["creationDateTime"] = coding.at
            note = _el(notes_el, "Note", attrs)
            _el(note, "PlainTextContent").text = xml_safe(coding.memo or "")

    times = sorted(c.at for c in codings if is_datetime(c.at))
    creator = config.primary_coder if config.primary_coder in user_guid else (
        chosen[0] if chosen else None)
    if creator:
        root.set("creatingUserGUID", user_guid[creator])
    if times:
        root.set("creationDateTime", times[0])
        root.set("modifiedDateTime", times[-1])
    if non_bmp:
        warnings.append(
            f"{len(non_bmp)} transcripts contain characters outside the Basic Multilingual "
            f"Plane (e.g. emoji) such as {non_bmp[0]!r}: NVivo counts those as two "
            "positions and will misplace codings after them")

    qde = serialize(root, PROJECT_NS, meta)
    stamp = _zip_time(times[-1] if times else None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in [(QDE_NAME, qde.encode("utf-8")), *files]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload)
    counts = {"codes": len(meta_codes), "transcripts": len(transcripts), "codings": exported,
              "coders": len(chosen), "cases": case_count, "variables": len(names),
              "memos": len(notes)}
    return ExportResult(buffer.getvalue(), counts, warnings, qde)


def _choose_coders(project: Project, coders: list[str] | None) -> list[str]:
    available = project.coders
    if not coders:
        return list(available)
    chosen = []
    for coder in coders:
        if coder not in available:
            raise UnknownName("coder", coder, did_you_mean(coder, available),
                              hint=f"coders with a log: {', '.join(available) or 'none'}")
        if coder not in chosen:
            chosen.append(coder)
    return chosen


def _selections(source: ET.Element, transcript: Transcript, codings: list[Coding], codebook,
                code_guid: dict[str, str], user_guid: dict[str, str],
                store: guidmod.GuidStore, meta: dict[str, Any],
                notes: list[tuple[str, Coding, str]], warnings: list[str]) -> int:
    """Add this transcript's selections; returns how many codings were written."""
    body = transcript.body
    coder_rank = {coder: i for i, coder in enumerate(user_guid)}
    groups: dict[tuple[int, int, str], list[Coding]] = {}
    for coding in codings:
        code = codebook.resolve(coding.code)
        if code is None or code.id not in code_guid:
            warnings.append(f"coding {coding.id} of {coding.coder} uses unknown code "
                            f"{coding.code!r}; left out")
            continue
        if not code.codable:
            warnings.append(f"coding {coding.id} of {coding.coder} uses {code.id!r}, a grouping "
                            "folder (codable: false); left out")
            continue
        if not 0 <= coding.start < coding.end <= len(body):
            warnings.append(f"coding {coding.id} of {coding.coder} has span "
                            f"{coding.start}:{coding.end} outside {transcript.file}; left out")
            continue
        if body[coding.start:coding.end] != coding.text:
            warnings.append(f"coding {coding.id} of {coding.coder}: {transcript.file} changed "
                            "since it was coded; exported at its recorded offsets")
        groups.setdefault((coding.start, coding.end, coding.coder), []).append(coding)
    written = 0
    for (start, end, coder) in sorted(groups, key=lambda g: (g[0], g[1], coder_rank[g[2]])):
        members = sorted(groups[(start, end, coder)], key=lambda c: (c.at, c.id))
        attrs = {
            "guid": store.get("selection", f"{coder}:{transcript.id}:{start}:{end}"),
            "name": xml_safe(body[start:end]),
            "startPosition": str(start), "endPosition": str(end),
            "creatingUser": user_guid[coder],
        }
        dated = [c.at for c in members if is_datetime(c.at)]
        if dated:
            attrs["creationDateTime"] = min(dated)
        selection = _el(source, "PlainTextSelection", attrs)
        for coding in members:
            code = codebook.resolve(coding.code)
            own = guidmod.guid_of_coding_id(coding.id)
            owner = f"coding:{coder}:{coding.id}"
            guid = own if own and store.claim(own, owner) else store.get(
                "coding", f"{coder}:{coding.id}")
            attrs = {"guid": guid, "creatingUser": user_guid[coder]}
            if is_datetime(coding.at):
                attrs["creationDateTime"] = coding.at
            else:
                warnings.append(f"coding {coding.id} of {coder} has no valid time ({coding.at!r})")
            element = _el(selection, "Coding", attrs)
            _el(element, "CodeRef", {"targetGUID": code_guid[code.id]})
            entry: dict[str, Any] = {"id": coding.id}
            if coding.code != code.id:
                entry["code"] = coding.code
            if coding.extra:
                entry["extra"] = dict(coding.extra)
            if coding.memo:
                note_guid = store.get("note", f"{coder}:{coding.id}")
                _el(element, "NoteRef", {"targetGUID": note_guid})
                notes.append((note_guid, coding, code.label))
            meta["codings"][guid] = entry
            written += 1
    return written


def _zip_time(at: str | None) -> tuple[int, int, int, int, int, int]:
    """A fixed member time (the last coding's), so that equal projects give equal archives."""
    import datetime as dt

    if at:
        try:
            moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
            if moment.year >= 1980:
                return (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                        moment.second - moment.second % 2)
        except ValueError:
            pass
    return (1980, 1, 1, 0, 0, 0)


def write_archive(path: Path, data: bytes, force: bool) -> None:
    """Write an archive atomically (temp file + rename); never over a file without ``force``."""
    import os
    import tempfile

    from qcode.errors import QcodeError, UsageError

    if path.exists() and path.is_dir():
        raise UsageError(f"{path} is a folder", "give -o a file name, e.g. study.qdpx")
    if path.exists() and not force:
        raise QcodeError(f"{path} already exists", "choose another name, or add --force to "
                         "replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists() and not force:
            raise QcodeError(f"{path} already exists", "qcode never overwrites your files")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
