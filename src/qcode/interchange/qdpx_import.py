"""``qcode import qdpx``: a REFI-QDA project from any tool to a new qcode project.

Everything is read, checked and mapped in memory first (``plan``); only then are files
written, all inside ``--into``, which must not exist or be empty. A hostile or invalid file
therefore leaves nothing behind. What the project has that qcode cannot hold (PDF,
picture, audio and video sources, links, graphs, code sets) is listed in the report.

How a tool's objects become qcode's:

- ``Code`` → a code of ``codebooks/codebook.yaml`` (id slugged from the name, the name as
  label, description split into description/include/exclude/examples/keywords);
- ``TextSource`` with a ``.txt`` (or inline text) → ``transcripts/<id>.md`` with front
  matter: the source's variable values, its case and its ``attr: value`` sets;
- ``Case`` with a name → a row of ``cases/cases.csv`` (key column ``case``); a case without
  a name (MAXQDA's document variables) → front matter of its sources;
- ``PlainTextSelection``/``Coding`` → an ``add`` event in ``codings/<user>.jsonl``, with
  positions converted to qcode's offsets (``offsets``) and the memo from the selection's
  Description and the notes it refers to;
- other notes and descriptions → ``memos/imported-notes.md``.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qcode.errors import QcodeError
from qcode.format.names import CODER_RE, plural
from qcode.interchange import guids as guidmod
from qcode.interchange import safety
from qcode.interchange.common import (
    META_FORMAT,
    META_PI,
    attr,
    cell_text,
    child,
    children,
    is_datetime,
    local,
    slugify,
    text_of,
    typed_value,
    unique_id,
)
from qcode.interchange.import_report import ImportReport
from qcode.interchange.offsets import SourceText, choose_model, expectation
from qcode.interchange.qdc import (
    CodeMapper,
    check_root,
    read_codes,
    validate_codebook_data,
)
from qcode.interchange.safety import (
    Archive,
    UnsafeInput,
    inside,
    open_archive,
    parse_xml,
    read_json_pi,
    safe_relative,
)

NON_TEXT_SOURCES = {"PDFSource": "a PDF", "PictureSource": "a picture",
                    "AudioSource": "an audio file", "VideoSource": "a video"}
SELECTION_TAGS = ("PlainTextSelection", "PDFSelection", "PictureSelection", "AudioSelection",
                  "VideoSelection", "TranscriptSelection")
_NAME_EXTENSIONS = re.compile(r"\.(txt|docx?|rtf|odt|pdf|md)$", re.IGNORECASE)
_SET_ATTRIBUTE = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(\S.*?)\s*$")
_SCHEME = re.compile(r"^(internal|relative|absolute)://(.*)$", re.IGNORECASE)
# A transcript id from qcode's instruction: no whitespace (qcode's rule), and nothing that
# could act as a path if some later command used the id as a file name.
_SAFE_ID = re.compile(r"^[^\s/\\.][^\s/\\]*$")
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


@dataclass
class Plan:
    """Everything the new project will hold, before a byte is written."""

    files: dict[str, str] = field(default_factory=dict)       # relative path -> text
    logs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # coder -> events
    dirs: list[str] = field(default_factory=list)
    codings_dir: str = "codings"


class Importer:
    def __init__(self, path: Path, display: str | None = None) -> None:
        self.path = path
        self.archive: Archive | None = None
        self.report = ImportReport(source=display or str(path), target="")
        self.meta: dict[str, Any] = {}
        self.memos: list[tuple[str, str]] = []               # heading, text
        self.notes: dict[str, tuple[str, str]] = {}          # guid -> (name, text)
        self.used_notes: set[str] = set()
        self._case_guids: dict[str, str | None] = {}        # "key=value" -> case GUID as written
        self._linked_memos: dict[str, list[str]] = {}  # selection guid -> note guids

    # -- reading --------------------------------------------------------------------------

    def open(self) -> Any:
        """Open the archive (or a bare .qde) and parse the project XML; returns the root."""
        if zipfile.is_zipfile(self.path):
            self.archive = open_archive(self.path)
            qde = self._find_qde()
            doc = parse_xml(self.archive.read(qde), f"{self.path.name}:{qde.filename}")
            if self.archive.duplicates:
                self.report.note("members differing only in case were ignored: "
                                 + ", ".join(self.archive.duplicates[:5]))
        else:
            try:
                if self.path.stat().st_size > safety.MAX_XML_SIZE:
                    raise UnsafeInput(f"{self.path.name} is larger than a project file can be "
                                      f"({safety.MAX_XML_SIZE:,} bytes)",
                                      "export the project from your tool as REFI-QDA (.qdpx)")
                head = self.path.read_bytes()
            except OSError as exc:
                raise QcodeError(f"cannot read {self.path}: {exc.strerror}") from None
            if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                raise UnsafeInput(f"{self.path.name} is neither a .qdpx (zip) nor a .qde (XML)",
                                  "export the project from your tool as REFI-QDA (.qdpx)")
            doc = parse_xml(head, self.path.name)
            self.report.note("a bare .qde without its archive: its source files are not here")
        check_root(doc, "Project", self.path.name)
        meta = read_json_pi(doc, META_PI)
        if meta and meta.get("format") == META_FORMAT:
            self.meta = meta
        return doc.root

    def _find_qde(self) -> zipfile.ZipInfo:
        assert self.archive is not None
        qdes = [info for key, info in self.archive.members.items()
                if key.endswith(".qde") and "/" not in key.rstrip("/")]
        if not qdes:
            raise UnsafeInput(f"{self.path.name} has no .qde file at its top level",
                              "a .qdpx holds project.qde and a sources/ folder")
        preferred = [q for q in qdes if q.filename.lower() == "project.qde"]
        if len(qdes) > 1 and not preferred:
            raise UnsafeInput(f"{self.path.name} has several .qde files: "
                              + ", ".join(q.filename for q in qdes),
                              "a .qdpx holds exactly one project")
        return (preferred or qdes)[0]

    def _member(self, path_value: str | None) -> tuple[bytes | None, str]:
        """The bytes of a source file named in the XML, or None and why not."""
        if not path_value:
            return None, "no file is named"
        match = _SCHEME.match(path_value.strip())
        scheme = match.group(1).lower() if match else None
        rest = (match.group(2) if match else path_value.strip()).replace("\\", "/").lstrip("/")
        if scheme in ("relative", "absolute"):
            return None, f"an external file ({path_value}), not inside the archive"
        if self.archive is None:
            return None, f"its file {rest} is not here (a bare .qde has no sources)"
        base = rest.rsplit("/", 1)[-1]
        for candidate in (f"sources/{rest}", rest, f"sources/{base}"):
            info = self.archive.find(candidate)
            if info is not None and not info.is_dir():
                return self.archive.read(info), ""
        return None, f"its file {rest} is missing from the archive"

    def _decode(self, raw: bytes, what: str) -> str:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.report.note(f"{what} is UTF-16, not UTF-8 as REFI-QDA asks; decoded anyway")
            return raw.decode("utf-16", errors="replace")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            from qcode.format.text import guess_encoding

            encoding, _confidence = guess_encoding(raw)
            try:
                text = raw.decode(encoding or "cp1252")
            except (LookupError, UnicodeDecodeError):
                encoding, text = "cp1252", raw.decode("cp1252", errors="replace")
            self.report.note(f"{what} is not UTF-8; decoded as {encoding or 'cp1252'}")
            return text

    # -- the plan -------------------------------------------------------------------------

    def plan(self, root: Any) -> Plan:
        report = self.report
        report.origin = attr(root, "origin")
        project_name = (attr(root, "name") or "").strip() or self.path.stem
        self.users = self._users(root)
        self._read_notes(root)

        # Codes.
        book = child(root, "CodeBook")
        codes_el = child(book, "Codes") if book is not None else None
        foreign_codes = read_codes(codes_el, report) if codes_el is not None else []
        mapper = CodeMapper(self.meta.get("codes") if isinstance(self.meta.get("codes"), dict)
                            else None, set(), report)
        code_entries = [mapper.entry(c) for c in foreign_codes]
        mapper.finish()
        self.mapper = mapper
        self._code_notes(foreign_codes)

        # Variables.
        self.variables: dict[str, tuple[str, str]] = {}   # guid -> (name, type)
        variables_el = child(root, "Variables")
        self.variable_descriptions: dict[str, str] = {}
        for var in children(variables_el, "Variable") if variables_el is not None else []:
            key = guidmod.normalize(attr(var, "guid"))
            name = (attr(var, "name") or "").strip()
            if key and name:
                self.variables[key] = (name, attr(var, "typeOfVariable") or "Text")
                description = text_of(child(var, "Description")).strip()
                if description:
                    self.variable_descriptions[name] = description

        # Sources.
        self.sources: dict[str, Source] = {}   # normalised guid -> text source
        sources_el = child(root, "Sources")
        for element in list(sources_el) if sources_el is not None else []:
            self._source(element)
        self._assign_transcript_ids()

        # Cases and sets add attributes; they need the transcripts.
        tables = self._cases(root)
        self._sets(root)
        for kind in ("Links", "Graphs"):
            container = child(root, kind)
            for item in list(container) if container is not None else []:
                if kind == "Links" and self._link(item):
                    continue
                report.skip(local(item.tag).lower(), attr(item, "name") or attr(item, "guid")
                            or "", f"qcode has no {kind.lower()}")

        # Codings.
        logs = self._codings(root)

        # Project-level text.
        description = text_of(child(root, "Description")).strip()
        if description:
            self.memos.append((f"Project {project_name}", description))
        for ref in children(root, "NoteRef"):
            self._memo_from_note(attr(ref, "targetGUID"), f"Project {project_name}")
        for guid, (name, text) in self.notes.items():
            if guid not in self.used_notes and text.strip():
                self.memos.append((f"Note {name}".strip(), text))

        return self._files(project_name, code_entries, tables, logs)

    def _users(self, root: Any) -> dict[str, str]:
        """User GUID (normalised) → coder name: unique, valid as a log file name."""
        users_el = child(root, "Users")
        meta_coders = {guidmod.normalize(k): v for k, v in
                       (self.meta.get("coders") or {}).items() if guidmod.is_guid(k)}
        names: dict[str, str] = {}
        taken: set[str] = set()
        self.user_guids: dict[str, str] = {}   # coder -> GUID as written
        for user in children(users_el, "User") if users_el is not None else []:
            guid = attr(user, "guid")
            key = guidmod.normalize(guid)
            if key is None or key in names:
                continue
            wanted = meta_coders.get(key)
            if isinstance(wanted, str) and CODER_RE.fullmatch(wanted) and wanted not in taken:
                coder = wanted
                taken.add(coder)
            else:
                label = attr(user, "name") or attr(user, "id") or ""
                coder = unique_id(slugify(label, fallback=f"user-{key[:8]}"), taken)
            names[key] = coder
            self.user_guids[coder] = guid  # type: ignore[assignment]
        self._user_taken = taken
        return names

    def _coder(self, *guids: str | None) -> str:
        for guid in guids:
            key = guidmod.normalize(guid)
            if key is None:
                continue
            if key not in self.users:
                coder = unique_id(f"user-{key[:8]}", self._user_taken)
                self.users[key] = coder
                self.user_guids[coder] = guid  # type: ignore[assignment]
                self.report.note(f"user {guid} is not among the project's users; "
                                 f"their codings go to {coder}")
            return self.users[key]
        if "imported" not in self._user_taken:
            self._user_taken.add("imported")
        return "imported"

    def _read_notes(self, root: Any) -> None:
        notes_el = child(root, "Notes")
        for note in children(notes_el, "Note") if notes_el is not None else []:
            key = guidmod.normalize(attr(note, "guid"))
            if key is None:
                continue
            content = child(note, "PlainTextContent")
            if content is not None:
                text = text_of(content)
            else:
                raw, why = self._member(attr(note, "plainTextPath"))
                text = self._decode(raw, f"note {attr(note, 'name')!r}") if raw is not None else ""
                if raw is None and attr(note, "plainTextPath"):
                    self.report.skip("note", attr(note, "name") or "", why)
            description = text_of(child(note, "Description")).strip()
            if description:
                text = f"{description}\n\n{text}" if text.strip() else description
            self.notes[key] = ((attr(note, "name") or "").strip(), text.replace("\r\n", "\n"))

    def _note_text(self, guid: str | None) -> str | None:
        key = guidmod.normalize(guid)
        if key is None or key not in self.notes:
            return None
        self.used_notes.add(key)
        return self.notes[key][1].strip() or None

    def _memo_from_note(self, guid: str | None, heading: str) -> None:
        text = self._note_text(guid)
        if text:
            self.memos.append((heading, text))

    def _code_notes(self, codes: list[Any]) -> None:
        for code in codes:
            for ref in code.note_refs:
                self._memo_from_note(ref, f"Code {code.name}")
            self._code_notes(code.children)

    def _source(self, element: Any) -> None:
        kind = local(element.tag)
        name = (attr(element, "name") or "").strip()
        key = guidmod.normalize(attr(element, "guid"))
        if kind in NON_TEXT_SOURCES:
            self._skip_source(element, name or kind, f"{NON_TEXT_SOURCES[kind]}: qcode "
                              "imports plain-text sources only")
            return
        if kind != "TextSource":
            self._skip_source(element, name or kind, f"unknown source type <{kind}>")
            return
        if key is None or key in self.sources:
            self._skip_source(element, name or "TextSource",
                              "its GUID is missing or used by another source")
            return
        content = child(element, "PlainTextContent")
        plain = attr(element, "plainTextPath")
        rich = attr(element, "richTextPath")
        if content is not None and not plain:
            raw_text = text_of(content)
        else:
            path = plain
            if not path and rich and rich.lower().endswith(".txt"):
                path = rich
            if not path:
                self._skip_source(element, name or "TextSource",
                                  f"no plain-text file (only {rich or 'nothing'}); qcode "
                                  "imports plain text")
                return
            if not path.lower().endswith(".txt"):
                self._skip_source(element, name or path, f"its text file {path} is not .txt")
                return
            raw, why = self._member(path)
            if raw is None:
                self._skip_source(element, name or path, why)
                return
            raw_text = self._decode(raw, f"source {name or path!r}")
        if not name:
            name = PurePosixPath((plain or "source").split("://")[-1]).name
        source = Source(guid=attr(element, "guid"), name=name,  # type: ignore[arg-type]
                        text=SourceText(raw_text), element=element)
        source.selections = children(element, "PlainTextSelection")
        source.whole = children(element, "Coding")
        for value in children(element, "VariableValue"):
            self._add_value(source.values, value, f"source {name!r}")
        description = text_of(child(element, "Description")).strip()
        if description:
            self.memos.append((f"Transcript {name}", description))
        for ref in children(element, "NoteRef"):
            self._memo_from_note(attr(ref, "targetGUID"), f"Transcript {name}")
        self.sources[key] = source

    def _skip_source(self, element: Any, name: str, reason: str) -> None:
        codings = sum(1 for tag in SELECTION_TAGS for sel in element.iter()
                      if local(sel.tag) == tag for c in children(sel, "Coding"))
        codings += len(children(element, "Coding"))
        extra = f" ({plural(codings, 'coding')} left out)" if codings else ""
        self.report.skip("source", name, reason + extra)

    def _add_value(self, values: dict[str, Any], element: Any, where: str,
                   table: bool = False) -> str | None:
        """Read a VariableValue into ``values``; returns the variable's name."""
        ref = child(element, "VariableRef")
        key = guidmod.normalize(attr(ref, "targetGUID")) if ref is not None else None
        if key is None or key not in self.variables:
            self.report.skip("variable value", where, "it refers to no declared variable")
            return None
        name, declared = self.variables[key]
        value_el = next((c for c in element if local(c.tag).endswith("Value")
                         and local(c.tag) != "VariableRef"), None)
        if value_el is None:
            return name
        kind = local(value_el.tag)[: -len("Value")] or declared
        text = text_of(value_el)
        if name == "id":
            name = "id_"
        value = cell_text(kind, text) if table else typed_value(kind, text)
        if name in values and values[name] != value:
            self.report.note(f"{where}: {name} is given twice ({values[name]!r} and {value!r}); "
                             "the first is kept")
            return name
        values.setdefault(name, value)
        return name

    def _assign_transcript_ids(self) -> None:
        meta_transcripts = {guidmod.normalize(k): v for k, v in
                            (self.meta.get("transcripts") or {}).items() if guidmod.is_guid(k)}
        taken: set[str] = set()
        for key, source in self.sources.items():
            entry = meta_transcripts.get(key)
            wanted = entry.get("id") if isinstance(entry, dict) else None
            if (isinstance(wanted, str) and _SAFE_ID.match(wanted) and wanted not in taken):
                source.transcript_id = wanted
                taken.add(wanted)
            else:
                base = slugify(_NAME_EXTENSIONS.sub("", source.name), fallback="source")
                source.transcript_id = unique_id(base, taken)

    def _cases(self, root: Any) -> list[dict[str, Any]]:
        """Case tables: named cases become rows; a nameless case's values go to its sources."""
        cases_el = child(root, "Cases")
        meta_tables = [t for t in self.meta.get("case_tables") or [] if isinstance(t, dict)]
        meta_cases = {guidmod.normalize(k): v for k, v in (self.meta.get("cases") or {}).items()
                      if guidmod.is_guid(k) and isinstance(v, dict)}
        tables: dict[str, dict[str, Any]] = {}
        for spec in meta_tables:
            path = safe_relative(spec.get("file"))
            key = spec.get("key")
            columns = spec.get("columns")
            if path is None or not isinstance(key, str) or not key:
                continue
            columns = [c for c in columns if isinstance(c, str)] if isinstance(columns, list) \
                else [key]
            tables[str(path)] = {"file": str(path), "key": key,
                                 "columns": columns if key in columns else [key, *columns],
                                 "rows": {}}
        taken_case_names: dict[str, set[str]] = {}
        for case in children(cases_el, "Case") if cases_el is not None else []:
            name = (attr(case, "name") or "").strip()
            refs = [guidmod.normalize(attr(r, "targetGUID")) for r in children(case, "SourceRef")]
            values: dict[str, Any] = {}
            where = f"case {name!r}" if name else "a case without a name"
            for value in children(case, "VariableValue"):
                self._add_value(values, value, where, table=bool(name))
            for kind in ("CodeRef", "SelectionRef"):
                if children(case, kind):
                    self.report.skip("case link", name or "(no name)",
                                     f"{len(children(case, kind))} {kind}s: qcode cases hold "
                                     "attributes and transcripts only")
            description = text_of(child(case, "Description")).strip()
            if description:
                self.memos.append((f"Case {name}".strip(), description))
            if not name:
                # MAXQDA (and Quirkos) carry document variables this way.
                for ref in refs:
                    source = self.sources.get(ref)  # type: ignore[arg-type]
                    if source is None:
                        continue
                    for attr_name, value in values.items():
                        if attr_name not in source.values:
                            source.values[attr_name] = value
                continue
            entry = meta_cases.get(guidmod.normalize(attr(case, "guid")))
            table = None
            if isinstance(entry, dict) and isinstance(entry.get("table"), str):
                table = tables.get(entry["table"])
            if table is None:
                table = tables.setdefault("cases/cases.csv", {
                    "file": "cases/cases.csv", "key": self._case_key(), "columns": [],
                    "rows": {}})
                if not table["columns"]:
                    table["columns"] = [table["key"]]
            key_value = name
            if isinstance(entry, dict) and isinstance(entry.get("key"), str) \
                    and entry["key"].strip() == entry["key"] and entry["key"]:
                key_value = entry["key"]
            seen = taken_case_names.setdefault(table["file"], set())
            if key_value in seen:
                number = 2
                while f"{key_value} ({number})" in seen:
                    number += 1
                self.report.note(f"two cases are named {key_value!r}; the second is "
                                 f"{key_value} ({number})")
                key_value = f"{key_value} ({number})"
            seen.add(key_value)
            row = {table["key"]: key_value}
            for column, value in values.items():
                if column == table["key"]:
                    continue
                if column not in table["columns"]:
                    table["columns"].append(column)
                row[column] = value
            table["rows"][key_value] = row
            self._case_guids[f"{table['key']}={key_value}"] = attr(case, "guid")
            for ref in refs:
                source = self.sources.get(ref)  # type: ignore[arg-type]
                if source is None:
                    continue
                if table["key"] in source.values:
                    if str(source.values[table["key"]]) != key_value:
                        self.report.note(f"transcript {source.transcript_id!r} is in several "
                                         f"cases; it keeps {source.values[table['key']]!r}, "
                                         f"not {key_value!r}")
                    continue
                source.values[table["key"]] = key_value
        return list(tables.values())

    def _case_key(self) -> str:
        names = {name for name, _ in self.variables.values()}
        key = CASE_KEY
        while key in names:
            key += "_name"
        return key

    def _sets(self, root: Any) -> None:
        sets_el = child(root, "Sets")
        variables = {name for name, _ in self.variables.values()}
        sets_attribute = SETS_ATTRIBUTE
        while sets_attribute in variables:
            sets_attribute += "_"
        for set_el in children(sets_el, "Set") if sets_el is not None else []:
            name = (attr(set_el, "name") or "").strip()
            sources = [guidmod.normalize(attr(m, "targetGUID"))
                       for m in children(set_el, "MemberSource")]
            codes = children(set_el, "MemberCode")
            notes = children(set_el, "MemberNote")
            if codes or notes:
                self.report.skip("set", name, f"{plural(len(codes), 'code')} and "
                                 f"{plural(len(notes), 'note')}: qcode has no code or note "
                                 "groups")
            match = _SET_ATTRIBUTE.match(name)
            for key in sources:
                source = self.sources.get(key)  # type: ignore[arg-type]
                if source is None:
                    continue
                if match:
                    # ATLAS.ti writes document attributes as sets named "gender: male".
                    attribute, value = match.group(1), match.group(2)
                    if attribute == "id":
                        attribute = "id_"
                    if attribute not in source.values:
                        source.values[attribute] = value
                    elif source.values[attribute] != value:
                        self.report.note(f"transcript {source.transcript_id!r}: set {name!r} "
                                         f"conflicts with {attribute}={source.values[attribute]!r}")
                else:
                    current = source.values.get(sets_attribute)
                    source.values[sets_attribute] = f"{current}; {name}" if current else name

    def _link(self, link: Any) -> bool:
        """A note linked to an imported text selection becomes that selection's memo."""
        ends = [guidmod.normalize(attr(link, "originGUID")),
                guidmod.normalize(attr(link, "targetGUID"))]
        note = next((e for e in ends if e in self.notes), None)
        other = next((e for e in ends if e != note), None)
        if note is None or other is None:
            return False
        for source in self.sources.values():
            for selection in source.selections:
                if guidmod.normalize(attr(selection, "guid")) == other:
                    self._linked_memos.setdefault(other, []).append(note)
                    self.used_notes.add(note)
                    return True
        return False

    def _codings(self, root: Any) -> dict[str, list[dict[str, Any]]]:
        report = self.report
        # Positions: pick the counting model, checking it against quoted selection text.
        checks = []
        for source in self.sources.values():
            for selection in source.selections:
                expected = expectation(attr(selection, "name"))
                start, end = _int(attr(selection, "startPosition")), _int(
                    attr(selection, "endPosition"))
                if expected and start is not None and end is not None:
                    checks.append((source.text, start, end, expected))
        choice = choose_model(report.origin, checks)
        model = choice.model
        report.offsets = {"model": model, "by": choice.by, "origin_model": choice.default,
                          "checked": choice.checked, "matched": choice.matched,
                          "mismatched": 0}
        if choice.by == "selection names":
            report.note(f"positions were counted as {model}, not {choice.default} as "
                        f"{report.origin or 'the origin'} suggests: {choice.matched} of "
                        f"{choice.checked} checkable selections agree that way")

        meta_codings = {guidmod.normalize(k): v for k, v in
                        (self.meta.get("codings") or {}).items()
                        if guidmod.is_guid(k) and isinstance(v, dict)}
        logs: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
        used_ids: dict[str, set[str]] = {}
        seen_spans: set[tuple[str, str, int, int, str]] = set()
        mismatches: list[str] = []
        sequence = 0
        from qcode.store.events import new_id, now_iso

        now = now_iso()
        undated = 0
        for source in self.sources.values():
            body = source.text.body
            units = source.text.units(model)
            spans: list[tuple[Any, int, int, Any, list[str]]] = []
            for selection in source.selections:
                label = f"selection {attr(selection, 'guid')} in {source.name!r}"
                start, end = _int(attr(selection, "startPosition")), _int(
                    attr(selection, "endPosition"))
                codings = children(selection, "Coding")
                if start is None or end is None or start > end:
                    report.skip("selection", label, f"positions {attr(selection, 'startPosition')}"
                                f"-{attr(selection, 'endPosition')} are not a range "
                                f"({plural(len(codings), 'coding')} left out)")
                    continue
                if start < 0 or end > units:
                    report.note(f"{label}: positions {start}-{end} run outside the text "
                                f"(0-{units}); cut to fit")
                    start, end = max(0, min(start, units)), max(0, min(end, units))
                bs, be = source.text.to_body(model, start), source.text.to_body(model, end)
                if bs >= be:
                    report.skip("selection", label, "it selects no text "
                                f"({plural(len(codings), 'coding')} left out)")
                    continue
                expected = expectation(attr(selection, "name"))
                if expected and not expected.holds(body, bs, be):
                    said = (f"line {expected.line}" if expected.line is not None
                            else repr(_short(expected.text or "")))
                    mismatches.append(f"{label}: the text at {start}-{end} is "
                                      f"{_short(body[bs:be])!r}, the tool named it {said}")
                memo_parts = []
                description = text_of(child(selection, "Description")).strip()
                if description:
                    memo_parts.append(description)
                for ref in children(selection, "NoteRef"):
                    text = self._note_text(attr(ref, "targetGUID"))
                    if text:
                        memo_parts.append(text)
                for note in self._linked_memos.get(
                        guidmod.normalize(attr(selection, "guid")) or "", []):
                    memo_parts.append(self.notes[note][1].strip())
                if not codings:
                    if memo_parts:
                        self.memos.append((f"Segment {bs}:{be} of transcript "
                                           f"{source.transcript_id}",
                                           f"> {_short(body[bs:be], 300)}\n\n"
                                           + "\n\n".join(memo_parts)))
                    continue
                for coding in codings:
                    spans.append((coding, bs, be, selection, memo_parts))
            for coding in source.whole:
                spans.append((coding, 0, len(body), source.element, []))
            for coding, bs, be, holder, memo_parts in spans:
                sequence += 1
                guid = attr(coding, "guid")
                ref = child(coding, "CodeRef")
                code_key = guidmod.normalize(attr(ref, "targetGUID")) if ref is not None else None
                code_id = self.mapper.id_by_guid.get(code_key) if code_key else None
                label = f"coding {guid} in {source.name!r}"
                if code_id is None:
                    report.skip("coding", label, "its CodeRef names no code of the codebook")
                    continue
                coder = self._coder(attr(coding, "creatingUser"), attr(holder, "creatingUser"),
                                    attr(source.element, "creatingUser"),
                                    attr(root, "creatingUserGUID"))
                meta = meta_codings.get(guidmod.normalize(guid)) or {}
                code_name = code_id
                alias = meta.get("code")
                if isinstance(alias, str) and alias in self._aliases_of(code_id):
                    code_name = alias
                span_key = (coder, source.transcript_id, bs, be, code_id)
                if span_key in seen_spans:
                    report.skip("coding", label, f"{coder} already has {code_id} on this span")
                    continue
                seen_spans.add(span_key)
                ids = used_ids.setdefault(coder, set())
                wanted = meta.get("id")
                if isinstance(wanted, str) and wanted and wanted not in ids:
                    coding_id = wanted
                elif guidmod.is_guid(guid) and guidmod.coding_id_from_guid(guid) not in ids:
                    coding_id = guidmod.coding_id_from_guid(guid)
                else:
                    coding_id = new_id()
                ids.add(coding_id)
                at = next((t for t in (attr(coding, "creationDateTime"),
                                       attr(holder, "creationDateTime")) if is_datetime(t)), None)
                if at is None:
                    undated += 1
                    at = now
                event: dict[str, Any] = {"op": "add", "id": coding_id,
                                         "transcript": source.transcript_id, "start": bs,
                                         "end": be, "code": code_name, "text": body[bs:be],
                                         "at": at}
                parts = list(memo_parts)
                for note_ref in children(coding, "NoteRef"):
                    text = self._note_text(attr(note_ref, "targetGUID"))
                    if text:
                        parts.append(text)
                memo = "\n\n".join(dict.fromkeys(p for p in parts if p))
                if memo:
                    event["memo"] = memo
                extra = meta.get("extra")
                if isinstance(extra, dict):
                    for key, value in extra.items():
                        if key not in event and key != "op":
                            event[key] = value
                logs.setdefault(coder, []).append((at, sequence, event))
                if not self.mapper.codable.get(code_id, True):
                    report.note(f"{label} uses {code_id!r}, which the file marks as not "
                                "codable (isCodable=false); `qcode check` will report it")
        if undated:
            report.note(f"{undated} codings have no creation time; they are dated {now}")
        report.offsets["mismatched"] = len(mismatches)
        if mismatches:
            report.note(f"{len(mismatches)} of {choice.checked} selections do not match what "
                        f"the tool wrote in their names (counting {model}); e.g. "
                        + "; ".join(mismatches[:3]))
        return {coder: [e for _at, _n, e in sorted(items, key=lambda x: (x[0], x[1]))]
                for coder, items in logs.items()}

    def _aliases_of(self, code_id: str) -> list[str]:
        return self.mapper.aliases.get(code_id, [])

    # -- files ----------------------------------------------------------------------------

    def _files(self, project_name: str, code_entries: list[dict[str, Any]],
               tables: list[dict[str, Any]], logs: dict[str, list[dict[str, Any]]]) -> Plan:
        from pydantic import ValidationError

        from qcode.format.config import ProjectConfig
        from qcode.format.yamlio import dump_yaml

        report = self.report
        plan = Plan()
        # qcode.yaml: qcode's own from the instruction (checked), else a fresh one.
        config: dict[str, Any] | None = None
        meta_config = self.meta.get("config")
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
            config = {"name": project_name, "codebook": "codebooks/codebook.yaml",
                      "transcripts": "transcripts", "codings": "codings",
                      "segmentation": "paragraphs"}
            if tables:
                config["cases"] = [{"file": t["file"], "key": t["key"]} for t in tables]
            if self.variable_descriptions:
                config["attributes"] = {name: {"description": text} for name, text
                                        in self.variable_descriptions.items()}
        transcripts_dir = config.get("transcripts", "transcripts")
        codings_dir = config.get("codings", "codings")
        plan.codings_dir = codings_dir
        codebook_file = config["codebook"]
        plan.files["qcode.yaml"] = ("# Imported by `qcode import qdpx` from "
                                    f"{self.path.name} ({report.origin or 'unknown tool'}).\n"
                                    + dump_yaml(config))

        # The codebook.
        book_meta = _mapping(self.meta.get("codebook"))
        codebook = {
            "name": book_meta.get("name") if isinstance(book_meta.get("name"), str)
            else project_name,
            "version": book_meta.get("version") if isinstance(book_meta.get("version"), str)
            else "1",
            "codes": code_entries,
        }
        validate_codebook_data(codebook, codebook_file)
        plan.files[codebook_file] = dump_yaml(codebook)

        # Transcripts.
        meta_transcripts = {guidmod.normalize(k): v for k, v in
                            (self.meta.get("transcripts") or {}).items() if guidmod.is_guid(k)}
        used_paths: set[str] = set()
        for key, source in self.sources.items():
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
            body = source.text.body
            wants_front = bool(front) or entry.get("front_matter") is True or (
                body.split("\n", 1)[0].rstrip(" \t") == "---")
            text = f"---\n{dump_yaml(front) if front else ''}---\n{body}" if wants_front else body
            plan.files[str(rel)] = text
        if not self.sources:
            plan.dirs.append(transcripts_dir)

        # Case tables.
        for spec in config.get("cases", []):
            table = next((t for t in tables if t["file"] == spec["file"]), None)
            columns = table["columns"] if table else [spec["key"]]
            rows = table["rows"].values() if table else []
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([str(row.get(c, "")) for c in columns])
            plan.files[spec["file"]] = out.getvalue()

        # Coding logs.
        for coder, events in logs.items():
            plan.logs[coder] = events
        if not logs:
            plan.dirs.append(codings_dir)

        # GUIDs to keep: those that differ from what qcode derives in the new project.
        ns = guidmod.project_namespace(config["name"])
        kept: dict[str, dict[str, str]] = {k: {} for k in guidmod.SIDECAR_KINDS}

        def keep(section: str, kind: str, key: str, guid: str | None) -> None:
            if guid and guidmod.normalize(guid) != guidmod.normalize(guidmod.derive(ns, kind, key)):
                kept[section][key] = guid

        for code_id, guid in self.mapper.guid_by_id.items():
            keep("codes", "code", code_id, guid)
        for source in self.sources.values():
            keep("transcripts", "source", source.transcript_id, source.guid)
        for case_key, case_guid in self._case_guids.items():
            keep("cases", "case", case_key, case_guid)
        for coder in logs:
            keep("coders", "user", coder, self.user_guids.get(coder))
        if any(kept.values()):
            from qcode.interchange.guids import sidecar_path, sidecar_text

            plan.files[str(sidecar_path(PurePosixPath(codebook_file)))] = sidecar_text(kept)

        # Memos.
        if self.memos:
            lines = [f"# Notes imported from {self.path.name}\n",
                     "Memos and descriptions that qcode keeps nowhere else.\n"]
            for heading, text in self.memos:
                lines.append(f"## {heading}\n\n{text.strip()}\n")
            plan.files[MEMO_FILE] = "\n".join(lines)
        plan.files[".gitignore"] = ".qcode/\nexports/\n"

        report.counts = {
            "codes": count_codes_entries(code_entries),
            "transcripts": len(self.sources),
            "codings": sum(len(e) for e in logs.values()),
            "coders": len(logs),
            "cases": sum(len(t["rows"]) for t in tables),
            "memos": sum(1 for e in logs.values() for event in e if "memo" in event),
            "loose_notes": len(self.memos),
            "skipped": len(report.skipped),
        }
        return plan


