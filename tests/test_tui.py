"""The full-screen coder, driven with Textual's Pilot: keys in, the log asserted."""

from __future__ import annotations

import asyncio
import re

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.tui import make_app as make_qcode_app
from qcode.tui.screens.dialogs import CodePicker, HelpScreen


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
    drive(app, "j", "o", "u", "slash", *"pers", "enter", "m", *"tydelig", "ctrl+s",
          "right_square_bracket")
    assert app.session.transcript.id == "lier-teacher"
    codings = Project.open(project_dir.root).codings("c")
    assert [(c.code, c.memo) for c in codings] == [("personal", "tydelig")]
    ops = [e["op"] for e in project_dir.log_lines("c")]
    assert ops == ["add", "remove", "add", "remove", "add"]


def test_sub_passage_selection_codes_the_chosen_words(project_dir):
    """Passage 2 is "Rektor: Vi hadde for mange lærere, ...": the cursor starts on "Vi"
    (never on the speaker label); → and shift+→ select "hadde for mange lærere,", and a
    code's key (or the picker) codes exactly that."""
    app = make_app(project_dir, transcripts=["voss-principal"])
    drive(app, "j", "right", "shift+right", "shift+right", "shift+right", "o")
    app = make_app(project_dir, transcripts=["voss-principal"])
    app.session.goto(0, 1)
    drive(app, "right", "v", "right", "right", "right", "slash", *"personal", "enter")
    codings = Project.open(project_dir.root).codings("c")
    assert [(c.code, c.text) for c in codings] == [("ownership", "hadde for mange lærere,"),
                                                   ("personal", "hadde for mange lærere,")]


def test_dialogs_open_and_close(project_dir):
    app = make_app(project_dir)
    assert isinstance(drive(app, "question_mark")[0], HelpScreen)
    app = make_app(project_dir)
    assert isinstance(drive(app, "slash")[0], CodePicker)
    app = make_app(project_dir)

    async def definition():
        async with app.run_test(size=(80, 24)) as pilot:
            for key in ("tab", "down", "d"):
                await pilot.press(key)
            await pilot.pause()
            panel = app.screen.query_one("#definition")
            return app.screen is app.screen_stack[0], panel.display, panel.code_id

    assert asyncio.run(definition()) == (True, True, "leadership")  # beside, not over
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


def _partial_coding(project_dir):
    """passage 2 coded whole with lead-strong, "hadde for mange lærere," with ownership
    (a memo on it), and "en mulighet" with personal."""
    project = Project.open(project_dir.root)
    body = project.transcript("voss-principal").body
    project.tag("voss-principal", 2, ["lead-strong"], "c")
    for words, code, memo in (("hadde for mange lærere,", "ownership", "the surplus"),
                              ("en mulighet.", "personal", None)):
        start = body.index(words)
        project.tag("voss-principal", (start, start + len(words)), [code], "c", memo=memo)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_coded_words_and_a_selection(project_dir, snap_compare, size):
    _partial_coding(project_dir)
    app = make_app(project_dir, transcripts=["voss-principal"])
    app.session.goto(0, 1)
    assert snap_compare(app, press=["right", "right", "shift+right"], terminal_size=size)


def test_snapshot_definition_panel(project_dir, snap_compare):
    _partial_coding(project_dir)
    app = make_app(project_dir, transcripts=["voss-principal"])
    app.session.goto(0, 1)
    assert snap_compare(app, press=["right", "d"], terminal_size=(120, 40))


def test_snapshot_memo_editor(project_dir, snap_compare):
    _partial_coding(project_dir)
    app = make_app(project_dir, transcripts=["voss-principal"])
    app.session.goto(0, 1)
    assert snap_compare(app, press=["m", "down", "enter", *"ny linje"],
                        terminal_size=(80, 24))


def test_snapshot_help_screen(project_dir, snap_compare):
    assert snap_compare(make_app(project_dir), press=["question_mark"], terminal_size=(80, 24))


def test_snapshot_code_picker(project_dir, snap_compare):
    assert snap_compare(make_app(project_dir), press=["slash", "o", "w", "n"],
                        terminal_size=(80, 24))


# -- issue #17: the project's text is shown, never sent to the terminal, never markup --------

ESCAPES = "\x1b]0;PWNED\x07 \x1b[2J \x9b31m \u202eevil"
SHOWN = "␛]0;PWNED␇ ␛[2J �31m �evil"
MARKUP = "[link=http://x]y[/link] [/x]"


def rendered_lines(widget) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


def test_the_coder_shows_escapes_and_markup_as_text(project_dir):
    from qcode.tui.passage_view import PassageView
    from qcode.tui.widgets import CodeTree

    project_dir.replace("transcripts/voss-principal.md", "Vi hadde", f"{ESCAPES} Vi hadde")
    project_dir.replace("codebooks/codes.yaml", "label: Staff ownership",
                        f'label: "{MARKUP} \\e[2J"')
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "c", memo="memo \x1b]0;MEMO\x07")
    app = make_app(project_dir, transcripts=["voss-principal"])
    app.session.goto(0, 1)

    async def run():
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            passages = "\n".join(rendered_lines(app.query_one(PassageView)))
            tree = "\n".join(rendered_lines(app.query_one(CodeTree)))
            await pilot.press("m")  # the memo dialog, holding the logged memo
            await pilot.pause()
            memo = app.screen.query_one("#memo-input").text
            return passages, tree, memo, app.export_screenshot()

    passages, tree, memo, screen = asyncio.run(run())
    assert SHOWN in passages
    assert "o [link=http://" in tree  # the label's own text, cut to the column
    assert memo == "memo ␛]0;MEMO␇"
    for text in (passages, tree, screen):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)


def test_adjudication_and_suggestions_show_escapes(project_dir):
    from qcode.coding.adjudication import Adjudication
    from qcode.coding.autocode import autocode
    from qcode.coding.review import Review

    project_dir.replace("transcripts/voss-principal.md", "Vi hadde", f"{ESCAPES} Vi hadde")
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"hadde\"}]\n")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="why \x1b[2J")
    project.tag("voss-principal", 2, ["lead-weak"], "b")
    autocode(Project.open(project_dir.root), coder="auto")

    async def shown(app, view, *keys):
        async with app.run_test(size=(120, 30)) as pilot:
            lines = []
            for key in ("", *keys):
                if key:
                    await pilot.press(key)
                await pilot.pause()
                lines += rendered_lines(app.screen.query_one(view))
            return "\n".join(lines)

    with Adjudication(Project.open(project_dir.root), "a", "b", "consensus") as session:
        adjudication = asyncio.run(shown(make_qcode_app("adjudicate", adjudication=session),
                                         "#item", "j"))
    with Review(Project.open(project_dir.root), "c", source="auto") as review:
        suggestion = asyncio.run(shown(make_qcode_app("suggestions", review=review),
                                       "#suggestion"))
    for text in (adjudication, suggestion):
        assert SHOWN in text
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    assert "memo: why ␛[2J" in adjudication


def test_snapshot_search_pop_up(project_dir, snap_compare):
    app = make_app(project_dir)
    assert snap_compare(app, press=["ctrl+f", *"det", "enter"], terminal_size=(80, 24))


def test_snapshot_search_hits_marked_in_the_text(project_dir, snap_compare):
    _partial_coding(project_dir)
    app = make_app(project_dir, transcripts=["voss-principal"])
    assert snap_compare(app, press=["ctrl+f", *"prosjekt*", "enter", "enter"],
                        terminal_size=(120, 40))
