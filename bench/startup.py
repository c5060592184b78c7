"""Time qcode's fixed cost: each everyday command on the bundled study against `--help`.

    python bench/startup.py [--runs 9] [--qcode PATH]

The bundled study (the repository's own qcode.yaml, codebook, transcripts and codings) is
copied to a temporary folder, its cache is warmed by running each command once, and then
every command is run ``--runs`` times as a whole process, the commands alternating so that
a busy machine slows them alike. The table gives each median and its ratio to ``qcode
--help`` measured in the same run (issue 25: at most 2.5x), ``--help`` against ``python -c
"import typer"`` (at most 1.3x) and ``--version`` against ``python -c pass`` (at most 1.1x
+ 30 ms). Without ``--qcode`` the worktree's own qcode runs as ``python -m qcode``, which is the
console script (``qcode.cli.entry.main``, its quick exit included), with this Python; the machine's load is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STUDY_PARTS = ("qcode.yaml", "codebooks", "transcripts", "codings", "cases")

COMMANDS: dict[str, list[str]] = {
    "matrix": ["matrix", "--by", "school"],
    "freq": ["freq"],
    "cooccur": ["cooccur"],
    "segments": ["segments", "leadership-involved"],
    "codes": ["codes"],
    "transcripts": ["transcripts"],
    "show": ["show", "voss-principal", "--coder", "consensus"],
    "search": ["search", "praksisplass*"],
}
HELP_LIMIT, TYPER_LIMIT, VERSION_LIMIT, VERSION_SLACK_S = 2.5, 1.3, 1.1, 0.030


def copy_study(into: Path) -> Path:
    for part in STUDY_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, into / part)
        else:
            shutil.copy2(source, into / part)
    return into


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): "
                         f"{done.stderr.decode('utf-8', 'replace')[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--qcode", help="a qcode executable (default: this worktree's)")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.qcode:
        qcode = [args.qcode]
    else:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in [str(REPO / "src"), env.get("PYTHONPATH", "")] if p)
        qcode = [sys.executable, "-m", "qcode"]
        # An installed qcode has its bytecode; PYTHONDONTWRITEBYTECODE would compile anew.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")],
                       stdout=subprocess.DEVNULL, check=True)
    baselines = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import typer"': [sys.executable, "-c", "import typer"],
        "qcode --version": [*qcode, "--version"],
        "qcode --help": [*qcode, "--help"],
    }
    runs = {**baselines, **{name: [*qcode, *argv] for name, argv in COMMANDS.items()}}

    with tempfile.TemporaryDirectory(prefix="qcode-startup-") as tmp:
        study = copy_study(Path(tmp))
        for argv in runs.values():  # warm the cache and the OS's file cache
            timed(argv, study, env)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.runs):
            for name, argv in runs.items():
                times[name].append(timed(argv, study, env))
    median = {name: statistics.median(values) for name, values in times.items()}

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"qcode startup on the bundled study, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{args.runs} runs each, load average {load}, {os.cpu_count()} cores\n")
    print("| command | median ms | ratio | target |")
    print("|---|---:|---:|---|")
    help_s, typer_s, pass_s = (median["qcode --help"], median['python -c "import typer"'],
                               median["python -c pass"])
    print(f"| python -c pass | {pass_s * 1000:.0f} | | |")
    print(f'| python -c "import typer" | {typer_s * 1000:.0f} | | |')
    version_s = median["qcode --version"]
    version_limit = VERSION_LIMIT * pass_s + VERSION_SLACK_S
    print(f"| qcode --version | {version_s * 1000:.0f} | {version_s / pass_s:.2f}x pass | "
          f"<= {version_limit * 1000:.0f} ms {'ok' if version_s <= version_limit else 'MISSED'} |")
    print(f"| qcode --help | {help_s * 1000:.0f} | {help_s / typer_s:.2f}x typer | "
          f"<= {TYPER_LIMIT}x {'ok' if help_s / typer_s <= TYPER_LIMIT else 'MISSED'} |")
    for name in COMMANDS:
        ratio = median[name] / help_s
        print(f"| qcode {' '.join(COMMANDS[name])} | {median[name] * 1000:.0f} | "
              f"{ratio:.2f}x help | <= {HELP_LIMIT}x {'ok' if ratio <= HELP_LIMIT else 'MISSED'} |")


if __name__ == "__main__":
    main()
