"""Time qcode's commands on synthetic projects of growing size, against the targets.

    python bench/run.py [--quick] [--sizes 100,1000,5000] [--runs 5] [--profile check,matrix]

Each project is made once by ``bench/generate.py N CODINGS_PER_TRANSCRIPT SEED`` into
``bench/.projects/<N>-<CPT>-<SEED>`` (kept between runs; ``--regenerate`` makes it anew).
Every command runs as a whole process, the way a researcher or CI runs it: first once with
no ``.qcode/`` cache (the *cold* run), then ``--runs`` times; the table gives the median
(min–max) of those runs, the time per 1,000 transcripts, and the child's peak resident
memory. The interactive coder is measured in a child process with Textual's Pilot (open a
transcript, then toggle a code and move on, 100 times), and the library's steps (reading,
replaying the logs, counting) are timed in-process in another child.

The Markdown report goes to stdout, progress to stderr, and everything measured to
``bench/results/<UTC timestamp>.json``. A command the installed qcode lacks (``qcode X
--help`` fails) is reported as n/a. ``--quick`` is sizes 100 and 1,000 with 3 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
DEFAULT_PROJECTS = BENCH / ".projects"
DEFAULT_RESULTS = BENCH / "results"
DEFAULT_WORDS = 5000

# The targets of issue 10, on a 2-core machine, at 1,000 transcripts / 200,000 codings.
TARGET_SIZE = 1000
TARGET_CODINGS_PER_TRANSCRIPT = 200
MEMORY_TARGET_MB = 1024
# Issue 25's memory targets at TARGET_SIZE, for the warm runs: counting commands 400 MB,
# agree and export qdpx 600 MB (Command.memory_mb; the others keep MEMORY_TARGET_MB).
COUNTING_MB = 400
AGREE_EXPORT_MB = 600
# Time may grow at most linearly with the transcripts; 10 % slack for noise.
GROWTH_SLACK = 1.1
TUI_CODER = "coder-a"
TUI_TRANSCRIPT = "t00000"  # generate.py names transcripts t00000, t00001, ...
UNBOUND_KEY = "f12"


@dataclass(frozen=True)
class Command:
    id: str
    args: tuple[str, ...]  # after `qcode`; "{out}" is a scratch folder for output files
    target_s: float | None = None
    per_size: bool = True  # False: measured once (does not read the project)
    memory_mb: float = MEMORY_TARGET_MB  # peak of the warm runs at TARGET_SIZE

    @property
    def shown(self) -> str:
        return " ".join(("qcode", *self.args)).replace("{out}/", "")

    @property
    def subcommand(self) -> tuple[str, ...]:
        """The words before the first option or argument, for ``qcode WORDS --help``."""
        words = []
        for arg in self.args:
            if arg.startswith("-") or not arg.replace("-", "").isalpha():
                break
            words.append(arg)
            if words[0] != "export":  # only `export` is a group
                break
        return tuple(words)


# Counting commands use --all-coders so that all 200,000 codings are counted (the worst case;
# the default scope, the primary coder, is 60 % of them).
COMMANDS = [
    Command("help", ("--help",), 0.15, per_size=False),
    Command("check", ("check",), 2.0, memory_mb=COUNTING_MB),
    Command("matrix", ("matrix", "--by", "school", "--all-coders", "-f", "csv"), 1.5,
            memory_mb=COUNTING_MB),
    # --plot FILE.svg is drawn by qcode itself (issue #21): compared with "matrix" above
    Command("matrix-svg", ("matrix", "--by", "school", "--all-coders", "--plot",
                           "{out}/m.svg", "--force", "-f", "csv"), 1.7),
    Command("matrix-2", ("matrix", "--by", "school,informant_group", "--measure", "documents",
                         "--all-coders", "-f", "csv"), 1.5, memory_mb=COUNTING_MB),
    Command("freq", ("freq", "--all-coders", "-f", "csv"), 1.5, memory_mb=COUNTING_MB),
    Command("cooccur", ("cooccur", "--all-coders", "-f", "csv"), 1.5, memory_mb=COUNTING_MB),
    Command("segments", ("segments", "leadership-involved", "--all-coders", "-f", "csv",
                         "-o", "{out}/segments.csv", "--force"), memory_mb=COUNTING_MB),
    Command("codes", ("codes", "-f", "csv"), memory_mb=COUNTING_MB),
    Command("agree", ("agree", "--coders", "coder-a,coder-b", "-f", "csv"),
            memory_mb=AGREE_EXPORT_MB),
    Command("export-qdpx", ("export", "qdpx", "-o", "{out}/project.qdpx", "--force"),
            memory_mb=AGREE_EXPORT_MB),
    Command("autocode", ("autocode", "--dry-run")),
    # the units and views of issue #19
    Command("matrix-cases", ("matrix", "--by", "region", "--measure", "cases",
                             "--all-coders", "-f", "csv")),
    Command("cooccur-case", ("cooccur", "--unit", "case", "--all-coders", "-f", "csv")),
    Command("framework", ("framework", "--rows", "school", "--codes", "leadership",
                          "--all-coders", "-f", "csv", "-o", "{out}/framework.csv",
                          "--force")),
    Command("saturation", ("saturation", "--order", "id", "--all-coders", "-f", "csv")),
    Command("agree-ci", ("agree", "--coders", "coder-a,coder-b", "--ci", "95", "-f", "csv")),
    Command("export-tables", ("export", "tables", "{out}/tables", "--force")),
    Command("report", ("report", "--all-coders", "-o", "{out}/report.html", "--force")),
]

# Runs the command given after it and reports its wall time and peak memory. A child's
# ru_maxrss includes the memory of the process it was forked from, so the benchmark does
# not fork qcode itself: this small interpreter (-S: no site, ~9 MB) does.
_MEASURE = r"""
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, dict(os.environ))
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as handle:
    json.dump({"wall_s": wall, "maxrss": usage.ru_maxrss, "user_s": usage.ru_utime,
               "sys_s": usage.ru_stime, "exit": os.waitstatus_to_exitcode(status)}, handle)
