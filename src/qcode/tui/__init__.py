"""The full-screen app (Textual): one application whose screens present the coding
workflow of ``qcode.coding`` (the coder, adjudication, reviewing suggestions) and
dispatch keys to it. Its state lives in the library objects it is given.

``make_app`` builds the app for a screen (the CLI and the tests use it); ``run_app`` runs
it and turns any crash inside it into ``qcode.errors.InternalError``: one line for the
CLI's error mapping, never a traceback with local variables (they hold interview text).
Importing this package imports nothing of Textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qcode.errors import InternalError

if TYPE_CHECKING:  # pragma: no cover
    from qcode.tui.app import QcodeApp

SCREENS = ("coder", "adjudicate", "suggestions", "key-review")


def make_app(screen: str, **state: Any) -> QcodeApp:
    """The app showing ``screen`` first: ``coder`` (``session=``, optional ``compare=`` and
    ``show_others=``), ``adjudicate`` (``adjudication=``), ``suggestions`` (``review=``) or ``key-review``
    (``key_review=``, a ``qcode.coding.key_review.KeyReview``)."""
    from qcode.tui.app import QcodeApp

    return QcodeApp(screen, **state)


def run_app(screen: str, **state: Any) -> None:
    """Run the app for ``screen`` in the terminal until the user quits."""
    from qcode import progress

    app = make_app(screen, **state)
    with progress.reporting(progress.SILENT):  # the full screen owns the terminal: no bars
        app.run()
    if app.crash is not None:
        raise InternalError(crash_summary(app.crash), app.crash)


def crash_summary(error: BaseException) -> str:
    """What went wrong, in words that hold no data of the project: the exception's type
    and the innermost place in qcode (or else anywhere) where it was raised."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/qcode/" in f.filename.replace("\\", "/")]
    where = (ours or frames)[-1] if frames else None
    place = ""
    if where is not None:
        path = where.filename.replace("\\", "/")
        short = path.split("/qcode/", 1)[-1] if "/qcode/" in path else path.rsplit("/", 1)[-1]
        place = f" at {short}:{where.lineno}"
    return f"the full-screen app stopped: {type(error).__name__}{place}"
