"""Writing memo files (``memos/*.md``; the format is ``qcode.format.memos``).

A memo is replaced only in the file it was read from, and only while that file still
holds the memo as it was read; a new memo gets a file name no other file has. So two
people (or two windows) writing memos never lose each other's text silently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from qcode.errors import QcodeError
from qcode.format.files import atomic_write_text
from qcode.format.memos import MEMO_SUFFIX, Memo, MemoAbout, parse_memo, render_memo
from qcode.problems import Problems


def now_stamp() -> str:
    """The current time as an ISO timestamp in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def save_memo(root: Path, folder: str, about: MemoAbout, author: str | None, text: str,
              existing: Memo | None, stamp: str | None = None) -> Path:
    """Write the memo on ``about`` by ``author`` with body ``text``: into ``existing``'s
    file (keeping its ``created``) or a new file in ``folder`` (relative to ``root``).
    Returns the file written."""
    stamp = stamp or now_stamp()
    if existing is not None:
        path = root / existing.file
        _still_the_same(path, existing)
        atomic_write_text(path, render_memo(about, author, existing.created, stamp, text),
                          overwrite=True)
        return path
    path = new_memo_path(root / folder, about, author)
    atomic_write_text(path, render_memo(about, author, stamp, stamp, text))
    return path


def new_memo_path(folder: Path, about: MemoAbout, author: str | None) -> Path:
    """A file name for a new memo that no file has: ``<kind>-<target>.md``; when that is
    taken (another author's memo on the same target), ``<kind>-<target>--<author>.md``;
    then a number."""
    stem = about.file_stem
    names = [stem] + ([f"{stem}--{author}"] if author else [])
    for name in names:
        if not (folder / f"{name}{MEMO_SUFFIX}").exists():
            return folder / f"{name}{MEMO_SUFFIX}"
    number = 2
    while (folder / f"{names[-1]}-{number}{MEMO_SUFFIX}").exists():
        number += 1
    return folder / f"{names[-1]}-{number}{MEMO_SUFFIX}"


def _still_the_same(path: Path, memo: Memo) -> None:
    """Refuse to replace a memo file that changed since it was read (edited in another
    window while the editor was open, say)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    now = parse_memo(text, memo.file, Problems()) if text is not None else None
    if now != memo:
        raise QcodeError(f"{memo.file} changed while the memo was being written; nothing "
                         "was saved", "run the command again to edit the memo as it is now")