"""


@dataclass
class Run:
    wall_s: float | None
    peak_mb: float | None
    exit: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit == 0 and not self.timed_out

    def problem(self) -> str:
        if self.timed_out:
            return "timed out"
        lines = [line.strip() for line in self.stderr.strip().splitlines()]
        errors = [line for line in lines if line.startswith("error:")]
        shown = (errors or lines[-1:] or [""])[0]
        return f"exit {self.exit}: {shown[:200]}"


def measure(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """Run ``argv`` once in ``cwd``; its wall time, peak RSS, exit code and output."""
    with tempfile.TemporaryDirectory(prefix="qcode-bench-") as tmp:
        report = Path(tmp) / "report.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _MEASURE, str(report), *argv], cwd=cwd, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
                proc.wait()
                return Run(None, None, None, stderr=err_path.read_text("utf-8", "replace"),
                           timed_out=True)
        stdout = out_path.read_text("utf-8", "replace")
        stderr = err_path.read_text("utf-8", "replace")
        if not report.exists():
            return Run(None, None, proc.returncode, stdout, stderr + "\n(no measurement)")
        data = json.loads(report.read_text("utf-8"))
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    peak_mb = data["maxrss"] / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return Run(data["wall_s"], peak_mb, data["exit"], stdout, stderr,
               len(stdout.encode("utf-8")))


# -- the machine ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return info


def describe_machine(info: dict[str, Any]) -> str:
    cores = f"{info['cores']} cores"
    if info.get("usable_cores") not in (None, info["cores"]):
        cores += f" ({info['usable_cores']} usable)"
    ram = f", {info['ram_gib']} GiB RAM" if "ram_gib" in info else ""
    load = " / ".join(str(x) for x in info["loadavg_start"])
    end = info.get("loadavg_end")
    load_end = f"; at the end {' / '.join(str(x) for x in end)}" if end else ""
    return (f"{info['cpu']}, {cores}{ram}, {info['platform']}, {info['python']}; "
            f"load average (1/5/15 min) at the start {load}{load_end}")


# -- projects ------------------------------------------------------------------------------


def project_name(n: int, cpt: int, seed: int, words: int) -> str:
    return f"{n}-{cpt}-{seed}" + ("" if words == DEFAULT_WORDS else f"-w{words}")


def generator_inputs() -> str:
    """A digest of what a generated project is made from besides its arguments: the
    generator and the bundled codebook it copies (which gains rules, keys, codes)."""
    digest = hashlib.sha256()
    for path in (BENCH / "generate.py", REPO / "codebooks" / "vet-mobility.yaml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_project(projects: Path, n: int, cpt: int, seed: int, words: int,
                   regenerate: bool) -> tuple[Path, int]:
    """The generated project (made now unless already there and made from the same
    generator and codebook) and its number of codings."""
    name = project_name(n, cpt, seed, words)
    root, meta = projects / name, projects / f"{name}.json"
    inputs = generator_inputs()
    if root.is_dir() and meta.exists() and not regenerate:
        summary = json.loads(meta.read_text("utf-8"))
        if summary.get("inputs") == inputs:
            return root, summary["codings"]
        progress(f"{name}: bench/generate.py or the bundled codebook changed")
    projects.mkdir(parents=True, exist_ok=True)
    for stale in projects.glob(f"{name}.partial-*"):  # an interrupted generation
        shutil.rmtree(stale, ignore_errors=True)
    meta.unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    partial = projects / f"{name}.partial-{os.getpid()}"
    progress(f"generating {name} (bench/generate.py {n} {cpt} {seed} --words {words})")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), str(n), str(cpt), str(seed), str(partial),
         "--words", str(words)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise SystemExit(f"bench/generate.py failed:\n{done.stderr}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    partial.rename(root)  # only a complete project ever has the final name
    summary.update(outdir=str(root), seconds=round(time.perf_counter() - started, 2),
                   inputs=inputs)
    meta.write_text(json.dumps(summary), "utf-8")
    progress(f"  {summary['codings']:,} codings in {summary['seconds']} s")
    return root, summary["codings"]


def scratch_copy(root: Path, into: Path) -> Path:
    """A copy of ``root`` to code in: hard links, except the TUI coder's log (appended to)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    target = into / f"{root.name}-{os.getpid()}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(root, target, copy_function=link_or_copy,
                    ignore=shutil.ignore_patterns(".qcode"))
    log = target / "codings" / f"{TUI_CODER}.jsonl"
    if log.exists():
        log.unlink()
        shutil.copy2(root / "codings" / f"{TUI_CODER}.jsonl", log)
    return target


