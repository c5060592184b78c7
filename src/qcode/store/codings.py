"""The current codings of a coder, as objects (``Coding``) and as columns
(``CodingTable``, what counting reads without building an object per coding)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from qcode._bulk import bulk_load
from qcode.errors import QcodeError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

T = TypeVar("T")

class Coding:
    """A current coding of one coder: a code on the span ``[start, end)`` of a transcript.

    Treat it as read-only. ``text`` (what was coded, as logged) is read from the log on
    first use when the coding came from the cache; most commands never need it.
    """

    # A plain class with slots, not a dataclass: replay builds hundreds of thousands.
    __slots__ = (
        "_row",
        "_table",
        "_text",
        "at",
        "code",
        "coder",
        "end",
        "extra",
        "id",
        "line",
        "memo",
        "start",
        "transcript",
    )

    def __init__(self, id: str, coder: str, transcript: str, start: int, end: int,
                 code: str, text: str | None, at: str, memo: str | None = None,
                 line: int = 0, extra: dict[str, Any] | None = None,
                 _table: CodingTable | None = None, _row: int = 0) -> None:
        self.id = id
        self.coder = coder
        self.transcript = transcript
        self.start = start
        self.end = end
        self.code = code
        self._text = text
        self.at = at
        self.memo = memo
        self.line = line  # the log line of the `add` event
        self.extra = extra if extra is not None else {}
        self._table = _table
        self._row = _row

    @property
    def text(self) -> str:
        if self._text is None:
            if self._table is None:  # pragma: no cover - codings without text come from a table
                raise LogChangedError("a coding's text is unknown")
            self._text = self._table.text(self._row)
        return self._text

    def text_matches(self, text: str) -> bool:
        """Whether this coding's logged text equals ``text``, without reading the log when
        the coding came from the cache (its digest is compared)."""
        if self._text is None and self._table is not None:
            return self._table.text_matches(self._row, text)
        return self.text == text

    def _key(self) -> tuple:
        return (self.id, self.coder, self.transcript, self.start, self.end, self.code,
                self.text, self.at, self.memo, self.line)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Coding:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.id, self.coder, self.transcript, self.start, self.end, self.code))

    def __repr__(self) -> str:
        return (f"Coding(id={self.id!r}, coder={self.coder!r}, transcript={self.transcript!r}, "
                f"start={self.start}, end={self.end}, code={self.code!r}, line={self.line})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "coder": self.coder, "transcript": self.transcript,
            "start": self.start, "end": self.end, "code": self.code, "text": self.text,
            "at": self.at, "memo": self.memo,
        }


def text_digest(text: str) -> int:
    """A 64-bit fingerprint of coded text: the cache keeps it instead of the text, and
    ``qcode check`` compares it with the transcript's text at the span."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                          "big")


