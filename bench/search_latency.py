"""Text search over a whole project, in one process, as the interactive coder runs it.

    python bench/search_latency.py [--project DIR] [--runs 20]

Opens the project (default: the bundled study at the repository's root) in a coding
session, then times ``CodingSession.search`` for a few patterns of each kind: the first
search (which reads the transcripts' text) and the median and maximum of ``--runs``
searches after it. The issue's target (#18): a search over the bundled study in at most
100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from qcode import Project  # noqa: E402
from qcode.coding.session import CodingSession  # noqa: E402

PATTERNS = [
    ("match", "praksisplass*", {}),
    ("match", "følger * opp", {}),
    ("match", "utveksling*", {"speakers": ["Rektor"]}),
    ("regex", r"(?i)\butveksling\w*", {}),
    ("fuzzy", "forankret i ledelsen", {}),
]
TARGET_MS = 100


def measure(root: Path, runs: int) -> list[dict]:
    started = time.perf_counter()
    # every turn, the interviewer's too: the most text a search reads
    session = CodingSession(Project.open(root), "bench-search", include_interviewer=True)
    opened = time.perf_counter() - started
    results = []
    for index, (mode, pattern, options) in enumerate(PATTERNS):
        t0 = time.perf_counter()
        hits = session.search(pattern, mode=mode, **options)
        first = time.perf_counter() - t0
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            session.search(pattern, mode=mode, **options)
            timings.append(time.perf_counter() - t0)
        results.append({"mode": mode, "pattern": pattern, "options": options,
                        "hits": len(hits), "open_s": opened if index == 0 else None,
                        "first_ms": first * 1000,
                        "median_ms": statistics.median(timings) * 1000,
                        "max_ms": max(timings) * 1000})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=REPO)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = measure(args.project, args.runs)
    project = Project.open(args.project)
    words = sum(len(t.body.split()) for t in project.transcripts)
    print(f"{project.name}: {len(project.transcripts)} transcripts, {words:,} words; "
          f"opened in {results[0]['open_s']:.2f} s")
    print("| search | hits | first (ms) | median / max (ms) | target |")
    print("|---|--:|--:|--:|---|")
    for r in results:
        extra = "".join(f" --speaker {s}" for s in r["options"].get("speakers", []))
        mode = "" if r["mode"] == "match" else f"--{r['mode']} "
        verdict = "pass" if r["median_ms"] <= TARGET_MS else "FAIL"
        print(f"| `{mode}{r['pattern']}{extra}` | {r['hits']} | {r['first_ms']:.1f} | "
              f"{r['median_ms']:.1f} / {r['max_ms']:.1f} | {verdict} |")


if __name__ == "__main__":
    main()
