"""Reading project files, and writing every file qcode writes: atomically (temp file +
rename), with the mode a new file should have, and never over the user's work."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from qcode.errors import QcodeError, UnsafePath, UsageError, WriteFailed
from qcode.problems import Problems


def read_text(path: Path, rel: str, problems: Problems, *, missing_rule: str = "file-missing",
              missing_hint: str = "create it or fix the path in qcode.yaml",
              encoding_rule: str = "file-encoding") -> str | None:
    """A project file's text, or None with the problem recorded (missing, unreadable,
    not UTF-8). Never raises for the file's content."""

    raw = read_bytes(path, rel, problems, missing_rule=missing_rule, missing_hint=missing_hint)
    return None if raw is None else decode_text(raw, rel, problems, encoding_rule)


def read_bytes(path: Path, rel: str, problems: Problems, *, missing_rule: str = "file-missing",
               missing_hint: str = "create it or fix the path in qcode.yaml") -> bytes | None:
    """A project file's bytes, or None with the problem recorded (missing, unreadable)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        problems.error(missing_rule, rel, None, f"{rel} does not exist", missing_hint)
        return None
    except OSError as exc:
        problems.error("file-unreadable", rel, None, f"cannot read {rel}: {exc.strerror}")
        return None


def decode_text(raw: bytes, rel: str, problems: Problems,
                encoding_rule: str = "file-encoding") -> str | None:
    """A project file's bytes as text, or None with the problem recorded (not UTF-8)."""
    from qcode.format.text import decode_utf8

    text, issue = decode_utf8(raw)
    if issue is not None:
        problems.error(encoding_rule, rel, issue.line, f"{rel} {issue.message}", issue.hint)
    return text


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse to write over a folder, or over an existing file unless ``overwrite``."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder", "give a file name")
    if path.exists() and not overwrite:
        raise QcodeError(f"{path} already exists", "choose another name, or add --force to "
                         "replace it")


@contextmanager
def atomic_output(path: Path, overwrite: bool = False, durable: bool = True
                  ) -> Iterator[IO[bytes]]:
    """The one way qcode writes a whole file: a binary file to write ``path`` through.

    It is a temp file in the same folder, renamed over ``path`` when the block ends, so a
    reader sees the old file or the new one, never half of one; the block failing (a full
    disk, a crash) leaves nothing behind, folders made for it included. ``durable`` syncs
    the data and the folder before and after the rename (not for the cache, whose loss
    costs only time). The file gets the mode a new file would (``0666`` less the umask),
    or keeps the mode of the file it replaces. Never over a file without ``overwrite``.
    """
    path = Path(path)
    check_output(path, overwrite)
    made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), mode_for(path))
            if durable:
                os.fsync(handle.fileno())
        if path.exists() and not overwrite:
            raise QcodeError(f"{path} already exists", "qcode never overwrites your files")
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        for folder in made:  # deepest first; only the ones made here, and only when empty
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(exc, OSError):  # the disk is full, a folder is read-only, ...
            raise WriteFailed.of(exc, path) from None
        raise
    if durable:
        sync_folder(path.parent)


def atomic_write(path: Path, data: bytes | str, overwrite: bool = False,
                 durable: bool = True) -> None:
    """Write ``data`` (text is written as UTF-8 with ``\\n`` line ends) to ``path``
    atomically (see ``atomic_output``)."""
    with atomic_output(path, overwrite, durable) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def atomic_write_all(files: Sequence[tuple[Path, bytes | str | Callable[[IO[bytes]], None]]],
                     overwrite: bool = False) -> None:
    """Write several files as one: every one is written to its temp file first and each
    is renamed into place only when all are complete, so a failure while writing (a
    full disk) leaves none of them behind. Every target is checked before a byte is
    written (see ``atomic_output``). A file's content is bytes, text (UTF-8), or a
    function that writes it to the handle it is given (streamed, never all in memory)."""
    seen: set[Path] = set()
    for path, _data in files:
        check_output(Path(path), overwrite)
        if Path(path).resolve() in seen:
            raise UsageError(f"{path} is named for two outputs", "give each its own file")
        seen.add(Path(path).resolve())
    with ExitStack() as renames:  # on leaving: each file renamed into place, last first
        handles = []
        for path, data in files:
            handle = renames.enter_context(atomic_output(Path(path), overwrite))
            if callable(data):
                data(handle)
            else:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handles.append(handle)
        for handle in handles:  # a full disk shows here, before any file is renamed
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str, *, overwrite: bool = False) -> None:
    """``atomic_write`` for text: what the format's files are written with."""
    atomic_write(path, text, overwrite)


def mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777  # a replaced file keeps its mode
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask (read once: setting it is the only way to read it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


def sync_folder(folder: Path) -> None:
    """Make the rename durable too (where the platform lets a folder be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- qcode's own folder -------------------------------------------------------------------
# ``.qcode/`` (the cache, session locks) comes with a cloned repository if someone
# committed it. qcode writes there without the user naming a path, so it must never
# follow a link out of it: every component is checked to be a real folder, and files in
# it are opened without following a link at the last step either.

def private_folder(root: Path, rel: Path | str) -> Path:
    """``root/rel`` as a real folder, made if missing; refused (``UnsafePath``) when any
    component below ``root`` is a symbolic link or not a folder."""
    path = Path(root)
    for part in Path(rel).parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            try:
                os.mkdir(path)
                continue
            except FileExistsError:  # made at the same moment by another qcode
                mode = os.lstat(path).st_mode
        shown = os.path.relpath(path, root)
        if stat.S_ISLNK(mode):
            raise UnsafePath(f"{shown} is a symbolic link; qcode never follows links in "
                             "its own folder .qcode/",
                             f"delete the link (rm {shown}); qcode makes a real folder "
                             "there")
        if not stat.S_ISDIR(mode):
            raise UnsafePath(f"{shown} is a file, not a folder; qcode keeps its cache "
                             "and locks there", f"move the file out of the way (or delete "
                             f"{shown})")
    return path


def private_folder_links(root: Path, rel: Path | str = ".qcode") -> list[str]:
    """The symbolic links in qcode's own folder (``rel`` itself included), as paths
    relative to ``root``: qcode never follows them, and ``check`` names them."""
    top = Path(root) / rel
    found: list[str] = []
    if top.is_symlink():
        return [Path(rel).as_posix()]
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                found.append(Path(os.path.relpath(entry.path, root)).as_posix())
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
    return sorted(found)


NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_private(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` of a file in qcode's own folder, never through a symbolic link."""
    try:
        return os.open(path, flags | NOFOLLOW, mode)
    except OSError:
        if os.path.islink(path):
            raise UnsafePath(f"{path.name} in {path.parent.name}/ is a symbolic link; "
                             "qcode never follows links in its own folder .qcode/",
                             f"delete it (rm {path})") from None
        raise