# -- the children: interactive coder and in-process phases ---------------------------------


def pick_key(codebook: Any) -> str:
    """A codable code's one-letter shortcut (the coder toggles it with one key press)."""
    for code in codebook.codes:
        if getattr(code, "codable", True) and code.key and code.key.isalpha():
            return code.key
    raise SystemExit("the codebook has no code with a letter as its shortcut key")


async def _coder_latency(root: Path, presses: int) -> dict[str, Any]:
    started = time.perf_counter()
    from qcode import Project
    from qcode.coding.session import CodingSession, SessionLock
    from qcode.tui import make_app

    imported = time.perf_counter()
    log = root / "codings" / f"{TUI_CODER}.jsonl"
    lines_before = log.read_bytes().count(b"\n")
    # What `qcode code t00000 --coder coder-a` does before the first screen.
    project = Project.open(root)
    session = CodingSession(project, TUI_CODER, [TUI_TRANSCRIPT])
    session.resume()
    results: dict[str, Any] = {"import_s": imported - started}
    with SessionLock(project, TUI_CODER):
        app = make_app("coder", session=session)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            results["open_s"] = time.perf_counter() - imported
            results["passages"] = len(session.transcript.passages)
            key = results["key"] = pick_key(session.codebook)
            # Pilot waits for the app to go idle after each key (at least three 20 ms
            # sleeps): a key nothing is bound to measures that floor.
            floor = []
            for _ in range(min(presses, 20)):
                t0 = time.perf_counter()
                await pilot.press(UNBOUND_KEY)
                await pilot.pause()
                floor.append(time.perf_counter() - t0)
            toggles, moves = [], []
            for _ in range(presses):
                for name, timings in ((key, toggles), ("j", moves)):
                    t0 = time.perf_counter()
                    await pilot.press(name)
                    await pilot.pause()
                    timings.append(time.perf_counter() - t0)
    results.update(
        presses=presses, floor_median_ms=statistics.median(floor) * 1000,
        toggle_median_ms=statistics.median(toggles) * 1000, toggle_max_ms=max(toggles) * 1000,
        next_median_ms=statistics.median(moves) * 1000, next_max_ms=max(moves) * 1000,
        # Each toggle appends one event: proof that the key presses really coded.
        events_saved=log.read_bytes().count(b"\n") - lines_before)
    return results


def _phases(root: Path) -> dict[str, Any]:
    """Seconds per step of the library, in one process (the CLI adds its imports on top)."""
    timings: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def step(name: str, func: Any) -> Any:
        t0 = time.perf_counter()
        try:
            value = func()
        except Exception as exc:  # the core is changing under us: report, go on
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
            return None
        timings[name] = time.perf_counter() - t0
        return value

    step("import qcode.project", lambda: __import__("qcode.project"))
    step("import pandas", lambda: __import__("pandas"))
    from qcode import Project

    # On a project of its own, dropped afterwards: its memory is not carried into the rest.
    step("check() (fresh project)", lambda: Project.open(root).check())
    project = step("Project.open", lambda: Project.open(root))
    if project is not None:
        step("codebook", lambda: project.codebook)
        step("transcripts (read, segment, join cases)", lambda: project.transcripts)
        for coder in ("coder-a", "coder-b"):
            step(f"replay {coder}", lambda c=coder: project.codings(c))
        step("matrix --by school", lambda: project.matrix("school", all_coders=True))
        step("matrix --by school,informant_group --measure documents",
             lambda: project.matrix(["school", "informant_group"], "documents",
                                    all_coders=True))
        step("freq", lambda: project.freq(all_coders=True))
        step("cooccur", lambda: project.cooccur(all_coders=True))
        step("segments leadership-involved",
             lambda: project.segments(["leadership-involved"], all_coders=True))
    return {"seconds": timings, "errors": errors}


