"""Progress bars on stderr for the library's long loops (``qcode.progress``).

A bar shows what is being done, items done of the total, the rate and the time left. It
is drawn only when stderr is a terminal and ``--quiet`` was not given, and only for a
loop still running after ``SHOW_AFTER`` seconds: a quick command neither flickers nor
pays for importing rich. The loops call ``step()`` per item; a step only adds to a count,
and looks at the clock every ``batch`` steps (tuned to about 50 looks a second), and
rich hears of the count at most ``UPDATES_PER_SECOND`` times a second, so a bar costs a
loop of 200,000 items nothing measurable (``bench/progress_bench.py``).

Nothing of this reaches stdout: rich's own redirection of stdout is off, so data written
while a bar is shown goes where it would have gone anyway.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qcode import progress

SHOW_AFTER = 0.5  # seconds a loop runs before its bar appears
UPDATES_PER_SECOND = 10
_LOOKS_PER_SECOND = 50


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by something without a file, or closed
        return False


def make_console() -> Any:
    """The console bars are drawn on: stderr, project text made printable."""
    from qcode.cli.output import console

    return console(stderr=True)


@contextmanager
def showing_progress(quiet: bool) -> Iterator[progress.Reporter]:
    """Around a command: bars on stderr when it is a terminal and not ``quiet``."""
    if quiet or not stderr_is_terminal():
        yield progress.SILENT
        return
    reporter = BarReporter()
    try:
        with progress.reporting(reporter):
            yield reporter
    finally:
        reporter.stop()


class BarReporter(progress.Reporter):
    """Draws each running task as one rich progress bar (rich imported on first need)."""

    def __init__(self, console: Any = None, show_after: float | None = None) -> None:
        self.console = console
        self.show_after = SHOW_AFTER if show_after is None else show_after
        self.bars: Any = None  # rich.progress.Progress, once a bar is shown
        self.shown = 0  # tasks with a bar now

    def start(self, label: str, total: int | None = None, unit: str = "items") -> BarTask:
        return BarTask(self, label, total, unit)

    def show(self, label: str, total: int | None, unit: str, done: int, rate: float) -> Any:
        if self.bars is None:
            self.bars = _make_bars(self.console or make_console())
            self.bars.start()
        self.shown += 1
        return self.bars.add_task(label, total=total, completed=done, rate=rate,
                                  unit="B" if unit == "bytes" else "")

    def hide(self, task_id: Any, done: int, rate: float) -> None:
        self.bars.update(task_id, completed=done, rate=rate)
        self.bars.refresh()  # the count it ended at, drawn once
        self.bars.remove_task(task_id)
        self.shown -= 1
        if not self.shown:
            self.stop()  # nothing left to show: give the terminal back to the output

    def stop(self) -> None:
        if self.bars is not None:
            self.bars.stop()
            self.bars = None


class BarTask(progress.Task):
    __slots__ = ("batch", "check_at", "done", "label", "last_look", "last_look_done",
                 "last_update", "reporter", "started", "task_id", "total", "unit")

    def __init__(self, reporter: BarReporter, label: str, total: int | None,
                 unit: str) -> None:
        self.reporter, self.label, self.total, self.unit = reporter, label, total, unit
        self.done = 0
        self.started = self.last_look = time.monotonic()
        self.last_look_done = 0
        self.last_update = 0.0
        self.check_at = self.batch = 1  # batch: steps between looks at the clock
        self.task_id: Any = None

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self.check_at:
            self._look()

    def _look(self) -> None:
        now = time.monotonic()
        # Look at the clock about _LOOKS_PER_SECOND times a second, whatever the pace.
        elapsed = now - self.last_look
        if elapsed > 0:
            rate = (self.done - self.last_look_done) / elapsed
            self.batch = max(1, min(int(rate / _LOOKS_PER_SECOND), self.batch * 4))
        self.last_look, self.last_look_done = now, self.done
        self.check_at = self.done + self.batch
        if self.task_id is None:
            if now - self.started >= self.reporter.show_after:
                self.task_id = self.reporter.show(self.label, self.total, self.unit,
                                                  self.done, self._rate(now))
                self.last_update = now
        elif now - self.last_update >= 1 / UPDATES_PER_SECOND:
            self.reporter.bars.update(self.task_id, completed=self.done, rate=self._rate(now))
            self.last_update = now

    def _rate(self, now: float) -> float:
        """Items a second since the loop began (rich's own estimate needs several updates
        before it says anything; this is known at the first)."""
        return self.done / (now - self.started) if now > self.started else 0.0

    def close(self) -> None:
        if self.task_id is not None:
            self.reporter.hide(self.task_id, self.done, self._rate(time.monotonic()))
            self.task_id = None


def _make_bars(console: Any) -> Any:
    from rich.filesize import decimal
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
    )
    from rich.text import Text

    class Counts(ProgressColumn):
        """``done/total`` items, or bytes as sizes."""

        def __init__(self) -> None:
            super().__init__()
            self.items, self.sizes = MofNCompleteColumn(), DownloadColumn()

        def render(self, task: Any) -> Any:
            return (self.sizes if task.fields.get("unit") == "B" else self.items).render(task)

    class Rate(ProgressColumn):
        """Items a second, or bytes a second as a size."""

        def render(self, task: Any) -> Any:
            rate = task.fields.get("rate") or 0.0
            shown = (f"{decimal(int(rate))}/s" if task.fields.get("unit") == "B"
                     else f"{rate:,.0f}/s")
            return Text(shown if rate else "", style="progress.data.speed")

    class TimeLeft(ProgressColumn):
        """The time left at the rate so far."""

        def render(self, task: Any) -> Any:
            rate = task.fields.get("rate") or 0.0
            if not rate or task.total is None:
                return Text("", style="progress.remaining")
            seconds = max(0, int((task.total - task.completed) / rate))
            return Text(f"{seconds // 60}:{seconds % 60:02d} left", style="progress.remaining")

    return Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), Counts(), Rate(),
        TimeLeft(), console=console, transient=True,
        refresh_per_second=UPDATES_PER_SECOND, redirect_stdout=False, redirect_stderr=False)
