"""The ``qcode`` entry point: global options, command registration, error mapping.

Importing this module registers every command (importing every command module), unless
the console script said which one runs (``qcode.cli.lazy``): then only that command's
module is imported. ``qcode --help`` imports them all, so each must stay cheap to
import: pandas, textual, matplotlib and the heavy parts of the library are imported
inside the command functions (a test checks ``qcode --help`` in a fresh process).
"""


import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from qcode._version import version_line
from qcode.cli import lazy
from qcode.cli.context import state
from qcode.cli.help import examples_epilog, first_sentence

app = typer.Typer(
    name="qcode",
    help="Qualitative coding of interview transcripts, in the terminal, as plain text.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,  # locals hold interview text
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(version_line())
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(
        "--project", "-p", metavar="DIR",
        help="Project folder (default: $QCODE_PROJECT, else the nearest folder with a "
             "qcode.yaml from here upwards).")] = None,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Show a traceback for unexpected errors (bugs).")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bars on stderr (they appear only on a "
                              "terminal, for work that takes a while).")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and the Python it runs on.")] = False,
) -> None:
    """Qualitative coding of interview transcripts, in the terminal, as plain text.

    Exit codes: 0 success; 1 a problem with the project or the data (or `qcode check`
    found errors); 2 a usage error or no project found.
    """
    current = state(ctx)
    current.project = project
    current.debug = debug or os.environ.get("QCODE_DEBUG", "") not in ("", "0")
    current.quiet = quiet


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one or two lines on stderr and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from qcode.cli import context
        from qcode.cli.progress import showing_progress
        from qcode.errors import InternalError, QcodeError
        from qcode.format.cache import writing_in_background

        try:
            with showing_progress(context.current.quiet), writing_in_background():
                return func(*args, **kwargs)
        except QcodeError as exc:
            from qcode.cli.output import error_line

            problems = getattr(exc, "problems", None)
            if problems:  # an invalid project: say where, as `qcode check` would
                from qcode.cli.output import note
                from qcode.render.check import problem_lines

                note(f"error: {exc.message}:")
                for problem in problems[:5]:
                    for line in problem_lines(problem):
                        note(line)
                if len(problems) > 5:
                    note(f"(and {len(problems) - 5} more)")
                if exc.hint:
                    note(f"  hint: {exc.hint}")
            else:
                error_line(exc.message, exc.hint)
            raise typer.Exit(exc.exit_code) from None
        except InternalError as exc:
            # A crash caught at a boundary (the full-screen app): its message holds no
            # project data; the traceback (without local variables) only with --debug.
            from qcode.cli.output import error_line

            if context.current.debug:
                import traceback

                traceback.print_exception(exc.original, file=sys.stderr)
            error_line(f"internal error: {exc.message}",
                       "this is a bug in qcode; rerun with --debug for the traceback")
            raise typer.Exit(70) from None
        except BrokenPipeError:
            # `qcode ... | head` closed the pipe: not an error of ours.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except (KeyboardInterrupt, typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            if context.current.debug:
                raise
            from qcode.cli.output import error_line

            error_line(f"internal error: {type(exc).__name__}: {exc}",
                       "this is a bug in qcode; rerun with --debug for the traceback")
            raise typer.Exit(70) from None

    return wrapper


