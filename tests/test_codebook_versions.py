"""The codebook version on codings (`cb`), the definition-changed warning of `qcode check`
and `qcode codes --since`, and `qcode codebook diff` between files and git revisions."""

import json
import subprocess
from pathlib import Path

import pytest

from qcode import Project
from qcode.coding.session import CodingSession
from qcode.store.versions import changed_since, version_key

CHANGELOG = """\
changelog:
  - version: "1.2"
    date: "2026-06-01"
    changes: ["lead-strong now says who carries the work"]
    definitions: [anchoring]
  - version: "1.1"
    date: "2026-01-01"
    changes: ["personal added"]
"""


PROJECTS: list[Path] = []  # the fixture project of the running test (for coded texts)


@pytest.fixture(autouse=True)
def _remember(project_dir):
    PROJECTS[:] = [project_dir.root]


def versioned(project_dir, version: str = "1.2") -> None:
    project_dir.replace("codebooks/codes.yaml", 'version: "1"\n',
                        f'version: "{version}"\n' + CHANGELOG)


def add(coder: str, code: str, at: str, cb: str | None = None, start: int = 0) -> dict:
    body = Project.open(PROJECTS[0]).transcript("voss-principal").body if PROJECTS else ""
    event = {"op": "add", "id": f"{coder}-{code}-{start}", "transcript": "voss-principal",
             "start": start, "end": start + 3, "code": code, "text": body[start:start + 3],
             "at": at}
    if cb is not None:
        event["cb"] = cb
    return event


# -- cb on new codings -----------------------------------------------------------------------

def test_qcode_tag_stamps_the_codebook_version(project_dir, cli):
    versioned(project_dir, "1.2")
    result = cli("tag", "voss-principal", "2", "ownership", "--coder", "a")
    assert result.exit_code == 0, result.stderr
    (event,) = project_dir.log_lines("a")
    assert event["cb"] == "1.2"


def test_a_session_toggle_stamps_and_a_memo_edit_keeps_the_old_version(project_dir):
    project_dir.append_log("c", add("c", "ownership", "2025-01-01T00:00:00.000Z"))
    project = Project.open(project_dir.root)
    session = CodingSession(project, "c", ["voss-principal"])
    session.goto(0, 1)
    session.toggle("lead-strong")
    added = [e for e in project_dir.log_lines("c") if e.get("code") == "lead-strong"]
    assert added[0]["cb"] == "1"
    old = next(c for c in project.codings("c") if c.code == "ownership")
    session.set_coding_memo(old.id, "looked again")
    rewritten = project_dir.log_lines("c")[-1]
    # Written again, it was still made before versions were stamped: no `cb` claimed.
    assert rewritten["memo"] == "looked again" and "cb" not in rewritten


def test_old_events_without_cb_replay_and_cb_is_kept_in_extra(project_dir):
    project_dir.append_log("a", add("a", "ownership", "2025-01-01T00:00:00.000Z"),
                           add("a", "personal", "2026-02-01T00:00:00.000Z", cb="1.1", start=5))
    codings = Project.open(project_dir.root).codings("a")
    assert [c.code for c in codings] == ["ownership", "personal"]
    assert "cb" not in codings[0].extra and codings[1].extra["cb"] == "1.1"


def test_versions_compare_as_numbers():
    assert version_key("1.10") > version_key("1.9")
    assert version_key("2") == version_key("2.0") < version_key("2.1")


# -- the definition-changed warning ----------------------------------------------------------

def predating_fixture(project_dir) -> None:
    versioned(project_dir)
    project_dir.append_log(
        "a", add("a", "lead-strong", "2026-05-01T09:00:00.000Z", start=0),       # no cb, before
        add("a", "anchoring", "2026-07-01T09:00:00.000Z", cb="1.1", start=5),  # cb 1.1 < 1.2
        add("a", "lead-strong", "2026-07-02T09:00:00.000Z", cb="1.2", start=9))  # after
    project_dir.append_log(
        "b", add("b", "lead-strong", "2026-07-01T09:00:00.000Z", start=0),       # no cb, after
        add("b", "lead-strong", "2026-01-05T09:00:00.000Z", cb="1.10", start=5),  # 1.10 > 1.2
        add("b", "lead-strong", "2026-01-05T09:00:00.000Z", cb="1.1", start=9))   # before


def test_check_warns_of_codings_that_predate_a_definition_change(project_dir, cli):
    predating_fixture(project_dir)
    result = cli("check")
    line = next(x for x in result.stdout.splitlines() if "coding-predates-definition" in x)
    assert "codebooks/codes.yaml:4:" in line  # the line of the 1.2 changelog entry
    assert "3 codings of lead-strong (a 2, b 1) predate version 1.2" in line
    assert "qcode code --coder a --review lead-strong" in result.stdout
    data = json.loads(cli("check", "--format", "json").stdout)
    (problem,) = [p for p in data["problems"] if p["rule"] == "coding-predates-definition"]
    assert problem["severity"] == "warning" and problem["line"] == 4


def test_no_warning_without_a_definition_change(project_dir, cli):
    project_dir.append_log("a", add("a", "lead-strong", "2020-01-01T00:00:00.000Z"))
    assert "coding-predates-definition" not in cli("check").stdout


