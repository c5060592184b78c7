"""Re-anchoring: keep codings on the text they were made on after a transcript is edited.

Every coding stores the ``text`` of its span when it was made. When the body changes,
the span may no longer hold that text (``qcode check``: ``coding-text-mismatch``). This
module plans where each such *drifted* coding belongs now, and writes the move as
events: a ``remove`` of the old coding and an ``add`` of the same code, coder and memo
on the new span, with a ``reanchored_from`` field. Logs stay append-only.

Where a drifted coding goes, in this order:

1. **exact**: its text, found verbatim. Among several occurrences the one nearest the
   *expected* place wins: the old start moved by the shift of the nearest codings
   already placed (those still in place count as unshifted), so text inserted above a
   passage does not send it to an identical passage nearby. An occurrence farther than
   the search window is taken only when it is the only one and the text is long enough
   (``UNIQUE_EXACT_CHARS``) to be unambiguous.
2. **fuzzy**: rapidfuzz's ``partial_ratio_alignment`` finds the best approximate match
   in a window around the expected place, then over the whole body; the match's ends
   are then tuned to maximise ``fuzz.ratio`` against the old text, which is the score
   (0-100). The search starts close to the expected place and widens, so a similar
   passage farther away does not win over the edited one. Texts shorter than
   ``MIN_FUZZY_CHARS`` are never matched approximately.
3. **orphan**: below ``min_score``. The coding is not moved; the plan keeps its old text
   and the best candidate found, for the coder to place by hand.

Planning is pure (``plan_body``) and reads no file; ``apply_plan`` appends the events,
each coder's batch under that log's lock, after checking that every planned coding is
still in the log unchanged (a coder may have removed it meanwhile: it is then skipped).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qcode import progress
from qcode.errors import QcodeError, UsageError
from qcode.store.codings import Coding
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, add_event, keep_codebook_version, remove_event

DEFAULT_MIN_SCORE = 90.0
MIN_FUZZY_CHARS = 12        # shorter texts match something approximately almost anywhere
UNIQUE_EXACT_CHARS = 20     # a unique exact match this long is trusted wherever it is
WINDOW_CHARS = 1000         # the search window reaches this far (or 3x the text) each way
MAX_OCCURRENCES = 10_000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A place in the current body and how well its text matches the coded text."""

    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "score": self.score}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one drifted coding goes: ``exact``, ``fuzzy``, or ``orphan`` (not moved)."""

    coding: Coding
    kind: str
    target: Candidate | None = None      # exact and fuzzy: the new span
    candidate: Candidate | None = None   # orphan: the best place found, below the threshold
    reason: str = ""

    @property
    def moved(self) -> bool:
        return self.kind != "orphan"

    def to_dict(self) -> dict[str, Any]:
        coding = self.coding
        out: dict[str, Any] = {
            "kind": self.kind, "coder": coding.coder, "id": coding.id,
            "transcript": coding.transcript, "code": coding.code,
            "old": {"start": coding.start, "end": coding.end, "text": coding.text},
        }
        if self.target is not None:
            out["new"] = self.target.to_dict()
        if self.kind == "orphan":
            out["candidate"] = self.candidate.to_dict() if self.candidate else None
            out["reason"] = self.reason
        return out


@dataclass
class TranscriptPlan:
    transcript: str
    file: str
    codings: int                           # codings of this transcript that were looked at
    placements: list[Placement] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Placement]:
        return [p for p in self.placements if p.kind == kind]

    @property
    def orphans(self) -> list[Placement]:
        return self.of_kind("orphan")

    def counts(self) -> dict[str, int]:
        return {"codings": self.codings, "in_place": self.codings - len(self.placements),
                "exact": len(self.of_kind("exact")), "fuzzy": len(self.of_kind("fuzzy")),
                "orphaned": len(self.orphans)}

    def to_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "file": self.file, **self.counts(),
                "placements": [p.to_dict() for p in self.placements]}


@dataclass
class ReanchorPlan:
    min_score: float
    transcripts: list[TranscriptPlan] = field(default_factory=list)

    @property
    def placements(self) -> list[Placement]:
        return [p for t in self.transcripts for p in t.placements]

    @property
    def moves(self) -> list[Placement]:
        return [p for p in self.placements if p.moved]

    @property
    def orphans(self) -> list[Placement]:
        return [p for p in self.placements if not p.moved]

    def to_dict(self) -> dict[str, Any]:
        return {"min_score": self.min_score,
                "transcripts": [t.to_dict() for t in self.transcripts]}


@dataclass
class ApplyResult:
    written: dict[str, int] = field(default_factory=dict)   # coder -> events appended
    moved: list[Placement] = field(default_factory=list)
    skipped: list[Placement] = field(default_factory=list)  # changed in the log meanwhile
    new_ids: dict[str, str] = field(default_factory=dict)   # old coding id -> new id


# -- planning (pure) --------------------------------------------------------------------


def drifted(body: str, coding: Coding) -> bool:
    """True when the body at the coding's span no longer holds the coded text."""
    return coding.end > len(body) or body[coding.start:coding.end] != coding.text


