"""Finding what pseudonymisation must have removed: every original of the key and every
e-mail address, phone number and national identity number, wherever qcode keeps text.

Shared by the ``check`` rule ``identifier-residue`` (the project's transcripts, logs,
suggestions logs, memos, case tables, cache and ``exports/``) and ``qcode pseudonymise
verify`` (export files and folders anywhere). A file is read as what it is, so that an
escape cannot hide a name: JSON and JSONL strings are decoded, HTML entities resolved,
XML read for its text and attributes (the runs of a Word or OpenDocument paragraph joined,
so «Ol» + «a» is still «Ola»), zip archives (``.qdpx``, ``.docx``, ``.xlsx``, ``.odt``)
opened through ``qcode.interchange.safety``'s member checks and read member by member,
never extracted. What cannot be read as text (images, PDF) is listed as not searched.

Each text is searched with the key's one compiled pattern and the identifier patterns,
once: the strings of a JSON file are joined into one text whose pieces remember their
line. A finding names where it is and what it is (``key line 12 (person)``), never the
original itself unless the caller asks: the original is what is being hidden.
"""

from __future__ import annotations

import html
import json
import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qcode.format.identifiers import find_identifiers
from qcode.format.pseudonyms import KeyEntry, KeyMatcher
from qcode.interchange.residue_xml import xml_pieces
from qcode.interchange.safety import UnsafeInput, open_archive

# The identifier patterns that count as residue; a web address names no one by itself.
RESIDUE_KINDS = ("email", "phone", "national-id")
ARCHIVES = {".qdpx", ".docx", ".xlsx", ".odt", ".ods", ".odp", ".pptx", ".zip"}
JSON_FILES = {".json", ".jsonl", ".ndjson", ".geojson"}
HTML_FILES = {".html", ".htm", ".xhtml"}
XML_FILES = {".xml", ".qde", ".qdc", ".rels", ".svg"}
# Never text, whatever their bytes start with: said to be not searched without reading.
BINARY_FILES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".pdf",
                ".parquet", ".feather", ".arrow", ".pickle", ".pkl", ".mp3", ".mp4", ".m4a",
                ".wav", ".ogg", ".mov", ".avi", ".doc", ".xls", ".ppt", ".gz", ".bz2", ".xz"}
_SEPARATOR = "\x00"  # between pieces: neither a word character nor whitespace
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_CACHE_MAGIC = b"qcode-cache "
# What every e-mail address, phone number and national id holds: an @, or seven digits
# with at most spaces, dashes, dots or brackets between them.
_IDENTIFIER_HINT = re.compile(r"@|\d(?:[ ().-]?\d){6}")
_WINDOW = 4096  # how far a stretch reaches for a line boundary
_REACH = 320    # longer than any e-mail address (254) or phone number


@dataclass(frozen=True)
class Finding:
    """One identifier found: ``file`` (as the caller named it), ``line`` in that file or
    in the archive ``member``, and what it is: an original of ``entry`` or a pattern kind."""

    file: str
    line: int | None
    kind: str                 # "key", "email", "phone", "national-id"
    text: str                 # the matched text: shown only when asked
    entry: KeyEntry | None = None
    member: str | None = None

    def where(self) -> str:
        parts = [self.file]
        if self.member is not None:
            parts.append(self.member)
        if self.line is not None:
            parts.append(str(self.line))
        return ":".join(parts)

    def describe(self, show_original: bool = False) -> str:
        """``key line 12 (person)`` or ``e-mail address``; with ``show_original`` the
        matched text follows in quotes."""
        if self.entry is not None:
            what = f"key line {self.entry.line} ({self.entry.kind})"
        else:
            what = {"email": "e-mail address", "phone": "phone number",
                    "national-id": "national identity number"}.get(self.kind, self.kind)
        return f"{what}: {self.text!r}" if show_original else what

    def to_dict(self, show_original: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "member": self.member, "line": self.line,
                               "kind": self.kind}
        if self.entry is not None:
            out["key_line"] = self.entry.line
            out["key_kind"] = self.entry.kind
        if show_original:
            out["text"] = self.text
        return out


@dataclass
class ResidueReport:
    """What a scan found, what it read, and what it could not or would not read."""

    findings: list[Finding] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)     # files read as text
    members: list[str] = field(default_factory=list)      # archive:member read as text
    not_searched: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    refused: list[tuple[str, str]] = field(default_factory=list)       # (file, why)

    @property
    def clean(self) -> bool:
        """Nothing found and nothing left unproven (a refused archive proves nothing)."""
        return not self.findings and not self.refused

    def to_dict(self, show_original: bool = False) -> dict[str, Any]:
        return {"clean": self.clean,
                "findings": [f.to_dict(show_original) for f in self.findings],
                "searched": self.searched, "archive_members": self.members,
                "not_searched": [{"file": f, "reason": r} for f, r in self.not_searched],
                "refused": [{"file": f, "reason": r} for f, r in self.refused]}


