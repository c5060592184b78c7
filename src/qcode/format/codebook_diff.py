"""What changed between two versions of a codebook (``qcode codebook diff``).

Each side is a codebook file or a git revision of the project's codebook file. Codes are
matched by id, and through ``aliases``: a code of the new side whose aliases hold an id
the old side had and the new one has not was renamed from it (or, when the code existed
before, had that code merged into it). A code of the old side that the new side can no
longer resolve was removed.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qcode.errors import QcodeError
from qcode.format.codebook import Code, Codebook, codebook_from_document
from qcode.format.yamlio import YamlProblem, load_yaml_file, parse_yaml
from qcode.problems import Problems

DEFINITION_FIELDS = ("description", "include", "exclude", "examples")


@dataclass
class CodebookDiff:
    """The changes from codebook ``old`` to codebook ``new`` (each list in codebook order)."""

    old: str  # where each side came from: a file or ``REV:path``
    new: str
    old_version: str
    new_version: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[dict[str, str]] = field(default_factory=list)  # {from, to}
    merged: list[dict[str, str]] = field(default_factory=list)  # {from, into}
    moved: list[dict[str, str | None]] = field(default_factory=list)  # {code, from, to}
    definitions: list[dict[str, object]] = field(default_factory=list)  # {code, fields}
    labels: list[dict[str, str]] = field(default_factory=list)  # {code, from, to}
    keys: list[dict[str, str | None]] = field(default_factory=list)  # {code, from, to}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.merged or self.moved
                    or self.definitions or self.labels or self.keys)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def diff_codebooks(old: Codebook, new: Codebook, old_name: str, new_name: str
                   ) -> CodebookDiff:
    diff = CodebookDiff(old_name, new_name, old.version, new.version)
    new_of: dict[str, str] = {}  # old id -> its id in the new codebook
    for code_id in old.ids:
        if new.get(code_id) is not None:
            new_of[code_id] = code_id
            continue
        target = new.resolve(code_id)
        if target is None:
            diff.removed.append(code_id)
            continue
        new_of[code_id] = target.id
        if old.get(target.id) is None and not any(r["to"] == target.id for r in diff.renamed):
            diff.renamed.append({"from": code_id, "to": target.id})
        else:
            diff.merged.append({"from": code_id, "into": target.id})
    matched = set(new_of.values())
    diff.added = [code_id for code_id in new.ids if code_id not in matched]
    renamed_from = {r["to"]: r["from"] for r in diff.renamed}
    for code_id in new.ids:
        before_id = code_id if old.get(code_id) is not None else renamed_from.get(code_id)
        if before_id is None:
            continue
        before, after = old.get(before_id), new.get(code_id)
        assert before is not None and after is not None
        old_parent = old.parent_of.get(before_id)
        old_parent = new_of.get(old_parent, old_parent) if old_parent else None
        if old_parent != new.parent_of.get(code_id):
            diff.moved.append({"code": code_id, "from": old_parent,
                               "to": new.parent_of.get(code_id)})
        fields = [name for name in DEFINITION_FIELDS if _field(before, name) != _field(after, name)]
        if fields:
            diff.definitions.append({"code": code_id, "fields": fields})
        if before.label != after.label:
            diff.labels.append({"code": code_id, "from": before.label, "to": after.label})
        if before.key != after.key:
            diff.keys.append({"code": code_id, "from": before.key, "to": after.key})
    return diff


def _field(code: Code, name: str) -> object:
    value = getattr(code, name)
    return [item.strip() for item in value] if isinstance(value, list) else (value or "").strip()


def codebook_from_text(text: str, name: str) -> Codebook:
    """A codebook parsed from ``text`` (a revision's file); refused with the first error
    when it is no readable codebook."""
    problems = Problems()
    try:
        doc = parse_yaml(text)
    except YamlProblem as exc:
        raise QcodeError(f"{name}:{exc.line}: {exc.message}" if exc.line else
                         f"{name}: {exc.message}") from None
    return _readable(codebook_from_document(doc, name, problems), name, problems)


def read_codebook_file(path: Path, name: str) -> Codebook:
    problems = Problems()
    doc = load_yaml_file(path, name, problems)
    codebook = None if doc is None else codebook_from_document(doc, name, problems)
    return _readable(codebook, name, problems)


def _readable(codebook: Codebook | None, name: str, problems: Problems) -> Codebook:
    if codebook is None:
        first = problems.errors[0] if problems.errors else None
        raise QcodeError(f"{name} is not a readable codebook"
                         + (f": {first.location()}: {first.message}" if first else ""),
                         "`qcode check` explains a codebook's errors")
    return codebook


def read_codebook_revision(root: Path, revision: str, rel: str) -> Codebook:
    """The project's codebook file (``rel``, relative to the project ``root``) as it was
    at a git ``revision``."""
    name = f"{revision}:{rel}"
    inside = _git(root, ["rev-parse", "--is-inside-work-tree"])
    if inside is None or inside.strip() != "true":
        raise QcodeError(f"{revision!r} is not a file, and {root} is not in a git repository "
                         "to read it as a revision", "name a codebook file, or commit the "
                         "project to git")
    if _git(root, ["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"]) is None:
        raise QcodeError(f"{revision!r} is neither a file nor a git revision",
                         "name a codebook file, a commit, a tag or a branch (e.g. HEAD~1)")
    text = _git(root, ["show", f"{revision}:./{rel}"])
    if text is None:
        raise QcodeError(f"{rel} is not in git revision {revision!r}",
                         "name an earlier codebook file, or a revision that has it")
    return codebook_from_text(text, name)


def _git(root: Path, args: list[str]) -> str | None:
    """git's output, or None when it fails (or is not installed)."""
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None
