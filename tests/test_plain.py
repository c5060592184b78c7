"""`qcode code --plain`: line mode driven by stdin, and durability under kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from qcode import Project


def plain(cli, *args, input):
    return cli("code", "--plain", "--coder", "c", *args, input=input)


def test_answers_are_saved_and_the_session_moves_on(cli, project_dir):
    result = plain(cli, "voss-principal", input="\nownership, L\n.\no\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[voss-principal] passage 1/4  I" in out
    assert "saved: +ownership +lead-strong (voss-principal passage 2)" in out
    assert "saved: +ownership (voss-principal passage 4)" in out
    assert "end: no more passages" in out
    codings = Project.open(project_dir.root).codings("c")
    assert sorted(c.code for c in codings) == ["lead-strong", "ownership", "ownership"]


def test_unknown_and_ambiguous_answers_are_asked_again(cli, project_dir):
    result = plain(cli, "voss-principal", input="lead\nownershp\nq\n")
    assert "error: unknown code 'lead'; did you mean" in result.stdout
    assert "saved: +ownership" in result.stdout  # a clear fuzzy match is taken
    assert [c.code for c in Project.open(project_dir.root).codings("c")] == ["ownership"]


def test_remove_back_undo_memo_help_and_quit(cli, project_dir):
    answers = "\n".join([
        "o p",          # passage 1: ownership + personal
        "b",            # back to passage 1
        "-p",           # remove personal, move to 2
        "u",            # undo that: personal back, cursor on passage 1
        "m clear case", # memo on passage 1's codings
        "?",
        "q",
    ]) + "\n"
    result = plain(cli, "strinda-coordinator", input=answers)
    assert result.exit_code == 0, result.output
    assert "undone: +personal" in result.stdout
    assert "saved memo" in result.stdout and "-CODE" in result.stdout
    assert "quit: 2 answers saved" in result.stdout
    codings = Project.open(project_dir.root).codings("c")
    assert sorted((c.code, c.memo) for c in codings) == [("ownership", "clear case"),
                                                        ("personal", "clear case")]


def test_without_transcript_it_starts_at_the_first_uncoded_passage(cli, project_dir):
    Project.open(project_dir.root).tag("lier-teacher", 1, ["personal"], "c")
    Project.open(project_dir.root).tag("lier-teacher", 2, ["personal"], "c")
    result = plain(cli, input="q\n")
    assert "[lier-teacher] passage 3/3  Lærer 2" in result.stdout


def test_end_of_input_ends_cleanly(cli):
    result = plain(cli, "voss-principal", input="o\n")
    assert result.exit_code == 0
    assert "end of input: 1 answers saved" in result.stdout


def test_a_second_session_of_the_same_coder_is_refused(cli, project_dir):
    from qcode.coding.session import SessionLock

    with SessionLock(Project.open(project_dir.root), "c"):
        result = plain(cli, input="q\n")
    assert result.exit_code == 1
    assert "already has a `qcode code` session open" in result.stderr


def test_review_and_compare(cli, project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 4, ["ownership"], "c")
    project.tag("voss-principal", 4, ["personal"], "other")
    result = cli("code", "--plain", "-c", "c", "--review", "ownership", "--compare", "other",
                 input="q\n")
    assert "[voss-principal] passage 4/4  Rektor" in result.stdout
    assert "other: personal" in result.stdout


def test_killing_a_session_loses_no_saved_answer(project_dir):
    """kill -9 after some answers: every answered passage is in the log, and no line is
    torn except possibly the last."""
    env = {**os.environ, "QCODE_PROJECT": str(project_dir.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qcode", "code", "--plain", "--coder", "k", "voss-principal"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
    answered = []
    for passage, answer in ((1, "o"), (2, "L W"), (3, "p")):
        proc.stdin.write(answer + "\n")
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            assert line, "the session ended early"
            if "saved: " in line:
                answered.append(passage)
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    lines = (project_dir.root / "codings" / "k.jsonl").read_text().splitlines()
    for line in lines[:-1]:
        json.loads(line)
    codings = Project.open(project_dir.root).codings("k")
    transcript = Project.open(project_dir.root).transcript("voss-principal")
    coded = {transcript.passage_at(c.start).number for c in codings}
    assert coded == set(answered) == {1, 2, 3}


def test_a_code_may_take_b_and_line_mode_moves_with_colon_commands(cli, project_dir):
    """`b` is free for a code's shortcut (only the full-screen keys are reserved); in line
    mode the code's key wins and `:back` goes back."""
    project_dir.replace("codebooks/codes.yaml", "    key: o\n", "    key: b\n")
    assert cli("check").exit_code == 0, cli("check").output
    result = plain(cli, "voss-principal", input=".\nb\n:back\n:back\n:next\nq\n")
    assert result.exit_code == 0, result.output
    assert "saved: +ownership (voss-principal passage 2)" in result.stdout
    assert result.stdout.count("[voss-principal] passage 2/4") == 3  # shown, back, :next
    assert [c.code for c in Project.open(project_dir.root).codings("c")] == ["ownership"]


def test_a_numbered_answer_must_be_for_the_passage_shown(cli, project_dir):
    # An answers file that slipped by a line: passage 2's answer arrives at passage 1.
    result = plain(cli, "voss-principal", input="2: o\n1:\n2: o\n3:\n4: p\nq\n")
    assert "error: this answer is for passage 2, but the session is at passage 1" \
        in result.stdout
    codings = Project.open(project_dir.root).codings("c")
    assert sorted((c.code, project_dir.root.name) for c in codings) == [
        ("ownership", "study"), ("personal", "study")]


def test_after_the_last_passage_b_and_a_memo_still_work(cli, project_dir):
    result = plain(cli, "voss-principal", input=".\n.\n.\no\nm the end\nb\nx\nq\n")
    assert "end: no more passages" in result.stdout
    assert "saved memo" in result.stdout
    assert "error: past the last passage" not in result.stdout
    [coding] = Project.open(project_dir.root).codings("c")
    assert (coding.code, coding.memo) == ("ownership", "the end")
    late = plain(cli, "voss-principal", input=".\n.\n.\n.\n.\np\nq\n")
    assert "error: past the last passage; nothing saved" in late.stdout