def plan_body(transcript_id: str, body: str, codings: Iterable[Coding],
              min_score: float = DEFAULT_MIN_SCORE, file: str = "") -> TranscriptPlan:
    """Plan where the drifted codings of one transcript go in ``body`` (the current, or
    a new, normalised body). Codings of other transcripts are ignored."""
    _check_score(min_score)
    mine = [c for c in codings if c.transcript == transcript_id]
    plan = TranscriptPlan(transcript_id, file, len(mine))
    moving = [c for c in mine if drifted(body, c)]
    if not moving:
        return plan
    anchors = _Anchors([c.start for c in mine if not drifted(body, c)])
    # One decision per distinct (span, text): coders who coded the same passage agree.
    spans = sorted({(c.start, c.end, c.text) for c in moving})
    decided: dict[tuple[int, int, str], tuple[str, Candidate | None, Candidate | None, str]] = {}
    # Pass 1: long texts found exactly once anywhere are certain; they anchor the rest.
    for start, end, text in spans:
        if len(text) >= UNIQUE_EXACT_CHARS:
            found = _occurrences(body, text, limit=2)
            if len(found) == 1:
                unique = Candidate(found[0], found[0] + len(text), text, 100.0)
                decided[(start, end, text)] = ("exact", unique, None, "")
                anchors.add(start, found[0] - start)
    # Pass 2: the others, in body order, near where the anchors say they should be.
    for start, end, text in spans:
        if (start, end, text) in decided:
            continue
        decision = _locate(body, text, anchors.expected(start), min_score)
        decided[(start, end, text)] = decision
        if decision[1] is not None:
            anchors.add(start, decision[1].start - start)
    for coding in sorted(moving, key=lambda c: (c.start, c.end, c.coder, c.line)):
        kind, target, candidate, reason = decided[(coding.start, coding.end, coding.text)]
        plan.placements.append(Placement(coding, kind, target, candidate, reason))
    return plan


class _Anchors:
    """Old start → shift (new start - old start) of codings already placed."""

    def __init__(self, unshifted: Iterable[int]) -> None:
        self.starts: list[int] = []
        self.shifts: list[int] = []
        for start in sorted(set(unshifted)):
            self.add(start, 0)

    def add(self, start: int, shift: int) -> None:
        index = bisect.bisect_left(self.starts, start)
        if index < len(self.starts) and self.starts[index] == start:
            return
        self.starts.insert(index, start)
        self.shifts.insert(index, shift)

    def expected(self, start: int) -> list[int]:
        """Where a coding that started at ``start`` probably starts now: shifted like
        the nearest placed coding before it and like the one after it."""
        index = bisect.bisect_right(self.starts, start)
        shifts = set()
        if index > 0:
            shifts.add(self.shifts[index - 1])
        if index < len(self.starts):
            shifts.add(self.shifts[index])
        return sorted(max(start + s, 0) for s in shifts or {0})


