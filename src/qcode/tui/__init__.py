"""The full-screen interactive coder (Textual). Its state lives in ``qcode.session``; the
app only presents it and dispatches keys. ``run_coder`` is the only entry the CLI uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.session import CodingSession


def run_coder(session: CodingSession, compare: str | None = None,
              show_others: bool = False) -> None:
    from qcode.tui.app import CoderApp

    CoderApp(session, compare=compare, show_others=show_others).run()
