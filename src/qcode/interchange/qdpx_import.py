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
  a name (MAXQDA's and qcode's per-source document variables) → front matter of its
  sources, except values its case-table row already gives it;
- a source's ``creationDateTime`` → the transcript file's modification time, and for a
  source another tool made, front matter ``created`` too;
- ``PlainTextSelection``/``Coding`` → an ``add`` event in ``codings/<user>.jsonl``, with
  positions converted to qcode's offsets (``offsets``) and the memo from the selection's
  Description and the notes it refers to;
- a source's notes (else its Description), a code's notes and ``Memo (AUTHOR, DATE):``
  sections, the project's notes, and notes titled "Memo on ..." → memo files in
  ``memos/`` (``qdpx_memos``);
- other notes and descriptions → ``memos/imported-notes.md``.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from qcode.errors import QcodeError
from qcode.format.memos import MemoAbout
from qcode.format.names import CODER_RE, plural
from qcode.format.transcripts import is_new_transcript_id
from qcode.interchange import guids as guidmod
from qcode.interchange.common import (
    attr,
    cell_text,
    child,
    children,
    local,
    slugify,
    text_of,
    typed_value,
    unique_id,
)
from qcode.interchange.import_report import ImportReport
from qcode.interchange.offsets import SourceText
from qcode.interchange.qdc import (
    CodeMapper,
    read_codes,
)
from qcode.interchange.qdpx_archive import QdpxFile
from qcode.interchange.qdpx_codings import CodingsReader
from qcode.interchange.qdpx_files import (
    CASE_KEY,
    SETS_ATTRIBUTE,
    ImportedProject,
    Plan,
    Source,
    plan_files,
    write_plan,
)
from qcode.interchange.qdpx_memos import MemoCollector, MemoReader
from qcode.interchange.safety import (
    safe_relative,
)

NON_TEXT_SOURCES = {"PDFSource": "a PDF", "PictureSource": "a picture",
                    "AudioSource": "an audio file", "VideoSource": "a video"}
SELECTION_TAGS = ("PlainTextSelection", "PDFSelection", "PictureSelection", "AudioSelection",
                  "VideoSelection", "TranscriptSelection")
_NAME_EXTENSIONS = re.compile(r"\.(txt|docx?|rtf|odt|pdf|md)$", re.IGNORECASE)
# The value is the longest run ending in a non-space (`\S.*?` before `\s*` retried every
# split of a long run of spaces). Used with fullmatch.
_SET_ATTRIBUTE = re.compile(r"\s*([^:]{1,40}?)\s*:\s*(\S(?:.*\S)?)\s*")


