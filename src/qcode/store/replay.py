"""Replaying a coding log into the current codings, from its first line or from where a
cache entry ends. Reading never changes the file: a torn line (an interrupted write: an
incomplete JSON object) is reported as a warning and skipped, wherever it is."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from qcode.format.limits import MAX_JSON_DEPTH, json_depth
from qcode.problems import Problem, Problems
from qcode.store.codings import Coding, CodingTable, _LogReader, text_digest
from qcode.store.events import ADD_KEYS, event_error

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache


class LogSource(Protocol):
    """The log a cache entry belongs to (a ``qcode.store.log.CodingLog``)."""

    coder: str
    rel: str
    path: Path

    def rest_loader(self, entry: dict[str, Any], cache: Cache
                    ) -> Callable[[CodingTable], None]: ...


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


# What ``decode_lines`` leaves to ``_Replayer.apply``: (line, offset, bytes, reason).
_DEFERRED_LEN = 4
_UNREADABLE, _TOO_DEEP, _OTHER = 0, 1, 2
# The items, the unknown fields of the adds that carry them (by item position), and the
# positions of the adds whose text is not the body at their span (``bodies`` given).
DecodedLines = tuple[list[tuple], dict[int, dict[str, Any]], list[int]]


def decode_lines(data: bytes, index: int, offset: int, keep_text: bool,
                 shared: dict[str, str] | None = None,
                 bodies: Mapping[str, str] | None = None) -> DecodedLines:
    """Decode log lines (``data`` starts at line ``index + 1``, byte ``offset``) on their
    own, in log order: a well-formed add becomes its coding row, anything else (a remove,
    an invalid or unreadable line) is deferred to ``_Replayer.apply`` with its line number,
    offset and bytes. Needs no state of the replay, so pieces of a log can be decoded in
    other processes (``qcode.store.parallel``). With ``bodies`` (transcript id -> body),
    each add's text is compared with the body at its span while the text is at hand: the
    comparison ``qcode check`` makes, done here on the decoding cores instead of by
    hashing every span again in the main process."""
    import orjson

    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    items: list[tuple] = []
    extras: dict[int, dict[str, Any]] = {}
    unmatched: list[int] = []
    body_of = bodies.get if bodies is not None else None
    append = items.append
    # A transcript id or code repeats on thousands of lines: keep one string of each (a
    # piece decoded in another process comes back with its own, shared within the piece).
    shared = {} if shared is None else shared
    intern = shared.setdefault
    for raw_line in data.split(b"\n"):
        index += 1
        line_offset = offset
        offset += len(raw_line) + 1
        try:
            event = loads(raw_line)
        except decode_error:
            if raw_line.strip():
                append((index, line_offset, raw_line, _UNREADABLE))
            continue
        get = event.get if type(event) is dict else None
        if get is not None and get("op") == "add":
            # The fast path: a well-formed add (the conditions of event_error, inlined).
            event_id, transcript, start, end = get("id"), get("transcript"), get("start"), \
                get("end")
            code, text, at, memo = get("code"), get("text"), get("at"), get("memo")
            if (type(event_id) is str and event_id and type(at) is str
                    and type(transcript) is str and type(code) is str
                    and type(text) is str and type(start) is int
                    and type(end) is int and 0 <= start <= end
                    and (memo is None or type(memo) is str)):
                if len(event) > 8 and not ADD_KEYS.issuperset(event):
                    extra = {k: v for k, v in event.items() if k not in ADD_KEYS}
                    if json_depth(extra) > MAX_JSON_DEPTH:
                        append((index, line_offset, raw_line, _TOO_DEEP))
                        continue
                    extras[len(items)] = extra
                if body_of is not None:
                    body = body_of(transcript)
                    if body is None or end > len(body) or body[start:end] != text:
                        unmatched.append(len(items))
                append((event_id, intern(transcript, transcript), start, end,
                        intern(code, code), at, index, memo, line_offset, len(raw_line),
                        text if keep_text else None,
                        None if keep_text else text_digest(text)))
                continue
        append((index, line_offset, raw_line, _OTHER))
    return items, extras, unmatched


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
        # Transcript bodies to compare each add's text with as it is decoded (set before
        # the first line is fed); the rows whose text differs are kept (``CodingTable.checked``).
        self.bodies: Mapping[str, str] | None = None
        self.unmatched: set[int] = set()

    def feed(self, data: bytes, offset: int) -> None:
        """Replay ``data``, which starts at byte ``offset`` of the log right after the
        lines read so far."""
        self.apply(decode_lines(data, self.lines_read, offset, self.keep_text, self.shared,
                                self.bodies))
        self.lines_read += data.count(b"\n")

    def apply(self, decoded: DecodedLines) -> None:
        """Replay lines decoded by ``decode_lines`` (here or in another process), in log
        order: what one line cannot decide alone (ids seen before, removes) is decided here."""
        items, extras, unmatched = decoded
        differs = set(unmatched)
        rows, row_of, removed = self.rows, self.row_of, self.removed
        events, last_add = self.events, None
        self._table = None
        for position, item in enumerate(items):
            if len(item) == _DEFERRED_LEN:
                self.events = events
                if self._careful(*item):
                    last_add = None
                events = self.events
                continue
            events += 1
            event_id = item[0]
            if event_id in row_of or event_id in removed:
                self._duplicate(event_id, item[6])
                continue
            row_of[event_id] = len(rows)
            if extras and position in extras:
                self.extras[len(rows)] = extras[position]
            if differs and position in differs:
                self.unmatched.add(len(rows))
            rows.append(item)
            last_add = item
        self.events = events
        if last_add is not None:
            self.last_position = (last_add[1], last_add[2])

    def _careful(self, index: int, line_offset: int, raw_line: bytes, reason: int) -> bool:
        """Replay a line the fast path left alone; whether it moved ``last_position``."""
        import orjson

        rel, problems = self.rel, self.problems
        if reason == _UNREADABLE:
            try:
                orjson.loads(raw_line)
            except orjson.JSONDecodeError as exc:
                _report_unreadable(raw_line, exc, index, rel, problems)
            return False
        if reason == _TOO_DEEP:
            # Kept, it would be written again by every export and followed into a
            # RecursionError there.
            problems.error("log-invalid-event", rel, index,
                           f"line {index} nests a field more than {MAX_JSON_DEPTH} levels "
                           "deep; it is ignored",
                           "coding logs are written by qcode; restore the line from git")
            return False
        event = orjson.loads(raw_line)
        error = event_error(event)
        if error:
            problems.error("log-invalid-event", rel, index, f"line {index}: {error}",
                           "each line needs op, id, at (and for add: transcript, start, "
                           "end, code, text)")
            return False
        # A remove (every valid add took the fast path).
        self.events += 1
        event_id = event["id"]
        row = self.row_of.pop(event_id, None)
        if row is not None:
            withdrawn = self.rows[row]
            assert withdrawn is not None  # row_of names live rows only
            self.rows[row] = None
            self.removed[event_id] = (withdrawn[6], index)
            self.last_position = (withdrawn[1], withdrawn[2])
            return True
        if event_id in self.removed:
            problems.warning("log-remove-unknown", rel, index,
                             f"line {index} removes {event_id!r}, already removed at "
                             f"line {self.removed[event_id][1]}",
                             "the second remove changes nothing")
        else:
            problems.error("log-remove-unknown", rel, index,
                           f"line {index} removes {event_id!r}, which no earlier line "
                           "adds", "a remove must follow the add it undoes")
        return False

    def _duplicate(self, event_id: str, index: int) -> None:
        row = self.row_of.get(event_id)
        live = self.rows[row] if row is not None else None
        first = live[6] if live is not None else self.removed[event_id][0]
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
        renumber: dict[int, int] = {}  # a row's number among the live rows
        if self.extras or self.unmatched:
            new = 0
            for old, row in enumerate(self.rows):
                if row is not None:
                    renumber[old] = new
                    new += 1
            table.extras = {renumber[row]: extra for row, extra in self.extras.items()
                            if row in renumber}
        if self.bodies is not None:
            table.checked = (self.bodies, {renumber[row] for row in self.unmatched
                                           if row in renumber})
        return table

    def finish(self) -> Replay:
        return Replay(self.coder, self.table(), self.events, self.problems, self.last_position,
                      self.lineage)

    def finish_for_entry(self) -> Replay:
        """``finish``, letting go of what only feeding needs (a row per coding, the id of
        each, the bodies): the cache entry, made later (``to_entry``), needs only the
        table and the counts, and a cold command counts beside it."""
        replay = self.finish()
        self.rows, self.row_of, self.shared, self.bodies = [], {}, {}, None
        return replay

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
    def from_entry(cls, entry: dict[str, Any], log: LogSource, cache: Cache) -> _Replayer:
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

    def table_from_entry(self, entry: dict[str, Any], log: LogSource, cache: Cache
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
        # Not walked for their depth again: the entry carries this machine's HMAC, so its
        # extras are the ones replay took from lines it had checked (MAX_JSON_DEPTH).
        table.extras = {row: extra for row, extra in entry["extra"]}
        table._rest = log.rest_loader(entry, cache)
        return table

    @classmethod
    def replay_of_entry(cls, entry: dict[str, Any], log: LogSource, cache: Cache) -> Replay:
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

