"""The one family of errors the library raises for the user to see.

The CLI turns every ``QcodeError`` into a one- or two-line message and an exit code in
one place (``qcode.cli.app.main``); anything else is a bug and keeps its traceback
under ``--debug``.
"""

from __future__ import annotations

import errno as _errno
import os


class QcodeError(Exception):
    """A problem the user can fix. ``hint`` says how; ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ProjectNotFound(QcodeError):
    """No ``qcode.yaml`` where we looked: a usage problem, like a missing argument."""

    exit_code = 2


class UsageError(QcodeError):
    """The command was asked for something it cannot do with these arguments."""

    exit_code = 2


class InvalidProject(QcodeError):
    """A project file is broken in a way that stops this command; ``problems`` has details."""

    def __init__(self, message: str, problems: list | None = None, hint: str | None = None):
        super().__init__(message, hint or "run `qcode check` to see every problem")
        self.problems = problems or []


class InvalidKey(QcodeError):
    """A pseudonymisation key file that cannot be used as it is (the message names the
    file and line)."""


class UnknownName(QcodeError):
    """An unknown code, transcript or coder, with the nearest known names."""

    def __init__(self, kind: str, name: str, suggestions: list[str] | None = None,
                 hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggestions or []
        message = f"unknown {kind} {name!r}"
        if self.suggestions:
            message += f"; did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
        super().__init__(message, hint)


class NotCodable(QcodeError):
    """A grouping code (``codable: false``) was used to code text."""


class PatternTooSlow(QcodeError):
    """A ``regex`` pattern (an auto-coding rule, a search) ran past its time budget
    (``qcode.format.matching.regex_budget``); nothing was proposed, coded or shown."""


class UnsafePath(QcodeError):
    """A path qcode would have to follow out of its place: a symbolic link inside
    ``.qcode/``, or a project folder that leads outside the project."""


class WriteFailed(QcodeError):
    """A file or folder could not be written: a full disk, a read-only file system, no
    permission, a file where a folder should be (or the other way round). Raised after
    whatever was begun is undone, so the message can say that nothing was written."""

    def __init__(self, message: str, hint: str | None = None, path: str = "",
                 errno: int | None = None) -> None:
        super().__init__(message, hint)
        self.path = path
        self.errno = errno

    @classmethod
    def of(cls, exc: OSError, path: object, doing: str = "write") -> WriteFailed:
        """The error for ``exc``, raised while trying to ``doing`` ``path`` (the path as
        the user knows it: relative to the project where it is in one)."""
        shown = str(path)
        reason = _WRITE_REASONS.get(exc.errno or 0)
        if reason is None:
            what, hint = (exc.strerror or str(exc)).lower(), (
                "nothing was written; check the free space and the folder's permissions")
        else:
            what, hint = reason
        if exc.errno in (_errno.ENOTDIR, _errno.EEXIST) and exc.filename:
            blocker = file_in_the_way(exc.filename)
            if blocker:
                what = f"{blocker} is a file, not a folder"
        return cls(f"cannot {doing} {shown}: {what}", hint, shown, exc.errno)


class LogWriteError(WriteFailed):
    """A coding log could not be appended to (permissions, disk full, lock refused)."""


class InternalError(Exception):
    """A bug caught at a boundary, such as a crash inside the full-screen app.

    ``message`` is safe to print: it names the exception's type and where it was raised,
    never the project's data. ``original`` is kept for ``--debug``.
    """

    def __init__(self, message: str, original: BaseException) -> None:
        super().__init__(message)
        self.message = message
        self.original = original


_NOTHING = "nothing was written"
# What each way a write can fail means to the user, and what to do about it.
_WRITE_REASONS: dict[int, tuple[str, str]] = {
    _errno.ENOSPC: ("no space left on the disk", f"{_NOTHING}; free some space and run the "
                    "command again"),
    getattr(_errno, "EDQUOT", -1): ("the disk quota is used up", f"{_NOTHING}; free some space (or ask for a "
                    "larger quota) and run the command again"),
    _errno.EROFS: ("the file system is read-only", f"{_NOTHING}; the folder is read-only: "
                   "work in a writable copy of the project"),
    _errno.EACCES: ("permission denied", f"{_NOTHING}; the folder is read-only for you: check "
                    "its permissions (ls -l)"),
    _errno.EPERM: ("the operation is not permitted", f"{_NOTHING}; check the file's and the "
                   "folder's permissions"),
    _errno.ENOTDIR: ("a part of the path is a file, not a folder", f"{_NOTHING}; a folder is "
                     "needed there: choose another path, or move the file out of the way"),
    _errno.EEXIST: ("a file is in the way of a folder", f"{_NOTHING}; a folder is needed "
                    "there: choose another path, or move the file out of the way"),
    _errno.EISDIR: ("it is a folder, not a file", f"{_NOTHING}; move the folder out of the way "
                    "or choose another name"),
    _errno.EIO: ("an input/output error (a failing disk, a lost network drive?)",
                 f"{_NOTHING}; check the disk, then run the command again"),
}


def file_in_the_way(path: str | os.PathLike[str]) -> str | None:
    """``path`` itself, or the nearest folder above it, when that is a file: what stops
    a folder from being made there."""
    here = os.fspath(path)
    while here:
        if os.path.exists(here):
            return None if os.path.isdir(here) else here
        parent = os.path.dirname(here)
        here = parent if parent != here else ""
    return None
