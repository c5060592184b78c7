"""``qcode search``: where words occur, in context, counted per transcript; and coding
every hit at once (``--code``).

The library finds (``qcode.analysis.search``) and codes (``qcode.coding.hits``); this
module chooses the format, shows the plan and asks before writing.
"""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import ForceOpt, OutputOpt, RawOpt, WhereOpt

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.search import SearchResult
    from qcode.coding.hits import HitCoding


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "search": ['qcode search "praksisplass*" --where school=Verdal,Lier',
               'qcode search "praksisplass*" --code mobility-partners --coder me --dry-run'],
}


class SearchFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class Span(StrEnum):  # qcode.coding.hits.SPANS
    passage = "passage"
    sentence = "sentence"
    word = "word"


def search(
    ctx: typer.Context,
    pattern: Annotated[str, typer.Argument(
        metavar="PATTERN", help="Words to find: whole words, any case, * for any letters, "
                                "? for one (as autocode's match rules).")],
    regex: Annotated[bool, typer.Option(
        "--regex", help="PATTERN is a Python regular expression, case-sensitive unless it "
                        "starts with (?i); stopped past autocode's time budget.")] = False,
    fuzzy: Annotated[bool, typer.Option(
        "--fuzzy", help="PATTERN is a phrase matched approximately (rapidfuzz partial "
                        "ratio, as autocode's fuzzy rules).")] = False,
    score: Annotated[float | None, typer.Option(
        "--score", metavar="1-100", help="With --fuzzy: the lowest score that matches "
                                         "(default 85).")] = None,
    where: WhereOpt = None,
    speaker: Annotated[list[str] | None, typer.Option(
        "--speaker", "-s", metavar="LABEL",
        help="Only turns of this speaker (repeatable; * and ? as in autocode's speaker "
             "rules, e.g. 'Lærer*').")] = None,
    coder: Annotated[str | None, typer.Option(
        "--coder", "-c", envvar="QCODE_CODER", show_envvar=True, metavar="NAME",
        help="Whose codings --uncoded and --memos read, and whose log --code writes.")
                     ] = None,
    uncoded: Annotated[str | None, typer.Option(
        "--uncoded", metavar="CODE", help="Only passages the --coder has not coded with "
                                          "CODE or a code below it.")] = None,
    memos: Annotated[bool, typer.Option(
        "--memos", help="Search the memos of the codings (of --coder, else of every "
                        "coder) instead of the text.")] = False,
    include_interviewer: Annotated[bool, typer.Option(
        "--include-interviewer", help="Also search the turns of the speakers qcode.yaml "
                                      "declares as interviewers (left out by default, "
                                      "unless --speaker names whose turns).")
                                   ] = False,
    context: Annotated[int, typer.Option(
        "--context", metavar="CHARS", min=0, max=1000,
        help="About this many characters of context on each side, in whole words.")] = 40,
    code: Annotated[str | None, typer.Option(
        "--code", metavar="CODE", help="Code every hit's passage (see --span) with CODE "
                                       "for --coder, after showing what it will do.")
                    ] = None,
    span: Annotated[Span, typer.Option(
        "--span", help="With --code: code the hit's passage, its sentence, or the matched "
                       "words themselves.")] = Span.passage,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="With --code: show what would be coded; write nothing.")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="With --code: code without asking (needed when not at a "
                            "terminal).")] = False,
    format: Annotated[SearchFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv "
                               "otherwise).")] = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    raw: RawOpt = False,
) -> None:
    """Find words in the transcripts, in context.

    Prints each hit with its transcript, passage, speaker and the words around it, then
    the hits per transcript and the total. A passage's speaker label is not searched;
    nor are the turns of interviewers declared in qcode.yaml, unless
    --include-interviewer or --speaker names them. Exit 0 with or without hits ("no hits" is said on stderr).
    """
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import choose_format, note
    from qcode.errors import UsageError

    if regex and fuzzy:
        raise UsageError("--regex and --fuzzy do not go together", "choose one of them")
    if score is not None and not fuzzy:
        raise UsageError("--score goes with --fuzzy", "add --fuzzy, or drop --score")
    if code is None:
        for given, name in ((dry_run, "--dry-run"), (yes, "--yes"),
                            (span is not Span.passage, "--span")):
            if given:
                raise UsageError(f"{name} goes with --code CODE",
                                 "add --code CODE --coder NAME to code the hits")
    else:
        if coder is None:
            raise UsageError("--code needs --coder NAME: whose log to write",
                             "e.g. --code barriers --coder me (or set QCODE_CODER)")
        if memos:
            raise UsageError("--code codes the text of the transcripts, not memos",
                             "drop --memos")
        if not (dry_run or yes or _can_ask()):
            raise UsageError("--code writes codings: not at a terminal, it needs --yes",
                             "add --yes to code the hits, or --dry-run to see the plan")
    chosen = choose_format(SearchFormat, format, output)
    if chosen is SearchFormat.table and output is not None:
        raise UsageError("a table is for the terminal: -o FILE needs a file format",
                         "use -o FILE.csv, .json or .md (or --format)")
    project = open_project(ctx)
    if memos:
        guard(project, [coder] if coder else None, all_coders=coder is None)
    else:
        guard(project, [coder] if uncoded is not None and coder else [])
    mode = "regex" if regex else "fuzzy" if fuzzy else "match"
    if score is not None and score.is_integer():
        score = int(score)  # said back as 90, not 90.0
    result = project.search(pattern, mode=mode, score=score, where=where or (),
                            speakers=speaker or (), coder=coder, uncoded=uncoded,
                            memos=memos, include_interviewer=include_interviewer,
                            context=context)
    for warning in result.warnings:
        note(f"warning: {warning}")
    _deliver(result, chosen, output, force, raw)
    note(_summary(result))
    if code is None or not result.hits:
        return
    assert coder is not None  # checked above
    plan = project.code_hits(result.hits, code, coder, span.value, dry_run=True,
                             pattern=pattern)
    note(_plan_text(plan))
    if dry_run or not plan.added:
        return
    if not yes and not typer.confirm(
            f"Code {_spans(len(plan.added), plan.span)} with {plan.code} as {coder}?",
            default=False, err=True):
        note("nothing coded")
        return
    done = project.code_hits(result.hits, code, coder, span.value, pattern=pattern)
    note(f"{len(done.added)} coded, {len(done.already)} already there "
         f"({_spans(len(done.targets), done.span)} with {done.code} in "
         f"{project.log(coder).rel})")


