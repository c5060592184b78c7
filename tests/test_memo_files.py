"""Memos as files (memos/*.md): `qcode memo`, `qcode memos`, the memo rules of `check`,
and memos in `show` and `framework` (docs/format.md, "Memos")."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from qcode import Project
from qcode.errors import QcodeError, UsageError
from qcode.format.memos import MemoAbout, parse_about, parse_memo, render_memo
from qcode.problems import Problems

REPO = Path(__file__).resolve().parents[1]
STAMP = "2026-03-14T09:30:00+00:00"


def memo_file(about: str, text: str = "A note.", **front: str) -> str:
    lines = "".join(f"{k}: {v}\n" for k, v in front.items())
    return f"---\nabout: {about}\n{lines}---\n\n{text}\n"


def check_problems(cli) -> list[dict]:
    result = cli("check", "--format", "json")
    return json.loads(result.stdout)["problems"]


# -- the format ------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind, target, stem", [
    ("transcript:voss-principal", "transcript", "voss-principal", "transcript-voss-principal"),
    ("code:lead-strong", "code", "lead-strong", "code-lead-strong"),
    ("case:school=Voss", "case", "school=Voss", "case-school-Voss"),
    ("case: school = Voss ", "case", "school=Voss", "case-school-Voss"),
    ("case:school=Sør Fron", "case", "school=Sør Fron", "case-school-Sør-Fron"),
    ("project", "project", "", "project"),
])
def test_about_names_a_kind_and_a_target(text, kind, target, stem):
    about = parse_about(text)
    assert (about.kind, about.target, about.file_stem) == (kind, target, stem)
    assert parse_about(str(about)) == about


@pytest.mark.parametrize("text, says", [
    ("transcrip:voss", "did you mean 'transcript'"),
    ("voss-principal", "names no kind"),
    ("code:", "names no code"),
    ("case:Voss", "a case is ATTRIBUTE=VALUE"),
    ("case:school=", "a case is ATTRIBUTE=VALUE"),
])
def test_an_about_that_names_nothing_is_refused(text, says):
    with pytest.raises(UsageError, match=says):
        parse_about(text)


def test_a_rendered_memo_reads_back_as_written():
    about = MemoAbout("case", "school=Voss")
    text = render_memo(about, "a", STAMP, STAMP, "\nFirst line.\n\n---\nA rule, not front matter.\n")
    memo = parse_memo(text, "memos/m.md", problems := Problems())
    assert not problems
    assert memo is not None
    assert (memo.about, memo.author, memo.created, memo.updated, memo.line) == (
        about, "a", STAMP, STAMP, 2)
    assert memo.text == "First line.\n\n---\nA rule, not front matter."


# -- qcode memo ------------------------------------------------------------------------

def test_memo_writes_one_file_per_target_named_after_it(cli, project_dir):
    steps = [("transcript", "voss-principal"), ("code", "lead-strong"),
             ("case", "school=Voss")]
    for kind, target in steps:
        result = cli("memo", kind, target, "--coder", "a", "--text", f"On {target}.")
        assert result.exit_code == 0, result.output
    assert cli("memo", "project", "--coder", "a", "--text", "Overall.").exit_code == 0
    folder = project_dir.root / "memos"
    assert sorted(p.name for p in folder.iterdir()) == [
        "case-school-Voss.md", "code-lead-strong.md", "project.md",
        "transcript-voss-principal.md"]
    text = (folder / "case-school-Voss.md").read_text(encoding="utf-8")
    assert text.startswith("---\nabout: case:school=Voss\nauthor: a\ncreated: ")
    assert text.endswith("---\n\nOn school=Voss.\n")


def test_memo_replaces_the_body_keeps_created_and_a_second_author_gets_a_file(
        cli, project_dir):
    assert cli("memo", "code", "lead-strong", "-c", "a", "-t", "First.").exit_code == 0
    path = project_dir.root / "memos/code-lead-strong.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "created: '", "created: '2020-01-01T00:00:00+00:00' #'"), encoding="utf-8")
    # By alias: the same code, so the same memo.
    result = cli("memo", "code", "anchoring", "-c", "a", "-t", "Second.", "-f", "json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert (written["about"], written["text"], written["created"]) == (
        "code:lead-strong", "Second.", "2020-01-01T00:00:00+00:00")
    assert written["updated"] != written["created"]
    assert cli("memo", "code", "lead-strong", "-c", "b", "-t", "Mine.").exit_code == 0
    names = sorted(p.name for p in (project_dir.root / "memos").iterdir())
    assert names == ["code-lead-strong--b.md", "code-lead-strong.md"]


def test_an_unknown_target_is_refused_with_a_did_you_mean_and_nothing_written(
        cli, project_dir):
    cases = [(("transcript", "voss-principa"), "did you mean 'voss-principal'"),
             (("code", "lead-strog"), "did you mean 'lead-strong'"),
             (("case", "schol=Voss"), "unknown attribute 'schol'; did you mean 'school'"),
             (("case", "school=Vos"), "unknown school value 'Vos'; did you mean 'Voss'")]
    for args, says in cases:
        result = cli("memo", *args, "--coder", "a", "--text", "x")
        assert result.exit_code == 1, result.output
        assert says in result.stderr
    assert cli("memo", "transcript", "--coder", "a", "-t", "x").exit_code == 2
    assert cli("memo", "project", "x", "--coder", "a", "-t", "x").exit_code == 2
    assert cli("memo", "project", "--coder", "a", "-t", "  \n").exit_code == 2
    assert cli("memo", "project", "--coder", "a b", "-t", "x").exit_code == 2
    assert not (project_dir.root / "memos").exists()


def test_memo_reads_standard_input(cli, project_dir):
    result = cli("memo", "transcript", "lier-teacher", "--coder", "a",
                 input="Piped in.\nTwo lines.\n")
    assert result.exit_code == 0, result.output
    assert Project.open(project_dir.root).memos()[0].text == "Piped in.\nTwo lines."


@pytest.fixture
def editor(tmp_path, monkeypatch):
    """$EDITOR as a small script: it appends a line, or exits with the status in
    $EXIT_WITH, or leaves the file alone with $EDIT_NOTHING."""
    script = tmp_path / "editor.sh"
    script.write_text('#!/bin/sh\n[ -n "$EXIT_WITH" ] && exit "$EXIT_WITH"\n'
                      '[ -n "$EDIT_NOTHING" ] && exit 0\necho "Edited." >> "$1"\n',
                      encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.setattr("qcode.cli.output.stdin_is_tty", lambda: True)
    return script


def test_memo_opens_the_editor_on_the_memo_and_saves_what_changed(cli, project_dir,
                                                                  editor, monkeypatch):
    assert cli("memo", "project", "--coder", "a").exit_code == 0
    assert cli("memo", "project", "--coder", "a").exit_code == 0
    assert Project.open(project_dir.root).memos()[0].text == "Edited.\nEdited."
    before = (project_dir.root / "memos/project.md").read_bytes()
    monkeypatch.setenv("EDIT_NOTHING", "1")
    result = cli("memo", "project", "--coder", "a")
    assert result.exit_code == 0 and "unchanged; nothing written" in result.stderr
    monkeypatch.delenv("EDIT_NOTHING")
    monkeypatch.setenv("EXIT_WITH", "3")
    result = cli("memo", "project", "--coder", "a")
    assert result.exit_code == 0 and "exited with status 3" in result.stderr
    assert (project_dir.root / "memos/project.md").read_bytes() == before


def test_a_memo_changed_while_it_was_edited_is_not_overwritten(cli, project_dir,
                                                              tmp_path, monkeypatch):
    assert cli("memo", "project", "--coder", "a", "-t", "Mine.").exit_code == 0
    path = project_dir.root / "memos/project.md"
    script = tmp_path / "meddle.sh"  # the editor; meanwhile someone else saves the file
    script.write_text(f'#!/bin/sh\necho "Edited." >> "$1"\n'
                      f'sed -i "s/Mine./Theirs./" "{path}"\n', encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.setattr("qcode.cli.output.stdin_is_tty", lambda: True)
    result = cli("memo", "project", "--coder", "a")
    assert result.exit_code == 1 and "changed while the memo was being written" in result.stderr
    assert "Theirs." in path.read_text(encoding="utf-8")


# -- qcode memos -----------------------------------------------------------------------

@pytest.fixture
def memos(project_dir):
    project_dir.write("memos/a.md", memo_file("transcript:voss-principal", "On Voss.",
                                              author="a", created=STAMP))
    project_dir.write("memos/sub/b.md", memo_file("code:anchoring", "Alias.", author="b"))
    project_dir.write("memos/c.md", memo_file("case:school=Lier", "Lier case.\nMore."))
    project_dir.write("memos/d.md", memo_file("project", "All of it."))
    project_dir.write("memos/.hidden.md", "not a memo")
    project_dir.write("memos/notes.txt", "not a memo either")
    return project_dir


def test_memos_lists_them_filtered_by_kind_or_target(cli, memos):
    listed = json.loads(cli("memos", "-f", "json").stdout)
    assert [m["file"] for m in listed] == ["memos/a.md", "memos/c.md", "memos/d.md",
                                           "memos/sub/b.md"]
    assert listed[0] == {"about": "transcript:voss-principal", "kind": "transcript",
                         "target": "voss-principal", "author": "a", "created": STAMP,
                         "updated": None, "file": "memos/a.md", "line": 2,
                         "text": "On Voss."}
    by_code = json.loads(cli("memos", "--about", "code:lead-strong", "-f", "json").stdout)
    assert [m["text"] for m in by_code] == ["Alias."]
    cases = json.loads(cli("memos", "--about", "case", "-f", "json").stdout)
    assert [m["target"] for m in cases] == ["school=Lier"]
    assert [m["file"] for m in json.loads(
        cli("memos", "-a", "project", "-f", "json").stdout)] == ["memos/d.md"]
    result = cli("memos", "--about", "cod")
    assert result.exit_code == 2 and "did you mean 'code'" in result.stderr
    result = cli("memos", "--about", "code:nope-strong")
    assert result.exit_code == 1 and "unknown code 'nope-strong'" in result.stderr


def test_memos_as_markdown_and_csv(cli, memos):
    md = cli("memos", "--about", "case", "-f", "md").stdout
    assert md == "## case:school=Lier\n\n*no author, undated* (memos/c.md)\n\nLier case.\nMore.\n"
    csv_lines = cli("memos", "-f", "csv").stdout.splitlines()
    assert csv_lines[0] == "about,author,created,updated,file,text"
    assert len(csv_lines) == 1 + 4 + 1  # a header, four memos, one of them on two lines


# -- qcode check -----------------------------------------------------------------------

def test_check_reports_memo_problems_at_their_lines(cli, project_dir):
    project_dir.write("memos/ok.md", memo_file("code:lead-strong"))
    project_dir.write("memos/target.md", "---\nauthor: a\nabout: transcript:voss-principa\n"
                      "---\nx\n")
    project_dir.write("memos/kind.md", memo_file("transcrpt:voss-principal"))
    project_dir.write("memos/case.md", memo_file("case:school=Vos"))
    project_dir.write("memos/date.md", memo_file("project", created="14.03.2026"))
    project_dir.write("memos/key.md", memo_file("project", autor="a"))
    project_dir.write("memos/none.md", "Just text, no front matter.\n")
    project_dir.write("memos/open.md", "---\nabout: project\n")
    project_dir.write("memos/twice.md", memo_file("code:anchoring"))
    found = {(p["file"], p["line"], p["rule"]): p for p in check_problems(cli)}
    assert set(found) == {
        ("memos/target.md", 3, "memo-about"), ("memos/kind.md", 2, "memo-about"),
        ("memos/case.md", 2, "memo-about"), ("memos/date.md", 3, "memo-date"),
        ("memos/key.md", 3, "memo-unknown-key"), ("memos/none.md", 1, "memo-front-matter"),
        ("memos/open.md", 1, "memo-front-matter"), ("memos/twice.md", 2, "memo-duplicate")}
    assert "did you mean 'voss-principal'" in found[("memos/target.md", 3, "memo-about")][
        "message"]
    assert found[("memos/key.md", 3, "memo-unknown-key")]["hint"] == "did you mean 'author'?"
    assert "memos/ok.md" in found[("memos/twice.md", 2, "memo-duplicate")]["message"]
    assert cli("check").exit_code == 1


def test_an_author_without_a_log_is_a_warning_once_there_are_coders(coded, project_dir,
                                                                     cli):
    project_dir.write("memos/m.md", memo_file("project", author="aa"))
    problems = check_problems(cli)
    assert [(p["rule"], p["severity"], p["hint"]) for p in problems] == [
        ("memo-author-unknown", "warning", "did you mean 'a'?")]
    assert cli("check").exit_code == 0


def test_the_memos_folder_is_configurable_and_must_be_a_folder(cli, project_dir):
    project_dir.replace("qcode.yaml", "codings: codings\n", "codings: codings\nmemos: notes\n")
    assert cli("memo", "project", "-c", "a", "-t", "Here.").exit_code == 0
    assert (project_dir.root / "notes/project.md").is_file()
    project_dir.replace("qcode.yaml", "memos: notes\n", "memos: qcode.yaml\n")
    assert [p["rule"] for p in check_problems(cli)] == ["config-not-a-folder"]
    assert cli("memo", "project", "-c", "a", "-t", "x").exit_code == 1
    project_dir.replace("qcode.yaml", "memos: qcode.yaml\n", "memos: ../elsewhere\n")
    assert "config-path-outside" in [p["rule"] for p in check_problems(cli)]


# -- memos where the data is shown ------------------------------------------------------

def test_show_prints_the_transcript_memos_before_its_passages(cli, memos):
    text = cli("show", "voss-principal").stdout
    assert text.index("memo by a, " + STAMP + " (memos/a.md):\nOn Voss.") < text.index("[1]")
    assert "memo by" not in cli("show", "lier-teacher").stdout
    shown = json.loads(cli("show", "voss-principal", "-f", "json").stdout)
    assert [m["text"] for m in shown["memos"]] == ["On Voss."]
    assert json.loads(cli("show", "lier-teacher", "-f", "json").stdout)["memos"] == []


def test_framework_cells_carry_the_case_memo_and_themes_the_code_memo(coded, memos):
    matrix = coded.framework("school", ["leadership"], coders="a")
    assert matrix.cell("Lier", "lead-weak").memo == "no author: Lier case.\nMore."
    assert matrix.cell("Lier", "lead-strong").memo == "no author: Lier case.\nMore."
    assert matrix.cell("Voss", "lead-strong").memo is None
    assert {t.code: t.memo for t in matrix.themes} == {"lead-strong": "b: Alias.",
                                                       "lead-weak": None}
    by_transcript = coded.framework("transcript", ["ownership"], coders="a")
    assert by_transcript.cell("voss-principal", "ownership").memo == "a: On Voss."
    assert by_transcript.cell("lier-teacher", "ownership").memo is None


# -- the library -----------------------------------------------------------------------

def test_project_writes_and_reads_memos(project_dir):
    project = Project.open(project_dir.root)
    memo = project.write_memo("case", "school=Strinda", "One person carries it.", "a")
    assert (memo.file, memo.about.case) == ("memos/case-school-Strinda.md",
                                            ("school", "Strinda"))
    assert project.memos("case:school=Strinda") == [memo]
    with pytest.raises(QcodeError, match="unknown transcript 'nobody'"):
        project.write_memo("transcript", "nobody", "x", "a")
    assert project.check().ok


def test_the_bundled_study_takes_a_case_memo_into_its_framework(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    for part in ("qcode.yaml", "codebooks", "cases", "transcripts", "codings"):
        source = REPO / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, study / part)
    project = Project.open(study)
    project.write_memo("case", "school=Strinda", "The coordinator works alone.",
                       "consensus")
    assert project.check().ok
    leadership = project.codebook.ids[0]
    matrix = Project.open(study).framework("school", [leadership], coders="consensus")
    memos = {row: matrix.cell(row, matrix.themes[0].code).memo for row in matrix.rows}
    assert memos["Strinda"] == "consensus: The coordinator works alone."
    assert [row for row, memo in memos.items() if memo] == ["Strinda"]


# -- the full-screen coder -------------------------------------------------------------

def coder_app(project_dir, transcripts=("voss-principal", "lier-teacher")):
    from qcode.coding.session import CodingSession
    from qcode.tui import make_app

    project = Project.open(project_dir.root)
    session = CodingSession(project, "c", transcripts=list(transcripts),
                            memos=project.memos())
    session.goto(0, 1)
    return make_app("coder", session=session)


def panel_text(app, panel_id: str) -> tuple[bool, str]:
    panel = app.screen.query_one(f"#{panel_id}")
    return panel.display, str(panel.query_one(f"#{panel_id}-text").render())


def test_ctrl_t_shows_the_transcript_memo_beside_the_text_and_follows_the_transcript(
        memos):
    from conftest import press_keys

    def shown(app):
        return panel_text(app, "transcript-memo")

    assert press_keys(coder_app(memos), inspect=shown)[0][0] is False
    visible, text = press_keys(coder_app(memos), "ctrl+t", inspect=shown)[0]
    assert visible and "Memos on voss-principal" in text and "On Voss." in text
    visible, text = press_keys(coder_app(memos), "ctrl+t", "right_square_bracket",
                               inspect=shown)[0]
    assert "No memo on lier-teacher" in text and "On Voss." not in text
    assert press_keys(coder_app(memos), "ctrl+t", "ctrl+t", inspect=shown)[0][0] is False


def test_the_definition_panel_shows_the_code_memo_under_the_definition(memos):
    from conftest import press_keys

    Project.open(memos.root).tag("voss-principal", 2, ["lead-strong"], "c")
    visible, text = press_keys(coder_app(memos), "right", "d",
                               inspect=lambda app: panel_text(app, "definition"))[0]
    assert visible and text.index("Leaders carry the work.") < text.index("Memos")
    assert "b\nAlias." in text