def child_main(kind: str, root: Path, presses: int) -> None:
    sys.path.insert(0, str(REPO / "src"))
    result = asyncio.run(_coder_latency(root, presses)) if kind == "tui" else _phases(root)
    print(json.dumps(result))


# -- the benchmark -------------------------------------------------------------------------


@dataclass
class Options:
    sizes: list[int]
    runs: int
    cpt: int
    seed: int
    words: int
    projects: Path
    results: Path
    qcode: str
    timeout: float
    cold: bool
    tui: bool
    phases: bool
    presses: int
    tui_runs: int
    only: set[str] | None
    profile: list[str]
    regenerate: bool
    fail_on_miss: bool = False
    extra_args: dict[str, list[str]] = field(default_factory=dict)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QCODE_")}
    env.update(NO_COLOR="1", COLUMNS="120", PYTHONUNBUFFERED="1")
    return env


def available(opts: Options, command: Command, cwd: Path, env: dict[str, str],
              cache: dict[tuple[str, ...], bool]) -> bool:
    """Whether the installed qcode has the command (``qcode WORDS --help`` succeeds)."""
    words = command.subcommand
    if words not in cache:
        done = subprocess.run([opts.qcode, *words, "--help"], cwd=cwd, env=env,
                              capture_output=True, check=False, timeout=120)
        cache[words] = done.returncode == 0
    return cache[words]


def summarise(runs: list[Run]) -> dict[str, Any]:
    walls = [r.wall_s for r in runs if r.wall_s is not None]
    peaks = [r.peak_mb for r in runs if r.peak_mb is not None]
    if not walls:
        return {}
    return {"runs_s": [round(w, 4) for w in walls], "min_s": min(walls),
            "median_s": statistics.median(walls), "max_s": max(walls),
            "peak_mb": max(peaks) if peaks else None}


def bench_command(opts: Options, command: Command, root: Path, n: int | None,
                  codings: int | None, env: dict[str, str], out: Path) -> dict[str, Any]:
    args = [a.replace("{out}", str(out)) for a in command.args]
    args += opts.extra_args.get(command.id, [])
    record: dict[str, Any] = {"command": command.id, "shown": command.shown,
                              "argv": ["qcode", *args], "transcripts": n, "codings": codings,
                              "target_s": command.target_s}
    cold = None
    if opts.cold and n is not None:
        shutil.rmtree(root / ".qcode", ignore_errors=True)  # no cache: the first run ever
        cold = measure([opts.qcode, *args], root, env, opts.timeout)
        if not cold.ok:
            record.update(status="error", error=cold.problem())
            return record
        record["cold_s"] = cold.wall_s
    runs = []
    for _ in range(opts.runs):
        run = measure([opts.qcode, *args], root, env, opts.timeout)
        if not run.ok:
            record.update(status="error", error=run.problem(), **summarise(runs))
            return record
        runs.append(run)
    record.update(status="ok", stdout_bytes=runs[-1].stdout_bytes, **summarise(runs))
    record["warm_peak_mb"] = record["peak_mb"]
    record["memory_target_mb"] = command.memory_mb
    if cold is not None and cold.peak_mb is not None:
        record["peak_mb"] = max(record["peak_mb"], cold.peak_mb)
    if n:
        record["s_per_1000"] = record["median_s"] / n * 1000
    return record


def judge(record: dict[str, Any]) -> None:
    """pass / FAIL against the issue's targets: at 1,000 transcripts, or any size for --help."""
    record["pass"] = None
    if record.get("status") != "ok":
        return
    at_target = record["transcripts"] in (None, TARGET_SIZE)
    if not at_target:
        return
    checks = []
    if record["target_s"] is not None:
        checks.append(record["median_s"] <= record["target_s"])
    warm_peak = record.get("warm_peak_mb", record.get("peak_mb"))
    if record["transcripts"] is not None and warm_peak is not None:
        checks.append(warm_peak <= record.get("memory_target_mb", MEMORY_TARGET_MB))
    if checks:
        record["pass"] = all(checks)


