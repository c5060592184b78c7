"""The full-screen coder for a day's work (#18): coded words marked, partial codings as
first-class objects, a word cursor, pop-ups that fit. Keys in through Pilot, the log
asserted afterwards."""

from __future__ import annotations

import asyncio

from conftest import press_keys
from qcode import Project
from qcode.coding.session import CodingSession
from qcode.tui import make_app as make_qcode_app
from qcode.tui.passage_view import MARGIN, PassageView, wrap_spans
from qcode.tui.screens.dialogs import CodingsScreen, HelpScreen, MemoScreen

VOSS_2 = "Rektor: Vi hadde for mange lærere, og så så vi en mulighet."
WORDS = "hadde for mange lærere,"


def make_app(project_dir, coder="c", at=(0, 1), **kwargs):
    session = CodingSession(Project.open(project_dir.root), coder,
                            transcripts=kwargs.pop("transcripts", ["voss-principal"]), **kwargs)
    session.goto(*at)
    return make_qcode_app("coder", session=session)


run = press_keys


def tag_words(project_dir, coder="c", code="ownership", memo=None):
    project = Project.open(project_dir.root)
    body = project.transcript("voss-principal").body
    start = body.index(WORDS)
    project.tag("voss-principal", (start, start + len(WORDS)), [code], coder, memo=memo)
    return start, start + len(WORDS)


def live(project_dir, coder="c"):
    return sorted((c.code, c.text, c.memo) for c in Project.open(project_dir.root).codings(coder))


def view_lines(app) -> list:
    view = app.screen.query_one(PassageView)
    return [view.render_line(y) for y in range(view.size.height)]


# -- 1. coded text made visible ----------------------------------------------------------------

def test_the_words_of_a_partial_coding_are_marked_with_its_colour_and_a_margin_lane(
        project_dir, monkeypatch):
    monkeypatch.delenv("NO_COLOR")
    project_dir.replace("codebooks/codes.yaml", "    key: o\n", "    key: o\n    color: '#aa0000'\n")
    tag_words(project_dir)
    strips, _ = run(make_app(project_dir), inspect=view_lines)
    line = next(s for s in strips if "hadde" in s.text)
    assert line.text.startswith("o")  # the lane: the code's key, on the lines it covers
    coloured = [seg for seg in line if seg.style and seg.style.underline and seg.style.color]
    assert "".join(seg.text for seg in coloured) == WORDS  # ("Vi", the cursor's word, is not)
    assert {seg.style.color.name for seg in coloured} == {"#aa0000"}
    header = next(s for s in strips if s.text.lstrip().startswith("2 "))
    assert "~ownership" in header.text  # a partial coding in the header too


