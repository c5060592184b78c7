"""Reviewing the key's candidates (``qcode pseudonymise review``): the state both the
line dialogue and the full-screen screen present.

The key's ``?`` rows are walked in file order, each with the places the scan finds it in.
A decision is written to the key at once (``PseudonymKey.save``: atomic, owner-only): accept
with a kind and a replacement (by default the next free placeholder of that kind), mark as
not identifying (kind ``none``, so the scan never proposes it again), or skip (it stays
``?``). A replacement that would itself hold an original is refused before anything is
written, so the key on disk is always one the rest of qcode reads.
"""

from __future__ import annotations

from pathlib import Path

from qcode.analysis.identifier_scan import Candidate, scan
from qcode.errors import InvalidKey, UsageError
from qcode.format.pseudonyms import (
    KINDS,
    NOT_IDENTIFYING,
    UNREVIEWED,
    KeyEntry,
    PseudonymKey,
    key_location_problem,
)
from qcode.store.corpus import Corpus, HasCorpus, as_corpus


def writable_key(root: Path, path: Path) -> PseudonymKey:
    """The key at ``path`` to write into (an empty one when the file does not exist yet);
    refused with the reason when ``path`` is somewhere a key must not be."""
    problem = key_location_problem(root, path)
    if problem is not None:
        raise UsageError(problem, "name a key file outside the project with "
                                               "--key PATH")
    if path.exists():
        return PseudonymKey.load(path)
    return PseudonymKey(path=path)


class KeyReview:
    """The ``?`` rows of a key, their places in the project, and the decisions on them."""

    def __init__(self, source: Corpus | HasCorpus, path: Path,
                 language: str | None = None, max_places: int = 5) -> None:
        self.corpus = as_corpus(source)
        self.path = path
        self.key = writable_key(self.corpus.root, path)
        if not path.exists():
            raise InvalidKey(f"{path}: no such key file",
                             "start one with `qcode pseudonymise scan --add-to-key PATH`")
        self.language = language
        found = scan(self.corpus, key=self.key, max_places=max_places)
        self._found = {c.text.casefold(): c for c in found.candidates if c.in_key}
        self.queue: list[KeyEntry] = [e for e in self.key.entries if e.kind == UNREVIEWED]
        self.accepted = 0
        self.dismissed = 0

    def candidate(self, entry: KeyEntry) -> Candidate | None:
        """Where the scan found ``entry`` (None: nowhere in the project now)."""
        return self._found.get(entry.original.casefold())

    def is_pending(self, entry: KeyEntry) -> bool:
        current = self.key.get(entry.original)
        return current is not None and current.kind == UNREVIEWED

    def pending(self) -> list[KeyEntry]:
        return [e for e in self.queue if self.is_pending(e)]

    def placeholder(self, kind: str) -> str:
        return self.key.placeholder(kind, self.language)

    def accept(self, entry: KeyEntry, kind: str, replacement: str | None = None) -> KeyEntry:
        """Make ``entry`` a ``kind`` with ``replacement`` (default: the next placeholder),
        and save the key."""
        if kind not in KINDS:
            raise UsageError(f"unknown kind {kind!r}", f"use one of {', '.join(KINDS)}")
        replacement = (replacement or "").strip() or self.placeholder(kind)
        decided = self._decide(entry, kind, replacement)
        self.accepted += 1
        return decided

    def dismiss(self, entry: KeyEntry) -> KeyEntry:
        """Record that ``entry`` identifies no one (kind ``none``), and save the key."""
        decided = self._decide(entry, NOT_IDENTIFYING, "")
        self.dismissed += 1
        return decided

    def _decide(self, entry: KeyEntry, kind: str, replacement: str) -> KeyEntry:
        if not self.is_pending(entry):
            raise UsageError(f"{entry.original!r} is no longer a candidate in the key",
                             "it was decided meanwhile; go on to the next")
        trial = PseudonymKey(list(self.key.entries), self.path)
        trial.add(entry.original, kind, replacement)
        try:
            PseudonymKey.parse(trial.dumps(), self.path)
        except InvalidKey as exc:
            raise UsageError(exc.message.split(": ", 1)[-1],
                             "choose a placeholder that names no one, e.g. "
                             f"{self.placeholder(kind) if kind in KINDS else '[Person A]'}"
                             ) from None
        trial.save(self.path)
        self.key = trial
        decided = trial.get(entry.original)
        assert decided is not None  # just added
        return decided
