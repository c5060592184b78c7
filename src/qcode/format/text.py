"""Text rules shared by every reader: decoding, normalisation, words.

All offsets in qcode are 0-based Unicode code-point offsets into the *normalised* body,
end exclusive. Normalising means: drop a leading BOM, turn CRLF and lone CR into LF,
then Unicode NFC. These functions are the only place the rule is written down in code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

BOM = "\ufeff"

# Characters other programs treat as line breaks; qcode's offsets know only "\n".
OTHER_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Control characters: C0 but tab and the line ends (CR is a line end ``normalize`` makes
# LF), DEL and C1. They mean nothing in a transcript, and on a terminal they act (ESC
# starts a sequence that can set the title, clear the screen or hide a link).
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What a terminal must not be given raw: the controls, the bidirectional embeddings,
# overrides and isolates, which reorder the characters shown around them, and lone
# surrogates (a YAML "\ud800"), which no terminal encoding can write.
TERMINAL_UNSAFE_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown_as(code: int) -> str:
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ESC is ␛, NUL ␀
    if code == 0x7F:
        return "\u2421"             # ␡
    return "\ufffd"                 # C1, bidi controls, surrogates have no picture: �


_PRINTABLE = str.maketrans({code: _shown_as(code) for code in
                            [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                             *range(0x202A, 0x202F), *range(0x2066, 0x206A),
                             *range(0xD800, 0xE000)]})


def printable(text: str) -> str:
    """``text`` as a terminal may be given it: every character that would act on the
    terminal (``TERMINAL_UNSAFE_RE``) made visible, one character for one (ESC as ``␛``,
    the other C0 controls as their control pictures, DEL as ``␡``, C1 and bidi controls and
    lone surrogates as ``�``), so offsets into the text stay valid. Tab and newline are
    kept. The one sanitiser for project text shown on a terminal: the CLI, line mode and
    the full-screen app all show text through it."""
    if TERMINAL_UNSAFE_RE.search(text) is None:
        return text
    return text.translate(_PRINTABLE)


def strip_controls(text: str) -> tuple[str, list[int]]:
    """``text`` with other line-break characters made newlines and the control characters
    dropped (tab and newline are kept), and the indexes into ``text`` of those dropped:
    what importers do to a transcript's text."""
    text = OTHER_LINE_BREAKS.sub("\n", text)  # one for one: indexes stay
    dropped = [match.start() for match in CONTROL_RE.finditer(text)]
    return (CONTROL_RE.sub("", text) if dropped else text), dropped


def control_name(char: str) -> str:
    """``U+001B`` for a character a message must name without showing it."""
    return f"U+{ord(char):04X}"


# A word: letters or digits (any script), joined across inner hyphens and apostrophes,
# so «yrkesfag-elever» and «don't» are one word each and «–» is none.
WORD_RE = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class EncodingIssue:
    line: int
    message: str
    hint: str


def normalize(text: str) -> str:
    if text.startswith(BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# Latin letters with no decomposition into a letter and accents: spelt as their languages
# spell them in plain ASCII, so an id made from "Ærlig støtte" is not "rlig-sttte".
_SPELT_OUT = str.maketrans({"æ": "ae", "Æ": "Ae", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "Oe",
                            "ß": "ss", "ẞ": "SS", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
                            "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i"})


def ascii_fold(text: str) -> str:
    """Letters without their accents (``å`` → ``a``), and the letters that have none
    spelt out (``æ`` → ``ae``, ``ø`` → ``o``, ``ß`` → ``ss``), for ids made from names."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.translate(_SPELT_OUT))
                   if not unicodedata.combining(ch))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case ``text`` keeping every character at its offset (so spans stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters (İ) lower to two: keep those as they are.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))  # findall builds the list in C: 4x a generator


def guess_encoding(raw: bytes) -> tuple[str | None, float]:
    """The likely encoding of bytes that are not UTF-8, and a confidence in [0, 1]."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None, 0.0
    best = from_bytes(raw).best()
    if best is None:
        return None, 0.0
    return best.encoding, round(1.0 - float(best.chaos), 2)


def decode_utf8(raw: bytes) -> tuple[str | None, EncodingIssue | None]:
    """Decode UTF-8 (with or without BOM); on failure say where and what it probably is."""
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        if b"\x00" in raw[:4096]:
            return None, EncodingIssue(
                line, "is not a text file (it contains NUL bytes)",
                "transcripts must be UTF-8 text (.md or .txt)")
        encoding, _confidence = guess_encoding(raw)
        likely = f"; it looks like {encoding}" if encoding else ""
        convert = (f"iconv -f {encoding} -t utf-8" if encoding else "an editor's 'save as UTF-8'")
        return None, EncodingIssue(
            line, f"is not valid UTF-8 (first bad byte on line {line}){likely}",
            f"convert it to UTF-8, e.g. with {convert}")
