"""``qcode autocode --learn``: suggestions learned from a coder's codings, and their
cross-validated precision beside the rules' (the library is ``qcode.coding.autocode.learned``;
this module only formats)."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from qcode.cli.options import TableFormat

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.autocode.learned_report import LearnResult, Score


def learn_command(ctx: typer.Context, coder: str, source: str | None,
                  codes: list[str] | None, where: Sequence[str], min_examples: int | None,
                  threshold: float | None, dry_run: bool, evaluate: bool,
                  format: TableFormat | None, raw: bool) -> None:
    from qcode.cli.context import open_project
    from qcode.cli.output import emit_json, note, stdout_is_tty
    from qcode.coding.autocode.learned import learn, require_sklearn

    require_sklearn()  # before reading the project: the one thing to fix first
    project = open_project(ctx)
    result = learn(project, coder=coder, source=source, codes=codes, where=where,
                   min_examples=10 if min_examples is None else min_examples,
                   threshold=threshold, dry_run=dry_run, evaluate=evaluate)
    chosen = format or (TableFormat.table if stdout_is_tty() else TableFormat.csv)
    if chosen is TableFormat.json:
        emit_json(result.to_dict())
    elif chosen is TableFormat.csv:
        _csv(result, raw)
    else:
        _table(result)
    note(_summary(result))


_COLUMNS = ["code", "label", "examples", "negatives", "transcripts", "folds", "calibrated",
            "threshold", "precision", "recall", "f1", "average_precision", "rules_precision",
            "rules_recall", "rules_f1", "new", "pending", "rejected", "withdrawn",
            "no_proposals"]


def _figures(score: "Score | None") -> list[float | None]:
    return [None, None, None] if score is None else [score.precision, score.recall, score.f1]


def _csv(result: "LearnResult", raw: bool) -> None:
    from qcode.cli.output import emit_csv

    rows = []
    for e in result.codes:
        report = e.report
        counts = ([report.new, report.pending, report.rejected, report.withdrawn]
                  if report is not None and not result.evaluate else ["", "", "", ""])
        rows.append([e.code, e.label, e.examples, e.negatives, e.transcripts, e.folds,
                     "yes" if e.calibrated else "no", _round(e.threshold),
                     *map(_round, _figures(e.learned)), _round(e.average_precision),
                     *map(_round, _figures(e.rules)), *counts, e.reason])
    for m in result.macro:
        rows.append([m.name, f"{m.codes} codes", "", "", "", "", "", "",
                     _round(m.precision), _round(m.recall), _round(m.f1),
                     _round(m.average_precision), _round(m.rules_precision),
                     _round(m.rules_recall), _round(m.rules_f1), "", "", "", "", ""])
    emit_csv(_COLUMNS, rows, raw=raw)


def _round(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _prf(score: "Score | None") -> str:
    if score is None:
        return ""
    return "/".join(_ratio(v) for v in (score.precision, score.recall, score.f1))


def _table(result: "LearnResult") -> None:
    from qcode.cli.output import console, plain_text
    from qcode.cli.tables import Column, print_table

    columns = [Column("code", label=True), Column("examples", numeric=True),
               Column("threshold", numeric=True), Column("learned P/R/F1", numeric=True),
               Column("AP", numeric=True), Column("rules P/R/F1", numeric=True)]
    if not result.evaluate:
        columns += [Column("new", numeric=True), Column("withdrawn", numeric=True)]
    rows = []
    for e in result.codes:
        cells = [e.code, str(e.examples),
                 ("-" if e.threshold is None else f"{e.threshold:.2f}"
                  + ("" if e.calibrated else "*")),
                 _prf(e.learned), _ratio(e.average_precision), _prf(e.rules)]
        if not result.evaluate:
            cells += [str(e.report.new) if e.report else "",
                      str(e.report.withdrawn) if e.report else ""]
        rows.append(cells)
    for m in result.macro:
        cells = [m.name, f"{m.codes} codes", "",
                 "/".join(_ratio(v) for v in (m.precision, m.recall, m.f1)),
                 _ratio(m.average_precision),
                 "/".join(_ratio(v) for v in (m.rules_precision, m.rules_recall, m.rules_f1))
                 if m.rules_f1 is not None else ""]
        rows.append(cells + (["", ""] if not result.evaluate else []))
    styles = ["" for _ in result.codes] + ["bold" for _ in result.macro]
    what = "evaluation" if result.evaluate else ("would propose" if result.dry_run
                                                 else "proposed")
    print_table(f"autocode --learn from {result.trainer}: {what}, per code", columns, rows,
                styles)
    out = console()
    out.print(plain_text(
        "grouped cross-validation by transcript, out of fold, at each code's threshold; "
        "rules: the code's rules on the same passages; AP: average precision; * the "
        "regression's own probabilities (too few examples to calibrate)"))
    for e in result.codes:
        if e.reason:
            out.print(plain_text(f"{e.code}: nothing proposed: {e.reason}"))


def _summary(result: "LearnResult") -> str:
    trained = (f"learned {len(result.codes)} codes from {result.trainer} "
               f"({result.passages} passages; {len(result.skipped)} codes with fewer than "
               f"{result.min_examples} examples; {sum(result.seconds.values()):.1f} s)")
    if result.evaluate:
        return f"evaluated: nothing written; {trained}"
    from qcode.cli.autocode_summary import proposals_line

    return proposals_line(result, "learned suggestions", trained, bool(result.new))

