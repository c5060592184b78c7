"""Progress of the library's long loops, told to whoever listens (the command line's bar).

A long loop asks for a ``Task`` and calls ``step()`` per item done::

    for path in progress.track(files, "reading transcripts"):
        ...

    for chunk in progress.track(chunks, "replaying codings/ann.jsonl", size, size=len):
        ...

    with progress.task("bootstrapping", total=resamples) as bar:
        for batch in batches:
            ...
            bar.step(len(batch))

Nobody listens by default: ``track`` then hands back the items themselves and a task's
``step`` does nothing. A listener (a ``Reporter``) is installed for a block of work with
``reporting(reporter)``; the CLI installs one that draws a rich bar on a terminal.

The listener lives in a context variable, not in a parameter, because the loops worth
reporting sit in every layer (replaying a log in ``store``, reading transcripts in
``format``, bootstrapping in ``analysis``, writing an archive in ``interchange``) and are
reached through lazy properties (``Project.corpus``): a parameter would have to be
threaded through every facade method and constructor on the way. A context variable
reaches them all and keeps the hook in each loop to a line. It does not follow work into
other threads or processes: report from the loop that collects their results.

This module imports nothing but the standard library (it sits beside ``qcode.errors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


class Task:
    """One loop's progress. ``step(n)`` says n more items (or bytes) are done; this base
    says nothing to anyone, so a loop may call it freely."""

    __slots__ = ()
    # How many items ``track`` may gather before it calls ``step``: a listener that only
    # looks at the clock every so often says so, and a fast loop then pays one call per
    # ``batch`` items, not one per item.
    batch = 1

    def step(self, n: int = 1) -> None:
        """``n`` more items done."""

    def close(self) -> None:
        """The loop is over (also when it failed)."""


SILENT_TASK = Task()


class Reporter:
    """Makes a ``Task`` for each long loop. This base reports nothing."""

    def start(self, label: str, total: int | None = None, unit: str = "items") -> Task:
        """A task for the loop doing ``label`` over ``total`` items (None: unknown);
        ``unit`` is ``"items"`` or ``"bytes"``."""
        return SILENT_TASK


SILENT = Reporter()
_current: ContextVar[Reporter] = ContextVar("qcode_progress", default=SILENT)


def current() -> Reporter:
    """The reporter of the work running now (``SILENT`` unless someone installed one)."""
    return _current.get()


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Report the progress of the work done inside the block to ``reporter``."""
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


@contextmanager
def task(label: str, total: int | None = None, unit: str = "items") -> Iterator[Task]:
    """A task for the loop in the block, closed when the block ends."""
    reporter = _current.get()
    if reporter is SILENT:
        yield SILENT_TASK
        return
    running = reporter.start(label, total, unit)
    try:
        yield running
    finally:
        running.close()


def track(items: Iterable[T], label: str, total: int | None = None,
          size: Callable[[T], int] | None = None) -> Iterable[T]:
    """``items``, reporting one step per item taken (``total``: their number when
    ``items`` has no length). With ``size``, each item counts ``size(item)`` bytes (a
    file read in chunks: ``size=len``, ``total`` its size). With nobody listening,
    ``items`` itself."""
    reporter = _current.get()
    if reporter is SILENT:
        return items
    if total is None and size is None and isinstance(items, Sized):
        total = len(items)
    running = reporter.start(label, total, "items" if size is None else "bytes")
    return _tracked(items, running) if size is None else _sized(items, running, size)


def _tracked(items: Iterable[T], running: Task) -> Iterator[T]:
    step, pending, batch = running.step, 0, 1
    try:
        for item in items:
            yield item
            pending += 1
            if pending >= batch:
                step(pending)
                pending, batch = 0, running.batch
    finally:
        if pending:
            step(pending)
        running.close()


def _sized(items: Iterable[T], running: Task, size: Callable[[T], int]) -> Iterator[T]:
    step = running.step
    try:
        for item in items:
            yield item
            step(size(item))
    finally:
        running.close()
