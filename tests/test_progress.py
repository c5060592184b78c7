"""Progress bars: the library's long loops report to a listener (``qcode.progress``); the
CLI draws them with rich on stderr only when it is a terminal and not ``--quiet``."""

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from qcode import Project, progress
from qcode.cli import progress as cli_progress

ARCHIVE = "study.qdpx"


class Recorder(progress.Reporter):
    """Every task started, with the steps it was told of."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []

    def start(self, label, total=None, unit="items"):
        record = {"label": label, "total": total, "unit": unit, "done": 0, "closed": False}
        self.tasks.append(record)
        recorder = self

        class Recorded(progress.Task):
            def step(self, n=1):
                record["done"] += n

            def close(self):
                record["closed"] = True
                assert record in recorder.tasks

        return Recorded()

    def labelled(self, start: str) -> list[dict]:
        return [t for t in self.tasks if t["label"].startswith(start)]


@pytest.fixture
def ruled(coded, project_dir):
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"eier*\"}]\n")
    return project_dir


def no_cache(root: Path) -> None:
    shutil.rmtree(root / ".qcode" / "cache", ignore_errors=True)


# -- the protocol ----------------------------------------------------------------------------

def test_nobody_listening_hands_back_the_items_themselves():
    items = [1, 2, 3]
    assert progress.current() is progress.SILENT
    assert progress.track(items, "counting") is items
    with progress.task("counting", 3) as task:
        assert task is progress.SILENT_TASK


def test_a_tracked_loop_counts_each_item_and_closes_also_when_it_breaks():
    recorder = Recorder()
    with progress.reporting(recorder):
        assert list(progress.track(iter("abcd"), "letters", total=4)) == list("abcd")
        for chunk in progress.track([b"xy", b"zzz"], "bytes", 5, size=len):
            assert chunk
        for n in progress.track(range(10), "broken off"):
            if n == 2:
                break
    assert progress.current() is progress.SILENT  # the listener was for the block only
    letters, sizes, broken = recorder.tasks
    assert (letters["total"], letters["done"], letters["unit"]) == (4, 4, "items")
    assert (sizes["total"], sizes["done"], sizes["unit"]) == (5, 5, "bytes")
    assert (broken["total"], broken["done"], broken["closed"]) == (10, 2, True)
    assert letters["closed"] and sizes["closed"]


# -- the hooks, reached through the command line ---------------------------------------------

def test_a_cold_check_reports_transcripts_read_and_log_bytes_replayed(cli, coded, project_dir):
    no_cache(project_dir.root)
    recorder = Recorder()
    with progress.reporting(recorder):  # CliRunner's stderr is no terminal: ours stays
        assert cli("check").exit_code == 0
    [read] = recorder.labelled("reading transcripts")
    assert read["total"] == read["done"] == 3 and read["closed"]
    replays = recorder.labelled("replaying codings/")
    sizes = {t["label"]: (t["total"], t["done"]) for t in replays}
    for coder in ("a", "b"):
        size = (project_dir.root / "codings" / f"{coder}.jsonl").stat().st_size
        assert sizes[f"replaying codings/{coder}.jsonl"] == (size, size)


@pytest.mark.parametrize(("args", "label", "total"), [
    (["agree", "--ci", "95", "--resamples", "50", "--coder", "a", "--coder", "b"],
     "bootstrapping intervals (50 resamples)", None),
    (["export", "qdpx", "-o", ARCHIVE], "writing codings per transcript", 3),
    (["export", "qdpx", "-o", ARCHIVE], "writing the transcripts into the archive", 3),
    (["autocode", "--dry-run"], "auto-coding transcripts", 3),
    (["reanchor", "--dry-run"], "re-anchoring codings", 3),
    (["report", "-o", "report.html", "--all-coders"], "building the report sections", 5),
])
def test_each_long_command_reports_its_loop(cli, ruled, args, label, total):
    recorder = Recorder()
    with progress.reporting(recorder):
        result = cli(*args)
    assert result.exit_code == 0, result.stderr
    [task] = recorder.labelled(label)
    assert task["closed"] and task["done"] == task["total"]
    if total is not None:
        assert task["total"] == total
    else:  # one step per code agreed on
        assert task["total"] >= 1


def test_import_and_pseudonymise_report_per_file(cli, coded, project_dir, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(4):
        (inbox / f"extra-{n}.txt").write_text(f"I: Spørsmål {n}?\n\nP: Svar {n}.\n", "utf-8")
    key = tmp_path / "key.csv"
    key.write_text("original,replacement,kind\nVoss,[Skole 1],school\n", "utf-8")
    recorder = Recorder()
    with progress.reporting(recorder):
        imported = cli("import", "transcripts", *sorted(map(str, inbox.iterdir())))
        applied = cli("pseudonymise", "apply", "--key", str(key))
    assert imported.exit_code == 0, imported.stderr
    assert applied.exit_code == 0, applied.stderr
    [read] = recorder.labelled("importing transcripts")
    assert read["total"] == read["done"] == 4
    [renamed] = recorder.labelled("pseudonymising transcripts")
    assert renamed["total"] == renamed["done"] == 3 + 4


# -- the bar on a terminal -------------------------------------------------------------------

@pytest.fixture
def terminal(monkeypatch):
    """stderr is a terminal, drawn into a buffer; bars show at once."""
    screen = io.StringIO()
    monkeypatch.setattr(cli_progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(cli_progress, "make_console", lambda: Console(
        file=screen, force_terminal=True, width=120, color_system=None))
    monkeypatch.setattr(cli_progress, "SHOW_AFTER", 0.0)
    return screen


def test_on_a_terminal_a_bar_shows_what_is_done_of_how_many(cli, coded, project_dir, terminal):
    quiet = cli("check")
    no_cache(project_dir.root)
    result = cli("check")
    assert result.exit_code == 0
    drawn = terminal.getvalue()
    assert "reading transcripts" in drawn
    assert "3/3" in drawn  # items done of the total, at the end
    assert "/s " in drawn and " left" in drawn  # the rate and the time left
    assert "replaying codings/a.jsonl" in drawn
    assert result.stdout == quiet.stdout  # the bar never reaches the data


def test_quiet_draws_no_bar(cli, coded, project_dir, terminal):
    no_cache(project_dir.root)
    assert cli("--quiet", "check").exit_code == 0
    no_cache(project_dir.root)
    assert cli("-q", "export", "qdpx", "-o", ARCHIVE).exit_code == 0
    assert terminal.getvalue() == ""


def test_the_full_screen_app_gets_no_bar(monkeypatch):
    from qcode import tui

    seen = []

    class App:
        crash = None

        def run(self):
            seen.append(progress.current())

    monkeypatch.setattr(tui, "make_app", lambda screen, **state: App())
    with progress.reporting(Recorder()):
        tui.run_app("coder")
    assert seen == [progress.SILENT]


# -- piped: byte for byte the same -----------------------------------------------------------

COMMANDS = [
    ["check"],
    ["matrix", "--by", "school", "--format", "json"],
    ["agree", "--ci", "95", "--resamples", "50", "--coder", "a", "--coder", "b"],
    ["autocode", "--dry-run"],
    ["reanchor", "--dry-run"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_piped_output_is_the_same_with_and_without_progress(cli, ruled, monkeypatch, args):
    monkeypatch.setattr(cli_progress, "SHOW_AFTER", 0.0)  # a bar would show at once
    no_cache(ruled.root)
    with_bars = cli(*args)
    no_cache(ruled.root)
    without = cli("--quiet", *args)
    assert (with_bars.exit_code, with_bars.stdout_bytes, with_bars.stderr_bytes) == (
        without.exit_code, without.stdout_bytes, without.stderr_bytes)


def test_a_real_pipe_gets_nothing_on_stderr(cli, coded, project_dir):
    no_cache(project_dir.root)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-m", "qcode", "check"], cwd=project_dir.root,
                          capture_output=True, env=env, timeout=120, check=False)
    assert done.returncode == 0
    assert done.stderr == b""
    assert done.stdout == cli("check").stdout_bytes != b""


def test_a_project_opened_from_python_reports_to_its_own_listener(coded, project_dir):
    no_cache(project_dir.root)
    recorder = Recorder()
    with progress.reporting(recorder):
        Project.open(project_dir.root).check()
    assert recorder.labelled("reading transcripts")
