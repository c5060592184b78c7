"""The coder's widgets: the passage list, the codebook tree and the status bar.

They render what the session says and post nothing of their own; the app dispatches.
Every text the app shows is a ``ShownText``: the project's text never acts on the terminal
(and, being ``Text``, is never read as markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.widgets import OptionList, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode

from qcode.format.text import printable

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession
    from qcode.format.transcripts import Passage

DEFAULT_COLOR = "magenta"


class ShownText(Text):
    """A ``Text`` whose characters are made printable (``qcode.format.text.printable``) as
    they enter it: one for one, so a style set by offset (a coder's span, a matched word)
    stays on its characters, and before rich would silently drop a few controls."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(printable(text), *args, **kwargs)

    def append(self, text: Text | str, style: str | Style | None = None) -> Text:
        return super().append(printable(text) if isinstance(text, str) else text, style)


def code_style(session: CodingSession, code_id: str) -> str:
    code = session.codebook.get(code_id)
    return f"bold {code.color}" if code and code.color else f"bold {DEFAULT_COLOR}"


def render_passage(session: CodingSession, passage: Passage, compare: str | None,
                   others: list[str]) -> Text:
    """One passage: number and speaker, this coder's codes as coloured labels, the text."""
    text = ShownText()
    text.append(f"{passage.number:>3} ", style="dim")
    if passage.speaker:
        text.append(passage.speaker, style="bold")
    mine = session.codings_on(passage)
    if mine:
        text.append("  ")
        seen = []
        for coding in mine:
            code = session.codebook.resolve(coding.code)
            code_id = code.id if code else coding.code
            label = code_id if session.is_whole(coding, passage) else f"~{code_id}"
            if label in seen:
                continue
            seen.append(label)
            text.append(f"▌{label} ", style=code_style(session, code_id))
            if coding.memo:
                text.append("✎ ", style="italic")
    text.append("\n")
    text.append(session.transcript.body[passage.start:passage.end])
    text.append("\n")  # a blank line between passages
    if compare:
        theirs = session.codes_on(passage, coder=compare)
        text.append(f"\n{compare}: ", style="bold cyan")
        text.append(", ".join(theirs) or "-", style="cyan")
    for other in others:
        theirs = session.codes_on(passage, coder=other)
        if theirs:
            text.append(f"\n{other}: {', '.join(theirs)}", style="dim italic")
    return text


class PassageList(OptionList):
    """The transcript's passages; the highlighted option is the session's passage."""

    def show_transcript(self, session: CodingSession, compare: str | None,
                        others: list[str]) -> None:
        options = []
        for passage in session.transcript.passages:
            visible = session.review is None or session._visible(passage)
            options.append(Option(render_passage(session, passage, compare, others),
                                  id=f"p{passage.number}", disabled=not visible))
        self.set_options(options)
        if options:
            self.highlighted = session.p_index

    def refresh_passage(self, session: CodingSession, number: int, compare: str | None,
                        others: list[str]) -> None:
        passage = session.transcript.passage(number)
        self.replace_option_prompt_at_index(
            number - 1, render_passage(session, passage, compare, others))


class CodeTree(Tree[str]):
    """The codebook: shortcut key, label and this coder's count for every code."""

    def __init__(self, session: CodingSession, **kwargs) -> None:
        super().__init__("codebook", **kwargs)
        self.session = session
        self.show_root = False
        self.guide_depth = 2
        self._code_nodes: dict[str | None, TreeNode[str]] = {}

    def on_mount(self) -> None:
        self.build()

    def build(self) -> None:
        self.clear()
        self._code_nodes = {None: self.root}
        codebook = self.session.codebook
        for code in codebook:
            if code.id not in codebook.parent_of:
                continue
            parent = self._code_nodes[codebook.parent_of[code.id]]
            if codebook.children(code.id):
                node = parent.add(self._label(code.id), data=code.id, expand=True)
            else:
                node = parent.add_leaf(self._label(code.id), data=code.id)
            self._code_nodes[code.id] = node
        self.root.expand_all()

    def _label(self, code_id: str) -> Text:
        code = self.session.codebook.require(code_id)
        text = ShownText()
        text.append(f"{code.key or ' '} ", style="bold cyan" if code.key else "")
        text.append(code.label, style=code_style(self.session, code_id) if code.codable
                    else "bold")
        count = self.session.counts().get(code_id, 0)
        if code.codable and count:
            text.append(f" {count}", style="dim")
        return text

    def refresh_codes(self, code_ids) -> None:
        for code_id in code_ids:
            node = self._code_nodes.get(code_id)
            if node is not None:
                node.set_label(self._label(code_id))

    @property
    def selected_code(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None


class StatusBar(Static):
    """Transcript, passage n/N, coder, codes on the passage, and whether all is saved."""

    def show(self, session: CodingSession, message: str = "saved") -> None:
        passage = session.passage
        total = len(session.transcript.passages)
        where = f"{passage.number}/{total}" if passage else "0/0"
        position = f"{session.t_index + 1}/{len(session.transcripts)}"
        codes = ", ".join(session.codes_on()) or "-"
        review = f" · review {session.review}" if session.review else ""
        text = ShownText(no_wrap=True, overflow="ellipsis")
        text.append(message, style="bold green" if message == "saved" else "bold yellow")
        text.append(f" │ {session.transcript.id} [{position}] ¶{where} │ {session.coder}"
                    f"{review} │ {codes} │ ? keys")
        self.update(text)
