"""Transcripts: front matter, the normalised body, and its passages.

The *body* starts right after the newline that ends the closing ``---`` of the front
matter (or at the start of the file without one) and is normalised (``qcode.text``).
Passages are numbered from 1; a passage's span runs from its first to its last
non-whitespace character, and every offset is a code-point offset into the body.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from qcode.format.text import (
    CONTROL_RE,
    TERMINAL_UNSAFE_RE,
    control_name,
    count_words,
    normalize,
)
from qcode.format.yamlio import YamlProblem, parse_simple_mapping, parse_yaml
from qcode.problems import Problems

Segmentation = Literal["turns", "paragraphs", "lines"]
SEGMENTATIONS: tuple[str, ...] = ("turns", "paragraphs", "lines")
TRANSCRIPT_SUFFIXES = (".md", ".txt")

# A speaker label: at the very start of a line, starting with a letter, at most 40
# characters of letters, digits, spaces and . ' ( ) / - , then a colon followed by
# whitespace or the end of the line. So "Rektor:", "Lærer 2:" and "I:" start turns,
# while "Kl. 07:45", "- Pass: ..." and "«Sitat: ...»" do not.
# MULTILINE: "$" is the end of the line, wherever in a body the match is tried.
LABEL_RE = re.compile(r"(?P<label>[^\W\d_][\w .'’()/-]{0,39}):(?=[ \t]|$)", re.MULTILINE)

# The id of a transcript qcode writes (by import): it becomes the file's name, so letters,
# digits, - _ and ., starting with a letter or digit (and never "..": is_new_transcript_id).
NEW_ID_RE = re.compile(r"[^\W_][\w.-]{0,99}")

Scalar = str | int | float | bool | None


def is_new_transcript_id(value: str) -> bool:
    """Whether ``value`` may be the id of a transcript qcode writes into a project."""
    return bool(NEW_ID_RE.fullmatch(value)) and ".." not in value


@dataclass(slots=True, unsafe_hash=True)  # not frozen: a frozen __init__ is twice as slow
class Passage:
    """A numbered unit of a transcript: a speaker turn, a paragraph or a line."""

    number: int
    start: int
    end: int
    speaker: str | None
    line: int  # the 1-based line of the transcript *file* where the passage begins

    def overlaps(self, start: int, end: int) -> bool:
        return start < self.end and self.start < end


class Transcript:
    """One transcript: front matter, the normalised body, and its passages.

    A transcript from the cache (``from_record``) reads its file again only when ``body``
    is first used, and builds its ``Passage`` objects only when they are first used:
    counting needs neither (``body_length`` is kept).
    """

    def __init__(self, id: str, file: str, body: str | None, body_line: int,
                 front_matter: dict[str, Any], passages: list[Passage] | None,
                 attributes: dict[str, Scalar] | None = None,
                 front_lines: dict[str, int] | None = None, *,
                 body_length: int | None = None, loader: BodyLoader | None = None,
                 passage_columns: tuple[list, list, list, list] | None = None) -> None:
        self.id = id
        self.file = file  # path relative to the project, with forward slashes
        self.body_line = body_line  # the 1-based file line on which the body starts
        self.front_matter = front_matter
        self.attributes: dict[str, Scalar] = attributes if attributes is not None else {}
        self.front_lines: dict[str, int] = front_lines if front_lines is not None else {}
        self._body = body
        self._loader = loader
        if body is None and (body_length is None or loader is None):
            raise ValueError("a transcript needs its body, or its length and a loader")
        self.body_length: int = len(body) if body is not None else body_length or 0
        self._passages = passages
        self._passage_columns = passage_columns
        self._starts: list[int] | None = None
        self._words: int | None = None
        self._controls: ControlCharacters | None = None
        self.sha256: str | None = None  # of the file's bytes, when read from a project

    def __repr__(self) -> str:
        return f"Transcript(id={self.id!r}, file={self.file!r})"

    @property
    def body(self) -> str:
        if self._body is None:
            assert self._loader is not None  # a transcript has a body or a loader for it
            self._body = self._loader.body(self)
        return self._body

    @property
    def loaded_body(self) -> str | None:
        """The body if it is in memory (never read for this)."""
        return self._body

    def compact(self) -> None:
        """Keep the passages as columns only (before sending the transcript elsewhere)."""
        self.passage_columns()
        self._passages = None
        self._starts = None

    def read_again_from(self, loader: BodyLoader) -> None:
        """Where the body can be read again once released (a transcript parsed from its
        file: the file, as long as its bytes are those it was parsed from)."""
        self._loader = loader

    def release_body(self) -> None:
        """Forget the body if it can be read again (a cached transcript's, checked against
        its hash when it is): a pass over every transcript then holds one body at a time."""
        if self._loader is not None:
            self._body = None

    @property
    def passages(self) -> list[Passage]:
        if self._passages is None:
            assert self._passage_columns is not None  # passages or their columns
            starts, ends, speakers, lines = self._passage_columns
            self._passages = [Passage(n, s, e, speaker, line) for n, (s, e, speaker, line)
                              in enumerate(zip(starts, ends, speakers, lines, strict=True),
                                           start=1)]
        return self._passages

    @property
    def passage_count(self) -> int:
        if self._passages is None:
            assert self._passage_columns is not None
            return len(self._passage_columns[0])
        return len(self._passages)

    def passage_columns(self) -> tuple[list[int], list[int], list[str | None], list[int]]:
        """Starts, ends, speakers and file lines of the passages, as four lists."""
        if self._passage_columns is None:
            passages = self.passages
            self._passage_columns = ([p.start for p in passages], [p.end for p in passages],
                                     [p.speaker for p in passages], [p.line for p in passages])
        return self._passage_columns

    @property
    def controls(self) -> ControlCharacters:
        """The control characters in the body (kept in the cache record: reading it does
        not read the file)."""
        if self._controls is None:
            self._controls = ControlCharacters.find(self.body, self.body_line)
        return self._controls

    @property
    def words(self) -> int:
        """The body's words, counted once; a body read only to count them is let go, so
        a count over every transcript holds one body at a time."""
        if self._words is None:
            loaded = self._body is not None
            self._words = count_words(self.body)
            if not loaded:
                self.release_body()
        return self._words

    def passage(self, number: int) -> Passage:
        if not 1 <= number <= self.passage_count:
            raise IndexError(number)
        return self.passages[number - 1]

    def _passage_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = self.passage_columns()[0]
        return self._starts

    def passage_at(self, offset: int) -> Passage | None:
        """The passage whose span holds ``offset``, if any."""
        index = bisect.bisect_right(self._passage_starts(), offset) - 1
        if index < 0:
            return None
        # One object, not one per passage of the transcript, unless they exist already.
        starts, ends, speakers, lines = self.passage_columns()
        passage = (self._passages[index] if self._passages is not None else
                   Passage(index + 1, starts[index], ends[index], speakers[index], lines[index]))
        return passage if passage.start <= offset < passage.end else None

    def passages_overlapping(self, start: int, end: int) -> list[Passage]:
        """Passages that share at least one character with ``[start, end)``."""
        if end <= start:
            hit = self.passage_at(start)
            return [hit] if hit else []
        first = max(bisect.bisect_right(self._passage_starts(), start) - 1, 0)
        out = []
        for passage in self.passages[first:]:
            if passage.start >= end:
                break
            if passage.overlaps(start, end):
                out.append(passage)
        return out

    def passage_range(self, start: int, end: int) -> tuple[int, int] | None:
        """The numbers of the first and last of ``passages_overlapping(start, end)``, found
        from the passage columns alone (no object per passage)."""
        if end <= start:
            hit = self.passage_at(start)
            return (hit.number, hit.number) if hit else None
        starts, ends = self.passage_columns()[:2]
        first = bisect.bisect_right(ends, start)  # the first passage ending after start
        last = bisect.bisect_left(starts, end) - 1  # the last one starting before end
        return (first + 1, last + 1) if first <= last else None

    def line_of(self, offset: int) -> int:
        """The 1-based file line of a body offset."""
        return self.body_line + self.body.count("\n", 0, offset)

    # -- the cache record (see qcode.cache) -------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        starts, ends, speakers, lines = self.passage_columns()
        return {"id": self.id, "body_line": self.body_line, "body_length": self.body_length,
                "front_matter": self.front_matter, "front_lines": self.front_lines,
                "starts": starts, "ends": ends, "speakers": speakers, "lines": lines,
                "controls": self.controls.to_record()}

    @classmethod
    def from_record(cls, record: dict[str, Any], file: str, loader: BodyLoader) -> Transcript:
        front = record["front_matter"]
        columns = [record[k] for k in ("starts", "ends", "speakers", "lines")]
        if (not isinstance(front, dict) or not isinstance(record["front_lines"], dict)
                or not all(isinstance(c, list) and len(c) == len(columns[0])
                           for c in columns)
                or not isinstance(record["id"], str)
                or not isinstance(record["body_length"], int)):
            raise ValueError("not a transcript record")
        transcript = cls(record["id"], file, None, record["body_line"], front, None,
                         {k: v for k, v in front.items() if k != "id"}, record["front_lines"],
                         body_length=record["body_length"], loader=loader,
                         passage_columns=(record["starts"], record["ends"], record["speakers"],
                                          record["lines"]))
        if "controls" in record:  # an older record has none: found in the body when asked
            transcript._controls = ControlCharacters.from_record(record["controls"])
        return transcript


@dataclass(frozen=True)
class ControlCharacters:
    """Control characters in a body (``qcode.format.text.CONTROL_RE``): how many, the
    first one, and the file lines of the first few."""

    count: int = 0
    first: str = ""
    lines: tuple[int, ...] = ()

    SHOWN_LINES = 10

    @classmethod
    def find(cls, body: str, body_line: int) -> ControlCharacters:
        first = CONTROL_RE.search(body)
        if first is None:
            return cls()
        lines: list[int] = []
        line, position = body_line, 0
        for match in CONTROL_RE.finditer(body, first.start()):
            line += body.count("\n", position, match.start())
            position = match.start()
            if not lines or lines[-1] != line:
                lines.append(line)
                if len(lines) == cls.SHOWN_LINES:
                    break
        return cls(len(CONTROL_RE.findall(body, first.start())), first.group(), tuple(lines))

    def to_record(self) -> list[Any]:
        return [self.count, self.first, list(self.lines)]

    @classmethod
    def from_record(cls, record: Any) -> ControlCharacters:
        if (not isinstance(record, list) or len(record) != 3
                or not isinstance(record[0], int) or not isinstance(record[1], str)
                or not isinstance(record[2], list)
                or not all(isinstance(n, int) for n in record[2])):
            raise ValueError("not a record of control characters")
        return cls(record[0], record[1], tuple(record[2]))


class BodyLoader:
    """Reads the body of a cached transcript on first use, from the very bytes the cache
    entry was made from (any other content means the file changed under the command)."""

    def __init__(self, path: Path, sha256: str, mode: Segmentation) -> None:
        self.path = path
        self.sha256 = sha256
        self.mode = mode

    def body(self, transcript: Transcript) -> str:
        from qcode.errors import QcodeError
        from qcode.format.cache import content_hash

        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raw, why = None, exc.strerror
        else:
            why = "its content is not what it was a moment ago"
        if raw is None or content_hash(raw) != self.sha256:
            raise QcodeError(f"{transcript.file} changed while qcode was reading it ({why})",
                             "run the command again")
        return split_front_matter(normalize(raw.decode("utf-8")), parse=False)[1]


class FrontMatterError(Exception):
    def __init__(self, line: int | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


def split_front_matter(text: str, parse: bool = True
                       ) -> tuple[dict[str, Any], str, int, dict[str, int]]:
    """Split normalised text into (front matter, body, body's first file line, key lines).
    ``parse=False``: the body only (of a file whose front matter was read before)."""
    if text.split("\n", 1)[0].rstrip(" \t") != "---":
        return {}, text, 1, {}
    first_nl = text.index("\n") if "\n" in text else len(text)
    pos, line_no = first_nl + 1, 2
    while pos <= len(text):
        nl = text.find("\n", pos)
        line_end = len(text) if nl == -1 else nl
        if text[pos:line_end].rstrip(" \t") in ("---", "..."):
            yaml_text = text[first_nl + 1:pos]
            body_start = len(text) if nl == -1 else nl + 1
            if not parse:
                return {}, text[body_start:], line_no + 1, {}
            try:
                doc = (parse_simple_mapping(yaml_text, line_offset=1)
                       or parse_yaml(yaml_text, line_offset=1))
            except YamlProblem as exc:
                raise FrontMatterError(exc.line, f"front matter: {exc.message}", exc.hint) from None
            data = doc.data if doc.data is not None else {}
            if not isinstance(data, dict):
                raise FrontMatterError(2, "front matter must be `key: value` lines",
                                       "write attributes as `school: Voss`")
            for key, value in data.items():
                if not isinstance(key, str):
                    raise FrontMatterError(doc.positions.get((key,)),
                                           f"front matter key {key!r} must be text")
                if isinstance(value, (dict, list)):
                    raise FrontMatterError(
                        doc.positions.get((key,)),
                        f"front matter attribute {key!r} must be a single value, not a "
                        f"{'mapping' if isinstance(value, dict) else 'list'}",
                        "write one value per attribute, e.g. `school: Voss`")
            lines = {k[0]: v for k, v in doc.positions.items() if len(k) == 1}
            return data, text[body_start:], line_no + 1, lines
        if nl == -1:
            break
        pos = nl + 1
        line_no += 1
    raise FrontMatterError(1, "front matter is not closed: no `---` line after the opening one",
                           "end the front matter with a line holding only ---")


# A literal "\n" prefix lets the regex engine skip to line starts instead of trying a
# match at every character (4x faster on long bodies); position 0 is checked on its own.
_TURN_RE = re.compile(r"\n" + LABEL_RE.pattern, re.MULTILINE)
_PARAGRAPH_RE = re.compile(r"^[^\S\n]*\S.*(?:\n[^\S\n]*\S.*)*", re.MULTILINE)
_LINE_RE = re.compile(r"^[^\S\n]*\S.*", re.MULTILINE)


def segment(body: str, mode: Segmentation, body_line: int = 1) -> list[Passage]:
    """Cut a normalised body into passages (see docs/format.md, "Segmentation").

    Regular expressions find the passage boundaries so that Python touches each passage,
    not each line; a line-by-line reference implementation in the tests must agree.
    """
    blocks: list[tuple[int, int, str | None]] = []  # untrimmed start, end, speaker
    if mode == "turns":
        head = LABEL_RE.match(body)
        starts = [(0, head.group("label").strip())] if head else []
        starts += [(m.start() + 1, m.group("label").strip()) for m in _TURN_RE.finditer(body)]
        first = starts[0][0] if starts else len(body)
        if body[:first].strip():
            blocks.append((0, first, None))
        for i, (start, speaker) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
            blocks.append((start, end, speaker))
    else:
        # A paragraph or line that opens with a speaker label is that speaker's, as a turn
        # would be: who speaks does not depend on how the text is cut.
        pattern = _PARAGRAPH_RE if mode == "paragraphs" else _LINE_RE
        label = LABEL_RE.match
        for m in pattern.finditer(body):
            head = label(body, m.start())  # at the start of the line, as in turns
            blocks.append((m.start(), m.end(), head.group("label").strip() if head else None))
    passages: list[Passage] = []
    line, position = body_line, 0
    for start, end, speaker in blocks:
        # Trim by stepping over the (short) runs of whitespace rather than copying the
        # passage twice: this loop runs once per passage of every transcript.
        first, last = start, end
        while first < last and body[first].isspace():
            first += 1
        while last > first and body[last - 1].isspace():
            last -= 1
        line += body.count("\n", position, first)
        position = first
        passages.append(Passage(len(passages) + 1, first, last, speaker, line))
    return passages


def discover(folder: Path) -> list[tuple[Path, str]]:
    """Transcript files under ``folder`` (recursively) with their paths relative to it
    (forward slashes), sorted by that; dot-files and dot-folders skipped."""
    found: list[tuple[Path, str]] = []

    def walk(directory: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):  # a linked folder could loop
                    walk(entry.path, f"{prefix}{entry.name}/")
                elif (entry.is_file()
                      and os.path.splitext(entry.name)[1].lower() in TRANSCRIPT_SUFFIXES):
                    found.append((Path(entry.path), f"{prefix}{entry.name}"))
            except OSError:
                continue

    if os.path.isdir(folder):  # never raises (a name too long, say)
        walk(str(folder), "")
    return sorted(found, key=lambda item: item[1])


def parse_transcript(text: str, rel: str, default_id: str,
                     mode: Segmentation = "turns") -> Transcript:
    """Build a transcript from decoded text; raises ``FrontMatterError``."""
    text = normalize(text)
    front, body, body_line, front_lines = split_front_matter(text)
    raw_id = front.get("id", default_id)
    id_line = front_lines.get("id", 1)  # no `id:`: the id is the file name's
    if raw_id is None or isinstance(raw_id, bool) or str(raw_id).strip() == "":
        raise FrontMatterError(id_line, "front matter `id` must be a non-empty value",
                               "write `id: <name>` or remove it to use the file name")
    transcript_id = str(raw_id).strip()
    if any(ch.isspace() for ch in transcript_id):
        raise FrontMatterError(id_line, f"transcript id {transcript_id!r} contains whitespace",
                               "use letters, digits, - and _ in ids")
    unsafe = TERMINAL_UNSAFE_RE.search(transcript_id)
    if unsafe is not None:
        raise FrontMatterError(2, f"transcript id {transcript_id!r} contains a control "
                               f"character ({control_name(unsafe.group())})",
                               "use letters, digits, - and _ in ids")
    attributes = {k: v for k, v in front.items() if k != "id"}
    return Transcript(
        id=transcript_id, file=rel, body=body, body_line=body_line, front_matter=front,
        passages=segment(body, mode, body_line), attributes=dict(attributes),
        front_lines=front_lines,
    )


def transcript_from_text(text: str, rel: str, default_id: str, problems: Problems,
                         mode: Segmentation = "turns") -> Transcript | None:
    """Parse decoded text; a front matter problem is recorded and gives None."""
    try:
        return parse_transcript(text, rel, default_id, mode)
    except FrontMatterError as exc:
        problems.error("transcript-front-matter", rel, exc.line, exc.message, exc.hint)
        return None


def find_transcript(transcripts: dict[str, Transcript], transcript_id: str) -> Transcript:
    """The transcript with this id, or ``UnknownName`` with the nearest ids."""
    found = transcripts.get(transcript_id)
    if found is None:
        from qcode.errors import UnknownName
        from qcode.format.names import did_you_mean

        raise UnknownName("transcript", transcript_id, did_you_mean(transcript_id, transcripts),
                          hint="`qcode transcripts` lists them")
    return found


def check_speakers(transcripts: Iterable[Transcript], problems: Problems) -> None:
    """A label that starts a single passage of the whole project, in a transcript whose
    other labels start several, is likely a sentence that happens to begin ``Word:``
    ("Result: the day nurse caught it"), silently made a speaker: a warning at its line.
    A label that other transcripts use too (``I``, ``Rektor``) is a speaker."""
    listed = list(transcripts)
    everywhere: Counter[str] = Counter()
    for transcript in listed:
        everywhere.update(s for s in transcript.passage_columns()[2] if s)
    for transcript in listed:
        columns = transcript.passage_columns()
        counts = Counter(speaker for speaker in columns[2] if speaker)
        if len(counts) < 2 or max(counts.values()) < 2:
            continue
        for speaker, line in zip(columns[2], columns[3], strict=True):
            if speaker and everywhere[speaker] == 1:
                problems.warning(
                    "speaker-once", transcript.file, line,
                    f"{speaker!r} starts a passage only here, in the whole project; if it "
                    "is not a speaker, this line only looks like a speaker label",
                    f"rephrase the line so it does not begin with `{speaker}:`, or ignore "
                    "this if it is a speaker")


def check_control_characters(transcripts: Iterable[Transcript], problems: Problems) -> None:
    """A transcript holding control characters (an escape sequence, a NUL), in its body or
    its front matter's values, is warned about at the line of the first: they mean nothing
    in a transcript, and qcode shows them, never sends them (``printable``)."""
    hint = ("delete them in an editor that shows them (qcode shows ESC as ␛), or import the "
            "original again: `qcode import transcripts` drops them")
    for transcript in transcripts:
        for key, value in transcript.front_matter.items():
            found = CONTROL_RE.search(value) if isinstance(value, str) else None
            if found is not None:
                problems.warning("transcript-control-chars", transcript.file,
                                 transcript.front_lines.get(key),
                                 f"attribute {key!r} holds a control character "
                                 f"({control_name(found.group())})", hint)
        controls = transcript.controls
        if controls.count:
            more = (f"; also on line{'s' if len(controls.lines) > 2 else ''} "
                    f"{', '.join(map(str, controls.lines[1:]))}"
                    f"{', …' if len(controls.lines) == ControlCharacters.SHOWN_LINES else ''}"
                    if len(controls.lines) > 1 else "")
            problems.warning("transcript-control-chars", transcript.file, controls.lines[0],
                             f"{controls.count} control character"
                             f"{'s' if controls.count != 1 else ''} in the text (the first "
                             f"{control_name(controls.first)}{more})", hint)
