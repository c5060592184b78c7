"""Full-screen review of the key's candidates (``qcode pseudonymise review``).

The state lives in ``qcode.coding.key_review.KeyReview``; this screen shows one candidate at
a time (its count, transcripts and places, the candidate highlighted) and dispatches the
decision keys. A kind key asks for the replacement (the next placeholder offered); every
decision is saved to the key before the next candidate is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from qcode.format.pseudonyms import KeyEntry
from qcode.tui.screens.dialogs import LineScreen, bindings
from qcode.tui.screens.review_queue import ReviewQueueScreen
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.key_review import KeyReview


class KeyReviewScreen(ReviewQueueScreen[KeyEntry]):
    BINDINGS = bindings("key-review")
    VIEW_ID = "candidate"

    def __init__(self, review: KeyReview) -> None:
        super().__init__(review.pending(), review.is_pending)
        self.review = review

    def _show(self, message: str = "saved") -> None:
        entry = self.current
        view = self.query_one("#candidate", Static)
        if entry is None:
            view.update(ShownText("No candidates left to review.", style="bold"))
        else:
            text = ShownText()
            text.append(entry.original, style="bold")
            candidate = self.review.candidate(entry)
            if candidate is None:
                text.append("   not found in the project now\n", style="dim")
            else:
                where = ", ".join(candidate.transcripts) or "memos"
                text.append(f"   {candidate.count}× in {where}\n", style="dim")
                for place in candidate.places:
                    text.append(f"\n{place.file}:{place.line}\n", style="cyan")
                    before, _, rest = place.snippet.partition("**")
                    hit, _, after = rest.partition("**")
                    text.append(f"  {before}")
                    text.append(hit, style="bold reverse")
                    text.append(f"{after}\n")
            text.append("\n1 person · 2 school · 3 place · 4 organisation · 5 other · "
                        "n not identifying · j skip · k back · q quit", style="dim")
            view.update(text)
        status = ShownText(no_wrap=True, overflow="ellipsis")
        status.append(message, style="bold green" if message == "saved" else "bold yellow")
        status.append(f" │ {len(self.queue)} to review │ accepted {self.review.accepted} │ "
                      f"not identifying {self.review.dismissed} │ key {self.review.path.name}")
        self.query_one("#status", Static).update(status)

    def action_accept(self, kind: str) -> None:
        entry = self.current
        if entry is None:
            self.app.bell()
            return
        offered = self.review.placeholder(kind)

        def chosen(replacement: str | None) -> None:
            if replacement is not None:
                self._decide(lambda e: self.review.accept(e, kind, replacement or offered))

        self.app.push_screen(LineScreen(offered, f"Replace {entry.original} ({kind}) with "
                                                 "(Enter keeps it, Esc cancels)"), chosen)

    def action_not_identifying(self) -> None:
        self._decide(self.review.dismiss)
