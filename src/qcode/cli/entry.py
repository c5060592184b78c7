"""The installed ``qcode`` command: answers ``qcode --version`` before typer is imported.

Importing typer and registering every command costs about 0.1 s; a version check (in CI,
in a bug report, by a packaging script) should cost no more than Python starting. Every
other invocation goes to the typer app in ``qcode.cli.app``.
"""

import gc
import sys
import types

from qcode._version import version_line

PLUGIN_LOADER = "pydantic.plugin._loader"


def _no_pydantic_plugins() -> None:
    """Give this process pydantic without validation plugins.

    typer builds a pydantic validator for every option, and pydantic looks for plugins
    (instrumentation such as logfire's) the first time it builds one: its loader imports
    ``importlib.metadata`` (email, zipfile, csv, socket: ~12 ms, with typer loaded) and
    scans every installed distribution's entry points (~3 ms). A one-off command has no
    use for them. The stand-in answers "no plugins", as ``PYDANTIC_DISABLE_PLUGINS=__all__``
    would, without the import. Only the console script does this: the library, imported
    in a researcher's own program, keeps whatever plugins that program installed.
    """
    if PLUGIN_LOADER not in sys.modules:
        loader = types.ModuleType(PLUGIN_LOADER, "No pydantic plugins in a qcode command.")
        loader.get_plugins = tuple  # type: ignore[attr-defined]  # get_plugins() -> ()
        sys.modules[PLUGIN_LOADER] = loader


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(version_line() + "\n")
        return
    _no_pydantic_plugins()
    from qcode.cli import lazy

    lazy.request(sys.argv[1:])
    from qcode.cli.app import main as run_app

    try:
        run_app()
    finally:
        # The process ends here. Its last garbage collections (Python runs them while it
        # tears the modules down) would walk every object the imports made, pydantic's
        # and typer's included: ~20 ms of a small command, ~10 ms of --help. Frozen, they
        # are left to the exit; files are closed, exit handlers run, output is flushed
        # as before.
        gc.freeze()
