"""The installed ``qcode`` command: answers ``qcode --version`` before typer is imported.

Importing typer and registering every command costs about 0.1 s; a version check (in CI,
in a bug report, by a packaging script) should cost no more than Python starting. Every
other invocation goes to the typer app in ``qcode.cli.app``.
"""

import sys

from qcode._version import version_line


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_line() + "\n")
        return
    from qcode.cli.app import main as run_app

    run_app()
