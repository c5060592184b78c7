"""``qcode adjudicate``: two coders' disagreements resolved into a consensus coder,
full screen or line by line (``qcode.coding.adjudication`` does the work)."""

import sys
from collections import Counter
from typing import Annotated

import typer

from qcode.cli.agree import _scope_lines
from qcode.cli.options import CodesOpt, WhereOpt
from qcode.cli.output import note

# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "adjudicate": ['qcode adjudicate coder-a coder-b --into consensus --plain'],
}


def adjudicate(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(metavar="A", help="The first coder.")],
    second: Annotated[str, typer.Argument(metavar="B", help="The second coder.")],
    into: Annotated[str, typer.Option(
        "--into", metavar="CODER", help="The consensus coder whose log gets the decisions.")
                    ] = "consensus",
    plain: Annotated[bool, typer.Option(
        "--plain", help="Line mode: one question per disagreement on the terminal (or stdin); "
                        "default: full screen.")] = False,
    codes: CodesOpt = None,
    where: WhereOpt = None,
) -> None:
    """Resolve two coders' disagreements into a consensus coder, passage by passage.

    Agreements are copied automatically; for each disagreement choose A's coding, B's,
    both, neither, or edit it. Every decision is appended to codings/<CODER>.jsonl at once
    (with a memo saying where it came from); running it again continues where it stopped.
    """
    from qcode.cli.context import guard, open_project
    from qcode.coding.adjudication import Adjudication

    project = open_project(ctx)
    guard(project, [first, second])
    with Adjudication(project, first, second, into, codes, where or ()) as session:
        left_out = [{"transcript": t, "not_coded_by": m} for t, m in session.left_out.items()]
        for line in _scope_lines({"counted": [], "left_out": left_out}, [])[1:]:
            note(line)
        copied = session.copy_agreements()
        done, total = session.progress()
        note(f"copied {copied} agreement(s) of {first} and {second} into {into}; "
             f"{total - done} of {total} disagreement(s) to decide")
        kinds = Counter(item.kind for item in session.disagreements())
        note(f"disagreements, as `qcode agree --disagreements` counts them: "
             f"{kinds['presence']} presence (one coded the passage with the code, the other "
             f"did not) + {kinds['extent']} extent (both did, not the same characters)")
        if plain:
            from qcode.cli.plain.adjudicate import run_adjudication_plain

            run_adjudication_plain(session, sys.stdin, sys.stdout)
            return
        from qcode.tui import run_app

        run_app("adjudicate", adjudication=session)