def test_codes_since_lists_changed_codes_with_predating_counts(project_dir, cli):
    predating_fixture(project_dir)
    data = json.loads(cli("codes", "--since", "1.0", "-f", "json").stdout)
    assert data["codes"] == [
        {"id": "lead-strong", "label": "Strong anchoring", "changed_in": ["1.2"],
         "predating": 3},
        {"id": "personal", "label": "Personal outcomes", "changed_in": ["1.1"],
         "predating": 0}]
    data = json.loads(cli("codes", "--since", "1.1", "-f", "json").stdout)
    assert [c["id"] for c in data["codes"]] == ["lead-strong"]
    csv = cli("codes", "--since", "1.1", "-f", "csv").stdout.splitlines()
    assert csv == ["id,label,changed_in,predating", "lead-strong,Strong anchoring,1.2,3"]
    refused = cli("codes", "--since", "3")
    assert refused.exit_code == 2 and "at version 1.2" in refused.stderr


# -- qcode codebook diff ---------------------------------------------------------------------

def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def edit_codebook(project_dir) -> None:
    """Each kind of change: rename (alias), move, definition, label, key, add, remove."""
    rel = "codebooks/codes.yaml"
    project_dir.replace(rel, "      - id: lead-strong\n", "      - id: lead-carried\n")
    project_dir.replace(rel, "aliases: [anchoring]", "aliases: [anchoring, lead-strong]")
    project_dir.replace(rel, "Leaders leave it to others.", "Leaders stand back.")
    project_dir.replace(rel, "label: Staff ownership", "label: Ownership by staff")
    project_dir.replace(rel, "key: p\n", "key: q\n")
    project_dir.replace(rel, "  - id: outcomes\n    label: Outcomes\n    description: What came "
                        "out of it.\n    children:\n", "  - id: outcomes\n    label: Outcomes\n"
                        "    description: What came out of it.\n    children:\n"
                        "      - id: ownership\n        label: Staff ownership\n"
                        "        description: Teachers own the work.\n")
    text = project_dir.read(rel)
    text = text.replace("  - id: ownership\n    label: Ownership by staff\n    key: o\n"
                        "    description: Teachers own the work.\n", "")
    project_dir.write(rel, text.replace("key: q\n", "key: q\n")
                      .replace("  - id: outcomes\n", "  - id: resources\n    label: Resources\n"
                               "    description: Money and time.\n  - id: outcomes\n", 1))


@pytest.fixture
def repo(project_dir):
    root = project_dir.root
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.org")
    git(root, "config", "user.name", "Tester")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "v1")
    git(root, "tag", "v1")
    return project_dir


def test_diff_between_two_revisions_reports_each_kind_of_change(repo, cli):
    edit_codebook(repo)
    git(repo.root, "commit", "-qam", "v2")
    result = cli("codebook", "diff", "v1", "HEAD", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"] == "v1:codebooks/codes.yaml"
    assert data["added"] == ["resources"]
    assert data["removed"] == []
    assert data["renamed"] == [{"from": "lead-strong", "to": "lead-carried"}]
    assert data["moved"] == [{"code": "ownership", "from": None, "to": "outcomes"}]
    assert data["definitions"] == [{"code": "lead-weak", "fields": ["description"]}]
    assert data["labels"] == []  # the moved ownership kept its label
    assert data["keys"] == [{"code": "ownership", "from": "o", "to": None},
                            {"code": "personal", "from": "p", "to": "q"}]


def test_diff_defaults_to_head_against_the_working_file(repo, cli):
    repo.replace("codebooks/codes.yaml", "label: Staff ownership", "label: Ownership")
    text = cli("codebook", "diff").stdout
    assert text.splitlines()[0].startswith("HEAD:codebooks/codes.yaml (version 1)")
    assert "label changed (1):\n  ownership: 'Staff ownership' -> 'Ownership'" in text
    md = cli("codebook", "diff", "-f", "md").stdout
    assert "## Label changed (1)" in md


def test_diff_of_two_files_and_exit_1_when_a_removed_code_has_codings(project_dir, cli):
    old = project_dir.root / "old.yaml"
    old.write_text(project_dir.read("codebooks/codes.yaml"), "utf-8")
    project_dir.replace("codebooks/codes.yaml", "      - id: lead-weak\n        label: Weak "
                        "anchoring\n        key: W\n        description: Leaders leave it to "
                        "others.\n", "")
    assert cli("codebook", "diff", "old.yaml").exit_code == 0  # no coding of lead-weak yet
    cli("tag", "voss-principal", "2", "lead-weak", "--coder", "a")  # refused: unknown now
    project_dir.append_log("a", add("a", "lead-weak", "2026-01-01T00:00:00.000Z"))
    result = cli("codebook", "diff", "old.yaml", "codebooks/codes.yaml")
    assert result.exit_code == 1
    assert "removed (1):\n  lead-weak (still has 1 coding)" in result.stdout
    assert "removed code lead-weak still has 1 coding (a 1)" in result.stderr


def test_diff_refuses_an_unknown_revision_and_a_folder_without_git(repo, cli, tmp_path):
    result = cli("codebook", "diff", "no-such-tag")
    assert result.exit_code == 1 and "neither a file nor a git revision" in result.stderr
    assert len(result.stderr.splitlines()) == 2  # the error and its hint, no traceback
    (repo.root / ".git").rename(tmp_path / "git-away")
    result = cli("codebook", "diff")
    assert result.exit_code == 1 and "not in a git repository" in result.stderr


def test_the_study_codebook_changed_leadership_strategy_after_1_0():
    root = Path(__file__).resolve().parents[1]
    codebook = Project.open(root).codebook
    assert changed_since(codebook, "1.1")["leadership-strategy"] == ["2.0"]
