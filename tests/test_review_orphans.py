"""`qcode code --review-orphans`: placing by hand what re-anchoring could not."""

from __future__ import annotations

from qcode import Project


def orphan_one(project_dir):
    """Code Strinda's last turn, then rewrite it beyond recognition: an orphan."""
    Project.open(project_dir.root).tag("strinda-coordinator", 3, ["lead-weak"], "c")
    Project.open(project_dir.root).tag("voss-principal", 4, ["ownership"], "c")
    project_dir.replace("transcripts/strinda-coordinator.md", "Det vet ingen. Ærlig talt.",
                        "Vi har en plan for overgangen nå.")
    project_dir.replace("transcripts/voss-principal.md", "«deres» prosjekt",
                        "«deres» eget prosjekt")


def test_placing_an_orphan_on_text_and_dropping(cli, project_dir):
    orphan_one(project_dir)
    result = cli("code", "--coder", "c", "--review-orphans", input="t Vi har en plan\n")
    assert result.exit_code == 0, result.output
    assert "[orphan 1/" in result.stdout and "old text:" in result.stdout
    assert "saved: placed at" in result.stdout
    codings = {c.code: c for c in Project.open(project_dir.root).codings("c")}
    assert codings["lead-weak"].text == "Vi har en plan"
    assert codings["lead-weak"].extra["reanchored_from"]["start"] >= 0


def test_bad_answers_are_asked_again_and_drop_removes(cli, project_dir):
    orphan_one(project_dir)
    result = cli("code", "-c", "c", "--review-orphans", input="t finnes ikke\n99999:100000\nd\n")
    assert "does not occur" in result.stdout and "outside transcript" in result.stdout
    assert "saved: dropped" in result.stdout
    assert "lead-weak" not in {c.code for c in Project.open(project_dir.root).codings("c")}


def test_nothing_to_place(cli):
    result = cli("code", "-c", "c", "--review-orphans", input="")
    assert "nothing to place" in result.stdout


def test_reanchor_waits_for_an_open_coding_session(cli, project_dir):
    from qcode.coding.session import SessionLock

    Project.open(project_dir.root).tag("voss-principal", 4, ["ownership"], "c")
    project_dir.replace("transcripts/voss-principal.md", "I: Og eierskapet?",
                        "I: Og hva med eierskapet?")
    with SessionLock(Project.open(project_dir.root), "c"):
        busy = cli("reanchor")
    assert busy.exit_code == 1 and "open `qcode code` session" in busy.stderr
    assert cli("reanchor").exit_code == 0
    assert cli("check").exit_code == 0
