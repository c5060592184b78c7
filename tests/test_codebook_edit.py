"""Adding a code to the codebook file while coding (issue #18 item 7): the new lines go
where the code belongs, and every other byte of the file stays as the researcher wrote it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format import codebook_edit
from qcode.format.codebook_edit import add_code

REPO = Path(__file__).resolve().parents[1]

# Comments, blank lines, a folded and a literal description, single and double quotes,
# a flow list with odd spacing, label before id, a flow-style code, and lists written
# with the dash at the key's column (`codes:` / `- id:`).
LAYOUT = """\
# Codebook of the study. Hand-written: keep this comment.
name: 'Layout test'   # single-quoted on purpose
version: "1.0"

description: >-
  Folded text that
  spans lines.

codes:
- id: alpha            # the first family
  label: "Alpha"
  description: >-
    Alpha folded
    text.

  children:
  - label: First child   # label before id
    id: alpha-one
    key: a
    description: One.
    keywords: [x,   y]   # odd spacing in a flow list


# ---- beta family --------------------------------------------------
- id: beta
  label: Beta
  description: |
    Literal block

    with a blank line inside.

  aliases: [old-beta]
- {id: gamma, label: Gamma, description: Flow style.}
# the end
"""


def write(tmp_path: Path, text: str, name: str = "codes.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_inserted(path: Path, before: str, at: int, block: str) -> None:
    """The file is ``before`` with ``block`` inserted at offset ``at``, byte for byte."""
    original = before.encode("utf-8")
    offset = len(before[:at].encode("utf-8"))
    assert path.read_bytes() == original[:offset] + block.encode("utf-8") + original[offset:]


def line_end(text: str, line: str) -> int:
    """The offset just after the line that starts with ``line`` (its newline included)."""
    return text.index("\n", text.index(line)) + 1


def test_a_child_goes_after_the_last_child_and_nothing_else_changes(tmp_path):
    path = write(tmp_path, LAYOUT)
    code = add_code(path, {"id": "alpha-two", "label": "Alpha two", "description": "Two."},
                    parent="alpha")
    assert (code.id, code.label, code.description) == ("alpha-two", "Alpha two", "Two.")
    assert_inserted(path, LAYOUT, line_end(LAYOUT, "    keywords: [x,   y]"),  # blanks after
                    "  - id: alpha-two\n    label: Alpha two\n    description: Two.\n")


def test_a_leaf_becomes_a_parent_with_the_files_list_style(tmp_path):
    path = write(tmp_path, LAYOUT)
    add_code(path, {"id": "beta-one", "label": "Beta one", "key": "b"}, parent="old-beta")
    assert_inserted(path, LAYOUT, line_end(LAYOUT, "  aliases: [old-beta]"),
                    "  children:\n  - id: beta-one\n    label: Beta one\n    key: b\n")
    assert read_codebook(path).parent_of["beta-one"] == "beta"


def test_a_top_level_code_goes_last_after_a_flow_style_one(tmp_path):
    path = write(tmp_path, LAYOUT)
    add_code(path, {"id": "delta", "label": "Delta: the last", "color": "#1F77b4",
                    "description": "First line.\n  Second, indented: kept."})
    assert_inserted(path, LAYOUT, line_end(LAYOUT, "- {id: gamma"),
                    "- id: delta\n  label: 'Delta: the last'\n"
                    '  color: "#1F77b4"\n  description: |-\n'
                    "    First line.\n      Second, indented: kept.\n")
    code = read_codebook(path).get("delta")
    assert code.description == "First line.\n  Second, indented: kept."


def test_the_bundled_codebook_keeps_every_other_byte(tmp_path):
    """Two-space lists under their keys, folded descriptions, rules, banner comments."""
    text = (REPO / "codebooks" / "vet-mobility.yaml").read_text("utf-8")
    path = write(tmp_path, text, "vet-mobility.yaml")
    add_code(path, {"id": "origin-new", "label": "A new origin", "key": "@"},
             parent="origins")
    # After the last origin code's last line (its rules), before the blank line and the
    # banner comment of the next family.
    banner = text.index("  # ====", text.index("  - id: origins"))
    at = text.rindex('                  speaker: "I"\n', 0, banner)
    assert text[text.rindex("      - id: ", 0, at):].startswith("      - id: origin-invit")
    assert_inserted(path, text, text.index("\n", at) + 1,
                    "      - id: origin-new\n        label: A new origin\n        key: '@'\n")


def test_windows_line_ends_and_a_byte_order_mark_are_kept(tmp_path):
    crlf = "\ufeff" + LAYOUT.replace("\n", "\r\n")
    path = write(tmp_path, crlf)
    add_code(path, {"id": "beta-one", "label": "Beta one"}, parent="beta")
    assert_inserted(path, crlf, line_end(crlf, "  aliases: [old-beta]"),
                    "  children:\r\n  - id: beta-one\r\n    label: Beta one\r\n")
    assert path.read_bytes().startswith("\ufeff".encode())


def test_an_empty_flow_list_of_children_becomes_a_block_list(tmp_path):
    text = ("name: x\ncodes:\n  - id: a\n    label: A\n    description: A.\n"
            "    children: []   # none yet\n  - id: b\n    label: B\n    description: B.\n")
    path = write(tmp_path, text)
    add_code(path, {"id": "a-one", "label": "A one"}, parent="a")
    assert path.read_text() == text.replace(
        "    children: []   # none yet\n",
        "    children:   # none yet\n      - id: a-one\n        label: A one\n")


def test_a_file_mode_and_other_codes_survive(tmp_path):
    path = write(tmp_path, LAYOUT)
    os.chmod(path, 0o640)
    add_code(path, {"id": "epsilon", "label": "Epsilon"})
    assert path.stat().st_mode & 0o777 == 0o640
    codebook = read_codebook(path)
    assert codebook.ids == ["alpha", "alpha-one", "beta", "gamma", "epsilon"]


REFUSALS = {
    "id pattern": ({"id": "New Code", "label": "x"}, None, "cannot be a code id"),
    "no id": ({"label": "x"}, None, "needs an id"),
    "id too long": ({"id": "a" * 65, "label": "x"}, None, "cannot be a code id"),
    "duplicate id": ({"id": "alpha-one", "label": "x"}, None, "already the id of"),
    "an alias": ({"id": "old-beta", "label": "x"}, None, "former id (alias) of code 'beta'"),
    "no label": ({"id": "new", "label": "  "}, None, "needs a label"),
    "two-line label": ({"id": "new", "label": "a\nb"}, None, "label is one line"),
    "reserved key": ({"id": "new", "label": "x", "key": "j"}, None, "reserved"),
    "space key": ({"id": "new", "label": "x", "key": " "}, None, "reserved"),
    "duplicate key": ({"id": "new", "label": "x", "key": "a"}, None,
                      "already the key of 'alpha-one'"),
    "long key": ({"id": "new", "label": "x", "key": "ab"}, None, "one printable character"),
    "control key": ({"id": "new", "label": "x", "key": "\x1b"}, None, "one printable"),
    "bad colour": ({"id": "new", "label": "x", "color": "red"}, None, "not #rrggbb"),
    "unknown parent": ({"id": "new", "label": "x"}, "alpah", "did you mean 'alpha'"),
    "flow-style parent": ({"id": "new", "label": "x"}, "gamma", "flow style"),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_what_check_would_refuse_is_refused_and_the_file_untouched(tmp_path, case):
    fields, parent, message = REFUSALS[case]
    path = write(tmp_path, LAYOUT)
    with pytest.raises(QcodeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_code(path, fields, parent)
    assert path.read_bytes() == LAYOUT.encode()


def test_unknown_fields_and_a_broken_codebook_are_refused(tmp_path):
    path = write(tmp_path, LAYOUT)
    with pytest.raises(UsageError, match="no field 'colour'"):
        add_code(path, {"id": "new", "label": "x", "colour": "#000000"})
    broken = LAYOUT.replace("key: a", "key: j")  # a check error already in the file
    path = write(tmp_path, broken)
    with pytest.raises(QcodeError, match=r"has errors.*codes.yaml:19: .*reserved"):
        add_code(path, {"id": "new", "label": "x"})
    assert path.read_text() == broken
    with pytest.raises(UnknownName):
        add_code(write(tmp_path, LAYOUT), {"id": "new", "label": "x"}, parent="nowhere")
    # A tag that would construct a Python object is refused, never constructed.
    hostile = LAYOUT.replace("name: 'Layout test'", "name: !!python/object/apply:os.system "
                             f"['touch {tmp_path / 'pwned'}']")
    path = write(tmp_path, hostile)
    with pytest.raises(QcodeError, match=r"codes\.yaml:2: YAML tag !!python"):
        add_code(path, {"id": "new", "label": "x"})
    assert path.read_text() == hostile and not (tmp_path / "pwned").exists()


def test_a_file_changed_while_the_code_was_added_is_not_overwritten(tmp_path, monkeypatch):
    path = write(tmp_path, LAYOUT)
    verify = codebook_edit._verify

    def meanwhile(*args, **kwargs):
        path.write_text(LAYOUT + "# an edit saved in another window\n")
        return verify(*args, **kwargs)

    monkeypatch.setattr(codebook_edit, "_verify", meanwhile)
    with pytest.raises(QcodeError, match="changed while the code was being added"):
        add_code(path, {"id": "new", "label": "x"})
    assert path.read_text().endswith("# an edit saved in another window\n")


def test_an_unusual_layout_is_refused_rather_than_changed(tmp_path, monkeypatch):
    """Whatever the insertion did wrong, the file read back must be the old codebook plus
    the code: here the block lands one line too early."""
    path = write(tmp_path, LAYOUT)
    monkeypatch.setattr(codebook_edit, "_line_after", lambda text, index: 0)
    with pytest.raises(QcodeError, match="without changing other parts"):
        add_code(path, {"id": "new", "label": "x"})
    assert path.read_bytes() == LAYOUT.encode()


# -- through the project ------------------------------------------------------------------------

def test_the_project_and_a_running_session_see_the_new_code_at_once(project_dir):
    project_dir.replace("qcode.yaml", "segmentation: turns",
                        "segmentation: turns\nkeys:\n  next-passage: n")
    project = Project.open(project_dir.root)
    session = CodingSession(project, "c", ["voss-principal"])
    assert "ownership-shared" not in project.codebook
    with pytest.raises(QcodeError, match="bound to 'next-passage'"):
        project.add_code({"id": "ownership-shared", "label": "Shared", "key": "n"},
                         parent="ownership")
    code = project.add_code({"id": "ownership-shared", "label": "Shared ownership",
                             "key": "s", "description": "Owned by many."},
                            parent="ownership")
    assert project.codebook.get("ownership-shared") == code
    assert project.codebook.parent_of["ownership-shared"] == "ownership"
    project.tag("voss-principal", 4, ["ownership-shared"], "c")
    session.reload_codebook()
    session.goto(0, 1)
    assert session.match_code("s").id == "ownership-shared"
    session.toggle("s")
    assert session.codes_on() == ["ownership-shared"]
    assert project.check().ok


def test_check_passes_on_the_bundled_study_after_adding_codes(tmp_path, cli):
    study = tmp_path / "bundled"
    for part in ("codebooks", "transcripts", "cases"):
        shutil.copytree(REPO / part, study / part)
    shutil.copy(REPO / "qcode.yaml", study / "qcode.yaml")
    project = Project.open(study)
    before = project.check()
    project.add_code({"id": "origin-new", "label": "New origin", "description": "New."},
                     parent="origins")  # a family with children
    project.add_code({"id": "origin-history-early", "label": "Early history",
                      "description": "Before 2000."}, parent="origin-history")  # a leaf
    project.add_code({"id": "other", "label": "Other", "key": "@",
                      "description": "Anything else."})
    result = cli("--project", str(study), "check")
    assert result.exit_code == 0, result.output
    after = Project.open(study)
    assert after.codebook.parent_of["origin-history-early"] == "origin-history"
    assert len(after.codebook) == len(project.codebook) == before.counts["codes"] + 3
    assert [p.rule for p in after.check().problems] == [p.rule for p in before.problems]


def read_codebook(path: Path):
    """The codebook file read as qcode reads it (no errors allowed)."""
    from qcode.format.codebook import load_codebook
    from qcode.problems import Problems

    problems = Problems()
    codebook = load_codebook(path, path.name, problems)
    assert codebook is not None and not problems.errors, list(problems)
    return codebook