def growth(results: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """Time ratios between consecutive sizes; above GROWTH_SLACK × the size ratio is
    super-linear (from 1,000 to 5,000: a ratio above 5.5)."""
    by_key = {(r["command"], r["transcripts"]): r for r in results if r.get("status") == "ok"}
    rows = []
    ordered = sorted(sizes)
    for command in dict.fromkeys(r["command"] for r in results):
        for small, large in itertools.pairwise(ordered):
            a, b = by_key.get((command, small)), by_key.get((command, large))
            if not a or not b:
                continue
            ratio = b["median_s"] / a["median_s"]
            limit = GROWTH_SLACK * large / small
            peaks = a.get("warm_peak_mb"), b.get("warm_peak_mb")
            memory = peaks[1] / peaks[0] if None not in peaks else None
            rows.append({"command": command, "from": small, "to": large, "ratio": ratio,
                         "limit": limit, "super_linear": ratio > limit,
                         "memory_ratio": memory,
                         "peak_mb": [round(p, 1) if p else p for p in peaks]})
    return rows


def profile(opts: Options, command: Command, root: Path, env: dict[str, str], out: Path,
            stamp: str, n: int) -> dict[str, Any]:
    """Run the command once under cProfile; the top functions by own and cumulative time."""
    import pstats

    opts.results.mkdir(parents=True, exist_ok=True)
    prof = opts.results / f"{stamp}-{command.id}-{n}.prof"
    args = [a.replace("{out}", str(out)) for a in command.args]
    python = Path(opts.qcode).resolve().parent / "python"
    if not python.exists():
        python = Path(sys.executable)
    done = subprocess.run([str(python), "-m", "cProfile", "-o", str(prof), "-m", "qcode", *args],
                          cwd=root, env=env, capture_output=True, check=False,
                          timeout=opts.timeout)
    if not prof.exists():
        return {"command": command.id, "transcripts": n, "error": done.stderr.decode()[-300:]}
    stats = pstats.Stats(str(prof))
    total = stats.total_tt  # type: ignore[attr-defined]

    def top(key: str, count: int = 10, ours: bool = False) -> list[dict[str, Any]]:
        rows = []
        entries = stats.stats  # type: ignore[attr-defined]
        index = 2 if key == "tottime" else 3
        for (file, line, func), values in sorted(entries.items(), key=lambda kv: -kv[1][index]):
            if len(rows) == count:
                break
            if ours and ("qcode" + os.sep not in file or f"{os.sep}cli{os.sep}" in file
                         or file.endswith("__main__.py")):
                continue
            where = file.replace(str(REPO) + "/", "")
            for marker in ("site-packages/", "lib/python3"):
                if marker in where:
                    where = where.split(marker, 1)[1]
            rows.append({"function": f"{where}:{line}({func})", "calls": values[1],
                         "tottime_s": round(values[2], 3), "cumtime_s": round(values[3], 3)})
        return rows

    return {"command": command.id, "transcripts": n, "total_s": round(total, 3),
            "file": str(prof), "by_tottime": top("tottime"), "by_cumtime": top("cumtime", 15),
            # The library's own functions (not the CLI layer) by time spent inside them.
            "qcode_by_cumtime": top("cumtime", 12, ours=True)}


def bench_child(opts: Options, kind: str, root: Path, env: dict[str, str]
                ) -> tuple[Run, dict[str, Any] | None]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(root),
            "--presses", str(opts.presses)]
    run = measure(argv, root, env, opts.timeout)
    if not run.ok:
        return run, None
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def run_benchmark(opts: Options) -> dict[str, Any]:
    env = child_env()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    # An installed qcode has its bytecode compiled (pip does it); a checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every edited module on every start instead.
    python = Path(opts.qcode).resolve().parent / "python"
    subprocess.run([str(python if python.exists() else sys.executable), "-m", "compileall",
                    "-q", str(Path(__file__).resolve().parents[1] / "src" / "qcode")],
                   check=False, env=env, capture_output=True)
    version = subprocess.run([opts.qcode, "--version"], capture_output=True, text=True,
                             check=False, env=env)
    report: dict[str, Any] = {
        "started": stamp, "machine": machine(), "qcode": version.stdout.strip(),
        "settings": {"sizes": opts.sizes, "runs": opts.runs, "codings_per_transcript": opts.cpt,
                     "seed": opts.seed, "words_per_transcript": opts.words, "cold": opts.cold,
                     "presses": opts.presses, "timeout_s": opts.timeout},
        "targets": {"size": TARGET_SIZE, "codings_per_transcript": TARGET_CODINGS_PER_TRANSCRIPT,
                    "memory_mb": {c.id: c.memory_mb for c in COMMANDS if c.per_size},
                    "growth_slack": GROWTH_SLACK,
                    "seconds": {c.id: c.target_s for c in COMMANDS if c.target_s}},
        "projects": [], "results": [], "tui": [], "phases": [], "profiles": [],
    }
    commands = [c for c in COMMANDS if opts.only is None or c.id in opts.only]
    have: dict[tuple[str, ...], bool] = {}
    with tempfile.TemporaryDirectory(prefix="qcode-bench-out-") as tmp:
        out = Path(tmp)
        for index, n in enumerate(opts.sizes):
            root, codings = ensure_project(opts.projects, n, opts.cpt, opts.seed, opts.words,
                                           opts.regenerate)
            report["projects"].append({"transcripts": n, "codings": codings, "path": str(root)})
            for command in commands:
                if not command.per_size and index > 0:
                    continue
                size, count = (n, codings) if command.per_size else (None, None)
                not_there = {"command": command.id, "shown": command.shown,
                             "transcripts": size, "codings": count,
                             "target_s": command.target_s, "status": "n/a",
                             "error": f"`qcode {' '.join(command.subcommand)} --help` failed"}
                if have.get(command.subcommand) is False:
                    record = not_there
                else:
                    progress(f"[{n:,}] {command.shown}")
                    record = bench_command(opts, command, root, size, count, env, out)
                    # A failure may mean that this qcode lacks the command: ask its --help.
                    if (record["status"] == "error"
                            and not available(opts, command, root, env, have)):
                        record = not_there
                judge(record)
                report["results"].append(record)
                progress("    " + line_for_progress(record))
            for command_id in opts.profile:
                command = next(c for c in COMMANDS if c.id == command_id)
                progress(f"[{n:,}] profiling {command.shown}")
                report["profiles"].append(profile(opts, command, root, env, out, stamp, n))
            if opts.phases:
                progress(f"[{n:,}] library steps, in-process")
                run, data = bench_child(opts, "phases", root, env)
                report["phases"].append({"transcripts": n, "peak_mb": run.peak_mb,
                                         "wall_s": run.wall_s, **(data or {}),
                                         **({} if data else {"error": run.problem()})})
            if opts.tui:
                report["tui"].append(bench_tui(opts, root, n, codings, env))
    report["growth"] = growth(report["results"], opts.sizes)
    report["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def bench_tui(opts: Options, root: Path, n: int, codings: int, env: dict[str, str]
              ) -> dict[str, Any]:
    record: dict[str, Any] = {"transcripts": n, "codings": codings, "runs": []}
    if importlib.util.find_spec("textual") is None:
        record.update(status="n/a", error="textual is not installed")
        return record
    scratch = scratch_copy(root, opts.projects / "scratch")
    try:
        for attempt in range(opts.tui_runs):
            progress(f"[{n:,}] coder: open {TUI_TRANSCRIPT}, toggle a code {opts.presses}×"
                     f" ({'cold' if attempt == 0 else 'warm'})")
            run, data = bench_child(opts, "tui", scratch, env)
            if data is None:
                record.update(status="error", error=run.problem())
                return record
            record["runs"].append({"wall_s": run.wall_s, "peak_mb": run.peak_mb, **data})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    last = record["runs"][-1]
    record.update(status="ok", peak_mb=max(r["peak_mb"] for r in record["runs"]),
                  **{k: last[k] for k in ("passages", "toggle_median_ms", "toggle_max_ms",
                                          "next_median_ms", "next_max_ms", "floor_median_ms",
                                          "events_saved")})
    record["open_cold_s"] = record["runs"][0]["open_s"]
    record["open_warm_s"] = last["open_s"] if len(record["runs"]) > 1 else None
    return record


