"""Dialogs of the coder: help, code picker, memo, definition and word selection.

Each is a ``ModalScreen`` that returns its answer through ``dismiss`` (None when
cancelled); the app decides what to do with it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from qcode.coding.keymap import bindings_for, effective_keys
from qcode.format.text import printable
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession
    from qcode.format.memos import Memo
    from qcode.store.codings import Coding

_WORD = re.compile(r"\S+")


def bindings(screen: str) -> list[BindingType]:
    """Textual bindings for the keymap's bindings of a screen: every one has its id, so
    the user's remapping in qcode.yaml applies to it."""
    return [Binding(b.keys, b.action, b.description, id=b.id, show=False)
            for b in bindings_for(screen)]


# Keys that scroll a pop-up's text (and the definition panel when it has the focus).
SCROLL_BINDINGS: list[BindingType] = [
    Binding("j,down", "scroll_text(1)", show=False),
    Binding("k,up", "scroll_text(-1)", show=False),
    Binding("pagedown,space", "scroll_page(1)", show=False),
    Binding("pageup", "scroll_page(-1)", show=False),
    Binding("home", "scroll_edge(False)", show=False),
    Binding("end", "scroll_edge(True)", show=False),
]


class _Scrolling:
    """Scrolling a pop-up's text by key: j/k, arrows, PgUp/PgDn, Home/End."""

    def _scroller(self) -> VerticalScroll:
        return self.query_one(VerticalScroll)  # type: ignore[attr-defined]

    def action_scroll_text(self, lines: int) -> None:
        self._scroller().scroll_relative(y=lines, animate=False)

    def action_scroll_page(self, pages: int) -> None:
        scroller = self._scroller()
        scroller.scroll_relative(y=pages * max(1, scroller.size.height - 1), animate=False)

    def action_scroll_edge(self, bottom: bool) -> None:
        scroller = self._scroller()
        (scroller.scroll_end if bottom else scroller.scroll_home)(animate=False)


