"""`qcode code --suggestions` full screen: the review keys, driven with Pilot."""

from __future__ import annotations

import asyncio

from qcode import Project
from qcode.coding.autocode import autocode
from qcode.coding.review import Review
from qcode.tui import make_app

RULES = """\
        description: Leaders leave it to others.
        rules:
          - match: "alene"
          - all: [{speaker: "Rektor"}, {match: "mange lærere"}]
"""


def propose(project_dir):
    project_dir.replace("codebooks/codes.yaml",
                        "        description: Leaders leave it to others.\n", RULES)
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"eier*\"}]\n")
    autocode(Project.open(project_dir.root), coder="me")


def run(app, *keys):
    async def drive():
        async with app.run_test(size=(80, 24)) as pilot:
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            return str(app.query_one("#status").render())

    return asyncio.run(drive())


def test_accept_reject_and_accept_all(project_dir):
    propose(project_dir)
    review = Review(Project.open(project_dir.root), "me")
    pending = [(s.transcript, s.code) for s in review.pending()]
    assert pending == [("strinda-coordinator", "lead-weak"), ("voss-principal", "lead-weak"),
                       ("voss-principal", "ownership"), ("voss-principal", "ownership")]
    status = run(make_app("suggestions", review=review), "a", "r", "A")
    assert "0 to review" in status and "accepted 3" in status and "rejected 1" in status
    codings = Project.open(project_dir.root).codings("me")
    assert sorted((c.transcript, c.code) for c in codings) == [
        ("strinda-coordinator", "lead-weak"), ("voss-principal", "ownership"),
        ("voss-principal", "ownership")]
    assert all(c.memo and c.memo.startswith("autocode: ") for c in codings)
    # decisions are remembered: nothing is pending any more
    assert Review(Project.open(project_dir.root), "me").pending() == []


def test_skipping_leaves_the_suggestion_pending(project_dir):
    propose(project_dir)
    review = Review(Project.open(project_dir.root), "me")
    run(make_app("suggestions", review=review), "j", "a")
    left = Review(Project.open(project_dir.root), "me").pending()
    assert next((s.transcript, s.code) for s in left) == ("strinda-coordinator", "lead-weak")
    assert len(left) == 3


def test_code_suggestions_plain_through_the_cli(project_dir, cli):
    propose(project_dir)
    result = cli("code", "--coder", "me", "--suggestions", "--from", "me", "--plain",
                 input="a\nr\n")
    assert result.exit_code == 0, result.output
    assert [c.code for c in Project.open(project_dir.root).codings("me")] == ["lead-weak"]
