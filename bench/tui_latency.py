"""Key-to-screen latency of the interactive coder, measured with Textual's Pilot.

    python bench/tui_latency.py [--words 20000] [--presses 100]

Generates a one-transcript project of the given length (bench/generate.py), opens it in
the full-screen coder at 80×24 and reports: the time until the first screen is ready,
and per key press (each followed by a full refresh) for moving to the next passage and
for toggling a code (which appends and fsyncs a line to the log).
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

from qcode import Project  # noqa: E402
from qcode.coding.session import CodingSession  # noqa: E402
from qcode.tui import make_app  # noqa: E402


async def measure(root: Path, presses: int) -> dict[str, float]:
    started = time.perf_counter()
    session = CodingSession(Project.open(root), "bench")
    app = make_app("coder", session=session)
    results: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        results["open_s"] = time.perf_counter() - started
        results["passages"] = len(session.transcript.passages)
        for name, key in (("next_passage", "j"), ("toggle_code", "L")):
            timings = []
            for _ in range(presses):
                t0 = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                timings.append(time.perf_counter() - t0)
            results[f"{name}_median_ms"] = statistics.median(timings) * 1000
            results[f"{name}_max_ms"] = max(timings) * 1000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=20_000)
    parser.add_argument("--presses", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        generate(1, 0, 1, root, words_per_transcript=args.words)
        results = asyncio.run(measure(root, args.presses))
    print("| transcript | passages | open (s) | next passage median / max (ms) | "
          "toggle code median / max (ms) |")
    print("|---|---|---|---|---|")
    print(f"| {args.words:,} words | {results['passages']:.0f} | {results['open_s']:.2f} | "
          f"{results['next_passage_median_ms']:.1f} / {results['next_passage_max_ms']:.1f} | "
          f"{results['toggle_code_median_ms']:.1f} / {results['toggle_code_max_ms']:.1f} |")


if __name__ == "__main__":
    main()
