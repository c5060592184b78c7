"""Locks: an exclusive lock on an open log while it is appended to, and one interactive
session per coder.

Both are advisory ``flock`` locks that the operating system releases when the process
ends, however it ends (a crash or ``kill -9`` included), so a stale lock never blocks
anyone.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from qcode.errors import QcodeError, WriteFailed

SESSIONS_DIR = Path(".qcode") / "sessions"


class _HasRoot(Protocol):
    @property
    def root(self) -> Path: ...


class FileLock:
    """An exclusive advisory lock on an open file, for the duration of a ``with``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> FileLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        else:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


class SessionLock:
    """One interactive session per coder: held while a session writes to the coder's log
    (the full-screen coder, line mode, reviews, adjudication into that coder).

    Operations that move or remove a coder's codings behind a session's back
    (re-anchoring, replacing a transcript, adjudicating into the coder) call
    ``ensure_free`` first: a session's screen would go stale.
    """

    def __init__(self, root: Path | str | _HasRoot, coder: str) -> None:
        folder = root if isinstance(root, Path | str) else root.root  # a path or a project
        self.root = Path(folder)
        self.path = self.root / SESSIONS_DIR / f"{coder}.lock"
        self.coder = coder
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        from qcode.format.files import open_private, private_folder

        # Never through a link: a committed `.qcode/sessions/x.lock -> ~/file` would have
        # us truncate that file and write our pid into it.
        try:
            private_folder(self.root, SESSIONS_DIR)
            fd = open_private(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a full disk, a read-only folder, .qcode a file
            raise WriteFailed.of(exc, self.path, "create the session lock") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise QcodeError(
                f"coder {self.coder!r} already has a `qcode code` session open (process "
                f"{holder})", "finish that session first, or code as another coder") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        except OSError as exc:
            os.close(fd)
            raise WriteFailed.of(exc, self.path, "write the session lock") from None
        self._fd = fd

    def ensure_free(self, why: str) -> None:
        """Raise unless no other session of this coder is open (checked by taking the
        lock for a moment)."""
        try:
            self.acquire()
        except QcodeError as exc:
            raise QcodeError(f"{exc.message}: {why}", "close that session first, then run "
                             "the command again") from None
        self.release()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
