"""What every importer shares: the result type, the failure type, sniffing, zip safety,
body clean-up, speaker labels and the speaker map.

Importers are pure functions over bytes: they never write, never print and never touch
the project. A file that cannot be imported raises ``ImportFailed`` with one line that
says what is wrong and, in the hint, what to do.
"""

from __future__ import annotations

import csv
import io
import re
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qcode.errors import QcodeError
from qcode.format.limits import MAX_TRANSCRIPT_CHARS, MAX_XML_DEPTH
from qcode.format.names import plural
from qcode.format.text import normalize, strip_controls
from qcode.format.transcripts import LABEL_RE, segment

MAX_FILE_BYTES = 200 * 1024 * 1024        # no interview transcript is bigger than this
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_UNCOMPRESSED = 500 * 1024 * 1024  # all members together, as the zip declares them
MAX_ZIP_RATIO = 200                       # a zip bomb compresses far better than any XML
ZIP_RATIO_FROM = 10 * 1024 * 1024         # smaller archives may compress well (empty parts)
_CHUNK = 1 << 20


class ImportFailed(QcodeError):
    """This file cannot be imported; the message says why (without the file name)."""


@dataclass
class ImportOptions:
    encoding: str | None = None                      # for text formats: override the guess
    speaker_map: dict[str, str] = field(default_factory=dict)
    timestamps: bool = True                          # subtitles: keep `%% 00:12:31` lines


@dataclass
class Imported:
    """A file turned into a transcript body, and what the reader noticed on the way."""

    text: str                                        # the normalised body, ending with "\n"
    format: str                                      # "docx", "vtt", "txt", ...
    notes: list[str] = field(default_factory=list)    # facts: what was done
    warnings: list[str] = field(default_factory=list)  # things the user should look at
    front_matter: dict[str, Any] = field(default_factory=dict)  # from a .md that had some
    encoding: str | None = None
    confidence: float | None = None

    def speakers(self) -> Counter[str]:
        """Turns per speaker, as ``turns`` segmentation will see them."""
        return Counter(p.speaker for p in segment(self.text, "turns") if p.speaker)


# -- what a file really is --------------------------------------------------------------

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),                          # an empty zip
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),     # old .doc, or an encrypted .docx
    (b"%PDF-", "pdf"),
    (b"{\\rtf", "rtf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x7fELF", "program"),
    (b"MZ", "program"),
)


def sniff(raw: bytes) -> str | None:
    """The container a file really is, from its first bytes (None: plain bytes)."""
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    return None


def refuse_misnamed(raw: bytes, expected: str) -> None:
    """Stop with a clear line when a text-format file is really something else."""
    kind = sniff(raw)
    if kind is None or kind == expected:
        return
    what = {
        "zip": ("is a zip file (a .docx or .odt renamed?)",
                "give it its real extension (.docx, .odt) and import it again"),
        "ole": ("is an old Word (.doc) or password-protected Office file",
                "open it in Word, remove any password and save it as .docx"),
        "pdf": ("is a PDF", "export the transcript from its source as .docx or .txt"),
        "rtf": ("is an RTF file", "rename it to .rtf"),
        "image": ("is an image, not text", "import the transcript's text file instead"),
        "program": ("is a program, not text", "import the transcript's text file instead"),
    }[kind]
    raise ImportFailed(what[0], what[1])


def open_zip(raw: bytes, label: str) -> zipfile.ZipFile:
    """A zip container checked for damage, bombs, traversal and symlinks before any
    library reads it."""
    kind = sniff(raw)
    if kind == "ole":
        raise ImportFailed(f"is encrypted (password-protected) or an old Word 97-2003 file, "
                           f"not a {label}",
                           "open it in Word, remove the password and save it as .docx")
    if kind != "zip":
        raise ImportFailed(f"is not a {label} (it is not a zip container)",
                           "check the file: it may be damaged or have the wrong extension")
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ImportFailed(f"is a damaged {label} ({exc})",
                           "open and save it again in its program, then import it") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportFailed(f"has {len(members)} parts, more than a {label} ever has",
                           "check where the file came from")
    total = 0
    for member in members:
        name = member.filename
        if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
            raise ImportFailed(f"holds a part with an unsafe path ({name!r})",
                               "check where the file came from")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ImportFailed(f"holds a symbolic link ({name!r})",
                               "check where the file came from")
        total += member.file_size
        if (member.file_size > 1024 * 1024
                and member.file_size > MAX_ZIP_RATIO * max(member.compress_size, 1)):
            raise ImportFailed(f"holds a part that unpacks "
                               f"{member.file_size // max(member.compress_size, 1)}"
                               "-fold (a zip bomb?)", "check where the file came from")
    if total > MAX_ZIP_UNCOMPRESSED:
        raise ImportFailed(f"unpacks to {total // (1024 * 1024)} MB, more than qcode reads",
                           "split the transcript into smaller files")
    # Many small parts that each compress 1000-fold pass the check above one by one.
    if total > ZIP_RATIO_FROM and total > MAX_ZIP_RATIO * len(raw):
        raise ImportFailed(f"unpacks {total // max(len(raw), 1)}-fold, to "
                           f"{total // (1024 * 1024)} MB (a zip bomb?)",
                           "check where the file came from")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, label: str) -> bytes:
    """A part of a checked zip, read a piece at a time and never past the size its
    entry declares (a part whose data runs on is damaged, not followed)."""
    try:
        info = archive.getinfo(name)
        pieces, size = [], 0
        with archive.open(info) as handle:
            while piece := handle.read(_CHUNK):
                size += len(piece)
                if size > info.file_size:
                    raise ImportFailed(f"is a damaged {label}: {name} holds more than its "
                                       f"declared {info.file_size:,} bytes",
                                       "check where the file came from")
                pieces.append(piece)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ImportFailed(f"is a damaged {label} ({name}: {exc})",
                           "open and save it again in its program, then import it") from None
    return b"".join(pieces)