@dataclass
class _Pieces:
    """Texts with the line each starts on, searched as one text."""

    texts: list[str] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)

    def add(self, text: str, line: int | None) -> None:
        if text:
            self.texts.append(text)
            self.lines.append(line)


class ResidueScanner:
    """Searches files for a key's originals and for pattern identifiers."""

    def __init__(self, matcher: KeyMatcher, report: ResidueReport | None = None) -> None:
        self.matcher = matcher
        self.report = report if report is not None else ResidueReport()

    # -- texts ----------------------------------------------------------------------------

    def find(self, text: str) -> Iterator[tuple[int, str, str, KeyEntry | None]]:
        """``(offset, kind, matched text, key entry)`` for every identifier in ``text``."""
        for match in self.matcher.finditer(text):
            yield match.start, "key", text[match.start:match.end], match.entry
        for start, end in _identifier_windows(text):
            for found in find_identifiers(text[start:end]):
                if found.kind in RESIDUE_KINDS:
                    yield start + found.start, found.kind, found.text, None

    def scan_text(self, text: str, file: str, member: str | None = None,
                  lines: bool = True) -> None:
        """A text file: findings at the line they start on (``lines=False``: none)."""
        for offset, kind, found, entry in self.find(text):
            line = text.count("\n", 0, offset) + 1 if lines else None
            self._found(file, line, kind, found, entry, member)

    def scan_pieces(self, pieces: _Pieces, file: str, member: str | None = None) -> None:
        if not pieces.texts:
            return
        joined = _SEPARATOR.join(pieces.texts)
        starts, position = [], 0
        for text in pieces.texts:
            starts.append(position)
            position += len(text) + 1
        for offset, kind, found, entry in self.find(joined):
            i = bisect_right(starts, offset) - 1
            first = pieces.lines[i]
            line = (first + pieces.texts[i].count("\n", 0, offset - starts[i])
                    if first is not None else None)
            self._found(file, line, kind, found, entry, member)

    def _found(self, file: str, line: int | None, kind: str, text: str,
               entry: KeyEntry | None, member: str | None) -> None:
        self.report.findings.append(Finding(file, line, kind, text, entry, member))

    # -- files ----------------------------------------------------------------------------

    def scan_path(self, path: Path, shown: str) -> None:
        """A file or a folder (every file under it, in name order, links not followed)."""
        if path.is_symlink():
            self.report.not_searched.append((shown, "a symbolic link, not followed"))
        elif path.is_dir():
            for child, rel in walk_files(path):
                self.scan_file(child, f"{shown.rstrip('/')}/{rel}")
        elif path.is_file():
            self.scan_file(path, shown)
        elif not path.exists():
            self.report.refused.append((shown, "no such file or folder"))

    def scan_file(self, path: Path, shown: str) -> None:
        suffix = path.suffix.lower()
        if suffix in BINARY_FILES:
            self.report.not_searched.append((shown, f"{suffix[1:]} files are not text"))
            return
        if suffix in ARCHIVES:
            self.scan_archive(path, shown)
            return
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.report.refused.append((shown, f"cannot read it ({exc.strerror})"))
            return
        self.scan_bytes(raw, suffix, shown)

    def scan_bytes(self, raw: bytes, suffix: str, file: str, member: str | None = None) -> None:
        """Bytes of a file or member, read as their kind of file says; recorded as
        searched, not searched (binary) or refused (unsafe XML)."""
        where = _join(file, member)
        searched = self.report.searched if member is None else self.report.members
        if raw.startswith(_CACHE_MAGIC):
            searched.append(where)
            self.scan_pieces(_cache_pieces(raw), file, member)
            return
        if suffix in XML_FILES:
            pieces = _Pieces()
            try:
                for piece, line in xml_pieces(raw, where):
                    pieces.add(piece, line)
            except UnsafeInput as exc:
                self.report.refused.append((where, exc.message))
                return
            searched.append(where)
            self.scan_pieces(pieces, file, member)
            return
        text = _decode(raw)
        if text is None:
            self.report.not_searched.append((where, "binary, not text"))
            return
        searched.append(where)
        if suffix in JSON_FILES:
            self.scan_pieces(json_pieces(text), file, member)
        elif suffix in HTML_FILES:
            self.scan_text(_unescape_lines(text), file, member)
        else:
            self.scan_text(text, file, member)

    def scan_archive(self, path: Path, shown: str) -> None:
        """Each member of a checked zip archive, in memory; an unsafe archive (a member
        climbing out with ``..``, a link, a bomb) is refused as a whole, never read."""
        try:
            archive = open_archive(path)
        except UnsafeInput as exc:
            self.report.refused.append((shown, exc.message))
            return
        try:
            for info in archive.zf.infolist():
                name = info.filename
                if name.endswith("/"):
                    continue
                suffix = Path(name).suffix.lower()
                where = f"{shown}:{name}"
                if suffix in BINARY_FILES or suffix in ARCHIVES:
                    self.report.not_searched.append((where, f"{suffix[1:]} member, not text"))
                    continue
                try:
                    raw = archive.read(info)
                except UnsafeInput as exc:
                    self.report.refused.append((where, exc.message))
                    return
                if not suffix and raw.lstrip().startswith(b"<"):
                    suffix = ".xml"
                self.scan_bytes(raw, suffix, shown, name)
        finally:
            archive.close()


