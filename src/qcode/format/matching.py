"""Running the rule language's patterns (``qcode.format.rules``) over text: what auto-coding
(``qcode.coding.autocode``) and text search (``qcode.analysis.search``) share, so that a
pattern finds the same words in both.

- The text a pattern sees: a passage without its speaker label (``text_areas``).
- The time budget of a ``regex`` pattern (``regex_budget``): no inspection of a pattern
  finds every slow one, so its matching stops when the budget is spent.
- Fuzzy phrases (``fuzzy_phrase``, ``fuzzy_spans``): rapidfuzz's partial ratio, scored only
  in windows around the words that begin like the phrase's words, and widened to whole
  words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from qcode.format.text import fold, nfc
from qcode.format.transcripts import LABEL_RE

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Passage

# The time a `regex` pattern may take on one transcript: REGEX_SECONDS, and one more
# second per REGEX_CHARS_PER_SECOND characters of its text (an honest pattern reads tens
# of millions a second). `(.*a){10}x` passes every check and still backtracks for hours.
REGEX_SECONDS = 2.0
REGEX_CHARS_PER_SECOND = 1_000_000
SLOW_REGEX_HINT = ("such patterns backtrack without end on some text (like (a|aa)+ or "
                   "(.*a){10}): make the pattern more specific, or use a possessive (a++) or "
                   "atomic (?>...) group")

FUZZY_PREFIX = 4  # a fuzzy phrase's candidate words start like its words' first 4 letters

Spans = list[tuple[int, int]]


def regex_budget(characters: int) -> float:
    """Seconds a ``regex`` pattern may run over a text of ``characters``."""
    return REGEX_SECONDS + characters / REGEX_CHARS_PER_SECOND


def text_start(body: str, passage: Passage) -> int:
    """Where the text of a passage starts: after its speaker label and the space after it
    (who speaks is what ``speaker:`` patterns are for, never the text)."""
    if passage.speaker is None:
        return passage.start
    label = LABEL_RE.match(body, passage.start)
    position = label.end() if label else passage.start
    while position < passage.end and body[position].isspace():
        position += 1
    return position


def text_areas(body: str, passages: Sequence[Passage]) -> list[tuple[int, int]]:
    """Each passage's text as ``(start, end)`` in the body (empty for a bare label)."""
    return [(text_start(body, p), p.end) for p in passages]


def fuzzy_phrase(value: str) -> tuple[str, tuple[str, ...]]:
    """A fuzzy pattern → (the folded phrase, the literal starts of its candidate words:
    the first ``FUZZY_PREFIX`` letters of each word that long, else of every word)."""
    phrase = " ".join(fold(nfc(value)).split())
    words = re.findall(r"\w+", phrase)
    long_words = [w[:FUZZY_PREFIX] for w in words if len(w) >= FUZZY_PREFIX]
    return phrase, tuple(dict.fromkeys(long_words or words))


def fuzzy_spans(phrase: str, score: float, low: str, starts: Sequence[tuple[int, int]],
                areas: Sequence[tuple[int, int]]) -> dict[int, Spans]:
    """Approximate matches of a folded ``phrase`` in the folded text ``low``: the best
    match in each window around a candidate word start (``(area index, offset)``, in text
    order), widened to the whole words it cuts, grouped by area index."""
    from rapidfuzz.fuzz import partial_ratio_alignment

    size = len(phrase)
    slack = size // 4 + 2
    windows: list[list[int]] = []
    for area, position in starts:
        lowest, highest = areas[area]
        start, end = max(lowest, position - size - slack), min(highest, position + size + slack)
        if windows and windows[-1][2] == area and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end, area])
    found: dict[int, Spans] = {}
    for start, end, area in windows:
        aligned = partial_ratio_alignment(phrase, low[start:end], score_cutoff=score)
        if aligned is None:
            continue
        hit_start, hit_end = start + aligned.dest_start, start + aligned.dest_end
        # Whole words: widen the aligned piece to the words it cuts, without punctuation.
        while hit_start > start and low[hit_start - 1].isalnum():
            hit_start -= 1
        while hit_end < end and low[hit_end].isalnum():
            hit_end += 1
        while hit_start < hit_end and not low[hit_start].isalnum():
            hit_start += 1
        while hit_end > hit_start and not low[hit_end - 1].isalnum():
            hit_end -= 1
        if hit_end > hit_start:
            found.setdefault(area, []).append((hit_start, hit_end))
    return found