def count_codes_entries(entries: list[dict[str, Any]]) -> int:
    return sum(1 + count_codes_entries(e.get("children", [])) for e in entries)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the command ----------------------------------------------------------------------------


def import_project(path: Path, into: Path, display: str | None = None) -> ImportReport:
    """Import a ``.qdpx`` (or bare ``.qde``) as a new qcode project in ``into``.

    Raises ``QcodeError`` (``UnsafeInput`` for hostile files) before anything is written.
    ``qcode.project.import_qdpx`` does this and then runs ``qcode check`` on the result.
    """
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise QcodeError(f"{into} exists and is not empty; nothing was imported",
                         "--into must name a new or empty folder")
    if not path.is_file():
        raise QcodeError(f"{path} does not exist or is not a file")
    importer = Importer(path, display)
    try:
        root = importer.open()
        plan = importer.plan(root)
    finally:
        if importer.archive is not None:
            importer.archive.close()
    importer.report.target = str(into)
    write_plan(plan, into)
    return importer.report


def _mapping(value: Any) -> dict[str, Any]:
    """A JSON object from the metadata block, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def write_plan(plan: Plan, into: Path) -> None:
    """Write the planned files, all inside ``into``; on failure remove what was written."""
    from qcode.format.files import atomic_write_text
    from qcode.format.names import CODER_RE as coder_re
    from qcode.store.log import CodingLog

    created = not into.exists()
    into.mkdir(parents=True, exist_ok=True)
    root = into.resolve()
    try:
        for rel, text in plan.files.items():
            target = root / rel
            if not inside(root, target):  # pragma: no cover - paths are checked when planned
                raise UnsafeInput(f"refusing to write {rel} outside {into}")
            atomic_write_text(target, text)
        for folder in plan.dirs:
            path = root / folder
            if inside(root, path):
                path.mkdir(parents=True, exist_ok=True)
                (path / ".gitkeep").touch()
        for coder, events in plan.logs.items():
            if not coder_re.fullmatch(coder):  # pragma: no cover - names are made valid
                raise QcodeError(f"internal error: coder name {coder!r}")
            CodingLog(root / plan.codings_dir / f"{coder}.jsonl", coder).append(events)
    except BaseException:
        if created:
            shutil.rmtree(into, ignore_errors=True)
        else:
            for item in into.iterdir():
                if item.is_dir() and not item.is_symlink():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
        raise



