"""A new code without leaving the coder (#18 item 7): `+` opens a form that adds the code to
the codebook file, every other byte kept, and the code's key works at once; line mode's
`:new` does the same. Keys in through Pilot, the codebook file and the log asserted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.errors import UsageError
from qcode.interchange.common import slugify
from qcode.tui import make_app as make_qcode_app
from qcode.tui.screens.coder import CoderScreen
from qcode.tui.screens.new_code import NewCodeScreen

CODEBOOK_FILE = "codebooks/codes.yaml"

# The fixture's codebook as a researcher keeps it: comments on their own lines and after
# values, a blank line and a banner between families, a quoted version.
COMMENTED = """\
# Fixture codebook. Hand-written: every comment stays.
name: Fixture codes
version: "1"     # bump by hand
codes:
  - id: leadership   # the folder
    label: Leadership
    codable: false
    description: Folder for leadership codes.
    children:
      - id: lead-strong
        label: Strong anchoring
        key: L
        description: Leaders carry the work.
        aliases: [anchoring]
      - id: lead-weak
        label: Weak anchoring   # weak, not absent
        key: W
        description: Leaders leave it to others.

  # ---- the teachers ---------------------------------------------
  - id: ownership
    label: 'Staff ownership'
    key: o
    description: Teachers own the work.
  - id: outcomes
    label: Outcomes
    description: What came out of it.
    children:
      - id: personal
        label: Personal outcomes
        key: p
        description: Confidence and independence.
# the end
"""


@pytest.fixture
def commented(project_dir):
    project_dir.write(CODEBOOK_FILE, COMMENTED)
    return project_dir


def make_app(project_dir, coder="c", at=(0, 1)):
    session = CodingSession(Project.open(project_dir.root), coder,
                            transcripts=["voss-principal"])
    session.goto(*at)
    return make_qcode_app("coder", session=session)


def typed(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def run(app, *keys, size=(80, 24)):
    """Press ``keys``; then the screen on top, the form's fields and error if it is open,
    the status line and the code highlighted in the tree."""
    async def go():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await pilot.pause()
            screen = app.screen
            form = None
            if isinstance(screen, NewCodeScreen):
                form = (screen.values(), str(screen.query_one("#new-code-error").render()))
            coder = app.screen_stack[0]
            return (screen, form, str(coder.query_one("#status").render()),
                    coder.codebook_tree.selected_code)

    return asyncio.run(go())


def inserted_after(before: str, line: str, block: str, change: str) -> bytes:
    """``before`` with ``block`` inserted after the line starting with ``line``, and the
    version bump and changelog entry every codebook edit writes (``change`` its line)."""
    at = before.index("\n", before.index(line)) + 1
    text = before[:at] + block + before[at:]
    today = datetime.now(UTC).date().isoformat()
    text = text.replace('version: "1"     # bump by hand\ncodes:\n',
                        'version: "1.1"     # bump by hand\nchangelog:\n'
                        f'  - version: "1.1"\n    date: "{today}"\n    changes:\n'
                        f'      - {change}\ncodes:\n')
    return text.encode("utf-8")


# -- the form adds the code; the rest of the file is as it was ---------------------------------

def test_the_form_adds_a_sibling_of_the_highlighted_code_keeping_every_other_byte(commented):
    """Tab to the tree, ↓ ↓ to "Strong anchoring": the form's parent is its parent."""
    keys = ["tab", "down", "down", "plus", *typed("Støtte fra ledelsen"), "tab", "tab", "tab",
            *typed("Leaders back it."), "tab", "s", "enter"]
    screen, _, status, highlighted = run(make_app(commented), *keys)
    assert isinstance(screen, CoderScreen)
    assert (commented.root / CODEBOOK_FILE).read_bytes() == inserted_after(
        COMMENTED, "        description: Leaders leave it to others.",
        "      - id: stotte-fra-ledelsen\n        label: Støtte fra ledelsen\n"
        "        key: s\n        description: Leaders back it.\n",
        "added stotte-fra-ledelsen under leadership")
    assert status.startswith(
        "added code stotte-fra-ledelsen to codebooks/codes.yaml; press s to use it")
    assert highlighted == "stotte-fra-ledelsen"  # shown in the tree where it went
    assert not Project.open(commented.root).check().errors


