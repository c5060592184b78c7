"""Suggestions: proposals of ``qcode autocode`` waiting for a coder's review.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode._bulk import bulk_load
from qcode.problems import Problems
from qcode.store.log import LOG_SUFFIX, CodingLog, add_event, now_iso

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript
    from qcode.project import Project

SUGGESTIONS_SUFFIX = ".suggestions"
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

    @property
    def memo(self) -> str:
        return f"autocode: {self.rule}" if self.rule else "autocode"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "transcript": self.transcript, "start": self.start,
                "end": self.end, "code": self.code, "text": self.text, "rule": self.rule,
                "passage": self.passage, "matches": [list(m) for m in self.matches],
                "status": self.status}


@dataclass
class SuggestionState:
    coder: str
    suggestions: dict[str, Suggestion]  # by id, in log order
    problems: Problems
    events: int = 0

    def count(self, status: str) -> int:
        return sum(1 for s in self.suggestions.values() if s.status == status)


def suggestions_path(project: Project, coder: str) -> Path:
    return project.codings_dir / f"{coder}{SUGGESTIONS_SUFFIX}{LOG_SUFFIX}"


def suggestion_logs(project: Project) -> dict[str, Path]:
    """The suggestions logs of the project, by coder name."""
    from qcode.format.config import CODER_RE

    folder = project.codings_dir
    if not folder.is_dir():
        return {}
    found = {}
    ending = SUGGESTIONS_SUFFIX + LOG_SUFFIX
    for path in sorted(folder.glob(f"*{ending}")):
        coder = path.name[: -len(ending)]
        if CODER_RE.match(coder):
            found[coder] = path
    return found


class SuggestionLog:
    """``codings/<coder>.suggestions.jsonl``: appended under the same lock as coding logs."""

    def __init__(self, project: Project, coder: str) -> None:
        from qcode.project import check_coder_name

        check_coder_name(coder)
        self.coder = coder
        self.path = suggestions_path(project, coder)
        self.rel = project.rel(self.path)
        self._log = CodingLog(self.path, coder, self.rel)

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, events: list[dict[str, Any]]) -> int:
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

    from qcode.store.log import _event_error, _report_unreadable

    suggestions: dict[str, Suggestion] = {}
    events = 0
    for index, raw_line in enumerate(lines, start=1):
        try:
            event = orjson.loads(raw_line)
        except orjson.JSONDecodeError as exc:
            if raw_line.strip():
                _report_unreadable(raw_line, exc, index, rel, problems)
            continue
        error = _suggestion_event_error(event, _event_error)
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
                passage=event.get("passage"), line=index)
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


def _suggestion_event_error(event: Any, coding_event_error) -> str | None:
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
    error = coding_event_error(event)
    if error or op == "remove":
        return error
    if "rule" in event and not isinstance(event["rule"], str):
        return "`rule` must be a string"
    if "passage" in event and type(event["passage"]) is not int:
        return "`passage` must be a whole number"
    matches = event.get("matches", [])
    if type(matches) is not list:
        return "`matches` must be a list of [start, end] pairs"
    for pair in matches:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int \
                or type(pair[1]) is not int:
            return "`matches` must be a list of [start, end] pairs"
    return None


def check_suggestion_logs(project: Project, problems: Problems) -> None:
    """The `qcode check` rules for suggestions logs: readable events, known transcripts and
    codes, and pending suggestions still on their text."""
    if project.config is None:
        return
    from qcode.format.names import did_you_mean

    codebook = project._codebook
    transcripts = {t.id: t for t in project.transcripts}
    for coder in suggestion_logs(project):
        log = SuggestionLog(project, coder)
        state = log.read()
        problems.extend(state.problems)
        for suggestion in state.suggestions.values():
            where = (f"suggestion {suggestion.id} ({suggestion.code} on {suggestion.transcript} "
                     f"{suggestion.start}:{suggestion.end})")
            transcript = transcripts.get(suggestion.transcript)
            if transcript is None:
                guess = did_you_mean(suggestion.transcript, transcripts)
                problems.error("suggestion-unknown-transcript", log.rel, suggestion.line,
                               f"{where}: unknown transcript {suggestion.transcript!r}",
                               f"did you mean {guess[0]!r}?" if guess
                               else "restore the transcript; `qcode autocode` withdraws "
                                    "suggestions only for transcripts it sees")
            if codebook is not None and codebook.resolve(suggestion.code) is None:
                guess = did_you_mean(suggestion.code, codebook.ids)
                problems.error("suggestion-unknown-code", log.rel, suggestion.line,
                               f"{where}: unknown code {suggestion.code!r}",
                               f"did you mean {guess[0]!r}? (a renamed code keeps its old id "
                               "in `aliases`)" if guess else "add the code, or its old id to "
                               "a code's `aliases`")
            if (transcript is not None and suggestion.status == "pending"
                    and transcript.body[suggestion.start:suggestion.end] != suggestion.text):
                problems.warning("suggestion-stale", log.rel, suggestion.line,
                                 f"{where}: the transcript changed since it was proposed",
                                 f"run `qcode autocode --coder {coder}` to withdraw it and "
                                 "propose again")


# -- reviewing ---------------------------------------------------------------------------------


class Review:
    """A coder reviewing suggestions: accepting appends the coding to the coder's own log
    (``memo: "autocode: <rule>"``), then records the decision in the suggestions log.

    ``source`` is whose suggestions log is reviewed (default: the coder's own). Only valid
    pending suggestions are offered: on a known transcript whose text is unchanged, with a
    codable code, and not already coded so by the coder (that covers a crash between the
    two appends of an acceptance).
    """

    def __init__(self, project: Project, coder: str, source: str | None = None,
                 transcripts: list[str] | None = None) -> None:
        from qcode.project import check_coder_name

        check_coder_name(coder)
        self.project = project
        self.coder = coder
        self.source = source or coder
        self.codebook = project.codebook
        self.log = SuggestionLog(project, self.source)
        self.coding_log = project.log(coder)
        self.state = self.log.read()
        chosen = transcripts or [t.id for t in project.transcripts]
        self._transcripts: dict[str, Transcript] = {
            t: project.transcript(t) for t in chosen}
        self._order = {code.id: index for index, code in enumerate(self.codebook)}
        self._coded: dict[tuple[str, str], list[tuple[int, int]]] = {}
        if self.coding_log.exists():
            for coding in project.replay(coder).codings:
                self._coded.setdefault((coding.transcript, self._canonical(coding.code)),
                                       []).append((coding.start, coding.end))
        self._by_transcript: dict[str, list[Suggestion]] = {}
        for suggestion in self.state.suggestions.values():
            self._by_transcript.setdefault(suggestion.transcript, []).append(suggestion)
        self.accepted = 0
        self.rejected = 0

    def _canonical(self, code_id: str) -> str:
        code = self.codebook.resolve(code_id)
        return code.id if code else code_id

    def transcript(self, suggestion: Suggestion) -> Transcript:
        return self._transcripts[suggestion.transcript]

    def is_pending(self, suggestion: Suggestion) -> bool:
        if suggestion.status != "pending":
            return False
        transcript = self._transcripts.get(suggestion.transcript)
        if transcript is None or transcript.body[suggestion.start:suggestion.end] != suggestion.text:
            return False
        code = self.codebook.resolve(suggestion.code)
        if code is None or not code.codable:
            return False
        return not any(start <= suggestion.start and suggestion.end <= end
                       for start, end in self._coded.get((suggestion.transcript, code.id), ()))

    def pending(self, transcript: str | None = None, code: str | None = None
                ) -> list[Suggestion]:
        """Valid pending suggestions in transcript order, then by position and codebook order."""
        rank = {t: i for i, t in enumerate(self._transcripts)}
        wanted = self._canonical(code) if code else None
        pool = (self.state.suggestions.values() if transcript is None
                else self._by_transcript.get(transcript, []))
        found = [s for s in pool if self.is_pending(s)
                 and (wanted is None or self._canonical(s.code) == wanted)]
        found.sort(key=lambda s: (rank[s.transcript], s.start, s.end,
                                  self._order.get(self._canonical(s.code), 0)))
        return found

    def accept(self, suggestions: list[Suggestion]) -> list[dict[str, Any]]:
        """Accept pending suggestions; returns the coding events appended to the coder's log."""
        from qcode.errors import QcodeError

        for suggestion in suggestions:
            if suggestion.status != "pending":
                raise QcodeError(f"suggestion {suggestion.id} is already {suggestion.status}")
        chosen = list({s.id: s for s in suggestions if self.is_pending(s)}.values())
        if not chosen:
            return []
        codings = [add_event(s.transcript, s.start, s.end, self._canonical(s.code), s.text,
                             s.memo, suggestion=s.id) for s in chosen]
        # The coding first: a crash before the second append leaves a coded passage whose
        # suggestion is no longer offered (see is_pending), never a lost acceptance.
        self.coding_log.append(codings)
        self.project._forget(self.coder)
        at = now_iso()
        self.log.append([{"op": "accept", "id": s.id, "at": at, "coder": self.coder,
                          "coding": c["id"]} for s, c in zip(chosen, codings, strict=True)])
        for suggestion, coding in zip(chosen, codings, strict=True):
            suggestion.status, suggestion.decided_at = "accepted", at
            suggestion.decided_by, suggestion.coding = self.coder, coding["id"]
            self._coded.setdefault((suggestion.transcript, coding["code"]), []).append(
                (suggestion.start, suggestion.end))
        self.accepted += len(chosen)
        return codings

    def reject(self, suggestions: list[Suggestion]) -> int:
        chosen = list({s.id: s for s in suggestions if s.status == "pending"}.values())
        if not chosen:
            return 0
        at = now_iso()
        self.log.append([{"op": "reject", "id": s.id, "at": at, "coder": self.coder}
                         for s in chosen])
        for suggestion in chosen:
            suggestion.status, suggestion.decided_at = "rejected", at
            suggestion.decided_by = self.coder
        self.rejected += len(chosen)
        return len(chosen)

    def accept_all(self, transcript: str, code: str) -> list[dict[str, Any]]:
        """Accept every pending suggestion of ``code`` in ``transcript``."""
        return self.accept(self.pending(transcript, code))

    def reject_all(self, transcript: str, code: str) -> int:
        return self.reject(self.pending(transcript, code))
