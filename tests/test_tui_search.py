"""Searching the text in the full-screen coder (#18 item 3): ctrl+f searches with the
engine of `qcode search`, Enter on a hit goes there with its words selected, ctrl+n /
ctrl+p walk the hits, ctrl+a codes them all. Keys in through Pilot, the log asserted."""

from __future__ import annotations

import itertools

from conftest import press_keys
from qcode import Project
from qcode.coding.session import CodingSession
from qcode.tui import make_app as make_qcode_app
from qcode.tui.passage_view import PassageView
from qcode.tui.screens.dialogs import CodePicker
from qcode.tui.screens.search import SearchScreen, SpanScreen

ALL = ["voss-principal", "lier-teacher", "strinda-coordinator"]


def make_app(project_dir, coder="c", at=(0, 0), transcripts=ALL, **kwargs):
    session = CodingSession(Project.open(project_dir.root), coder, transcripts=transcripts,
                            **kwargs)
    session.goto(*at)
    return make_qcode_app("coder", session=session)


run = press_keys


def codings(project_dir, coder="c"):
    return sorted((c.transcript, c.code, c.text) for c in Project.open(project_dir.root)
                  .codings(coder))


def where(app):
    session = app.session
    selection = session.cursor.selection
    return (session.transcript.id, session.passage.number,
            session.transcript.body[selection[0]:selection[1]] if selection else None)


def test_enter_on_a_hit_goes_there_with_its_words_selected_and_a_key_codes_them(project_dir):
    app = make_app(project_dir)
    seen, status = run(app, "ctrl+f", *"elevene", "enter", "enter", inspect=where)
    # the first hit after the passage the coder is on (voss 1): lier-teacher's question
    assert seen == ("lier-teacher", 1, "elevene?")
    assert "hit 1 of 2 for 'elevene'" in status
    assert codings(project_dir) == []
    # the selection is the hit: a code's key codes exactly those words
    app = make_app(project_dir)
    run(app, "ctrl+f", *"elevene", "enter", "down", "enter", "p")
    assert codings(project_dir) == [("lier-teacher", "personal", "elevene.")]


def test_the_pop_up_lists_the_hits_in_context_and_counts_them(project_dir):
    def listed(app):
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        listing = screen.query_one("#search-hits")
        lines = [str(listing.get_option_at_index(i).prompt)
                 for i in range(listing.option_count)]
        return str(screen.query_one("#search-summary").render()), lines

    (summary, lines), _ = run(make_app(project_dir), "ctrl+f", *"prosjekt*", "enter",
                              inspect=listed)
    assert summary == "2 hits in 1 passage of 1 transcript"
    assert lines[0].startswith("voss-principal 4 Rektor  Lærerne eier prosjektet – det")
    assert "prosjekt." in lines[1]
    (summary, lines), _ = run(make_app(project_dir), "ctrl+f", *"vikar*", "enter",
                              inspect=listed)
    assert (summary, lines) == ("no hits for 'vikar*'", [])


def test_a_bad_pattern_is_said_in_the_pop_up_and_ctrl_r_changes_the_mode(project_dir):
    def state(app):
        screen = app.screen
        return (type(screen).__name__, getattr(screen, "mode", None),
                str(screen.query_one("#search-summary").render()))

    (name, mode, summary), _ = run(make_app(project_dir), "ctrl+f", "ctrl+r", "(", "enter",
                                   inspect=state)
    assert (name, mode) == ("SearchScreen", "regex")
    assert summary.startswith("the search pattern: regex '(' does not compile: missing )")
    (name, mode, summary), _ = run(make_app(project_dir), "ctrl+f", "ctrl+r", "ctrl+r",
                                   "ctrl+r", inspect=state)
    assert mode == "match"


def test_ctrl_n_and_ctrl_p_walk_the_hits_and_wrap_round(project_dir):
    def walk(app):
        return where(app)

    app = make_app(project_dir)
    seen, status = run(app, "ctrl+f", *"det", "enter", "home", "enter", "ctrl+n", "ctrl+n",
                       inspect=walk)
    hits = app.session.search("det")
    assert len(hits) >= 4
    assert status.startswith("hit 3 of") and seen[:2] == (hits[2].transcript, hits[2].passage)
    # back past the first: round to the last, and said so
    app = make_app(project_dir)
    seen, status = run(app, "ctrl+f", *"det", "enter", "home", "enter", "ctrl+p",
                       inspect=walk)
    assert seen[:2] == (hits[-1].transcript, hits[-1].passage)
    assert f"hit {len(hits)} of {len(hits)}" in status and "wrapped round" in status


def test_having_moved_away_ctrl_n_goes_to_the_first_hit_after_the_cursor(project_dir):
    app = make_app(project_dir)
    seen, _ = run(app, "ctrl+f", *"elevene", "enter", "enter", "right_square_bracket",
                  "ctrl+n", inspect=where)
    # from strinda (after lier) the next hit wraps round to lier 1
    assert seen == ("lier-teacher", 1, "elevene?")


def test_without_a_search_the_hit_keys_say_how_to_search(project_dir):
    _, status = run(make_app(project_dir), "ctrl+n")
    assert "ctrl+f searches" in status
    _, status = run(make_app(project_dir), "ctrl+a")
    assert "ctrl+f searches" in status


def marked(app) -> list[tuple[str, bool]]:
    """The text drawn on a yellow background, and whether each piece is also reversed."""
    view = app.screen.query_one(PassageView)
    found = []
    for y in range(view.size.height):
        for segment in view.render_line(y):
            style = segment.style
            if style and style.bgcolor is not None and style.bgcolor.name == "yellow":
                found.append((segment.text, bool(style.reverse)))
    return found


