"""``qcode pseudonymise apply``: a key's replacements made everywhere the project holds
text, as one change.

Transcripts get the replacements in their body and in their front matter's values; case
tables in their cells; memo files in their body and a case memo's ``about``; qcode.yaml
in the values it declares. A transcript id that holds an original is renamed with its
file, codings, suggestions and memos (``qcode.coding.pseudonymise_ids``). Every coding
moves with its text: its offsets are carried across the edits (``Rewrite.offset``; a
coding that began or ended inside a name covers the whole placeholder) and its ``text``
is taken from the new body. The moved codings are then held to the re-anchoring
machinery: each one's old text, rewritten on its own, must be where its new offsets say
(``plan_body`` finds it in place); one that is not is reported as an orphan (none is
expected: replacements are local).

The logs are where the old text would survive: a coding's ``text`` and ``memo``, and the
history of removed codings. So every log, coding and suggestions, is compacted to its
current state with the new offsets and texts (``qcode.store.compact``), and every file is
written in one transaction (``qcode.store.journal``): a crash leaves the project wholly
old or wholly new. The cache goes, since it holds front matter and texts too.
"""

from __future__ import annotations

import bisect
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qcode import progress
from qcode.coding.anchoring import plan_body
from qcode.coding.pseudonymise_ids import (
    IdRename,
    guids_file,
    memo_stem,
    plan_id_renames,
    rewrite_config,
    rewrite_guids,
    with_new_about,
    with_new_id,
)
from qcode.errors import InvalidKey, QcodeError
from qcode.format.cache import CACHE_DIR
from qcode.format.memos import MEMO_SUFFIX, discover_memos
from qcode.format.pseudonym_files import (
    FileRewrite,
    rewrite_case_about,
    rewrite_case_table,
    rewrite_document,
    rewrite_values,
)
from qcode.format.pseudonyms import (
    Edit,
    KeyMatcher,
    PseudonymKey,
    Rewrite,
    key_location_problem,
    rewrite_text,
)
from qcode.format.text import normalize
from qcode.format.transcripts import Transcript, segment
from qcode.store.codings import Coding
from qcode.store.compact import Compacted, CompactionPlan
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event
from qcode.store.suggestions import SuggestionLog


