"""What qcode derives from project files, kept under ``.qcode/cache/`` and never stale.

Reading 1,000 transcripts and replaying 200,000 logged codings takes seconds; what qcode
derives from them (front matter, passages, the current codings) is kept here so that the
next command re-reads only what changed. An entry is used only while its source file is
provably the one it was made from:

- the file's stat (size, mtime and ctime in nanoseconds, inode) is unchanged, and the
  entry was not written within ``RACY_WINDOW_NS`` of the file's last change (git's "racy
  clean" rule: a rewrite in the same clock tick as the read would leave the stat as it
  was, so such entries are proven by content next time); or
- the SHA-256 of the bytes the entry covers is unchanged.

Entries are JSON, never pickle: a cache that came with a cloned folder must not be able to
run code. They are written atomically (temp file + rename); an unreadable, foreign or
outdated entry is ignored and replaced. Deleting ``.qcode/cache/`` changes nothing but
speed, and ``QCODE_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qcode._version import __version__

CACHE_DIR = Path(".qcode") / "cache"
# Bump whenever what an entry holds, or how it is derived (parsing, segmentation, replay),
# changes: entries of another format or qcode version are ignored and replaced.
FORMAT = 3
RACY_WINDOW_NS = 2_000_000_000  # coarser than any filesystem's timestamp granularity
NO_CACHE_ENV = "QCODE_NO_CACHE"

# What reading an entry whose fields are not what qcode wrote (edited by hand, say) can
# raise; such an entry counts as no entry.
MALFORMED_ENTRY = (KeyError, IndexError, TypeError, ValueError, AttributeError)

_CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                 b"# This folder is a cache made by qcode; deleting it loses nothing.\n")


@dataclass(frozen=True, slots=True)
class Stamp:
    """What the file system says about a file: any write changes it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)

    def to_json(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ctime_ns, self.ino]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def source_record(stamp: Stamp, digest: str) -> dict[str, Any]:
    """How an entry remembers its source: stamp, content hash, and whether the stamp
    alone may be trusted next time (not when the file changed just before now)."""
    racy = stamp.mtime_ns >= time.time_ns() - RACY_WINDOW_NS
    return {"stamp": stamp.to_json(), "sha256": digest, "racy": racy}


def stamp_proves(record: Any, stamp: Stamp) -> bool:
    """True when ``stamp`` alone proves the source unchanged since ``record`` was made."""
    return (isinstance(record, dict) and record.get("racy") is False
            and record.get("stamp") == stamp.to_json())


class Cache:
    """The cache folder of one project. Every method is safe to call when it is off,
    missing, unreadable or read-only: the answer is then simply "not cached"."""

    def __init__(self, root: Path, enabled: bool | None = None) -> None:
        self.folder = Path(root) / CACHE_DIR
        if enabled is None:
            enabled = os.environ.get(NO_CACHE_ENV, "").strip() in ("", "0")
        self.enabled = enabled

    def load(self, name: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        import orjson

        try:
            data = orjson.loads((self.folder / name).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("qcode") != __version__):
            return None
        return data

    def save(self, name: str, data: dict[str, Any]) -> None:
        if not self.enabled:
            return
        import orjson

        from qcode.errors import QcodeError
        from qcode.format.files import atomic_write

        target = self.folder / name
        try:
            payload = orjson.dumps({"format": FORMAT, "qcode": __version__, **data})
            self._prepare(target.parent)
            atomic_write(target, payload, overwrite=True, durable=False)
        except (OSError, TypeError, QcodeError):
            # A read-only project, a full disk, a value JSON cannot hold: no cache, same
            # results. (Not fsynced either: a lost entry costs one slower run.)
            return

    def _prepare(self, folder: Path) -> None:
        if folder.is_dir():
            return
        folder.mkdir(parents=True, exist_ok=True)
        # Ignored by git even in projects whose .gitignore predates the cache, and
        # skipped by backup tools that honour the CACHEDIR.TAG convention.
        for name, content in ((".gitignore", b"*\n"), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            marker = self.folder / name
            if not marker.exists():
                marker.write_bytes(content)