def _can_ask() -> bool:
    """Whether a person can answer a question: stdin and stdout are a terminal."""
    from qcode.cli.output import stdin_is_tty, stdout_is_tty

    return stdin_is_tty() and stdout_is_tty()


def _spans(count: int, span: str) -> str:
    from qcode.format.names import plural

    return plural(count, span, "passages" if span == "passage" else None)


def _plan_text(plan: "HitCoding") -> str:
    mode = "dry run: would code" if plan.dry_run else "would code"
    already = f"; {len(plan.already)} already there" if plan.already else ""
    return (f"{mode} {_spans(len(plan.added), plan.span)} with {plan.code} as "
            f"{plan.coder}{already}")


def _summary(result: "SearchResult") -> str:
    from qcode.format.names import plural

    searched = f"searched {plural(len(result.transcripts), 'transcript')}"
    if result.skipped:
        searched += f", without the turns of {', '.join(result.skipped)}"
    if not result.hits:
        return f"no hits for {result.pattern!r} ({searched})"
    return (f"{plural(len(result.hits), 'hit')} in {plural(result.passages, 'passage')} of "
            f"{plural(len(result.counts()), 'transcript')}"
            f"{' (in memos)' if result.memos else ''} ({searched})")


def _deliver(result: "SearchResult", chosen: SearchFormat, output: Path | None, force: bool,
             raw: bool) -> None:
    from qcode.cli.output import Outputs
    from qcode.render import tables as reports

    if chosen is SearchFormat.table:
        if result.hits:
            _print_kwic(result)
        return
    outputs = Outputs(force)
    if chosen is SearchFormat.json:
        outputs.text(reports.to_json(result.to_dict()), output)
    elif chosen is SearchFormat.md:
        outputs.text(_markdown(result), output)
    else:
        header, rows = _hit_rows(result)
        outputs.text(reports.delimited(header, rows, ",", raw), output)
    outputs.commit()


