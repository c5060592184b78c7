"""The memo methods of ``Project`` (memo files: ``qcode.format.memos``), kept apart so
that project.py stays small; ``Project`` inherits them."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from qcode.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from qcode.analysis.framework import FrameworkMatrix
    from qcode.format.codebook import Codebook
    from qcode.format.config import ProjectConfig
    from qcode.format.memos import Memo, MemoAbout
    from qcode.format.transcripts import Transcript
    from qcode.problems import Problems
    from qcode.store.log import CodingStore


class MemoMethods:
    """``memos``, ``write_memo`` and the memo rules of ``check``."""

    if TYPE_CHECKING:  # pragma: no cover - what they use of ``Project``
        root: Path
        problems: Problems

        @property
        def _transcripts(self) -> dict[str, Transcript]: ...
        @property
        def _codebook(self) -> Codebook | None: ...
        @property
        def store(self) -> CodingStore: ...

        def _folder(self, key: str) -> Path: ...
        def rel(self, path: Path) -> str: ...
        def require_config(self) -> ProjectConfig: ...

    @cached_property
    def _memos(self) -> list[Memo]:
        from qcode.format.memos import load_memos

        folder = self._folder("memos")
        return load_memos(folder, self.rel(folder), self.problems, self._canonical_about)

    def memo_about(self, kind: str, target: str | None = None) -> MemoAbout:
        """What ``kind`` and ``target`` name (``"code", "lead-strong"``; ``"case",
        "school=Voss"``; ``"project"``), checked against the project: an unknown
        transcript, code, attribute or value is a ``QcodeError`` with a did-you-mean. A
        code named by a former id (alias) is its current id."""
        from qcode.format.memos import MemoAbout, parse_about, unknown_target

        if kind == "project":
            if target:
                raise UsageError("a project memo has no target", "qcode memo project")
            return MemoAbout("project")
        about = parse_about(f"{kind}:{target or ''}")
        problem = unknown_target(about, self._transcripts, self._resolve_code,
                                 self._codebook.ids if self._codebook else (),
                                 self._attribute_values())
        if problem is not None:
            raise problem
        return self._canonical_about(about)

    def memos(self, about: str | None = None) -> list[Memo]:
        """The memo files, in file order; ``about``: only those on a kind (``code``) or
        one target (``code:lead-strong``, ``case:school=Voss``, ``project``)."""
        memos = self._memos
        if about is None:
            return list(memos)
        kind, colon, target = about.partition(":")
        if not colon and kind != "project":
            from qcode.format.memos import MEMO_KINDS, parse_about

            if kind not in MEMO_KINDS:
                parse_about(f"{kind}:x")  # the error, with its did-you-mean
            return [m for m in memos if m.about.kind == kind]
        wanted = self.memo_about(kind, target)
        return [m for m in memos if self._canonical_about(m.about) == wanted]

    def memo_by(self, about: MemoAbout, author: str | None) -> Memo | None:
        """The memo on ``about`` (as ``memo_about`` gives it) by ``author``, if any."""
        return next((m for m in self._memos
                     if self._canonical_about(m.about) == about and m.author == author), None)

    def write_memo(self, kind: str, target: str | None, text: str,
                   author: str | None) -> Memo:
        """Write the memo on ``kind``/``target`` by ``author`` (replacing the body of the
        one there is, or in a new file of ``memos/``) and return it as written."""
        from qcode.format.memos import parse_memo
        from qcode.format.names import check_coder_name
        from qcode.problems import Problems
        from qcode.store.memos import save_memo

        if author is not None:
            check_coder_name(author)
        if not text.strip():
            raise UsageError("the memo is empty; nothing was written",
                             "to remove a memo, delete its file (`qcode memos` lists them)")
        about = self.memo_about(kind, target)
        existing = self.memo_by(about, author)
        self._folder("memos")  # a file in the way is refused before anything is written
        path = save_memo(self.root, self.require_config().memos, about, author, text,
                         existing)
        self.__dict__.pop("_memos", None)
        self.problems.forget(self.rel(path))
        written = parse_memo(path.read_text(encoding="utf-8"), self.rel(path), Problems())
        assert written is not None  # we wrote it from a valid target
        return written

    def _with_memos(self, matrix: FrameworkMatrix) -> FrameworkMatrix:
        """A framework matrix with the memos on its rows in its cells' ``memo`` (case
        memos on ROWS=VALUE, or transcript memos when the rows are transcripts) and
        the memos on its themes' codes in the themes' ``memo``."""
        from dataclasses import replace

        on_row: dict[str, list[str]] = {}
        on_code: dict[str, list[str]] = {}
        for memo in self._memos:
            about = self._canonical_about(memo.about)
            text = f"{memo.author or 'no author'}: {memo.text}"
            if about.kind == "case" and about.case[0] == matrix.rows_by:
                on_row.setdefault(about.case[1], []).append(text)
            elif about.kind == "transcript" and matrix.rows_by == "transcript":
                on_row.setdefault(about.target, []).append(text)
            elif about.kind == "code":
                on_code.setdefault(about.target, []).append(text)
        for (row, _code), cell in matrix.cells.items():
            if row in on_row:
                cell.memo = "\n\n".join(on_row[row])
        matrix.themes = [replace(t, memo="\n\n".join(on_code[t.code]))
                         if t.code in on_code else t for t in matrix.themes]
        return matrix

    def _canonical_about(self, about: MemoAbout) -> MemoAbout:
        if about.kind == "code" and self._codebook is not None:
            from qcode.format.memos import MemoAbout

            return MemoAbout("code", self._codebook.canonical(about.target))
        return about

    def _resolve_code(self, name: str) -> str | None:
        if self._codebook is None:
            return name  # the codebook is broken: `check` says so, not each memo
        code = self._codebook.resolve(name)
        return code.id if code is not None else None

    def _attribute_values(self, transcripts: dict[str, Transcript] | None = None
                          ) -> dict[str, set[str]]:
        from qcode.format.attributes import attribute_names

        transcripts = self._transcripts if transcripts is None else transcripts
        values: dict[str, set[str]] = {
            name: set() for name in attribute_names(self.require_config().attributes,
                                                    transcripts.values())}
        for transcript in transcripts.values():
            for name, value in transcript.attributes.items():
                if value is not None:
                    shown = ("true" if value else "false") if isinstance(value, bool) \
                        else str(value)
                    values.setdefault(name, set()).add(shown)
        return values

    def _check_memos(self, problems: Problems, transcripts: dict[str, Transcript]) -> None:
        """The memo rules of ``qcode check``: files read (their syntax), then targets
        (among ``transcripts``, those check could read) and authors
        (``qcode.format.memos.check_memo_targets``)."""
        from qcode.errors import InvalidProject
        from qcode.format.memos import check_memo_targets

        try:
            memos = self._memos
            coders = self.store.coders
        except InvalidProject:  # `memos:` or `codings:` is a file: config-not-a-folder
            return
        check_memo_targets(memos, transcripts, self._resolve_code,
                           self._codebook.ids if self._codebook else (),
                           self._attribute_values(transcripts), coders, problems)
