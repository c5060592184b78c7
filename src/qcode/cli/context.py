"""Global options (``--project``, ``--debug``, ``--quiet``) and opening the project for a command."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pragma: no cover
    from qcode.project import Project
    from qcode.store.consistency import Assessment


@dataclass
class State:
    project: str | None = None
    debug: bool = False
    quiet: bool = False  # no progress bars


# The options of the running invocation, for code that has no context at hand (the
# error handler). The root callback replaces it on every invocation.
current = State()


def state(ctx: typer.Context) -> State:
    global current
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
        current = root.obj
    return root.obj


def open_project(ctx: typer.Context) -> "Project":
    """The project for this command: ``--project``, ``$QCODE_PROJECT``, or found upwards."""
    from qcode.project import Project

    project = Project.find(explicit=state(ctx).project)
    project.require_config()
    return project


def guard(project: "Project", coders: str | list[str] | None = None, all_coders: bool = False,
          uses: tuple[str, ...] = ("codebook", "attributes")) -> "Assessment":
    """Before a reading command answers: refuse when the project has errors that make the
    answer undefined (with `qcode check`'s own lines), else say on stderr what changes the
    answer (codings whose text moved, codings left out, ...). Returns the assessment."""
    from qcode.cli.output import note
    from qcode.errors import InvalidProject

    assessment = project.assess(coders, all_coders, uses)
    if assessment.blocking:
        raise InvalidProject("the project has errors that make this answer undefined",
                             assessment.blocking,
                             "fix them first; `qcode check` lists every problem")
    for line in assessment.notes:
        note(f"warning: {line}")
    return assessment


def warn_if_problems(project: "Project") -> None:
    """One stderr line when files this command read had errors: never silently partial."""
    errors = [p for p in project.problems if p.severity == "error"]
    if errors:
        from qcode.cli.output import note

        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        note(f"warning: {first.location()}: {first.message}{more}; "
             "run `qcode check` for details")
