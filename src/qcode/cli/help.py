"""``--help`` as a person reads it.

typer writes a command's usage as ``qcode tag [OPTIONS] {transcript} {passage} {codes}...``
and its arguments as ``codes... <list[str]>``: placeholders from Python's types. qcode's
commands use this class (through typer's ``cls=``) so that usage reads
``qcode tag [OPTIONS] TRANSCRIPT PASSAGE CODE...`` and each argument is listed by its name
alone; options carry a metavar or their choices (tests/test_help.py holds every command to
it). The command list shows each command's first sentence whole (``short_help``).
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperCommand

_TYPE_PLACEHOLDER = re.compile(r" <[^<>]*>$")


class QcodeCommand(TyperCommand):
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((argument_name(param), record[1]))
            elif param.param_type_name == "option":
                options.append(record)
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)


def argument_name(param: Any) -> str:
    """TRANSCRIPT, CODE... : the metavar, else the name in capitals; ``...`` when the
    argument takes several values."""
    name = _TYPE_PLACEHOLDER.sub("", param.metavar or param.name.upper())
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name


def first_sentence(doc: str | None) -> str | None:
    """A docstring's first paragraph on one line: the command list shows it whole."""
    if not doc:
        return None
    paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def examples_epilog(examples: list[str]) -> str | None:
    """The examples under a command's help, kept as written (click's ``\\b`` marker stops
    it from re-wrapping the lines)."""
    if not examples:
        return None
    heading = "Example:" if len(examples) == 1 else "Examples:"
    return heading + "\n\n\b\n" + "\n".join(f"  {line}" for line in examples)
