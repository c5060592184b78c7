"""Coding logs: replay, torn lines, durability under concurrent appends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.store.events import add_event, remove_event
from qcode.store.log import CodingLog


def make_log(tmp_path: Path, name: str = "coder-a") -> CodingLog:
    return CodingLog(tmp_path / f"{name}.jsonl", name)


def test_append_then_replay(tmp_path):
    log = make_log(tmp_path)
    first = add_event("t1", 0, 5, "a", "hello", memo="why")
    second = add_event("t1", 6, 9, "b", "you")
    assert log.append([first, second]) == 2
    log.append([remove_event(first["id"])])
    replay = log.replay()
    assert [c.code for c in replay.codings] == ["b"]
    assert replay.events == 3
    assert not replay.problems
    assert replay.codings[0].line == 2


def test_lines_are_complete_json_objects_in_field_order(tmp_path):
    log = make_log(tmp_path)
    log.append([add_event("t", 0, 3, "a", "Blå", memo="m")])
    line = log.path.read_text("utf-8")
    assert line.endswith("\n") and line.count("\n") == 1
    assert list(json.loads(line)) == ["op", "id", "transcript", "start", "end", "code", "text",
                                      "at", "memo"]
    assert "Blå" in line  # readable in diffs, not \u00e5


def test_torn_last_line_is_a_warning_and_never_rewritten(tmp_path):
    log = make_log(tmp_path)
    log.append([add_event("t", 0, 3, "a", "abc")])
    torn = json.dumps(add_event("t", 4, 7, "b", "def"))[:-10]
    with log.path.open("a") as handle:
        handle.write(torn)
    before = log.path.read_bytes()
    replay = log.replay()
    assert [c.code for c in replay.codings] == ["a"]
    [problem] = list(replay.problems)
    assert (problem.rule, problem.severity, problem.line) == ("log-torn-line", "warning", 2)
    assert log.path.read_bytes() == before


def test_append_after_a_torn_line_keeps_both_intact(tmp_path):
    log = make_log(tmp_path)
    with log.path.open("w") as handle:
        handle.write('{"op": "add", "id": "x", "transcr')
    log.append([add_event("t", 0, 3, "a", "abc")])
    lines = log.path.read_text().split("\n")
    assert lines[0] == '{"op": "add", "id": "x", "transcr'
    replay = log.replay()
    assert [c.code for c in replay.codings] == ["a"]
    assert [p.rule for p in replay.problems] == ["log-torn-line"]


def test_invalid_lines_are_errors_with_their_line(tmp_path):
    log = make_log(tmp_path)
    log.path.write_text(
        json.dumps(add_event("t", 0, 1, "a", "x")) + "\n"
        "not json at all\n"
        '{"op": "add", "id": "y"}\n'
        '{"op": "remove", "id": "nope", "at": "2026-01-01T00:00:00Z"}\n'
    )
    rules = [(p.rule, p.line) for p in log.replay().problems]
    assert rules == [("log-invalid-json", 2), ("log-invalid-event", 3),
                     ("log-remove-unknown", 4)]


ops = st.lists(
    st.tuples(st.sampled_from(["add", "remove"]), st.integers(0, 5), st.sampled_from("abc")),
    max_size=40,
)


@given(ops)
@settings(max_examples=60, deadline=None)
def test_replay_matches_a_model(tmp_path_factory, sequence):
    """Any sequence of adds and removes replays to the set a plain model predicts."""
    log = make_log(tmp_path_factory.mktemp("log"))
    model: dict[str, tuple] = {}
    added: list[str] = []
    for op, n, code in sequence:
        if op == "add":
            event = add_event("t", n, n + 1, code, "x")
            model[event["id"]] = (n, code)
            added.append(event["id"])
            log.append([event])
        elif added:
            target = added[n % len(added)]
            log.append([remove_event(target)])
            model.pop(target, None)
    replay = log.replay()
    assert {c.id: (c.start, c.code) for c in replay.codings} == model
    assert all(p.severity == "warning" for p in replay.problems)  # only double removes


WRITER = """
import sys
from pathlib import Path
from qcode.store.log import CodingLog
from qcode.store.events import add_event
log = CodingLog(Path(sys.argv[1]), "c")
for i in range(int(sys.argv[3])):
    log.append([add_event("t", i, i + 1, sys.argv[2], "x" * 2000)])
"""


def test_two_processes_appending_never_interleave_or_lose_lines(tmp_path):
    path = tmp_path / "c.jsonl"
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), code, str(n)])
             for code in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    lines = path.read_text().splitlines()
    assert len(lines) == 2 * n
    events = [json.loads(line) for line in lines]  # every line whole
    assert sorted(e["code"] for e in events) == ["a"] * n + ["b"] * n
    assert not CodingLog(path, "c").replay().problems