def test_without_colour_the_edges_are_brackets(project_dir, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    tag_words(project_dir)
    strips, _ = run(make_app(project_dir), inspect=view_lines)
    text = next(s.text for s in strips if "hadde" in s.text)
    assert f"Vi⟦{WORDS}⟧og" in text


def test_the_status_line_names_the_codings_under_the_cursor(project_dir):
    tag_words(project_dir)
    _, status = run(make_app(project_dir), "right")  # the cursor on "hadde"
    assert "here: ownership" in status
    _, status = run(make_app(project_dir))  # on "Vi": not coded
    assert "here:" not in status


# -- 2. partial codings as first-class objects ---------------------------------------------------

def test_a_key_with_words_selected_codes_exactly_them_and_again_is_a_visible_no_op(project_dir):
    keys = ("right", "shift+right", "shift+right", "shift+right", "o")
    run(make_app(project_dir), *keys)
    assert live(project_dir) == [("ownership", WORDS, None)]
    lines = len(project_dir.log_lines("c"))
    _, status = run(make_app(project_dir), *keys)
    assert len(project_dir.log_lines("c")) == lines  # nothing written
    assert "already coded ownership" in status


def test_a_key_with_nothing_selected_toggles_the_code_on_the_passage(project_dir):
    """The rule: with nothing selected a code's key adds a whole-passage coding when the
    code is not on the passage, and removes every coding of it there when it is (a
    partial one included); u takes it back."""
    tag_words(project_dir)
    _, status = run(make_app(project_dir), "o")
    assert live(project_dir) == []
    assert "removed ownership" in status and "u undoes" in status
    run(make_app(project_dir), "o")
    project = Project.open(project_dir.root)
    passage = project.transcript("voss-principal").passages[1]
    whole = project.transcript("voss-principal").body[passage.start:passage.end]
    assert live(project_dir) == [("ownership", whole, None)]


def test_the_codings_list_removes_widens_narrows_and_writes_a_memo(project_dir):
    tag_words(project_dir)
    # widen: select "Vi" .. "lærere," and Enter, w
    run(make_app(project_dir), "shift+right", "shift+right", "shift+right", "shift+right",
        "enter", "w")
    assert live(project_dir) == [("ownership", "Vi " + WORDS, None)]
    # narrow to "mange lærere,"
    run(make_app(project_dir), "right", "right", "right", "shift+right", "enter", "n")
    assert live(project_dir) == [("ownership", "mange lærere,", None)]
    # a memo of two lines, written on that one coding
    run(make_app(project_dir), "enter", "m", *"første", "enter", *"andre", "ctrl+s")
    assert live(project_dir) == [("ownership", "mange lærere,", "første\nandre")]
    # remove
    run(make_app(project_dir), "enter", "x")
    assert live(project_dir) == []
    ops = [e["op"] for e in project_dir.log_lines("c")]
    assert ops == ["add", "remove", "add", "remove", "add", "remove", "add", "remove"]


def test_the_memo_key_asks_which_coding_when_there_are_several(project_dir):
    tag_words(project_dir)
    Project.open(project_dir.root).tag("voss-principal", 2, ["lead-strong"], "c")

    def dialogs(app):
        return [type(s) for s in app.screen_stack[1:]]

    seen, _ = run(make_app(project_dir), "m", inspect=dialogs)
    assert seen == [CodingsScreen]
    seen, _ = run(make_app(project_dir), "m", "enter", inspect=dialogs)
    assert seen == [MemoScreen]


def test_the_cursor_moves_by_word_sentence_and_to_either_end(project_dir):
    """lier-teacher passage 2: "Lærer 1: De ble tryggere på seg selv. Kl. 07:45 stod de
    klare på flyplassen." The cursor never sits on the speaker label."""
    def word(app):
        session = app.session
        return session.transcript.body[slice(*session.cursor.word)]

    make = lambda: make_app(project_dir, transcripts=["lier-teacher"])  # noqa: E731
    assert run(make(), inspect=word)[0] == "De"
    assert run(make(), "right_parenthesis", inspect=word)[0] == "Kl."
    assert run(make(), "right_parenthesis", "left_parenthesis", inspect=word)[0] == "De"
    assert run(make(), "end", inspect=word)[0] == "flyplassen."
    assert run(make(), "end", "home", inspect=word)[0] == "De"
    assert run(make(), "right", "right", "left", inspect=word)[0] == "ble"


def test_a_click_places_the_cursor_and_a_drag_selects(project_dir):
    async def go():
        app = make_app(project_dir)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            view = app.screen.query_one(PassageView)
            strips = [view.render_line(y).text for y in range(view.size.height)]
            row = next(i for i, text in enumerate(strips) if "hadde" in text)
            column = strips[row].index("hadde")
            last = strips[row].index("lærere,")
            await pilot.mouse_down(view, offset=(column, row))
            await pilot.hover(view, offset=(last + 2, row))
            await pilot.mouse_up(view, offset=(last + 2, row))
            await pilot.pause()
            body = app.session.transcript.body
            return body[slice(*app.session.cursor.selection)]

    assert asyncio.run(go()) == WORDS


def test_wrapping_keeps_every_character_and_breaks_at_spaces():
    body = "ab cd efgh ijklmnopqrstu v\nw xy"
    spans = wrap_spans(body, 0, len(body), 5)
    assert [body[s:e] for s, e in spans] == ["ab cd", "efgh", "ijklm", "nopqr", "stu v",
                                             "w xy"]
    assert MARGIN >= 2


# -- 4. pop-ups that fit ------------------------------------------------------------------------

def test_help_scrolls_to_every_key_and_shortcut(project_dir):
    def bottom(app):
        scroller = app.screen.query_one("#help-scroll")
        return isinstance(app.screen, HelpScreen), scroller.scroll_y, scroller.max_scroll_y

    (is_help, start, most), _ = run(make_app(project_dir), "question_mark", inspect=bottom)
    assert is_help and most > 0 and start == 0  # longer than the screen at 80×24
    (_, at, most), _ = run(make_app(project_dir), "question_mark", "end", inspect=bottom)
    assert at == most
    (_, at, _), _ = run(make_app(project_dir), "question_mark", "end", "k", "k",
                        inspect=bottom)
    assert at == most - 2


def test_the_definition_panel_sits_beside_the_text_and_follows_the_cursor(project_dir):
    tag_words(project_dir)

    def panel(app):
        screen = app.screen
        definition = screen.query_one("#definition")
        view = screen.query_one(PassageView)
        return (definition.display, definition.code_id, view.size.width > 20,
                definition.region.x > view.region.x)

    assert run(make_app(project_dir), "right", "d", inspect=panel)[0] == (
        True, "ownership", True, True)
    assert run(make_app(project_dir), "right", "d", "d", inspect=panel)[0][0] is False


def test_the_codebook_takes_a_third_of_a_wide_screen(project_dir):
    width = lambda app: app.screen.query_one("#codebook").size.width  # noqa: E731
    assert run(make_app(project_dir), inspect=width, size=(80, 24))[0] < 40
    assert run(make_app(project_dir), inspect=width, size=(150, 40))[0] >= 48


def test_codes_in_passages_by_label_or_id(project_dir):
    Project.open(project_dir.root).tag("voss-principal", 2, ["ownership"], "c")
    text = lambda app: "\n".join(s.text for s in view_lines(app))  # noqa: E731
    by_id, _ = run(make_app(project_dir), inspect=text)
    by_label, status = run(make_app(project_dir), "ctrl+l", inspect=text)
    assert "▌ownership" in by_id and "▌Staff ownership" in by_label
    assert "by label" in status
    # qcode.yaml `code_names: labels` starts the coder with labels; ctrl+l still switches
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + "code_names: labels\n")
    assert "▌Staff ownership" in run(make_app(project_dir), inspect=text)[0]
    assert "▌ownership" in run(make_app(project_dir), "ctrl+l", inspect=text)[0]


def test_the_status_line_fits_80_columns(project_dir):
    Project.open(project_dir.root).tag("voss-principal", 2,
                                       ["ownership", "lead-strong", "lead-weak", "personal"],
                                       "c")
    _, status = run(make_app(project_dir), "shift+right")
    assert len(status) <= 80 and "voss-principal" in status and "¶2/4" in status


def test_the_reserved_keys_are_the_characters_the_coder_binds():
    """A code's shortcut may not be a key the full-screen coder uses (format layer's
    RESERVED_KEYS); the two lists are kept in step here."""
    from qcode.coding.keymap import bound_characters
    from qcode.format.codebook import RESERVED_KEYS

    line_mode = {" ", ",", "-"}  # separate and remove codes in a line-mode answer
    assert set(bound_characters()) | line_mode == set(RESERVED_KEYS)