def parse_part(data: bytes, label: str, name: str) -> Any:
    """An XML part parsed with defusedxml (no DTD, no entities), at most
    ``MAX_XML_DEPTH`` elements deep; the root element."""
    from xml.etree.ElementTree import ParseError, TreeBuilder

    from defusedxml.common import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    class _Builder(TreeBuilder):
        depth = 0

        def start(self, tag: Any, attrs: Any) -> Any:
            self.depth += 1
            if self.depth > MAX_XML_DEPTH:
                line = parser.parser.CurrentLineNumber
                raise ImportFailed(f"has XML nested more than {MAX_XML_DEPTH} elements "
                                   f"deep ({name}, line {line})",
                                   "check where the file came from")
            return super().start(tag, attrs)

        def end(self, tag: Any) -> Any:
            self.depth -= 1
            return super().end(tag)

    parser = DefusedXMLParser(target=_Builder(), forbid_dtd=True)
    try:
        parser.feed(data)
        return parser.close()
    except (ParseError, DefusedXmlException, LookupError) as exc:
        # LookupError: the XML declaration names an encoding Python does not know
        raise ImportFailed(f"is a damaged {label} ({name}: {exc})",
                           "open it in its program, save it again and import it") from None


def refuse_dtd(archive: zipfile.ZipFile, label: str) -> None:
    """Office XML never has a DTD; one that does is crafted (entity expansion), so stop."""
    for member in archive.infolist():
        if member.filename.endswith((".xml", ".rels")):
            head = read_member(archive, member.filename, label)
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ImportFailed(f"is a {label} with a DTD in {member.filename} (never "
                                   "written by an office program)",
                                   "check where the file came from")


# -- the body ---------------------------------------------------------------------------

_MANY_BLANK_LINES = re.compile(r"\n{3,}")


def clean_body(text: str, notes: list[str] | None = None) -> str:
    """Normalise a body as ``docs/format.md`` says (BOM, line ends, NFC), and tidy it:
    other line-break characters become newlines, control characters go, trailing spaces
    go, at most one blank line in a row, and the text ends with one newline."""
    text, dropped = strip_controls(normalize(text))
    if dropped and notes is not None:
        notes.append(f"dropped {plural(len(dropped), 'control character')}")
    # Line by line, not with a `[ \t]+$` regex: that one retries every start of a long
    # run of spaces, and a 1 MB run took hours.
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = _MANY_BLANK_LINES.sub("\n\n", text).strip("\n")
    return text + "\n" if text.strip() else ""


def require_size(chars: int) -> None:
    """Stop once a transcript's text passes ``MAX_TRANSCRIPT_CHARS``."""
    if chars > MAX_TRANSCRIPT_CHARS:
        raise ImportFailed(f"becomes more than {MAX_TRANSCRIPT_CHARS:,} characters of text, "
                           "more than one transcript may hold",
                           "split it into one file per interview")


def require_text(text: str, label: str) -> None:
    if not text.strip():
        raise ImportFailed(f"has no text (an empty {label})",
                           "check that this is the transcript, not a template")


# -- speaker labels ---------------------------------------------------------------------

_NOT_IN_LABEL = re.compile(r"[^\w .'’()/-]+")


