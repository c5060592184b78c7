"""``NewCodeScreen``: a new code for the codebook without leaving the coder (#18).

The form only gathers what the researcher types. The session writes the code into the
codebook file (``CodingSession.add_code``: every other byte kept, validated as ``qcode
check`` validates) and refuses what check would refuse; a refusal is shown in the form,
which stays open with everything typed, so nothing is lost to a typo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from qcode.errors import QcodeError
from qcode.format.codebook import Code
from qcode.interchange.common import slugify
from qcode.tui.screens.dialogs import bindings
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession

# (field, its title, what to type): in the order Tab moves through them. The label comes
# first so the id can be suggested from it before the researcher reaches the id.
FIELDS = (
    ("label", "Label", "the name people read, e.g. Staff ownership"),
    ("id", "Id", "lower-case, - between words (suggested from the label)"),
    ("parent", "Parent", "id or label of the code above it; empty: top level"),
    ("description", "Description", "what the code means (optional)"),
    ("key", "Key", "one character to code with (optional)"),
)


class NewCodeScreen(ModalScreen[Code | None]):
    """Label, id, parent, description and shortcut key of a new code: Enter on the last
    field or ctrl+s adds it, Esc cancels (nothing is written). Returns the new code."""

    BINDINGS = [*bindings("dialog"), Binding("ctrl+s", "save", "Save", show=False)]

    def __init__(self, session: CodingSession, parent: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.parent_id = parent
        self._suggested = ""  # the id this form last put in the id field

    def compose(self) -> ComposeResult:
        rel = self.session.corpus.config.codebook
        with Vertical(classes="dialog", id="new-code"):
            yield Static(ShownText(f"New code in {rel}"), classes="dialog-title")
            for name, title, placeholder in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(title, classes="form-label")
                    yield Input((self.parent_id or "") if name == "parent" else "",
                                placeholder=placeholder, id=f"new-code-{name}", compact=True,
                                max_length=1 if name == "key" else 0)
            yield Static(ShownText("Tab moves · Enter on the last field or ctrl+s adds it "
                                   "· Esc cancels"), classes="form-help")
            yield Static("", id="new-code-error")

    def on_mount(self) -> None:
        self.field("label").focus()

    def field(self, name: str) -> Input:
        return self.query_one(f"#new-code-{name}", Input)

    def values(self) -> dict[str, str]:
        return {name: self.field(name).value for name, _title, _placeholder in FIELDS}

    def on_input_changed(self, event: Input.Changed) -> None:
        """The id follows the label until the researcher writes an id of their own (an
        emptied id field follows again)."""
        if event.input.id != "new-code-label":
            return
        id_field = self.field("id")
        if id_field.value not in ("", self._suggested):
            return
        self._suggested = slugify(event.value, fallback="")
        id_field.value = self._suggested

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == f"new-code-{FIELDS[-1][0]}":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        values = self.values()
        fields = {name: values[name] for name in ("id", "label", "description", "key")}
        try:
            code = self.session.add_code(fields, values["parent"])
        except QcodeError as exc:
            self.app.bell()
            self.query_one("#new-code-error", Static).update(ShownText(
                exc.message + (f" ({exc.hint})" if exc.hint else "")))
            return
        self.dismiss(code)

    def action_close(self) -> None:
        self.dismiss(None)
