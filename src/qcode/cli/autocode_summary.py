"""The last line of ``qcode autocode``, by rules or learned (``--learn``): one wording."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.autocode import AutocodeResult
    from qcode.coding.autocode.learned_report import LearnResult


def proposals_line(result: "AutocodeResult | LearnResult", what: str, detail: str,
                   to_review: bool) -> str:
    """The last line of an autocode run, rules or learned: what was (or would be)
    proposed and withdrawn in which log, ``detail``, and how to review it."""
    withdrawn = f", withdraw {len(result.withdrawn)}" if result.withdrawn else ""
    if result.dry_run:
        return (f"dry run: would propose {len(result.new)} new {what}{withdrawn} in "
                f"{result.log}; {detail}")
    withdrawn = withdrawn.replace("withdraw", "withdrew")
    source = "" if result.coder == "auto" else f" --from {result.coder}"
    review = (f"; review them with `qcode code --coder NAME --suggestions{source}`"
              if to_review else "")
    return (f"proposed {len(result.new)} new {what}{withdrawn} in {result.log}; "
            f"{detail}{review}")
