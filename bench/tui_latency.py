"""Key-to-screen latency of the full-screen coder, on a long transcript.

    python bench/tui_latency.py [--words 20000] [--presses 100]

Generates a one-transcript project of the given length (bench/generate.py, with the
bundled study's codebook), opens it in the full-screen coder at 80×24 (Textual's headless
driver) and reports:

- **open**: from `Project.open` to the first screen drawn, the first time (no cache:
  the transcript is parsed and segmented) and again (cache warm, as on every later day);
- per key, the median and 95th percentile of **key to screen**: the key's handler (which
  for a code appends and fsyncs a line to the log) and drawing every line of the widgets
  a key can change (the passages, the codebook, the status bar), timed together;
  Textual then only writes those lines out. The frame pacing of a test harness is left
  out (Pilot's `pause` waits for timers and idle time: ~40 ms a key, whatever the key);
- **search**: a wildcard search over the bundled study, from the pattern to the list of
  hits (the engine the coder and `qcode search` share), when it is there.

Targets (issue #18): open ≤ 0.5 s, next passage and toggle code median ≤ 30 ms and p95 ≤
60 ms, search over the bundled study ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from generate import generate  # noqa: E402
from textual.geometry import Region  # noqa: E402

from qcode import Project  # noqa: E402
from qcode.coding.session import CodingSession  # noqa: E402
from qcode.tui import make_app  # noqa: E402


async def measure(root: Path, presses: int) -> dict[str, float]:
    results: dict[str, float] = {}
    for name in ("open_first_s", "open_s"):
        started = time.perf_counter()
        session = CodingSession(Project.open(root), "bench")
        app = make_app("coder", session=session)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            results[name] = time.perf_counter() - started
            if name == "open_s":
                await keys(app, pilot, presses, results)
        results["passages"] = len(session.transcript.passages)
    return results


KEYS = {"next_passage": "j", "toggle_code": "L", "next_word": "right"}


async def keys(app, pilot, presses: int, results: dict[str, float]) -> None:
    """Each key measured two ways: through Pilot as a user's key arrives (press, then
    wait until the screen is drawn), less the same wait for a key that does nothing;
    and synchronously (the handler, then drawing the widgets it may change)."""
    screen = app.screen
    code = screen.session.codebook.by_key("L").id
    actions = {
        "next_passage": lambda: screen.action_next_passage(),
        "toggle_code": lambda: screen.code(code),
        "next_word": lambda: screen.action_cursor_word(1),
    }
    idle = await pressed(app, pilot, "f12", presses)  # bound to nothing: the harness alone
    results["harness_ms"] = statistics.median(idle) * 1000
    widgets = [screen.query_one("#passages"), screen.query_one("#codebook"),
               screen.query_one("#status")]
    for name, action in actions.items():
        through_pilot = sorted(t - results["harness_ms"] / 1000
                               for t in await pressed(app, pilot, KEYS[name], presses))
        results[f"{name}_pilot_median_ms"] = statistics.median(through_pilot) * 1000
        results[f"{name}_pilot_p95_ms"] = percentile(through_pilot, 95) * 1000
        timings = []
        for round_ in range(presses):
            if round_ % 50 == 0:
                screen.session.goto(0, 0)  # stay on the transcript
            await pilot.pause()  # start from a quiet screen
            t0 = time.perf_counter()
            action()
            for widget in widgets:  # draw every line the key may have changed
                widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
            timings.append(time.perf_counter() - t0)
        timings.sort()
        results[f"{name}_median_ms"] = statistics.median(timings) * 1000
        results[f"{name}_p95_ms"] = percentile(timings, 95) * 1000


async def pressed(app, pilot, key: str, presses: int) -> list[float]:
    timings = []
    for round_ in range(presses):
        if round_ % 50 == 0:
            app.screen.session.goto(0, 0)
        await pilot.pause()
        t0 = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        timings.append(time.perf_counter() - t0)
    return timings


def percentile(sorted_values: list[float], percent: int) -> float:
    return sorted_values[max(0, int(len(sorted_values) * percent / 100) - 1)]


def search_ms() -> float | None:
    """A search over the bundled study (None when this qcode has no search yet)."""
    project = Project.open(REPO)
    search = getattr(project, "search", None)
    if search is None:
        return None
    search("vikar*")  # warm: the transcripts are read once
    timings = []
    for _ in range(10):
        t0 = time.perf_counter()
        search("vikar*")
        timings.append(time.perf_counter() - t0)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--presses", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        generate(1, 0, 1, root, words_per_transcript=args.words)
        results = asyncio.run(measure(root, args.presses))
    searched = search_ms()
    print("| transcript | passages | open first / again (s) | key | through Pilot, less its "
          f"{results['harness_ms']:.0f} ms no-op: median / p95 (ms) | handler + drawing: "
          "median / p95 (ms) |")
    print("|---|---|---|---|---|---|")
    for number, name in enumerate(KEYS):
        head = (f"| {args.words:,} words | {results['passages']:.0f} | "
                f"{results['open_first_s']:.2f} / {results['open_s']:.2f} "
                if number == 0 else "| | | ")
        print(f"{head}| {name.replace('_', ' ')} (`{KEYS[name]}`) | "
              f"{results[name + '_pilot_median_ms']:.1f} / {results[name + '_pilot_p95_ms']:.1f} | "
              f"{results[name + '_median_ms']:.1f} / {results[name + '_p95_ms']:.1f} |")
    print(f"\nsearch over the bundled study: "
          f"{'not in this qcode' if searched is None else f'{searched:.0f} ms'}")


if __name__ == "__main__":
    main()
