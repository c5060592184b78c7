"""The ``qcode`` entry point: global options, command registration, error mapping.

Every command module is imported here, so each must stay cheap to import: pandas,
textual, matplotlib and the heavy parts of the library are imported inside the
command functions (a test checks ``qcode --help`` in a fresh process).
"""


import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from qcode._version import version_line
from qcode.cli import (
    adjudicate,
    agree,
    analyse,
    autocode,
    browse,
    codebook,
    codebook_cmds,
    coding,
    framework,
    log_cmds,
    memo_cmds,
    project_cmds,
    pseudo_apply,
    pseudo_verify,
    pseudonymise,
    refi,
    report,
    saturation,
    search,
    tagging,
    transcript_import,
)
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


def _register(module: Any, names: list[str], group: typer.Typer | None = None,
              prefix: str = "") -> None:
    """Register ``module.<name>`` as a command; ``prefix`` is stripped from the name
    (``export_qdc`` in the ``export`` group is ``qcode export qdc``)."""
    from qcode.cli.help import QcodeCommand, examples_epilog, first_sentence

    examples = getattr(module, "EXAMPLES", {})
    for name in names:
        func = getattr(module, name)
        command = name.removeprefix(prefix).rstrip("_").replace("_", "-")
        (group or app).command(name=command, cls=QcodeCommand,
                               short_help=first_sentence(func.__doc__),
                               epilog=examples_epilog(examples.get(name, [])),
                               )(handle_errors(func))


export_app = typer.Typer(help="Write the project in another format.",
                         short_help="Write the project in another format.", no_args_is_help=True)
import_app = typer.Typer(help="Bring transcripts, codebooks or projects in from other tools.",
                         short_help="Bring transcripts, codebooks or projects in from other "
                                    "tools.", no_args_is_help=True)

_register(project_cmds, ["init", "check"])
codes_app = typer.Typer(help=browse.codes.__doc__, short_help=first_sentence(browse.codes.__doc__))
codes_app.callback(invoke_without_command=True, epilog=examples_epilog(
    browse.EXAMPLES["codes"]))(handle_errors(browse.codes))
_register(codebook_cmds, ["codes_rename", "codes_merge", "codes_move", "codes_add"], codes_app,
          prefix="codes_")
app.add_typer(codes_app, name="codes")
_register(browse, ["transcripts", "show"])
_register(tagging, ["tag", "untag"])
_register(memo_cmds, ["memo", "memos"])
_register(coding, ["code"])
_register(analyse, ["matrix", "freq", "cooccur", "segments", "query"])
_register(framework, ["framework"])
_register(saturation, ["saturation"])
_register(report, ["report"])
_register(agree, ["agree"])
_register(adjudicate, ["adjudicate"])
_register(autocode, ["autocode"])
_register(search, ["search"])
_register(log_cmds, ["compact", "erase"])
# Commands of the export and import groups are registered below as they exist, e.g.
# _register(refi, ["export_qdc"], export_app, prefix="export_")
_register(refi, ["export_qdc", "export_qdpx", "export_tables"], export_app, prefix="export_")
_register(refi, ["export_codebook"], export_app, prefix="export_")
_register(refi, ["import_qdc", "import_qdpx"], import_app, prefix="import_")
app.add_typer(export_app, name="export")
_register(transcript_import, ["import_transcripts"], import_app, prefix="import_")
_register(transcript_import, ["reanchor"])
app.add_typer(import_app, name="import")
codebook_app = typer.Typer(help="Compare versions of the codebook.",
                           short_help="Compare versions of the codebook.", no_args_is_help=True)
_register(codebook, ["diff"], codebook_app)
app.add_typer(codebook_app, name="codebook")
pseudonymise_app = typer.Typer(
    help="Replace names and other identifiers with placeholders from a key kept outside "
         "the project, and prove that none is left.",
    short_help="Pseudonymise transcripts with a key kept apart, and prove nothing leaks.",
    no_args_is_help=True)
_register(pseudonymise, ["scan", "review"], pseudonymise_app)
_register(pseudo_apply, ["apply"], pseudonymise_app)
_register(pseudo_verify, ["verify"], pseudonymise_app)
app.add_typer(pseudonymise_app, name="pseudonymise")


def main() -> None:
    from qcode.cli.lazy import only_what_runs

    only_what_runs(app, sys.argv[1:])
    app(prog_name="qcode")
