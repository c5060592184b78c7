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


def ascii_fold(text: str) -> str:
    """Letters without their accents (``ø`` stays: it has no decomposition), for ids made
    from names."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
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
