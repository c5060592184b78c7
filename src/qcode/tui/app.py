"""``QcodeApp``: the one Textual application. Thin: it pushes the screen it was made for,
applies the user's key remapping, and turns a crash into a clean exit.

Every screen presents a library object and dispatches to it; every change is saved by the
library (appended and fsynced) before the screen shows it.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

from qcode.coding.keymap import BINDINGS


class QcodeApp(App[None]):
    CSS_PATH = "qcode.tcss"
    TITLE = "qcode"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, screen: str, **state: Any) -> None:
        super().__init__()
        self.screen_name = screen
        self.state = state
        # The library objects the screens present, by name (tests read them too).
        self.session = state.get("session")
        self.adjudication = state.get("adjudication")
        self.review = state.get("review")
        self.crash: BaseException | None = None
        corpus = next((getattr(o, "corpus", None) for o in (self.session, self.adjudication,
                                                            self.review,
                                                            state.get("key_review"))
                       if o is not None), None)
        overrides = dict(corpus.config.keys) if corpus is not None else {}
        known = {b.id for b in BINDINGS}
        self.overrides = {k: v for k, v in overrides.items() if k in known}

    def on_mount(self) -> None:
        if self.overrides:
            self.set_keymap(self.overrides)

    def get_default_screen(self) -> Screen[None]:
        """The screen the app was made for is its base screen (nothing under it)."""
        if self.screen_name == "coder":
            from qcode.tui.screens.coder import CoderScreen

            return CoderScreen(self.state["session"], compare=self.state.get("compare"),
                               show_others=self.state.get("show_others", False))
        if self.screen_name == "adjudicate":
            from qcode.tui.screens.adjudicate import AdjudicationScreen

            self.title = "qcode adjudicate"
            return AdjudicationScreen(self.state["adjudication"])
        if self.screen_name == "suggestions":
            from qcode.tui.screens.suggestions import SuggestionsScreen

            self.title = "qcode suggestions"
            return SuggestionsScreen(self.state["review"])
        if self.screen_name == "key-review":
            from qcode.tui.screens.key_review import KeyReviewScreen

            self.title = "qcode pseudonymise review"
            return KeyReviewScreen(self.state["key_review"])
        raise ValueError(f"no screen {self.screen_name!r}")

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a traceback with the local variables of every frame, which
        # hold interview text. Keep the error for `run_app` (one line, exit 70) and close.
        self.crash = error
        self._return_code = 70
        if self._exception is None:  # Pilot re-raises it in tests
            self._exception = error
            self._exception_event.set()
        self._close_messages_no_wait()
