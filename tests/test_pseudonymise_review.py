"""`qcode pseudonymise review`: deciding about the key's candidates, line by line
(`--plain`, stdin) and on the full screen (Pilot)."""

from __future__ import annotations

import asyncio

import pytest

from qcode import Project
from qcode.coding.key_review import KeyReview
from qcode.format.pseudonyms import PseudonymKey
from qcode.tui import make_app

KEY = """\
original,replacement,kind
Voss,,?
Lier,,?
Strinda,,?
Ola,[Person A],person
"""


@pytest.fixture
def key(tmp_path):
    path = tmp_path / "keys" / "study.csv"
    path.parent.mkdir()
    path.write_text(KEY, encoding="utf-8")
    return path


def rows(path):
    return [(e.original, e.replacement, e.kind) for e in PseudonymKey.load(path).entries]


def test_plain_review_accepts_dismisses_and_skips(project_dir, cli, key):
    # Voss: a school, placeholder offered (empty answer); Lier: not identifying;
    # Strinda: skipped; then end of input
    result = cli("pseudonymise", "review", "--key", str(key), "--plain", input="2\n\nn\ns\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 candidates to review" in out
    assert "transcripts/voss-principal.md:3" in out and "school: **Voss**" in out
    assert "replacement [[School 1]]: " in out
    assert "saved: Voss → [School 1] (school)" in out
    assert "saved: Lier is not identifying (none)" in out
    assert "1 accepted, 1 not identifying, 1 skipped, 1 still to review" in out
    assert rows(key) == [("Voss", "[School 1]", "school"), ("Lier", "", "none"),
                         ("Strinda", "", "?"), ("Ola", "[Person A]", "person")]
    # decisions are remembered: the next review starts at what is left
    again = cli("pseudonymise", "review", "--key", str(key), "--plain",
                "--language", "no", input="2 [Skole Nord]\n")
    assert "1 candidates to review" in again.stdout
    assert "saved: Strinda → [Skole Nord] (school)" in again.stdout
    assert rows(key)[2] == ("Strinda", "[Skole Nord]", "school")
    done = cli("pseudonymise", "review", "--key", str(key), "--plain", input="")
    assert done.exit_code == 0 and "no candidates to review" in done.stdout


def test_norwegian_placeholders_and_quit(project_dir, cli, key):
    result = cli("pseudonymise", "review", "--key", str(key), "--plain", "--language", "no",
                 input="2\n\n3\n\nq\n")
    assert "saved: Voss → [Skole 1] (school)" in result.stdout
    assert "saved: Lier → [Sted 1] (place)" in result.stdout
    assert "quit: 2 accepted" in result.stdout
    assert rows(key)[2] == ("Strinda", "", "?")


def test_a_replacement_naming_an_original_is_refused_and_nothing_written(project_dir, cli,
                                                                         key):
    before = key.read_bytes()
    result = cli("pseudonymise", "review", "--key", str(key), "--plain",
                 input="1 Ola sin skole\nx\nq\n")
    assert "error: the replacement 'Ola sin skole' contains 'Ola'" in result.stdout
    assert "error: 'x' is not an answer here" in result.stdout
    assert key.read_bytes() == before


def test_review_needs_a_key_outside_the_project(project_dir, cli, key):
    missing = cli("pseudonymise", "review", "--plain")
    assert missing.exit_code == 2 and "--key PATH" in missing.output
    inside = project_dir.write("key.csv", KEY)
    refused = cli("pseudonymise", "review", "--key", str(inside), "--plain", input="n\n")
    assert refused.exit_code == 2 and "not ignored by git" in refused.output
    assert inside.read_text("utf-8") == KEY
    absent = cli("pseudonymise", "review", "--key", str(key.parent / "nope.csv"))
    assert absent.exit_code == 1 and "no such key file" in absent.output
    language = cli("pseudonymise", "review", "--key", str(key), "--language", "de")
    assert language.exit_code == 2


def test_review_screen_with_pilot(project_dir, key):
    review = KeyReview(Project.open(project_dir.root), key, "no")
    app = make_app("key-review", key_review=review)

    async def drive():
        async with app.run_test(size=(100, 30)) as pilot:
            shown = str(app.screen.query_one("#candidate").render())
            await pilot.press("1")           # Voss: a person? the replacement is asked
            await pilot.pause()
            await pilot.press("escape")      # cancelled: nothing written
            await pilot.pause()
            await pilot.press("2")           # a school, the offered placeholder
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            await pilot.press("n")           # Lier: not identifying
            await pilot.pause()
            status = str(app.screen.query_one("#status").render())
            await pilot.press("q")
            return shown, status

    shown, status = asyncio.run(drive())
    assert "Voss" in shown and "transcripts/voss-principal.md:3" in shown
    assert "1 to review" in status and "accepted 1" in status and "not identifying 1" in status
    assert rows(key)[:3] == [("Voss", "[Skole 1]", "school"), ("Lier", "", "none"),
                             ("Strinda", "", "?")]
