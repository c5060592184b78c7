"""Build only the click commands one invocation needs.

typer turns every registered function into a click command (reading its signature and
type hints) before it parses the command line: for qcode's forty commands that is about a
fifth of ``qcode --help`` and a fixed cost of every command. ``qcode matrix ...`` needs
the ``matrix`` command only; ``qcode --help`` needs each command's name and short help,
not its options. Anything else (an unknown name, shell completion, an option the root
does not take) builds the whole application as before, so its messages stay typer's.

The console script goes one step further (``request``): before ``qcode.cli.app`` is
imported it names the arguments, and the app then imports only the module of the command
that runs (importing all of them is about 8 ms; ``--help`` still needs every docstring).
Imported any other way (tests, ``python -c``), the app registers every command.
"""

import copy
import os
from collections.abc import Sequence

import typer
from typer.models import CommandInfo, TyperInfo

# The root's own options (``_root`` in app.py): those that take a value, and flags.
ROOT_VALUE_OPTIONS = ("--project", "-p")
ROOT_FLAGS = ("--debug", "--version", "--quiet", "-q")
HELP = ("--help", "-h")

# The arguments the console script runs with, set by ``request`` before the app is
# imported; None: register every command.
_requested: list[str] | None = None


def request(argv: Sequence[str]) -> None:
    """Say, before ``qcode.cli.app`` is imported, which arguments this process runs."""
    global _requested
    _requested = list(argv)


def _completing() -> bool:
    return any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)


def command_to_build(known: set[str]) -> str | None:
    """The one command or group to register, or None for all of them."""
    if _requested is None or _completing():
        return None
    name, _ = invoked_name(_requested)
    return name if name in known else None


def invoked_name(argv: Sequence[str]) -> tuple[str | None, bool]:
    """The command's name (None when there is none) and whether the arguments are only
    the root's own options; ``(None, False)`` when they are something else."""
    position = 0
    while position < len(argv):
        argument = argv[position]
        if argument in ROOT_VALUE_OPTIONS:
            position += 2
        elif (argument.startswith("--project=") or argument in ROOT_FLAGS
              or argument in HELP or (argument.startswith("-p") and len(argument) > 2)):
            position += 1
        elif argument.startswith("-"):
            return None, False
        else:
            return argument, True
    return None, position == len(argv)


def _stub(info: CommandInfo) -> CommandInfo:
    listed = copy.copy(info)
    listed.callback = _listed_only
    return listed


def _listed_only() -> None:
    """Stands in for a command that is only listed, never run."""


def _stub_group(info: TyperInfo) -> TyperInfo:
    listed = copy.copy(info)
    instance = copy.copy(info.typer_instance)
    assert instance is not None
    instance.registered_commands = []
    instance.registered_groups = []
    listed.typer_instance = instance
    return listed


def only_what_runs(app: typer.Typer, argv: Sequence[str]) -> None:
    """Leave in ``app`` only what running ``argv`` builds (see the module's docstring)."""
    if _completing():
        return  # shell completion lists every command
    name, only_root_options = invoked_name(argv)
    if name is None:
        if only_root_options and (not argv or any(a in HELP for a in argv)):
            app.registered_commands = [_stub(c) for c in app.registered_commands]
            app.registered_groups = [_stub_group(g) for g in app.registered_groups]
        return
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if commands or groups:
        app.registered_commands, app.registered_groups = commands, groups