def _locate(body: str, text: str, expected: list[int], min_score: float
            ) -> tuple[str, Candidate | None, Candidate | None, str]:
    """(kind, target, best candidate, reason) for one drifted text."""
    if not text.strip():
        return "orphan", None, None, "the coded text is empty or blank"
    pad = max(WINDOW_CHARS, 3 * len(text))

    def distance(position: int) -> int:
        return min(abs(position - e) for e in expected)

    found = _occurrences(body, text, limit=MAX_OCCURRENCES)
    far_copy: Candidate | None = None
    if found:
        nearest = min(found, key=lambda p: (distance(p), p))
        exact = Candidate(nearest, nearest + len(text), text, 100.0)
        if distance(nearest) <= pad or (len(found) == 1 and len(text) >= UNIQUE_EXACT_CHARS):
            return "exact", exact, None, ""
        far_copy = exact
    if len(text) < MIN_FUZZY_CHARS:
        reason = (f"only {len(text)} characters: too short to place approximately"
                  if far_copy is None else
                  f"the same text occurs {len(found)} times, none near its old place")
        return "orphan", None, far_copy, reason
    # Edits are local: look close to the expected place first, so that a similar passage
    # farther away does not win over the edited one on a tie, then wider, then anywhere.
    best: Candidate | None = None
    searched: tuple[int, int] | None = None
    for reach in (len(text) // 2 + 50, pad, len(body)):
        low = max(0, min(expected) - reach)
        high = min(len(body), max(expected) + len(text) + reach)
        if searched is not None and (low, high) == searched:
            continue
        searched = (low, high)
        found_here = _fuzzy(body, text, low, high)
        if found_here is not None and (best is None or found_here.score > best.score):
            best = found_here
        if best is not None and best.score >= min_score:
            return "fuzzy", best, None, ""
    if far_copy is not None:
        return ("orphan", None, far_copy,
                f"the same text occurs {len(found)} times, none near its old place")
    score = f"{best.score:.1f}" if best is not None else "0"
    return "orphan", None, best, f"best match scores {score}, below {min_score:g}"


def _occurrences(body: str, text: str, limit: int) -> list[int]:
    found: list[int] = []
    position = body.find(text)
    while position != -1 and len(found) < limit:
        found.append(position)
        position = body.find(text, position + 1)
    return found


def _fuzzy(body: str, text: str, low: int, high: int) -> Candidate | None:
    """The span of ``body[low:high]`` most like ``text``, its ends tuned by ``ratio``."""
    from rapidfuzz import fuzz

    haystack = body[low:high]
    if not haystack.strip():
        return None
    alignment = fuzz.partial_ratio_alignment(text, haystack)
    if alignment is None or alignment.score == 0:
        return None
    start, end = low + alignment.dest_start, low + alignment.dest_end
    start, end, score = _tune(body, text, start, end)
    return Candidate(start, end, body[start:end], round(score, 1))


def _tune(body: str, text: str, start: int, end: int) -> tuple[int, int, float]:
    """Move each end of the span to where ``fuzz.ratio`` with ``text`` is highest:
    ``partial_ratio`` matches a window as long as the old text, while the edited passage
    may be longer or shorter. Coarse steps first, then single characters."""
    from rapidfuzz import fuzz

    ratio = fuzz.ratio
    pad = max(4, len(text) // 4)
    best = (ratio(text, body[start:end]), start, end)

    def search(span: range, fixed_end: bool) -> None:
        nonlocal best
        _score, s, e = best
        for position in span:
            if fixed_end:
                if not 0 <= position < e:
                    continue
                candidate = (ratio(text, body[position:e]), position, e)
            else:
                if not s < position <= len(body):
                    continue
                candidate = (ratio(text, body[s:position]), s, position)
            if candidate[0] > best[0] or (
                    candidate[0] == best[0]
                    and abs((candidate[2] - candidate[1]) - len(text))
                    < abs((best[2] - best[1]) - len(text))):
                best = candidate

    for _round in range(2):
        for fixed_end in (True, False):
            anchor = best[1] if fixed_end else best[2]
            step = max(1, pad // 16)
            search(range(anchor - pad, anchor + pad + 1, step), fixed_end)
            anchor = best[1] if fixed_end else best[2]
            search(range(anchor - step, anchor + step + 1), fixed_end)
    score, start, end = best
    start, end = _snap(body, text, start, end, pad)
    return start, end, ratio(text, body[start:end]) if (start, end) != best[1:] else score


def _snap(body: str, text: str, start: int, end: int, pad: int) -> tuple[int, int]:
    """Put the ends of a tuned span where a coder would: the best ``ratio`` may cut an
    edited first or last word (``Tqqrygghet`` → ``rygghet``). Whole words at the ends
    when the old text had them, its closing punctuation when it had one, and no
    whitespace it did not have."""
    if text[:1].isalnum():
        limit = max(0, start - pad)
        while start > limit and body[start - 1].isalnum() and body[start:start + 1].isalnum():
            start -= 1
    elif text[:1] and not text[0].isspace() and start > 0 and body[start - 1] == text[0]:
        start -= 1
    if text[-1:].isalnum() or (text[-1:] and not text[-1].isspace()
                               and text[-2:-1].isalnum()):
        limit = min(len(body), end + pad)
        while end < limit and body[end - 1:end].isalnum() and body[end].isalnum():
            end += 1
        if not text[-1].isalnum() and end < len(body) and body[end] == text[-1] \
                and body[end - 1] != text[-1]:
            end += 1
    while start < end and body[start].isspace() and not text[:1].isspace():
        start += 1
    while end > start and body[end - 1].isspace() and not text[-1:].isspace():
        end -= 1
    return start, end


def _check_score(min_score: float) -> None:
    if not 0 <= min_score <= 100:
        raise UsageError(f"--min-score {min_score:g} is outside 0-100",
                         "scores are percentages; 90 is the default")


# -- the project ------------------------------------------------------------------------


def plan_reanchor(corpus: Corpus | HasCorpus, transcripts: Iterable[str] | None = None,
                  min_score: float = DEFAULT_MIN_SCORE,
                  coders: str | list[str] | None = None) -> ReanchorPlan:
    """Plan the re-anchoring of every coder's drifted codings (or ``coders``'), in the
    named transcripts or all of them. Unknown transcript ids raise ``UnknownName``."""
    corpus = as_corpus(corpus)
    _check_score(min_score)
    chosen = ([corpus.transcript(t) for t in dict.fromkeys(transcripts)] if transcripts
              else corpus.transcripts)
    codings = corpus.codings(coders)
    by_transcript: dict[str, list[Coding]] = {}
    for coding in codings:
        by_transcript.setdefault(coding.transcript, []).append(coding)
    plan = ReanchorPlan(min_score)
    for transcript in progress.track(chosen, "re-anchoring codings"):
        plan.transcripts.append(plan_body(transcript.id, transcript.body,
                                          by_transcript.get(transcript.id, []), min_score,
                                          transcript.file))
    return plan


def list_orphans(corpus: Corpus | HasCorpus, transcripts: Iterable[str] | None = None,
                 min_score: float = DEFAULT_MIN_SCORE,
                 coders: str | list[str] | None = None) -> list[Placement]:
    """The drifted codings that cannot be placed automatically, each with its old text
    and best candidate, in transcript and body order: what a coder walks to place them
    by hand (``place_coding``) or drop them (an ordinary ``remove``)."""
    return plan_reanchor(corpus, transcripts, min_score, coders).orphans


def apply_plan(corpus: Corpus | HasCorpus, plan: ReanchorPlan | TranscriptPlan
               ) -> ApplyResult:
    """Append ``remove`` + ``add`` for every exact and fuzzy placement, per coder under
    that log's lock. A coding no longer in its log as planned is skipped. Refused while
    another process has a session open for a coder whose codings would move (its screen
    would go stale)."""
    store = as_corpus(corpus).store
    placements = plan.placements
    result = ApplyResult()
    by_coder: dict[str, list[Placement]] = {}
    for placement in placements:
        if placement.moved:
            by_coder.setdefault(placement.coding.coder, []).append(placement)
    store.ensure_no_session(by_coder, "it would move codings under an open `qcode code` session")
    for coder, mine in by_coder.items():
        def build(active: dict[str, Coding], mine: list[Placement] = mine) -> list[Event]:
            events: list[dict] = []
            for placement in mine:
                current = active.get(placement.coding.id)
                if current is None or not _same(current, placement.coding):
                    result.skipped.append(placement)
                    continue
                target = placement.target
                assert target is not None
                events.extend(_move_events(current, target.start, target.end, target.text,
                                           placement.kind, target.score, result))
                result.moved.append(placement)
            return events

        result.written[coder] = store.log(coder).append_checked(build)
    return result


def place_coding(corpus: Corpus | HasCorpus, coding: Coding, start: int, end: int) -> str:
    """Move one coding to ``[start, end)`` of its transcript's current body by hand (the
    coder placing an orphan). Returns the new coding's id."""
    corpus = as_corpus(corpus)
    transcript = corpus.transcript(coding.transcript)
    if not 0 <= start < end <= len(transcript.body):
        raise UsageError(f"span {start}:{end} is outside transcript {transcript.id!r} "
                         f"(its body has {len(transcript.body)} characters)")
    text = transcript.body[start:end]
    result = ApplyResult()

    def build(active: dict[str, Coding]) -> list[Event]:
        current = active.get(coding.id)
        if current is None or not _same(current, coding):
            raise QcodeError(f"coding {coding.id} changed in {coding.coder}'s log since it "
                             "was read", "reload and try again")
        from rapidfuzz import fuzz

        return _move_events(current, start, end, text, "manual",
                            round(fuzz.ratio(coding.text, text), 1), result)

    corpus.store.log(coding.coder).append_checked(build)
    return result.new_ids[coding.id]


def _same(current: Coding, planned: Coding) -> bool:
    return (current.transcript, current.start, current.end, current.text, current.code) == (
        planned.transcript, planned.start, planned.end, planned.text, planned.code)


def _move_events(coding: Coding, start: int, end: int, text: str, kind: str, score: float,
                 result: ApplyResult) -> list[Event]:
    kept = {k: v for k, v in coding.extra.items() if k != "reanchored_from"}
    origin = {"id": coding.id, "start": coding.start, "end": coding.end, "at": coding.at,
              "how": kind, "score": score}
    add = keep_codebook_version(add_event(coding.transcript, start, end, coding.code, text,
                                          coding.memo, **kept, reanchored_from=origin),
                                coding.extra)
    result.new_ids[coding.id] = add["id"]
    return [remove_event(coding.id, reanchored_to=add["id"]), add]


__all__ = ["DEFAULT_MIN_SCORE", "ApplyResult", "Candidate", "Placement", "ReanchorPlan",
           "TranscriptPlan", "apply_plan", "drifted", "list_orphans", "place_coding",
           "plan_body", "plan_reanchor"]
