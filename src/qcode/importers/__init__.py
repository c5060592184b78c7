"""Readers that turn transcript files from other programs into transcript bodies.

One module per format; this registry picks the reader by the file's extension. Every
reader is a pure function ``read(raw: bytes, options) -> Imported`` that returns the
normalised body with notes and warnings, or raises ``ImportFailed`` with one clear line.
Nothing here writes a file; ``qcode.cli.transcript_import`` does that.

| extension | reader | library |
|---|---|---|
| ``.docx`` | ``word`` | python-docx |
| ``.odt`` | ``odt`` | defusedxml |
| ``.vtt``, ``.srt`` | ``subtitles`` | webvtt-py |
| ``.txt``, ``.md``, ``.markdown`` | ``plaintext`` | charset-normalizer (non-UTF-8) |
| ``.rtf`` | ``rtf`` | striprtf |
"""

from __future__ import annotations

import importlib
from pathlib import Path

from qcode.importers._common import (
    MAX_FILE_BYTES,
    Imported,
    ImportFailed,
    ImportOptions,
    load_speaker_map,
    require_size,
)

# extension -> (module, whether ``read`` takes the suffix)
READERS: dict[str, tuple[str, bool]] = {
    ".docx": ("word", False),
    ".odt": ("odt", False),
    ".vtt": ("subtitles", True),
    ".srt": ("subtitles", True),
    ".txt": ("plaintext", True),
    ".md": ("plaintext", True),
    ".markdown": ("plaintext", True),
    ".rtf": ("rtf", False),
}
SUFFIXES = tuple(READERS)


def read_bytes(raw: bytes, suffix: str, options: ImportOptions | None = None) -> Imported:
    """Read a file's bytes as the format its extension ``suffix`` names."""
    options = options or ImportOptions()
    suffix = suffix.lower()
    if suffix not in READERS:
        raise ImportFailed(
            f"has an extension qcode cannot import ({suffix or 'none'})",
            f"qcode imports {', '.join(SUFFIXES)}; for a .doc or .pdf, save it as .docx first")
    if options.encoding and suffix not in (".txt", ".md", ".markdown", ".vtt", ".srt"):
        raise ImportFailed(f"--encoding applies only to text formats, not {suffix}",
                           "leave --encoding out for this file")
    name, takes_suffix = READERS[suffix]
    module = importlib.import_module(f"qcode.importers.{name}")
    imported: Imported = (module.read(raw, options, suffix) if takes_suffix
                          else module.read(raw, options))
    require_size(len(imported.text))
    return imported


def read_file(path: Path, options: ImportOptions | None = None) -> Imported:
    """Read one file; ``ImportFailed`` says what is wrong (the caller names the file)."""
    path = Path(path)
    if path.suffix.lower() not in READERS:
        read_bytes(b"", path.suffix)  # raises the unsupported-extension message
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailed(f"is {size // (1024 * 1024)} MB, too big for a transcript",
                               "split it into one file per interview")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed("does not exist", "check the path") from None
    except IsADirectoryError:
        raise ImportFailed("is a folder, not a file") from None
    except OSError as exc:
        raise ImportFailed(f"cannot be read ({exc.strerror})") from None
    return read_bytes(raw, path.suffix, options)


__all__ = ["SUFFIXES", "ImportFailed", "ImportOptions", "Imported", "load_speaker_map",
           "read_bytes", "read_file"]
