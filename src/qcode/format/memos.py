"""Memos as files: ``memos/*.md``, Markdown with front matter saying what each is about.

A memo is about a transcript, a code, a case or the project (``about: transcript:ID``,
``code:ID``, ``case:ATTRIBUTE=VALUE``, ``project``) and written by one ``author``; its
``created`` and ``updated`` are ISO timestamps. What a memo is about comes from its front
matter, never from its file name, so files may be renamed or sorted into sub-folders. At
most one memo per (about, author): ``qcode memo`` replaces that memo's body.

This module reads and checks the files (the syntax here; whether the target exists in
``check_memo_targets``); ``qcode.store.memos`` writes them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from qcode.errors import QcodeError, UsageError
from qcode.format.names import CODER_PATTERN, did_you_mean
from qcode.format.text import normalize
from qcode.format.transcripts import FrontMatterError, split_front_matter
from qcode.format.validation import StrictModel, validate
from qcode.format.yamlio import YamlDocument
from qcode.problems import Problems

MEMO_KINDS = ("transcript", "code", "case", "project")
MEMO_SUFFIX = ".md"


class MemoFrontMatter(StrictModel):
    about: str
    author: Annotated[str, Field(pattern=CODER_PATTERN)] | None = None
    created: str | None = None
    updated: str | None = None


@dataclass(frozen=True)
class MemoAbout:
    """What a memo is about: ``kind`` and ``target`` (a transcript id, a code id,
    ``ATTRIBUTE=VALUE`` for a case, empty for the project)."""

    kind: str
    target: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "project" else f"{self.kind}:{self.target}"

    @property
    def case(self) -> tuple[str, str]:
        """A case memo's (attribute, value)."""
        attribute, _, value = self.target.partition("=")
        return attribute, value

    @property
    def file_stem(self) -> str:
        """The name a new memo file gets: ``transcript-voss-principal``,
        ``case-school-Voss``, ``project``; characters a file name should not hold become
        ``-``."""
        if self.kind == "project":
            return "project"
        safe = re.sub(r"[^\w-]+", "-", self.target.replace("=", "-")).strip("-")
        return f"{self.kind}-{safe or 'memo'}"


def parse_about(text: str) -> MemoAbout:
    """``transcript:ID``, ``code:ID``, ``case:ATTRIBUTE=VALUE`` or ``project`` → the
    target; a ``UsageError`` (message and hint) when it is none of these."""
    text = text.strip()
    if text == "project":
        return MemoAbout("project")
    kind, colon, target = text.partition(":")
    kind, target = kind.strip(), target.strip()
    if not colon or kind not in MEMO_KINDS or kind == "project":
        guess = did_you_mean(kind, MEMO_KINDS, limit=1)
        raise UsageError(f"about: {text!r} names no kind of memo" +
                         (f" (did you mean {guess[0]!r}?)" if guess else ""),
                         "write transcript:ID, code:ID, case:ATTRIBUTE=VALUE or project")
    if not target:
        raise UsageError(f"about: {text!r} names no {kind}",
                         f"write {kind}:{'ATTRIBUTE=VALUE' if kind == 'case' else 'ID'}")
    if kind == "case":
        attribute, equals, value = target.partition("=")
        if not equals or not attribute.strip() or not value.strip():
            raise UsageError(f"about: {text!r}: a case is ATTRIBUTE=VALUE",
                             "e.g. case:school=Voss")
        target = f"{attribute.strip()}={value.strip()}"
    return MemoAbout(kind, target)


@dataclass(frozen=True)
class Memo:
    about: MemoAbout
    author: str | None
    created: str | None
    updated: str | None
    text: str            # the body, without the blank lines around it
    file: str            # relative to the project
    line: int            # the line of `about:`

    def to_dict(self) -> dict[str, Any]:
        return {"about": str(self.about), "kind": self.about.kind,
                "target": self.about.target or None, "author": self.author,
                "created": self.created, "updated": self.updated, "file": self.file,
                "line": self.line, "text": self.text}


