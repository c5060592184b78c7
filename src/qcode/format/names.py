"""Did-you-mean for names the user typed: codes, transcripts, coders, keys, values."""

from __future__ import annotations

from collections.abc import Iterable


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
