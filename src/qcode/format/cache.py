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
run code. Nor may it change an answer: every entry carries an HMAC made with a key that
never leaves this machine (``cache.key`` in the user's cache folder, not in the project),
so an entry someone committed, edited or restored from another machine's CI cache is not
this machine's and counts as no entry, as does an unreadable, foreign or outdated one; it
is then rebuilt from the files. qcode never follows a symbolic link in ``.qcode/``.
Entries are written atomically (temp file + rename). Deleting ``.qcode/cache/`` changes
nothing but speed, and ``QCODE_NO_CACHE=1`` turns the cache off.

A cold start writes tens of megabytes of entries; inside ``Cache.deferred()`` they are
built and written when the block ends, by a forked child when a core is spare and the
command allows it (``writing_in_background``), while this process goes on to count and
print. The command waits for that child when it is done, and before it reads the cache
again; a child that fails leaves no entry (the temp file is
never renamed), which costs the next command speed only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qcode._version import __version__

CACHE_DIR = Path(".qcode") / "cache"
# Bump whenever what an entry holds, or how it is derived (parsing, segmentation, replay),
# changes: entries of another format or qcode version are ignored and replaced.
FORMAT = 4
RACY_WINDOW_NS = 2_000_000_000  # coarser than any filesystem's timestamp granularity
NO_CACHE_ENV = "QCODE_NO_CACHE"

# What reading an entry whose fields are not what qcode wrote (edited by hand, say) can
# raise; such an entry counts as no entry.
MALFORMED_ENTRY = (KeyError, IndexError, TypeError, ValueError, AttributeError)

_CACHEDIR_TAG = (b"Signature: 8a477f597d28d172789f06886806bc55\n"
                 b"# This folder is a cache made by qcode; deleting it loses nothing.\n")
_MAGIC = b"qcode-cache "  # then the entry's HMAC in hex, a newline, and the JSON
KEY_BYTES = 32


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
    missing, unreadable, read-only or forged: the answer is then simply "not cached"."""

    def __init__(self, root: Path, enabled: bool | None = None) -> None:
        self.root = Path(root)
        self.folder = self.root / CACHE_DIR
        if enabled is None:
            enabled = os.environ.get(NO_CACHE_ENV, "").strip() in ("", "0")
        self.enabled = enabled
        # Inside ``deferred()``: what builds each entry still to write, in order.
        self._pending: list[Callable[[], dict[str, dict[str, Any]]]] | None = None

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Write the entries saved in this block when it ends: by a forked child when a
        core is spare (this process goes on meanwhile), else here."""
        if self._pending is not None or not self.enabled:
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            if pending:
                self._write_pending(pending)

    def save_later(self, build: Callable[[], dict[str, dict[str, Any]]]) -> None:
        """Save the entries ``build()`` gives (name -> data, written in that order): at
        the end of a ``deferred()`` block, or now."""
        if self._pending is not None:
            self._pending.append(build)
            return
        for name, data in build().items():
            self.save(name, data)

    def _write_pending(self, pending: list[Callable[[], dict[str, dict[str, Any]]]]) -> None:
        from qcode.format.forking import spare_cores

        def write_all() -> None:
            for build in pending:
                for name, data in build().items():
                    self.save(name, data)

        if not _background or not spare_cores():
            write_all()
            return
        import sys

        sys.stdout.flush()  # a child never flushes what this process has buffered
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            write_all()
            return
        if pid == 0:  # pragma: no cover - the child, measured by its entries
            status = 1
            try:
                write_all()
                status = 0
            finally:
                os._exit(status)
        _writers.append(pid)
        global _waiting
        if not _waiting:
            import atexit

            atexit.register(wait_for_writers)
            _waiting = True

    def load(self, name: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        import orjson

        wait_for_writers()  # what a child is writing is read once it is written

        raw = self._read(name)
        if raw is None or not raw.startswith(_MAGIC):
            return None
        head, _, payload = raw.partition(b"\n")
        if not hmac.compare_digest(head[len(_MAGIC):], _mac(name, payload)):
            return None  # not written by qcode on this machine: never trusted
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        if (not isinstance(data, dict) or data.get("format") != FORMAT
                or data.get("qcode") != __version__):
            return None
        return data

    def save(self, name: str, data: dict[str, Any]) -> None:
        if not self.enabled:
            return
        if self._pending is not None:
            self._pending.append(lambda: {name: data})
            return
        import orjson

        from qcode.errors import QcodeError
        from qcode.format.files import atomic_write

        try:
            payload = orjson.dumps({"format": FORMAT, "qcode": __version__, **data})
            folder = self._prepare((CACHE_DIR / name).parent)
            atomic_write(folder / Path(name).name, _MAGIC + _mac(name, payload) + b"\n"
                         + payload, overwrite=True, durable=False)
        except (OSError, TypeError, QcodeError):
            # A read-only project, a full disk, a value JSON cannot hold, a link where
            # a folder should be: no cache, same results. (Not fsynced either: a lost
            # entry costs one slower run.)
            return

    def _read(self, name: str) -> bytes | None:
        """An entry's bytes: a regular file reached without any symbolic link."""
        from qcode.format.files import NOFOLLOW

        folder = self.root
        for part in (CACHE_DIR / name).parent.parts:
            folder = folder / part
            try:
                if not stat.S_ISDIR(os.lstat(folder).st_mode):  # a link or a file
                    return None
            except OSError:
                return None
        try:
            fd = os.open(folder / Path(name).name, os.O_RDONLY | os.O_NONBLOCK | NOFOLLOW)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO or a device would block
                return None
            with os.fdopen(os.dup(fd), "rb") as handle:
                return handle.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def _prepare(self, rel: Path) -> Path:
        from qcode.format.files import NOFOLLOW, private_folder

        fresh = not self.folder.is_dir()
        folder = private_folder(self.root, rel)
        if fresh:
            # Ignored by git even in projects whose .gitignore predates the cache, and
            # skipped by backup tools that honour the CACHEDIR.TAG convention.
            for marker, content in ((".gitignore", b"*\n"), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
                try:
                    fd = os.open(self.folder / marker,
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o644)
                except OSError:
                    continue  # there already (perhaps as a link: never written through)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
        return folder


# Children writing entries (``Cache.deferred``), waited for before this process reads the
# cache again or ends.
_writers: list[int] = []
_waiting = False
_background = False  # whether a child may write them: inside ``writing_in_background()``


@contextmanager
def writing_in_background() -> Iterator[None]:
    """Let deferred entries be written by a child during this block (a command), and wait
    for it when the block ends: whoever ran the command then finds the cache complete."""
    global _background
    if _background:
        yield
        return
    _background = True
    try:
        yield
    finally:
        _background = False
        wait_for_writers()


def wait_for_writers() -> None:
    while _writers:
        pid = _writers.pop()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            continue


def _mac(name: str, payload: bytes) -> bytes:
    """The entry's HMAC-SHA256 over its name and JSON, in hex."""
    message = name.encode("utf-8") + b"\0" + payload
    return hmac.new(machine_key(), message, hashlib.sha256).hexdigest().encode("ascii")


_KEY: bytes | None = None


def machine_key() -> bytes:
    """This user's secret for cache entries, made once: ``$XDG_CACHE_HOME/qcode/cache.key``
    (``~/.cache/qcode/cache.key``), mode 0600. Where it cannot be kept (a read-only home),
    a key for this process alone: the cache then lasts one command."""
    global _KEY
    if _KEY is None:
        _KEY = _load_or_make_key(key_path()) or secrets.token_bytes(KEY_BYTES)
    return _KEY


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qcode" / "cache.key"


def _load_or_make_key(path: Path) -> bytes | None:
    from qcode.format.files import NOFOLLOW

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            key = handle.read(KEY_BYTES + 1)
        if (not stat.S_ISREG(st.st_mode) or st.st_mode & 0o077
                or st.st_uid != os.getuid() or len(key) != KEY_BYTES):
            return None  # readable by others, or not ours: not a secret
        return key
    except OSError:
        return None
