"""Dialogs of the coder: help, code picker, memo, definition and word selection.

Each is a ``ModalScreen`` that returns its answer through ``dismiss`` (None when
cancelled); the app decides what to do with it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from qcode.coding.keymap import bindings_for, effective_keys
from qcode.format.text import printable
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession

_WORD = re.compile(r"\S+")


def bindings(screen: str) -> list[BindingType]:
    """Textual bindings for the keymap's bindings of a screen: every one has its id, so
    the user's remapping in qcode.yaml applies to it."""
    return [Binding(b.keys, b.action, b.description, id=b.id, show=False)
            for b in bindings_for(screen)]


class HelpScreen(ModalScreen[None]):
    # Closed by the key that opened it too (help), and by quit, so `q` never quits here.
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="close-dialog",
                        show=False)]

    def __init__(self, session: CodingSession, overrides: dict[str, str]) -> None:
        super().__init__()
        self.session = session
        self.overrides = overrides

    def compose(self) -> ComposeResult:
        keys = effective_keys(self.overrides)
        text = ShownText()
        for binding in bindings_for("coder"):
            keys_here = ", ".join(_display(k) for k in keys[binding.id].split(","))
            text.append(f"{keys_here:<14}", style="bold cyan")
            text.append(f"{binding.description}  ")
            text.append(f"({binding.id})\n", style="dim")
        text.append("\nCode shortcuts (toggle the code on the passage):\n", style="bold")
        for code in self.session.codebook:
            if code.key and code.codable:
                text.append(f"  {code.key}  ", style="bold cyan")
                text.append(f"{code.label} ({code.id})\n")
        text.append("\nRemap keys by id in qcode.yaml under `keys:`. Esc closes.", style="dim")
        with Vertical(classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)


def _display(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "left_square_bracket": "[",
             "right_square_bracket": "]", "down": "↓", "up": "↑", "tab": "Tab"}
    return names.get(key.strip(), key.strip())


class CodePicker(ModalScreen[str | None]):
    """Type a few letters of a code's id, label or keywords; Enter applies the best match."""

    BINDINGS = bindings("picker")

    def __init__(self, session: CodingSession, title: str = "Apply a code") -> None:
        super().__init__()
        self.session = session
        self.title_text = title
        self.codes = [c for c in session.codebook if c.codable]
        self.haystack = {c.id: " ".join([c.id, c.label, *c.keywords]) for c in self.codes}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(ShownText(self.title_text), classes="dialog-title")
            yield Input(placeholder="id, label or keyword…", id="picker-input")
            yield OptionList(*self._options(""), id="picker-results")

    def on_mount(self) -> None:
        results = self.query_one("#picker-results", OptionList)
        results.highlighted = 0 if results.option_count else None
        self.query_one(Input).focus()

    def _options(self, query: str) -> list[Option]:
        if query.strip():
            from rapidfuzz import fuzz, process

            hits = process.extract(query, self.haystack, scorer=fuzz.WRatio,
                                   processor=str.lower, limit=12, score_cutoff=40)
            ids = [key for _text, _score, key in hits]
        else:
            ids = [c.id for c in self.codes]
        out = []
        for code_id in ids:
            code = self.session.codebook.require(code_id)
            label = ShownText()
            label.append(f"{code.key or ' '} ", style="bold cyan")
            label.append(code.id, style="bold")
            label.append(f"  {code.label}")
            out.append(Option(label, id=code.id))
        return out

    def on_input_changed(self, event: Input.Changed) -> None:
        results = self.query_one("#picker-results", OptionList)
        results.set_options(self._options(event.value))
        results.highlighted = 0 if results.option_count else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        results = self.query_one("#picker-results", OptionList)
        if results.highlighted is None:
            return
        self.dismiss(results.get_option_at_index(results.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_down(self) -> None:
        self.query_one("#picker-results", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#picker-results", OptionList).action_cursor_up()

    def action_close(self) -> None:
        self.dismiss(None)


class MemoScreen(ModalScreen[str | None]):
    BINDINGS = bindings("dialog")

    def __init__(self, current: str, title: str = "Memo on this passage's codings (Enter "
                 "saves, empty removes, Esc cancels)") -> None:
        super().__init__()
        self.current = current
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(ShownText(self.title_text), classes="dialog-title")
            # a memo from a log may hold control characters: shown, they are saved so
            yield Input(value=printable(self.current), id="memo-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_close(self) -> None:
        self.dismiss(None)


class DefinitionScreen(ModalScreen[None]):
    # Closed by the key that opened it too (definition), and by quit.
    BINDINGS = [Binding("escape,q,d", "close", "Close", id="close-dialog", show=False)]

    def __init__(self, session: CodingSession, code_id: str) -> None:
        super().__init__()
        self.session = session
        self.code_id = code_id

    def compose(self) -> ComposeResult:
        code = self.session.codebook.require(self.code_id)
        text = ShownText()
        text.append(f"{code.label}", style="bold")
        text.append(f"  ({code.id}{', key ' + code.key if code.key else ''})\n\n", style="dim")
        for title, value in (("Definition", code.description), ("Include", code.include),
                             ("Exclude", code.exclude)):
            if value:
                text.append(f"{title}\n", style="bold underline")
                text.append(f"{value}\n\n")
        if code.examples:
            text.append("Examples\n", style="bold underline")
            for example in code.examples:
                text.append(f"• {example}\n")
        if code.keywords:
            text.append(f"\nKeywords: {', '.join(code.keywords)}", style="dim")
        with Vertical(classes="dialog"):
            yield Static(text, id="definition-text")

    def action_close(self) -> None:
        self.dismiss(None)


class WordSelection(ModalScreen[tuple[int, int] | None]):
    """Choose the first and last word of the part of the passage to code."""

    BINDINGS = bindings("words")

    def __init__(self, body: str, start: int, end: int) -> None:
        super().__init__()
        self.body = body
        self.words = [(start + m.start(), start + m.end())
                      for m in _WORD.finditer(body[start:end])]
        self.cursor = 0
        self.first_word: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Code part of the passage: ←/→ move, Enter marks the first word, "
                         "then the last; Esc cancels", classes="dialog-title")
            yield Static(self._words_text(), id="words")

    def _words_text(self) -> ShownText:
        text = ShownText()
        low, high = sorted((self.first_word if self.first_word is not None else self.cursor,
                            self.cursor))
        for index, (start, end) in enumerate(self.words):
            style = ""
            if low <= index <= high and self.first_word is not None:
                style = "reverse"
            if index == self.cursor:
                style = "bold reverse underline"
            text.append(self.body[start:end], style=style)
            text.append(" ")
        return text

    def action_move(self, delta: int) -> None:
        if self.words:
            self.cursor = max(0, min(len(self.words) - 1, self.cursor + delta))
            self.query_one("#words", Static).update(self._words_text())

    def action_mark(self) -> None:
        if not self.words:
            self.dismiss(None)
            return
        if self.first_word is None:
            self.first_word = self.cursor
            self.query_one("#words", Static).update(self._words_text())
            return
        low, high = sorted((self.first_word, self.cursor))
        self.dismiss((self.words[low][0], self.words[high][1]))

    def action_close(self) -> None:
        self.dismiss(None)
