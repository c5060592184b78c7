"""Every command's --help reads as written for a person (#16 item 15): no placeholders
from Python's types, every option's value named or its choices listed, a first line that is
one whole sentence, and one example to copy."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from qcode.cli.app import app

PLACEHOLDER = re.compile(r"<(?:list\[|str>|int>|float>|path>|bool>|file>)|\{[a-z]|\[\[")


def commands() -> list[list[str]]:
    root = get_command(app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            found += [[name, sub] for sub in command.commands]
        else:
            found.append([name])
    return sorted(found)


COMMANDS = commands()


def help_of(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_has_no_type_placeholders(path):
    text = help_of(path)
    assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text).group(0) + "\n" + text
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: qcode {' '.join(path)} [OPTIONS]"), usage


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_gives_an_example(path):
    text = help_of(path)
    assert re.search(rf"^\s+qcode {re.escape(' '.join(path))}\b", text, re.MULTILINE), text
    assert "Example" in text


def test_the_command_list_shows_each_first_sentence_whole():
    """`query  Passages where a code expression holds, e.g.` was cut at "e.g."."""
    root = get_command(app)
    for group in [root, *[c for c in root.commands.values()  # type: ignore[attr-defined]
                          if hasattr(c, "commands")]]:
        for name, command in group.commands.items():
            short = command.get_short_help_str(limit=45)
            assert short.endswith("."), (name, short)
            assert "..." not in short and not short.endswith("e.g."), (name, short)
            assert len(short) <= 80, (name, short)


def test_choices_are_listed():
    assert "segments|documents|documents-pct|words" in help_of(["matrix"])
    assert "segment|passage|transcript" in help_of(["cooccur"])


def test_retrieval_says_show_not_count():
    text = " ".join(help_of(["segments"]).split())
    assert "Count this coder" not in text and "Show this coder's codings" in text