def test_the_new_key_codes_the_passage_at_once(commented):
    keys = ["plus", *typed("Vikarer"), "tab", "tab", "tab", "tab", "y", "ctrl+s", "y"]
    screen, _, status, _ = run(make_app(commented), *keys)
    # with nothing selected, the code's key codes the whole passage
    assert isinstance(screen, CoderScreen) and status.startswith("saved")
    assert [(e["op"], e["code"], e["transcript"], e["text"][:10])
            for e in commented.log_lines("c")] == [("add", "vikarer", "voss-principal",
                                                    "Rektor: Vi")]
    code = Project.open(commented.root).codebook.get("vikarer")
    assert (code.label, code.key) == ("Vikarer", "y")
    # last among the top-level codes: before the comment that ends the file
    assert (commented.root / CODEBOOK_FILE).read_bytes() == inserted_after(
        COMMENTED, "        description: Confidence and independence.",
        "  - id: vikarer\n    label: Vikarer\n    key: y\n", "added vikarer")


def test_the_form_opens_with_the_label_enter_moves_on_and_on_the_last_field_adds(commented):
    """Enter on a field before the last one moves to the next, as Tab does; the parent
    is taken by label too."""
    keys = ["plus", *typed("Elevenes trygghet"), "enter", "enter",
            *typed("staff ownership"), "enter", "enter", "t", "enter"]
    screen, _, _, _ = run(make_app(commented), *keys)
    assert isinstance(screen, CoderScreen)
    codebook = Project.open(commented.root).codebook
    assert codebook.parent_of["elevenes-trygghet"] == "ownership"
    assert codebook.get("elevenes-trygghet").key == "t"


def test_a_code_without_children_gets_them(commented):
    keys = ["plus", *typed("Eierskap hos elevene"), "tab", "tab", *typed("ownership"),
            "ctrl+s"]
    run(make_app(commented), *keys)
    text = (commented.root / CODEBOOK_FILE).read_text("utf-8")
    assert text == inserted_after(COMMENTED, "    description: Teachers own the work.",
                                  "    children:\n      - id: eierskap-hos-elevene\n"
                                  "        label: Eierskap hos elevene\n",
                                  "added eierskap-hos-elevene under ownership").decode()


def test_a_code_without_a_key_is_applied_from_the_picker(commented):
    keys = ["plus", *typed("Uten tast"), "enter", "enter", "enter", "enter", "enter"]
    _, _, status, highlighted = run(make_app(commented), *keys)
    assert status.startswith("added code uten-tast to codebooks/codes.yaml; no key: / or "
                             "Enter in the tree applies it")
    assert highlighted == "uten-tast"
    _, _, status, _ = run(make_app(commented), "slash", *typed("uten"), "enter")
    assert status.startswith("saved")
    assert [e["code"] for e in commented.log_lines("c")] == ["uten-tast"]


# -- the id follows the label ----------------------------------------------------------------

def test_the_id_is_suggested_from_a_norwegian_label_until_one_is_typed(commented):
    _, form, _, _ = run(make_app(commented), "plus", *typed("Ærlig støtte på små skoler"))
    assert form[0]["id"] == "aerlig-stotte-pa-sma-skoler"
    # an id of their own stays, whatever the label becomes
    _, form, _, _ = run(make_app(commented), "plus", *typed("Ærlig"), "tab", "ctrl+u",
                        *typed("honesty"), "shift+tab", "end", *typed(" svar"))
    assert (form[0]["label"], form[0]["id"]) == ("Ærlig svar", "honesty")
    # an emptied id field follows the label again
    _, form, _, _ = run(make_app(commented), "plus", "Ø", "tab", "ctrl+u", "shift+tab",
                        "end", "l")
    assert form[0]["id"] == "ol"


@pytest.mark.parametrize(("label", "slug"), [
    ("Ærlig støtte", "aerlig-stotte"),
    ("Små båter", "sma-bater"),
    ("ØKONOMI – Æ", "okonomi-ae"),
    ("Straße", "strasse"),
])
def test_ids_made_from_names_spell_out_letters_without_accents(label, slug):
    assert slugify(label, fallback="code") == slug


# -- refusals: shown in the form, the file untouched, everything typed kept --------------------

