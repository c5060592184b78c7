"""The installed ``qcode`` command: answers ``qcode --version`` before typer is imported,
and leaves without tearing the interpreter down.

Importing typer and registering every command costs about 0.1 s; a version check (in CI,
in a bug report, by a packaging script) should cost no more than Python starting. Every
other invocation goes to the typer app in ``qcode.cli.app``.

When the command is done, freeing every object it made (a cold ``check`` of 1,000
transcripts holds their bodies and 200,000 codings: about 0.15 s) changes nothing anyone
can see, so the installed command (or ``python -m qcode``) ends at once: output flushed,
``atexit`` handlers run (worker pools joined, temporary files removed), then ``os._exit``
with the command's status. Code that calls ``main()`` itself, or runs it under a profiler
or a tracer, gets it back as an ordinary ``SystemExit``.
"""

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
    except SystemExit as exc:
        exit_at_once(exc.code)
        raise


def exit_at_once(code: object) -> None:
    """End the process with ``code`` without the interpreter's teardown; returns (and the
    interpreter ends the usual way) where that could change anything: a thread still
    running, a status that is a message, output that cannot be flushed."""
    import atexit
    import os
    import threading

    if threading.active_count() > 1:
        return  # Python would wait for it
    if not _is_the_command() or sys.getprofile() is not None or sys.gettrace() is not None:
        return  # something may follow main(): a caller's code, a profile being written
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        return  # Python prints it
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # a closed pipe, say: Python's own exit says what it says
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        status = 120  # what Python's exit gives when the last flush fails
    os._exit(status)


def _is_the_command() -> bool:
    """Whether this process is the ``qcode`` command: the installed script (or a copy of
    it named ``qcode``) or ``python -m qcode``, so nothing runs after ``main()``."""
    import os

    program = sys.modules.get("__main__")
    spec = getattr(program, "__spec__", None)
    if spec is not None:
        return spec.name == "qcode.__main__"
    file = getattr(program, "__file__", None)
    return file is not None and os.path.basename(file) in ("qcode", "qcode-script.py")
