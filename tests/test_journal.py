"""Several files replaced or removed as one (qcode.store.journal): wholly old or wholly new
after a crash at any moment, kill -9 included."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qcode.errors import UnsafePath
from qcode.store.journal import JOURNAL_DIR, Transaction, recover

REPO = Path(__file__).resolve().parents[1]
NAMES = [f"file{i}.txt" for i in range(6)]


def _old(name: str) -> bytes:
    return f"old {name}\n".encode() * 200


def _new(name: str) -> bytes:
    return f"new {name}\n".encode() * 300


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir(parents=True)
    for name in NAMES:
        (root / name).write_bytes(_old(name))
    (root / "gone.txt").write_bytes(b"to be removed\n")
    return root


def test_commit_replaces_and_removes_and_keeps_modes(tmp_path: Path) -> None:
    root = _project(tmp_path)
    os.chmod(root / NAMES[0], 0o600)
    with Transaction(root, "test") as tx:
        tx.replace(root / NAMES[0], _new(NAMES[0]))
        tx.replace(Path("sub/fresh.txt"), lambda handle: handle.write(b"streamed"))
        tx.remove(root / "gone.txt")
        assert (root / NAMES[0]).read_bytes() == _old(NAMES[0])  # nothing before commit
        assert tx.commit() == [NAMES[0], "sub/fresh.txt", "gone.txt"]
    assert (root / NAMES[0]).read_bytes() == _new(NAMES[0])
    assert stat.S_IMODE(os.stat(root / NAMES[0]).st_mode) == 0o600
    assert (root / "sub/fresh.txt").read_bytes() == b"streamed"
    assert not (root / "gone.txt").exists()
    assert not (root / JOURNAL_DIR).exists() or not any((root / JOURNAL_DIR).iterdir())


def test_leaving_without_commit_changes_nothing(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with pytest.raises(RuntimeError), Transaction(root, "test") as tx:
        tx.replace(root / NAMES[0], b"x")
        tx.remove(root / "gone.txt")
        raise RuntimeError("boom")
    assert (root / NAMES[0]).read_bytes() == _old(NAMES[0])
    assert (root / "gone.txt").exists()
    assert not any((root / JOURNAL_DIR).iterdir())


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/passwd", ".qcode/journal/x"])
def test_paths_outside_the_project_are_refused(tmp_path: Path, path: str) -> None:
    root = _project(tmp_path)
    with pytest.raises(UnsafePath):
        Transaction(root, "test").replace(Path(path), b"x")


def test_a_link_out_of_the_project_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath):
        Transaction(root, "test").replace(root / "link" / "f.txt", b"x")


def test_recover_discards_an_uncommitted_journal(
        tmp_path: Path) -> None:
    root = _project(tmp_path)
    staged = Transaction(root, "abandoned")
    staged.replace(root / NAMES[0], b"never")
    staged._close(delete=False)  # as if the process died before the manifest
    assert recover(root) == []
    assert (root / NAMES[0]).read_bytes() == _old(NAMES[0])
    assert not (root / JOURNAL_DIR).exists()


def test_recover_leaves_a_live_transaction_alone(tmp_path: Path) -> None:
    root = _project(tmp_path)
    live = Transaction(root, "live")
    live.replace(root / NAMES[0], _new(NAMES[0]))
    script = f"from qcode.store.journal import recover; print(recover({str(root)!r}))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src")}, check=True)
    assert out.stdout.strip() == "[]"
    live.commit()  # its staged file was not taken away
    assert (root / NAMES[0]).read_bytes() == _new(NAMES[0])


# A writer whose every rename is slowed down, so a kill lands between two of them (and
# anywhere else: staging, the manifest, the deletion of the journal).
_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    real = os.replace
    def slow(a, b):
        real(a, b)
        time.sleep(0.004)
    os.replace = slow
    from qcode.store.journal import Transaction
    root = Path(sys.argv[1])
    names = sys.argv[2:]
    tx = Transaction(root, "kill test")
    for name in names:
        tx.replace(root / name, (f"new {name}\\n" * 300).encode())
    tx.remove(root / "gone.txt")
    print("staged", flush=True)
    time.sleep(0.02)
    tx.commit()
    print("done", flush=True)
""")


def test_sigkill_at_any_moment_leaves_the_files_wholly_old_or_wholly_new(
        tmp_path: Path) -> None:
    rng = random.Random(23)
    outcomes = set()
    for run in range(15):
        root = _project(tmp_path / f"run{run}")
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(root), *NAMES],
                                env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        if run % 3:
            assert proc.stdout.readline().strip() == "staged"
            time.sleep(rng.uniform(0.01, 0.06))  # just before or during the commit
        else:
            time.sleep(rng.uniform(0.05, 0.4))  # while starting, staging or committing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if recover(root):
            outcomes.add("finished by recover")
        states = {name: ("old" if (root / name).read_bytes() == _old(name) else
                         "new" if (root / name).read_bytes() == _new(name) else "mixed")
                  for name in NAMES}
        states["gone.txt"] = "old" if (root / "gone.txt").exists() else "new"
        assert "mixed" not in states.values(), states
        assert len(set(states.values())) == 1, f"run {run}: {states}"
        outcomes.add(states[NAMES[0]])
        assert not (root / JOURNAL_DIR).exists()
    # The kills landed on both sides of the commit point, and at least once half way
    # through the renames (recover had something to finish).
    assert outcomes == {"old", "new", "finished by recover"}
