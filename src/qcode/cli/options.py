"""Options shared by several commands, defined once so help text and types never drift."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

CoderOpt = Annotated[
    str,
    typer.Option("--coder", "-c", envvar="QCODE_CODER", show_envvar=True,
                 help="Coder name (the log is codings/<coder>.jsonl)."),
]
OptionalCoderOpt = Annotated[
    str | None,
    typer.Option("--coder", "-c", envvar="QCODE_CODER", show_envvar=True,
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
