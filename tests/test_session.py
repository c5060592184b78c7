"""The coding session behind both interactive modes: changes, undo, moving, resuming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from qcode import Project
from qcode.coding.session import CodingSession, SessionLock
from qcode.errors import QcodeError, UnknownName


def session(project_dir, coder="c", **kwargs) -> CodingSession:
    return CodingSession(Project.open(project_dir.root), coder, **kwargs)


def test_toggle_codes_the_whole_passage_and_toggling_again_removes(project_dir):
    s = session(project_dir, transcripts=["voss-principal"])
    s.goto(0, 1)
    change = s.toggle("ownership")
    assert [c.code for c in change.added] == ["ownership"]
    assert s.codes_on() == ["ownership"]
    events = project_dir.log_lines("c")
    passage = s.passage
    assert (events[0]["start"], events[0]["end"]) == (passage.start, passage.end)
    s.toggle(s.match_code("o").id)  # the shortcut key names the same code
    assert s.codes_on() == []
    assert [e["op"] for e in project_dir.log_lines("c")] == ["add", "remove"]


def test_undo_reverses_the_last_change_append_only_and_returns_to_its_passage(project_dir):
    s = session(project_dir, transcripts=["voss-principal", "lier-teacher"])
    s.goto(0, 1)
    s.set_codes(["ownership", "lead-strong"])
    s.goto(1, 2)
    s.toggle("personal")
    s.set_codes(remove=["personal"])
    assert s.undo() is not None  # re-adds personal on lier-teacher 3
    assert s.codes_on() == ["personal"]
    assert s.undo() is not None  # removes it again
    assert s.codes_on() == []
    assert s.undo() is not None  # removes ownership + lead-strong, back on voss-principal 2
    assert (s.transcript.id, s.passage.number) == ("voss-principal", 2)
    assert s.codes_on() == []
    assert s.undo() is None
    ops = [e["op"] for e in project_dir.log_lines("c")]
    assert ops.count("add") == 4 and ops.count("remove") == 4
    assert Project.open(project_dir.root).codings("c") == []


def test_memo_is_rewritten_as_remove_and_add(project_dir):
    s = session(project_dir, transcripts=["voss-principal"])
    s.goto(0, 3)
    with pytest.raises(QcodeError):
        s.set_memo("nothing coded yet")
    s.toggle("ownership")
    s.set_memo("strong quote")
    assert [c.memo for c in s.codings_on()] == ["strong quote"]
    assert [c.memo for c in Project.open(project_dir.root).codings("c")] == ["strong quote"]
    assert s.set_memo("strong quote").empty


def test_code_part_of_a_passage(project_dir):
    s = session(project_dir, transcripts=["voss-principal"])
    s.goto(0, 1)
    body = s.transcript.body
    start = body.index("for mange lærere")
    s.code_span("lead-strong", start, start + 16)
    [coding] = s.codings_on()
    assert coding.text == "for mange lærere" and not s.is_whole(coding)
    assert s.code_span("lead-strong", start, start + 16).empty  # already there
    s.toggle("lead-strong")  # the whole passage is a different span: added beside it
    assert len(s.codings_on()) == 2


def test_moving_uncoded_and_across_transcripts(project_dir):
    s = session(project_dir)
    assert [t.id for t in s.transcripts] == ["lier-teacher", "strinda-coordinator",
                                             "voss-principal"]
    s.set_codes(["personal"])
    s.advance()
    s.set_codes(["personal"])
    s.goto(0, 0)
    assert s.move_uncoded(1)
    assert (s.transcript.id, s.passage.number) == ("lier-teacher", 3)
    s.set_codes(["personal"])
    s.goto(0, 0)
    assert s.move_uncoded(1)
    assert (s.transcript.id, s.passage.number) == ("strinda-coordinator", 1)
    assert s.move_uncoded(-1) is False  # everything before is coded
    s.goto(2, 3)
    assert not s.advance()
    assert s.back() and s.passage.number == 3


def test_start_at_first_uncoded_and_resume_where_the_coder_stopped(project_dir):
    s = session(project_dir)
    s.start_at_first_uncoded()
    assert (s.transcript.id, s.passage.number) == ("lier-teacher", 1)
    s.goto(1, 2)
    s.toggle("lead-weak")
    again = session(project_dir)
    assert again.resume()
    assert (again.transcript.id, again.passage.number) == ("strinda-coordinator", 3)
    assert again.codes_on() == ["lead-weak"]  # reopening shows what was there


def test_review_walks_only_passages_with_the_code(project_dir):
    s = session(project_dir)
    s.goto(1, 0)
    s.toggle("lead-weak")
    s.goto(2, 3)
    s.toggle("lead-weak")
    review = session(project_dir, review="leadership")  # a folder reviews its children
    assert review.start_review()
    assert (review.transcript.id, review.passage.number) == ("strinda-coordinator", 1)
    assert review.advance()
    assert (review.transcript.id, review.passage.number) == ("voss-principal", 4)
    assert not review.advance()


def test_match_code_accepts_keys_ids_aliases_prefixes_and_clear_fuzzy_matches(project_dir):
    s = session(project_dir)
    assert s.match_code("L").id == "lead-strong"
    assert s.match_code("ownership").id == "ownership"
    assert s.match_code("anchoring").id == "lead-strong"
    assert s.match_code("pers").id == "personal"
    assert s.match_code("ownershp").id == "ownership"
    with pytest.raises(UnknownName) as info:
        s.match_code("lead")  # lead-strong or lead-weak: refused, not guessed
    assert set(info.value.suggestions) >= {"lead-strong", "lead-weak"}
    with pytest.raises(UnknownName):
        s.match_code("x")
    with pytest.raises(QcodeError):
        s.match_code("leadership")  # a folder


def test_a_second_session_for_the_same_coder_is_refused(project_dir):
    project = Project.open(project_dir.root)
    with SessionLock(project, "c"):
        with pytest.raises(QcodeError) as info:
            SessionLock(project, "c").acquire()
        assert "already has a `qcode code` session" in info.value.message
        SessionLock(project, "other").acquire()  # other coders are free
    SessionLock(project, "c").acquire()


HOLDER = """
import sys, time
from qcode import Project
from qcode.coding.session import SessionLock
SessionLock(Project.open(sys.argv[1]), "c").acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_killed_session_leaves_no_stale_lock(project_dir):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(project_dir.root)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    project = Project.open(project_dir.root)
    with pytest.raises(QcodeError):
        SessionLock(project, "c").acquire()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while True:
        try:
            SessionLock(project, "c").acquire()
            break
        except QcodeError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
