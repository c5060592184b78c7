"""Memo files (``memos/*.md``, ``qcode.format.memos``) in a ``.qdpx``, and back.

Export: every memo is a ``<Note>`` titled by what it is about ("Memo on transcript
voss-principal"); a transcript's memos are also its source's ``<Description>`` (what
QualCoder and MAXQDA show as a document memo) and the source refers to their notes; a code's
memos go into the code's ``<Description>`` after its definition, each under a line
``Memo (AUTHOR, DATE):`` (``MEMO_HEADING_RE``); project memos are referred to from the
project. REFI-QDA cases cannot refer to notes, so a case memo is a note only. The memos'
exact targets, authors and dates also travel in qcode's processing instruction.

Import reads all of these back into memo files; notes it cannot place stay in
``memos/imported-notes.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode.format.memos import Memo, MemoAbout, load_memos, parse_about
from qcode.format.names import CODER_RE
from qcode.interchange import guids as guidmod
from qcode.interchange.common import is_datetime, xml_safe
from qcode.interchange.qdpx_xml import add_element
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.interchange.guids import GuidStore
    from qcode.interchange.qdc import CodeMapper
    from qcode.interchange.qdpx_files import Source
    from qcode.store.corpus import Corpus

NO_AUTHOR = "no author"
# A code memo's heading inside the code's Description, on a line of its own after a blank
# line (or first): "Memo (alice, 2026-03-14):", "Memo (no author):".
MEMO_HEADING_RE = re.compile(r"(?:\A|\n\n)Memo \((?P<author>[^,()\n]+)(?:, (?P<date>[^()\n]+))?\):\n")
# A note's title, for files from qcode without the processing instruction.
_TITLE_RE = re.compile(r"Memo on (?:(?P<project>the project)|(?P<kind>transcript|code|case) "
                       r"(?P<target>\S.*?))(?: \((?P<author>[^()]+)\))?")


@dataclass
class MemoNote:
    guid: str
    memo: Memo
    about: MemoAbout  # canonical: a code memo written on an alias names the code


@dataclass
class MemoExport:
    """The memos of an export: every one as a note, and where each kind also goes."""

    notes: list[MemoNote] = field(default_factory=list)
    by_transcript: dict[str, list[MemoNote]] = field(default_factory=dict)
    code_sections: dict[str, str] = field(default_factory=dict)  # code id -> memo sections
    project_refs: list[str] = field(default_factory=list)        # note GUIDs
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)


def title(about: MemoAbout, author: str | None) -> str:
    what = "the project" if about.kind == "project" else f"{about.kind} {about.target}"
    return f"Memo on {what}" + (f" ({author})" if author else "")


def plan_memos(corpus: Corpus, store: GuidStore) -> MemoExport:
    """The project's memo files (those ``qcode check`` would read; problems are check's)
    with their note GUIDs: ``uuid5`` of what each is about and its author, so stable."""
    config = corpus.config
    codebook = corpus.codebook

    def canonical(about: MemoAbout) -> MemoAbout:
        return MemoAbout("code", codebook.canonical(about.target)) if about.kind == "code" \
            else about

    result = MemoExport()
    memos = load_memos(corpus.path(config.memos), config.memos, Problems(), canonical)
    for memo in memos:
        about = canonical(memo.about)
        note = MemoNote(store.get("memo", f"{about}|{memo.author or ''}"), memo, about)
        result.notes.append(note)
        result.meta[note.guid] = {"about": str(about), "author": memo.author,
                                  "created": memo.created, "updated": memo.updated}
        if about.kind == "transcript":
            result.by_transcript.setdefault(about.target, []).append(note)
        elif about.kind == "code":
            date = memo.updated or memo.created
            heading = f"Memo ({memo.author or NO_AUTHOR}" + (f", {date}" if date else "") + "):"
            section = f"{heading}\n{memo.text}"
            current = result.code_sections.get(about.target)
            result.code_sections[about.target] = f"{current}\n\n{section}" if current \
                else section
        elif about.kind == "project":
            result.project_refs.append(note.guid)
    return result


def note_element(note: MemoNote, user_guid: dict[str, str]) -> ET.Element:
    memo = note.memo
    attrs = {"guid": note.guid, "name": xml_safe(title(note.about, memo.author))}
    if memo.author in user_guid:
        attrs["creatingUser"] = user_guid[memo.author]
    if memo.created and is_datetime(memo.created):
        attrs["creationDateTime"] = memo.created
    if memo.updated and is_datetime(memo.updated):
        attrs["modifiedDateTime"] = memo.updated
    element = ET.Element("Note", attrs)
    add_element(element, "PlainTextContent").text = xml_safe(memo.text)
    return element


# -- import -----------------------------------------------------------------------------------


@dataclass
class ImportedMemo:
    about: MemoAbout
    author: str | None
    created: str | None
    updated: str | None
    text: str


def split_code_memos(description: str) -> tuple[str, list[tuple[str | None, str | None, str]]]:
    """A code's Description → (its definition, [(author, date, text)] of its memo
    sections)."""
    headings = list(MEMO_HEADING_RE.finditer(description))
    if not headings:
        return description, []
    memos = []
    for number, heading in enumerate(headings):
        end = headings[number + 1].start() if number + 1 < len(headings) else len(description)
        author = heading.group("author").strip()
        memos.append((None if author == NO_AUTHOR else author, heading.group("date"),
                      description[heading.end():end].strip("\n")))
    return description[:headings[0].start()], memos


class MemoCollector:
    """The memo files an import writes; a second memo on one target by one author is added
    to the first (one file per target and author, as ``qcode check`` wants)."""

    def __init__(self) -> None:
        self.memos: dict[tuple[str, str | None], ImportedMemo] = {}
        # Whether a note's target is in the new project (ids change when a file lost
        # qcode's instruction); set by the importer once codes and transcripts are known.
        self.known: Callable[[MemoAbout], bool] = lambda about: True

    def _placed(self, about: MemoAbout, author: str | None, created: str | None,
                updated: str | None, text: str) -> bool:
        if self.known(about):
            self.add(about, author, created, updated, text)
            return True
        # A code memo's note whose code got another id: its Description section placed it.
        return any(m.about.kind == about.kind and m.author == author
                   and m.text == text.strip("\n") for m in self.memos.values())

    def add(self, about: MemoAbout, author: str | None, created: str | None,
            updated: str | None, text: str) -> None:
        text = text.strip("\n")
        if not text.strip():
            return
        author = author if author and CODER_RE.fullmatch(author) else None
        created = created if created and _iso(created) else None
        updated = updated if updated and _iso(updated) else None
        key = (str(about), author)
        known = self.memos.get(key)
        if known is not None and known.text == text:
            # the same memo read twice (a code memo is its note and a Description
            # section): the note's dates are the exact ones
            known.created, known.updated = created or known.created, updated or known.updated
        elif known is not None:
            known.text += f"\n\n{text}"
        else:
            self.memos[key] = ImportedMemo(about, author, created, updated, text)

    def from_meta(self, entry: Any, text: str) -> bool:
        """A note qcode wrote, placed by the processing instruction's entry."""
        if not isinstance(entry, dict) or not isinstance(entry.get("about"), str):
            return False
        try:
            about = parse_about(entry["about"])
        except Exception:  # a broken entry: the note is placed as any other
            return False
        author = entry.get("author")
        return self._placed(about, author if isinstance(author, str) else None,
                            _str(entry.get("created")), _str(entry.get("updated")), text)

    def from_title(self, name: str, author: str | None, created: str | None,
                   updated: str | None, text: str) -> bool:
        """A note titled "Memo on transcript ID (author)" and the like."""
        match = _TITLE_RE.fullmatch(name.strip())
        if match is None:
            return False
        try:
            about = MemoAbout("project") if match.group("project") else parse_about(
                f"{match.group('kind')}:{match.group('target')}")
        except Exception:
            return False
        return self._placed(about, match.group("author") or author, created, updated, text)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _iso(value: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


class MemoReader:
    """The importer's memo steps (mixed into ``qdpx_import.Importer``): notes and
    descriptions to memo files (``MemoCollector``)."""

    meta: dict[str, Any]
    mapper: CodeMapper
    sources: dict[str, Source]
    notes: dict[str, tuple[str, str]]
    used_notes: set[str]
    memos: list[tuple[str, str]]
    memo_files: MemoCollector
    _note_dates: dict[str, tuple[str | None, str | None, str | None]]
    _source_memos: dict[str, tuple[str, list[str | None]]]
    _note_text: Callable[[str | None], str | None]   # a note's text by its GUID

    def _split_code_memos(self, codes: list[Any]
                          ) -> list[tuple[str, list[tuple[str | None, str | None, str]]]]:
        """Take the memo sections out of each code's Description (qdpx_memos), leaving
        its definition; returns them by code GUID."""
        found = []
        for code in codes:
            definition, memos = split_code_memos(code.description)
            if memos:
                code.description = definition
                if code.key:
                    found.append((code.key, memos))
                else:
                    self.memos.extend((f"Code {code.name}", text) for _a, _d, text in memos)
            found.extend(self._split_code_memos(code.children))
        return found

    def _note_memo(self, guid: str | None, about: MemoAbout) -> None:
        """The note ``guid`` refers to, as a memo on ``about`` by the note's author."""
        key = guidmod.normalize(guid)
        text = self._note_text(guid)
        if key is None or text is None:
            return
        author, created, updated = self._note_dates.get(key, (None, None, None))
        entry = _mapping(self.meta.get("memos")).get(guid or "")
        if isinstance(entry, dict) and isinstance(entry.get("author"), str):
            author = entry["author"]
            created, updated = _str(entry.get("created")), _str(entry.get("updated"))
        self.memo_files.add(about, author, created, updated, text)

    def _transcript_memos(self) -> None:
        """A source's notes become memos on its transcript; its Description too when no
        note says the same (qcode writes both)."""
        for key, (description, refs) in self._source_memos.items():
            about = MemoAbout("transcript", self.sources[key].transcript_id)
            before = len(self.memo_files.memos)
            for ref in refs:
                self._note_memo(ref, about)
            if description and len(self.memo_files.memos) == before:
                self.memo_files.add(about, None, None, None, description)

    def _place_notes(self, case_values: set[str]) -> None:
        """Notes nothing refers to: memo files when qcode's instruction or their title
        says what they are about (a transcript, code or ``case_values`` entry the new
        project has), else ``imported-notes.md``."""
        transcript_ids = {source.transcript_id for source in self.sources.values()}
        code_ids = set(self.mapper.id_by_guid.values())
        self.memo_files.known = lambda about: (
            about.target in transcript_ids if about.kind == "transcript"
            else about.target in code_ids if about.kind == "code"
            else about.target in case_values if about.kind == "case" else True)
        meta_memos = {guidmod.normalize(k): v for k, v in
                      _mapping(self.meta.get("memos")).items() if guidmod.is_guid(k)}
        for guid, (name, text) in self.notes.items():
            if guid in self.used_notes or not text.strip():
                continue
            author, created, updated = self._note_dates.get(guid, (None, None, None))
            if not (self.memo_files.from_meta(meta_memos.get(guid), text)
                    or self.memo_files.from_title(name, author, created, updated, text)):
                self.memos.append((f"Note {name}".strip(), text))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
