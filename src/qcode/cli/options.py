"""Options shared by several commands, defined once so help text and types never drift."""


from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

CoderOpt = Annotated[
    str,
    typer.Option("--coder", "-c", envvar="QCODE_CODER", show_envvar=True, metavar="NAME",
                 help="Coder name (the log is codings/NAME.jsonl)."),
]
OptionalCoderOpt = Annotated[
    str | None,
    typer.Option("--coder", "-c", envvar="QCODE_CODER", show_envvar=True, metavar="NAME",
                 help="Only this coder's codings."),
]


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class TreeFormat(StrEnum):
    tree = "tree"
    csv = "csv"
    json = "json"


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


ScopeCodersOpt = Annotated[
    list[str] | None,
    typer.Option("--coder", "-c", metavar="NAME",
                 help="Count this coder's codings (repeatable). Default: the only coder, else "
                      "`primary_coder` from qcode.yaml."),
]
ShowCodersOpt = Annotated[
    list[str] | None,
    typer.Option("--coder", "-c", metavar="NAME",
                 help="Show this coder's codings (repeatable). Default: the only coder, else "
                      "`primary_coder` from qcode.yaml."),
]
AllCodersOpt = Annotated[
    bool, typer.Option("--all-coders", help="Count the union of all coders' codings "
                       "(identical spans count once).")]
ShowAllCodersOpt = Annotated[
    bool, typer.Option("--all-coders", help="Show every coder's codings (a span several "
                       "coders coded once, with their names).")]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option("--where", "-w", metavar="ATTR=VALUE",
                 help="Only transcripts whose attribute matches (repeatable; also ATTR!=VALUE; "
                      "VALUE may be a comma-separated list)."),
]
CodesOpt = Annotated[
    list[str] | None,
    typer.Option("--codes", metavar="ID,...", help="Only these codes and their descendants."),
]
RollupOpt = Annotated[
    bool, typer.Option("--rollup", help="A parent counts its own and all descendants' "
                       "segments (each span once).")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", metavar="FILE",
                              help="Write to FILE instead of standard output.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")]
RawOpt = Annotated[bool, typer.Option(
    "--raw", help="CSV/TSV: every cell exactly as it is. Without it a text cell that starts "
                  "with = + - @, a tab or a CR gets a leading ' so that a spreadsheet shows "
                  "it and never runs it as a formula.")]
PlotOpt = Annotated[
    Path | None, typer.Option("--plot", metavar="FILE.png|FILE.svg",
                              help="Also draw a heat map to this file.")]


class Measure(StrEnum):  # qcode.analysis.counting.MEASURES (a test keeps them equal)
    segments = "segments"
    documents = "documents"
    documents_pct = "documents-pct"
    words = "words"
    cases = "cases"
    cases_pct = "cases-pct"


class CooccurUnit(StrEnum):  # qcode.analysis.cooccur.COOCCUR_UNITS
    segment = "segment"
    passage = "passage"
    transcript = "transcript"
    case = "case"


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xlsx = "xlsx"
    md = "md"
    html = "html"


class RetrievalFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    html = "html"
    xlsx = "xlsx"