def parse_memo(text: str, rel: str, problems: Problems) -> Memo | None:
    """One memo file's text → the memo; its front matter problems are recorded (rules
    ``memo-front-matter``, ``memo-schema``, ``memo-unknown-key``, ``memo-about``,
    ``memo-date``) and a memo without a valid ``about:`` is None."""
    try:
        front, body, _body_line, lines = split_front_matter(normalize(text))
    except FrontMatterError as exc:
        problems.error("memo-front-matter", rel, exc.line, exc.message, exc.hint)
        return None
    if not lines:
        problems.error("memo-front-matter", rel, 1, "a memo file starts with front matter "
                       "saying what it is about",
                       "begin the file with ---, about: transcript:ID (or code:ID, "
                       "case:ATTRIBUTE=VALUE, project), ---")
        return None
    doc = YamlDocument(front, {(): 1, **{(key,): line for key, line in lines.items()}})
    fields = validate(MemoFrontMatter, doc, rel, problems, "memo")
    if fields is None:
        return None
    about_line = lines["about"]
    try:
        about = parse_about(fields.about)
    except UsageError as exc:
        problems.error("memo-about", rel, about_line, exc.message, exc.hint)
        return None
    for key in ("created", "updated"):
        value = getattr(fields, key)
        if value is not None and not _is_timestamp(value):
            problems.error("memo-date", rel, lines[key],
                           f"{key}: {value!r} is not an ISO date or timestamp",
                           "write e.g. 2026-03-14 or 2026-03-14T09:30:00+01:00")
    return Memo(about, fields.author, fields.created, fields.updated, body.strip("\n"),
                rel, about_line)


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def discover_memos(folder: Path) -> list[tuple[Path, str]]:
    """The ``*.md`` files under ``folder`` (recursively, dot-files and dot-folders
    skipped, links to folders not followed) with their paths relative to it, sorted."""
    found: list[tuple[Path, str]] = []
    if not os.path.isdir(folder):  # never raises (a name too long, say)
        return found
    for path in sorted(folder.rglob(f"*{MEMO_SUFFIX}")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if any(parent.is_symlink() for parent in path.parents
               if parent.is_relative_to(folder) and parent != folder):
            continue
        found.append((path, rel.as_posix()))
    return found


def load_memos(folder: Path, base: str, problems: Problems,
               canonical: Callable[[MemoAbout], MemoAbout] = lambda about: about
               ) -> list[Memo]:
    """Every readable memo under ``folder`` (``base``: its path in the project), in file
    order. A second memo on the same target (``canonical``: a code's alias is the code)
    by the same author is reported (``memo-duplicate``) and left out: ``qcode memo``
    could not tell which to change."""
    from qcode.format.files import read_text

    memos: list[Memo] = []
    seen: dict[tuple[str, str | None], Memo] = {}
    for path, rel in discover_memos(folder):
        shown = f"{base}/{rel}"
        text = read_text(path, shown, problems, missing_rule="memo-unreadable")
        memo = parse_memo(text, shown, problems) if text is not None else None
        if memo is None:
            continue
        key = (str(canonical(memo.about)), memo.author)
        if key in seen:
            problems.error("memo-duplicate", shown, memo.line,
                           f"a memo on {memo.about} by {memo.author or 'no author'} is "
                           f"also in {seen[key].file}; this file is ignored",
                           "merge the two into one file")
            continue
        seen[key] = memo
        memos.append(memo)
    return memos


def check_memo_targets(memos: Iterable[Memo], transcripts: Collection[str],
                       resolve_code: Callable[[str], str | None],
                       code_ids: Collection[str],
                       attribute_values: Mapping[str, Collection[str]],
                       coders: Collection[str], problems: Problems) -> None:
    """What each memo is about exists (``memo-about``, an error at the ``about:`` line,
    with a did-you-mean), and its author has a coding log (``memo-author-unknown``, a
    warning, when there are coders: a typo in the name, or a coder who has coded nothing
    yet)."""
    for memo in memos:
        problem = unknown_target(memo.about, transcripts, resolve_code, code_ids,
                                 attribute_values)
        if problem is not None:
            problems.error("memo-about", memo.file, memo.line, problem.message, problem.hint)
        if memo.author is not None and coders and memo.author not in coders:
            guess = did_you_mean(memo.author, coders, limit=1)
            problems.warning("memo-author-unknown", memo.file, None,
                             f"author {memo.author!r} has no coding log (coders: "
                             f"{', '.join(sorted(coders))})",
                             f"did you mean {guess[0]!r}?" if guess
                             else "fine for a coder who has coded nothing yet")


def unknown_target(about: MemoAbout, transcripts: Collection[str],
                   resolve_code: Callable[[str], str | None], code_ids: Collection[str],
                   attribute_values: Mapping[str, Collection[str]]) -> QcodeError | None:
    """Why ``about`` names nothing in the project (message, did-you-mean), or None."""
    if about.kind == "transcript" and about.target not in transcripts:
        return _unknown("transcript", about.target, transcripts, "`qcode transcripts`")
    if about.kind == "code" and resolve_code(about.target) is None:
        return _unknown("code", about.target, code_ids, "`qcode codes`")
    if about.kind == "case":
        attribute, value = about.case
        if attribute not in attribute_values:
            return _unknown("attribute", attribute, attribute_values, "`qcode transcripts`")
        if value not in attribute_values[attribute]:
            return _unknown(f"{attribute} value", value, attribute_values[attribute],
                            "`qcode transcripts -f csv`")
    return None


def _unknown(kind: str, name: str, known: Iterable[str], where: str) -> QcodeError:
    guess = did_you_mean(name, known)
    message = f"unknown {kind} {name!r}"
    if guess:
        message += f"; did you mean {' or '.join(repr(g) for g in guess)}?"
    return QcodeError(message, f"{where} lists them")


def render_memo(about: MemoAbout, author: str | None, created: str | None,
                updated: str | None, text: str) -> str:
    """A memo file's text: front matter (``about``, ``author``, ``created``,
    ``updated``), a blank line, the body."""
    from qcode.format.yamlio import dump_yaml

    front: dict[str, Any] = {"about": str(about)}
    for key, value in (("author", author), ("created", created), ("updated", updated)):
        if value is not None:
            front[key] = value
    return f"---\n{dump_yaml(front)}---\n\n{text.strip(chr(10))}\n"
