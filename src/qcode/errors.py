"""The one family of errors the library raises for the user to see.

The CLI turns every ``QcodeError`` into a one- or two-line message and an exit code in
one place (``qcode.cli.app.main``); anything else is a bug and keeps its traceback
under ``--debug``.
"""

from __future__ import annotations


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


class UnsafePath(QcodeError):
    """A path qcode would have to follow out of its place: a symbolic link inside
    ``.qcode/``, or a project folder that leads outside the project."""


class LogWriteError(QcodeError):
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
