"""``qcode autocode``: the codebook's rules proposed as suggestions, with a report.

The library (``qcode.autocode``) finds and records; this module only formats. Nothing is
ever written into a coder's own log here: proposals go to the suggestions log, and
``qcode code --suggestions`` is where a person accepts or rejects them.
"""

from typing import TYPE_CHECKING, Annotated

import typer

from qcode.cli.options import CodesOpt, RawOpt, TableFormat, WhereOpt

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.autocode import AutocodeResult, CodeReport, Proposal


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "autocode": ['qcode autocode --dry-run --codes leadership'],
}


def autocode(
    ctx: typer.Context,
    codes: CodesOpt = None,
    where: WhereOpt = None,
    coder: Annotated[str, typer.Option(
        "--coder", "-c", metavar="NAME", help="The suggestions log to propose into: "
                              "codings/<coder>.suggestions.jsonl (review it with `qcode code "
                              "--suggestions --from <coder>`).")] = "auto",
    gold: Annotated[list[str] | None, typer.Option(
        "--gold", metavar="CODER", help="Measure the rules against this coder (repeatable; "
                                        "default: every other coder with a log).")] = None,
    keywords: Annotated[bool, typer.Option(
        "--keywords", help="Also match each code's keywords, as whole words.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would be proposed, with the matched words marked; "
                          "write nothing.")] = False,
    format: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv "
                               "otherwise).")] = None,
    raw: RawOpt = False,
    learn: Annotated[bool, typer.Option(
        "--learn", help="Propose from classifiers learned from a coder's own codings "
                        "instead of the rules (needs `pip install 'qcode[learn]'`; see "
                        "README, Learned suggestions).")] = False,
    source: Annotated[str | None, typer.Option(
        "--from", metavar="CODER", help="With --learn: the coder to learn from (default: "
                                        "the primary coder).")] = None,
    min_examples: Annotated[int | None, typer.Option(
        "--min-examples", metavar="N", help="With --learn: learn only codes with at least "
                                            "N coded passages (default 10).")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", metavar="P", help="With --learn: propose above this probability "
                                         "(default: per code, the lowest reaching precision "
                                         "0.7 in grouped cross-validation).")] = None,
    evaluate: Annotated[bool, typer.Option(
        "--evaluate", help="With --learn: cross-validate by transcript and report "
                           "precision, recall, F1 and average precision per code beside the "
                           "rules'; write nothing.")] = False,
) -> None:
    """Apply the codebook's rules and propose codings for review.

    Proposals go to codings/<coder>.suggestions.jsonl, never into a coder's log; review
    them with `qcode code --suggestions`. Only what is new is proposed: a span proposed
    before, a text rejected before, or a code already coded there in codings/<coder>.jsonl
    is not proposed again. The report gives per code the passages found, what was
    proposed, and the precision and recall of the rules against each human coder, on
    passages of the transcripts that coder coded.
    """
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import emit_json, note, stdout_is_tty
    from qcode.coding.autocode import autocode as run
    from qcode.errors import UsageError

    learn_only = [name for name, given in (("--from", source is not None),
                                           ("--min-examples", min_examples is not None),
                                           ("--threshold", threshold is not None),
                                           ("--evaluate", evaluate)) if given]
    if learn:
        from qcode.cli.autocode_learn import learn_command

        if keywords or gold:
            raise UsageError("--keywords and --gold are for the rules, not --learn",
                             "drop them, or drop --learn")
        learn_command(ctx, coder, source, codes, where or (), min_examples, threshold,
                      dry_run, evaluate, format, raw)
        return
    if learn_only:
        raise UsageError(f"{', '.join(learn_only)} only go with --learn",
                         "add --learn, or drop them")
    project = open_project(ctx)
    guard(project, [c for c in gold or [] if c in project.coders] or None,
          all_coders=gold is None)
    result = run(project, coder=coder, codes=codes, where=where or (), gold=gold,
                 keywords=keywords, dry_run=dry_run)
    chosen = format or (TableFormat.table if stdout_is_tty() else TableFormat.csv)
    if chosen is TableFormat.json:
        emit_json(result.to_dict())
    elif chosen is TableFormat.csv:
        if dry_run:
            _proposals_csv(result, raw)
        else:
            _report_csv(result, raw)
    else:
        if dry_run:
            _proposals_table(project, result)
        _report_table(result)
    note(_summary(result))


