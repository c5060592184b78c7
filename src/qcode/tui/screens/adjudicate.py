"""Full-screen adjudication: walk two coders' disagreements and decide each one.

The state lives in ``qcode.coding.adjudication.Adjudication``; this screen shows one
disagreement at a time (the passage with each coder's coverage marked) and dispatches
the decision keys. Every decision is appended to the consensus log before the next item
is shown. The word selection for an edit is the interactive coder's own dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from qcode.errors import QcodeError
from qcode.tui.screens.dialogs import LineScreen, WordSelection, bindings
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.adjudication import Adjudication, Item


class AdjudicationScreen(Screen[None]):
    BINDINGS = bindings("adjudicate")

    def __init__(self, adjudication: Adjudication) -> None:
        super().__init__()
        self.adjudication = adjudication
        self.items: list[Item] = adjudication.pending()
        self.index = 0
        self.reason = ""  # why the next decision is taken (w), kept with it

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield Static(id="item")
        yield Static(id="status")

    def on_mount(self) -> None:
        self._show()

    @property
    def item(self) -> Item | None:
        return self.items[self.index] if self.items else None

    def _show(self, message: str = "saved") -> None:
        first, second = self.adjudication.first, self.adjudication.second
        item = self.item
        view = self.query_one("#item", Static)
        if item is None:
            view.update(ShownText("No disagreements left to decide: adjudication complete.",
                             style="bold"))
        else:
            text = ShownText()
            text.append(f"{item.transcript} ¶{item.passage}", style="bold")
            if item.speaker:
                text.append(f"  {item.speaker}")
            text.append(f"   code {item.code}", style="bold magenta")
            text.append(f"   ({item.kind})\n\n", style="dim")
            text.append_text(self._marked(item))
            text.append("\n\n")
            text.append(f"A = {first}", style="bold cyan underline")
            text.append(": " + self._describe(item.first, item) + "\n")
            for memo in item.first_memos:
                text.append(f"    memo: {memo}\n", style="italic")
            text.append(f"B = {second}", style="bold yellow reverse")
            text.append(": " + self._describe(item.second, item) + "\n")
            for memo in item.second_memos:
                text.append(f"    memo: {memo}\n", style="italic")
            text.append("\n")
            if self.reason:
                text.append(f"reason: {self.reason}\n\n", style="italic")
            text.append("a A's · b B's · o both · n neither · e edit · w why · j skip · k back "
                        "· q quit", style="dim")
            view.update(text)
        done, total = self.adjudication.progress()
        status = ShownText(no_wrap=True, overflow="ellipsis")
        status.append(message, style="bold green" if message == "saved" else "bold yellow")
        status.append(f" │ decided {done}/{total} │ item {self.index + 1 if item else 0}/"
                      f"{len(self.items)} │ into {self.adjudication.into}")
        self.query_one("#status", Static).update(status)

    def _marked(self, item: Item) -> ShownText:
        """The passage with A's coverage underlined and B's shown reversed."""
        text = ShownText(item.text)
        for start, end in item.first:
            text.stylize("cyan underline", start - item.start, end - item.start)
        for start, end in item.second:
            text.stylize("yellow reverse", start - item.start, end - item.start)
        return text

    @staticmethod
    def _describe(spans, item: Item) -> str:
        if not spans:
            return "not coded"
        if spans == ((item.start, item.end),):
            return "the whole passage"
        return "; ".join(f"«{item.excerpt(span)[:60]}»" for span in spans)

    def action_move(self, delta: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + delta))
        self._show()

    def action_decide(self, decision: str, spans: list[tuple[int, int]] | None = None
                      ) -> None:
        item = self.item
        if item is None:
            self.app.bell()
            return
        try:
            self.adjudication.decide(item, decision, spans, self.reason or None)
        except QcodeError as exc:
            self.app.bell()
            self._show(exc.message)
            return
        self.reason = ""
        self.items.pop(self.index)
        self.index = min(self.index, max(0, len(self.items) - 1))
        self._show()

    def action_reason(self) -> None:
        def keep(text: str | None) -> None:
            if text is not None:
                self.reason = text
                self._show("reason kept for the next decision" if text else "saved")

        self.app.push_screen(LineScreen(self.reason, "Why is it decided so? (Enter keeps it "
                                                     "for the next decision, Esc cancels)"),
                             keep)

    def action_edit(self) -> None:
        item = self.item
        if item is None:
            return
        body = self.adjudication.corpus.transcript(item.transcript).body

        def chosen(span: tuple[int, int] | None) -> None:
            if span is not None:
                self.action_decide("edit", [span])

        self.app.push_screen(WordSelection(body, item.start, item.end), chosen)

    def action_quit(self) -> None:
        self.app.exit()
