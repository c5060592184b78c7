"""Coding logs: one append-only JSONL file per coder, replayed into current codings.

A line is one event::

    {"op": "add", "id": "…", "transcript": "…", "start": 0, "end": 9, "code": "…",
     "text": "…", "at": "2026-11-27T18:00:00.000Z", "memo": "…"}
    {"op": "remove", "id": "<id of an earlier add>", "at": "…"}

Appending is one ``write`` of complete lines under an exclusive lock, then flush and
fsync, so two processes never interleave and what was reported saved survives a crash.
Reading never changes the file: a torn line (an interrupted write: an incomplete JSON
object) is reported as a warning and skipped, wherever it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode._bulk import bulk_load
from qcode.errors import LogWriteError, QcodeError
from qcode.problems import Problem, Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache

if TYPE_CHECKING:  # pragma: no cover
    import pandas

LOG_SUFFIX = ".jsonl"
_ADD_FIELDS = ("op", "id", "transcript", "start", "end", "code", "text", "at", "memo")
_ADD_KEYS = frozenset(_ADD_FIELDS)


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


class _RestColumn:
    """A column of a ``CodingTable`` that may still wait in the cache (see ``_rest``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, table: CodingTable | None, owner: type | None = None) -> Any:
        if table is None:
            return self
        if table._rest is not None:
            load, table._rest = table._rest, None
            try:
                load(table)
            except BaseException:
                table._rest = load
                raise
        return getattr(table, self.slot)

    def __set__(self, table: CodingTable, value: list) -> None:
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
        "_rest",
        "categories",
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
    ids = _RestColumn()
    ats = _RestColumn()
    lines = _RestColumn()
    offsets = _RestColumn()  # where the row's `add` line starts in the log
    lengths = _RestColumn()  # and its length in bytes
    digests = _RestColumn()

    def __init__(self, coder: str, reader: _LogReader | None = None) -> None:
        self.coder = coder
        self._rest: Callable[[CodingTable], None] | None = None
        self.ids: list[str] = []
        self.transcripts: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.codes: list[str] = []
        self.ats: list[str] = []
        self.lines: list[int] = []
        self.memos: list[str | None] = []
        self.extras: dict[int, dict[str, Any]] = {}  # row -> fields qcode does not know
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        self.texts: list[str | None] = []
        self.digests: list[int | None] = []
        # From the cache: "transcripts" and "codes" as (distinct values, index per row), so
        # that counting need not find the distinct values again.
        self.categories: dict[str, tuple[list[str], list[int]]] = {}
        self._reader = reader

    def __len__(self) -> int:
        return len(self.starts)

    def text(self, row: int) -> str:
        text = self.texts[row]
        if text is None:
            if self._reader is None:  # pragma: no cover - rows without text come from a log
                raise LogChangedError("a coding's text is unknown")
            text = self.texts[row] = self._reader.text_at(self.offsets[row], self.lengths[row],
                                                          self.ids[row])
        return text

    def all_digests(self) -> list[int]:
        if None in self.digests:
            self.digests = [text_digest(self.text(row)) if digest is None else digest
                            for row, digest in enumerate(self.digests)]
        return self.digests

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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    # 64 random bits: collisions stay below one in a billion at a million codings.
    return secrets.token_hex(8)


