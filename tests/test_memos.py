"""Memos as text: on one coding (not every coding of the passage), several lines kept,
shown by `qcode show` and `qcode segments`, written from line mode."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.errors import QcodeError, UnknownName


def session(project_dir, coder="c") -> CodingSession:
    s = CodingSession(Project.open(project_dir.root), coder, ["voss-principal"])
    s.goto(0, 1)  # passage 2, Rektor
    return s


def by_code(codings) -> dict:
    return {c.code: c for c in codings}


def test_a_memo_on_one_coding_leaves_the_other_codings_of_the_passage(project_dir):
    s = session(project_dir)
    s.set_codes(["ownership", "lead-strong"])
    target = by_code(s.codings_on())["ownership"]
    change = s.set_coding_memo(target.id, "the clearest case")
    assert [c.id for c in change.removed] == [target.id]
    now = by_code(Project.open(project_dir.root).codings("c"))
    assert (now["ownership"].memo, now["lead-strong"].memo) == ("the clearest case", None)
    assert (now["ownership"].start, now["ownership"].end) == (target.start, target.end)
    assert [(e["op"], e.get("code")) for e in project_dir.log_lines("c")[2:]] == [
        ("remove", None), ("add", "ownership")]
    assert s.set_coding_memo(now["ownership"].id, "the clearest case").empty
    with pytest.raises(UnknownName):
        s.set_coding_memo(target.id, "gone: it was replaced")


def test_a_memo_keeps_its_lines_and_the_log_one_line_per_event(project_dir):
    s = session(project_dir)
    s.toggle("ownership")
    [coding] = s.codings_on()
    s.set_coding_memo(coding.id, "First point.\r\n  - an indented second line   \n\n")
    [memo] = [c.memo for c in Project.open(project_dir.root).codings("c")]
    assert memo == "First point.\n  - an indented second line"
    log = (project_dir.root / "codings" / "c.jsonl").read_text("utf-8")
    assert len(log.splitlines()) == 3 and '"memo": "First point.\\n  - an' in log
    [coding] = s.codings_on()
    s.set_coding_memo(coding.id, "  \n ")  # blank: the memo is removed
    assert [c.memo for c in Project.open(project_dir.root).codings("c")] == [None]


def test_rewriting_a_memo_keeps_the_coded_text_and_unknown_fields_and_undo_restores(
        project_dir, cli):
    """The coding goes back exactly as it was, but for the memo: its logged text (here
    no longer the transcript's, which check must still report) and fields qcode does
    not know."""
    project_dir.append_log("c", {
        "op": "add", "id": "e1", "transcript": "voss-principal", "start": 25, "end": 31,
        "code": "ownership", "text": "Rektr:", "at": "2026-01-01T00:00:00Z",
        "memo": "old", "suggestion": {"rule": "match hadde"}})
    assert Project.open(project_dir.root).codings("c")  # the session reads it from the cache
    s = session(project_dir)
    s.set_coding_memo("e1", "new")
    [again] = Project.open(project_dir.root).codings("c")
    assert (again.text, again.memo, again.extra) == ("Rektr:", "new",
                                                     {"suggestion": {"rule": "match hadde"}})
    assert "coding-text-mismatch" in cli("check").stdout
    assert s.undo() is not None
    [back] = Project.open(project_dir.root).codings("c")
    assert (back.text, back.memo, back.extra) == ("Rektr:", "old",
                                                  {"suggestion": {"rule": "match hadde"}})


def test_a_coding_removed_by_another_command_meanwhile_is_refused(project_dir):
    s = session(project_dir)
    s.toggle("ownership")
    [coding] = s.codings_on()
    Project.open(project_dir.root).untag("voss-principal", 2, ["ownership"], "c")
    before = project_dir.log_lines("c")
    with pytest.raises(QcodeError, match="changed in another command"):
        s.set_coding_memo(coding.id, "too late")
    assert project_dir.log_lines("c") == before


def test_set_memo_for_one_code_of_the_passage(project_dir):
    s = session(project_dir)
    s.set_codes(["ownership", "lead-strong"])
    s.set_memo("only this one", code="o")
    assert {c.code: c.memo for c in s.codings_on()} == {"ownership": "only this one",
                                                        "lead-strong": None}
    with pytest.raises(QcodeError, match="no coding of 'personal'"):
        s.set_memo("x", code="personal")


def test_show_prints_each_memo_under_its_passage_and_json_carries_it(project_dir, cli):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "c", memo="Two lines:\n  the second")
    project.tag("voss-principal", 2, ["lead-strong"], "c")
    body = project.transcript("voss-principal").body
    start = body.index("for mange lærere")
    project.tag("voss-principal", (start, start + 16), ["lead-weak"], "c", memo="partial")
    result = cli("show", "voss-principal", "--coder", "c")
    assert result.exit_code == 0, result.output
    passage = result.stdout.split("[2] Rektor")[1].split("[3]")[0]
    assert passage.rstrip("\n").endswith(
        "etter hvert.\n  memo on ownership: Two lines:\n      the second\n"
        "  memo on ~lead-weak: partial")
    assert "memo on lead-strong" not in passage
    data = json.loads(cli("show", "voss-principal", "--coder", "c", "-f", "json").stdout)
    codes = {c["code"]: c["memo"] for c in data["passages"][1]["codes"]}
    assert codes == {"ownership": "Two lines:\n  the second", "lead-strong": None,
                     "lead-weak": "partial"}


def test_segments_keep_a_memos_lines_in_every_format(project_dir, cli):
    Project.open(project_dir.root).tag("voss-principal", 2, ["ownership"], "c",
                                       memo="one\ntwo\r# not a heading")
    rows = list(csv.DictReader(io.StringIO(cli("segments", "ownership", "-f", "csv").stdout)))
    assert rows[0]["memo"] == "one\ntwo\r# not a heading"
    lone = Project.open(project_dir.root)
    lone.tag("voss-principal", 4, ["ownership"], "c", memo="old Mac\rline end")
    csv_text = cli("segments", "ownership", "-f", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(csv_text, newline="")))
    assert [r["memo"] for r in rows] == ["one\ntwo\r# not a heading", "old Mac\rline end"]
    assert csv_text.endswith(',c,"old Mac\rline end",Voss,principal,372,mature\n')
    markdown = cli("segments", "ownership", "-f", "md").stdout
    assert "; memo: one<br>two<br># not a heading\n" in markdown
    assert "\n# not a heading" not in markdown and "\r" not in markdown
    page = cli("segments", "ownership", "-f", "html").stdout
    assert "; memo: one<br>\ntwo<br>\n# not a heading</cite>" in page
    table = cli("segments", "ownership", "-f", "table").stdout
    assert "memo: one\n      two" in table


# -- line mode ---------------------------------------------------------------------------------

def plain(cli, answers: list[str], coder="c"):
    return cli("code", "--plain", "--coder", coder, "voss-principal",
               input="\n".join(answers) + "\n")


def memos(project_dir, coder="c") -> dict:
    return {c.code: c.memo for c in Project.open(project_dir.root).codings(coder)}


def test_line_mode_memo_on_one_code_and_on_every_code(cli, project_dir):
    result = plain(cli, ["", "o L", "b", "m o: only ownership", "m Note: on both", "q"])
    assert result.exit_code == 0, result.output
    assert "saved memo on ownership" in result.stdout
    assert memos(project_dir) == {"ownership": "Note: on both", "lead-strong": "Note: on both"}
    result = plain(cli, ["", "m L: strong", "m o:", "b", "", "q"])
    assert memos(project_dir) == {"ownership": None, "lead-strong": "strong"}
    # Shown under the codes when the passage comes back.
    assert "codes: lead-strong, ownership\nmemo on lead-strong: strong\n" in result.stdout
    result = plain(cli, ["", "m personal: not here", "q"])
    assert "error: this passage has no coding of 'personal'" in result.stdout


def test_line_mode_memo_of_several_lines(cli, project_dir):
    result = plain(cli, ["", "o L", "b",
                         "m o: <<", "First line", "  indented: kept", "", "last", ".",
                         "m <<", "on both", " . ", "q"])
    assert result.exit_code == 0, result.output
    assert "memo: type its lines, then a line holding only ." in result.stdout
    assert memos(project_dir) == {"ownership": "on both", "lead-strong": "on both"}
    log = project_dir.log_lines("c")
    assert "First line\n  indented: kept\n\nlast" in [e.get("memo") for e in log]


def test_a_refused_memo_block_is_read_to_its_end_never_taken_for_codes(cli, project_dir):
    """No codings yet: the memo is refused at once, and its lines (`o` here) are not
    answers: an answers file stays in step."""
    result = plain(cli, ["", "m <<", "o", ".", "L", "q"])
    assert "error: this passage has no codings to attach a memo to" in result.stdout
    assert memos(project_dir) == {"lead-strong": None}


def test_input_ending_inside_a_memo_saves_nothing_of_it(cli, project_dir):
    result = plain(cli, ["", "o", "b", "m <<", "half a thought"])
    assert result.exit_code == 0, result.output
    assert "end of input inside a memo (not saved)" in result.stdout
    assert memos(project_dir) == {"ownership": None}
