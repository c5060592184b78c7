"""Where the coder is inside a passage: a word under the cursor, and a selection of words.

The full-screen coder moves it by word, sentence and passage (and with the mouse); a code's
key then codes exactly the selection. It is state of the session, not of the screen, so
the same rules hold wherever a coder works, and tests drive it without a terminal.

Words are runs of non-space characters of the passage's text after its speaker label
(``Rektor:`` is never part of a selection); sentences are autocode's (``split_sentences``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from qcode.coding.autocode.units import split_sentences
from qcode.format.transcripts import LABEL_RE

_WORD = re.compile(r"\S+")


@dataclass
class TextCursor:
    body: str
    start: int  # the passage's span in the body
    end: int
    speaker: bool = False  # the passage opens with a speaker label
    words: list[tuple[int, int]] = field(default_factory=list)
    index: int = 0  # the word under the cursor
    anchor: int | None = None  # the other end of the selection, a word index
    selecting: bool = False  # started with `v`: every move extends the selection

    def __post_init__(self) -> None:
        area = self.text_start()
        self.words = [(m.start(), m.end()) for m in _WORD.finditer(self.body, area, self.end)]
        self._sentence_starts: list[int] | None = None

    def text_start(self) -> int:
        """Where the passage's text begins: after ``Label:`` and the space after it."""
        position = self.start
        if self.speaker:
            label = LABEL_RE.match(self.body, self.start)
            position = label.end() if label else self.start
        while position < self.end and self.body[position].isspace():
            position += 1
        return position

    # -- what is where ------------------------------------------------------------------------

    @property
    def word(self) -> tuple[int, int] | None:
        return self.words[self.index] if self.words else None

    @property
    def offset(self) -> int:
        """The body offset of the word under the cursor (the passage's text start when
        the passage has no words)."""
        word = self.word
        return word[0] if word else self.text_start()

    @property
    def selection(self) -> tuple[int, int] | None:
        """The selected words as a body span ``[start, end)``, or None."""
        if self.anchor is None or not self.words:
            return None
        low, high = sorted((self.anchor, self.index))
        return self.words[low][0], self.words[high][1]

    def word_at(self, offset: int) -> int | None:
        """The index of the word at or before ``offset`` (None before the first word)."""
        if not self.words:
            return None
        position = bisect.bisect_right([w[0] for w in self.words], offset) - 1
        return max(0, position)

    # -- moving ---------------------------------------------------------------------------------

    def move_word(self, delta: int, extend: bool = False) -> bool:
        """By ``delta`` words; with ``extend`` the selection grows from where it was
        anchored (or from the word the cursor left). False at either end."""
        if not self.words:
            return False
        target = max(0, min(len(self.words) - 1, self.index + delta))
        moved = target != self.index
        self._go(target, extend)
        return moved

    def move_sentence(self, delta: int, extend: bool = False) -> bool:
        """To the first word of the next (previous) sentence."""
        if not self.words:
            return False
        starts = self._sentences()
        here = self.words[self.index][0]
        position = bisect.bisect_right(starts, here) - 1  # the sentence we are in
        if delta > 0:
            target_start = starts[position + 1] if position + 1 < len(starts) else None
        else:
            # back to this sentence's start, or to the previous one's if already there
            target_start = (starts[position] if position >= 0 and starts[position] < here
                            else starts[position - 1] if position > 0 else None)
        if target_start is None:
            return False
        target = self.word_at(target_start)
        if target is None:
            return False
        self._go(target, extend)
        return True

    def home(self, extend: bool = False) -> None:
        if self.words:
            self._go(0, extend)

    def end_of_text(self, extend: bool = False) -> None:
        if self.words:
            self._go(len(self.words) - 1, extend)

    def place(self, offset: int, extend: bool = False) -> None:
        """On the word at a body offset (a mouse click); with ``extend``, a drag."""
        target = self.word_at(offset)
        if target is not None:
            self._go(target, extend)

    def select(self, start: int, end: int) -> None:
        """Select the words that overlap ``[start, end)`` (a search hit, say)."""
        inside = [i for i, (s, e) in enumerate(self.words) if s < end and start < e]
        if inside:
            self.anchor, self.index = inside[0], inside[-1]

    def start_selecting(self) -> None:
        """From here on every move extends the selection (until ``clear``)."""
        self.selecting = True
        if self.anchor is None:
            self.anchor = self.index

    def clear(self) -> bool:
        """Drop the selection (and stop selecting); False when there was none."""
        had = self.anchor is not None or self.selecting
        self.anchor = None
        self.selecting = False
        return had

    def _go(self, target: int, extend: bool) -> None:
        if extend or self.selecting:
            if self.anchor is None:
                self.anchor = self.index
        else:
            self.anchor = None
        self.index = target

    def _sentences(self) -> list[int]:
        if self._sentence_starts is None:
            self._sentence_starts = [s for s, _ in split_sentences(self.body, self.text_start(),
                                                                   self.end)]
        return self._sentence_starts