def as_label(name: str) -> str | None:
    """A speaker name made into a label that starts a turn (``docs/format.md``): letters
    first, at most 40 characters of letters, digits, spaces and ``. ' ’ ( ) / -``.
    None when nothing of the name is left."""
    name = _NOT_IN_LABEL.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" .-/")
    while name and not (name[0].isalpha()):
        name = name[1:].lstrip()
    name = name[:40].rstrip()
    return name if name and LABEL_RE.fullmatch(name + ":") else None


def label_prefix(line: str) -> tuple[str, str] | None:
    """(speaker, rest) when ``line`` starts with a speaker label such as ``Rektor:``."""
    match = LABEL_RE.match(line)
    if match is None:
        return None
    return match.group("label").strip(), line[match.end() + 1:].lstrip(" \t")


_TIMESTAMP_CELL = re.compile(r"[\[(]?(\d{1,2}:)?\d{1,2}:\d{2}([.,]\d+)?[\])]?")


def is_speaker_cell(text: str) -> bool:
    """A table's first cell names a speaker: one short line, no sentence in it."""
    text = text.strip().rstrip(":")
    return (0 < len(text) <= 40 and "\n" not in text and len(text.split()) <= 4
            and not text.endswith((".", "?", "!")) and as_label(text) == text)


def table_row_text(cells: list[str]) -> tuple[str, bool]:
    """A table row as one block, and whether it was read as a turn.

    Transcribers deliver ``[time |] speaker | text`` tables: such a row becomes
    ``Speaker: text`` (and a ``%% time`` line, as for subtitles); other rows join their
    non-empty cells with `` | ``."""
    stamp = None
    if len(cells) >= 2 and _TIMESTAMP_CELL.fullmatch(cells[0]):
        stamp, cells = cells[0].strip("[]()"), cells[1:]
    turn = len(cells) >= 2 and is_speaker_cell(cells[0])
    if turn:
        text = f"{as_label(cells[0].strip().rstrip(':'))}: " + " ".join(cells[1:])
    else:
        text = " | ".join(cells)
    if stamp is not None:
        text += f"\n%% {stamp}"
    return text, turn


def load_speaker_map(path: Path) -> dict[str, str]:
    """``raw speaker,label`` rows (a ``speaker,label`` header is allowed) → a mapping.

    Raises ``ImportFailed`` naming the line of a bad row; the caller names the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot be read ({exc.strerror})") from None
    try:
        text = normalize(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportFailed("is not UTF-8 text", "save the speaker map as UTF-8 CSV") from None
    mapping: dict[str, str] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and [c.strip().lower() for c in row] in (["speaker", "label"],
                                                                 ["raw", "label"]):
            continue
        if len(row) != 2:
            raise ImportFailed(f"line {number} has {len(row)} columns, not 2",
                               "write one `raw speaker,label` pair per line, e.g. "
                               "`Speaker 1,I`")
        source, label = row[0].strip(), row[1].strip()
        if not source:
            raise ImportFailed(f"line {number} has an empty speaker")
        if not LABEL_RE.fullmatch(label + ":"):
            raise ImportFailed(f"line {number}: {label!r} cannot be a speaker label",
                               "a label starts with a letter and has at most 40 letters, "
                               "digits, spaces and . ' ( ) / -")
        if source in mapping and mapping[source] != label:
            raise ImportFailed(f"line {number} maps {source!r} again (to {label!r})")
        mapping[source] = label
    if not mapping:
        raise ImportFailed("has no `raw speaker,label` rows", "e.g. `Speaker 1,I`")
    return mapping


def relabel_turns(text: str, mapping: dict[str, str], imported: Imported) -> str:
    """Replace the speaker label at the start of each line by its mapped label, and say
    which speakers had no entry in the map."""
    if not mapping:
        return text
    used: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    lines = text.split("\n")
    for index, line in enumerate(lines):
        found = label_prefix(line)
        if found is None:
            continue
        speaker, rest = found
        if speaker in mapping:
            used[speaker] += 1
            lines[index] = f"{mapping[speaker]}: {rest}" if rest else f"{mapping[speaker]}:"
        else:
            unmapped[speaker] += 1
    note_speaker_map(used, unmapped, imported)
    return "\n".join(lines)


def note_speaker_map(used: Counter[str], unmapped: Counter[str], imported: Imported,
                     unit: str = "turn") -> None:
    if used:
        imported.notes.append("speaker map: " + ", ".join(
            f"{name} ({plural(count, unit)})" for name, count in used.items()))
    if unmapped:
        imported.warnings.append("speakers not in the speaker map (kept as they are): "
                                 + ", ".join(sorted(unmapped)))


def hms(seconds: float) -> str:
    """``00:12:31`` for a time in seconds (hours grow past 99 if they must)."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


