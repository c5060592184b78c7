"""``CoderScreen``: the full-screen coder. Thin: keys → session methods → re-render.

Every change goes through ``CodingSession``, which appends it to the log (fsynced) before
the screen shows it, so the status bar's "saved" is always true.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Key
from textual.screen import Screen
from textual.widgets import OptionList

from qcode.errors import QcodeError
from qcode.tui.screens.dialogs import (
    CodePicker,
    DefinitionScreen,
    HelpScreen,
    MemoScreen,
    WordSelection,
    bindings,
)
from qcode.tui.widgets import CodeTree, PassageList, StatusBar

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import Change, CodingSession


class CoderScreen(Screen[None]):
    BINDINGS = bindings("coder")

    def __init__(self, session: CodingSession, compare: str | None = None,
                 show_others: bool = False) -> None:
        super().__init__()
        self.session = session
        self.compare = compare
        self.others = [c for c in session.others if c != compare] if show_others else []
        self._shown: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield PassageList(id="passages")
            yield CodeTree(self.session, id="codebook")
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        self._show_transcript()
        self.query_one(PassageList).focus()

    # -- rendering ---------------------------------------------------------------------------

    @property
    def passages(self) -> PassageList:
        return self.query_one(PassageList)

    @property
    def codebook_tree(self) -> CodeTree:
        return self.query_one(CodeTree)

    def _show_transcript(self) -> None:
        self.passages.show_transcript(self.session, self.compare, self.others)
        self._shown = self.session.transcript.id
        self._status()

    def _status(self, message: str = "saved") -> None:
        self.query_one(StatusBar).show(self.session, message)

    def _sync_highlight(self) -> None:
        passages = self.passages
        if passages.option_count:
            passages.highlighted = self.session.p_index
            passages.scroll_to_highlight()
        self._status()

    def _after_change(self, change: Change | None) -> None:
        if change is None:
            self._status("nothing to undo")
            return
        if change.transcript != self._shown:
            self._show_transcript()
        else:
            numbers = {change.passage}
            transcript = self.session.transcript
            for coding in (*change.added, *change.removed):
                numbers.update(p.number for p in transcript.passages_overlapping(
                    coding.start, coding.end))
            for number in sorted(numbers):
                self.passages.refresh_passage(self.session, number, self.compare,
                                              self.others)
        canonical = self.session.codebook.canonical
        codes = {canonical(c.code) for c in (*change.added, *change.removed)}
        self.codebook_tree.refresh_codes(codes)
        self._sync_highlight()

    def _fail(self, exc: QcodeError) -> None:
        self.app.bell()
        self._status(exc.message)

    # -- navigation --------------------------------------------------------------------------

    def action_next_passage(self) -> None:
        self.session.move(1)
        self._sync_highlight()

    def action_previous_passage(self) -> None:
        self.session.move(-1)
        self._sync_highlight()

    def _jump(self, moved: bool, transcript_before: str) -> None:
        if not moved:
            self.app.bell()
            return
        if self.session.transcript.id != transcript_before:
            self._show_transcript()
        self._sync_highlight()

    def action_next_uncoded(self) -> None:
        before = self.session.transcript.id
        self._jump(self.session.move_uncoded(1), before)

    def action_previous_uncoded(self) -> None:
        before = self.session.transcript.id
        self._jump(self.session.move_uncoded(-1), before)

    def action_next_transcript(self) -> None:
        before = self.session.transcript.id
        self._jump(self.session.move_transcript(1), before)

    def action_previous_transcript(self) -> None:
        before = self.session.transcript.id
        self._jump(self.session.move_transcript(-1), before)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # A highlight event can be stale (set_options announces index 0 after we moved
        # the highlight on): only the list's current highlight is the coder's choice.
        if (event.option_list is self.passages and event.option_index is not None
                and event.option_index == event.option_list.highlighted
                and event.option_index != self.session.p_index):
            self.session.goto(self.session.t_index, event.option_index)
            self._status()

    def action_focus_tree(self) -> None:
        target = self.codebook_tree if self.passages.has_focus else self.passages
        target.focus()

    # -- coding ------------------------------------------------------------------------------

    def toggle(self, code_id: str) -> None:
        try:
            self._after_change(self.session.toggle(code_id))
        except QcodeError as exc:
            self._fail(exc)

    def on_key(self, event: Key) -> None:
        """A code's shortcut key toggles that code on the current passage."""
        if self.app.screen is not self or event.character is None:
            return
        code = self.session.codebook.by_key(event.character)
        if code is not None and len(event.character) == 1:
            event.stop()
            event.prevent_default()
            self.toggle(code.id)

    def on_tree_node_selected(self, event: CodeTree.NodeSelected) -> None:
        if event.node.data is not None:
            self.toggle(event.node.data)

    def action_pick_code(self) -> None:
        def apply(code_id: str | None) -> None:
            if code_id:
                self.toggle(code_id)

        self.app.push_screen(CodePicker(self.session), apply)

    def action_undo(self) -> None:
        self._after_change(self.session.undo())

    def action_memo(self) -> None:
        codings = self.session.codings_on()
        if not codings:
            self.app.bell()
            self._status("code the passage before writing a memo")
            return
        current = next((c.memo for c in codings if c.memo), "") or ""

        def save(memo: str | None) -> None:
            if memo is None:
                return
            try:
                self._after_change(self.session.set_memo(memo))
            except QcodeError as exc:
                self._fail(exc)

        self.app.push_screen(MemoScreen(current), save)

    def action_definition(self) -> None:
        code_id = self.codebook_tree.selected_code
        if code_id is None:
            codes = self.session.codes_on()
            code_id = codes[0] if codes else None
        if code_id is None:
            self.app.bell()
            return
        self.app.push_screen(DefinitionScreen(self.session, code_id))

    def action_select_words(self) -> None:
        passage = self.session.passage
        if passage is None:
            return

        def chosen(span: tuple[int, int] | None) -> None:
            if span is None:
                return

            def apply(code_id: str | None) -> None:
                if code_id:
                    try:
                        self._after_change(self.session.code_span(code_id, *span))
                    except QcodeError as exc:
                        self._fail(exc)

            self.app.push_screen(CodePicker(self.session, "Code the selected words"), apply)

        self.app.push_screen(WordSelection(self.session.transcript.body, passage.start,
                                       passage.end), chosen)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.session, self.session.corpus.config.keys))

    def action_quit(self) -> None:
        self.app.exit()
