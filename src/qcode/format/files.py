"""Writing files safely: atomically (temp file + rename) and never over the user's work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from qcode.errors import QcodeError
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


def atomic_write_text(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``.

    A reader sees the old file or the new one, never half of one. Without ``overwrite``
    an existing file is refused.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise QcodeError(f"{path} already exists", "qcode never overwrites your files")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if not overwrite and path.exists():
            raise QcodeError(f"{path} already exists", "qcode never overwrites your files")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_project(directory: Path, name: str | None = None) -> list[Path]:
    """Lay out a new project in ``directory``; refuses if any file it would write exists."""
    from qcode.format import templates
    from qcode.format.config import CONFIG_NAME

    directory = Path(directory)
    name = name or directory.resolve().name or "qcode project"
    files = {
        directory / CONFIG_NAME: templates.CONFIG.format(name=_yaml_text(name)),
        directory / "codebooks" / "codebook.yaml": templates.CODEBOOK.format(
            name=_yaml_text(name)),
        directory / "transcripts" / ".gitkeep": "",
        directory / "codings" / ".gitkeep": "",
        directory / ".gitignore": templates.GITIGNORE,
    }
    if (directory / CONFIG_NAME).exists():
        raise QcodeError(f"{directory / CONFIG_NAME} already exists: this is a project already",
                         "choose an empty folder for `qcode init`")
    clashes = [p for p in files if p.exists() and p.name != ".gitignore"]
    if clashes:
        raise QcodeError(f"{clashes[0]} already exists; nothing was created",
                         "choose an empty folder for `qcode init`")
    created = []
    for path, text in files.items():
        if path.name == ".gitignore" and path.exists():
            continue  # the user's own .gitignore stays as it is
        atomic_write_text(path, text)
        created.append(path)
    return created


def _yaml_text(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar
