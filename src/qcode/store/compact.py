"""Compaction: the one sanctioned rewrite of a coding log (and of a suggestions log).

A compacted coding log is the log's current state: the ``add`` line of every live coding,
byte for byte as it was written (ids, times, memos, ``cb`` and every other field kept), in
the order of the log; ``remove`` lines and the codings they took back are gone. The new
bytes are computed in memory and *proven* before anything is written: their replay must
equal the replay of the old log, coding for coding and field for field (only log line
numbers differ). A ``transform`` (an ``add`` event as a dict -> the event to write, or
None to drop it) rewrites events on the way, for pseudonymising or erasing; the proof is
then that the replay of the new log equals the transform applied to the old replay.

Adjudication records a decision that leaves no coding («neither», or a span the consensus
already had) as an ``add`` carrying an ``adjudication`` record that a ``remove`` takes back
at once; adjudication reads those records to know what was decided. Compaction keeps each
such decision as a minimal pair (the add without its text, span or memo, then its remove),
so a compacted consensus log is not asked the same questions again and holds no old text.

A suggestions log keeps what ``qcode autocode`` and the review read: every pending,
accepted and rejected suggestion with its first decision; withdrawn suggestions (which
autocode ignores) and later, ignored decisions go. Its proof compares the
``SuggestionState`` before and after.

A log with a line qcode cannot read (a torn last line, broken JSON, an invalid event) is
never compacted: dropping the line silently would lose whatever it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.errors import QcodeError
from qcode.format.files import atomic_write
from qcode.problems import Problems
from qcode.store.events import ADD_KEYS, Event, encode_event, event_error
from qcode.store.journal import Transaction
from qcode.store.locks import FileLock
from qcode.store.replay import replay_bytes
from qcode.store.suggestions import (
    Suggestion,
    SuggestionState,
    _suggestion_event_error,
    replay_suggestions,
)

if TYPE_CHECKING:  # pragma: no cover
    from qcode.store.log import CodingStore

Transform = Callable[[Event], Event | None]

# Problems that do not lose anything when the line goes: a second remove of a coding, a
# second decision on a suggestion (both ignored by replay).
_HARMLESS = {"log-remove-unknown", "suggestion-decided"}


class CannotCompact(QcodeError):
    """A log holds a line qcode cannot read: it is not rewritten until someone looks."""


class CompactionNotProven(QcodeError):
    """The compacted log would not replay to the same state (a bug: nothing is written)."""


@dataclass
class Compacted:
    """A log's compacted bytes, proven, not yet written."""

    rel: str
    data: bytes
    events_before: int
    events_after: int
    bytes_before: int
    dropped: list[str] = field(default_factory=list)  # ids a transform dropped

    @property
    def changed(self) -> bool:
        return self.bytes_before != len(self.data) or self.events_before != self.events_after

    def to_dict(self) -> dict[str, Any]:
        return {"log": self.rel, "events_before": self.events_before,
                "events_after": self.events_after, "bytes_before": self.bytes_before,
                "bytes_after": len(self.data), "dropped": len(self.dropped)}


# -- coding logs --------------------------------------------------------------------------

def compact_coding_log(raw: bytes, coder: str, rel: str,
                       transform: Transform | None = None) -> Compacted:
    """The compacted form of the coding log ``raw`` (see the module's docstring)."""
    import orjson

    replay = replay_bytes(raw, coder, rel)
    _refuse_unreadable(replay.problems, rel)
    table = replay.table
    lines: list[bytes] = []
    expected: list[tuple] = []
    dropped: list[str] = []
    for row, coding in enumerate(replay.codings):
        line = raw[table.offsets[row]: table.offsets[row] + table.lengths[row]]
        if transform is None:
            lines.append(line + b"\n")
            expected.append(_coding_key(coding))
            continue
        event = transform(orjson.loads(line))
        if event is None:
            dropped.append(coding.id)
            continue
        error = event_error(event)
        if error or event.get("op") != "add":
            raise QcodeError(f"the rewrite of coding {coding.id} in {rel} is not a valid "
                             f"add event: {error or 'op must be add'}")
        lines.append(encode_event(event))
        expected.append(_event_key(event))
    live = {coding.id for coding in replay.codings}
    lines.extend(_decision_markers(raw, live, transform))
    data = b"".join(lines)
    after = replay_bytes(data, coder, rel)
    if after.problems or [_coding_key(c) for c in after.codings] != expected:
        raise CompactionNotProven(f"compacting {rel} would change its codings; nothing was "
                                  "written", "report this as a bug in qcode")
    return Compacted(rel, data, replay.events, after.events, len(raw), dropped)


