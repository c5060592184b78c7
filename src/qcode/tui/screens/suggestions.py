"""Full-screen review of auto-coding suggestions (``qcode code --suggestions``).

The state lives in ``qcode.coding.review.Review``; this screen shows one suggestion at a time
(its passage, the matched words highlighted, the rule or the learned probability and
words) and dispatches the decision keys.
Accepting appends the coding to the coder's log, rejecting records the rejection in the
suggestions log; both before the next suggestion is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

from qcode.coding.review import provenance
from qcode.store.suggestions import Suggestion
from qcode.tui.screens.dialogs import bindings
from qcode.tui.screens.review_queue import ReviewQueueScreen
from qcode.tui.widgets import ShownText

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.review import Review


class SuggestionsScreen(ReviewQueueScreen[Suggestion]):
    BINDINGS = bindings("suggestions")
    VIEW_ID = "suggestion"

    def __init__(self, review: Review) -> None:
        super().__init__(review.queue(), review.is_pending)
        self.review = review

    def _show(self, message: str = "saved") -> None:
        suggestion = self.current
        view = self.query_one("#suggestion", Static)
        if suggestion is None:
            view.update(ShownText("No suggestions left to review.", style="bold"))
        else:
            transcript = self.review.transcript(suggestion)
            passage = transcript.passage_at(suggestion.start)
            start = passage.start if passage else suggestion.start
            end = passage.end if passage else suggestion.end
            code = self.review.codebook.get(suggestion.code)
            text = ShownText()
            text.append(f"{suggestion.transcript}", style="bold")
            if passage is not None:
                text.append(f" ¶{passage.number}")
                if passage.speaker:
                    text.append(f"  {passage.speaker}")
            text.append(f"   {suggestion.code}", style="bold magenta")
            if code is not None:
                text.append(f" ({code.label})")
            text.append(f"\n{provenance(suggestion)}\n\n", style="dim")
            body = ShownText(transcript.body[start:end])
            body.stylize("underline", suggestion.start - start, suggestion.end - start)
            for match_start, match_end in suggestion.matches:
                body.stylize("bold reverse", match_start - start, match_end - start)
            text.append_text(body)
            text.append("\n\na accept · r reject · A/R all of this code here · j skip · "
                        "k back · q quit", style="dim")
            view.update(text)
        status = ShownText(no_wrap=True, overflow="ellipsis")
        status.append(message, style="bold green" if message == "saved" else "bold yellow")
        status.append(f" │ {len(self.queue)} to review │ accepted {self.review.accepted} │ "
                      f"rejected {self.review.rejected} │ coder {self.review.coder}")
        self.query_one("#status", Static).update(status)

    def action_accept(self) -> None:
        self._decide(lambda s: self.review.accept([s]))

    def action_reject(self) -> None:
        self._decide(lambda s: self.review.reject([s]))

    def action_accept_all(self) -> None:
        self._decide(lambda s: self.review.accept_all(s.transcript, s.code))

    def action_reject_all(self) -> None:
        self._decide(lambda s: self.review.reject_all(s.transcript, s.code))
