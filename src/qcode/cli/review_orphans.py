"""``qcode code --review-orphans``: place by hand the codings ``qcode reanchor`` could not.

A line dialogue, one orphan at a time: its old text, the best candidate found in the
edited transcript, and the choice to accept the candidate, give a span or a piece of
text, drop the coding, or skip. Every decision is appended to the coder's log at once
(``remove`` + ``add`` with ``reanchored_from``, or a plain ``remove``).
"""


import re
import textwrap
from typing import TYPE_CHECKING, TextIO

from qcode.errors import QcodeError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.anchoring import Placement
    from qcode.project import Project

HELP = """\
  a            accept the best candidate
  START:END    place the coding on these body offsets
  t TEXT       place it on the first occurrence of TEXT in the transcript
  d            drop the coding (append a remove)
  s  or empty  skip, decide later
  q            quit"""

_SPAN = re.compile(r"^(\d+):(\d+)$")


def run_orphan_review(project: "Project", coder: str, stdin: TextIO, stdout: TextIO,
                      transcripts: list[str] | None = None, width: int = 80) -> dict[str, int]:
    from qcode.coding.anchoring import list_orphans, place_coding
    from qcode.store.log import remove_event

    def say(text: str = "") -> None:
        stdout.write(text + "\n")
        stdout.flush()

    orphans = list_orphans(project, transcripts, coders=coder)
    tally = {"placed": 0, "dropped": 0, "skipped": 0}
    if not orphans:
        say(f"no orphaned codings for {coder}: nothing to place")
        return tally
    say(f"{len(orphans)} orphaned codings of {coder} (`?` for the answers)")
    for number, orphan in enumerate(orphans, start=1):
        _show(say, number, len(orphans), orphan, width)
        while True:
            stdout.write("> ")
            stdout.flush()
            line = stdin.readline()
            if line == "":
                say(f"end of input: {_summary(tally)}")
                return tally
            answer = line.strip()
            if answer == "q":
                say(f"quit: {_summary(tally)}")
                return tally
            if answer == "?":
                say(HELP)
                continue
            if answer in ("", "s"):
                tally["skipped"] += 1
                break
            if answer == "d":
                project.log(orphan.coding.coder).append([remove_event(orphan.coding.id)])
                tally["dropped"] += 1
                say("saved: dropped")
                break
            try:
                start, end = _target(project, orphan, answer)
                place_coding(project, orphan.coding, start, end)
            except QcodeError as exc:
                say(f"error: {exc.message}")
                continue
            tally["placed"] += 1
            say(f"saved: placed at {start}:{end}")
            break
    say(f"done: {_summary(tally)}")
    return tally


def _show(say, number: int, total: int, orphan: "Placement", width: int) -> None:
    coding = orphan.coding
    say()
    say(f"[orphan {number}/{total}] {coding.code} in {coding.transcript} "
        f"(was {coding.start}:{coding.end}; {orphan.reason})")
    say("old text:")
    say(textwrap.indent(textwrap.fill(coding.text, width=width - 2), "  "))
    candidate = orphan.candidate
    if candidate is not None:
        say(f"best candidate ({candidate.start}:{candidate.end}, score {candidate.score:.0f}):")
        say(textwrap.indent(textwrap.fill(candidate.text, width=width - 2), "  "))
    else:
        say("no candidate found")


def _target(project: "Project", orphan: "Placement", answer: str) -> tuple[int, int]:
    from qcode.errors import UsageError

    if answer == "a":
        if orphan.candidate is None:
            raise UsageError("there is no candidate to accept")
        return orphan.candidate.start, orphan.candidate.end
    match = _SPAN.match(answer)
    if match:
        return int(match.group(1)), int(match.group(2))
    if answer.startswith("t "):
        text = answer[2:].strip()
        body = project.transcript(orphan.coding.transcript).body
        start = body.find(text)
        if not text or start < 0:
            raise UsageError(f"{text!r} does not occur in {orphan.coding.transcript}")
        return start, start + len(text)
    raise UsageError(f"{answer!r} is not an answer (`?` lists them)")


def _summary(tally: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in tally.items())