# -- the report ----------------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def line_for_progress(record: dict[str, Any]) -> str:
    if record.get("status") != "ok":
        return f"{record.get('status')}: {record.get('error', '')}"
    return (f"median {fmt_s(record['median_s'])} s (min {fmt_s(record['min_s'])}, max "
            f"{fmt_s(record['max_s'])}), cold {fmt_s(record.get('cold_s'))} s, peak "
            f"{record['peak_mb']:.0f} MB")


def verdict(record: dict[str, Any]) -> str:
    if record.get("status") == "n/a":
        return "n/a (not in this qcode)"
    if record.get("status") != "ok":
        return f"error ({record.get('error', '')[:80]})"
    if record["pass"] is None:
        return "—"
    if not record["pass"]:
        return "**FAIL**"
    return "pass" if record["target_s"] is not None else "pass (memory)"


def markdown(report: dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"## qcode benchmark, {report['started']}",
        "",
        f"- Machine: {describe_machine(report['machine'])}",
        f"- {report['qcode'] or 'qcode (version unknown)'}",
        "- Projects: `bench/generate.py N "
        f"{settings['codings_per_transcript']} {settings['seed']}` "
        f"({settings['words_per_transcript']:,} words per transcript, two coders): "
        + ", ".join(f"{p['transcripts']:,} transcripts / {p['codings']:,} codings"
                    for p in report["projects"]),
        f"- Each command: {'one cold run (no `.qcode/` cache), then ' if settings['cold'] else ''}"
        f"{settings['runs']} runs as a whole process; median (min–max) of those runs; peak = "
        "the child's peak resident memory over all its runs",
        f"- Targets (at {TARGET_SIZE:,} transcripts / "
        f"{TARGET_SIZE * TARGET_CODINGS_PER_TRANSCRIPT:,} codings): the time shown, and peak "
        f"warm peak memory ≤ {COUNTING_MB} MB for counting commands, ≤ {AGREE_EXPORT_MB} "
        f"MB for agree and export qdpx, ≤ {MEMORY_TARGET_MB:,} MB for the rest; `--help` "
        "at any size",
        "",
        "| command | transcripts | median s (min–max) | cold s | s / 1,000 transcripts "
        "| peak MB | target s | result |",
        "|---|--:|--:|--:|--:|--:|--:|---|",
    ]
    order = {c.id: i for i, c in enumerate(COMMANDS)}
    for record in sorted(report["results"], key=lambda r: (order[r["command"]],
                                                            r["transcripts"] or 0)):
        size = f"{record['transcripts']:,}" if record["transcripts"] else "any"
        if record.get("status") == "ok":
            timing = (f"{fmt_s(record['median_s'])} ({fmt_s(record['min_s'])}–"
                      f"{fmt_s(record['max_s'])})")
            per = fmt_s(record.get("s_per_1000"))
            peak = f"{record['peak_mb']:.0f}"
        else:
            timing = per = peak = "—"
        target = fmt_s(record["target_s"]) if record["target_s"] else "—"
        lines.append(f"| `{record['shown']}` | {size} | {timing} | "
                     f"{fmt_s(record.get('cold_s'))} | {per} | {peak} | {target} | "
                     f"{verdict(record)} |")
    if report["growth"]:
        lines += ["", "Growth of the median time between sizes (linear = the ratio of the "
                  f"sizes; flagged above {GROWTH_SLACK}× that):", "",
                  "| command | sizes | time ratio | limit | growth | warm peak MB | "
                  "memory ratio |", "|---|---|--:|--:|---|--:|--:|"]
        for row in report["growth"]:
            small_mb, large_mb = row.get("peak_mb") or (None, None)
            peaks = (f"{small_mb:.0f} → {large_mb:.0f}" if small_mb and large_mb else "—")
            memory = row.get("memory_ratio")
            lines.append(f"| {row['command']} | {row['from']:,} → {row['to']:,} | "
                         f"{row['ratio']:.2f} | {row['limit']:.1f} | "
                         f"{'**super-linear**' if row['super_linear'] else 'ok'} | "
                         f"{peaks} | {f'{memory:.2f}' if memory else '—'} |")
    if report["tui"]:
        lines += ["", f"Interactive coder (Textual Pilot, 80×24): open `{TUI_TRANSCRIPT}` as "
                  f"{TUI_CODER}, then {settings['presses']}× (toggle a code, next passage); "
                  "each key press is timed until the screen is idle again, which Pilot's "
                  "own waiting (the floor, an unbound key) is part of:", "",
                  "| transcripts | open s (cold / warm) | toggle median / max ms | "
                  "next passage median / max ms | Pilot floor ms | peak MB | events saved |",
                  "|--:|--:|--:|--:|--:|--:|--:|"]
        for row in report["tui"]:
            if row.get("status") != "ok":
                lines.append(f"| {row['transcripts']:,} | {row.get('status')}: "
                             f"{row.get('error', '')[:80]} | | | | | |")
                continue
            lines.append(
                f"| {row['transcripts']:,} | {fmt_s(row['open_cold_s'])} / "
                f"{fmt_s(row['open_warm_s'])} | {row['toggle_median_ms']:.1f} / "
                f"{row['toggle_max_ms']:.1f} | {row['next_median_ms']:.1f} / "
                f"{row['next_max_ms']:.1f} | {row['floor_median_ms']:.1f} | "
                f"{row['peak_mb']:.0f} | {row['events_saved']} |")
    if report["phases"]:
        sizes = [p["transcripts"] for p in report["phases"]]
        names = list(dict.fromkeys(k for p in report["phases"] for k in p.get("seconds", {})))
        lines += ["", "Library steps in one process (seconds; the CLI adds its start-up):", "",
                  "| step | " + " | ".join(f"{s:,}" for s in sizes) + " |",
                  "|---|" + "--:|" * len(sizes)]
        for name in names:
            cells = [fmt_s(p.get("seconds", {}).get(name)) for p in report["phases"]]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("| peak MB | " + " | ".join(
            f"{p['peak_mb']:.0f}" if p.get("peak_mb") else "—" for p in report["phases"]) + " |")
        for p in report["phases"]:
            for name, error in p.get("errors", {}).items():
                lines.append(f"\n{p['transcripts']:,}: {name} failed: {error}")
            if p.get("error"):
                lines.append(f"\n{p['transcripts']:,}: the in-process run failed: {p['error']}")
    for prof in report["profiles"]:
        lines += ["", f"cProfile of `{prof['command']}` at {prof['transcripts']:,} transcripts"
                  + (f" ({prof['total_s']} s profiled; `{prof['file']}`):" if "total_s" in prof
                     else f": failed: {prof.get('error')}"), ""]
        for title, key in (("own time", "by_tottime"),
                           ("qcode's library functions, cumulative time", "qcode_by_cumtime")):
            if prof.get(key):
                lines += [f"By {title}:", "", "| own s | cumulative s | calls | function |",
                          "|--:|--:|--:|---|"]
                lines += [f"| {r['tottime_s']} | {r['cumtime_s']} | {r['calls']} | "
                          f"`{r['function']}` |" for r in prof[key]]
                lines.append("")
    failed = [r for r in report["results"] if r.get("pass") is False]
    slow = [g for g in report["growth"] if g["super_linear"]]
    lines += ["", f"Targets missed: {len(failed)}"
              + (" (" + ", ".join(f"{r['command']}" for r in failed) + ")" if failed else "")
              + f"; super-linear growth: {len(slow)}"
              + (" (" + ", ".join(f"{g['command']} {g['from']}→{g['to']}" for g in slow) + ")"
                 if slow else "")]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, Options | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="sizes 100 and 1,000, 3 runs each")
    parser.add_argument("--sizes", help="transcripts per project, comma-separated "
                                        "(default 100,1000,5000)")
    parser.add_argument("--runs", type=int, help="timed runs per command (default 5; "
                                                 "--quick 3)")
    parser.add_argument("--codings-per-transcript", type=int,
                        default=TARGET_CODINGS_PER_TRANSCRIPT)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--words", type=int, default=DEFAULT_WORDS,
                        help="words per transcript (default 5000)")
    parser.add_argument("--only", help="only these command ids, comma-separated: "
                                       + ", ".join(c.id for c in COMMANDS))
    parser.add_argument("--no-cold", action="store_true",
                        help="skip the cold run (no .qcode/ cache) before the timed runs")
    parser.add_argument("--skip-tui", action="store_true", help="skip the interactive coder")
    parser.add_argument("--skip-phases", action="store_true",
                        help="skip the in-process library steps")
    parser.add_argument("--presses", type=int, default=100,
                        help="code toggles in the interactive coder (default 100)")
    parser.add_argument("--tui-runs", type=int, default=2,
                        help="coder sessions per size: the first cold, the rest warm "
                             "(default 2)")
    parser.add_argument("--profile", default="",
                        help="also run these command ids once under cProfile at each size "
                             "and report the top functions")
    parser.add_argument("--autocode-args", default="",
                        help="extra arguments for `qcode autocode --dry-run`")
    parser.add_argument("--projects-dir", type=Path, default=DEFAULT_PROJECTS)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--qcode", help="the qcode executable (default: beside this Python, "
                                        "else on PATH)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds before a run is killed (default 600)")
    parser.add_argument("--regenerate", action="store_true",
                        help="make the projects anew even if they exist")
    parser.add_argument("--fail-on-miss", action="store_true",
                        help="exit 1 when a target is missed or growth is super-linear")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return args, None
    sizes = ([int(s.replace("_", "")) for s in args.sizes.split(",")] if args.sizes
             else [100, 1000] if args.quick else [100, 1000, 5000])
    runs = args.runs if args.runs is not None else (3 if args.quick else 5)
    qcode = args.qcode or str(Path(sys.executable).parent / "qcode")
    if not Path(qcode).exists():
        qcode = shutil.which("qcode") or parser.error("no qcode executable found; use --qcode")
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    profiles = [s.strip() for s in args.profile.split(",") if s.strip()]
    known = {c.id for c in COMMANDS}
    for name in (only or set()) | set(profiles):
        if name not in known:
            parser.error(f"unknown command id {name!r}; known: {', '.join(sorted(known))}")
    if runs < 1 or any(s < 1 for s in sizes):
        parser.error("--runs and --sizes must be positive")
    extra = {"autocode": args.autocode_args.split()} if args.autocode_args else {}
    return args, Options(
        sizes=sizes, runs=runs, cpt=args.codings_per_transcript, seed=args.seed,
        words=args.words, projects=args.projects_dir.resolve(),
        results=args.results_dir.resolve(), qcode=qcode, timeout=args.timeout,
        cold=not args.no_cold, tui=not args.skip_tui, phases=not args.skip_phases,
        presses=args.presses, tui_runs=max(1, args.tui_runs), only=only, profile=profiles,
        regenerate=args.regenerate, fail_on_miss=args.fail_on_miss, extra_args=extra)


def main(argv: list[str] | None = None) -> int:
    args, opts = parse_args(argv)
    if opts is None:
        child_main(args.child[0], Path(args.child[1]), args.presses)
        return 0
    report = run_benchmark(opts)
    text = markdown(report)
    report["markdown"] = text
    opts.results.mkdir(parents=True, exist_ok=True)
    path = opts.results / f"{report['started']}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    print(text)
    progress(f"results: {path}")
    missed = any(r.get("pass") is False for r in report["results"]) or any(
        g["super_linear"] for g in report["growth"])
    return 1 if opts.fail_on_miss and missed else 0


if __name__ == "__main__":
    sys.exit(main())
