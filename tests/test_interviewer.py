"""qcode.yaml `interviewer:`: the coder's walk, J/K and where a session starts pass over
the interviewers' uncoded turns; `qcode check` warns about a label no passage has.

The fixture's passages (file order), `I` being the interviewer:
lier-teacher 1 I, 2 Lærer 1, 3 Lærer 2; strinda-coordinator 1 Koordinator, 2 I,
3 Koordinator; voss-principal 1 I, 2 Rektor, 3 I, 4 Rektor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qcode import Project
from qcode.coding.session import CodingSession

REPO = Path(__file__).resolve().parents[1]


def declare(project_dir, labels: str) -> None:
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + f"interviewer: {labels}\n")


def session(project_dir, **kwargs) -> CodingSession:
    return CodingSession(Project.open(project_dir.root), "c", **kwargs)


def where(s: CodingSession) -> tuple[str, int]:
    return s.transcript.id, s.passage.number


def walk(s: CodingSession, step) -> list[tuple[str, int]]:
    seen = [where(s)]
    while step():
        seen.append(where(s))
    return seen


def test_next_uncoded_and_the_start_pass_over_interviewer_turns(project_dir):
    declare(project_dir, "[I]")
    s = session(project_dir)
    assert s.start_at_first_uncoded() and where(s) == ("lier-teacher", 2)
    assert walk(s, lambda: s.move_uncoded(1)) == [
        ("lier-teacher", 2), ("lier-teacher", 3), ("strinda-coordinator", 1),
        ("strinda-coordinator", 3), ("voss-principal", 2), ("voss-principal", 4)]
    assert walk(s, lambda: s.move_uncoded(-1))[-1] == ("lier-teacher", 2)
    # Asked for, the interviewer's turns are stops again.
    included = session(project_dir, include_interviewer=True)
    included.start_at_first_uncoded()
    assert where(included) == ("lier-teacher", 1)
    assert len(walk(included, lambda: included.move_uncoded(1))) == 10


def test_the_walk_passes_over_uncoded_questions_but_stops_on_a_coded_one(project_dir):
    declare(project_dir, "[I]")
    Project.open(project_dir.root).tag("strinda-coordinator", 2, ["ownership"], "c")
    s = session(project_dir)
    s.goto(0, 0)
    assert s.settle() and where(s) == ("lier-teacher", 2)
    forward = walk(s, s.advance)
    assert forward == [("lier-teacher", 2), ("lier-teacher", 3), ("strinda-coordinator", 1),
                       ("strinda-coordinator", 2), ("strinda-coordinator", 3),
                       ("voss-principal", 2), ("voss-principal", 4)]
    assert walk(s, s.back) == forward[::-1]
    # j/k in the full-screen app read every passage; only the walk passes over.
    s.goto(2, 1)
    assert s.move(1) and where(s) == ("voss-principal", 3)
    # A passage coded meanwhile is no longer uncoded: J passes it, the walk still stops.
    assert s.passed_over(s.passage)
    s.toggle("ownership")
    assert not s.passed_over(s.passage) and s.is_interviewer(s.passage)


def test_labels_match_as_a_speaker_rule_does(project_dir):
    """Whole label, any case, `*` and `?`; one label may be written without brackets."""
    declare(project_dir, '"lærer ?"')
    s = session(project_dir)
    assert s.start_at_first_uncoded() and where(s) == ("lier-teacher", 1)
    assert s.move_uncoded(1) and where(s) == ("strinda-coordinator", 1)
    project_dir.replace("qcode.yaml", 'interviewer: "lærer ?"', "interviewer: [i, Rek*]")
    s = session(project_dir)
    assert [p.number for p in s.transcripts[2].passages if s.is_interviewer(p)] == [1, 2, 3, 4]
    project_dir.replace("qcode.yaml", "interviewer: [i, Rek*]", "interviewer: [Rek]")
    s = session(project_dir)
    assert not any(s.is_interviewer(p) for p in s.transcripts[2].passages)
    project_dir.replace("qcode.yaml", "interviewer: [Rek]", "interviewer:")  # none
    s = session(project_dir)
    assert s.corpus.config.interviewer == [] and s.start_at_first_uncoded()
    assert where(s) == ("lier-teacher", 1)


def test_line_mode_shows_the_question_above_the_answer_and_never_stops_on_it(cli,
                                                                             project_dir):
    declare(project_dir, "[I]")
    result = cli("code", "--plain", "--coder", "c", "voss-principal", input="o\nb\nq\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "passage 1/4" not in out and "passage 3/4" not in out
    assert "[voss-principal] passage 2/4  Rektor\n  | I: Hvordan startet det?\nRektor:" in out
    assert "[voss-principal] passage 4/4  Rektor\n  | I: Og eierskapet?\nRektor:" in out
    assert "saved: +ownership (voss-principal passage 2)" in out
    assert out.count("[voss-principal] passage 2/4") == 2  # b went back over the question
    # --include-interviewer: every turn is a stop, nothing shown twice.
    result = cli("code", "--plain", "--coder", "d", "voss-principal", "--include-interviewer",
                 input="\n\nq\n")
    assert "[voss-principal] passage 1/4  I\nI: Hvordan" in result.stdout
    assert "[voss-principal] passage 3/4  I" in result.stdout
    assert "  | " not in result.stdout


def test_line_mode_without_a_transcript_starts_after_the_questions(cli, project_dir):
    declare(project_dir, "[I]")
    result = cli("code", "--plain", "--coder", "c", input="q\n")
    assert "[lier-teacher] passage 2/3  Lærer 1" in result.stdout


def test_check_warns_about_a_label_no_passage_has(project_dir, cli):
    declare(project_dir, "\n  - I\n  - Intervjuer\n")
    result = cli("check", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    hits = [p for p in report["problems"] if p["rule"] == "config-interviewer-unused"]
    config_lines = project_dir.read("qcode.yaml").splitlines()
    line = config_lines.index("  - Intervjuer") + 1
    assert [(h["file"], h["line"], h["severity"]) for h in hits] == [
        ("qcode.yaml", line, "warning")]
    assert "'Intervjuer'" in hits[0]["message"] and "Koordinator" in hits[0]["hint"]
    assert cli("check", "--strict").exit_code == 1


@pytest.mark.parametrize("value", ['[""]', "[I, {x: 1}]", "5"])
def test_a_bad_interviewer_value_is_a_config_error(project_dir, cli, value):
    declare(project_dir, value)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1, result.output
    rules = {p["rule"] for p in json.loads(result.stdout)["problems"]}
    assert "config-schema" in rules


def test_the_bundled_study_declares_its_interviewer_and_the_walk_skips_every_question():
    project = Project.open(REPO)
    assert project.config.interviewer == ["I"]
    s = CodingSession(project, "someone-new")
    assert s.start_at_first_uncoded()
    stops = walk(s, s.advance)
    questions = sum(p.speaker == "I" for t in project.transcripts for p in t.passages)
    total = sum(len(t.passages) for t in project.transcripts)
    assert questions > 300 and len(stops) == total - questions
    assert not any(s.transcripts[[t.id for t in s.transcripts].index(tid)]
                   .passage(number).speaker == "I" for tid, number in stops)
    assert not any(p.rule == "config-interviewer-unused" for p in project.check().problems)


def places(s: CodingSession, **options) -> set[tuple[str, int]]:
    return {(h.transcript, h.passage) for h in s.search(r"\w+", mode="regex", **options)}


def test_a_sessions_search_leaves_out_the_turns_its_walk_passes_over(project_dir):
    every = places(session(project_dir))
    declare(project_dir, "[I]")
    questions = {("lier-teacher", 1), ("strinda-coordinator", 2), ("voss-principal", 1),
                 ("voss-principal", 3)}
    assert questions <= every
    assert places(session(project_dir)) == every - questions
    assert places(session(project_dir, include_interviewer=True)) == every
    # naming the speaker searches exactly their turns
    assert places(session(project_dir), speakers=["i"]) == questions
