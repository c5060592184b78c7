"""Reading files from other tools without trusting them: hardened XML, checked zip archives.

XML goes through defusedxml with DTDs forbidden, so entity expansion ("billion laughs")
and external entities (XXE) are refused before anything is read. A zip archive is checked
as a whole before any member is read: no absolute paths or ``..``, no symbolic links, at
most ``MAX_MEMBERS`` members, no member larger than REFI-QDA allows, and no member that
expands suspiciously (a zip bomb). Members are only ever read into memory by name, never
extracted, so an archive cannot place a file anywhere.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from qcode.errors import QcodeError
from qcode.format.limits import MAX_JSON_DEPTH, MAX_XML_DEPTH, json_depth

MAX_MEMBERS = 10_000
MAX_MEMBER_SIZE = 2**31 - 1          # REFI-QDA §8.5: an internal file is at most 2 GiB - 1
MAX_ARCHIVE_TOTAL = 16 * 1024**3     # all members together, media included, as declared
MAX_READ_TOTAL = 256 * 1024 * 1024   # what one import may decompress: the .qde and text sources
MAX_XML_SIZE = 256 * 1024 * 1024
BOMB_RATIO = 100                     # text compresses 3-10x; media hardly at all
BOMB_MIN_SIZE = 10 * 1024 * 1024     # small members may compress well (empty or repeated lines)
_CHUNK = 1 << 20

BOM = b"\xef\xbb\xbf"


class UnsafeInput(QcodeError):
    """A file that is not what it claims, or that tries to harm the machine reading it."""


@dataclass
class XmlDocument:
    root: Any                       # an ElementTree element
    pis: list[tuple[str, str]] = field(default_factory=list)  # processing instructions before root
    lines: dict[int, int] = field(default_factory=dict)  # id of a <Code> element -> its line

    def pi(self, target: str) -> str | None:
        for name, data in self.pis:
            if name == target:
                return data
        return None

    def line_of(self, element: Any) -> int | None:
        return self.lines.get(id(element))


class _Target:
    """An ElementTree builder that also keeps the processing instructions before the root,
    the line of each ``<Code>``, and refuses XML nested past ``MAX_XML_DEPTH``."""

    def __init__(self, what: str) -> None:
        from xml.etree.ElementTree import TreeBuilder

        self._builder = TreeBuilder()
        self._depth = 0
        self.what = what
        self.parser: Any = None
        self.pis: list[tuple[str, str]] = []
        self.lines: dict[int, int] = {}

    def _line(self) -> int:
        return self.parser.parser.CurrentLineNumber if self.parser is not None else 0

    def start(self, tag, attrs):
        self._depth += 1
        if self._depth > MAX_XML_DEPTH:
            raise UnsafeInput(f"{self.what}: refused, the XML nests elements more than "
                              f"{MAX_XML_DEPTH} deep (line {self._line()}); nothing was "
                              "imported", "no REFI-QDA file nests that deep; the file is "
                              "damaged or hostile")
        element = self._builder.start(tag, attrs)
        if tag.rpartition("}")[2] == "Code":
            self.lines[id(element)] = self._line()
        return element

    def end(self, tag):
        self._depth -= 1
        return self._builder.end(tag)

    def data(self, text):
        return self._builder.data(text)

    def pi(self, target, text):
        if self._depth == 0:
            self.pis.append((target, text or ""))

    def close(self):
        return self._builder.close()


def parse_xml(data: bytes, what: str) -> XmlDocument:
    """Parse XML from another tool; ``what`` names it in messages (a file or zip member).

    A UTF-8 BOM before ``<?xml`` is dropped (QualCoder writes one). DTDs are refused: no
    REFI-QDA file has one, and they are how entity bombs and external entities get in.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    if len(data) > MAX_XML_SIZE:
        raise UnsafeInput(f"{what} is {len(data):,} bytes of XML, more than qcode reads "
                          f"({MAX_XML_SIZE:,})", "is this really a REFI-QDA file?")
    data = data.removeprefix(BOM)
    target = _Target(what)
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    target.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        raise UnsafeInput(
            f"{what}: refused, the XML declares a DTD or entities ({type(exc).__name__}); "
            "nothing was imported",
            "REFI-QDA files never need a DTD; this file may be crafted to read local files "
            "or exhaust memory") from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        where = f" at line {line}, column {column + 1}" if line and column is not None else ""
        raise UnsafeInput(f"{what} is not well-formed XML{where}: {_reason(exc)}",
                          "the file is damaged or not a REFI-QDA export") from None
    except LookupError as exc:  # <?xml encoding="..."?> names a codec Python lacks
        raise UnsafeInput(f"{what} declares an encoding qcode cannot read ({exc})",
                          "REFI-QDA files are UTF-8; save it again as UTF-8") from None
    return XmlDocument(root=root, pis=target.pis, lines=target.lines)


def _reason(exc: Exception) -> str:
    text = str(exc)
    return re.sub(r": line \d+, column \d+$", "", text)


def read_json_pi(doc: XmlDocument, target: str) -> dict[str, Any] | None:
    """The JSON object in ``<?target {...}?>`` before the root, or None (absent, invalid,
    or nested past ``MAX_JSON_DEPTH``, which qcode never writes)."""
    text = doc.pi(target)
    if not text:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or json_depth(data) > MAX_JSON_DEPTH:
        return None
    return data


# -- zip archives ---------------------------------------------------------------------------


