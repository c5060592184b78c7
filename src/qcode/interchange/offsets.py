"""From a tool's selection positions to offsets into qcode's normalised body.

REFI-QDA says positions count Unicode code points of the plain-text file (§10.2). Tools
differ (see FORMAT-NOTES in the reference data):

- ``codepoints``: code points of the file as written (BOM not counted): the standard,
  QualCoder, qc, qcode;
- ``codepoints-lf``: code points with CRLF counted as one: ATLAS.ti, MAXQDA;
- ``utf16``: UTF-16 code units with CRLF counted as two (an emoji counts 2): NVivo.

A position is first turned into an index into the file's text (BOM dropped), then into the
body qcode keeps, which is what the transcript file holds: control characters dropped as
``qcode import transcripts`` drops them (other line breaks made LF), then normalised
(CRLF/CR → LF, NFC).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from qcode.format.text import is_nfc, nfc, normalize, strip_controls

MODELS = ("codepoints", "codepoints-lf", "utf16")
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


def model_for_origin(origin: str | None) -> str:
    text = (origin or "").lower()
    if "nvivo" in text:
        return "utf16"
    if "atlas.ti" in text or "maxqda" in text:
        return "codepoints-lf"
    return "codepoints"


class SourceText:
    """One plain-text source: its raw text (BOM dropped) and the body qcode will keep."""

    def __init__(self, raw: str) -> None:
        self.raw = raw.removeprefix("\ufeff")
        # Line breaks other than LF stay one character (as LF); the controls go, and a
        # position moves back by those dropped before it.
        kept, self.dropped = strip_controls(self.raw)
        self.body = normalize(kept)
        self._maps: dict[str, _UnitMap] = {}
        self._to_body = _RawToBody(kept, self.body)

    def units(self, model: str) -> int:
        """How many positions the text has in ``model``'s units (the largest valid end)."""
        return self._map(model).length

    def to_body(self, model: str, position: int) -> int:
        """The body offset of a position (clamped into the text by the caller)."""
        index = self._map(model).raw_index(position)
        return self._to_body(index - bisect.bisect_left(self.dropped, index))

    def _map(self, model: str) -> _UnitMap:
        if model not in self._maps:
            self._maps[model] = _UnitMap(self.raw, model)
        return self._maps[model]


class _UnitMap:
    """Positions in a counting model → indexes into the raw text (code points)."""

    def __init__(self, raw: str, model: str) -> None:
        self.model = model
        self._extra: list[int] = []   # utf16: the units that are second halves of a pair
        self._crlf: list[int] = []    # codepoints-lf: the LF-text positions of each CRLF
        if model == "utf16":
            # Only characters outside the BMP take two units; find them without a Python loop
            # over every character (NVivo sources run to hundreds of thousands).
            for match in _NON_BMP.finditer(raw):
                self._extra.append(match.start() + len(self._extra) + 1)
            self.length = len(raw) + len(self._extra)
        elif model == "codepoints-lf":
            for count, match in enumerate(re.finditer("\r\n", raw)):
                self._crlf.append(match.start() - count)
            self.length = len(raw) - len(self._crlf)
        else:
            self.length = len(raw)

    def raw_index(self, position: int) -> int:
        if self._extra:
            # A position inside a surrogate pair falls back to the character it splits.
            return position - bisect.bisect_right(self._extra, position)
        if self._crlf:
            return position + bisect.bisect_left(self._crlf, position)
        return position


class _RawToBody:
    """Raw-text indexes → body indexes: CRLF becomes LF, then NFC may join characters."""

    def __init__(self, raw: str, body: str) -> None:
        # The LF of each CRLF is dropped; lone CRs become LFs in place.
        self._dropped = [m.start() + 1 for m in re.finditer("\r\n", raw)]
        lf_text = raw.replace("\r\n", "\n").replace("\r", "\n")
        self._nfc_changed = lf_text != body
        if self._nfc_changed:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", lf_text)]
            self._lines = lf_text.split("\n")
            shift, self._shift_before = 0, []
            for line in self._lines:
                self._shift_before.append(shift)
                shift += len(nfc(line)) - len(line)

    def __call__(self, raw_index: int) -> int:
        index = raw_index - bisect.bisect_left(self._dropped, raw_index)
        if not self._nfc_changed:
            return index
        line_no = bisect.bisect_right(self._line_starts, index) - 1
        line = self._lines[line_no]
        column = index - self._line_starts[line_no]
        prefix = line[:column]
        if is_nfc(line):
            return index + self._shift_before[line_no]
        return (self._line_starts[line_no] + self._shift_before[line_no]
                + len(nfc(prefix)))


# -- checking positions against what a tool wrote into the selection's name ------------------

_LINE_NAME = re.compile(r"line:([0-9]+)")


@dataclass(frozen=True)
class Expectation:
    """What a selection's ``name`` says about it: its text, or (qc) the line it starts on."""

    text: str | None = None
    line: int | None = None     # 0-based, as qc numbers lines

    def holds(self, body: str, start: int, end: int) -> bool:
        if self.line is not None:
            return start == _line_start(body, self.line)
        return matches(self.text or "", body[start:end])


def expectation(name: str | None) -> Expectation | None:
    """What ``name`` tells about the selection, or None when it tells nothing.

    ATLAS.ti, QualCoder and qcode quote the text (ATLAS.ti cuts it with ``…``); qc writes
    ``line:N``; NVivo writes an empty name.
    """
    if not name or not name.strip():
        return None
    line = _LINE_NAME.fullmatch(name.strip())
    if line:
        return Expectation(line=int(line.group(1)))
    return Expectation(text=name)


def _line_start(body: str, line: int) -> int:
    position = 0
    for _ in range(line):
        position = body.find("\n", position)
        if position == -1:
            return -1
        position += 1
    return position


def matches(quoted: str, text: str) -> bool:
    """Whether a quoted name agrees with the text at the selection (whitespace-insensitive)."""
    from qcode.interchange.common import xml_safe

    want = " ".join(nfc(quoted).split())
    have = " ".join(xml_safe(text).split())
    if want == have:
        return True
    for ellipsis in ("…", "..."):
        if want.endswith(ellipsis) and len(want) > len(ellipsis) + 3:
            return have.startswith(want[: -len(ellipsis)].rstrip())
    return False


@dataclass
class ModelChoice:
    model: str          # the model used
    by: str             # "origin" or "selection names"
    default: str        # the model the origin suggests
    checked: int        # selections whose name says something about them
    matched: int        # of those, how many agree under the model used
    scores: dict[str, int]  # model -> agreements, when selections could be checked


def choose_model(origin: str | None, checks: list[tuple[SourceText, int, int, Expectation]]
                 ) -> ModelChoice:
    """Pick the counting model: the origin's, unless the selections' names clearly disagree.

    ``checks`` are (source, start, end, expectation) for every selection whose name says
    something about it.
    """
    default = model_for_origin(origin)
    if not checks:
        return ModelChoice(default, "origin", default, 0, 0, {})
    scores = {model: _score(model, checks) for model in MODELS}
    best = max(MODELS, key=lambda m: (scores[m], m == default))
    if scores[best] > scores[default]:
        return ModelChoice(best, "selection names", default, len(checks), scores[best], scores)
    return ModelChoice(default, "origin", default, len(checks), scores[default], scores)


def _score(model: str, checks: list[tuple[SourceText, int, int, Expectation]]) -> int:
    hits = 0
    for source, start, end, expected in checks:
        if not 0 <= start <= end <= source.units(model):
            continue
        hits += expected.holds(source.body, source.to_body(model, start),
                               source.to_body(model, end))
    return hits
