"""The benchmark harness (bench/run.py): a tiny run end to end, and its verdicts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "bench" / "run.py"
PRESSES = 3


def load_run_module():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = load_run_module()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "20", "--runs", "1", "--codings-per-transcript",
         "10", "--words", "300", "--no-cold", "--presses", str(PRESSES), "--tui-runs", "1",
         "--projects-dir", str(tmp / "projects"), "--results-dir", str(tmp / "results")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    [result_file] = (tmp / "results").glob("*.json")
    return json.loads(result_file.read_text("utf-8")), done.stdout, tmp


@pytest.mark.slow
def test_tiny_run_measures_every_command(tiny_run):
    report, stdout, tmp = tiny_run
    project = tmp / "projects" / "20-10-1-w300"
    logs = [project / "codings" / f"{coder}.jsonl" for coder in ("coder-a", "coder-b")]
    codings = sum(log.read_bytes().count(b"\n") for log in logs)
    assert report["projects"] == [{"transcripts": 20, "codings": codings,
                                   "path": str(project)}]
    assert codings == 20 * 10  # generate.py: CODINGS_PER_TRANSCRIPT per transcript

    by_command = {r["command"]: r for r in report["results"]}
    assert list(by_command) == [c.id for c in bench.COMMANDS]
    for command_id, record in by_command.items():
        if command_id == "autocode" and record["status"] == "n/a":
            continue  # not built yet in this qcode: reported, not a crash
        assert record["status"] == "ok", record
        assert 0 < record["min_s"] <= record["median_s"] <= record["max_s"] < 120
        assert 5 < record["peak_mb"] < 2048  # an interpreter at least, and not runaway
        if command_id == "help":
            assert record["transcripts"] is None and "s_per_1000" not in record
        else:
            assert record["transcripts"] == 20 and record["codings"] == codings
            assert record["s_per_1000"] == pytest.approx(record["median_s"] / 20 * 1000)
    assert by_command["check"]["stdout_bytes"] > 0
    assert by_command["help"]["pass"] is (by_command["help"]["median_s"] <= 0.15)
    # Targets are judged at 1,000 transcripts only.
    assert by_command["check"]["pass"] is None

    [tui] = report["tui"]
    assert tui["status"] == "ok", tui
    assert tui["events_saved"] == PRESSES  # every toggle was appended to the log
    assert tui["passages"] > 0 and tui["open_cold_s"] > 0
    assert tui["toggle_median_ms"] > 0 and tui["next_median_ms"] > 0
    assert not (tmp / "projects" / "scratch").exists() or not any(
        (tmp / "projects" / "scratch").iterdir())  # the coding copy is gone
    # The benchmark's own project is untouched by the coder: still 10 codings a transcript.
    assert sum(log.read_bytes().count(b"\n") for log in logs) == codings

    [phases] = report["phases"]
    assert phases["errors"] == {}
    assert set(phases["seconds"]) >= {"Project.open", "check() (fresh project)",
                                      "matrix --by school", "cooccur"}

    machine = report["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["python"]
    assert "| command | transcripts |" in stdout
    for command in bench.COMMANDS:
        assert f"`{command.shown}`" in stdout
    assert machine["cpu"] in stdout


def test_unknown_command_is_reported_as_not_available(tmp_path):
    """A command the installed qcode lacks is n/a, not a crash (autocode in older builds)."""
    missing = bench.Command("no-such", ("no-such-command", "--dry-run"))
    opts = bench.parse_args(["--sizes", "1"])[1]
    assert not bench.available(opts, missing, tmp_path, bench.child_env(), {})
    assert bench.available(opts, bench.COMMANDS[0], tmp_path, bench.child_env(), {})


def record(command, n, median, peak=100.0, target=None):
    return {"command": command, "transcripts": n, "status": "ok", "median_s": median,
            "peak_mb": peak, "target_s": target}


def test_targets_are_judged_at_1000_transcripts_on_time_and_memory():
    cases = [
        (record("matrix", 1000, 1.4, target=1.5), True),
        (record("matrix", 1000, 1.6, target=1.5), False),
        (record("matrix", 1000, 1.4, peak=1100, target=1.5), False),  # over 1 GB
        (record("agree", 1000, 30.0), True),  # no time target: memory only
        (record("matrix", 100, 9.0, target=1.5), None),  # another size: not judged
        (record("help", None, 0.2, peak=20, target=0.15), False),  # --help: any size
        ({**record("check", 1000, 1.0, target=2.0), "status": "error"}, None),
    ]
    for rec, expected in cases:
        bench.judge(rec)
        assert rec["pass"] is expected, rec


def test_growth_flags_more_than_linear_from_1000_to_5000():
    results = [record("check", 100, 0.5), record("check", 1000, 2.0),
               record("check", 5000, 11.1),  # 5.55× for 5× the transcripts
               record("matrix", 1000, 1.0), record("matrix", 5000, 5.5),  # 5.5×: allowed
               {**record("cooccur", 1000, 1.0), "status": "error"},
               record("cooccur", 5000, 50.0)]
    rows = {(r["command"], r["from"], r["to"]): r
            for r in bench.growth(results, [100, 1000, 5000])}
    assert set(rows) == {("check", 100, 1000), ("check", 1000, 5000), ("matrix", 1000, 5000)}
    assert rows["check", 100, 1000]["ratio"] == pytest.approx(4.0)
    assert not rows["check", 100, 1000]["super_linear"]  # limit 11
    assert rows["check", 1000, 5000]["ratio"] == pytest.approx(5.55)
    assert rows["check", 1000, 5000]["super_linear"]
    assert rows["check", 1000, 5000]["limit"] == pytest.approx(5.5)
    assert not rows["matrix", 1000, 5000]["super_linear"]


def test_peak_memory_is_the_childs_not_the_benchmarks(tmp_path):
    """ru_maxrss of a forked child counts its parent's memory; the harness spawns from a
    small interpreter so a small command reads small even when the harness is large."""
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page
    small = bench.measure([sys.executable, "-S", "-c", "pass"], tmp_path, bench.child_env(),
                          60)
    big = bench.measure([sys.executable, "-S", "-c", "b = bytearray(200 * 2**20); "
                         "b[::4096] = b'1' * len(b[::4096])"], tmp_path, bench.child_env(), 60)
    del ballast
    assert small.ok and big.ok
    assert small.peak_mb < 50
    assert 200 < big.peak_mb < 300
    assert 0 < small.wall_s < big.wall_s + 1


def test_projects_are_made_once_and_again_when_the_generator_inputs_change(tmp_path,
                                                                           monkeypatch):
    root, codings = bench.ensure_project(tmp_path, 3, 4, 7, 50, regenerate=False)
    assert root == tmp_path / "3-4-7-w50" and codings == 3 * 4
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    marker = root / "left-by-the-test"
    marker.write_text("x")
    again, _ = bench.ensure_project(tmp_path, 3, 4, 7, 50, regenerate=False)
    assert again == root and marker.exists()  # reused as it was
    # A changed codebook or generator makes the project anew (same content: deterministic).
    monkeypatch.setattr(bench, "generator_inputs", lambda: "changed")
    bench.ensure_project(tmp_path, 3, 4, 7, 50, regenerate=False)
    assert not marker.exists()
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob("*.partial-*"))