@dataclass
class ApplyResult:
    """What ``apply_key`` changed (or, dry, would change)."""

    dry_run: bool
    by_kind: Counter[str] = field(default_factory=Counter)        # person -> replacements
    by_place: Counter[str] = field(default_factory=Counter)       # transcripts, memos, ...
    by_transcript: dict[str, Counter[str]] = field(default_factory=dict)
    originals: Counter[str] = field(default_factory=Counter)      # never shown unasked
    files: list[str] = field(default_factory=list)                # written (or to be)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # memo files
    ids: list[tuple[str, str]] = field(default_factory=list)  # transcripts: old, new id
    codings: int = 0           # live codings looked at
    moved: int = 0             # codings whose offsets or text changed
    widened: int = 0           # began or ended inside a name: now cover the placeholder
    suggestions_moved: int = 0
    orphans: list[dict[str, Any]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # FILE:LINE of settings naming one

    @property
    def replacements(self) -> int:
        return sum(self.by_kind.values())

    @property
    def nothing_to_do(self) -> bool:
        return not self.files and not self.renamed and not self.ids

    def count(self, place: str, edits: Iterable[Edit], transcript: str | None = None
              ) -> None:
        for edit in edits:
            kind = edit.entry.kind
            self.by_kind[kind] += 1
            self.by_place[place] += 1
            self.originals[edit.entry.original] += 1
            if transcript is not None:
                self.by_transcript.setdefault(transcript, Counter())[kind] += 1

    def to_dict(self, show_originals: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dry_run": self.dry_run, "replacements": self.replacements,
            "by_kind": dict(self.by_kind), "by_place": dict(self.by_place),
            "by_transcript": {t: dict(c) for t, c in self.by_transcript.items()},
            "files": self.files, "renamed": len(self.renamed),
            "codings": self.codings, "codings_moved": self.moved,
            "codings_widened": self.widened, "suggestions_moved": self.suggestions_moved,
            "orphans": self.orphans, "left": self.left,
            "renamed_transcripts": sorted(new for _old, new in self.ids),
        }
        if show_originals:  # file names and ids hold an original as well
            out["originals"] = dict(self.originals)
            out["renamed"] = [list(pair) for pair in self.renamed]
            out["renamed_transcripts"] = [{"old": old, "new": new} for old, new in self.ids]
        return out


def load_key_for(root: Path, path: Path) -> PseudonymKey:
    """The key at ``path``, refused when it lies where it would be shared."""
    problem = key_location_problem(root, path)
    if problem is not None:
        raise InvalidKey(f"{path}: {problem}", "move the key out of the project and "
                         "give its new path with --key or QCODE_KEY")
    return PseudonymKey.load(path)


def apply_key(corpus: Corpus | HasCorpus, key: PseudonymKey, dry_run: bool = False
              ) -> ApplyResult:
    """Replace every reviewed original of ``key`` in the project, move every coding with
    its text, compact the logs and drop the cache, all in one transaction (nothing is
    written with ``dry_run``). Refused while any coder has a session open."""
    corpus = as_corpus(corpus)
    store = corpus.store
    coders = sorted({*store.coders, *store.suggestion_logs()})
    locks = [store.session_lock(coder) for coder in coders]
    try:
        for lock in locks:  # held to the end: no session may start half way
            try:
                lock.acquire()
            except QcodeError as exc:
                raise QcodeError(f"{exc.message}: applying the key would move its codings "
                                 "under it", "close that session first, then run the "
                                 "command again") from None
        return _apply(corpus, key, dry_run)
    finally:
        for lock in locks:
            lock.release()


def _apply(corpus: Corpus, key: PseudonymKey, dry_run: bool) -> ApplyResult:
    matcher = key.matcher(key.replacing())
    result = ApplyResult(dry_run)
    if not matcher:
        return result
    writes: dict[Path, bytes] = {}
    removals: list[Path] = []
    renames = plan_id_renames(corpus, matcher)
    ids = {old: r.new for old, r in renames.items() if r.new != old}
    result.ids = sorted(ids.items())
    rewrites = _transcripts(corpus, matcher, renames, result, writes, removals)
    _case_tables(corpus, matcher, result, writes)
    _memos(corpus, matcher, ids, result, writes, removals)
    logs = _logs(corpus, matcher, rewrites, ids, result)
    _settings(corpus, matcher, ids, result, writes)
    if not writes and not removals and not logs.changed(corpus):
        return result
    compaction = logs.plan(corpus)
    changed_logs = [(path, c) for path, c in compaction.logs if c.changed]
    result.files = sorted(_rel(corpus.root, p) for p in [*writes, *(p for p, _ in
                                                                     changed_logs)])
    if dry_run:
        return result
    from qcode.store.compact import stage_compaction
    from qcode.store.journal import Transaction

    _drop_cache(corpus.root)  # before: a crash must not leave the old texts there
    with Transaction(corpus.root, "pseudonymise apply") as transaction, \
            ExitStack() as held:
        for path, data in writes.items():
            transaction.replace(path, data)
        for path in removals:
            transaction.remove(path)
        stage_compaction(compaction, transaction)
        _lock_unchanged(compaction.logs, held)
        transaction.commit()
    _drop_cache(corpus.root)  # and after: this process's reads refilled it
    for coder in corpus.store.coders:
        corpus.store.forget(coder)
    return result


def _lock_unchanged(logs: list[tuple[Path, Compacted]], held: ExitStack) -> None:
    """Lock each log as appending does, to the rename, and make sure it did not grow
    since it was read: a writer waiting for the lock then appends to the new log."""
    from qcode.store.locks import FileLock

    for path, compacted in logs:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise QcodeError(f"cannot read {compacted.rel}: {exc.strerror}") from None
        held.callback(os.close, fd)
        held.enter_context(FileLock(fd))
        if os.fstat(fd).st_size != compacted.bytes_before:
            raise QcodeError(f"{compacted.rel} changed while the key was being applied; "
                             "nothing was written", "run the command again")


# -- transcripts, case tables, memo files -------------------------------------------------

def _transcripts(corpus: Corpus, matcher: KeyMatcher, renames: dict[str, IdRename],
                 result: ApplyResult, writes: dict[Path, bytes], removals: list[Path]
                 ) -> dict[str, FileRewrite]:
    rewrites: dict[str, FileRewrite] = {}
    values = rewrite_values(matcher)
    for transcript in progress.track(corpus.transcripts, "pseudonymising transcripts"):
        path = corpus.root / transcript.file
        raw = _read(path, transcript.file)
        rename = renames.get(transcript.id)
        done = rewrite_document(raw, transcript.file, matcher, with_new_id(
            values, rename, "id" in transcript.front_lines))
        rewrites[transcript.id] = done
        if done.changed:
            _same_passages(transcript, done, corpus.config.segmentation)
            result.count("transcripts", done.edits,
                          rename.new if rename is not None else transcript.id)
        if rename is not None and rename.new_file != rename.old_file:
            removals.append(path)
            path = corpus.root / rename.new_file
        elif not done.changed and done.text == normalize(raw):
            continue
        writes[path] = done.text.encode("utf-8")
    return rewrites


def _same_passages(transcript: Transcript, done: FileRewrite, mode: Any) -> None:
    """A replacement must not cut a transcript differently: a speaker label that is a name
    («Ola:») stops being a label when the placeholder starts with a bracket."""
    assert done.body is not None
    old = segment(done.old_body, mode, transcript.body_line)
    new = segment(done.body.text, mode, transcript.body_line)
    if len(old) == len(new) and all((a.speaker is None) == (b.speaker is None)
                                    for a, b in zip(old, new, strict=True)):
        return
    starts = {p.start: p for p in new}
    line = transcript.body_line
    for passage in old:
        now = starts.get(done.body.offset(passage.start))
        if now is None or (now.speaker is None) != (passage.speaker is None):
            line = passage.line
            break
    raise QcodeError(f"{transcript.file}:{line}: a replacement would change how the "
                     "transcript is cut into passages (a speaker label such as «Ola:» "
                     "stops being one when its placeholder starts with a bracket)",
                     "give that key entry a replacement starting with a letter, e.g. "
                     "Person A, and apply the key again")


def _case_tables(corpus: Corpus, matcher: KeyMatcher, result: ApplyResult,
                 writes: dict[Path, bytes]) -> None:
    for spec in corpus.config.cases:
        path = corpus.path(spec.file)
        if not path.is_file():
            continue
        done = rewrite_case_table(_read(path, spec.file), matcher)
        if done.changed:
            result.count("case tables", done.edits)
            writes[path] = done.text.encode("utf-8")


def _memos(corpus: Corpus, matcher: KeyMatcher, ids: dict[str, str], result: ApplyResult,
           writes: dict[Path, bytes], removals: list[Path]) -> None:
    folder = corpus.path(corpus.config.memos)
    about = with_new_about(rewrite_case_about(matcher), ids)
    taken = {path.name for path, _rel in discover_memos(folder)}
    for path, _inside_folder in discover_memos(folder):
        shown = _rel(corpus.root, path)
        raw = normalize(_read(path, shown))
        try:
            done = rewrite_document(raw, shown, matcher, about)
        except QcodeError:  # a memo `check` reports already: its body is still text
            plain = rewrite_text(raw, matcher)
            done = FileRewrite(plain.text, plain.edits)
        target = path
        stem = memo_stem(path.stem, ids)
        renamed = rewrite_text(stem, matcher)
        if renamed.edits or stem != path.stem:
            new_stem = _file_stem(renamed.text) if renamed.edits else stem
            target = _free_name(path.parent, new_stem, taken)
            result.renamed.append((shown, _rel(corpus.root, target)))
            removals.append(path)
        if done.text != raw or target != path:
            result.count("memos", done.edits)
            writes[target] = done.text.encode("utf-8")


def _file_stem(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^\w-]+", "-", text)).strip("-") or "memo"


def _free_name(folder: Path, stem: str, taken: set[str]) -> Path:
    name, number = f"{stem}{MEMO_SUFFIX}", 2
    while name in taken:
        name, number = f"{stem}-{number}{MEMO_SUFFIX}", number + 1
    taken.add(name)
    return folder / name


def _settings(corpus: Corpus, matcher: KeyMatcher, ids: dict[str, str],
              result: ApplyResult, writes: dict[Path, bytes]) -> None:
    """qcode.yaml's data values and the GUID sidecar's keys follow the data
    (``qcode.coding.pseudonymise_ids``). The rest of qcode.yaml (the project's name, an
    attribute's description) and the codebook are the researcher's own prose and rule
    patterns, where a rewrite could change what a rule matches: an original left there
    is named, with its lines, for them to change."""
    from qcode.format.config import CONFIG_NAME

    sidecar = guids_file(corpus.config.codebook)
    for rel, rewrite in ((CONFIG_NAME, lambda t: rewrite_config(t, CONFIG_NAME, matcher)),
                         (sidecar, lambda t: rewrite_guids(t, sidecar, matcher, ids)),
                         (corpus.config.codebook, None)):
        path = corpus.root / rel
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if rewrite is not None:
            new, edits = rewrite(text)
            if new != text:
                result.count(rel, edits)
                writes[path] = new.encode("utf-8")
                text = new
        lines = sorted({text.count("\n", 0, m.start) + 1 for m in matcher.finditer(text)})
        if lines:
            shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
            result.left.append(f"{rel}: names originals of the key on {len(lines)} line"
                               f"{'s' if len(lines) != 1 else ''} ({shown}); apply does "
                               "not rewrite it there: edit it by hand")


# -- codings and suggestions --------------------------------------------------------------

@dataclass
class _Logs:
    """The new fields of every live coding and suggestion, by coder and id."""

    matcher: KeyMatcher
    codings: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    suggestions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    touched: bool = False
    ids: dict[str, str] = field(default_factory=dict)  # renamed transcripts: old -> new

    def changed(self, corpus: Corpus) -> bool:
        """Whether any log must be rewritten: a live coding changes, or a log's history
        (codings removed long ago) still holds an original."""
        if self.touched:
            return True
        store = corpus.store
        paths = [store.log(c).path for c in store.coders]
        paths += list(store.suggestion_logs().values())
        return any(self._names_in(path) for path in paths)

    def _names_in(self, path: Path) -> bool:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return False
        return self.matcher.search(text) is not None

    def plan(self, corpus: Corpus) -> CompactionPlan:
        """Every log compacted with the new fields, proven (``qcode.store.compact``)."""
        from qcode.store.compact import log_coders, plan_compaction

        plans = []
        for coder in log_coders(corpus.store):
            new_codings = self.codings.get(coder, {})
            new_suggestions = self.suggestions.get(coder, {})
            plans.append(plan_compaction(corpus.store, [coder], _setting(new_codings, self.ids),
                                         _setting(new_suggestions, self.ids)))
        return CompactionPlan([log for plan in plans for log in plan.logs])


def _setting(new: dict[str, dict[str, Any]], ids: dict[str, str]) -> Callable[[Event], Event]:
    """The transform of one log: each event gets the new fields of its id; an event with
    none (a decision of adjudication kept by compaction) follows its transcript's new id."""

    def transform(event: Event) -> Event:
        fields = new.get(event["id"])
        if fields is None and event.get("transcript") in ids:
            fields = {"transcript": ids[event["transcript"]]}
        return _with(event, fields)

    return transform


def _with(event: Event, fields: dict[str, Any] | None) -> Event:
    if fields is None:
        return event
    new = {**event, **fields}
    if new.get("memo") is None:
        new.pop("memo", None)
    return new


def _logs(corpus: Corpus, matcher: KeyMatcher, rewrites: dict[str, FileRewrite],
          ids: dict[str, str], result: ApplyResult) -> _Logs:
    logs = _Logs(matcher, ids=ids)
    verify: dict[str, list[Coding]] = {}
    for coder in corpus.store.coders:
        fields = logs.codings[coder] = {}
        for coding in corpus.store.codings(coder):
            result.codings += 1
            moved = _moved(coding.start, coding.end, coding.text,
                           rewrites.get(coding.transcript), matcher)
            memo = rewrite_text(coding.memo, matcher) if coding.memo else None
            extra, extra_edits = _rewrite_strings(coding.extra, matcher)
            edits = [*rewrite_text(coding.text, matcher).edits, *extra_edits,
                     *(memo.edits if memo is not None else [])]
            result.count("coding logs", edits)
            if (moved.start, moved.end, moved.text) != (coding.start, coding.end, coding.text):
                result.moved += 1
            result.widened += moved.widened
            renamed = {"transcript": ids[coding.transcript]} if coding.transcript in ids \
                else {}
            if moved.changed or edits or renamed:
                logs.touched = True
            if moved.verify:
                verify.setdefault(coding.transcript, []).append(Coding(
                    coding.id, coder, coding.transcript, moved.start, moved.end, coding.code,
                    rewrite_text(coding.text, matcher).text, coding.at))
            fields[coding.id] = {"start": moved.start, "end": moved.end, "text": moved.text,
                                 "memo": memo.text if memo is not None else coding.memo,
                                 **extra, **renamed}
    _verify(rewrites, verify, ids, result)
    for coder in corpus.store.suggestion_logs():
        fields = logs.suggestions[coder] = {}
        for suggestion in SuggestionLog(corpus.store, coder).read().suggestions.values():
            rewrite = rewrites.get(suggestion.transcript)
            moved = _moved(suggestion.start, suggestion.end, suggestion.text, rewrite,
                           matcher)
            rule = rewrite_text(suggestion.rule, matcher)
            result.count("suggestions logs", [*rewrite_text(suggestion.text, matcher).edits,
                                              *rule.edits])
            matches = [_carry(rewrite, pair) for pair in suggestion.matches]
            renamed = {"transcript": ids[suggestion.transcript]} \
                if suggestion.transcript in ids else {}
            if moved.changed or rule.edits or matches != suggestion.matches or renamed:
                logs.touched = True
                result.suggestions_moved += 1
            fields[suggestion.id] = {"start": moved.start, "end": moved.end,
                                     "text": moved.text, "matches": matches,
                                     **({"rule": rule.text} if suggestion.rule else {}),
                                     **renamed}
    return logs


@dataclass(frozen=True)
class _Moved:
    start: int
    end: int
    text: str
    changed: bool
    widened: bool = False
    verify: bool = False  # in place before: re-anchoring must find it in place now


def _moved(start: int, end: int, text: str, rewrite: FileRewrite | None,
           matcher: KeyMatcher) -> _Moved:
    """Where a coded span and its text go. A coding that no longer matched its text
    before (``coding-text-mismatch``) keeps that state: its text is rewritten on its own."""
    body = rewrite.body if rewrite is not None else None
    if rewrite is None or body is None or not body.edits:
        done = rewrite_text(text, matcher)
        return _Moved(start, end, done.text, bool(done.edits))
    new_start, new_end = body.offset(start, "start"), body.offset(end, "end")
    if end <= len(rewrite.old_body) and rewrite.old_body[start:end] == text:
        new_text = body.text[new_start:new_end]
        widened = _inside(body, start) or _inside(body, end)
        return _Moved(new_start, new_end, new_text,
                      (new_start, new_end, new_text) != (start, end, text), widened,
                      verify=not widened)
    done = rewrite_text(text, matcher)
    return _Moved(new_start, new_end, done.text,
                  (new_start, new_end, done.text) != (start, end, text))


def _inside(body: Rewrite, offset: int) -> bool:
    """Whether ``offset`` falls strictly inside a replaced name."""
    index = bisect.bisect_right([e.start for e in body.edits], offset) - 1
    return index >= 0 and body.edits[index].start < offset < body.edits[index].end


def _carry(rewrite: FileRewrite | None, pair: list[int]) -> list[int]:
    if rewrite is None or rewrite.body is None or len(pair) != 2:
        return list(pair)
    return [rewrite.body.offset(pair[0], "start"), rewrite.body.offset(pair[1], "end")]


def _verify(rewrites: dict[str, FileRewrite], moved: dict[str, list[Coding]],
            ids: dict[str, str], result: ApplyResult) -> None:
    """Each moved coding's old text, rewritten on its own, must be where its new offsets
    say: re-anchoring then finds nothing to place. What it would place is an orphan."""
    for transcript, codings in moved.items():
        done = rewrites[transcript]
        assert done.body is not None
        plan = plan_body(transcript, done.body.text, codings)
        for placement in plan.placements:
            coding = placement.coding
            result.orphans.append({
                "coder": coding.coder, "id": coding.id,
                "transcript": ids.get(transcript, transcript),
                "start": coding.start, "end": coding.end, "kind": placement.kind,
                "found": placement.target.start if placement.target else None})


def _rewrite_strings(value: Any, matcher: KeyMatcher) -> tuple[Any, list[Edit]]:
    """Every text inside a coding's other fields (an adjudication note, say)."""
    if isinstance(value, str):
        done = rewrite_text(value, matcher)
        return done.text, done.edits
    if isinstance(value, dict):
        out, edits = {}, []
        for k, v in value.items():
            out[k], found = _rewrite_strings(v, matcher)
            edits.extend(found)
        return out, edits
    if isinstance(value, list):
        items = [_rewrite_strings(v, matcher) for v in value]
        return [v for v, _e in items], [e for _v, found in items for e in found]
    return value, []


# -- files ------------------------------------------------------------------------------

def _read(path: Path, rel: str) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise QcodeError(f"cannot read {rel}: {exc.strerror}", "nothing was changed") from None
    except UnicodeDecodeError:
        raise QcodeError(f"{rel} is not UTF-8; nothing was changed",
                         "`qcode check` says where; fix it and apply the key again") from None


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _drop_cache(root: Path) -> None:
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