@dataclass
class Archive:
    """A checked zip archive: members by case-insensitive name, read with a budget."""

    path: Path
    zf: zipfile.ZipFile
    members: dict[str, zipfile.ZipInfo]     # lower-case name -> member
    duplicates: list[str]                   # names that differ only in case (first one wins)
    read_total: int = 0

    def find(self, name: str) -> zipfile.ZipInfo | None:
        return self.members.get(name.replace("\\", "/").lower())

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """A member's bytes, read a piece at a time: what it really unpacks to counts
        against ``MAX_READ_TOTAL``, and a member that runs past its declared size is
        damaged (zipfile stops there too), never followed."""
        if self.read_total + info.file_size > MAX_READ_TOTAL:
            self._too_much()
        pieces, size = [], 0
        try:
            with self.zf.open(info) as handle:
                while piece := handle.read(_CHUNK):
                    size += len(piece)
                    if size > info.file_size:
                        raise UnsafeInput(f"{self.path.name}: refused, member "
                                          f"{info.filename!r} unpacks to more than its "
                                          f"declared {info.file_size:,} bytes; nothing was "
                                          "imported", "the archive is damaged or hostile")
                    if self.read_total + size > MAX_READ_TOTAL:
                        self._too_much()
                    pieces.append(piece)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                ValueError) as exc:
            raise UnsafeInput(f"{self.path.name}: cannot read {info.filename}: {exc}",
                              "the archive is damaged") from None
        self.read_total += size
        return b"".join(pieces)

    def _too_much(self) -> None:
        raise UnsafeInput(
            f"{self.path.name}: the project's text expands to more than "
            f"{MAX_READ_TOTAL:,} bytes; refused as a likely zip bomb",
            "nothing was imported")

    def close(self) -> None:
        self.zf.close()


def open_archive(path: Path) -> Archive:
    """Open and check a zip archive; raises ``UnsafeInput`` naming the first offending member."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeInput(f"{path.name} is not a zip archive ({exc})",
                          "a .qdpx file is a zip with project.qde and sources/") from None
    try:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UnsafeInput(f"{path.name} has {len(infos):,} members, more than qcode accepts "
                              f"({MAX_MEMBERS:,}); nothing was imported",
                              "a REFI-QDA project has one .qde and its sources")
        members: dict[str, zipfile.ZipInfo] = {}
        duplicates: list[str] = []
        for info in infos:
            check_member(path.name, info)
            key = info.filename.lower()
            if key in members:
                duplicates.append(info.filename)
                continue
            members[key] = info
        check_totals(path, infos)
    except BaseException:
        zf.close()
        raise
    return Archive(path, zf, members, duplicates)


def check_member(archive: str, info: zipfile.ZipInfo) -> None:
    name = info.filename
    problem = member_name_problem(name)
    if problem:
        raise UnsafeInput(f"{archive}: refused, member {name!r} {problem}; nothing was imported",
                          "the archive tries to write outside the project folder")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeInput(f"{archive}: refused, member {name!r} is a symbolic link; "
                          "nothing was imported",
                          "REFI-QDA archives hold plain files only")
    if info.file_size > MAX_MEMBER_SIZE:
        raise UnsafeInput(f"{archive}: refused as a likely zip bomb, member {name!r} expands "
                          f"to {info.file_size:,} bytes (REFI-QDA allows {MAX_MEMBER_SIZE:,}); "
                          "nothing was imported", "the archive is damaged or hostile")
    if (info.file_size > BOMB_MIN_SIZE
            and info.file_size > BOMB_RATIO * max(info.compress_size, 1)):
        ratio = info.file_size // max(info.compress_size, 1)
        raise UnsafeInput(f"{archive}: refused as a likely zip bomb, member {name!r} expands "
                          f"{ratio:,} times (to {info.file_size:,} bytes); nothing was imported",
                          "text compresses 3-10 times; this archive is damaged or hostile")


def check_totals(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """The archive as a whole, from its central directory: a bomb split into many members
    that each pass ``check_member`` (a hundred of 9.9 MB) is refused here."""
    total = sum(info.file_size for info in infos)
    if total > MAX_ARCHIVE_TOTAL:
        raise UnsafeInput(f"{path.name}: refused, its members expand to {total:,} bytes, "
                          f"more than qcode reads ({MAX_ARCHIVE_TOTAL:,}); nothing was "
                          "imported", "the archive is damaged or hostile")
    try:
        size = path.stat().st_size
    except OSError:  # pragma: no cover - it was just opened
        size = sum(info.compress_size for info in infos)
    if total > BOMB_MIN_SIZE and total > BOMB_RATIO * max(size, 1):
        raise UnsafeInput(f"{path.name}: refused as a likely zip bomb, its {len(infos):,} "
                          f"members expand {total // max(size, 1):,} times (to {total:,} "
                          "bytes); nothing was imported",
                          "text compresses 3-10 times; this archive is damaged or hostile")


def member_name_problem(name: str) -> str | None:
    """Why a member name is unsafe (absolute, ``..``, a drive, NUL), or None."""
    if "\x00" in name:
        return "has a NUL character in its name"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return "has an absolute path"
    if any(part == ".." for part in unified.split("/")):
        return "climbs out of the archive with '..'"
    return None


def safe_relative(text: Any) -> PurePosixPath | None:
    """``text`` as a relative path that stays inside its folder, or None if it would not."""
    if not isinstance(text, str) or not text or member_name_problem(text):
        return None
    if "\\" in text:
        return None
    path = PurePosixPath(text)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts):
        return None
    if any(part.startswith(".") for part in path.parts):
        return None
    return path


def inside(root: Path, target: Path) -> bool:
    try:
        target.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
