"""Suggestions logs: proposals of ``qcode autocode`` waiting for a coder's review.

``codings/<coder>.suggestions.jsonl`` is append-only, like a coding log, with the same
``add`` lines (plus ``rule``, ``passage`` and ``matches``) and three more kinds of event::

    {"op": "add", "id": "…", "transcript": "…", "start": 0, "end": 9, "code": "…",
     "text": "…", "at": "…", "rule": "match \\"vikar*\\"", "passage": 4, "matches": [[3, 9]]}
    {"op": "accept", "id": "<suggestion id>", "at": "…", "coder": "me", "coding": "<id>"}
    {"op": "reject", "id": "<suggestion id>", "at": "…", "coder": "me"}
    {"op": "remove", "id": "<suggestion id>", "at": "…", "reason": "no longer matched"}

A suggestion is *pending* until it is accepted (its coding was appended to the coder's
log, ``codings/<coder>.jsonl``, with ``memo: "autocode: <rule>"``), rejected (remembered:
``qcode autocode`` never proposes it again) or withdrawn by ``qcode autocode`` (the rules
no longer make it). The first decision on a suggestion is the one that counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from qcode._bulk import bulk_load
from qcode.problems import Problems
from qcode.store.events import Event, event_error
from qcode.store.replay import _report_unreadable

if TYPE_CHECKING:  # pragma: no cover
    from qcode.store.log import CodingLog, CodingStore


class _HasStore(Protocol):
    @property
    def store(self) -> CodingStore: ...


STATUS_BY_OP = {"accept": "accepted", "reject": "rejected", "remove": "withdrawn"}


@dataclass
class Suggestion:
    id: str
    transcript: str
    start: int
    end: int
    code: str
    text: str
    at: str
    rule: str = ""
    matches: list[list[int]] = field(default_factory=list)  # [[start, end], ...] in the body
    passage: int | None = None
    line: int = 0
    status: str = "pending"  # pending | accepted | rejected | withdrawn
    decided_at: str | None = None
    decided_by: str | None = None
    coding: str | None = None  # the id of the coding an acceptance added
    source: str = "rules"  # rules | learned (``qcode autocode --learn``)
    probability: float | None = None  # a learned suggestion's calibrated probability
    features: list[str] = field(default_factory=list)  # the words that weighed most
    threshold: float | None = None  # the probability above which the model proposed it

    @property
    def memo(self) -> str:
        return f"autocode: {self.rule}" if self.rule else "autocode"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "transcript": self.transcript, "start": self.start,
                "end": self.end, "code": self.code, "text": self.text, "rule": self.rule,
                "passage": self.passage, "matches": [list(m) for m in self.matches],
                "status": self.status, "source": self.source,
                "probability": self.probability, "features": list(self.features),
                "threshold": self.threshold}


@dataclass
class SuggestionState:
    coder: str
    suggestions: dict[str, Suggestion]  # by id, in log order
    problems: Problems
    events: int = 0

    def count(self, status: str) -> int:
        return sum(1 for s in self.suggestions.values() if s.status == status)


class SuggestionLog:
    """``codings/<coder>.suggestions.jsonl``: written through a ``CodingLog`` like any log."""

    def __init__(self, store: CodingStore | _HasStore, coder: str) -> None:
        from qcode.store.log import CodingLog, CodingStore

        store = store if isinstance(store, CodingStore) else store.store
        self.coder = coder
        self.path = store.suggestions_log_path(coder)
        self.rel = store.rel(self.path)
        self._log: CodingLog = CodingLog(self.path, coder, self.rel)

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, events: list[Event]) -> int:
        return self._log.append(events)

    def read(self) -> SuggestionState:
        problems = Problems()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return SuggestionState(self.coder, {}, problems)
        except OSError as exc:
            problems.error("file-unreadable", self.rel, None,
                           f"cannot read {self.rel}: {exc.strerror}")
            return SuggestionState(self.coder, {}, problems)
        with bulk_load():
            return replay_suggestions(raw.split(b"\n"), self.coder, self.rel, problems)


def replay_suggestions(lines: list[bytes], coder: str, rel: str,
                       problems: Problems) -> SuggestionState:
    import orjson

    suggestions: dict[str, Suggestion] = {}
    events = 0
    for index, raw_line in enumerate(lines, start=1):
        try:
            event = orjson.loads(raw_line)
        except orjson.JSONDecodeError as exc:
            if raw_line.strip():
                _report_unreadable(raw_line, exc, index, rel, problems)
            continue
        error = _suggestion_event_error(event)
        if error:
            problems.error("log-invalid-event", rel, index, f"line {index}: {error}",
                           "suggestions logs are written by `qcode autocode` and the review; "
                           "restore the line from git")
            continue
        events += 1
        op, event_id = event["op"], event["id"]
        if op == "add":
            if event_id in suggestions:
                problems.error("log-duplicate-id", rel, index,
                               f"line {index} adds id {event_id!r} again (first at line "
                               f"{suggestions[event_id].line}); the later one is ignored",
                               "event ids must be unique in a log")
                continue
            suggestions[event_id] = Suggestion(
                id=event_id, transcript=event["transcript"], start=event["start"],
                end=event["end"], code=event["code"], text=event["text"], at=event["at"],
                rule=event.get("rule") or "", matches=event.get("matches") or [],
                passage=event.get("passage"), line=index,
                source=event.get("source") or "rules", probability=event.get("probability"),
                features=event.get("features") or [], threshold=event.get("threshold"))
            continue
        suggestion = suggestions.get(event_id)
        if suggestion is None:
            problems.error("suggestion-unknown-id", rel, index,
                           f"line {index}: {op} of {event_id!r}, which no earlier line adds",
                           "an accept, reject or remove must follow the suggestion it decides")
        elif suggestion.status != "pending":
            problems.warning("suggestion-decided", rel, index,
                             f"line {index}: {op} of {event_id!r}, already {suggestion.status} "
                             "earlier; the first decision counts", "delete the later line")
        else:
            suggestion.status = STATUS_BY_OP[op]
            suggestion.decided_at = event["at"]
            suggestion.decided_by = event.get("coder")
            suggestion.coding = event.get("coding")
    return SuggestionState(coder, suggestions, problems, events)


def _suggestion_event_error(event: Any) -> str | None:
    if type(event) is not dict:
        return "an event must be a JSON object"
    op = event.get("op")
    if op in ("accept", "reject"):
        if type(event.get("id")) is not str or not event["id"]:
            return "`id` must be a non-empty string"
        if type(event.get("at")) is not str:
            return "`at` must be an ISO-8601 time string"
        for key in ("coder", "coding"):
            if key in event and not isinstance(event[key], str):
                return f"`{key}` must be a string"
        return None
    if op not in ("add", "remove"):
        return f"`op` must be \"add\", \"accept\", \"reject\" or \"remove\", not {op!r}"
    error = event_error(event)
    if error or op == "remove":
        return error
    if "rule" in event and not isinstance(event["rule"], str):
        return "`rule` must be a string"
    if "passage" in event and type(event["passage"]) is not int:
        return "`passage` must be a whole number"
    if "source" in event and event["source"] not in ("rules", "learned"):
        return "`source` must be \"rules\" or \"learned\""
    for key in ("probability", "threshold"):
        number = event.get(key)
        if number is not None and (type(number) not in (int, float) or not 0 <= number <= 1):
            return f"`{key}` must be a number from 0 to 1"
    features = event.get("features", [])
    if type(features) is not list or not all(isinstance(f, str) for f in features):
        return "`features` must be a list of strings"
    matches = event.get("matches", [])
    if type(matches) is not list:
        return "`matches` must be a list of [start, end] pairs"
    for pair in matches:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int \
                or type(pair[1]) is not int:
            return "`matches` must be a list of [start, end] pairs"
    return None
