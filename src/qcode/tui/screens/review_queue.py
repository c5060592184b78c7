"""What the full-screen reviews share: a queue of items decided one at a time.

The suggestions review and the key review both show the current item of a queue, move
through it with j/k, record a decision through their core object (``Review``,
``KeyReview``) and then drop what is no longer pending; a decision the core refuses rings
the bell and says why in the status line. Each screen draws its item (``_show``) and says
what is pending (``pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from qcode.errors import QcodeError

Item = TypeVar("Item")


class ReviewQueueScreen(Screen[None], Generic[Item]):
    VIEW_ID = "item"  # the id of the Static the item is drawn in
    _show: Callable[..., None]  # draws the current item and the status line (a message)

    def __init__(self, queue: list[Item], pending: Callable[[Item], bool]) -> None:
        super().__init__()
        self.queue = queue
        self.index = 0
        self._pending = pending

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield Static(id=self.VIEW_ID)
        yield Static(id="status")

    def on_mount(self) -> None:
        self._show()

    @property
    def current(self) -> Item | None:
        return self.queue[self.index] if self.queue else None

    def _refresh_queue(self) -> None:
        self.queue = [item for item in self.queue if self._pending(item)]
        self.index = min(self.index, max(0, len(self.queue) - 1))
        self._show()

    def _decide(self, decide: Callable[[Item], object]) -> None:
        item = self.current
        if item is None:
            self.app.bell()
            return
        try:
            decide(item)
        except QcodeError as exc:
            self.app.bell()
            self._show(exc.message)
            return
        self._refresh_queue()

    def action_move(self, delta: int) -> None:
        if self.queue:
            self.index = max(0, min(len(self.queue) - 1, self.index + delta))
        self._show()

    def action_quit(self) -> None:
        self.app.exit()
