"""Several project files replaced or removed as one, surviving a crash (``kill -9``
included): a write-ahead journal under ``.qcode/journal/<id>/``.

Every new file is written and fsynced into the journal folder first; then a manifest
naming each step is written and fsynced (the commit point); only then is each staged file
renamed over its target and each removed file unlinked; last the journal folder goes.
A crash before the manifest leaves every file old (the staged files are discarded); a
crash after it leaves a manifest that ``recover`` finishes, so every file becomes new.
``recover`` runs whenever a project is opened, so any qcode command sees the project
wholly old or wholly new. Each step is idempotent: a staged file already renamed is
gone from the journal, a removed file is already absent.

A transaction in progress holds an advisory lock on ``lock`` in its folder (released by
the operating system when the process dies), so ``recover`` never takes away the staged
files of a transaction another process is still writing.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from qcode.errors import QcodeError, UnsafePath, WriteFailed
from qcode.format.files import mode_for, open_private, private_folder, sync_folder

JOURNAL_DIR = Path(".qcode") / "journal"
MANIFEST = "manifest.json"
LOCK = "lock"

Content = bytes | Callable[[IO[bytes]], None]


class Transaction:
    """Files replaced or removed as one (see the module's docstring). Use as a context
    manager, or call ``commit``; leaving the block without committing discards what was
    staged and changes nothing."""

    def __init__(self, root: Path, what: str) -> None:
        self.root = Path(root).resolve()
        self.what = what
        self.id = secrets.token_hex(6)
        self.steps: list[dict[str, Any]] = []
        self._targets: set[str] = set()
        self._folder: Path | None = None
        self._lock_fd: int | None = None
        self.committed = False

    # -- staging -------------------------------------------------------------------------

    def replace(self, path: Path, data: Content) -> None:
        """Stage the new content of ``path`` (written and fsynced now, put in place by
        ``commit``). The file keeps its mode; a new file gets the mode the umask gives."""
        rel = self._claim(path)
        folder = self._open()
        staged = f"{len(self.steps)}.new"
        target = self.root / rel
        if target.is_dir():
            raise QcodeError(f"{rel} is a folder, not a file", "move it out of the way")
        try:
            fd = open_private(folder / staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                if callable(data):
                    data(handle)
                else:
                    handle.write(data)
                handle.flush()
                os.fchmod(handle.fileno(), mode_for(target))
                os.fsync(handle.fileno())
        except OSError as exc:
            raise WriteFailed.of(exc, rel, "stage the new") from None
        self.steps.append({"op": "replace", "path": rel, "staged": staged})

    def remove(self, path: Path) -> None:
        """Stage the removal of ``path`` (done by ``commit``; a missing file is fine)."""
        rel = self._claim(path)
        self._open()
        self.steps.append({"op": "remove", "path": rel})

    def _claim(self, path: Path) -> str:
        if self.committed:
            raise QcodeError("the transaction was already committed")
        rel = inside_project(self.root, path)
        if rel in self._targets:
            raise QcodeError(f"{rel} is named twice in one transaction",
                             "replace or remove each file once")
        self._targets.add(rel)
        return rel

    def _open(self) -> Path:
        if self._folder is None:
            folder = private_folder(self.root, JOURNAL_DIR / self.id)
            try:
                fd = open_private(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                _lock(fd, block=True)
            except OSError as exc:
                raise WriteFailed.of(exc, JOURNAL_DIR / self.id, "write to") from None
            self._folder, self._lock_fd = folder, fd
        return self._folder

    # -- committing ----------------------------------------------------------------------

    def commit(self) -> list[str]:
        """Write the manifest (from here on the change happens, crash or not), carry it
        out and delete the journal; returns the paths changed."""
        if self.committed:
            raise QcodeError("the transaction was already committed")
        if not self.steps:
            self.committed = True
            return []
        folder = self._open()
        manifest = {"what": self.what, "steps": self.steps}
        try:
            tmp = folder / (MANIFEST + ".tmp")
            fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, folder / MANIFEST)
            sync_folder(folder)
        except OSError as exc:
            raise WriteFailed.of(exc, JOURNAL_DIR / self.id / MANIFEST) from None
        self.committed = True
        done = _carry_out(self.root, folder, manifest)
        self._close(delete=True)
        return done

    def discard(self) -> None:
        """Drop what was staged; nothing in the project changed."""
        if not self.committed:
            self._close(delete=True)

    def _close(self, delete: bool) -> None:
        if self._folder is not None and delete:
            _delete_folder(self._folder)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
        self._folder, self._lock_fd = None, None

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if not self.committed:
            self.discard()
        elif self._folder is not None:  # the carrying out failed half way: recover finishes
            self._close(delete=False)


def inside_project(root: Path, path: Path) -> str:
    """``path`` relative to the project ``root`` (POSIX), refused (``UnsafePath``) when it
    is outside the project (a link in between included) or inside qcode's journal."""
    root = Path(root).resolve()
    path = Path(path)
    full = path if path.is_absolute() else root / path
    try:
        parent = full.parent.resolve()
        rel = (parent / full.name).relative_to(root)
    except (ValueError, OSError):
        raise UnsafePath(f"{path} is outside the project {root}",
                         "qcode changes only files inside the project") from None
    if not rel.parts or rel.parts[0] in ("..",) or full.name in ("", ".", ".."):
        raise UnsafePath(f"{path} is not a file inside the project",
                         "name a file inside the project")
    if Path(*rel.parts[:2]) == JOURNAL_DIR:
        raise UnsafePath(f"{rel} is inside qcode's journal", "name a project file")
    return rel.as_posix()


def _carry_out(root: Path, folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Do every step of a committed manifest (again: each step is idempotent)."""
    done: list[str] = []
    synced: set[Path] = set()
    for step in manifest["steps"]:
        rel = inside_project(root, Path(step["path"]))
        target = root / rel
        try:
            if step["op"] == "replace":
                staged = folder / step["staged"]
                if os.path.lexists(staged):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, target)
                    done.append(rel)
            elif os.path.lexists(target):
                os.unlink(target)
                done.append(rel)
        except OSError as exc:
            raise WriteFailed(f"cannot finish `{manifest['what']}` on {rel}: "
                              f"{(exc.strerror or str(exc)).lower()}",
                              "fix the cause (free space, permissions) and run any qcode "
                              "command in the project: it finishes the change") from None
        synced.add(target.parent)
    for parent in synced:
        sync_folder(parent)
    return done


def recover(root: Path) -> list[str]:
    """Finish or discard what a crash left in ``.qcode/journal``: a committed manifest is
    carried out, staged files without one are deleted. Returns the project paths changed.
    Costs one ``lstat`` when there is no journal (the usual case)."""
    root = Path(root)
    top = root / JOURNAL_DIR
    try:
        if not stat.S_ISDIR(os.lstat(top).st_mode):
            return []  # a link or a file there is named by `qcode check`, never followed
    except OSError:
        return []
    done: list[str] = []
    for entry in sorted(os.scandir(top), key=lambda e: e.name):
        if not entry.is_dir(follow_symlinks=False):
            continue
        folder = Path(entry.path)
        try:
            fd = open_private(folder / LOCK, os.O_RDWR)
        except (OSError, UnsafePath):
            fd = None  # no lock file: a transaction that never staged, or half deleted
        try:
            if fd is not None and not _lock(fd, block=False):
                continue  # another process is writing this transaction right now
            manifest = _read_manifest(folder)
            if manifest is not None:
                done += _carry_out(root.resolve(), folder, manifest)
            _delete_folder(folder)
        finally:
            if fd is not None:
                os.close(fd)
    with suppress(OSError):
        top.rmdir()
    return done


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        raw = (folder / MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteFailed.of(exc, folder / MANIFEST, "read") from None
    try:
        manifest = json.loads(raw)
        steps = manifest["steps"]
        if not all(isinstance(s, dict) and isinstance(s.get("path"), str)
                   and s.get("op") in ("replace", "remove") for s in steps):
            raise ValueError("bad step")
    except (ValueError, KeyError, TypeError):
        # Written to a temp file and renamed, a manifest is whole or absent: this one was
        # edited by hand, and guessing what it meant could destroy work.
        raise QcodeError(f"{folder / MANIFEST} is not a manifest qcode wrote",
                         "look at it and the files beside it, then delete the folder"
                         ) from None
    return dict(manifest)


def _lock(fd: int, block: bool) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _delete_folder(folder: Path) -> None:
    """Delete a journal folder: the manifest first (its steps are done, and a file it
    removed must not be removed again if the user makes it anew), the lock last."""
    with suppress(FileNotFoundError):
        names = sorted(os.listdir(folder), key=lambda n: (n != MANIFEST, n == LOCK))
        for name in names:
            with suppress(FileNotFoundError):
                os.unlink(folder / name)
        os.rmdir(folder)