def _summary(result: "AutocodeResult") -> str:
    total = result.total
    found = (f"the rules hold for {total.found} units ({total.passages} passages) in "
             f"{result.transcripts} transcripts ({result.rules} rules, "
             f"{sum(result.seconds.values()):.1f} s)")
    from qcode.cli.autocode_summary import proposals_line

    return proposals_line(result, "suggestions", found, bool(result.new or total.pending))


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


_COUNTS = ("rules", "found", "passages", "new", "pending", "accepted", "rejected", "coded",
           "withdrawn")


def _report_rows(result: "AutocodeResult") -> "list[CodeReport]":
    return [*result.codes, result.total]


def _report_csv(result: "AutocodeResult", raw: bool) -> None:
    from qcode.cli.output import emit_csv

    columns = ["code", "label", *_COUNTS]
    for coder in result.gold:
        columns += [f"precision_{coder}", f"recall_{coder}", f"f1_{coder}"]
    rows = []
    for report in _report_rows(result):
        row = [report.code, report.label, *[getattr(report, n) for n in _COUNTS]]
        for coder in result.gold:
            score = report.gold.get(coder)
            row += ([_round(score.precision), _round(score.recall), _round(score.f1)]
                    if score else ["", "", ""])
        rows.append(row)
    emit_csv(columns, rows, raw=raw)


def _round(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _report_table(result: "AutocodeResult") -> None:
    from qcode.cli.output import console, plain_text
    from qcode.cli.tables import Column, print_table

    mode = "would propose" if result.dry_run else "proposed"
    columns = [Column("code", label=True),
               *[Column(name, numeric=True) for name in ("passages", "new", "pending",
                                                         "rejected")],
               *[Column(coder, numeric=True) for coder in result.gold]]
    rows = []
    for report in _report_rows(result):
        cells = [report.code, *[str(getattr(report, n)) for n in
                                ("passages", "new", "pending", "rejected")]]
        for coder in result.gold:
            score = report.gold.get(coder)
            cells.append(f"{_ratio(score.precision)}/{_ratio(score.recall)}" if score else "")
        rows.append(cells)
    styles = ["" for _ in result.codes] + ["bold"]  # the ALL row
    print_table(f"autocode for {result.coder}: {mode}, per code", columns, rows, styles)
    if result.gold:
        console().print(plain_text(f"{', '.join(result.gold)}: precision/recall of the rules "
                                   "against that coder, on the passages of the transcripts "
                                   "the coder coded"))


def _proposals_csv(result: "AutocodeResult", raw: bool) -> None:
    from qcode.analysis.excerpts import snippet
    from qcode.cli.output import emit_csv

    emit_csv(["transcript", "passage", "speaker", "start", "end", "code", "scope", "rule",
              "matched", "text"],
             ([p.transcript, p.passage, p.speaker, p.start, p.end, p.code, p.scope, p.rule,
               _matched_words(p), snippet(p.text, p.start, p.matches)] for p in result.new),
             raw=raw)


def _matched_words(proposal: "Proposal") -> str:
    words = [proposal.text[s - proposal.start:e - proposal.start] for s, e in proposal.matches]
    return "; ".join(dict.fromkeys(" ".join(w.split()) for w in words))


def _proposals_table(project, result: "AutocodeResult") -> None:
    """Two lines per proposal (where, code, rule; the matched words in context): fits 80
    columns, unlike a table of five columns of text."""
    from rich.text import Text

    from qcode.analysis.excerpts import snippet
    from qcode.cli.output import console, plain_text
    from qcode.format.text import printable

    out = console()
    styled = out.is_terminal and not out.no_color
    width = max(out.width - 4, 40)
    for proposal in result.new:
        where = f"{proposal.transcript} #{proposal.passage}"
        out.print(plain_text(f"{where}  {proposal.code}  {proposal.rule}", style="bold"))
        # printable first (one character for one: the matches stay in place), so that
        # the text's own control characters never pass for the \0 … \1 marks
        text = snippet(printable(proposal.text), proposal.start, proposal.matches,
                       context=max((width - 20) // 2, 20),
                       mark=("\0", "\1") if styled else ("**", "**"))
        out.print(_styled(text) if styled else Text(text), overflow="fold")
    if result.new:
        out.print()


def _styled(text: str):
    """Text with the \\0 … \\1 marked parts in reverse video."""
    from rich.text import Text

    out = Text()
    inside = False
    for part in text.replace("\1", "\0").split("\0"):
        out.append(part, style="bold reverse" if inside else None)
        inside = not inside
    return out