def _identifier_windows(text: str) -> Iterator[tuple[int, int]]:
    """Stretches of ``text`` that could hold an e-mail address or a number of seven
    digits or more: the identifier patterns run on these alone, which over a large log
    is many times faster than running them on everything. A stretch ends at a line or
    piece boundary, or at whitespace far enough from the hint that no identifier can
    span it (an e-mail address has no space; a phone number is shorter than ``_REACH``)."""
    start = end = -1
    for hint in _IDENTIFIER_HINT.finditer(text):
        if hint.start() < end:  # within the stretch: it may reach past its end
            end = max(end, _boundary_after(text, hint.end()))
            continue
        if end >= 0:
            yield start, end
        start = max(_boundary_before(text, hint.start()), end)
        end = _boundary_after(text, hint.end())
    if end >= 0:
        yield start, end


def _boundary_before(text: str, position: int) -> int:
    low = max(0, position - _WINDOW)
    cut = max(text.rfind("\n", low, position), text.rfind(_SEPARATOR, low, position))
    if cut >= 0:
        return cut + 1
    space = text.rfind(" ", low, max(low, position - _REACH))
    return space + 1 if space >= 0 else low


def _boundary_after(text: str, position: int) -> int:
    high = min(len(text), position + _WINDOW)
    cuts = [i for i in (text.find("\n", position, high), text.find(_SEPARATOR, position, high))
            if i >= 0]
    if cuts:
        return min(cuts)
    space = text.find(" ", min(high, position + _REACH), high)
    return space if space >= 0 else high


def json_pieces(text: str) -> _Pieces:
    """The decoded strings of a JSON or JSONL text (keys and values), each with its line:
    «\\u00f8» and «\\"» are what they stand for, and numbers are not mistaken for phones."""
    pieces = _Pieces()
    for number, line in enumerate(text.split("\n"), start=1):
        for literal in _JSON_STRING.findall(line):
            if "\\" in literal:
                try:
                    # An escaped line break is inside this one line of the file.
                    value = json.loads(literal).replace("\n", " ")
                except ValueError:
                    value = literal[1:-1]
            else:
                value = literal[1:-1]
            pieces.add(value, number)
    return pieces


def _cache_pieces(raw: bytes) -> _Pieces:
    """A cache entry (``qcode.format.cache``: a header line, then JSON): every string it
    holds, walked as data; the file has no lines worth naming."""
    pieces = _Pieces()
    _head, _, payload = raw.partition(b"\n")
    try:
        data = json.loads(payload)
    except ValueError:
        text = _decode(payload)
        if text is not None:
            pieces.add(text, None)
        return pieces
    for value in _strings(data):
        pieces.add(value, None)
    return pieces


def _strings(data: Any) -> Iterator[str]:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool) and item > 9_999_999:
            yield str(item)  # a phone or identity number kept as a number


def _unescape_lines(text: str) -> str:
    """HTML with its entities resolved (``&oslash;``, ``&#248;``), line for line."""
    if "&" not in text:
        return text
    return "\n".join(html.unescape(line).replace("\n", " ") for line in text.split("\n"))


def _decode(raw: bytes) -> str | None:
    """UTF-8 (or UTF-16 with a BOM) text, or None for binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _join(file: str, member: str | None) -> str:
    return f"{file}:{member}" if member is not None else file


def walk_files(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file under ``folder`` with its path relative to it, sorted; links
    (to files or folders) are not followed."""
    for current, dirs, files in os.walk(folder):
        dirs.sort()
        base = Path(current)
        for name in sorted(files):
            path = base / name
            if path.is_symlink():
                continue
            yield path, path.relative_to(folder).as_posix()


def scan_paths(matcher: KeyMatcher, paths: Iterable[tuple[Path, str]]) -> ResidueReport:
    """Scan files and folders, each ``(path, name to show)``."""
    scanner = ResidueScanner(matcher)
    for path, shown in paths:
        scanner.scan_path(path, shown)
    return scanner.report
