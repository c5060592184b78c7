"""The full-screen coder, driven with Textual's Pilot: keys in, the log asserted."""

from __future__ import annotations

import asyncio

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.tui import make_app as make_qcode_app
from qcode.tui.screens.dialogs import CodePicker, DefinitionScreen, HelpScreen


def make_app(project_dir, coder="c", **kwargs):
    session = CodingSession(Project.open(project_dir.root), coder, **kwargs)
    if not session.resume():
        session.start_at_first_uncoded()
    return make_qcode_app("coder", session=session)


def drive(app, *keys, size=(80, 24)):
    async def run():
        async with app.run_test(size=size) as pilot:
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            return app.screen, str(app.query_one("#status").render())

    return asyncio.run(run())


def logged(project_dir, coder="c"):
    return [(c.transcript, c.code) for c in Project.open(project_dir.root).codings(coder)]


def test_keys_move_and_shortcuts_toggle_codes(project_dir):
    app = make_app(project_dir, transcripts=["voss-principal"])
    _, status = drive(app, "j", "o", "L", "j", "j", "p", "k", "k", "L")
    assert app.session.passage.number == 2
    assert logged(project_dir) == [("voss-principal", "ownership"),
                                   ("voss-principal", "personal")]
    assert "saved" in status and "¶2/4" in status


def test_uppercase_jumps_between_uncoded_passages(project_dir):
    project = Project.open(project_dir.root)
    project.tag("lier-teacher", 1, ["personal"], "c")
    project.tag("lier-teacher", 2, ["personal"], "c")
    for presses, expected in ((["J"], ("lier-teacher", 3)),
                              (["J", "J"], ("strinda-coordinator", 1)),
                              (["J", "J", "K"], ("lier-teacher", 3))):
        app = make_app(project_dir)
        app.session.goto(0, 0)
        drive(app, *presses)
        assert (app.session.transcript.id, app.session.passage.number) == expected


def test_undo_picker_memo_and_transcript_switching(project_dir):
    app = make_app(project_dir, transcripts=["voss-principal", "lier-teacher"])
    drive(app, "j", "o", "u", "slash", *"pers", "enter", "m", *"tydelig", "enter",
          "right_square_bracket")
    assert app.session.transcript.id == "lier-teacher"
    codings = Project.open(project_dir.root).codings("c")
    assert [(c.code, c.memo) for c in codings] == [("personal", "tydelig")]
    ops = [e["op"] for e in project_dir.log_lines("c")]
    assert ops == ["add", "remove", "add", "remove", "add"]


def test_sub_passage_selection_codes_the_chosen_words(project_dir):
    app = make_app(project_dir, transcripts=["voss-principal"])
    # passage 2: "Rektor: Vi hadde for mange lærere, ..." -> words 2..5 = "hadde for mange lærere,"
    drive(app, "j", "v", "right", "right", "enter", "right", "right", "right", "enter",
          *"ownership", "enter")
    [coding] = Project.open(project_dir.root).codings("c")
    assert coding.text == "hadde for mange lærere,"


def test_dialogs_open_and_close(project_dir):
    app = make_app(project_dir)
    assert isinstance(drive(app, "question_mark")[0], HelpScreen)
    app = make_app(project_dir)
    assert isinstance(drive(app, "slash")[0], CodePicker)
    app = make_app(project_dir)
    assert isinstance(drive(app, "tab", "down", "d")[0], DefinitionScreen)
    app = make_app(project_dir)
    assert not isinstance(drive(app, "slash", "escape")[0], CodePicker)


def test_reopening_shows_exactly_what_was_there_and_resumes(project_dir):
    app = make_app(project_dir, transcripts=["voss-principal"])
    drive(app, "j", "j", "j", "o")
    again = make_app(project_dir, transcripts=["voss-principal"])
    assert again.session.passage.number == 4
    assert again.session.codes_on() == ["ownership"]


def test_keys_can_be_remapped_in_qcode_yaml(project_dir):
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + "keys:\n  next-passage: n\n")
    app = make_app(project_dir, transcripts=["voss-principal"])
    drive(app, "n", "n")
    assert app.session.passage.number == 3


def test_a_remapped_key_that_shadows_a_code_is_a_check_error(project_dir, cli):
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + "keys:\n  next-passage: o\n"
                      "  nonsense: x\n")
    result = cli("check", "--format", "json")
    rules = {p["rule"] for p in __import__("json").loads(result.stdout)["problems"]}
    assert {"keys-conflict", "keys-unknown-binding"} <= rules


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_runs_without_colour(project_dir, monkeypatch, size):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(project_dir)
    drive(app, "j", "o", size=size)
    assert logged(project_dir)


def test_snapshot_main_screen(project_dir, snap_compare):
    Project.open(project_dir.root).tag("voss-principal", 2, ["ownership", "lead-strong"], "c")
    app = make_app(project_dir, transcripts=["voss-principal"])
    assert snap_compare(app, terminal_size=(80, 24))


def test_snapshot_help_screen(project_dir, snap_compare):
    assert snap_compare(make_app(project_dir), press=["question_mark"], terminal_size=(80, 24))


def test_snapshot_code_picker(project_dir, snap_compare):
    assert snap_compare(make_app(project_dir), press=["slash", "o", "w", "n"],
                        terminal_size=(80, 24))
