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

import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode._bulk import bulk_load
from qcode.errors import LogWriteError
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    import pandas

LOG_SUFFIX = ".jsonl"
_ADD_FIELDS = ("op", "id", "transcript", "start", "end", "code", "text", "at", "memo")
_ADD_KEYS = frozenset(_ADD_FIELDS)


# Not frozen: constructing a frozen dataclass costs twice as much, and replay builds
# hundreds of thousands of these. Treat them as read-only all the same.
@dataclass(slots=True, unsafe_hash=True)
class Coding:
    """A current coding of one coder: a code on the span ``[start, end)`` of a transcript."""

    id: str
    coder: str
    transcript: str
    start: int
    end: int
    code: str
    text: str
    at: str
    memo: str | None = None
    line: int = 0  # the log line of the `add` event
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "coder": self.coder, "transcript": self.transcript,
            "start": self.start, "end": self.end, "code": self.code, "text": self.text,
            "at": self.at, "memo": self.memo,
        }


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
    codings: list[Coding]
    events: int
    problems: Problems
    # Where the coder last worked: (transcript, start) of the latest add or remove.
    last_position: tuple[str, int] | None = None


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
            replay = replay_lines(raw.split(b"\n"), self.coder, self.rel, Problems())
            return build({c.id: c for c in replay.codings})

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
                events = events_for(_read_all(fd, size) if read else b"")
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

    def replay(self) -> Replay:
        """Read the whole log and replay it; never raises for bad content."""
        problems = Problems()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return Replay(self.coder, [], 0, problems)
        except OSError as exc:
            problems.error("file-unreadable", self.rel, None,
                           f"cannot read {self.rel}: {exc.strerror}")
            return Replay(self.coder, [], 0, problems)
        with bulk_load():
            return replay_lines(raw.split(b"\n"), self.coder, self.rel, problems)


def _read_all(fd: int, size: int) -> bytes:
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, min(1 << 20, size - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def replay_lines(lines: list[bytes], coder: str, rel: str, problems: Problems) -> Replay:
    import orjson

    active: dict[str, Coding] = {}
    removed_at: dict[str, int] = {}
    last_position: tuple[str, int] | None = None
    seen_ids: dict[str, int] = {}
    events = 0
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for index, raw_line in enumerate(lines, start=1):
        try:
            event = loads(raw_line)
        except decode_error as exc:
            if not raw_line.strip():
                continue
            _report_unreadable(raw_line, exc, index, rel, problems)
            continue
        error = _event_error(event)
        if error:
            problems.error("log-invalid-event", rel, index, f"line {index}: {error}",
                           "each line needs op, id, at (and for add: transcript, start, end, "
                           "code, text)")
            continue
        events += 1
        event_id = event["id"]
        if event["op"] == "add":
            if event_id in seen_ids:
                problems.error("log-duplicate-id", rel, index,
                               f"line {index} adds id {event_id!r} again (first at line "
                               f"{seen_ids[event_id]}); the later one is ignored",
                               "event ids must be unique in a log")
                continue
            seen_ids[event_id] = index
            extra = ({} if _ADD_KEYS.issuperset(event)
                     else {k: v for k, v in event.items() if k not in _ADD_KEYS})
            active[event_id] = Coding(
                id=event_id, coder=coder, transcript=event["transcript"],
                start=event["start"], end=event["end"], code=event["code"],
                text=event["text"], at=event["at"], memo=event.get("memo"), line=index,
                extra=extra,
            )
            last_position = (event["transcript"], event["start"])
        else:
            withdrawn = active.pop(event_id, None)
            if withdrawn is not None:
                removed_at[event_id] = index
                last_position = (withdrawn.transcript, withdrawn.start)
            elif event_id in removed_at:
                problems.warning("log-remove-unknown", rel, index,
                                 f"line {index} removes {event_id!r}, already removed at line "
                                 f"{removed_at[event_id]}", "the second remove changes nothing")
            else:
                problems.error("log-remove-unknown", rel, index,
                               f"line {index} removes {event_id!r}, which no earlier line adds",
                               "a remove must follow the add it undoes")
    return Replay(coder, list(active.values()), events, problems, last_position)


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
