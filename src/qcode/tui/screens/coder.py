"""``CoderScreen``: the full-screen coder. Thin: keys → session methods → redraw.

Every change goes through ``CodingSession``, which appends it to the log (fsynced) before
the screen shows it, so the status bar's "saved" is always true. The cursor and the
selection are the session's too; the screen only draws them (``PassageView``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Key, Resize
from textual.screen import Screen

from qcode.errors import QcodeError
from qcode.tui.passage_view import PassageView
from qcode.tui.screens.dialogs import (
    CodePicker,
    CodingsScreen,
    DefinitionPanel,
    HelpScreen,
    MemoScreen,
    TranscriptMemoPanel,
    bindings,
)
from qcode.tui.screens.new_code import NewCodeScreen
from qcode.tui.screens.search import SearchScreen, SearchState, SpanScreen
from qcode.tui.widgets import CodeTree, StatusBar

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import Change, CodingSession
    from qcode.format.codebook import Code
    from qcode.store.codings import Coding

WIDE = 120  # from this width the codebook takes a third of the screen


class CoderScreen(Screen[None]):
    BINDINGS = bindings("coder")

    def __init__(self, session: CodingSession, compare: str | None = None,
                 show_others: bool = False) -> None:
        super().__init__()
        self.session = session
        self.compare = compare
        self.others = [c for c in session.others if c != compare] if show_others else []
        self.search: SearchState | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            labels = self.session.corpus.config.code_names == "labels"
            yield PassageView(self.session, self.compare, self.others, labels=labels,
                              id="passages")
            yield TranscriptMemoPanel(self.session, id="transcript-memo")
            yield DefinitionPanel(self.session, id="definition")
            yield CodeTree(self.session, id="codebook")
        yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.view.hits = lambda transcript: self.search.spans(transcript) if self.search else []
        self.view.show_transcript()
        self.view.focus()
        self._status()

    def on_resize(self, event: Resize) -> None:
        tree = self.codebook_tree
        tree.styles.width = max(34, event.size.width // 3) if event.size.width >= WIDE else 34

    # -- rendering ---------------------------------------------------------------------------

    @property
    def view(self) -> PassageView:
        return self.query_one(PassageView)

    @property
    def codebook_tree(self) -> CodeTree:
        return self.query_one(CodeTree)

    @property
    def panel(self) -> DefinitionPanel:
        return self.query_one(DefinitionPanel)

    def _status(self, message: str = "saved") -> None:
        self.query_one(StatusBar).show(self.session, message)
        if self.panel.display:
            self.panel.show_code(self._code_in_focus())
        memo_panel = self.query_one(TranscriptMemoPanel)
        if memo_panel.display:
            memo_panel.show_transcript()

    def _moved(self, transcript_before: str | None = None) -> None:
        """After the passage or the cursor moved: redraw, keep it in view, say where."""
        if self.session.transcript.id != self.view._transcript:
            self.view.show_transcript()
        else:
            self.view.refresh()
            self.view.scroll_to_current()
        self._status()

    def _after_change(self, change: Change | None, message: str = "saved") -> None:
        if change is None:
            self._status("nothing to undo")
            return
        if change.empty:
            self._status(message if message != "saved" else "no change")
            return
        numbers = {change.passage}
        transcript = self.session.transcript
        for coding in (*change.added, *change.removed):
            if coding.transcript != transcript.id:
                continue  # coding all search hits reaches other transcripts
            numbers.update(p.number for p in transcript.passages_overlapping(
                coding.start, coding.end))
        self.view.refresh_passages(numbers)
        self.view.scroll_to_current()
        canonical = self.session.codebook.canonical
        self.codebook_tree.refresh_codes({canonical(c.code)
                                          for c in (*change.added, *change.removed)})
        self._status(message)

    def _fail(self, exc: QcodeError) -> None:
        self.app.bell()
        self._status(exc.message)

    # -- navigation --------------------------------------------------------------------------

    def _go(self, moved: bool) -> None:
        if not moved:
            self.app.bell()
        self._moved()

    def action_next_passage(self) -> None:
        self._go(self.session.move(1))

    def action_previous_passage(self) -> None:
        self._go(self.session.move(-1))

    def action_next_uncoded(self) -> None:
        self._go(self.session.move_uncoded(1))

    def action_previous_uncoded(self) -> None:
        self._go(self.session.move_uncoded(-1))

    def action_next_transcript(self) -> None:
        self._go(self.session.move_transcript(1))

    def action_previous_transcript(self) -> None:
        self._go(self.session.move_transcript(-1))

    def action_cursor_word(self, delta: int, extend: bool = False) -> None:
        self.session.cursor.move_word(delta, extend)
        self._moved()

    def action_cursor_sentence(self, delta: int) -> None:
        if not self.session.cursor.move_sentence(delta):
            self.app.bell()
        self._moved()

    def action_cursor_home(self) -> None:
        self.session.cursor.home()
        self._moved()

    def action_cursor_end(self) -> None:
        self.session.cursor.end_of_text()
        self._moved()

    def action_select_words(self) -> None:
        """v: start selecting at the cursor (moves then extend the selection); v again
        drops it."""
        cursor = self.session.cursor
        if not cursor.clear():
            cursor.start_selecting()
        self._moved()

    def action_clear_selection(self) -> None:
        self.session.cursor.clear()
        self._moved()

    def on_passage_view_clicked(self, event: PassageView.Clicked) -> None:
        self._status()

    def action_focus_tree(self) -> None:
        target = self.codebook_tree if self.view.has_focus else self.view
        target.focus()
        self.view.refresh()

    # -- coding ------------------------------------------------------------------------------

    def code(self, code_id: str) -> None:
        """A code's key: the selection gets exactly this code; with nothing selected the
        code's presence on the passage toggles (see ``CodingSession.apply_code``)."""
        session = self.session
        selected = session.cursor.selection
        try:
            change = session.apply_code(code_id)
        except QcodeError as exc:
            self._fail(exc)
            return
        if selected is not None and change.empty:
            words = session.transcript.body[selected[0]:selected[1]]
            message = (f"already coded {code_id}: «{_short(words)}» (Enter lists the "
                       "codings to remove one)")
        elif change.removed and not change.added:
            message = f"saved: removed {code_id} ({len(change.removed)}); u undoes"
        else:
            message = "saved"
        self._after_change(change, message)

    def on_key(self, event: Key) -> None:
        """A code's shortcut key codes (see ``code``)."""
        if self.app.screen is not self or event.character is None:
            return
        if not self.view.has_focus and not self.codebook_tree.has_focus:
            return
        code = self.session.codebook.by_key(event.character)
        if code is not None and len(event.character) == 1:
            event.stop()
            event.prevent_default()
            self.code(code.id)

    def on_tree_node_selected(self, event: CodeTree.NodeSelected) -> None:
        if event.node.data is not None:
            self.code(event.node.data)

    def on_tree_node_highlighted(self, event: CodeTree.NodeHighlighted) -> None:
        if self.panel.display:
            self.panel.show_code(self._code_in_focus())

    def action_pick_code(self) -> None:
        def apply(code_id: str | None) -> None:
            if code_id:
                self.code(code_id)

        self.app.push_screen(CodePicker(self.session), apply)

    # -- search ------------------------------------------------------------------------------

    def action_search(self) -> None:
        def found(state: SearchState | None) -> None:
            if state is None:
                return
            self.search = state
            self._go_to_hit()

        self.app.push_screen(SearchScreen(self.session, self.search), found)

    def _go_to_hit(self, wrapped: bool = False) -> None:
        """To the current hit's passage, its words selected (a code's key codes them)."""
        assert self.search is not None and self.search.index is not None
        hit = self.search.hits[self.search.index]
        self.session.goto_hit(hit)
        self.session.cursor.select(hit.start, hit.end)
        self._moved()
        where = f"{self.search.where()} for {self.search.pattern!r}"
        self._status(where + (" (wrapped round)" if wrapped else "")
                     + "; a code's key codes it")

    def action_step_hit(self, delta: int) -> None:
        if self.search is None or not self.search.hits:
            self.app.bell()
            self._status("no search yet: ctrl+f searches")
            return
        step = self.session.step_hit(self.search.hits, self.search.index, delta)
        assert step is not None
        self.search.index, wrapped = step
        self._go_to_hit(wrapped)

    def action_code_hits(self) -> None:
        """Code every hit of the search with a code chosen in the picker (the code
        highlighted in the codebook comes first), as its passages, sentences or words."""
        search = self.search
        if search is None or not search.hits:
            self.app.bell()
            self._status("no search hits to code: ctrl+f searches")
            return
        count = f"{len(search.hits)} hit{'s' if len(search.hits) != 1 else ''}"

        def code_chosen(code_id: str | None) -> None:
            if not code_id:
                return

            def span_chosen(span: str | None) -> None:
                if span is not None:
                    self._code_all(search, code_id, span)

            self.app.push_screen(SpanScreen(f"Code the {count} of {search.pattern!r} with "
                                            f"{code_id}: what?"), span_chosen)

        self.app.push_screen(CodePicker(self.session, f"Code all {count} of "
                                        f"{search.pattern!r} with…"), code_chosen)

    def _code_all(self, search: SearchState, code_id: str, span: str) -> None:
        try:
            change, result = self.session.code_hits(search.hits, code_id, span,
                                                    pattern=search.pattern)
        except QcodeError as exc:
            self._fail(exc)
            return
        done = f"coded {len(result.added)} {span}{'s' if len(result.added) != 1 else ''}"
        already = f" ({len(result.already)} already were)" if result.already else ""
        message = (f"saved: {done} with {code_id}{already}; u undoes" if result.added
                   else f"nothing new: every {span} of the hits is coded {code_id} already")
        self._after_change(change, message)

    def action_new_code(self) -> None:
        """A form for a new code, next to the code highlighted in the tree (its parent is
        prefilled); once added, the code is in the tree and its key codes at once."""
        highlighted = self.codebook_tree.selected_code
        parent = self.session.codebook.parent_of.get(highlighted) if highlighted else None

        def added(code: Code | None) -> None:
            if code is None:
                return
            self.codebook_tree.rebuild(code.id)
            rel = self.session.corpus.config.codebook
            use = (f"press {code.key} to use it" if code.key
                   else "no key: / or Enter in the tree applies it")
            self._status(f"added code {code.id} to {rel}; {use}")

        self.app.push_screen(NewCodeScreen(self.session, parent), added)

    def action_undo(self) -> None:
        self._after_change(self.session.undo())

    def action_codings(self) -> None:
        """The codings on the passage, to remove one, widen or narrow it to the
        selection, or write its memo."""
        if self.codebook_tree.has_focus:
            return  # Enter in the tree codes the highlighted code (on_tree_node_selected)
        codings = self.session.codings_on()
        if not codings:
            self.app.bell()
            self._status("no codings on this passage")
            return

        def act(answer: tuple[str, Coding] | None) -> None:
            if answer is None:
                return
            what, coding = answer
            if what == "memo":
                self._edit_memo(coding)
                return
            self._resize_or_remove(what, coding)

        self.app.push_screen(CodingsScreen(self.session, codings), act)

    def _resize_or_remove(self, what: str, coding: Coding) -> None:
        session = self.session
        try:
            if what == "remove":
                change = session.remove_coding(coding)
            else:
                selection = session.cursor.selection
                if selection is None:
                    self._fail(QcodeError("select words first (shift+→, or v and →)"))
                    return
                if what == "widen":
                    span = (min(coding.start, selection[0]), max(coding.end, selection[1]))
                else:
                    span = (max(coding.start, selection[0]), min(coding.end, selection[1]))
                    if span[0] >= span[1]:
                        self._fail(QcodeError("the selection is outside that coding"))
                        return
                change = session.resize_coding(coding, *span)
                session.cursor.clear()
        except QcodeError as exc:
            self._fail(exc)
            return
        self._after_change(change)

    def action_memo(self) -> None:
        codings = self.session.codings_on()
        if not codings:
            self.app.bell()
            self._status("code the passage before writing a memo")
            return
        if len(codings) == 1:
            self._edit_memo(codings[0])
            return

        def chosen(answer: tuple[str, Coding] | None) -> None:
            if answer is not None:
                self._edit_memo(answer[1])

        self.app.push_screen(CodingsScreen(self.session, codings, memo_only=True), chosen)

    def _edit_memo(self, coding: Coding) -> None:
        def save(memo: str | None) -> None:
            if memo is None:
                return
            try:
                self._after_change(self.session.set_coding_memo(coding.id, memo))
            except QcodeError as exc:
                self._fail(exc)

        code_id = self.session.codebook.canonical(coding.code)
        self.app.push_screen(MemoScreen(coding.memo or "", code_id), save)

    def action_definition(self) -> None:
        panel = self.panel
        panel.display = not panel.display
        if panel.display:
            panel.show_code(self._code_in_focus())

    def action_transcript_memo(self) -> None:
        panel = self.query_one(TranscriptMemoPanel)
        panel.display = not panel.display
        if panel.display:
            panel.show_transcript()

    def _code_in_focus(self) -> str | None:
        """The code the definition panel shows: the tree's when the tree has the focus,
        else the first code under the cursor, else the tree's."""
        if not self.codebook_tree.has_focus:
            under = self.session.codings_at(self.session.cursor.offset)
            if under:
                return self.session.codebook.canonical(under[0].code)
        return self.codebook_tree.selected_code

    def action_code_names(self) -> None:
        view = self.view
        view.labels = not view.labels
        view.show_transcript()
        self._status(f"codes shown by {'label' if view.labels else 'id'}")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.session, self.session.corpus.config.keys))

    def action_quit(self) -> None:
        self.app.exit()


def _short(text: str, length: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[:length - 1] + "…"
