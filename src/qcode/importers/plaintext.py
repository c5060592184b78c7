"""``.txt`` and ``.md``: text in UTF-8, UTF-16 (with a BOM) or a legacy encoding.

UTF-8 is tried first. Anything else is guessed with charset-normalizer; since the
short transcripts of one language read cleanly in several code pages, cp1252 (the
Windows default for Western European languages, where old transcripts come from) wins
among the guesses that read the bytes equally cleanly, and the other readings are
named so a wrong guess is easy to spot and override with ``--encoding``.
"""

from __future__ import annotations

import codecs
import re

from qcode.importers._common import (
    Imported,
    ImportFailed,
    ImportOptions,
    clean_body,
    refuse_misnamed,
    relabel_turns,
    require_text,
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_PREFERRED = ("cp1252", "iso8859_15", "latin_1")
_GARBAGE = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str, float | None, list[str]]:
    """(text, encoding, confidence or None when certain, notes)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFailed(f"--encoding {encoding!r} is not an encoding Python knows",
                               "e.g. cp1252, latin-1, utf-16, mac-roman") from None
        try:
            return raw.decode(encoding), encoding, None, [f"read as {encoding} (--encoding)"]
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise ImportFailed(f"is not valid {encoding} (byte {exc.start}, line {line})",
                               "try another --encoding, or leave it out to let qcode guess"
                               ) from None
    for bom, name in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(name), name, None, ([] if name == "utf-8-sig"
                                                      else [f"read as {name} (byte-order mark)"])
            except UnicodeDecodeError:
                raise ImportFailed(f"starts like {name} but is not valid {name}",
                                   "give the real encoding with --encoding") from None
    if b"\x00" in raw[:65536]:
        raise ImportFailed("is not a text file (it contains NUL bytes)",
                           "import the transcript's text, or give --encoding utf-16")
    try:
        return raw.decode("utf-8"), "utf-8", None, []
    except UnicodeDecodeError:
        pass
    return _guess(raw)


def _guess(raw: bytes) -> tuple[str, str, float, list[str]]:
    from charset_normalizer import from_bytes

    results = list(from_bytes(raw))
    if not results:
        raise ImportFailed("is not text in any encoding qcode recognises",
                           "give the encoding with --encoding (e.g. cp1252), or save the "
                           "file as UTF-8")
    least_chaos = min(r.chaos for r in results)
    clean = [r for r in results if r.chaos <= least_chaos + 0.01]
    chosen = next((r for name in _PREFERRED for r in clean if r.encoding == name), clean[0])
    text = str(chosen)
    confidence = round(1.0 - float(chosen.chaos), 2)
    others = sorted({r.encoding for r in clean if r is not chosen and str(r) != text})
    note = (f"not UTF-8: read as {chosen.encoding} (guessed by charset-normalizer, "
            f"confidence {confidence:.2f})")
    if others:
        note += f"; {', '.join(others[:4])} would read it as cleanly"
    return text, chosen.encoding, confidence, [note]


def read(raw: bytes, options: ImportOptions, suffix: str = ".txt") -> Imported:
    if not raw:
        raise ImportFailed("is empty", "check that this is the transcript")
    refuse_misnamed(raw, expected="")
    text, encoding, confidence, notes = decode(raw, options.encoding)
    garbage = len(_GARBAGE.findall(text))
    if garbage > max(3, len(text) // 100):
        raise ImportFailed("does not look like text (it is full of control characters)",
                           "import the transcript's text file, or give the right --encoding")
    imported = Imported("", suffix.lstrip(".").lower(), notes=notes, encoding=encoding,
                        confidence=confidence)
    text = _front_matter(text, imported)
    body = clean_body(text, imported.notes)
    require_text(body, "file")
    imported.text = clean_body(relabel_turns(body, options.speaker_map, imported))
    return imported


def _front_matter(text: str, imported: Imported) -> str:
    """A Markdown transcript may bring front matter; its attributes are kept."""
    from qcode.format.text import normalize
    from qcode.format.transcripts import FrontMatterError, split_front_matter

    normalized = normalize(text)
    try:
        front, body, _line, _lines = split_front_matter(normalized)
    except FrontMatterError as exc:
        raise ImportFailed(f"has front matter that does not parse (line {exc.line}: "
                           f"{exc.message})", exc.hint or "fix or remove the front matter"
                           ) from None
    if front:
        imported.front_matter = dict(front)
        imported.notes.append("kept its front matter: " + ", ".join(front))
    return body