# The field adjudication's records live in (``qcode.coding.adjudication.RECORD``).
DECISION_RECORD = "adjudication"


def _decision_markers(raw: bytes, live: set[str], transform: Transform | None
                      ) -> list[bytes]:
    """The decisions of adjudication that no live coding carries, as minimal add/remove
    pairs (see the module's docstring), in log order; ``transform`` rewrites or drops
    each add as it does a coding's."""
    import orjson

    if DECISION_RECORD.encode() not in raw:
        return []
    lines: list[bytes] = []
    seen: set[str] = set()
    for raw_line in raw.split(b"\n"):
        if b'"' + DECISION_RECORD.encode() + b'"' not in raw_line:
            continue
        try:
            event = orjson.loads(raw_line)
        except orjson.JSONDecodeError:
            continue  # an unreadable line was refused before this is reached
        if (not isinstance(event, dict) or event.get("op") != "add" or event_error(event)
                or event["id"] in live or event["id"] in seen
                or not isinstance(event.get(DECISION_RECORD), dict)):
            continue
        seen.add(event["id"])
        marker: Event = {
            "op": "add", "id": event["id"], "transcript": event["transcript"], "start": 0,
            "end": 0, "code": event["code"], "text": "", "at": event["at"],
            DECISION_RECORD: event[DECISION_RECORD]}
        kept = transform(marker) if transform is not None else marker
        if kept is None:
            continue
        marker = kept
        lines.append(encode_event(marker))
        lines.append(encode_event({"op": "remove", "id": marker["id"], "at": marker["at"]}))
    return lines


def _coding_key(coding: Any) -> tuple:
    extra = {k: v for k, v in coding.extra.items()}
    return (coding.id, coding.transcript, coding.start, coding.end, coding.code,
            coding.text, coding.at, coding.memo, extra)


def _event_key(event: Event) -> tuple:
    extra = {k: v for k, v in event.items() if k not in ADD_KEYS}
    return (event["id"], event["transcript"], event["start"], event["end"], event["code"],
            event["text"], event["at"], event.get("memo"), extra)


def _refuse_unreadable(problems: Problems, rel: str) -> None:
    for problem in problems:
        if problem.rule not in _HARMLESS:
            raise CannotCompact(f"{problem.file}:{problem.line}: {problem.message}; the log "
                                "is not compacted", "fix or delete that line first (restore "
                                "it from git), then compact again")


# -- suggestions logs ---------------------------------------------------------------------

def compact_suggestions_log(raw: bytes, coder: str, rel: str,
                            transform: Transform | None = None) -> Compacted:
    """The compacted form of the suggestions log ``raw`` (see the module's docstring)."""
    import orjson

    problems = Problems()
    before = replay_suggestions(raw.split(b"\n"), coder, rel, problems)
    _refuse_unreadable(problems, rel)
    kept = {id_: s for id_, s in before.suggestions.items() if s.status != "withdrawn"}
    rewritten: dict[str, Event] = {}
    dropped: list[str] = []
    decided: set[str] = set()
    lines: list[bytes] = []
    for raw_line in raw.split(b"\n"):
        if not raw_line.strip():
            continue
        event = orjson.loads(raw_line)
        if _suggestion_event_error(event):  # pragma: no cover - refused above
            continue
        event_id = event["id"]
        if event_id not in kept:
            continue
        if event["op"] == "add":
            if event_id in rewritten:
                continue  # a duplicate add, ignored by replay
            new = transform(event) if transform is not None else event
            if new is None:
                dropped.append(event_id)
                del kept[event_id]
                continue
            if _suggestion_event_error(new) or new.get("op") != "add" or new["id"] != event_id:
                raise QcodeError(f"the rewrite of suggestion {event_id} in {rel} is not a "
                                 "valid add event")
            rewritten[event_id] = new
            lines.append(raw_line + b"\n" if transform is None else encode_event(new))
        elif event_id not in decided:
            decided.add(event_id)
            lines.append(raw_line + b"\n")
    data = b"".join(lines)
    after_problems = Problems()
    after = replay_suggestions(data.split(b"\n"), coder, rel, after_problems)
    expected = [_suggestion_key(s, rewritten[id_]) for id_, s in kept.items()]
    if after_problems or [_suggestion_key(s) for s in after.suggestions.values()] != expected:
        raise CompactionNotProven(f"compacting {rel} would change its suggestions; nothing "
                                  "was written", "report this as a bug in qcode")
    return Compacted(rel, data, before.events, after.events, len(raw), dropped)


