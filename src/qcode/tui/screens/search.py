"""Searching the text from the coder: the search pop-up and the choice of what coding all
hits codes.

The search is ``CodingSession.search`` (``qcode.analysis.search``, the engine of ``qcode
search``); the pop-up only asks for the pattern and shows the hits in context. What the
coder keeps afterwards is a ``SearchState``: the hits to walk (ctrl+n / ctrl+p) and mark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from qcode.analysis.search import MODES
from qcode.coding.hits import SPANS
from qcode.errors import QcodeError
from qcode.tui.screens.dialogs import bindings
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import Hit
    from qcode.coding.session import CodingSession

_SPACES = re.compile(r"\s+")
_CONTEXT = 28  # characters of context shown on each side of a hit in the list


@dataclass
class SearchState:
    """The coder's current search: its hits (in the walk's order) and the one last gone
    to."""

    pattern: str
    mode: str
    hits: list[Hit] = field(default_factory=list)
    index: int | None = None
    _spans: dict[str, list[tuple[int, int]]] | None = field(default=None, repr=False)

    def spans(self, transcript: str) -> list[tuple[int, int]]:
        """The hits in one transcript, as body spans (what the passage view marks)."""
        if self._spans is None:
            self._spans = {}
            for hit in self.hits:
                self._spans.setdefault(hit.transcript, []).append((hit.start, hit.end))
        return self._spans.get(transcript, [])

    def where(self) -> str:
        """'hit 3 of 14' (or '14 hits'), for the status line."""
        count = len(self.hits)
        if self.index is None:
            return f"{count} hit{'s' if count != 1 else ''}"
        return f"hit {self.index + 1} of {count}"


class SearchScreen(ModalScreen[SearchState | None]):
    """A pattern, read as in ``qcode search`` (ctrl+r switches match, regex and fuzzy);
    Enter searches and lists the hits in context; Enter on a hit goes there."""

    BINDINGS = [*bindings("dialog"),
                Binding("ctrl+r", "cycle_mode", "Match, regex or fuzzy", show=False)]

    def __init__(self, session: CodingSession, previous: SearchState | None = None) -> None:
        super().__init__()
        self.session = session
        self.pattern = previous.pattern if previous else ""
        self.mode = previous.mode if previous else "match"
        self.hits: list[Hit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="search-dialog"):
            yield Static(ShownText(self._title()), classes="dialog-title", id="search-title")
            yield Input(value=self.pattern, placeholder="words, vikar*, \"a phrase\"…",
                        id="search-input")
            yield Static("", id="search-summary")
            yield OptionList(id="search-hits")

    def _title(self) -> str:
        return (f"Search the transcripts ({self.mode}; ctrl+r changes) · Enter "
                "searches, ↓ the hits, Enter goes to one · Esc")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.pattern:
            self._search()

    def _summary(self, text: str) -> None:
        self.query_one("#search-summary", Static).update(ShownText(text))

    def _search(self) -> None:
        listing = self.query_one("#search-hits", OptionList)
        listing.clear_options()
        pattern = self.pattern
        if not pattern.strip():
            self._summary("type what to search for")
            return
        try:
            hits = self.session.search(pattern, mode=self.mode)
        except QcodeError as exc:
            self.hits = []
            self._summary(f"{exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
            return
        self.hits = hits
        if not hits:
            self._summary(f"no hits for {pattern!r}")
            return
        passages = len({(h.transcript, h.passage) for h in hits})
        transcripts = len({h.transcript for h in hits})
        self._summary(f"{len(hits)} hit{'s' if len(hits) != 1 else ''} in {passages} "
                      f"passage{'s' if passages != 1 else ''} of {transcripts} "
                      f"transcript{'s' if transcripts != 1 else ''}")
        listing.add_options([Option(_hit_line(hit), id=str(i)) for i, hit in enumerate(hits)])
        # the first hit after where the coder is, as ctrl+n would go
        step = self.session.next_hit(hits, 1)
        listing.highlighted = step[0] if step is not None else 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.pattern = event.value
        self._search()
        if self.hits:
            self.query_one("#search-hits", OptionList).focus()

    def on_key(self, event) -> None:
        # ↓ from the pattern goes down into the hits
        if event.key == "down" and self.query_one(Input).has_focus and self.hits:
            event.stop()
            self.query_one("#search-hits", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(SearchState(self.pattern, self.mode, self.hits, int(event.option.id or 0)))

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self.query_one("#search-title", Static).update(ShownText(self._title()))
        self.pattern = self.query_one(Input).value
        if self.pattern.strip():
            self._search()

    def action_close(self) -> None:
        self.dismiss(None)


def _hit_line(hit: Hit) -> ShownText:
    # one space for any run of whitespace, keeping the one either side of the hit
    left = _SPACES.sub(" ", hit.left)
    right = _SPACES.sub(" ", hit.right)
    if len(left) > _CONTEXT:
        left = "…" + left[-(_CONTEXT - 1):]
    if len(right) > _CONTEXT:
        right = right[:_CONTEXT - 1] + "…"
    text = ShownText()
    text.append(f"{hit.transcript} {hit.passage}", style="dim")
    if hit.speaker:
        text.append(f" {hit.speaker}", style="dim")
    text.append("  ")
    text.append(left)
    text.append(_SPACES.sub(" ", hit.text), style="bold reverse")
    text.append(right)
    return text


_SPAN_LABELS = {"passage": "their passages", "sentence": "the sentences they are in",
                "word": "only the matched words"}


class SpanScreen(ModalScreen[str | None]):
    """What coding every hit codes: the passages, the sentences or the matched words."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(ShownText(self.title_text), classes="dialog-title")
            yield OptionList(*[Option(ShownText(f"Code {_SPAN_LABELS[span]}"), id=span)
                               for span in SPANS], id="span-list")

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.highlighted = 0
        listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        self.dismiss(None)