class HelpScreen(_Scrolling, ModalScreen[None]):
    # Closed by the key that opened it too (help), and by quit, so `q` never quits here.
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="close-dialog",
                        show=False), *SCROLL_BINDINGS]

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
        text.append("\nCode shortcuts (with words selected: code them; else toggle the code "
                    "on the passage):\n", style="bold")
        for code in self.session.codebook:
            if code.key and code.codable:
                text.append(f"  {code.key}  ", style="bold cyan")
                text.append(f"{code.label} ({code.id})\n")
        text.append("\nRemap keys by id in qcode.yaml under `keys:`. j/k, PgUp/PgDn scroll; "
                    "Esc closes.", style="dim")
        with Vertical(classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(text, id="help-text")

    def action_close(self) -> None:
        self.dismiss(None)


def _display(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "left_square_bracket": "[",
             "right_square_bracket": "]", "down": "↓", "up": "↑", "tab": "Tab",
             "left": "←", "right": "→", "shift+left": "shift+←", "shift+right": "shift+→",
             "left_parenthesis": "(", "right_parenthesis": ")", "home": "Home",
             "end": "End", "escape": "Esc", "enter": "Enter", "plus": "+"}
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


class LineScreen(ModalScreen[str | None]):
    """One line of text (an adjudication's reason): Enter keeps it, Esc cancels."""

    BINDINGS = bindings("dialog")

    def __init__(self, current: str, title: str) -> None:
        super().__init__()
        self.current = current
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(ShownText(self.title_text), classes="dialog-title")
            yield Input(value=printable(self.current), id="line-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_close(self) -> None:
        self.dismiss(None)


class MemoScreen(ModalScreen[str | None]):
    """A memo on one coding, several lines if need be: ctrl+s saves (empty removes it),
    Esc cancels."""

    BINDINGS = [*bindings("dialog"), Binding("ctrl+s", "save", "Save", show=False)]

    def __init__(self, current: str, code_id: str) -> None:
        super().__init__()
        self.current = current
        self.code_id = code_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(ShownText(f"Memo on {self.code_id} (ctrl+s saves, empty removes, "
                                   "Esc cancels)"), classes="dialog-title")
            # a memo from a log may hold control characters: shown, they are saved so
            yield TextArea(printable(self.current), id="memo-input", soft_wrap=True,
                           show_line_numbers=False)

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    def action_close(self) -> None:
        self.dismiss(None)


class CodingsScreen(ModalScreen[tuple[str, "Coding"] | None]):
    """The codings on a passage, each with its words: x removes one, w widens it to take
    in the selection, n narrows it to the selection, m (or Enter) writes its memo."""

    BINDINGS = [*bindings("dialog"),
                Binding("x,delete", "answer('remove')", "Remove", show=False),
                Binding("w", "answer('widen')", "Widen to the selection", show=False),
                Binding("n", "answer('narrow')", "Narrow to the selection", show=False),
                Binding("m", "answer('memo')", "Memo", show=False)]

    def __init__(self, session: CodingSession, codings: list[Coding],
                 memo_only: bool = False) -> None:
        super().__init__()
        self.session = session
        self.codings = codings
        self.memo_only = memo_only

    def compose(self) -> ComposeResult:
        title = ("Memo on which coding? (Enter chooses, Esc cancels)" if self.memo_only else
                 "Codings on this passage: x remove · w widen / n narrow to the selection · "
                 "m memo · Esc")
        options = []
        for index, coding in enumerate(self.codings):
            code_id = self.session.codebook.canonical(coding.code)
            text = ShownText()
            text.append(code_id, style="bold")
            whole = self.session.is_whole(coding)
            text.append("  whole passage" if whole else f"  {coding.start}:{coding.end}  ",
                        style="dim")
            if not whole:
                text.append("«" + _short(self.session.transcript.body[coding.start:coding.end])
                            + "»")
            if coding.memo:
                text.append(f"  ✎ {_short(coding.memo, 30)}", style="italic")
            options.append(Option(text, id=str(index)))
        with Vertical(classes="dialog"):
            yield Static(ShownText(title), classes="dialog-title")
            yield OptionList(*options, id="codings-list")

    def on_mount(self) -> None:
        listing = self.query_one(OptionList)
        listing.highlighted = 0
        listing.focus()

    def _current(self) -> Coding | None:
        listing = self.query_one(OptionList)
        index = listing.highlighted
        return self.codings[index] if index is not None else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_answer("memo")

    def action_answer(self, what: str) -> None:
        coding = self._current()
        if coding is None or (self.memo_only and what != "memo"):
            return
        self.dismiss((what, coding))

    def action_close(self) -> None:
        self.dismiss(None)


def _short(text: str, length: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"


def definition_text(session: CodingSession, code_id: str | None) -> ShownText:
    """A code's label, id and key, definition, include, exclude, examples and keywords."""
    text = ShownText()
    code = session.codebook.get(code_id) if code_id else None
    if code is None:
        text.append("Definition: highlight a code in the tree (Tab), or put the cursor on "
                    "coded words.", style="dim")
        return text
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
    append_memos(text, session.memos_on("code", code.id), "\n\nMemos\n")
    return text


def append_memos(text: ShownText, memos: list[Memo], title: str) -> None:
    """Memo files (memos/) under a title: each one's author and date, then its text."""
    if not memos:
        return
    text.append(title, style="bold underline")
    for memo in memos:
        when = memo.updated or memo.created
        text.append(f"{memo.author or 'no author'}{', ' + when if when else ''}\n",
                    style="dim")
        text.append(f"{memo.text}\n\n")


def transcript_memo_text(session: CodingSession) -> ShownText:
    """The memos on the transcript being coded, or a line saying how to write one."""
    text = ShownText()
    transcript = session.transcript.id
    memos = session.memos_on("transcript", transcript)
    if not memos:
        text.append(f"No memo on {transcript}: write one with `qcode memo transcript "
                    f"{transcript}`.", style="dim")
    append_memos(text, memos, f"Memos on {transcript}\n")
    return text


class TranscriptMemoPanel(_Scrolling, VerticalScroll):
    """The memos on the transcript beside the passages (ctrl+t shows and hides it);
    scrolls as the definition panel does."""

    BINDINGS = SCROLL_BINDINGS

    def __init__(self, session: CodingSession, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.transcript_id: str | None = None
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static("", id="transcript-memo-text")

    def _scroller(self) -> VerticalScroll:
        return self

    def show_transcript(self) -> None:
        if self.session.transcript.id == self.transcript_id:
            return
        self.transcript_id = self.session.transcript.id
        self.query_one("#transcript-memo-text", Static).update(
            transcript_memo_text(self.session), layout=False)
        self.scroll_home(animate=False)


class DefinitionPanel(_Scrolling, VerticalScroll):
    """The definition of a code beside the passages (``d`` shows and hides it), so text
    and definition can be read together. Scrolls with j/k, PgUp/PgDn, Home/End when it
    has the focus (click it, or Tab to it)."""

    BINDINGS = SCROLL_BINDINGS

    def __init__(self, session: CodingSession, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.code_id: str | None = None
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static(definition_text(self.session, None), id="definition-text")

    def _scroller(self) -> VerticalScroll:
        return self

    def show_code(self, code_id: str | None) -> None:
        if code_id == self.code_id:
            return
        self.code_id = code_id
        self.query_one("#definition-text", Static).update(
            definition_text(self.session, code_id), layout=False)
        self.scroll_home(animate=False)


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
