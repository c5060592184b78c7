"""The installed command ends without the interpreter's teardown (``qcode.cli.entry``):
what a user sees (stdout, stderr, exit status) and what ``atexit`` handlers do are those
of an ordinary exit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# The installed command's script, as pip writes it (its file is named ``qcode``); the same
# code run with ``-c`` is a caller of main(), which gets the ordinary exit.
FAST = "import sys\nfrom qcode.cli.entry import main\nsys.exit(main())\n"
ORDINARY = "-c"


def qcode(root: Path, script: str, *args: str, pipe_to: list[str] | None = None,
          prelude: str = "") -> tuple[int, bytes, bytes]:
    if script == ORDINARY:
        command = [sys.executable, "-c", prelude + FAST, *args]
    else:
        installed = root.parent / "bin" / "qcode"
        installed.parent.mkdir(exist_ok=True)
        installed.write_text(prelude + script, encoding="utf-8")
        command = [sys.executable, str(installed), *args]
    if pipe_to is None:
        done = subprocess.run(command, cwd=root, capture_output=True, check=False)
        return done.returncode, done.stdout, done.stderr
    producer = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    assert producer.stdout is not None and producer.stderr is not None
    consumer = subprocess.run(pipe_to, stdin=producer.stdout, capture_output=True,
                              check=False)
    producer.stdout.close()
    err = producer.stderr.read()
    return producer.wait(), consumer.stdout, err


@pytest.mark.parametrize("args", [
    ("check",),
    ("check", "--format", "json"),
    ("matrix", "--by", "school", "--coder", "a", "-f", "csv"),
    ("matrix", "--by", "no-such-attribute", "--coder", "a"),
    ("no-such-command",),
    ("--version",),
])
def test_output_and_status_are_those_of_an_ordinary_exit(coded: object, project_dir: object,
                                                        args: tuple[str, ...]) -> None:
    root = project_dir.root  # type: ignore[attr-defined]
    (root / "transcripts" / "broken.md").write_text("---\nid: broken\n", encoding="utf-8")
    fast, ordinary = qcode(root, FAST, *args), qcode(root, ORDINARY, *args)
    assert fast == ordinary
    assert fast[1] or fast[2]


def test_a_pipe_closed_early_ends_as_it_did(coded: object, project_dir: object) -> None:
    root = project_dir.root  # type: ignore[attr-defined]
    args = ("segments", "personal", "--all-coders", "-f", "json")
    fast = qcode(root, FAST, *args, pipe_to=["head", "-c", "10"])
    ordinary = qcode(root, ORDINARY, *args, pipe_to=["head", "-c", "10"])
    assert fast == ordinary
    assert len(fast[1]) == 10


def test_atexit_handlers_run_and_nothing_is_torn_down(coded: object, project_dir: object,
                                                     tmp_path: Path) -> None:
    root = project_dir.root  # type: ignore[attr-defined]
    ran, torn_down = tmp_path / "ran", tmp_path / "torn-down"
    prelude = (f"import atexit, pathlib; atexit.register(pathlib.Path({str(ran)!r}).touch)\n"
               "class Kept:\n"
               f"    def __del__(self): pathlib.Path({str(torn_down)!r}).touch()\n"
               "kept = Kept()\n")
    status, out, _ = qcode(root, FAST, "check", prelude=prelude)
    assert status == 0 and out
    assert ran.exists()
    assert not torn_down.exists()  # the interpreter's teardown was skipped
    qcode(root, ORDINARY, "check", prelude=prelude)
    assert torn_down.exists()  # which an ordinary exit does


def test_a_profiled_command_exits_as_usual(coded: object, project_dir: object,
                                           tmp_path: Path) -> None:
    root = project_dir.root  # type: ignore[attr-defined]
    profile = tmp_path / "check.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                           "qcode", "check"], cwd=root, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert profile.stat().st_size > 0  # written after main() returned
