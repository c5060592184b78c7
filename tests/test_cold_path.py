"""The cold path (no ``.qcode/cache``) of a large project: logs decoded in worker processes
(``qcode.store.parallel``) give what one process gives, byte for byte, with and without the
cache; a bad line in a large log keeps its exact file:line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from qcode.cli.app import app
from qcode.format import forking, transcript_files
from qcode.store import parallel

REPO = Path(__file__).resolve().parents[1]

COUNTING = [
    ("check", "--format", "json"),
    ("matrix", "--by", "school", "--all-coders", "-f", "json"),
    ("freq", "--all-coders", "-f", "json"),
    ("cooccur", "--all-coders", "-f", "json"),
    ("segments", "leadership-involved", "--all-coders", "-f", "json"),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project from bench/generate.py (two coders, about 700 codings)."""
    root = tmp_path_factory.mktemp("cold") / "project"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "14", "30", "3",
                    str(root)], check=True, capture_output=True)
    return root


@pytest.fixture
def project(generated: Path, tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(generated, root)
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout


def in_pieces(monkeypatch: pytest.MonkeyPatch, used: list[bool]) -> None:
    """Decode every log of more than 8 KB in 4 KB pieces in worker processes (the
    test runner's own threads aside), noting for each replay whether workers ran."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 8 << 10)
    monkeypatch.setattr(parallel, "PIECE_BYTES", 4 << 10)
    monkeypatch.setattr(parallel, "threading", SimpleNamespace(active_count=lambda: 1))
    monkeypatch.setattr(parallel, "idle_cores", lambda cores: cores)
    real_init = parallel.PieceFeeder.__init__

    def init(self: parallel.PieceFeeder, *args: object) -> None:
        real_init(self, *args)  # type: ignore[arg-type]
        used.append(self.pool is not None)

    monkeypatch.setattr(parallel.PieceFeeder, "__init__", init)


def in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1 << 60)


def outputs(root: Path) -> list[tuple[int, str]]:
    return [run(root, *args) for args in COUNTING]


def cold(root: Path) -> list[tuple[int, str]]:
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    return outputs(root)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
def test_counting_output_is_the_same_cold_in_pieces_warm_and_without_cache(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    in_one_process(monkeypatch)
    with monkeypatch.context() as no_cache:
        no_cache.setenv("QCODE_NO_CACHE", "1")
        reference = outputs(project)
    serial_cold = cold(project)
    used: list[bool] = []
    in_pieces(monkeypatch, used)
    parallel_cold = cold(project)
    assert any(used), "the logs were never decoded in worker processes"
    warm = outputs(project)
    assert (project / ".qcode" / "cache" / "logs").is_dir()
    with monkeypatch.context() as no_cache:
        no_cache.setenv("QCODE_NO_CACHE", "1")
        parallel_no_cache = outputs(project)
    assert reference[0][0] == 0 and json.loads(reference[0][1])["ok"] is True
    assert all(code == 0 and text.strip() for code, text in reference)
    assert serial_cold == reference
    assert parallel_cold == reference
    assert warm == reference
    assert parallel_no_cache == reference


def damage(log: Path) -> dict[str, int]:
    """Break a log in every way a line can be broken, in different pieces; returns the
    line number of each damage."""
    lines = log.read_bytes().split(b"\n")[:-1]
    first = json.loads(lines[0])
    duplicate = dict(json.loads(lines[len(lines) // 4]), id=first["id"])
    removed = json.loads(lines[5])
    wrong_type = dict(json.loads(lines[7]), start="12")
    at = {"corrupt": len(lines) // 3, "invalid": len(lines) // 2,
          "duplicate": 2 * len(lines) // 3, "remove": 3 * len(lines) // 4,
          "torn-middle": 4 * len(lines) // 5}
    inserts = {"corrupt": b"not json at all", "invalid": json.dumps(wrong_type).encode(),
               "duplicate": json.dumps(duplicate).encode(),
               "remove": json.dumps({"op": "remove", "id": removed["id"],
                                     "at": "2024-05-01T10:00:00Z"}).encode(),
               "torn-middle": b'{"op": "add", "id": "cut short'}
    numbers = {}
    for before, name in enumerate(sorted(at, key=at.__getitem__)):
        lines.insert(at[name] + before, inserts[name])  # after the earlier inserts
        numbers[name] = at[name] + before + 1
    numbers["torn-end"] = len(lines) + 1
    log.write_bytes(b"\n".join(lines) + b'\n{"op": "add", "id": "torn at the e')
    return numbers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
def test_a_bad_line_in_a_large_log_keeps_its_line_in_pieces(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    numbers = damage(project / "codings" / "coder-a.jsonl")
    in_one_process(monkeypatch)
    serial = cold(project)
    used: list[bool] = []
    in_pieces(monkeypatch, used)
    in_pieces_cold = cold(project)
    assert any(used)
    assert in_pieces_cold == serial
    warm = outputs(project)
    assert warm == serial
    report = json.loads(in_pieces_cold[0][1])
    found = {(p["rule"], p["line"]) for p in report["problems"]
             if p["file"] == "codings/coder-a.jsonl"}
    assert ("log-invalid-json", numbers["corrupt"]) in found
    assert ("log-invalid-event", numbers["invalid"]) in found
    assert ("log-duplicate-id", numbers["duplicate"]) in found
    assert ("log-torn-line", numbers["torn-middle"]) in found
    assert ("log-torn-line", numbers["torn-end"]) in found
    # The remove took back a coding added in an earlier piece: it is no longer counted.
    assert not any(p["rule"] == "log-remove-unknown" for p in report["problems"])
    texts = {p["line"]: p["message"] for p in report["problems"]
             if p["file"] == "codings/coder-a.jsonl"}
    assert texts[numbers["invalid"]].startswith(f"line {numbers['invalid']}: `start`")


def test_small_logs_and_busy_machines_decode_in_this_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3},
                        raising=False)
    monkeypatch.setattr(parallel.sys, "platform", "linux")
    monkeypatch.setattr(parallel, "threading", SimpleNamespace(active_count=lambda: 1))
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    large = 64 * parallel.PIECE_BYTES
    assert parallel.worker_count(parallel.PARALLEL_MIN_BYTES - 1) == 0
    assert parallel.worker_count(large) == 4
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (4.5, 3.0, 2.0))
    assert parallel.worker_count(large) == 0  # every core busy with other work


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
@pytest.mark.parametrize("failure", ["raises", "read other bytes"])
def test_a_failing_worker_costs_speed_only(project: Path, monkeypatch: pytest.MonkeyPatch,
                                           failure: str) -> None:
    in_one_process(monkeypatch)
    reference = cold(project)
    used: list[bool] = []
    in_pieces(monkeypatch, used)

    def broken(fd: int, offset: int, size: int, index: int, keep_text: bool,
               compare: bool) -> object:
        if failure == "raises":
            raise MemoryError("a worker ran out of memory")
        return 0, ([], {}, [])  # nothing decoded, under a checksum of other bytes

    monkeypatch.setattr(parallel, "_decode_piece", broken)
    assert cold(project) == reference
    assert any(used)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
def test_a_log_that_grew_goes_on_from_its_cache_entry_in_pieces(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = project / "codings" / "coder-a.jsonl"
    original = log.read_bytes()
    grown = b"".join(
        json.dumps(dict(event, id=event["id"] + "-again", start=0,
                        end=len(event["text"]))).encode() + b"\n"
        for event in map(json.loads, original.splitlines()))

    used: list[bool] = []

    def after_growing() -> list[tuple[int, str]]:
        log.write_bytes(original)
        cold(project)  # a cache entry for the log as it was
        with log.open("ab") as handle:
            handle.write(grown)
        used.clear()
        return outputs(project)  # the entry, then the new lines

    in_one_process(monkeypatch)
    reference = after_growing()
    assert json.loads(reference[0][1])["problems"]  # the copies are not at 0:len(text)
    in_pieces(monkeypatch, used)
    assert after_growing() == reference
    assert used[0] is True  # the first command replays the new lines in pieces


def change_transcripts(root: Path) -> None:
    """Edit two transcripts under their codings: in one, a character that a coding covers
    is changed; the other is cut short, so some codings end past the body."""
    coding = json.loads((root / "codings" / "coder-a.jsonl").read_bytes().split(b"\n")[0])
    changed = root / "transcripts" / f"{coding['transcript']}.md"
    text = changed.read_text(encoding="utf-8")
    at = text.index("\n---\n") + 5 + coding["start"]
    changed.write_text(text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1:],
                       encoding="utf-8")
    other = next(p for p in sorted((root / "transcripts").glob("*.md")) if p != changed)
    text = other.read_text(encoding="utf-8")
    other.write_text(text[: len(text) // 2] + "\n", encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
def test_coded_texts_compared_while_decoding_find_what_check_finds(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    change_transcripts(project)
    in_one_process(monkeypatch)
    with monkeypatch.context() as no_cache:
        no_cache.setenv("QCODE_NO_CACHE", "1")
        reference = outputs(project)
    report = json.loads(reference[0][1])
    rules = {p["rule"] for p in report["problems"]}
    assert {"coding-text-mismatch", "coding-span-outside"} <= rules
    assert cold(project) == reference
    used: list[bool] = []
    in_pieces(monkeypatch, used)
    assert cold(project) == reference
    assert any(used)
    assert outputs(project) == reference  # warm: from the cache's digests


def test_a_cold_check_compares_each_coded_text_once(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The texts compared while decoding are not hashed again by check_codings; the ones
    that differ are, and are reported as before."""
    from qcode.store.codings import CodingTable

    change_transcripts(project)
    in_one_process(monkeypatch)
    real = CodingTable.text_matches
    compared: list[bool] = []

    def counted(self: CodingTable, row: int, text: str) -> bool:
        compared.append(real(self, row, text))
        return compared[-1]

    monkeypatch.setattr(CodingTable, "text_matches", counted)
    shutil.rmtree(project / ".qcode", ignore_errors=True)
    code, out = run(project, "check", "--format", "json")
    mismatches = [p for p in json.loads(out)["problems"] if p["rule"] == "coding-text-mismatch"]
    assert code == 1 and mismatches
    assert compared.count(False) == 2 * len(mismatches)  # the check, then the report
    assert compared.count(True) == 0


def transcripts_forked(monkeypatch: pytest.MonkeyPatch, used: list[bool]) -> None:
    """Read the later transcripts of any folder in a forked worker, noting for each
    reading whether a worker ran."""
    monkeypatch.setattr(transcript_files, "FORK_MIN_BYTES", 1)
    monkeypatch.setattr(forking, "threading", SimpleNamespace(active_count=lambda: 1))
    monkeypatch.setattr(forking, "idle_cores", lambda cores: cores)
    monkeypatch.setattr(forking.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    real = transcript_files._later_results

    def later(reader: object, files: list, pool: object, worker: object,
              problems: object) -> object:
        used.append(worker is not None)
        return real(reader, files, pool, worker, problems)  # type: ignore[arg-type]

    monkeypatch.setattr(transcript_files, "_later_results", later)


def break_late_transcripts(root: Path) -> None:
    """Bad files among the last transcripts (the worker's share): a front matter that is
    not closed, bytes that are not UTF-8, an id another file has."""
    files = sorted((root / "transcripts").glob("*.md"))
    files[-1].write_text("---\nid: broken\nschool: x\n", encoding="utf-8")
    files[-2].write_bytes(files[-2].read_bytes().replace(b"a", b"\xff", 1))
    text = files[-3].read_text(encoding="utf-8")
    own = text.split("id: ", 1)[1].split("\n", 1)[0]
    files[-3].write_text(text.replace(f"id: {own}", f"id: {files[0].stem}", 1),
                         encoding="utf-8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
@pytest.mark.parametrize("failure", [None, "raises"])
def test_transcripts_read_by_a_worker_give_what_one_process_gives(
        project: Path, monkeypatch: pytest.MonkeyPatch, failure: str | None) -> None:
    break_late_transcripts(project)
    in_one_process(monkeypatch)
    monkeypatch.setattr(transcript_files, "FORK_MIN_BYTES", 1 << 60)
    with monkeypatch.context() as no_cache:
        no_cache.setenv("QCODE_NO_CACHE", "1")
        reference = outputs(project)
    rules = {p["rule"] for p in json.loads(reference[0][1])["problems"]}
    assert {"transcript-front-matter", "transcript-encoding",
            "transcript-id-duplicate"} <= rules
    used: list[bool] = []
    transcripts_forked(monkeypatch, used)
    if failure:
        def broken(files: list) -> object:
            raise MemoryError("a worker ran out of memory")

        monkeypatch.setattr(transcript_files, "_read_in_worker", broken)
    assert cold(project) == reference
    assert used[0] is True  # the cold command's reading forked a worker
    assert outputs(project) == reference  # warm: from the cache the worker's share made
    in_pieces(monkeypatch, [])
    assert cold(project) == reference  # and with the logs decoded in pieces after it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux")
@pytest.mark.parametrize("child", ["writes", "fails"])
def test_cache_entries_written_by_a_child_change_nothing_but_speed(
        project: Path, monkeypatch: pytest.MonkeyPatch, child: str) -> None:
    from qcode.format import cache

    damage(project / "codings" / "coder-a.jsonl")  # a torn last line: its entry is made first
    in_one_process(monkeypatch)
    reference = cold(project)
    transcripts_forked(monkeypatch, [])  # a core is spare...
    monkeypatch.setattr(transcript_files, "FORK_MIN_BYTES", 1 << 60)  # ...for the cache only
    real_fork, forked = os.fork, []

    def fork() -> int:
        pid = real_fork()
        if pid == 0 and child == "fails":
            os._exit(3)  # the child dies before writing anything
        forked.append(pid)
        return pid

    monkeypatch.setattr(cache.os, "fork", fork)
    shutil.rmtree(project / ".qcode", ignore_errors=True)
    first = run(project, "matrix", "--by", "school", "--all-coders", "-f", "json")
    assert forked, "no child wrote the entries"
    cache.wait_for_writers()
    entries = project / ".qcode" / "cache" / "logs"
    written = sorted(p.name for p in entries.iterdir()) if entries.is_dir() else []
    if child == "writes":
        assert written == ["coder-a.json", "coder-a.rest.json", "coder-b.json",
                           "coder-b.rest.json"]
    else:
        assert written == []
    assert first == reference[1]
    assert outputs(project) == reference