def _hit_rows(result: "SearchResult") -> tuple[list[str], list[list]]:
    header = ["transcript", "passage", "speaker", "start", "end", "left", "hit", "right"]
    if result.memos:
        header += ["coding", "coder", "code"]
    rows = []
    for hit in result.hits:
        row = [hit.transcript, hit.passage, hit.speaker, hit.start, hit.end, hit.left,
               hit.text, hit.right]
        if result.memos:
            row += [hit.coding, hit.coder, hit.code]
        rows.append(row)
    return header, rows


def _count_rows(result: "SearchResult") -> list[list]:
    passages = result.passage_counts()
    rows: list[list] = [[t, n, passages[t]] for t, n in result.counts().items()]
    rows.append(["total", len(result.hits), result.passages])
    return rows


def _markdown(result: "SearchResult") -> str:
    from qcode.render.tables import markdown_code, markdown_table

    where = " in memos" if result.memos else ""
    title = f"**Search for {markdown_code(result.pattern)}{where} ({result.mode}): {_summary(result)}**\n\n"
    if not result.hits:
        return title
    header = ["transcript", "passage", "speaker", "left", "hit", "right"]
    if result.memos:
        header += ["coder", "code"]
    rows = []
    for hit in result.hits:
        row = [hit.transcript, hit.passage, hit.speaker or "", " ".join(hit.left.split()),
               f"**{' '.join(hit.text.split())}**", " ".join(hit.right.split())]
        if result.memos:
            row += [hit.coder, hit.code]
        rows.append(row)
    return (title + markdown_table(header, rows, numeric_from=len(header)) + "\n"
            + markdown_table(["transcript", "hits", "passages"], _count_rows(result), 1))


def _print_kwic(result: "SearchResult") -> None:
    """Keyword in context: a line per passage (where), then a line per hit, the hits one
    above the other, the left context right-aligned before them."""
    from rich.cells import cell_len
    from rich.text import Text

    from qcode.cli.output import console, plain_text
    from qcode.cli.tables import Column, print_table
    from qcode.format.text import printable

    out = console()
    styled = out.is_terminal and not out.no_color
    width = min(out.width, 200)
    marks = 0 if styled else 4  # ** before and after the hit
    longest = max(cell_len(printable(" ".join(hit.text.split()))) for hit in result.hits)
    side = max((width - 4 - marks - min(longest, width // 3)) // 2, 10)
    place = None
    for hit in result.hits:
        if (hit.transcript, hit.passage) != place:
            place = (hit.transcript, hit.passage)
            where = f"{hit.transcript} #{hit.passage}"
            if hit.speaker:
                where += f" {hit.speaker}"
            if hit.coding:
                where += f" · memo of {hit.code} by {hit.coder}"
            out.print(plain_text(where, style="cyan"))
        shown = printable(" ".join(hit.text.split()))
        left = _cut_left(printable(" ".join(hit.left.split())), side)
        rest = width - 2 - side - 2 - cell_len(shown) - marks
        right = _cut_right(printable(" ".join(hit.right.split())), max(rest, 0))
        line = Text("  " + " " * (side - cell_len(left)) + left
                    + (" " if hit.left[-1:].isspace() else ""))
        line.append(shown if styled else f"**{shown}**",
                    style="bold reverse" if styled else None)
        line.append((" " if hit.right[:1].isspace() else "") + right)
        out.print(line, overflow="ellipsis", no_wrap=True, crop=True)
    out.print()
    print_table(f"hits for {result.pattern!r} per transcript",
                [Column("transcript", label=True), Column("hits", numeric=True),
                 Column("passages", numeric=True)],
                [[str(c) for c in row] for row in _count_rows(result)],
                ["" for _ in result.counts()] + ["bold"], out)


def _cut_left(text: str, width: int) -> str:
    """The end of ``text`` in at most ``width`` cells, from a word on ("…" before it);
    a word longer than that is cut."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and cell_len("… " + " ".join(words)) > width:
        words.pop(0)
    kept = " ".join(words)
    if cell_len("… " + kept) <= width:
        return "… " + kept
    while kept and cell_len("…" + kept) > width:
        kept = kept[1:]
    return "…" + kept if kept else ""


def _cut_right(text: str, width: int) -> str:
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    words = text.split(" ")
    while len(words) > 1 and cell_len(" ".join(words) + " …") > width:
        words.pop()
    kept = " ".join(words)
    if cell_len(kept + " …") <= width:
        return kept + " …"
    while kept and cell_len(kept + "…") > width:
        kept = kept[:-1]
    return kept + "…" if kept else ""
