"""Adjudication: two coders' disagreements resolved, one decision at a time, into a third
coder's log (the *consensus*), which is append-only like any other.

The unit of decision is a passage and a code. For coders A and B, each (transcript,
passage, code) that either coded is an ``Item``:

- ``agreement`` — both coded it and cover the same characters of the passage. These are
  copied into the consensus log without asking (``copy_agreements``).
- ``presence`` — one coded it, the other did not.
- ``extent`` — both coded it, but not the same characters.

Disagreements wait in ``pending()`` until ``decide(item, decision)`` with one of

- ``"a"`` / ``"b"``: take A's (or B's) coding of the passage (nothing, if they had none);
- ``"both"``: the characters either coded (merged);
- ``"neither"``: no coding;
- ``"edit"``: the spans given (inside the passage; none means no coding).

Each decision is appended at once (one locked, fsynced write), so quitting loses
nothing. Segments written are cut at the passage's bounds. Every event written carries an
``adjudication`` record (``coders``, ``passage``, ``decision``, ``from``) and a memo that
says where the coding came from, with the original coders' memos. A decision that leaves
no coding is recorded as an ``add`` of the passage immediately withdrawn by a ``remove``,
so the log says what was decided while the consensus's current codings stay clean.

Resuming reads those records from the consensus log (removed events included): recorded
items are neither asked again nor copied twice. Later changes to A's or B's logs do not
reopen a recorded item.

A user interface drives this object: list ``pending()``, show an item, call ``decide``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qcode.analysis.reliability import Span, merge_spans, passage_spans, resolve_agreement_scope
from qcode.analysis.units import disagreement_kind
from qcode.errors import QcodeError, UsageError
from qcode.format.names import check_coder_name
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, add_event, remove_event

DECISIONS = ("a", "b", "both", "neither", "edit")
RECORD = "adjudication"
KINDS = ("agreement", "presence", "extent")


@dataclass(frozen=True)
class Item:
    """One (transcript, passage, code) and what each of the two coders did with it."""

    transcript: str
    passage: int
    code: str
    first: tuple[Span, ...]    # coder A's coverage of the passage (merged spans)
    second: tuple[Span, ...]   # coder B's
    start: int                 # the passage's span
    end: int
    speaker: str | None
    line: int
    text: str                  # the passage's text
    first_memos: tuple[str, ...] = ()
    second_memos: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """``agreement``, or the kind of disagreement as `qcode agree` defines it."""
        return disagreement_kind((self.first, self.second)) or "agreement"

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.transcript, self.passage, self.code)

    def excerpt(self, span: Span) -> str:
        """The text of a span inside this passage."""
        return self.text[span[0] - self.start:span[1] - self.start]


@dataclass(frozen=True)
class Decision:
    """What ``decide`` wrote: the item, the decision and the consensus spans."""

    item: Item
    decision: str
    spans: tuple[Span, ...]
    events: int


class Adjudication:
    """The adjudication of coders ``first`` and ``second`` into coder ``into``."""

    def __init__(self, corpus: Corpus | HasCorpus, first: str, second: str,
                 into: str = "consensus", codes: Iterable[str] | None = None,
                 where: Iterable[str] = ()) -> None:
        corpus = as_corpus(corpus)
        check_coder_name(into)
        if first == second:
            raise UsageError(f"adjudication needs two different coders, got {first!r} twice")
        if into in (first, second):
            raise UsageError(f"the consensus coder {into!r} cannot be one of the coders "
                             "adjudicated", "name a new coder with --into, e.g. consensus")
        self.corpus = corpus
        self.first, self.second, self.into = first, second, into
        self.lock = corpus.store.session_lock(into)
        self.scope = resolve_agreement_scope(corpus, [first, second], codes, where)
        if not self.scope.transcripts:
            raise QcodeError(f"no transcript is coded by both {first} and {second}",
                             "each coder must have coded a transcript for it to count")
        self._transcripts = {t.id: t for t in self.scope.transcripts}
        self.items = self._items()
        self._decided = self._recorded()

    def __enter__(self) -> Adjudication:
        """Hold the consensus coder's session lock while adjudicating: no `qcode code`
        session of that coder can go stale under the decisions."""
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    # -- what there is to do ----------------------------------------------------------------

    @property
    def left_out(self) -> dict[str, list[str]]:
        """Transcripts not coded by both coders (transcript -> who did not code it)."""
        return self.scope.left_out

    def _items(self) -> list[Item]:
        memos = self._memos()
        items = []
        for (tid, number, code), per_coder in passage_spans(self.scope).items():
            transcript = self._transcripts[tid]
            passage = transcript.passage(number)
            items.append(Item(
                tid, number, code, per_coder.get(self.first, ()),
                per_coder.get(self.second, ()), passage.start, passage.end, passage.speaker,
                passage.line, transcript.body[passage.start:passage.end],
                memos.get((self.first, tid, number, code), ()),
                memos.get((self.second, tid, number, code), ())))
        return items

    def _memos(self) -> dict[tuple[str, str, int, str], tuple[str, ...]]:
        """The coders' memos on their codings, per (coder, transcript, passage, code)."""
        codebook = self.corpus.codebook
        out: dict[tuple[str, str, int, str], tuple[str, ...]] = {}
        for coding in self.corpus.codings([self.first, self.second]):
            transcript = self._transcripts.get(coding.transcript)
            code = codebook.resolve(coding.code)
            if not coding.memo or transcript is None or code is None:
                continue
            for passage in transcript.passages_overlapping(coding.start, coding.end):
                key = (coding.coder, transcript.id, passage.number, code.id)
                if coding.memo not in out.get(key, ()):
                    out[key] = (*out.get(key, ()), coding.memo)
        return out

    def _recorded(self) -> dict[tuple[str, int, str], str]:
        """Items already decided, from the ``adjudication`` records in the consensus log.

        The log is read line by line, removed events included; lines that are not events
        are skipped here (``qcode check`` reports them)."""
        log = self.corpus.store.log(self.into)
        decided: dict[tuple[str, int, str], str] = {}
        if not log.exists():
            return decided
        pair = {self.first, self.second}
        codebook = self.corpus.codebook
        for raw in log.path.read_bytes().split(b"\n"):
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(event, dict) or event.get("op") != "add":
                continue
            record = event.get(RECORD)
            if not isinstance(record, dict) or not isinstance(record.get("coders"), list):
                continue
            if set(record["coders"]) != pair or not isinstance(event.get("code"), str):
                continue
            code = codebook.resolve(event["code"])
            transcript, passage = event.get("transcript"), record.get("passage")
            if code is not None and isinstance(transcript, str) and type(passage) is int:
                decided[(transcript, passage, code.id)] = str(record.get("decision"))
        return decided

    def is_decided(self, item: Item) -> bool:
        return item.key in self._decided

    def agreements(self) -> list[Item]:
        """Agreements not yet copied into the consensus."""
        return [i for i in self.items if i.kind == "agreement" and not self.is_decided(i)]

    def disagreements(self) -> list[Item]:
        """Every disagreement, decided or not, in transcript, passage, codebook order."""
        return [i for i in self.items if i.kind != "agreement"]

    def pending(self) -> list[Item]:
        """Disagreements still to decide, in transcript, passage, codebook order."""
        return [i for i in self.disagreements() if not self.is_decided(i)]

    def progress(self) -> tuple[int, int]:
        """(decided, all) disagreements."""
        every = self.disagreements()
        return sum(1 for i in every if self.is_decided(i)), len(every)

    # -- writing ----------------------------------------------------------------------------

    def _record(self, item: Item, decision: str, source: str | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"coders": [self.first, self.second],
                                  "passage": item.passage, "decision": decision}
        if source:
            record["from"] = source
        return record

    def _describe(self, spans: tuple[Span, ...], item: Item) -> str:
        if not spans:
            return "nothing"
        if spans == ((item.start, item.end),):
            return "the passage"
        return ", ".join(f"{s}:{e}" for s, e in spans)

    def _memo(self, item: Item, summary: str) -> str:
        parts = [summary]
        for coder, memos in ((self.first, item.first_memos), (self.second, item.second_memos)):
            parts += [f"{coder}'s memo: {memo}" for memo in memos]
        return " | ".join(parts)

    def _events(self, item: Item, spans: tuple[Span, ...], memo: str,
                record: dict[str, Any]) -> list[Event]:
        body = self._transcripts[item.transcript].body
        canonical = self.corpus.codebook.canonical
        present = {(c.start, c.end) for c in self.corpus.codings(self.into)
                   if c.transcript == item.transcript and canonical(c.code) == item.code}
        new = [s for s in spans if s not in present]
        if new:
            return [add_event(item.transcript, s, e, item.code, body[s:e], memo,
                              **{RECORD: record}) for s, e in new]
        # Nothing to add (no coding, or the consensus has it already): record the
        # decision with an add of the passage that a remove withdraws at once.
        marker = add_event(item.transcript, item.start, item.end, item.code, item.text, memo,
                           **{RECORD: record})
        return [marker, remove_event(marker["id"], **{RECORD: record})]

    def _append(self, events: list[Event]) -> int:
        if not self.lock.held:
            self.corpus.store.ensure_no_session(
                [self.into], f"adjudicating into {self.into} would change its codings")
        return self.corpus.store.log(self.into).append(events)

    def copy_agreements(self) -> int:
        """Copy every agreement not yet copied into the consensus; returns how many items."""
        items = self.agreements()
        events: list[Event] = []
        for item in items:
            memo = self._memo(item, f"agreed: {self.first} and {self.second} both coded "
                                    f"{self._describe(item.first, item)}")
            events += self._events(item, item.first, memo, self._record(item, "agreed"))
        self._append(events)
        for item in items:
            self._decided[item.key] = "agreed"
        return len(items)

    def decide(self, item: Item, decision: str, spans: Sequence[Span] | None = None,
               reason: str | None = None) -> Decision:
        """Apply one decision on a pending item and append it to the consensus log.
        ``reason`` (why it was decided so) is kept in the record and the memo."""
        if decision not in DECISIONS:
            raise UsageError(f"unknown decision {decision!r}", f"one of {', '.join(DECISIONS)}")
        if self.is_decided(item):
            raise QcodeError(f"{item.transcript} passage {item.passage} {item.code} is "
                             "already decided", "the consensus log records each decision once")
        a, b = self.first, self.second
        what = {a: self._describe(item.first, item), b: self._describe(item.second, item)}
        source = None
        if decision == "a":
            chosen, source = item.first, a
            summary = f"adjudicated: {a}'s coding ({a} coded {what[a]}, {b} {what[b]})"
        elif decision == "b":
            chosen, source = item.second, b
            summary = f"adjudicated: {b}'s coding ({a} coded {what[a]}, {b} {what[b]})"
        elif decision == "both":
            chosen = merge_spans([*item.first, *item.second])
            summary = f"adjudicated: both ({a} coded {what[a]}, {b} {what[b]})"
        elif decision == "neither":
            chosen = ()
            summary = f"adjudicated: neither ({a} coded {what[a]}, {b} {what[b]})"
        else:
            chosen = self._edited(item, spans)
            summary = (f"adjudicated: edited to {self._describe(chosen, item)} "
                       f"({a} coded {what[a]}, {b} {what[b]})")
        reason = " ".join((reason or "").split()) or None
        if reason:
            summary += f"; reason: {reason}"
        record = self._record(item, decision, source)
        if reason:
            record["reason"] = reason
        events = self._events(item, chosen, self._memo(item, summary), record)
        written = self._append(events)
        self._decided[item.key] = decision
        return Decision(item, decision, chosen, written)

    def _edited(self, item: Item, spans: Sequence[Span] | None) -> tuple[Span, ...]:
        if spans is None:
            raise UsageError("an edit needs the spans to code (an empty list for none)")
        for start, end in spans:
            if not item.start <= start < end <= item.end:
                raise UsageError(f"span {start}:{end} is not inside passage {item.passage} "
                                 f"({item.start}:{item.end})",
                                 "an edited coding stays inside the passage")
        return merge_spans(spans)


def parse_span(text: str, item: Item) -> tuple[Span, ...]:
    """A user's edit: ``passage`` (or ``p``) for the whole passage, ``none`` for nothing,
    ``START:END`` offsets into the body, or a piece of the passage's text (its first
    occurrence). Raises ``UsageError`` when it names nothing inside the passage."""
    answer = text.strip()
    if answer.lower() in ("p", "passage"):
        return ((item.start, item.end),)
    if answer.lower() in ("none", "-"):
        return ()
    head, sep, tail = answer.partition(":")
    if sep and head.strip().isdecimal() and tail.strip().isdecimal():
        start, end = int(head), int(tail)
        if not item.start <= start < end <= item.end:
            raise UsageError(f"{start}:{end} is not inside the passage "
                             f"({item.start}:{item.end})")
        return ((start, end),)
    if not answer:
        raise UsageError("an empty edit", "type `passage`, `none`, START:END or some text")
    found = item.text.find(answer)
    if found < 0:
        raise UsageError(f"{answer!r} is not in the passage",
                         "copy a piece of the passage's text, or give START:END")
    return ((item.start + found, item.start + found + len(answer)),)



__all__ = ["DECISIONS", "Adjudication", "Decision", "Item", "parse_span"]