class Importer(CodingsReader, MemoReader):
    """Reads a REFI-QDA project's XML into what the new qcode project will hold."""

    def __init__(self, path: Path, display: str | None = None) -> None:
        self.path = path
        self.report = ImportReport(source=display or str(path), target="")
        self.file = QdpxFile(path, self.report)
        self.meta: dict[str, Any] = {}
        self.memos: list[tuple[str, str]] = []               # heading, text
        self.notes: dict[str, tuple[str, str]] = {}          # guid -> (name, text)
        self.used_notes: set[str] = set()
        self._case_guids: dict[str, str | None] = {}        # "key=value" -> case GUID as written
        self._linked_memos: dict[str, list[str]] = {}  # selection guid -> note guids
        self.memo_files = MemoCollector()                     # memo files (qdpx_memos)
        self._note_dates: dict[str, tuple[str | None, str | None, str | None]] = {}
        self._source_memos: dict[str, tuple[str, list[str | None]]] = {}

    # -- reading --------------------------------------------------------------------------

    # -- the plan -------------------------------------------------------------------------

    def open(self) -> Any:
        """Open the file and parse its project XML; returns the root element."""
        root = self.file.open()
        self.meta = self.file.meta
        return root

    def plan(self, root: Any) -> Plan:
        report = self.report
        report.origin = attr(root, "origin")
        project_name = (attr(root, "name") or "").strip() or self.path.stem
        self.users = self._users(root)
        self._read_notes(root)

        # Codes.
        book = child(root, "CodeBook")
        codes_el = child(book, "Codes") if book is not None else None
        foreign_codes = (read_codes(codes_el, report, self.file.doc) if codes_el is not None
                         else [])
        code_memos = self._split_code_memos(foreign_codes)
        mapper = CodeMapper(self.meta.get("codes") if isinstance(self.meta.get("codes"), dict)
                            else None, set(), report)
        code_entries = [mapper.entry(c) for c in foreign_codes]
        mapper.finish()
        self.mapper = mapper
        self._code_notes(foreign_codes)
        for code_key, memos in code_memos:
            code_id = mapper.id_by_guid.get(code_key)
            for author, date, text in memos:
                if code_id is None:
                    self.memos.append(("Code memo", text))
                else:
                    self.memo_files.add(MemoAbout("code", code_id), author, date, date, text)

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
        self._transcript_memos()

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
            self._note_memo(attr(ref, "targetGUID"), MemoAbout("project"))
        # the attribute values a case memo may name: own and inherited from a case row
        self._place_notes({f"{name}={_shown(value)}" for source in self.sources.values()
                           for name, value in {**_case_row(tables, source.values),
                                               **source.values}.items()})

        return plan_files(ImportedProject(
            project_name, self.path.name, self.path.stem, self.meta, code_entries, mapper,
            tables, logs, self.sources, self.variable_descriptions, self._case_guids,
            self.user_guids, self.memos, list(self.memo_files.memos.values())), report)

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
                raw, why = self.file.member(attr(note, "plainTextPath"))
                text = self.file.decode(raw, f"note {attr(note, 'name')!r}") if raw is not None else ""
                if raw is None and attr(note, "plainTextPath"):
                    self.report.skip("note", attr(note, "name") or "", why)
            description = text_of(child(note, "Description")).strip()
            if description:
                text = f"{description}\n\n{text}" if text.strip() else description
            self.notes[key] = ((attr(note, "name") or "").strip(), text.replace("\r\n", "\n"))
            user = guidmod.normalize(attr(note, "creatingUser"))
            self._note_dates[key] = (self.users.get(user) if user else None,
                                     attr(note, "creationDateTime"),
                                     attr(note, "modifiedDateTime"))

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
            code_id = self.mapper.id_by_guid.get(code.key) if code.key else None
            for ref in code.note_refs:
                if code_id is None:
                    self._memo_from_note(ref, f"Code {code.name}")
                else:
                    self._note_memo(ref, MemoAbout("code", code_id))
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
            raw, why = self.file.member(path)
            if raw is None:
                self._skip_source(element, name or path, why)
                return
            raw_text = self.file.decode(raw, f"source {name or path!r}")
        if not name:
            name = PurePosixPath((plain or "source").split("://")[-1]).name
        source = Source(guid=attr(element, "guid"), name=name,  # type: ignore[arg-type]
                        text=SourceText(raw_text), element=element)
        if source.text.dropped:  # as `qcode import transcripts` drops them
            self.report.note(f"source {name!r}: dropped "
                             f"{plural(len(source.text.dropped), 'control character')}")
        source.created = attr(element, "creationDateTime")
        source.selections = children(element, "PlainTextSelection")
        source.whole = children(element, "Coding")
        for value in children(element, "VariableValue"):
            self._add_value(source.values, value, f"source {name!r}")
        self._source_memos[key] = (text_of(child(element, "Description")).strip(),
                                   [attr(ref, "targetGUID")
                                    for ref in children(element, "NoteRef")])
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
            # qcode's own id, checked as `qcode import transcripts` checks ids: it names
            # a file, and it is shown on terminals
            if isinstance(wanted, str) and is_new_transcript_id(wanted) and wanted not in taken:
                source.transcript_id = wanted
                taken.add(wanted)
            else:
                if isinstance(wanted, str) and wanted not in taken:
                    self.report.note(f"source {source.name!r}: the transcript id in qcode's "
                                     f"settings, {wanted!r}, is not a valid id; it gets one "
                                     "made from its name")
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
        nameless: list[tuple[list[str | None], dict[str, Any], dict[str, Any]]] = []
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
                # MAXQDA (and Quirkos, and qcode) carry document variables this way; they
                # are applied once every case row is known (below).
                as_cells: dict[str, Any] = {}
                for value in children(case, "VariableValue"):
                    self._add_value(as_cells, value, where, table=True)
                nameless.append((refs, values, as_cells))
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
        for refs, values, as_cells in nameless:
            for ref in refs:
                source = self.sources.get(ref)  # type: ignore[arg-type]
                if source is None:
                    continue
                row = _case_row(tables.values(), source.values)
                for attr_name, value in values.items():
                    if attr_name not in source.values and row.get(attr_name) != as_cells.get(
                            attr_name):
                        source.values[attr_name] = value
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
            match = _SET_ATTRIBUTE.fullmatch(name)
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
        importer.file.close()
    importer.report.target = str(into)
    write_plan(plan, into)
    return importer.report


def _case_row(tables: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The case-table cells a transcript with these front-matter values inherits."""
    row: dict[str, Any] = {}
    for table in tables:
        key_value = values.get(table["key"])
        if key_value is not None:
            for column, cell in table["rows"].get(str(key_value), {}).items():
                row.setdefault(column, cell)
    return row


def _shown(value: Any) -> str:
    """An attribute value as a memo's ``case:ATTRIBUTE=VALUE`` writes it."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
