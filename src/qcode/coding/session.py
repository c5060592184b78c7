"""An interactive coding session: where the coder is, and every change they make.

The full-screen coder and the line mode both present a ``CodingSession`` and dispatch to
it. It holds no state that is not in the coding log except the cursor and the undo
history of this session: every change is appended (and fsynced) before the method
returns, and the in-memory index of the coder's codings is updated in place, so moving
and toggling never re-read the project.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qcode.coding.navigation import Navigation
from qcode.coding.text_cursor import TextCursor
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.config import interviewer_matcher
from qcode.format.names import check_coder_name, did_you_mean
from qcode.store.codings import Coding
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import ADD_KEYS, Event, add_event, keep_codebook_version, remove_event
from qcode.store.locks import SessionLock

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.coding.hits import HitCoding
    from qcode.format.codebook import Code
    from qcode.format.memos import Memo
    from qcode.format.transcripts import Passage, Transcript


@dataclass
class Change:
    """One undoable step: the codings it added and the codings it removed."""

    transcript: str
    passage: int
    added: list[Coding] = field(default_factory=list)
    removed: list[Coding] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


class CodingSession(Navigation):
    """The coder's position in the project and their codings, kept in step with the log."""

    def __init__(self, corpus: Corpus | HasCorpus, coder: str,
                 transcripts: Iterable[str] | None = None, others: Iterable[str] = (),
                 review: str | None = None, include_interviewer: bool = False,
                 memos: Iterable[Memo] = ()) -> None:
        self._source = corpus
        self.memos = list(memos)  # the memo files (memos/), shown beside the text
        corpus = as_corpus(corpus)
        check_coder_name(coder)
        self.corpus = corpus
        self.coder = coder
        self.codebook = corpus.codebook
        self.log = corpus.store.log(coder)
        self.lock = corpus.store.session_lock(coder)
        chosen = list(transcripts) if transcripts else [t.id for t in corpus.transcripts]
        self.transcripts: list[Transcript] = [corpus.transcript(t) for t in chosen]
        if not self.transcripts:
            raise UsageError("there are no transcripts to code",
                             f"put transcripts in {corpus.config.transcripts}/")
        self._mine: dict[str, list[Coding]] = {t.id: [] for t in self.transcripts}
        self._counts: Counter[str] = Counter()
        replay = corpus.store.replay(coder) if coder in corpus.coders else None
        for coding in replay.codings if replay else ():
            if coding.transcript in self._mine:
                self._mine[coding.transcript].append(coding)
                self._counts[self.codebook.canonical(coding.code)] += 1
        self.others: dict[str, dict[str, list[Coding]]] = {}
        for other in others:
            if other not in corpus.coders:
                raise UnknownName("coder", other, did_you_mean(other, corpus.coders))
            per_transcript: dict[str, list[Coding]] = {}
            for coding in corpus.codings(other):
                per_transcript.setdefault(coding.transcript, []).append(coding)
            self.others[other] = per_transcript
        self.review: str | None = None
        self._review_family: set[str] = set()
        if review is not None:
            self.review = self.codebook.require(review).id
            self._review_family = set(self.codebook.descendants(self.review))
        # The interviewers' turns (qcode.yaml `interviewer:`) the walk, J/K and search pass
        # over.
        self.include_interviewer = include_interviewer
        self._interviewer = (None if include_interviewer
                             else interviewer_matcher(corpus.config.interviewer))
        self.history: list[Change] = []
        self.t_index = 0
        self.p_index = 0
        self._cursor: TextCursor | None = None
        self._cursor_key: tuple[int, int] | None = None
        self._last_position = replay.last_position if replay else None

    def reload_codebook(self) -> None:
        """See the project's codebook as it is now, e.g. with a code added while coding
        (``Project.add_code``). A session made from a ``Corpus`` keeps that one."""
        self.corpus = as_corpus(self._source)
        self.codebook = self.corpus.codebook
        if self.review is not None:
            self._review_family = set(self.codebook.descendants(self.review))

    def add_code(self, fields: Mapping[str, str | None], parent: str | None = None) -> Code:
        """Add a code to the project's codebook file (``Project.add_code``: validated as
        ``qcode check`` would, every other byte of the file kept) and use it at once.
        ``parent`` is an id, a former id or a whole label (any case); empty for the
        top level. Refused with a ``UsageError`` for a session made from a bare ``Corpus``,
        which has no codebook file to write."""
        add = getattr(self._source, "add_code", None)
        if add is None:
            raise UsageError("this session has no project whose codebook it could change",
                             "open the session on a Project")
        code: Code = add(fields, self._parent_id(parent))
        self.reload_codebook()
        return code

    def _parent_id(self, parent: str | None) -> str | None:
        """The id ``parent`` names, also by label; an unknown name is passed on for
        ``add_code`` to refuse with the nearest ids."""
        name = (parent or "").strip()
        if not name or self.codebook.resolve(name) is not None:
            return name or None
        by_label = [c.id for c in self.codebook if c.label.casefold() == name.casefold()]
        return by_label[0] if len(by_label) == 1 else name

    def __enter__(self) -> CodingSession:
        """Hold the coder's session lock while coding (one session per coder; see
        ``qcode.store.locks.SessionLock``)."""
        self.lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock.release()

    # -- where we are ------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.transcripts[self.t_index]

    def memos_on(self, kind: str, target: str) -> list[Memo]:
        """The memos on a transcript or a code (by id; a memo naming an alias counts)."""
        canonical = self.codebook.canonical if kind == "code" else str
        return [m for m in self.memos
                if m.about.kind == kind and canonical(m.about.target) == target]

    @property
    def passage(self) -> Passage | None:
        passages = self.transcript.passages
        return passages[self.p_index] if passages else None

    def passage_text(self, passage: Passage | None = None) -> str:
        passage = passage or self.passage
        return self.transcript.body[passage.start:passage.end] if passage else ""

    def codings_on(self, passage: Passage | None = None, coder: str | None = None
                   ) -> list[Coding]:
        """This coder's (or another coder's) codings touching a passage of the current
        transcript."""
        passage = passage or self.passage
        if passage is None:
            return []
        if coder is None or coder == self.coder:
            pool = self._mine.get(self.transcript.id, [])
        else:
            pool = self.others.get(coder, {}).get(self.transcript.id, [])
        return [c for c in pool if c.start < passage.end and passage.start < c.end]

    def codes_on(self, passage: Passage | None = None, coder: str | None = None) -> list[str]:
        """Code ids on a passage, in codebook order, each once."""
        present = {self.codebook.canonical(c.code) for c in self.codings_on(passage, coder)}
        return [c.id for c in self.codebook if c.id in present]

    def is_whole(self, coding: Coding, passage: Passage | None = None) -> bool:
        passage = passage or self.passage
        return passage is not None and (coding.start, coding.end) == (passage.start,
                                                                        passage.end)

    def is_coded(self, passage: Passage) -> bool:
        return bool(self.codings_on(passage))

    def counts(self) -> Counter[str]:
        """Codings per code of this coder in the transcripts of this session (kept up to
        date by every change, never recounted)."""
        return self._counts

    def _visible(self, passage: Passage) -> bool:
        if self.review is None:
            return True
        return any(self.codebook.canonical(c.code) in self._review_family
                   for c in self.codings_on(passage))

    def is_interviewer(self, passage: Passage) -> bool:
        """Whether the passage is an interviewer's turn (its speaker label matches
        qcode.yaml ``interviewer:``); never so when the session includes them."""
        return self._interviewer is not None and self._interviewer(passage.speaker)

    def passed_over(self, passage: Passage, transcript: Transcript | None = None) -> bool:
        """An interviewer's turn this coder has not coded: the walk (``advance``,
        ``back``), ``move_uncoded`` and ``start_at_first_uncoded`` do not stop on it. One
        they coded is a stop like any other, so no coding is out of the walk's reach."""
        return self.is_interviewer(passage) and not self._is_coded_in(
            transcript or self.transcript, passage)

    # -- changing ----------------------------------------------------------------------------

    def require_code(self, name: str) -> Code:
        return self.codebook.require(name, codable=True)

    def match_code(self, answer: str) -> Code:
        """What a coder typed → a code: a shortcut key (one character), an id or former
        id, a unique id prefix, or a clear fuzzy match on ids and labels. Anything less
        certain is refused with the candidates, never guessed."""
        answer = answer.strip()
        if len(answer) == 1:
            code = self.codebook.by_key(answer)
            if code is None:
                raise UnknownName("shortcut key", answer,
                                  hint="`?` lists the keys; `qcode codes` the codebook")
            return self.require_code(code.id)
        code = self.codebook.resolve(answer)
        if code is not None:
            return self.require_code(code.id)
        codable = [c for c in self.codebook if c.codable]
        prefixed = [c for c in codable if c.id.startswith(answer.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
        from rapidfuzz import fuzz, process

        names = [(c.id, c.id) for c in codable] + [(c.label, c.id) for c in codable]
        best: dict[str, float] = {}
        for _name, score, index in process.extract(
                answer, [n for n, _ in names], scorer=fuzz.WRatio, processor=str.lower,
                limit=12, score_cutoff=60):
            code_id = names[index][1]
            best[code_id] = max(best.get(code_id, 0), score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        if ranked and ranked[0][1] >= 85 and (len(ranked) == 1
                                              or ranked[0][1] - ranked[1][1] >= 8):
            return self.require_code(ranked[0][0])
        raise UnknownName("code", answer, [code_id for code_id, _ in ranked[:3]] or
                          [c.id for c in prefixed[:3]],
                          hint="type more of the id, or its shortcut key")

    def toggle(self, name: str) -> Change:
        """Code the whole passage, or uncode it if this code already covers it exactly."""
        code = self.require_code(name)
        passage = self._require_passage()
        existing = [c for c in self.codings_on(passage) if self.codebook.canonical(c.code) == code.id
                    and self.is_whole(c, passage)]
        if existing:
            return self._apply(remove=existing)
        return self._apply(add=[(code.id, passage.start, passage.end, None)])

    def set_codes(self, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Change:
        """Add codes to the whole passage (those not there yet) and remove codes (every
        coding of them on the passage), in one undoable change."""
        passage = self._require_passage()
        present = set(self.codes_on(passage))
        additions: list[tuple[str, int, int, str | None]] = []
        for name in add:
            code = self.require_code(name)
            if code.id not in present and code.id not in {a[0] for a in additions}:
                additions.append((code.id, passage.start, passage.end, None))
        removals = []
        for name in remove:
            code_id = self.codebook.require(name).id
            removals += [c for c in self.codings_on(passage)
                         if self.codebook.canonical(c.code) == code_id and c not in removals]
        return self._apply(add=additions, remove=removals)

    def code_span(self, name: str, start: int, end: int) -> Change:
        """Code part of the current passage, ``[start, end)`` in body offsets."""
        code = self.require_code(name)
        passage = self._require_passage()
        if not passage.start <= start < end <= passage.end:
            raise UsageError(f"span {start}:{end} is not inside passage {passage.number}")
        for coding in self.codings_on(passage):
            if (self.codebook.canonical(coding.code), coding.start, coding.end) == (code.id, start,
                                                                           end):
                return Change(self.transcript.id, passage.number)
        return self._apply(add=[(code.id, start, end, None)])

    def set_memo(self, memo: str, code: str | None = None) -> Change:
        """Give every coding of this coder on the passage (or every one of ``code``) this
        memo; empty text removes it. One undoable change (see ``set_coding_memo``)."""
        return self._rewrite_memos(self.memo_targets(code), memo)

    def memo_targets(self, code: str | None = None) -> list[Coding]:
        """The codings ``set_memo`` would write on (so a dialogue can refuse before the
        memo is typed): this coder's on the passage, or those of ``code``; never none."""
        passage = self._require_passage()
        targets = self.codings_on(passage)
        if not targets:
            raise QcodeError("this passage has no codings to attach a memo to",
                             "code the passage first")
        if code is not None:
            code_id = self.codebook.require(code).id
            targets = [c for c in targets if self.codebook.canonical(c.code) == code_id]
            if not targets:
                raise QcodeError(f"this passage has no coding of {code_id!r} to attach a "
                                 "memo to", f"its codes: {', '.join(self.codes_on(passage))}")
        return targets

    def set_coding_memo(self, coding_id: str, memo: str) -> Change:
        """Give one coding of this coder (by id, in a transcript of this session) this
        memo; empty text removes it. Any text: line breaks are kept (the log escapes
        them), line ends become ``\\n`` and blanks around the text are dropped.

        The log stays append-only: the coding is removed and added again, same span, code,
        text and other fields, with the memo; a coding removed meanwhile by another
        command (``qcode untag``) is refused, decided under the log's lock."""
        for codings in self._mine.values():
            for coding in codings:
                if coding.id == coding_id:
                    return self._rewrite_memos([coding], memo)
        raise UnknownName("coding", coding_id,
                          hint=f"not a current coding of {self.coder} in this session")

    def _rewrite_memos(self, codings: list[Coding], memo: str) -> Change:
        """Remove ``codings`` (of one transcript) and add them again with ``memo``."""
        text = clean_memo(memo)
        transcript = self.corpus.transcript(codings[0].transcript)
        first = codings[0]
        where = transcript.passage_at(first.start) or next(
            iter(transcript.passages_overlapping(first.start, first.end)), None)
        targets = [c for c in codings if (c.memo or None) != text]
        if not targets:
            return Change(transcript.id, where.number if where else 0)
        return self._apply(add=[_again(c, text) for c in targets], remove=targets,
                           transcript=transcript, passage=where, checked=True)

    def undo(self) -> Change | None:
        """Reverse the last change of this session (append-only: removes its additions and
        adds back what it removed); the cursor returns to its passage."""
        while self.history:
            change = self.history.pop()
            if change.empty:
                continue
            self._goto_id(change.transcript, change.passage)
            reverse = self._apply(add=[_again(c, c.memo) for c in change.removed],
                                  remove=list(change.added), record=False)
            # Re-added codings have new ids: earlier changes must now undo those.
            renamed = {old.id: new for old, new in zip(change.removed, reverse.added,
                                                      strict=True)}
            for earlier in self.history:
                earlier.added = [renamed.get(c.id, c) for c in earlier.added]
                earlier.removed = [renamed.get(c.id, c) for c in earlier.removed]
            return reverse
        return None

    def _require_passage(self) -> Passage:
        if self.passage is None:
            raise UsageError(f"transcript {self.transcript.id!r} has no passages")
        return self.passage

    def _apply(self, add: Iterable[tuple | Event] = (), remove: Iterable[Coding] = (),
               record: bool = True, transcript: Transcript | None = None,
               passage: Passage | None = None, checked: bool = False,
               planned: Callable[[dict[str, Coding]], list[Event]] | None = None) -> Change:
        """Append the removals and additions (``(code, start, end, memo)`` in the current
        transcript, or whole add events in any) and update the index; the change is undone
        on ``passage`` (default: the current one). ``checked``: refuse, under the log's
        lock, when a coding to remove is no longer in the log. ``planned``: further add
        events, decided under the lock from the log's codings as they are then."""
        transcript = transcript or self.transcript
        passage = passage or self.passage
        removed = list(remove)
        events = [remove_event(c.id) for c in removed]
        new_events = [item if isinstance(item, dict) else
                      add_event(transcript.id, item[1], item[2], item[0],
                                transcript.body[item[1]:item[2]], item[3]) for item in add]
        if checked or planned is not None:
            def build(current: dict[str, Coding]) -> list[Event]:
                if checked and any(c.id not in current for c in removed):
                    raise QcodeError(f"a coding of {self.coder} changed in another command "
                                     "since this session read it; nothing was saved",
                                     "quit and start the session again to see it")
                if planned is not None:
                    new_events.extend(planned(current))
                return events + new_events

            self.log.append_checked(build)
        else:
            self.log.append(events + new_events)  # durable before anything changes on screen
        removed_ids = {c.id for c in removed}
        for transcript_id in {c.transcript for c in removed}:
            mine = self._mine.setdefault(transcript_id, [])
            mine[:] = [c for c in mine if c.id not in removed_ids]
        added = [Coding(id=e["id"], coder=self.coder, transcript=e["transcript"],
                        start=e["start"], end=e["end"], code=e["code"], text=e["text"],
                        at=e["at"], memo=e.get("memo"),
                        extra={k: v for k, v in e.items() if k not in ADD_KEYS})
                 for e in new_events]
        for coding in added:
            self._mine.setdefault(coding.transcript, []).append(coding)
        self._counts.subtract(self.codebook.canonical(c.code) for c in removed)
        self._counts.update(self.codebook.canonical(c.code) for c in added)
        change = Change(transcript.id, passage.number if passage else 0, added, removed)
        if record and not change.empty:
            self.history.append(change)
        return change

    def code_hits(self, hits: Sequence[Hit], name: str, span: str = "passage",
                  pattern: str | None = None) -> tuple[Change, HitCoding]:
        """Code every hit's span (``passage``, ``sentence`` or ``word``: see
        ``qcode.coding.hits``) with a code, in one locked append and one undoable change;
        spans already inside a coding of that code are left alone (``HitCoding.already``).
        """
        from qcode.coding.hits import HitCoding, hit_targets, new_hit_events

        code = self.require_code(name)
        result = HitCoding(code.id, self.coder, span, hit_targets(self.corpus, hits, span))
        if not result.targets:
            return Change(self.transcript.id, self.passage.number if self.passage else 0), result
        change = self._apply(planned=lambda current: new_hit_events(
            self.corpus, result, current.values(), pattern))
        return change, result

    # -- inside the passage: the cursor, the selection, partial codings -------------------------

    @property
    def cursor(self) -> TextCursor:
        """The word cursor (and selection) in the current passage; a new passage starts
        with the cursor on its first word and nothing selected."""
        key = (self.t_index, self.p_index)
        if self._cursor is None or self._cursor_key != key:
            passage = self.passage
            body = self.transcript.body
            self._cursor = (TextCursor(body, passage.start, passage.end,
                                       speaker=passage.speaker is not None)
                            if passage is not None else TextCursor(body, 0, 0))
            self._cursor_key = key
        return self._cursor

    def codings_at(self, offset: int) -> list[Coding]:
        """This coder's codings over a body offset of the current transcript."""
        return [c for c in self._mine.get(self.transcript.id, []) if c.start <= offset < c.end]

    def apply_code(self, name: str) -> Change:
        """What a code's key does: with words selected, code exactly them (coding the same
        span again is a no-op, said by an empty change); with nothing selected, the code's
        presence on the passage toggles: every coding of it on the passage, whole or part,
        goes; or, when there is none, the whole passage is coded."""
        selection = self.cursor.selection
        if selection is not None:
            change = self.code_span(name, *selection)
            if not change.empty:
                self.cursor.clear()
            return change
        code = self.require_code(name)
        passage = self._require_passage()
        existing = [c for c in self.codings_on(passage)
                    if self.codebook.canonical(c.code) == code.id]
        if existing:
            return self._apply(remove=existing)
        return self._apply(add=[(code.id, passage.start, passage.end, None)])

    def remove_coding(self, coding: Coding) -> Change:
        return self._apply(remove=[coding])

    def resize_coding(self, coding: Coding, start: int, end: int) -> Change:
        """Give a coding another span in its passage (widen or narrow it), keeping its code
        and memo: written as remove + add, as every change."""
        passage = self._require_passage()
        if not passage.start <= start < end <= passage.end:
            raise UsageError(f"span {start}:{end} is not inside passage {passage.number}")
        if (start, end) == (coding.start, coding.end):
            return Change(self.transcript.id, passage.number)
        return self._apply(add=[(self.codebook.canonical(coding.code), start, end, coding.memo)],
                           remove=[coding])

    # -- plain text for line mode and tests ---------------------------------------------------

    def describe(self, passage: Passage | None = None) -> str:
        passage = passage or self.passage
        if passage is None:
            return f"{self.transcript.id}: (no passages)"
        total = len(self.transcript.passages)
        head = f"[{self.transcript.id}] passage {passage.number}/{total}"
        if passage.speaker:
            head += f"  {passage.speaker}"
        return head


def clean_memo(memo: str) -> str | None:
    """A memo as it is kept: line ends as ``\\n``, no blanks at the ends of lines or
    around the text; None for no memo."""
    lines = memo.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() or None


def _again(coding: Coding, memo: str | None) -> Event:
    """The add event that puts ``coding`` back as it was (span, code, text as logged,
    fields qcode does not know), with ``memo``."""
    return keep_codebook_version(add_event(coding.transcript, coding.start, coding.end,
                                           coding.code, coding.text, memo, **coding.extra),
                                 coding.extra)


__all__ = ["Change", "CodingSession", "SessionLock", "clean_memo"]