def test_hits_are_marked_in_the_passage_text(project_dir, monkeypatch):
    monkeypatch.delenv("NO_COLOR")
    seen, _ = run(make_app(project_dir), "ctrl+f", *"prosjekt*", "enter", "escape",
                  inspect=marked)
    assert seen == []  # Esc: no search kept, nothing marked
    seen, _ = run(make_app(project_dir), "ctrl+f", *"prosjekt*", "enter", "enter",
                  inspect=marked)
    assert [text for text, _ in seen] == ["prosjektet", "prosjekt"]


def test_without_colour_a_hit_is_reversed(project_dir):
    def reversed_text(app):
        view = app.screen.query_one(PassageView)
        return [s.text for y in range(view.size.height) for s in view.render_line(y)
                if s.style and s.style.reverse and "prosjekt" in s.text]

    seen, _ = run(make_app(project_dir), "ctrl+f", *"prosjekt*", "enter", "down", "enter",
                  "escape", inspect=reversed_text)
    # the second hit, its selection dropped (Esc): both hits still stand out
    assert seen == ["prosjektet", "prosjekt"]


def test_ctrl_a_codes_every_hit_with_a_code_and_u_undoes_it_at_once(project_dir):
    app = make_app(project_dir)

    def screens(app):
        return [type(s).__name__ for s in app.screen_stack]

    seen, _ = run(app, "ctrl+f", *"elevene", "enter", "enter", "ctrl+a", inspect=screens)
    assert seen[-1] == CodePicker.__name__
    app = make_app(project_dir)
    seen, status = run(app, "ctrl+f", *"elevene", "enter", "enter", "ctrl+a",
                       *"outcomes", "enter", inspect=screens)
    assert seen[-1] == SpanScreen.__name__ and codings(project_dir) == []
    app = make_app(project_dir)
    _, status = run(app, "ctrl+f", *"elevene", "enter", "enter", "ctrl+a", *"outcomes",
                    "enter", "enter")
    body = Project.open(project_dir.root).transcript("lier-teacher").body
    passages = Project.open(project_dir.root).transcript("lier-teacher").passages
    assert codings(project_dir) == [("lier-teacher", "outcomes", body[p.start:p.end])
                                    for p in (passages[0], passages[2])]
    assert "saved: coded 2 passages with outcomes; u undoes" in status
    # the codebook's count and the session's index follow at once; u takes all back
    assert app.session.counts()["outcomes"] == 2
    app = make_app(project_dir)
    _, status = run(app, "ctrl+f", *"elevene", "enter", "enter", "ctrl+a", *"outcomes",
                    "enter", "enter")
    assert "nothing new" in status
    run(app := make_app(project_dir), "ctrl+f", *"elevene", "enter", "enter", "ctrl+a",
        *"outcomes", "enter", "down", "down", "enter", "u")
    assert codings(project_dir) == [("lier-teacher", "outcomes", body[p.start:p.end])
                                    for p in (passages[0], passages[2])]


def test_coding_the_matched_words_only(project_dir):
    app = make_app(project_dir)
    _, status = run(app, "ctrl+f", *"prosjekt*", "enter", "enter", "ctrl+a", *"ownership",
                    "enter", "down", "down", "enter")
    assert codings(project_dir) == [("voss-principal", "ownership", "prosjekt"),
                                    ("voss-principal", "ownership", "prosjektet")]
    assert "coded 2 words" in status
    _, status = run(app := make_app(project_dir), "u")
    assert "nothing to undo" in status  # a new session: its own history only


def test_the_pop_up_opens_again_on_the_last_search(project_dir):
    def pattern(app):
        screen = app.screen
        return screen.query_one("#search-input").value, len(screen.hits)

    seen, _ = run(make_app(project_dir), "ctrl+f", *"elevene", "enter", "enter", "ctrl+f",
                  inspect=pattern)
    assert seen == ("elevene", 2)


# -- the session underneath --------------------------------------------------------------------


def test_a_sessions_hits_come_in_its_transcripts_order(project_dir):
    session = CodingSession(Project.open(project_dir.root), "c",
                            transcripts=["strinda-coordinator", "voss-principal"])
    hits = session.search("det")
    assert [h.transcript for h in hits] == sorted(
        (h.transcript for h in hits), key=["strinda-coordinator", "voss-principal"].index)
    assert hits[0].transcript == "strinda-coordinator"
    assert all(a.start < b.start for a, b in itertools.pairwise(hits)
               if a.transcript == b.transcript)


def test_coding_all_hits_in_a_session_is_one_change_the_log_and_the_index_agree_on(
        project_dir):
    session = CodingSession(Project.open(project_dir.root), "c")
    hits = session.search("det")
    transcripts = {h.transcript for h in hits}
    assert len(transcripts) >= 2
    change, result = session.code_hits(hits, "outcomes", "sentence", pattern="det")
    assert len(result.added) == len(change.added) >= 2 and not result.already
    logged = Project.open(project_dir.root).codings("c")
    assert sorted((c.transcript, c.start, c.end) for c in logged) == sorted(
        (t.transcript, t.start, t.end) for t in result.added)
    assert {c.extra.get("search") for c in logged} == {"det"}
    assert session.counts()["outcomes"] == len(result.added)
    for hit in hits:  # every hit's transcript sees its coding, not only the current one
        session.goto_hit(hit)
        assert "outcomes" in session.codes_on()
    _, again = session.code_hits(hits, "outcomes", "sentence")
    assert again.added == [] and len(again.already) == len(result.added)
    session.undo()
    assert Project.open(project_dir.root).codings("c") == []
    assert session.counts()["outcomes"] == 0
    session.goto_hit(hits[-1])
    assert session.codes_on() == []
