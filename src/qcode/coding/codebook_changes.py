"""What a codebook command must know about the codings: whether a coding session is open
(its screen would show a stale codebook), and which codings a merge folds together."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from qcode.store.corpus import Corpus
from qcode.store.locks import SESSIONS_DIR


def ensure_no_open_session(corpus: Corpus, why: str) -> None:
    """Refuse (naming the coder and the session's process) while any coder has a coding
    session open: the coders with logs, and any coder whose session lock file exists (a
    first session writes no log until its first coding)."""
    folder = corpus.root / SESSIONS_DIR
    waiting = sorted(p.stem for p in folder.glob("*.lock")) if folder.is_dir() else []
    corpus.store.ensure_no_session([*corpus.coders, *waiting], why)


def codings_counting_for(corpus: Corpus, codes: Iterable[str]) -> dict[str, Counter[str]]:
    """Per coder, the transcripts (with counts) of the current codings whose code is one
    of ``codes`` by id or alias: after a merge, they all count for its target."""
    wanted = {corpus.codebook.canonical(code) for code in codes}
    out: dict[str, Counter[str]] = {}
    for coder in corpus.coders_with_codings():
        found = Counter(c.transcript for c in corpus.store.codings(coder)
                        if corpus.codebook.canonical(c.code) in wanted)
        if found:
            out[coder] = found
    return out
