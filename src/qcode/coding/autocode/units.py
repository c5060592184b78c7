"""The units auto-coding rules hold for: passages (without their speaker label) and, for
``scope: sentence`` rules, the sentences inside them."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from qcode.format.matching import text_areas
from qcode.format.text import fold

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Passage, Transcript

Unit = tuple[int, int]  # (passage index, sentence index); sentence -1 for the whole passage
Spans = list[tuple[int, int]]


# A sentence ends at . ! ? … (and any closing quotes) before whitespace and a capital
# letter or an opening quote or dash (so "Kl. 07:45" and "3. mai" do not end one); a blank
# line always ends one. A run of marks is tried from its first mark only (the lookbehind):
# tried from each, 20,000 dots took seconds.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]+[\"»”’')\]]*\s+(?=\S)|\n[ \t]*\n")
_SENTENCE_OPENERS = frozenset("\"«“‘'([–—-")


class Units:
    """The passages of a transcript with the area of their text (after the speaker label),
    and on demand their sentences. A unit is ``(passage index, sentence index)``."""

    def __init__(self, transcript: Transcript) -> None:
        self.body = transcript.body
        self.low = fold(transcript.body)
        self.passages: list[Passage] = transcript.passages
        self._starts = [p.start for p in self.passages]
        self.areas: list[tuple[int, int]] = text_areas(self.body, self.passages)
        self._sentences: dict[int, Spans] = {}

    def passage_index(self, offset: int) -> int | None:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and self.areas[index][0] <= offset < self.areas[index][1]:
            return index
        return None

    def add_hits(self, hits: dict[int, dict[Unit, Spans]], index: int,
                 matches: Iterable[re.Match[str]]) -> None:
        """Matches found over the whole body, kept where they start in a passage's text."""
        for match in matches:
            start, end = match.span()
            if end == start:
                continue
            passage_index = self.passage_index(start)
            if passage_index is not None:
                span = (start, min(end, self.areas[passage_index][1]))
                hits.setdefault(index, {}).setdefault((passage_index, -1), []).append(span)

    def sentences(self, index: int) -> Spans:
        found = self._sentences.get(index)
        if found is None:
            found = split_sentences(self.body, *self.areas[index])
            self._sentences[index] = found
        return found

    def by_sentence(self, hits: dict[int, dict[Unit, Spans]], leaves: set[int]
                    ) -> dict[int, dict[Unit, Spans]]:
        """The hits of ``leaves`` regrouped by the sentence each starts in."""
        out: dict[int, dict[Unit, Spans]] = {}
        for leaf in leaves & hits.keys():
            per_passage = hits[leaf]
            per_sentence: dict[Unit, Spans] = {}
            for (passage_index, _), spans in per_passage.items():
                sentences = self.sentences(passage_index)
                starts = [s for s, _ in sentences]
                for start, end in spans:
                    position = bisect.bisect_right(starts, start) - 1
                    if position >= 0 and start < sentences[position][1]:
                        per_sentence.setdefault((passage_index, position), []).append(
                            (start, min(end, sentences[position][1])))
            if per_sentence:
                out[leaf] = per_sentence
        return out

    def span(self, unit: Unit) -> tuple[int, int]:
        index, sentence = unit
        if sentence < 0:
            passage = self.passages[index]
            return passage.start, passage.end
        return self.sentences(index)[sentence]

    def all(self, scope: str) -> list[Unit]:
        if scope == "passage":
            return [(i, -1) for i in range(len(self.passages))]
        return [(i, s) for i in range(len(self.passages)) for s in range(len(self.sentences(i)))]


def split_sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of ``body[start:end]`` as trimmed spans."""
    spans: list[tuple[int, int]] = []
    position = start
    for found in _SENTENCE_END.finditer(body, start, end):
        following = body[found.end()] if found.end() < end else ""
        if found.group().startswith("\n") or following.isupper() or following in _SENTENCE_OPENERS:
            _add_trimmed(body, position, found.end(), spans)
            position = found.end()
    _add_trimmed(body, position, end, spans)
    return spans


def _add_trimmed(body: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