# Every command, in the order the command list shows them: (module in qcode.cli, its
# command functions, the group they belong to or None, the prefix stripped from the name).
# Modules are imported only for the command being run (``qcode.cli.lazy``).
COMMANDS: list[tuple[str, list[str], str | None, str]] = [
    ("project_cmds", ["init", "check"], None, ""),
    ("codebook_cmds", ["codes_rename", "codes_merge", "codes_move", "codes_add"], "codes",
     "codes_"),
    ("browse", ["transcripts", "show"], None, ""),
    ("tagging", ["tag", "untag"], None, ""),
    ("memo_cmds", ["memo", "memos"], None, ""),
    ("coding", ["code"], None, ""),
    ("analyse", ["matrix", "freq", "cooccur", "segments", "query"], None, ""),
    ("framework", ["framework"], None, ""),
    ("saturation", ["saturation"], None, ""),
    ("report", ["report"], None, ""),
    ("agree", ["agree"], None, ""),
    ("adjudicate", ["adjudicate"], None, ""),
    ("autocode", ["autocode"], None, ""),
    ("search", ["search"], None, ""),
    ("log_cmds", ["compact", "erase"], None, ""),
    ("refi", ["export_qdc", "export_qdpx", "export_tables", "export_codebook"], "export",
     "export_"),
    ("refi", ["import_qdc", "import_qdpx"], "import", "import_"),
    ("transcript_import", ["import_transcripts"], "import", "import_"),
    ("transcript_import", ["reanchor"], None, ""),
    ("codebook", ["diff"], "codebook", ""),
    ("pseudonymise", ["scan", "review"], "pseudonymise", ""),
    ("pseudo_apply", ["apply"], "pseudonymise", ""),
    ("pseudo_verify", ["verify"], "pseudonymise", ""),
]


def command_name(function: str, prefix: str) -> str:
    """``export_qdc`` in the ``export`` group is ``qcode export qdc``."""
    return function.removeprefix(prefix).rstrip("_").replace("_", "-")


def _register(module_name: str, names: list[str], group: typer.Typer | None = None,
              prefix: str = "") -> None:
    """Register ``qcode.cli.<module_name>.<name>`` as a command."""
    import importlib

    from qcode.cli.help import QcodeCommand, examples_epilog, first_sentence

    module = importlib.import_module(f"qcode.cli.{module_name}")
    examples = getattr(module, "EXAMPLES", {})
    for name in names:
        func = getattr(module, name)
        (group or app).command(name=command_name(name, prefix), cls=QcodeCommand,
                               short_help=first_sentence(func.__doc__),
                               epilog=examples_epilog(examples.get(name, [])),
                               )(handle_errors(func))


def _codes_app() -> typer.Typer:
    from qcode.cli import browse

    codes = typer.Typer(help=browse.codes.__doc__,
                        short_help=first_sentence(browse.codes.__doc__))
    codes.callback(invoke_without_command=True, epilog=examples_epilog(
        browse.EXAMPLES["codes"]))(handle_errors(browse.codes))
    return codes


def _plain_group(help_text: str, short_help: str) -> Callable[[], typer.Typer]:
    return lambda: typer.Typer(help=help_text, short_help=short_help, no_args_is_help=True)


# Each group's application, made when the group is registered (in this order).
_GROUP_FACTORIES: dict[str, Callable[[], typer.Typer]] = {
    "codes": _codes_app,
    "export": _plain_group("Write the project in another format.",
                           "Write the project in another format."),
    "import": _plain_group("Bring transcripts, codebooks or projects in from other tools.",
                           "Bring transcripts, codebooks or projects in from other tools."),
    "codebook": _plain_group("Compare versions of the codebook.",
                             "Compare versions of the codebook."),
    "pseudonymise": _plain_group(
        "Replace names and other identifiers with placeholders from a key kept outside "
        "the project, and prove that none is left.",
        "Pseudonymise transcripts with a key kept apart, and prove nothing leaks."),
}


def top_level_names() -> set[str]:
    """Every name ``qcode NAME`` runs: a command or a group."""
    return {group or command_name(name, prefix)
            for _, names, group, prefix in COMMANDS for name in names}


def register(only: str | None = None) -> None:
    """Register every command, or only the command or group named ``only``."""
    groups = {name: factory for name, factory in _GROUP_FACTORIES.items()
              if only is None or name == only}
    built = {name: factory() for name, factory in groups.items()}
    for module_name, names, group, prefix in COMMANDS:
        if group is None:
            wanted = [n for n in names if only is None or command_name(n, prefix) == only]
            if wanted:
                _register(module_name, wanted, None, prefix)
        elif group in built:
            _register(module_name, names, built[group], prefix)
    for name, group_app in built.items():
        app.add_typer(group_app, name=name)


register(lazy.command_to_build(top_level_names()))


def main() -> None:
    lazy.only_what_runs(app, sys.argv[1:])
    app(prog_name="qcode")
