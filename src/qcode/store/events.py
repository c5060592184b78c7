"""Coding events: the lines of a coding log, and the only functions that make them.

A line is one event::

    {"op": "add", "id": "…", "transcript": "…", "start": 0, "end": 9, "code": "…",
     "text": "…", "at": "2026-11-27T18:00:00.000Z", "memo": "…", "cb": "1.2"}
    {"op": "remove", "id": "<id of an earlier add>", "at": "…"}

Suggestions logs (``codings/<coder>.suggestions.jsonl``) add ``propose`` lines (an ``add``
with ``rule``, ``passage`` and ``matches``) and ``accept``, ``reject`` and ``remove``
(withdrawn) decisions. Every writer builds its events with the constructors below and
hands them to ``qcode.store.log.CodingLog``; nothing else writes a log.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

# An event as it is written: a JSON object. Built only by the constructors here.
Event = dict[str, Any]

LOG_SUFFIX = ".jsonl"
ADD_FIELDS = ("op", "id", "transcript", "start", "end", "code", "text", "at", "memo")
ADD_KEYS = frozenset(ADD_FIELDS)
# The codebook version a coding was made under (the codebook's `version:` as text), stamped
# by the project's logs on every new `add` (``stamp_codebook_version``); optional, so logs
# written before it and codings imported from other tools stay valid without one.
CODEBOOK_VERSION = "cb"

def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    # 64 random bits: collisions stay below one in a billion at a million codings.
    return secrets.token_hex(8)


def add_event(transcript: str, start: int, end: int, code: str, text: str,
              memo: str | None = None, **extra: Any) -> Event:
    """A coding of ``code`` on ``[start, end)`` of a transcript; ``text`` is the body's text
    there (what re-anchoring and ``check`` compare). ``extra`` fields (``reanchored_from``,
    ``adjudication``, ``suggestion``, ...) are kept in the log and ignored by replay."""
    event: Event = {
        "op": "add", "id": new_id(), "transcript": transcript, "start": start, "end": end,
        "code": code, "text": text, "at": now_iso(),
    }
    if memo:
        event["memo"] = memo
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def keep_codebook_version(event: Event, extra: dict[str, Any]) -> Event:
    """An ``add`` that writes an earlier coding again (memo edited, undo, re-anchored)
    keeps the version that coding was made under, or none: it was not made under the
    codebook of today. ``None`` tells ``stamp_codebook_version`` to leave the field out."""
    event[CODEBOOK_VERSION] = extra.get(CODEBOOK_VERSION)
    return event


def stamp_codebook_version(events: list[Event], version: str | None) -> None:
    """Give each new ``add`` the codebook ``version`` it is made under; an event that
    names its version already (``keep_codebook_version``) keeps it."""
    for event in events:
        if event.get("op") != "add":
            continue
        if CODEBOOK_VERSION not in event:
            if version is not None:
                event[CODEBOOK_VERSION] = version
        elif event[CODEBOOK_VERSION] is None:
            del event[CODEBOOK_VERSION]


def remove_event(coding_id: str, **extra: Any) -> Event:
    """The withdrawal of the coding added with id ``coding_id``."""
    event: Event = {"op": "remove", "id": coding_id, "at": now_iso()}
    event.update({k: v for k, v in extra.items() if v is not None})
    return event


def encode_event(event: Event) -> bytes:
    return (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")



def event_error(event: Any) -> str | None:
    """Why a parsed line is not a valid coding event, or None when it is."""
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



# -- suggestions logs --------------------------------------------------------------------------

def propose_event(transcript: str, start: int, end: int, code: str, text: str, at: str,
                  rule: str, passage: int | None,
                  matches: Sequence[tuple[int, int] | list[int]],
                  source: str = "rules", probability: float | None = None,
                  features: Sequence[str] = (), threshold: float | None = None) -> Event:
    """A suggestion of ``qcode autocode``: an ``add`` with the rule that made it, its
    passage and the matched words. A suggestion learned from a coder's work (``source``
    ``learned``) also carries the model's ``probability`` and the ``features`` (words)
    that weighed most for it; a rule's suggestion stays as it always was written."""
    event: Event = {"op": "add", "id": new_id(), "transcript": transcript, "start": start,
                    "end": end, "code": code, "text": text, "at": at, "rule": rule,
                    "passage": passage, "matches": [list(m) for m in matches]}
    if source != "rules":
        event["source"] = source
    if probability is not None:
        event["probability"] = round(float(probability), 4)
    if threshold is not None:  # the code's decision threshold: the review orders by distance
        event["threshold"] = round(float(threshold), 4)
    if features:
        event["features"] = list(features)
    return event


def accept_event(suggestion_id: str, coder: str, coding_id: str, at: str) -> Event:
    """A coder accepted a suggestion; ``coding_id`` is the coding it became."""
    return {"op": "accept", "id": suggestion_id, "at": at, "coder": coder,
            "coding": coding_id}


def reject_event(suggestion_id: str, coder: str, at: str) -> Event:
    """A coder rejected a suggestion (remembered: never proposed again)."""
    return {"op": "reject", "id": suggestion_id, "at": at, "coder": coder}


def withdraw_event(suggestion_id: str, at: str, reason: str) -> Event:
    """``qcode autocode`` withdrew a pending suggestion its rules no longer make."""
    return {"op": "remove", "id": suggestion_id, "at": at, "reason": reason}
