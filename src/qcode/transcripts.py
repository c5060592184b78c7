"""Transcripts: front matter, the normalised body, and its passages.

The *body* starts right after the newline that ends the closing ``---`` of the front
matter (or at the start of the file without one) and is normalised (``qcode.text``).
Passages are numbered from 1; a passage's span runs from its first to its last
non-whitespace character, and every offset is a code-point offset into the body.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qcode.files import read_text
from qcode.problems import Problems
from qcode.text import count_words, normalize
from qcode.yamlio import YamlProblem, parse_simple_mapping, parse_yaml

Segmentation = Literal["turns", "paragraphs", "lines"]
SEGMENTATIONS: tuple[str, ...] = ("turns", "paragraphs", "lines")
TRANSCRIPT_SUFFIXES = (".md", ".txt")

# A speaker label: at the very start of a line, starting with a letter, at most 40
# characters of letters, digits, spaces and . ' ( ) / - , then a colon followed by
# whitespace or the end of the line. So "Rektor:", "Lærer 2:" and "I:" start turns,
# while "Kl. 07:45", "- Pass: ..." and "«Sitat: ...»" do not.
LABEL_RE = re.compile(r"(?P<label>[^\W\d_][\w .'’()/-]{0,39}):(?=[ \t]|$)")

Scalar = str | int | float | bool | None


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


@dataclass
class Transcript:
    id: str
    file: str  # path relative to the project, with forward slashes
    body: str
    body_line: int  # the 1-based file line on which the body starts
    front_matter: dict[str, Any]
    passages: list[Passage]
    attributes: dict[str, Scalar] = field(default_factory=dict)
    front_lines: dict[str, int] = field(default_factory=dict)  # front matter key -> file line
    _starts: list[int] = field(default_factory=list, repr=False)
    _words: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._starts = [p.start for p in self.passages]

    @property
    def words(self) -> int:
        if self._words is None:
            self._words = count_words(self.body)
        return self._words

    def passage(self, number: int) -> Passage:
        if not 1 <= number <= len(self.passages):
            raise IndexError(number)
        return self.passages[number - 1]

    def passage_at(self, offset: int) -> Passage | None:
        """The passage whose span holds ``offset``, if any."""
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and self.passages[index].start <= offset < self.passages[index].end:
            return self.passages[index]
        return None

    def passages_overlapping(self, start: int, end: int) -> list[Passage]:
        """Passages that share at least one character with ``[start, end)``."""
        if end <= start:
            hit = self.passage_at(start)
            return [hit] if hit else []
        first = max(bisect.bisect_right(self._starts, start) - 1, 0)
        out = []
        for passage in self.passages[first:]:
            if passage.start >= end:
                break
            if passage.overlaps(start, end):
                out.append(passage)
        return out

    def line_of(self, offset: int) -> int:
        """The 1-based file line of a body offset."""
        return self.body_line + self.body.count("\n", 0, offset)


class FrontMatterError(Exception):
    def __init__(self, line: int | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.hint = hint


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int, dict[str, int]]:
    """Split normalised text into (front matter, body, body's first file line, key lines)."""
    if text.split("\n", 1)[0].rstrip(" \t") != "---":
        return {}, text, 1, {}
    first_nl = text.index("\n") if "\n" in text else len(text)
    pos = first_nl + 1
    line_no = 2
    while pos <= len(text):
        nl = text.find("\n", pos)
        line_end = len(text) if nl == -1 else nl
        if text[pos:line_end].rstrip(" \t") in ("---", "..."):
            yaml_text = text[first_nl + 1:pos]
            body_start = len(text) if nl == -1 else nl + 1
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
        pattern = _PARAGRAPH_RE if mode == "paragraphs" else _LINE_RE
        blocks = [(m.start(), m.end(), None) for m in pattern.finditer(body)]
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


def discover(folder: Path) -> list[Path]:
    """Transcript files under ``folder`` (recursively), sorted by path; dot-files skipped."""
    if not folder.is_dir():
        return []
    found = [
        p for p in folder.rglob("*")
        if p.suffix.lower() in TRANSCRIPT_SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def parse_transcript(text: str, rel: str, default_id: str,
                     mode: Segmentation = "turns") -> Transcript:
    """Build a transcript from decoded text; raises ``FrontMatterError``."""
    text = normalize(text)
    front, body, body_line, front_lines = split_front_matter(text)
    raw_id = front.get("id", default_id)
    if raw_id is None or isinstance(raw_id, bool) or str(raw_id).strip() == "":
        raise FrontMatterError(2, "front matter `id` must be a non-empty value",
                               "write `id: <name>` or remove it to use the file name")
    transcript_id = str(raw_id).strip()
    if any(ch.isspace() for ch in transcript_id):
        raise FrontMatterError(2, f"transcript id {transcript_id!r} contains whitespace",
                               "use letters, digits, - and _ in ids")
    attributes = {k: v for k, v in front.items() if k != "id"}
    return Transcript(
        id=transcript_id, file=rel, body=body, body_line=body_line, front_matter=front,
        passages=segment(body, mode, body_line), attributes=dict(attributes),
        front_lines=front_lines,
    )


def load_transcript(path: Path, rel: str, problems: Problems,
                    mode: Segmentation = "turns") -> Transcript | None:
    """Read one transcript file; problems are recorded, never raised."""
    text = read_text(path, rel, problems, encoding_rule="transcript-encoding")
    if text is None:
        return None
    try:
        return parse_transcript(text, rel, path.stem, mode)
    except FrontMatterError as exc:
        problems.error("transcript-front-matter", rel, exc.line, exc.message, exc.hint)
        return None