def add_event(transcript: str, start: int, end: int, code: str, text: str,
              memo: str | None = None, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "op": "add", "id": new_id(), "transcript": transcript, "start": start, "end": end,
        "code": code, "text": text, "at": now_iso(),
    }
    if memo:
        event["memo"] = memo
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def remove_event(coding_id: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"op": "remove", "id": coding_id, "at": now_iso()}
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def encode_event(event: dict[str, Any]) -> bytes:
    return (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")


@dataclass
class Replay:
    """The result of reading a log: current codings in log order, and what was wrong."""

    coder: str
    table: CodingTable
    events: int
    problems: Problems
    # Where the coder last worked: (transcript, start) of the latest add or remove.
    last_position: tuple[str, int] | None = None
    # Names this log's history as far as the cache can vouch for it: replays that went on
    # from a cache entry (whose lines were proven unchanged) keep its lineage, a replay
    # from the first line gets a new one. Results about lines (``qcode check``'s) can be
    # kept under it.
    lineage: str = ""

    @cached_property
    def codings(self) -> list[Coding]:
        return self.table.codings()


class _Lock:
    """An exclusive advisory lock on an open file, for the duration of a ``with``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> _Lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_LOCK, 1)
        else:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
        else:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


class CodingLog:
    """The log of one coder: ``codings/<coder>.jsonl``."""

    def __init__(self, path: Path, coder: str, rel: str | None = None) -> None:
        self.path = path
        self.coder = coder
        self.rel = rel or path.name

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, events: Iterable[dict[str, Any]]) -> int:
        """Append events as complete lines, durably; returns how many were written."""
        events = list(events)
        return self._append_locked(lambda _raw: events) if events else 0

    def append_checked(self, build: Callable[[dict[str, Coding]], list[dict[str, Any]]]
                       ) -> int:
        """Under the lock: replay the log as it is now, let ``build`` choose the events
        from the current codings (by id), and append them. A plan made from an older read
        (re-anchoring, say) thus never acts on a coding someone changed meanwhile."""

        def from_current(raw: bytes) -> list[dict[str, Any]]:
            return build({c.id: c for c in replay_bytes(raw, self.coder, self.rel).codings})

        return self._append_locked(from_current, read=True)

    def _append_locked(self, events_for: Callable[[bytes], list[dict[str, Any]]],
                       read: bool = False) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LogWriteError(f"cannot open {self.rel} for appending: {exc.strerror}") from None
        try:
            with _Lock(fd):
                size = os.fstat(fd).st_size
                events = events_for(_read_range(fd, 0, size) if read else b"")
                payload = b"".join(encode_event(e) for e in events)
                if not payload:
                    return 0
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # Keep a torn line (from a crash) on a line of its own, untouched.
                    payload = b"\n" + payload
                written = 0
                while written < len(payload):
                    written += os.write(fd, payload[written:])
                os.fsync(fd)
        except OSError as exc:
            raise LogWriteError(f"cannot append to {self.rel}: {exc.strerror}") from None
        finally:
            os.close(fd)
        return len(events)

    def replay(self, cache: Cache | None = None) -> Replay:
        """Read the log and replay it; never raises for bad content.

        With a ``cache``, the replay of the log's first N bytes is taken from it when those
        bytes are provably unchanged (``qcode.cache``), and only later lines are read.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return Replay(self.coder, CodingTable(self.coder), 0, Problems())
        except OSError as exc:
            problems = Problems()
            problems.error("file-unreadable", self.rel, None,
                           f"cannot read {self.rel}: {exc.strerror}")
            return Replay(self.coder, CodingTable(self.coder), 0, problems)
        try:
            with bulk_load():
                return self._replay_open(fd, cache)
        finally:
            os.close(fd)

    def _replay_open(self, fd: int, cache: Cache | None) -> Replay:
        from qcode.format.cache import MALFORMED_ENTRY, Stamp, source_record, stamp_proves

        stamp = Stamp.of(os.fstat(fd))
        if cache is not None and not cache.enabled:
            cache = None
        entry = cache.load(self._cache_name) if cache is not None else None
        if entry is not None and (entry.get("log") != self.rel
                                  or not 0 <= entry.get("covered", -1) <= stamp.size):
            entry = None
        if entry is not None and stamp_proves(entry.get("source"), stamp):
            # Unchanged since the entry was made: the rest is an unfinished line at most.
            covered = entry["covered"]
            with suppress(*MALFORMED_ENTRY):
                if covered == stamp.size:
                    return _Replayer.replay_of_entry(entry, self, cache)
                replayer = _Replayer.from_entry(entry, self, cache)
                replayer.feed(_read_range(fd, covered, stamp.size), covered)
                return replayer.finish()
        covered, replayer = 0, None
        if entry is not None:
            prefix = hashlib.sha256()
            for chunk in _chunks(fd, 0, entry["covered"]):
                prefix.update(chunk)
            if prefix.hexdigest() == entry.get("prefix_sha256"):
                # The log grew (or was touched): replay only the lines after the entry's.
                with suppress(*MALFORMED_ENTRY):
                    replayer = _Replayer.from_entry(entry, self, cache)
                    covered = entry["covered"]
        if replayer is None:
            replayer, prefix = _Replayer(self.coder, self.rel, self.path), hashlib.sha256()
        # With a cache, texts are replaced by their digests as they are read: the cache
        # keeps digests, and a text is read back from the log if it is ever wanted. So a
        # replay holds neither the file nor its texts, only the coding table.
        replayer.keep_text = cache is None
        complete, pending = covered, b""  # complete: the end of the last whole line fed
        for chunk in _chunks(fd, covered, stamp.size):
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                pending += chunk  # a line longer than a chunk: wait for its end
                continue
            lines = pending + chunk[:cut] if pending else chunk[:cut]
            prefix.update(lines)
            replayer.feed(lines, complete)
            complete += len(lines)
            pending = chunk[cut:]
        if cache is not None:
            whole = prefix.copy()
            whole.update(pending)
            main, rest = replayer.to_entry(complete, prefix.hexdigest(),
                                           source_record(stamp, whole.hexdigest()))
            cache.save(self._rest_name, rest)  # first: a main entry never lacks its rest
            cache.save(self._cache_name, main)
        if pending:
            replayer.feed(pending, complete)
        return replayer.finish()

    @property
    def _cache_name(self) -> str:
        return f"logs/{self.coder}.json"

    @property
    def _rest_name(self) -> str:
        return f"logs/{self.coder}.rest.json"

    def rest_loader(self, entry: dict[str, Any], cache: Cache
                    ) -> Callable[[CodingTable], None]:
        """Fills a cached table's other columns, from the cache's second file when it
        belongs to the same entry, else by replaying the lines the entry covers."""
        from qcode.format.cache import MALFORMED_ENTRY

        binding = ("lineage", "covered", "prefix_sha256")
        names = ("id", "at", "line", "offset", "length", "digest")

        def load(table: CodingTable) -> None:
            rest = cache.load(self._rest_name)
            with suppress(*MALFORMED_ENTRY):
                if rest is not None and all(rest[k] == entry[k] for k in binding):
                    columns = [rest[n] for n in names]
                    if all(type(c) is list and len(c) == len(table) for c in columns):
                        (table.ids, table.ats, table.lines, table.offsets, table.lengths,
                         table.digests) = columns
                        return
            fresh = self._replay_prefix(entry["covered"], entry["prefix_sha256"]).table
            if len(fresh) != len(table) or fresh.starts != table.starts:
                raise LogChangedError.of(self.rel)
            (table.ids, table.ats, table.lines, table.offsets, table.lengths,
             table.digests, table.texts) = (fresh.ids, fresh.ats, fresh.lines, fresh.offsets,
                                            fresh.lengths, fresh.all_digests(), fresh.texts)

        return load

    def _replay_prefix(self, size: int, sha256: str) -> Replay:
        try:
            with self.path.open("rb") as handle:
                data = handle.read(size)
        except OSError:
            raise LogChangedError.of(self.rel) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise LogChangedError.of(self.rel)
        return replay_bytes(data, self.coder, self.rel)



def replay_bytes(raw: bytes, coder: str, rel: str) -> Replay:
    """Replay log content held in memory (no cache)."""
    replayer = _Replayer(coder, rel, None)
    replayer.feed(raw, 0)
    return replayer.finish()


def _chunks(fd: int, start: int, end: int, size: int = 1 << 24) -> Iterator[bytes]:
    """The bytes ``[start, end)`` of an open file, in pieces of at most ``size``."""
    offset = start
    while offset < end:
        chunk = os.pread(fd, min(size, end - offset), offset)
        if not chunk:
            return
        offset += len(chunk)
        yield chunk


def _read_range(fd: int, start: int, end: int) -> bytes:
    chunks, offset = [], start
    while offset < end:
        chunk = os.pread(fd, end - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


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


class _Replayer:
    """Replays log lines into a ``CodingTable``; can stop, be saved, and go on later.

    Codings are kept as row tuples while replaying (one append per event, the hot loop)
    and turned into columns at the end; a removed coding leaves a dead row behind, so a
    remove costs a dict lookup, not a list deletion.
    """

    def __init__(self, coder: str, rel: str, path: Path | None) -> None:
        self.coder = coder
        self.rel = rel
        self.reader = _LogReader(path, rel) if path is not None else None
        # (id, transcript, start, end, code, at, line, memo, offset, length, text, digest)
        self.rows: list[tuple | None] = []
        self.extras: dict[int, dict[str, Any]] = {}  # row -> fields qcode does not know
        self.row_of: dict[str, int] = {}  # id of a current coding -> its row
        self.removed: dict[str, tuple[int, int]] = {}  # id -> (add line, remove line)
        self.problems = Problems()
        self.events = 0
        self.lines_read = 0
        self.last_position: tuple[str, int] | None = None
        self.lineage = secrets.token_hex(8)
        self.keep_text = True  # else a text is kept as its digest only (see CodingTable)
        self._table: CodingTable | None = None
        self.shared: dict[str, str] = {}

    def feed(self, data: bytes, offset: int) -> None:
        """Replay ``data``, which starts at byte ``offset`` of the log right after the
        lines read so far."""
        import orjson

        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        problems, rel, rows, row_of, removed = (self.problems, self.rel, self.rows,
                                                self.row_of, self.removed)
        index, events, last_position = self.lines_read, self.events, self.last_position
        keep = self.keep_text
        self._table = None
        # A transcript id or code repeats on thousands of lines: keep one string of each.
        shared = self.shared
        for raw_line in data.split(b"\n"):
            index += 1
            line_offset = offset
            offset += len(raw_line) + 1
            try:
                event = loads(raw_line)
            except decode_error as exc:
                if raw_line.strip():
                    _report_unreadable(raw_line, exc, index, rel, problems)
                continue
            get = event.get if type(event) is dict else None
            if get is not None and get("op") == "add":
                # The fast path: a well-formed add (the conditions of _event_error, inlined).
                event_id, transcript, start, end = get("id"), get("transcript"), get("start"), \
                    get("end")
                code, text, at, memo = get("code"), get("text"), get("at"), get("memo")
                if (type(event_id) is str and event_id and type(at) is str
                        and type(transcript) is str and type(code) is str
                        and type(text) is str and type(start) is int
                        and type(end) is int and 0 <= start <= end
                        and (memo is None or type(memo) is str)):
                    events += 1
                    if event_id in row_of or event_id in removed:
                        self._duplicate(event_id, index)
                        continue
                    row_of[event_id] = len(rows)
                    if len(event) > 8 and not _ADD_KEYS.issuperset(event):
                        self.extras[len(rows)] = {k: v for k, v in event.items()
                                                  if k not in _ADD_KEYS}
                    transcript = shared.setdefault(transcript, transcript)
                    code = shared.setdefault(code, code)
                    rows.append((event_id, transcript, start, end, code, at, index, memo,
                                 line_offset, len(raw_line), text if keep else None,
                                 None if keep else text_digest(text)))
                    last_position = (transcript, start)
                    continue
            error = _event_error(event)
            if error:
                problems.error("log-invalid-event", rel, index, f"line {index}: {error}",
                               "each line needs op, id, at (and for add: transcript, start, "
                               "end, code, text)")
                continue
            # A remove (every valid add took the fast path).
            events += 1
            event_id = event["id"]
            row = row_of.pop(event_id, None)
            if row is not None:
                withdrawn = rows[row]
                rows[row] = None
                removed[event_id] = (withdrawn[6], index)
                last_position = (withdrawn[1], withdrawn[2])
            elif event_id in removed:
                problems.warning("log-remove-unknown", rel, index,
                                 f"line {index} removes {event_id!r}, already removed at "
                                 f"line {removed[event_id][1]}",
                                 "the second remove changes nothing")
            else:
                problems.error("log-remove-unknown", rel, index,
                               f"line {index} removes {event_id!r}, which no earlier line "
                               "adds", "a remove must follow the add it undoes")
        self.events, self.last_position = events, last_position
        self.lines_read += data.count(b"\n")

    def _duplicate(self, event_id: str, index: int) -> None:
        row = self.row_of.get(event_id)
        first = self.rows[row][6] if row is not None else self.removed[event_id][0]
        self.problems.error("log-duplicate-id", self.rel, index,
                            f"line {index} adds id {event_id!r} again (first at line "
                            f"{first}); the later one is ignored",
                            "event ids must be unique in a log")

    def table(self) -> CodingTable:
        """The current codings, in the order of their add lines (built once per feed)."""
        if self._table is not None:
            return self._table
        table = self._table = CodingTable(self.coder, self.reader)
        live = [row for row in self.rows if row is not None]
        if live:
            (table.ids, table.transcripts, table.starts, table.ends, table.codes, table.ats,
             table.lines, table.memos, table.offsets, table.lengths, table.texts,
             table.digests) = (list(column) for column in zip(*live, strict=True))
        if self.extras:
            renumber, new = {}, 0
            for old, row in enumerate(self.rows):
                if row is not None:
                    renumber[old] = new
                    new += 1
            table.extras = {renumber[row]: extra for row, extra in self.extras.items()
                            if row in renumber}
        return table

    def finish(self) -> Replay:
        return Replay(self.coder, self.table(), self.events, self.problems, self.last_position,
                      self.lineage)

    # -- the cache entry -----------------------------------------------------------------------

    def to_entry(self, covered: int, prefix_sha256: str, source: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The cache entry for the lines replayed so far, as two files: what counting
        needs, and the rest (ids, times, lines, offsets, digests), read when wanted."""
        table = self.table()
        transcripts, transcript_index = _categories(table.transcripts)
        codes, code_index = _categories(table.codes)
        binding = {"lineage": self.lineage, "covered": covered, "prefix_sha256": prefix_sha256}
        main = {
            "log": self.rel, **binding, "source": source, "lines": self.lines_read,
            "events": self.events, "last_position": self.last_position,
            "problems": [p.to_dict() for p in self.problems],
            "removed": self.removed, "rows": len(table),
            "transcripts": transcripts, "transcript_index": transcript_index,
            "codes": codes, "code_index": code_index,
            "start": table.starts, "end": table.ends,
            "memo": [[row, memo] for row, memo in enumerate(table.memos) if memo is not None],
            "extra": [[row, extra] for row, extra in table.extras.items()],
        }
        rest = {**binding, "id": table.ids, "at": table.ats, "line": table.lines,
                "offset": table.offsets, "length": table.lengths,
                "digest": table.all_digests()}
        return main, rest

    @classmethod
    def from_entry(cls, entry: dict[str, Any], log: CodingLog, cache: Cache) -> _Replayer:
        replayer = cls(log.coder, log.rel, log.path)
        table = replayer.table_from_entry(entry, log, cache)
        replayer.rows = list(zip(
            table.ids, table.transcripts, table.starts, table.ends, table.codes, table.ats,
            table.lines, table.memos, table.offsets, table.lengths, table.texts, table.digests,
            strict=True))
        replayer.extras = table.extras
        replayer.row_of = {coding_id: row for row, coding_id in enumerate(table.ids)}
        replayer.removed = {k: (v[0], v[1]) for k, v in entry["removed"].items()}
        replayer.problems.extend([Problem(**p) for p in entry["problems"]])
        replayer.events = entry["events"]
        replayer.lines_read = entry["lines"]
        position = entry["last_position"]
        replayer.last_position = (position[0], position[1]) if position else None
        replayer.lineage = entry["lineage"]
        return replayer

    def table_from_entry(self, entry: dict[str, Any], log: CodingLog, cache: Cache
                         ) -> CodingTable:
        table = CodingTable(self.coder, self.reader)
        count = entry["rows"]
        names = ("transcript_index", "code_index", "start", "end")
        if type(count) is not int or not all(type(entry[n]) is list and len(entry[n]) == count
                                             for n in names):
            raise ValueError("not a coding table")
        transcripts, codes = entry["transcripts"], entry["codes"]
        table.transcripts = [transcripts[i] for i in entry["transcript_index"]]
        table.codes = [codes[i] for i in entry["code_index"]]
        table.categories = {"transcripts": (transcripts, entry["transcript_index"]),
                            "codes": (codes, entry["code_index"])}
        table.starts, table.ends = entry["start"], entry["end"]
        table.texts = [None] * count
        table.memos = [None] * count
        for row, memo in entry["memo"]:
            table.memos[row] = memo
        table.extras = {row: extra for row, extra in entry["extra"]}
        table._rest = log.rest_loader(entry, cache)
        return table

    @classmethod
    def replay_of_entry(cls, entry: dict[str, Any], log: CodingLog, cache: Cache) -> Replay:
        """The replay an entry holds, when nothing follows it in the log."""
        problems = Problems()
        problems.extend([Problem(**p) for p in entry["problems"]])
        position = entry["last_position"]
        table = cls(log.coder, log.rel, log.path).table_from_entry(entry, log, cache)
        return Replay(log.coder, table, entry["events"], problems,
                      (position[0], position[1]) if position else None, entry["lineage"])


def _categories(values: list[str]) -> tuple[list[str], list[int]]:
    """A column of repeated strings as (distinct values, index per row)."""
    number: dict[str, int] = {}
    index = [number.setdefault(value, len(number)) for value in values]
    return list(number), index


def _report_unreadable(raw_line: bytes, exc: Exception, index: int, rel: str,
                       problems: Problems) -> None:
    try:
        text = raw_line.decode("utf-8")
    except UnicodeDecodeError:
        problems.error("log-invalid-json", rel, index, f"line {index} is not UTF-8 text",
                       "coding logs are written by qcode; restore the line from git")
        return
    if _is_incomplete_object(text):
        problems.warning("log-torn-line", rel, index,
                         f"line {index} is an incomplete event (an interrupted write); "
                         "it is ignored", "delete the line once you have checked it")
        return
    reason = getattr(exc, "msg", None) or str(exc)
    column = getattr(exc, "colno", None)
    where = f" (column {column})" if column else ""
    problems.error("log-invalid-json", rel, index,
                   f"line {index} is not valid JSON: {reason}{where}",
                   "coding logs are written by qcode; restore the line from git")


def _is_incomplete_object(text: str) -> bool:
    """True when ``text`` is a JSON object cut short: an unclosed string or brace at the end.

    That is what an interrupted write leaves behind; anything else is a corrupt line.
    """
    text = text.strip()
    if not text.startswith("{"):
        return False
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return False  # the object closed: whatever is wrong, it is not a torn write
    return in_string or depth > 0


def _event_error(event: Any) -> str | None:
    if type(event) is not dict:
        return "an event must be a JSON object"
    op = event.get("op")
    if op != "add" and op != "remove":
        return f"`op` must be \"add\" or \"remove\", not {op!r}"
    if type(event.get("id")) is not str or not event["id"]:
        return "`id` must be a non-empty string"
    if type(event.get("at")) is not str:
        return "`at` must be an ISO-8601 time string"
    if op == "remove":
        return None
    for key in ("transcript", "code", "text"):
        if not isinstance(event.get(key), str):
            return f"`{key}` must be a string"
    start, end = event.get("start"), event.get("end")
    if type(start) is not int or type(end) is not int:
        return "`start` and `end` must be whole numbers"
    if start < 0 or end < start:
        return f"span {start}:{end} is not a valid range (0 <= start <= end)"
    memo = event.get("memo")
    if memo is not None and not isinstance(memo, str):
        return "`memo` must be a string"
    return None
