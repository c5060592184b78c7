"""What a progress bar costs a long loop (``qcode.progress`` / ``qcode.cli.progress``).

    python bench/progress_bench.py [--items 200000] [--runs 9] [--project DIR]

1. A loop of ``--items`` items whose body is about what a replayed log line costs (one
   ``orjson.loads``), timed with nobody listening, with the bar drawn on a (forced)
   terminal, and with a step per item but no bar yet (before ``SHOW_AFTER``); the
   variants alternate, the medians are compared, and the cost per step is given in ns.
2. With ``--project DIR`` (a generated project, copied to a temporary folder first): a
   cold ``Project.check()`` (no ``.qcode/cache``), with and without bars, alternated.

The bars are drawn into a buffer, as a terminal would receive them. Prints a small table.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.console import Console

from qcode import progress
from qcode.cli import progress as cli_progress


def bar_reporter(show_after: float = 0.0) -> cli_progress.BarReporter:
    screen = Console(file=io.StringIO(), force_terminal=True, width=120)
    return cli_progress.BarReporter(console=screen, show_after=show_after)


def loop(lines: list[bytes]) -> float:
    import orjson

    loads = orjson.loads
    started = time.perf_counter()
    for line in progress.track(lines, "replaying"):
        loads(line)
    return time.perf_counter() - started


def bare_generator_loop(lines: list[bytes]) -> float:
    """The floor of any per-item wrapper: a generator that only hands items on."""
    import orjson

    loads = orjson.loads
    started = time.perf_counter()
    for line in (line for line in lines):
        loads(line)
    return time.perf_counter() - started


def timed(reporter: progress.Reporter | None, work: Callable[[], float]) -> float:
    if reporter is None:
        return work()
    try:
        with progress.reporting(reporter):
            return work()
    finally:
        if isinstance(reporter, cli_progress.BarReporter):
            reporter.stop()


Variant = tuple[Callable[[], progress.Reporter | None], Callable[[], float]]


def compare(variants: dict[str, Variant], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (make, work) in variants.items():  # alternated: load hits all alike
            times[name].append(timed(make(), work))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--project", type=Path)
    args = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}; {os.cpu_count()} cores")
    lines = [b'{"op":"add","id":"%d","transcript":"t1","start":1,"end":9,"code":"c"}' % i
             for i in range(args.items)]
    tracked = lambda: loop(lines)  # noqa: E731
    medians = compare({"silent": (lambda: None, tracked),
                       "bar drawn": (bar_reporter, tracked),
                       "bar not yet shown": (lambda: bar_reporter(3600.0), tracked),
                       "bare generator": (lambda: None, lambda: bare_generator_loop(lines))},
                      args.runs)
    fixed = statistics.median(_show_and_hide() for _ in range(args.runs))
    base = medians["silent"]
    print(f"\n{args.items:,}-item loop, median of {args.runs}:")
    for name, seconds in medians.items():
        per_step = (seconds - base) / args.items * 1e9
        print(f"  {name:18} {seconds * 1000:8.1f} ms  ratio {seconds / base:5.3f}"
              f"  {per_step:+6.0f} ns a step")
    print(f"  showing and removing one bar (once per loop): {fixed * 1000:.1f} ms")
    if args.project:
        cold_check(args.project, max(3, args.runs // 2))


def _show_and_hide() -> float:
    """The fixed cost of a bar: drawn, updated once, removed (rich already imported)."""
    reporter = bar_reporter()
    started = time.perf_counter()
    with progress.reporting(reporter), progress.task("one", 1) as task:
        task.step()
    reporter.stop()
    return time.perf_counter() - started


def cold_check(source: Path, runs: int) -> None:
    from qcode import Project

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".qcode"))

        def check() -> float:
            shutil.rmtree(root / ".qcode" / "cache", ignore_errors=True)
            started = time.perf_counter()
            Project.open(root).check()
            return time.perf_counter() - started

        medians = compare({"silent": (lambda: None, check), "bar drawn": (bar_reporter, check)},
                          runs)
    base = medians["silent"]
    print(f"\ncold Project.check() of {source.name}, median of {runs}:")
    for name, seconds in medians.items():
        print(f"  {name:18} {seconds:8.2f} s   ratio {seconds / base:5.3f}")


if __name__ == "__main__":
    main()