def _suggestion_key(suggestion: Suggestion, event: Event | None = None) -> tuple:
    """A suggestion's every field but its log line; with ``event``, the fields an add
    event sets taken from it (what a transform made), the decision from ``suggestion``."""
    s = suggestion
    fields = (s.id, s.transcript, s.start, s.end, s.code, s.text, s.at, s.rule, s.matches,
              s.passage)
    if event is not None:
        fields = (event["id"], event["transcript"], event["start"], event["end"],
                  event["code"], event["text"], event["at"], event.get("rule") or "",
                  event.get("matches") or [], event.get("passage"))
    return (*fields, s.status, s.decided_at, s.decided_by, s.coding)


def suggestion_states_equal(a: SuggestionState, b: SuggestionState) -> bool:
    """Whether two states say the same to autocode and the review (log lines aside)."""
    live = [_suggestion_key(s) for s in a.suggestions.values() if s.status != "withdrawn"]
    return live == [_suggestion_key(s) for s in b.suggestions.values()
                    if s.status != "withdrawn"]


# -- a project's logs ---------------------------------------------------------------------

@dataclass
class CompactionPlan:
    """The compacted logs of some coders, proven, ready to be written as one."""

    logs: list[tuple[Path, Compacted]]

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for _, c in self.logs]


def plan_compaction(store: CodingStore, coders: Iterable[str],
                    transform: Transform | None = None,
                    suggestions_transform: Transform | None = None) -> CompactionPlan:
    """Compute (and prove) the compacted coding and suggestions logs of ``coders``."""
    logs: list[tuple[Path, Compacted]] = []
    suggestion_logs = store.suggestion_logs()
    for coder in coders:
        path = store.log(coder).path
        if path.is_file():
            logs.append((path, compact_coding_log(_read(path, store), coder, store.rel(path),
                                                  transform)))
        spath = suggestion_logs.get(coder)
        if spath is not None:
            logs.append((spath, compact_suggestions_log(
                _read(spath, store), coder, store.rel(spath),
                suggestions_transform if suggestions_transform is not None else transform)))
    return CompactionPlan(logs)


def _read(path: Path, store: CodingStore) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise QcodeError(f"cannot read {store.rel(path)}: {exc.strerror}") from None


def stage_compaction(plan: CompactionPlan, transaction: Transaction,
                     force: bool = False) -> None:
    """Stage every changed log of ``plan`` in ``transaction`` (others are left alone,
    unless ``force``)."""
    for path, compacted in plan.logs:
        if force or compacted.changed or compacted.dropped:
            transaction.replace(path, compacted.data)


def write_backup(store: CodingStore, plan: CompactionPlan, backup: Path) -> Path:
    """Copy the logs as they are now to a new folder in ``backup``; returns that folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = Path(backup) / f"qcode-compact-{stamp}"
    for number in range(2, 1000):
        if not folder.exists():
            break
        folder = Path(backup) / f"qcode-compact-{stamp}-{number}"
    for path, _ in plan.logs:
        atomic_write(folder / store.rel(path), _read(path, store))
    return folder


def compact(store: CodingStore, coders: Iterable[str], backup: Path | None = None,
            transform: Transform | None = None) -> tuple[CompactionPlan, Path | None]:
    """Compact the logs of ``coders`` in one transaction (no coder may have a session
    open); with ``backup``, the old logs are copied there first."""
    coders = list(coders)
    store.ensure_no_session(coders, "compacting rewrites the coder's log")
    plan = plan_compaction(store, coders, transform)
    folder = write_backup(store, plan, backup) if backup is not None else None
    with Transaction(store.root, "compact") as transaction:
        stage_compaction(plan, transaction)
        commit_locked(plan, transaction)
    for coder in coders:
        store.forget(coder)
    return plan, folder


def commit_locked(plan: CompactionPlan, transaction: Transaction) -> None:
    """Commit ``transaction`` with every log of ``plan`` locked as appending locks it,
    from the check that it did not grow since it was read to the rename: a writer
    waiting for the lock then finds the log replaced and appends to the new one
    (``CodingLog`` reopens it). A log that grew meanwhile stops the commit."""
    with ExitStack() as locks:
        for path, compacted in plan.logs:
            fd = _open_log(path, compacted.rel)
            locks.callback(os.close, fd)
            locks.enter_context(FileLock(fd))
            if os.fstat(fd).st_size != compacted.bytes_before:
                raise QcodeError(f"{compacted.rel} changed while it was being rewritten; "
                                 "nothing was written", "run the command again")
        transaction.commit()


def _open_log(path: Path, rel: str) -> int:
    try:
        return os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise QcodeError(f"cannot read {rel}: {exc.strerror}") from None


def log_coders(store: CodingStore) -> list[str]:
    """Every coder with a coding log or a suggestions log."""
    return sorted(set(store.coders) | set(store.suggestion_logs()))