@pytest.mark.parametrize(("answers", "said"), [
    ({"label": "Eierskap", "id": "ownership"},
     "'ownership' is already the id of code 'ownership' (choose another id)"),
    ({"label": "Sterk", "id": "anchoring"}, "already a former id (alias) of code "
                                            "'lead-strong'"),
    ({"label": "Hopp", "key": "j"}, "shortcut key 'j' is reserved by the interactive coder"),
    ({"label": "Pluss", "key": "+"}, "shortcut key '+' is reserved"),
    ({"label": "Eksamen", "key": "x"}, "shortcut key 'x' is bound to 'undo' in the "
                                       "full-screen coder (qcode.yaml `keys:`)"),
    ({"label": "Annet", "key": "o"}, "shortcut key 'o' is already the key of 'ownership'"),
    ({"label": "Ny", "parent": "nowhere"}, "unknown parent code 'nowhere'"),
    ({"label": "", "id": "ny"}, "the new code needs a label"),
    ({"label": "Æ", "id": "Æ"}, "'Æ' cannot be a code id"),
])
def test_a_refusal_is_shown_in_the_form_which_keeps_what_was_typed(commented, answers, said):
    commented.write("qcode.yaml", commented.read("qcode.yaml") + 'keys:\n  undo: "u,x"\n')
    before = (commented.root / CODEBOOK_FILE).read_bytes()
    keys = ["plus"]
    for name in ("label", "id", "parent", "description", "key"):
        value = answers.get(name)
        if value is not None:
            keys += ["ctrl+u", *typed(value)]
        keys.append("tab")
    keys.append("ctrl+s")
    screen, form, _, _ = run(make_app(commented), *keys)
    assert isinstance(screen, NewCodeScreen)  # still open
    values, error = form
    assert said in error
    assert {k: v for k, v in values.items() if k in answers} == answers
    assert (commented.root / CODEBOOK_FILE).read_bytes() == before
    assert commented.log_lines("c") == []


def test_after_a_refusal_the_corrected_form_adds_the_code(commented):
    keys = ["plus", *typed("Annet"), "tab", "tab", "tab", "tab", "o", "enter",
            "backspace", "a", "enter"]
    screen, _, status, _ = run(make_app(commented), *keys)
    assert isinstance(screen, CoderScreen)
    assert "press a to use it" in status
    assert Project.open(commented.root).codebook.get("annet").key == "a"


def test_esc_writes_nothing(commented):
    keys = ["plus", *typed("Vikarer"), "tab", "tab", "tab", "tab", "y", "escape", "y"]
    screen, _, status, _ = run(make_app(commented), *keys)
    assert isinstance(screen, CoderScreen)
    assert (commented.root / CODEBOOK_FILE).read_text("utf-8") == COMMENTED
    assert commented.log_lines("c") == []
    assert "vikarer" not in status


def test_a_session_without_a_project_cannot_add_a_code(project_dir):
    session = CodingSession(Project.open(project_dir.root).corpus, "c")
    with pytest.raises(UsageError, match="no project"):
        session.add_code({"id": "ny", "label": "Ny"})


def test_snapshot_new_code_form(commented, snap_compare):
    """The form at 80×24 with the id suggested from the label and a refusal shown."""
    assert snap_compare(make_app(commented),
                        press=["plus", *typed("Ærlig støtte"), "tab", "tab", "tab", "tab",
                               "o", "ctrl+s"],
                        terminal_size=(80, 24))


# -- line mode --------------------------------------------------------------------------------

def plain(cli, *lines):
    return cli("code", "--plain", "--coder", "c", "voss-principal",
               input="\n".join(lines) + "\n")


def test_line_mode_new_adds_the_code_and_its_key_codes_at_once(cli, commented):
    result = plain(cli, ":new stotte Støtte fra ledelsen parent=Leadership key=s", "s", "q")
    assert result.exit_code == 0, result.output
    assert ("added code stotte to codebooks/codes.yaml under leadership (key s); answer s "
            "to use it") in result.stdout
    assert "saved: +stotte (voss-principal passage 1)" in result.stdout  # `s` codes now
    assert (commented.root / CODEBOOK_FILE).read_bytes() == inserted_after(
        COMMENTED, "        description: Leaders leave it to others.",
        "      - id: stotte\n        label: Støtte fra ledelsen\n        key: s\n",
        "added stotte under leadership")
    assert [(e["op"], e["code"]) for e in commented.log_lines("c")] == [("add", "stotte")]


def test_line_mode_new_refuses_as_check_would_and_writes_nothing(cli, commented):
    result = plain(cli, ":new", ":new ownership Eierskap", ":new ny Ny key=L",
                   ":new ny Ny parent=nowhere", ":new ny Ny key=a key=b", "q")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "usage: :new ID LABEL [parent=PARENT] [key=K]" in out
    assert "error: 'ownership' is already the id of code 'ownership'" in out
    assert "error: shortcut key 'L' is already the key of 'lead-strong'" in out
    assert "error: unknown parent code 'nowhere'" in out
    assert "error: key= is given twice; nothing added" in out
    assert (commented.root / CODEBOOK_FILE).read_text("utf-8") == COMMENTED
    assert commented.log_lines("c") == []


def test_line_mode_help_lists_new(cli, commented):
    assert ":new ID LABEL [parent=PARENT] [key=K]" in plain(cli, "?", "q").stdout