class _RestColumn(Generic[T]):
    """A column of a ``CodingTable`` that may still wait in the cache (see ``_rest``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, table: None, owner: type | None = None) -> _RestColumn[T]: ...

    @overload
    def __get__(self, table: CodingTable, owner: type | None = None) -> list[T]: ...

    def __get__(self, table: CodingTable | None, owner: type | None = None
                ) -> _RestColumn[T] | list[T]:
        if table is None:
            return self
        if table._rest is not None:
            load, table._rest = table._rest, None
            try:
                load(table)
            except BaseException:
                table._rest = load
                raise
            table._reload = load
        column: list[T] = getattr(table, self.slot)
        return column

    def __set__(self, table: CodingTable, value: list[T]) -> None:
        setattr(table, self.slot, value)


class CodingTable:
    """One coder's current codings as columns, in the order of their ``add`` lines.

    Counting reads the columns directly (no object per coding); ``codings()`` builds
    ``Coding`` objects for everything else. A row's text is known when the row was
    replayed in this process and read lazily from the log when it came from the cache;
    its digest is the other way round.
    """

    __slots__ = (
        "_ats",
        "_digests",
        "_ids",
        "_lengths",
        "_lines",
        "_offsets",
        "_reader",
        "_reload",
        "_rest",
        "categories",
        "checked",
        "coder",
        "codes",
        "ends",
        "extras",
        "memos",
        "starts",
        "texts",
        "transcripts",
    )

    # Read from the cache's second file only when first used: counting needs none of them.
    ids: _RestColumn[str] = _RestColumn()
    ats: _RestColumn[str] = _RestColumn()
    lines: _RestColumn[int] = _RestColumn()
    offsets: _RestColumn[int] = _RestColumn()  # where the row's `add` line starts in the log
    lengths: _RestColumn[int] = _RestColumn()  # and its length in bytes
    digests: _RestColumn[int | None] = _RestColumn()

    def __init__(self, coder: str, reader: _LogReader | None = None) -> None:
        self.coder = coder
        self._rest: Callable[[CodingTable], None] | None = None
        self._reload: Callable[[CodingTable], None] | None = None  # the loader, once used
        self.ids = []
        self.transcripts: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.codes: list[str] = []
        self.ats = []
        self.lines = []
        self.memos: list[str | None] = []
        self.extras: dict[int, dict[str, Any]] = {}  # row -> fields qcode does not know
        self.offsets = []
        self.lengths = []
        self.texts: list[str | None] = []
        self.digests = []
        # From the cache: "transcripts" and "codes" as (distinct values, index per row), so
        # that counting need not find the distinct values again.
        self.categories: dict[str, tuple[list[str], list[int]]] = {}
        self._reader = reader
        # When the replay compared each row's text with its transcript as it decoded the
        # log: (the bodies compared with, by transcript id; the rows whose text differed).
        self.checked: tuple[Mapping[str, str], set[int]] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def release_rest(self) -> None:
        """Let go of the columns read from the cache (read again when next used): a pass
        over every coder's codings then holds one coder's ids and times at a time, not
        all of them (at 10,000 transcripts, a gigabyte)."""
        if self._reload is None or self._rest is not None:
            return  # replayed here (nothing to read them from again), or not read yet
        self.ids, self.ats, self.lines, self.offsets, self.lengths, self.digests = (
            [], [], [], [], [], [])
        self._rest, self._reload = self._reload, None

    def text(self, row: int) -> str:
        text = self.texts[row]
        if text is None:
            if self._reader is None:  # pragma: no cover - rows without text come from a log
                raise LogChangedError("a coding's text is unknown")
            text = self.texts[row] = self._reader.text_at(self.offsets[row], self.lengths[row],
                                                          self.ids[row])
        return text

    def read_text(self, row: int) -> str:
        """The row's text, read from the log when not known, and not kept: a pass over
        every coding then holds one text at a time."""
        text = self.texts[row]
        if text is None:
            if self._reader is None:  # pragma: no cover - rows without text come from a log
                raise LogChangedError("a coding's text is unknown")
            text = self._reader.text_at(self.offsets[row], self.lengths[row], self.ids[row])
        return text

    def all_digests(self) -> list[int]:
        """Every row's digest, computing the ones not known yet (rows replayed here)."""
        digests = [text_digest(self.text(row)) if digest is None else digest
                   for row, digest in enumerate(self.digests)]
        self.digests = list(digests)
        return digests

    def text_matches(self, row: int, text: str) -> bool:
        """Whether the row's coded text equals ``text``, without reading the log."""
        known = self.texts[row]
        if known is not None:
            return known == text
        return self.digests[row] == text_digest(text)

    def codings(self) -> list[Coding]:
        coder, extras, texts = self.coder, self.extras, self.texts
        with bulk_load():
            return [Coding(i, coder, t, s, e, c, texts[row], a, m, n, extras.get(row), self, row)
                    for row, (i, t, s, e, c, a, m, n) in enumerate(zip(
                        self.ids, self.transcripts, self.starts, self.ends, self.codes,
                        self.ats, self.memos, self.lines, strict=True))]


class CodingList(list[Coding]):
    """A plain list of codings, with ``to_frame()`` for pandas users."""

    def to_frame(self) -> pandas.DataFrame:
        import pandas as pd

        columns = ["id", "coder", "transcript", "start", "end", "code", "text", "at", "memo"]
        return pd.DataFrame([c.to_dict() for c in self], columns=columns)



class LogChangedError(QcodeError):
    """A log changed under a running command (only possible when another program
    rewrites it while qcode reads it)."""

    @classmethod
    def of(cls, rel: str, why: str | None = None) -> LogChangedError:
        return cls(f"{rel} changed while qcode was reading it" + (f" ({why})" if why else ""),
                   "coding logs only grow; run the command again, and run `qcode check` "
                   "if the log was rewritten")


class _LogReader:
    """Reads single lines of a log on demand, for the text of cached codings."""

    def __init__(self, path: Path, rel: str) -> None:
        self.path = path
        self.rel = rel
        self._fd: int | None = None

    def text_at(self, offset: int, length: int, coding_id: str) -> str:
        import orjson

        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as exc:
                raise LogChangedError.of(self.rel, f"cannot read it: {exc.strerror}") from None
        raw = os.pread(self._fd, length, offset)
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            event = None
        if not isinstance(event, dict) or event.get("id") != coding_id \
                or not isinstance(event.get("text"), str):
            raise LogChangedError.of(self.rel, "a coding is no longer where it was")
        return event["text"]

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)

