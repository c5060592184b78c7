"""The README stays true: every documented command exists and has help, and vice versa."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from qcode.cli.app import app

REPO = Path(__file__).resolve().parents[1]

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCUMENTED = re.findall(r"^### `qcode ([a-z-]+(?: [a-z-]+)?)`", README, flags=re.MULTILINE)


def _commands(group, prefix=""):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group such as `qcode export`
            if getattr(command, "invoke_without_command", False):  # `qcode codes` lists
                yield f"{prefix}{name}"
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


REGISTERED = sorted(_commands(get_command(app)))


def test_every_command_is_documented_and_every_documented_command_exists():
    assert sorted(DOCUMENTED) == REGISTERED


@pytest.mark.parametrize("command", DOCUMENTED)
def test_documented_command_has_help(command):
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_quick_start_has_exactly_the_two_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_check_rule_the_code_can_emit_is_documented():
    fmt = (REPO / "docs" / "format.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text() for p in (REPO / "src" / "qcode").rglob("*.py"))
    emitted = set(re.findall(r'(?:error|warning)\(\s*"([a-z0-9-]+)"', source))
    emitted |= set(re.findall(r'YamlProblem\(\s*"([a-z0-9-]+)"', source))
    emitted |= {f"{prefix}-{suffix}" for prefix in ("config", "codebook")
                for suffix in ("schema", "unknown-key")}
    missing = sorted(rule for rule in emitted if f"`{rule}`" not in fmt)
    assert not missing, f"undocumented check rules: {missing}"
