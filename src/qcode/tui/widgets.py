"""The coder's widgets: the passage list, the codebook tree and the status bar.

They render what the session says and post nothing of their own; the app dispatches.
Every text the app shows is a ``ShownText``: the project's text never acts on the terminal
(and, being ``Text``, is never read as markup).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from qcode.format.text import printable

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession

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

    def rebuild(self, highlight: str | None = None) -> None:
        """Show the session's codebook as it is now (a code was added) with the cursor on
        ``highlight``, so the researcher sees where the new code went."""
        self.build()
        node = self._code_nodes.get(highlight) if highlight is not None else None
        if node is not None:
            # A node has its line only once the tree has laid its lines out again.
            self.call_after_refresh(self.move_cursor, node)

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
    """Whether all is saved (or what just happened), where the coder is, and the codes
    on the passage and under the cursor; shortened to the screen's width, least useful
    parts first."""

    def show(self, session: CodingSession, message: str = "saved") -> None:
        passage = session.passage
        total = len(session.transcript.passages)
        canonical = session.codebook.canonical
        under = [canonical(c.code) for c in session.codings_at(session.cursor.offset)]
        codes = session.codes_on()
        selection = session.cursor.selection
        words = len(session.transcript.body[selection[0]:selection[1]].split()) if selection else 0
        parts = [  # (text, rank): the higher the rank, the sooner it goes when narrow
            (session.transcript.id, 0),
            (f"¶{passage.number if passage else 0}/{total}", 0),
            (f"selected {words} word{'s' if words != 1 else ''}" if selection else "", 2),
            ("here: " + _fit_list(list(dict.fromkeys(under)), 2) if under else "", 1),
            ("codes: " + _fit_list(codes, 3) if codes else "no codes", 3),
            (session.coder, 5),
            (f"t{session.t_index + 1}/{len(session.transcripts)}", 6),
            (f"review {session.review}" if session.review else "", 4),
            ("? keys", 7),
        ]
        width = max(20, self.size.width - 2) if self.size.width else 200
        shown = [(text, rank) for text, rank in parts if text]
        while len(message) + sum(len(t) + 3 for t, _ in shown) > width and len(shown) > 2:
            shown.remove(max(shown, key=lambda part: part[1]))  # the least useful goes
        text = ShownText(no_wrap=True, overflow="ellipsis")
        text.append(message, style="bold green" if message.startswith("saved")
                    else "bold yellow")
        text.append(" │ " + " │ ".join(t for t, _ in shown))
        self.update(text, layout=False)  # one line, always: no layout pass per key


def _fit_list(items: list[str], most: int = 4) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" +{len(items) - most}" if len(items) > most else "")
