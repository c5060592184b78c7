"""The transcript as the coder reads it: every passage with its codes, the coded words
marked, a margin of coding stripes, the word cursor and the selection.

It draws only the lines on screen (Textual's line API): a passage is laid out once per
width (where its lines break), and a change redraws what is visible, so moving and coding
cost the same on a 20,000-word transcript as on a short one. It keeps no state of its own:
the passage, the cursor, the selection and the codings are the session's.

How a passage looks::

     12 Rektor  ▌leadership-involved  ▌~ownership-culture ✎
    L  Rektor: Vi har gjort dette i mange år, og ledelsen har stått bak hele veien.
    Lg Det er en del av kulturen her nå.
       ✎ ownership-culture: the "kulturen" is the staff's, not the leadership's

The margin has a lane per coding on the passage (its shortcut key, or │, in its colour):
a whole-passage coding's lane runs the passage's height, a partial one's only its lines.
The words of partial codings are underlined in their code's colour (with ⟦ ⟧ around them
when there is no colour); the selection is reversed, the word under the cursor bold.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import MouseDown, MouseMove, MouseUp
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from qcode.format.text import printable
from qcode.tui.widgets import DEFAULT_COLOR, ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession
    from qcode.format.transcripts import Passage
    from qcode.store.codings import Coding

_WORD = re.compile(r"\S+")
_PLAIN = Style()  # every segment has a style: Textual's filters (NO_COLOR) need one
LANES = 3  # margin lanes drawn; a passage with more codings shows "+" in the last
MARGIN = LANES + 1


@dataclass
class Block:
    """The lines of one passage at one width: a header line (number, speaker, codes), the
    text's lines, and one line per memo and per other coder shown. Heights are known
    without drawing; the header and extra lines are drawn when first on screen."""

    text: list[tuple[int, int]]  # body spans, one per screen line
    extras: int  # memo and other-coder lines
    header: Strip | None = None
    extra: list[Strip] | None = None

    @property
    def height(self) -> int:
        return 1 + len(self.text) + self.extras + 1  # + a blank line


def wrap_spans(body: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """Where ``body[start:end]`` breaks into lines of at most ``width`` cells: at spaces,
    at line breaks, and inside a word only when the word alone is wider than a line."""
    width = max(1, width)
    spans: list[tuple[int, int]] = []
    line_start = start
    while line_start <= end:
        newline = body.find("\n", line_start, end)
        line_end = end if newline < 0 else newline
        _wrap_line(body, line_start, line_end, width, spans)
        if newline < 0:
            break
        line_start = newline + 1
    return spans or [(start, start)]


def _wrap_line(body: str, start: int, end: int, width: int,
               spans: list[tuple[int, int]]) -> None:
    segment_start, column, last_end = start, 0, start
    for word in _WORD.finditer(body, start, end):
        w_start, w_end = word.span()
        length = cell_len(body[w_start:w_end])
        gap = w_start - last_end if column else 0
        if column and column + gap + length > width:
            spans.append((segment_start, last_end))
            segment_start, column, gap = w_start, 0, 0
        while length > width:  # a word wider than a line: cut it
            cut = w_start
            used = 0
            while cut < w_end and used + cell_len(body[cut]) <= width - column:
                used += cell_len(body[cut])
                cut += 1
            if cut == w_start:
                cut += 1
            spans.append((segment_start, cut))
            segment_start, column, w_start = cut, 0, cut
            length = cell_len(body[w_start:w_end])
        column += gap + length
        last_end = w_end
    spans.append((segment_start, last_end if column else segment_start))


class PassageView(ScrollView, can_focus=True):
    """The session's transcript, drawn line by line."""

    class Clicked(Message):
        """The coder clicked or dragged in the text: the session's cursor moved."""

    def __init__(self, session: CodingSession, compare: str | None = None,
                 others: list[str] | None = None, labels: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.compare = compare
        self.others = others or []
        self.labels = labels  # show code labels instead of ids in passage headers
        # the search's hits to mark: the coder's SearchState.spans (transcript → spans)
        self.hits: Callable[[str], list[tuple[int, int]]] = lambda transcript: []
        self._blocks: list[Block] = []
        self._tops: list[int] = []
        self._laid_width = -1
        self._transcript: str | None = None
        self._dragging = False
        self._base = Style()

    # -- layout ---------------------------------------------------------------------------------

    def show_transcript(self) -> None:
        self._transcript = self.session.transcript.id
        self._layout(force=True)
        self.scroll_to_current(animate=False)

    def _layout(self, force: bool = False) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or (width == self._laid_width and not force):
            return
        self._laid_width = width
        passages = self.session.transcript.passages
        self._blocks = [self._block(p) for p in passages]
        self._recount()

    def _recount(self) -> None:
        tops, top = [], 0
        for block in self._blocks:
            tops.append(top)
            top += block.height
        self._tops = tops
        self.virtual_size = Size(self._laid_width, top)

    def _block(self, passage: Passage) -> Block:
        body = self.session.transcript.body
        width = max(10, self._laid_width - MARGIN - 1)
        session = self.session
        extras = sum(1 for c in session.codings_on(passage) if c.memo and c.memo.strip())
        extras += 1 if self.compare else 0
        extras += sum(1 for other in self.others if session.codes_on(passage, coder=other))
        return Block(wrap_spans(body, passage.start, passage.end, width), extras)

    def refresh_passages(self, numbers: set[int]) -> None:
        """Lay out again the passages whose codings changed, and redraw."""
        if self.session.transcript.id != self._transcript:
            self.show_transcript()
            return
        heights = [self._blocks[n - 1].height for n in numbers if 0 < n <= len(self._blocks)]
        for number in numbers:
            if 0 < number <= len(self._blocks):
                passage = self.session.transcript.passages[number - 1]
                self._blocks[number - 1] = self._block(passage)
        if heights != [self._blocks[n - 1].height for n in numbers
                       if 0 < n <= len(self._blocks)]:
            self._recount()
        self.refresh()

    def on_resize(self) -> None:
        self._layout()
        self.scroll_to_current(animate=False)

    # -- what a passage shows -------------------------------------------------------------------

    def _code_name(self, code_id: str) -> str:
        code = self.session.codebook.get(code_id)
        return code.label if self.labels and code is not None else code_id

    def _color(self, code_id: str) -> str:
        code = self.session.codebook.get(code_id)
        return code.color if code is not None and code.color else DEFAULT_COLOR

    def _header(self, passage: Passage) -> Strip:
        session = self.session
        text = ShownText()
        text.append(f"{passage.number:>3} ", style="dim")
        if passage.speaker:
            text.append(passage.speaker, style="bold")
        seen: list[str] = []
        for coding in session.codings_on(passage):
            code_id = session.codebook.canonical(coding.code)
            label = self._code_name(code_id)
            label = label if session.is_whole(coding, passage) else f"~{label}"
            if label in seen:
                continue
            seen.append(label)
            text.append("  ")
            text.append(f"▌{label}", style=f"bold {self._color(code_id)}")
            if coding.memo:
                text.append(" ✎", style="italic")
        return self._line(text)

    def _extra(self, passage: Passage) -> list[Strip]:
        session = self.session
        lines: list[Strip] = []
        for coding in session.codings_on(passage):
            if coding.memo and coding.memo.strip():  # its first line; all of it: m or Enter
                text = ShownText(" " * MARGIN)
                text.append(f"✎ {self._code_name(session.codebook.canonical(coding.code))}: ",
                            style="italic")
                first = coding.memo.strip().splitlines()[0]
                text.append(first, style="italic dim")
                lines.append(self._line(text))
        if self.compare:
            text = ShownText(" " * MARGIN)
            text.append(f"{self.compare}: ", style="bold cyan")
            text.append(", ".join(session.codes_on(passage, coder=self.compare)) or "-",
                        style="cyan")
            lines.append(self._line(text))
        for other in self.others:
            theirs = session.codes_on(passage, coder=other)
            if theirs:
                lines.append(self._line(ShownText(
                    " " * MARGIN + f"{other}: {', '.join(theirs)}", style="dim italic")))
        return lines

    def _line(self, text: Text) -> Strip:
        """One screen line: what does not fit ends in an ellipsis (the codings list, the
        memo, hold the rest)."""
        text.truncate(max(1, self._laid_width), overflow="ellipsis")
        return Strip(text.render(self.app.console), text.cell_len)

    # -- drawing ----------------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base = self.rich_style  # once per redraw, not per line (it is not cheap)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        line = self.scroll_offset.y + y
        index = bisect.bisect_right(self._tops, line) - 1
        width = self.scrollable_content_region.width
        if index < 0 or index >= len(self._blocks):
            return Strip.blank(width, self._base)
        block = self._blocks[index]
        row = line - self._tops[index]
        passage = self.session.transcript.passages[index]
        if row == 0:
            if block.header is None:
                block.header = self._header(passage)
            strip = block.header
            if index == self.session.p_index:
                strip = strip.apply_style(Style(bold=True, reverse=self.has_focus))
            return self._finish(strip, width)
        row -= 1
        if row < len(block.text):
            return self._finish(self._text_line(index, *block.text[row]), width)
        row -= len(block.text)
        if row < block.extras:
            if block.extra is None:
                block.extra = self._extra(passage)
            if row < len(block.extra):
                return self._finish(block.extra[row], width)
        return Strip.blank(width, self._base)

    def _finish(self, strip: Strip, width: int) -> Strip:
        return strip.crop_extend(0, width, self._base)

    def _text_line(self, index: int, start: int, end: int) -> Strip:
        session = self.session
        passage = session.transcript.passages[index]
        body = session.transcript.body
        codings = session.codings_on(passage)
        current = index == session.p_index
        no_color = self.app.no_color
        segments = self._margin(passage, codings, start, end)
        marks: list[tuple[int, int, Style]] = []
        for coding in codings:
            if not session.is_whole(coding, passage) and coding.start < end and start < coding.end:
                color = self._color(session.codebook.canonical(coding.code))
                marks.append((max(start, coding.start), min(end, coding.end),
                              Style(underline=True) if no_color
                              else Style(color=color, underline=True)))
        for hit_start, hit_end in self.hits(session.transcript.id):
            if hit_start < end and start < hit_end and passage.start <= hit_start < passage.end:
                marks.append((max(start, hit_start), min(end, hit_end),
                              Style(reverse=True) if no_color
                              else Style(bgcolor="yellow", color="black")))
        if current:
            cursor = session.cursor
            selection = cursor.selection
            if selection is not None and selection[0] < end and start < selection[1]:
                marks.append((max(start, selection[0]), min(end, selection[1]),
                              Style(reverse=True)))
            word = cursor.word
            if word is not None and word[0] < end and start < word[1] and self.has_focus:
                marks.append((max(start, word[0]), min(end, word[1]),
                              Style(bold=True, reverse=selection is None, underline=True)))
        text = body[start:end]
        if no_color:
            text = self._brackets(text, start, codings, passage)
        segments += _styled(printable(text), start, marks)
        return Strip(segments)

    def _margin(self, passage: Passage, codings: list[Coding], start: int,
                end: int) -> list[Segment]:
        session = self.session
        lanes = sorted(codings, key=lambda c: (c.start, -c.end))
        cells: list[Segment] = []
        for lane, coding in enumerate(lanes[:LANES]):
            if lane == LANES - 1 and len(lanes) > LANES:
                cells.append(Segment("+", Style(dim=True)))
                continue
            covers = coding.start < max(end, start + 1) and start < coding.end
            if not covers:
                cells.append(Segment(" ", _PLAIN))
                continue
            code = session.codebook.resolve(coding.code)
            glyph = code.key if code is not None and code.key else "│"
            color = self._color(code.id if code is not None else coding.code)
            cells.append(Segment(printable(glyph), Style(bold=True) if self.app.no_color
                                 else Style(color=color, bold=True)))
        cells.append(Segment(" " * (MARGIN - len(cells)), _PLAIN))
        return cells

    @staticmethod
    def _brackets(text: str, start: int, codings: list[Coding], passage: Passage) -> str:
        """Without colour, a partial coding's edges are shown on the spaces beside it
        (⟦ before, ⟧ after), so the layout does not move."""
        chars = list(text)
        for coding in codings:
            if (coding.start, coding.end) == (passage.start, passage.end):
                continue
            for position, glyph in ((coding.start - 1, "⟦"), (coding.end, "⟧")):
                local = position - start
                if 0 <= local < len(chars) and chars[local] == " ":
                    chars[local] = glyph
        return "".join(chars)

    # -- following the session --------------------------------------------------------------------

    def scroll_to_current(self, animate: bool = False) -> None:
        index = self.session.p_index
        if not 0 <= index < len(self._blocks):
            return
        top, block = self._tops[index], self._blocks[index]
        height = self.scrollable_content_region.height
        if block.height <= height:
            region = Region(0, top, 1, block.height)
        else:  # a passage taller than the screen: keep the cursor's line in view
            row = self._line_of(index, self.session.cursor.offset)
            region = Region(0, top + row, 1, 1)
        self.scroll_to_region(region, animate=animate, force=True)

    def _line_of(self, index: int, offset: int) -> int:
        block = self._blocks[index]
        for row, (start, end) in enumerate(block.text):
            if start <= offset <= end:
                return 1 + row
        return 0

    # -- the mouse --------------------------------------------------------------------------------

    def _offset_at(self, x: int, y: int) -> tuple[int, int] | None:
        """(passage index, body offset) under a point of the widget, or None."""
        line = int(self.scroll_offset.y) + y
        index = bisect.bisect_right(self._tops, line) - 1
        if not 0 <= index < len(self._blocks):
            return None
        block = self._blocks[index]
        row = line - self._tops[index] - 1
        if not 0 <= row < len(block.text):
            return None
        start, end = block.text[row]
        body = self.session.transcript.body
        column, position = MARGIN, start
        while position < end and column + cell_len(body[position]) <= x:
            column += cell_len(body[position])
            position += 1
        return index, position

    def on_mouse_down(self, event: MouseDown) -> None:
        found = self._offset_at(event.x, event.y)
        if found is None:
            return
        index, offset = found
        session = self.session
        if index != session.p_index:
            session.goto(session.t_index, index)
        session.cursor.place(offset)
        self._dragging = True
        self.capture_mouse()
        self.focus()
        self.post_message(self.Clicked())
        self.refresh()

    def on_mouse_move(self, event: MouseMove) -> None:
        if not self._dragging:
            return
        found = self._offset_at(event.x, event.y)
        if found is not None and found[0] == self.session.p_index:
            self.session.cursor.place(found[1], extend=True)
            self.post_message(self.Clicked())
            self.refresh()

    def on_mouse_up(self, event: MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()


def _styled(text: str, start: int, marks: list[tuple[int, int, Style]]) -> list[Segment]:
    """``text`` (which begins at body offset ``start``) cut into segments where the marks
    begin and end; overlapping marks combine, later ones on top."""
    if not marks:
        return [Segment(text, _PLAIN)]
    cuts = sorted({0, len(text), *[max(0, min(len(text), m[0] - start)) for m in marks],
                   *[max(0, min(len(text), m[1] - start)) for m in marks]})
    segments = []
    for low, high in itertools.pairwise(cuts):
        if low == high:
            continue
        style = Style()
        for mark_start, mark_end, mark_style in marks:
            if mark_start - start <= low and high <= mark_end - start:
                style += mark_style
        segments.append(Segment(text[low:high], style))
    return segments
