"""The names people type and read: did-you-mean for codes, transcripts, coders, keys and
values; valid coder names; counted nouns in messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

from qcode.errors import UsageError

# A coder's name becomes a file name, codings/<coder>.jsonl. CODER_PATTERN is for pydantic,
# whose regex engine ends `$` at the very end; in Python `$` also matches before a final
# newline ("me\n"), so Python code validates names with CODER_RE.fullmatch only.
CODER_PATTERN = r"^[A-Za-z0-9_-]+$"
CODER_RE = re.compile(r"[A-Za-z0-9_-]+")


def check_coder_name(coder: str) -> None:
    """Refuse a coder name that cannot be a log's file name."""
    if not coder or not CODER_RE.fullmatch(coder):
        raise UsageError(f"coder name {coder!r} is not allowed",
                         "use letters, digits, - and _ (it becomes codings/<coder>.jsonl)")


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 coding``, ``2 codings``, ``0 codings``; ``words`` for irregular plurals."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def did_you_mean(name: str, choices: Iterable[str], limit: int = 2,
                 cutoff: float = 70.0) -> list[str]:
    """The closest ``choices`` to ``name``, best first; empty when nothing is close."""
    from rapidfuzz import fuzz, process

    pool = list(dict.fromkeys(c for c in choices if c))
    if not pool or not name:
        return []
    lowered = name.lower()
    exact = [c for c in pool if c.lower() == lowered]
    if exact:
        return exact[:limit]
    hits = process.extract(lowered, pool, scorer=fuzz.WRatio, processor=str.lower,
                           limit=limit, score_cutoff=cutoff)
    return [choice for choice, _score, _index in hits]
