"""``qcode code``: interactive coding, full screen (Textual) or line by line (``--plain``)."""


import sys
from enum import StrEnum
from typing import Annotated

import typer

from qcode.cli.options import CoderOpt

# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "code": ['qcode code --coder me', 'qcode code voss-principal --coder me --plain'],
}


class ReviewOrder(StrEnum):  # qcode.coding.review.ORDERS (a test keeps them equal)
    certain = "certain"
    uncertain = "uncertain"
    position = "position"


class SuggestionKind(StrEnum):  # qcode.coding.review.KINDS
    rules = "rules"
    learned = "learned"


def code(
    ctx: typer.Context,
    coder: CoderOpt,
    transcript: Annotated[str | None, typer.Argument(
        help="Transcript to code (default: walk all, from where you stopped or the first "
             "with uncoded passages).")] = None,
    plain: Annotated[bool, typer.Option(
        "--plain", help="Line mode: one passage at a time on stdin/stdout (screen readers, "
                        "slow links, scripts).")] = False,
    show_others: Annotated[bool, typer.Option(
        "--show-others", help="Show other coders' codes, greyed (hidden by default: "
                              "independent coding).")] = False,
    compare: Annotated[str | None, typer.Option(
        "--compare", metavar="OTHER", help="Show OTHER's codes beside yours, for "
                                           "adjudication.")] = None,
    review: Annotated[str | None, typer.Option(
        "--review", metavar="CODE", help="Walk only the passages you coded with CODE.")
                      ] = None,
    review_orphans: Annotated[bool, typer.Option(
        "--review-orphans", help="Place by hand your codings `qcode reanchor` could not "
                                 "(a line dialogue).")] = False,
    suggestions: Annotated[bool, typer.Option(
        "--suggestions", help="Review the proposals of `qcode autocode`: accept, reject, "
                              "accept all of a code in a transcript, skip.")] = False,
    include_interviewer: Annotated[bool, typer.Option(
        "--include-interviewer", help="Stop on the interviewers' turns too (qcode.yaml "
                                      "`interviewer:`; passed over by default when "
                                      "uncoded).")] = False,
    source: Annotated[str, typer.Option(
        "--from", metavar="NAME", help="With --suggestions: whose suggestions log to review "
                                       "(default: `auto`, autocode's default).")] = "auto",
    order: Annotated[ReviewOrder, typer.Option(
        "--order", help="With --suggestions: learned suggestions most certain first, least "
                        "certain first (closest to the threshold), or all by position; the "
                        "rules' follow by position.")] = ReviewOrder.certain,
    kind: Annotated[SuggestionKind | None, typer.Option(
        "--source", help="With --suggestions: review only the rules' or only the learned "
                         "suggestions.")] = None,
) -> None:
    """Code transcripts interactively; every change is saved as it is made.

    One interactive session per coder at a time (a second one is refused); `qcode tag`
    from scripts may still append, the log being locked for each write.
    """
    from qcode.cli.context import open_project

    project = open_project(ctx)
    chosen = [transcript] if transcript else None
    if suggestions:
        if plain:
            from qcode.cli.plain.suggestions import run_suggestions_plain

            run_suggestions_plain(project, coder, sys.stdin, sys.stdout, source=source,
                                  transcripts=chosen, order=order.value,
                                  kind=kind.value if kind else None)
            return
        from qcode.coding.review import Review
        from qcode.tui import run_app

        with Review(project, coder, source=source, transcripts=chosen, order=order.value,
                    kind=kind.value if kind else None) as reviewing:
            run_app("suggestions", review=reviewing)
        return
    if review_orphans:
        from qcode.cli.plain.orphans import run_orphan_review

        run_orphan_review(project, coder, sys.stdin, sys.stdout, chosen)
        return
    from qcode.coding.session import CodingSession

    others = [compare] if compare else []
    if show_others:
        others += [c for c in project.coders if c not in (coder, compare)]
    session = CodingSession(project, coder, chosen, others=others, review=review,
                            include_interviewer=include_interviewer, memos=project.memos())
    if review is not None:
        if not session.start_review():
            from qcode.cli.output import note

            note(f"no passages coded with {session.review!r} by {coder}")
            raise typer.Exit(0)
    elif plain:
        if transcript is None:
            session.start_at_first_uncoded()
    elif not session.resume() and transcript is None:
        session.start_at_first_uncoded()
    with session:
        if plain:
            from qcode.cli.plain.coder import run_plain

            run_plain(session, sys.stdin, sys.stdout, compare=compare)
            return
        from qcode.tui import run_app

        run_app("coder", session=session, compare=compare, show_others=show_others)
