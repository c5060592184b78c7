"""The command line: global behaviour, init, discovery, browsing and tagging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qcode._version import __version__
from qcode.project import Project

HEAVY = ("pandas", "textual", "matplotlib", "openpyxl", "numpy")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"]])
def test_help_and_version_import_nothing_heavy(args):
    code = (
        "import sys\n"
        "from qcode.cli.app import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='qcode')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "qcode", "--version"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.startswith(f"qcode {__version__} (Python {sys.version_info.major}.")


def test_version_names_version_and_python(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert f"qcode {__version__}" in result.stdout and "Python" in result.stdout


def test_no_project_is_exit_2_with_a_hint(cli, tmp_path):
    result = cli("check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no qcode.yaml" in result.stderr and "qcode init" in result.stderr
    assert "Traceback" not in result.output


def test_project_is_found_upwards_and_by_option_and_env(cli, project_dir, tmp_path,
                                                        monkeypatch):
    inner = project_dir.root / "transcripts"
    assert cli("check", cwd=inner).exit_code == 0
    assert cli("--project", str(project_dir.root), "check", cwd=tmp_path).exit_code == 0
    monkeypatch.setenv("QCODE_PROJECT", str(project_dir.root))
    assert cli("check", cwd=tmp_path).exit_code == 0
    assert cli("--project", str(tmp_path), "check").exit_code == 2


def test_init_creates_a_valid_project_and_refuses_to_overwrite(cli, tmp_path):
    target = tmp_path / "new"
    result = cli("init", str(target), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (target / "qcode.yaml").is_file()
    assert (target / "codings").is_dir() and (target / "transcripts").is_dir()
    assert cli("check", "--strict", cwd=target).exit_code == 0
    before = (target / "qcode.yaml").read_bytes()
    again = cli("init", str(target), cwd=tmp_path)
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert (target / "qcode.yaml").read_bytes() == before


def test_init_name_is_quoted_safely(cli, tmp_path):
    target = tmp_path / "odd"
    assert cli("init", str(target), "--name", "Studie: «no» #1", cwd=tmp_path).exit_code == 0
    assert Project.open(target).name == "Studie: «no» #1"


# -- tagging ------------------------------------------------------------------------------

def test_tag_and_untag_round_trip(cli, project_dir):
    result = cli("tag", "voss-principal", "2", "ownership", "lead-strong", "--coder", "coder-a",
                 "--memo", "clear case")
    assert result.exit_code == 0, result.output
    assert "tagged voss-principal passage 2: ownership, lead-strong" in result.stderr
    events = project_dir.log_lines("coder-a")
    assert [e["code"] for e in events] == ["ownership", "lead-strong"]
    body = Project.open(project_dir.root).transcript("voss-principal").body
    assert all(body[e["start"]:e["end"]] == e["text"] for e in events)
    assert events[0]["text"].startswith("Rektor: Vi hadde") and events[0]["memo"] == "clear case"

    result = cli("untag", "voss-principal", "2", "ownership", "--coder", "coder-a")
    assert result.exit_code == 0
    events = project_dir.log_lines("coder-a")
    assert events[-1] == {"op": "remove", "id": events[0]["id"], "at": events[-1]["at"]}
    codings = Project.open(project_dir.root).codings("coder-a")
    assert [c.code for c in codings] == ["lead-strong"]


def test_tagging_twice_is_a_noop_with_a_note(cli, project_dir):
    assert cli("tag", "voss-principal", "2", "ownership", "-c", "coder-a").exit_code == 0
    again = cli("tag", "voss-principal", "2", "ownership", "-c", "coder-a")
    assert again.exit_code == 0
    assert "already tagged" in again.stderr
    assert len(project_dir.log_lines("coder-a")) == 1


def test_untag_of_what_is_not_there_is_a_noop(cli, project_dir):
    result = cli("untag", "voss-principal", "2", "ownership", "-c", "coder-a")
    assert result.exit_code == 0 and "not tagged" in result.stderr
    assert project_dir.log_lines("coder-a") == []


@pytest.mark.parametrize("args, message", [
    (["voss-principal", "2", "ownershp"], "did you mean 'ownership'"),
    (["voss-principal", "2", "ownership", "nosuch"], "unknown code 'nosuch'"),
    (["voss-principl", "2", "ownership"], "did you mean 'voss-principal'"),
    (["voss-principal", "9", "ownership"], "has passages 1-4"),
    (["voss-principal", "2", "leadership"], "grouping folder"),
    (["voss-principal", "5:2", "ownership"], "did you mean 2:5?"),
    (["voss-principal", "5:99999", "ownership"], "outside transcript"),
    (["voss-principal", "two", "ownership"], "neither a number nor START:END"),
    (["voss-principal", "²", "ownership"], "neither a number nor START:END"),  # isdigit
    (["voss-principal", "1:²", "ownership"], "neither a number nor START:END"),
])
def test_bad_tag_requests_write_nothing(cli, project_dir, args, message):
    result = cli("tag", *args, "--coder", "coder-a")
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (project_dir.root / "codings" / "coder-a.jsonl").exists()


def test_tag_a_span_and_an_alias_and_coder_from_env(cli, project_dir, monkeypatch):
    monkeypatch.setenv("QCODE_CODER", "coder-b")
    body = Project.open(project_dir.root).transcript("voss-principal").body
    start = body.index("for mange lærere")
    end = start + len("for mange lærere")
    result = cli("tag", "voss-principal", f"{start}:{end}", "anchoring")
    assert result.exit_code == 0, result.output
    [event] = project_dir.log_lines("coder-b")
    assert (event["code"], event["text"]) == ("lead-strong", "for mange lærere")
    # untagging the passage removes the codings inside it
    assert cli("untag", "voss-principal", "2", "lead-strong").exit_code == 0
    assert Project.open(project_dir.root).codings("coder-b") == []


def test_bad_coder_name_is_refused(cli, project_dir):
    result = cli("tag", "voss-principal", "2", "ownership", "--coder", "../evil")
    assert result.exit_code == 2
    assert "coder name" in result.stderr
    assert list((project_dir.root / "codings").iterdir()) == []


def test_tag_json_output(cli):
    result = cli("tag", "voss-principal", "4", "ownership", "-c", "a", "--format", "json")
    data = json.loads(result.stdout)
    assert data["passage"] == 4 and data["tagged"] == ["ownership"]


# -- browsing -----------------------------------------------------------------------------

def test_codes_formats(cli):
    cli("tag", "voss-principal", "2", "ownership", "-c", "coder-a")
    tree = cli("codes", "-f", "tree")
    assert tree.exit_code == 0
    assert "lead-strong" in tree.stdout and "[L]" in tree.stdout and "(folder)" in tree.stdout
    assert "codings by coder-a" in tree.stdout
    assert "ownership  Staff ownership  [o]  1" in tree.stdout
    data = json.loads(cli("codes", "--format", "json").stdout)
    assert [c["id"] for c in data["codes"]] == ["leadership", "lead-strong", "lead-weak",
                                                "ownership", "outcomes", "personal"]
    assert data["codes"][1]["parent"] == "leadership"
    assert data["codes"][3]["counts"] == {"coder-a": 1}
    csv_lines = cli("codes", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "id,label,parent,depth,codable,key,color,codings_coder-a"
    assert csv_lines[4] == "ownership,Staff ownership,,0,true,o,,1"


def test_transcripts_formats(cli):
    cli("tag", "voss-principal", "2", "ownership", "-c", "coder-a")
    data = json.loads(cli("transcripts", "--format", "json").stdout)
    voss = next(t for t in data if t["id"] == "voss-principal")
    assert voss["attributes"]["model"] == "mature"  # joined from the case table
    assert voss["attributes"]["pupils"] == "372"
    assert voss["passages"] == 4 and voss["codings"] == {"coder-a": 1}
    lier = next(t for t in data if t["id"] == "lier-teacher")  # id from the file name
    assert lier["file"] == "transcripts/lier-teacher.md"
    csv_text = cli("transcripts", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("id,file,school,informant_group,")
    table = cli("transcripts", "-f", "table")
    assert table.exit_code == 0 and "voss-principal" in table.stdout
    # piped, with no format named: CSV, like every command that prints a table
    assert cli("transcripts").stdout == csv_text
    assert cli("codes").stdout == cli("codes", "-f", "csv").stdout


def test_show_lists_passages_with_codes(cli):
    cli("tag", "voss-principal", "2", "ownership", "-c", "coder-a")
    cli("tag", "voss-principal", "4", "personal", "-c", "coder-b")
    text = cli("show", "voss-principal", "--coder", "coder-a").stdout
    assert "[2] Rektor  ownership" in text and "personal" not in text
    both = cli("show", "voss-principal").stdout
    assert "ownership@coder-a" in both and "personal@coder-b" in both
    data = json.loads(cli("show", "voss-principal", "--format", "json").stdout)
    assert [p["speaker"] for p in data["passages"]] == ["I", "Rektor", "I", "Rektor"]
    assert data["passages"][1]["codes"][0]["code"] == "ownership"


def test_commands_warn_when_files_they_read_are_broken(cli, project_dir):
    project_dir.write("transcripts/broken.md", b"\xff\xfe\x00bad")
    result = cli("transcripts", "--format", "json")
    assert result.exit_code == 0
    assert "run `qcode check`" in result.stderr
    assert len(json.loads(result.stdout)) == 3


def test_no_color_output_has_no_escape_codes(project_dir):
    env = {**os.environ, "NO_COLOR": "1", "QCODE_PROJECT": str(project_dir.root)}
    out = subprocess.run([sys.executable, "-m", "qcode", "codes"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0 and "\x1b[" not in out.stdout


def test_bad_format_is_a_usage_error(cli):
    result = cli("codes", "--format", "yaml")
    assert result.exit_code == 2


def test_internal_errors_are_one_line_without_debug(cli, monkeypatch):
    def boom(self, **_options):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(Project, "check", boom)
    result = cli("check")
    assert result.exit_code == 70
    assert "internal error: RuntimeError: kaboom" in result.stderr
    assert "Traceback" not in result.output
    with pytest.raises(RuntimeError):
        cli("--debug", "check")


def test_cli_layer_has_no_top_level_heavy_imports():
    cli_dir = Path(__file__).resolve().parents[1] / "src" / "qcode" / "cli"
    for path in cli_dir.glob("*.py"):
        for line in path.read_text().splitlines():
            assert not line.startswith(tuple(f"import {m}" for m in HEAVY)), (path, line)
            assert not line.startswith(tuple(f"from {m}" for m in HEAVY)), (path, line)


def test_tag_and_untag_accept_a_codes_shortcut_key(cli, project_dir):
    """#16 item 5: `tag … L` (lead-strong's key) codes as line mode's answer L does."""
    result = cli("tag", "voss-principal", "2", "L", "o", "--coder", "k")
    assert result.exit_code == 0, result.output
    assert {e["code"] for e in project_dir.log_lines("k")} == {"lead-strong", "ownership"}
    assert cli("untag", "voss-principal", "2", "L", "--coder", "k").exit_code == 0
    from qcode import Project

    live = Project.open(project_dir.root).codings("k")
    assert [c.code for c in live] == ["ownership"]


@pytest.mark.parametrize("typed, suggested", [
    ("Staff ownershp", "ownership"),      # by label
    ("anchorng", "lead-strong"),          # by alias
    ("lead-strng", "lead-strong"),        # by id
])
def test_did_you_mean_suggests_by_id_label_and_alias(cli, typed, suggested):
    result = cli("tag", "voss-principal", "2", typed, "--coder", "k")
    assert result.exit_code == 1
    assert f"did you mean '{suggested}'" in result.stderr


def test_paragraph_speakers_are_shown_and_seen_by_rules(cli, project_dir):
    """#16 item 8: under `segmentation: paragraphs` a paragraph opening with `Rektor:` is
    the principal's: `show` names the speaker and a `speaker:` rule holds for it."""
    project_dir.replace("qcode.yaml", "segmentation: turns", "segmentation: paragraphs")
    project_dir.replace("codebooks/codes.yaml", "    key: o\n",
                        "    key: o\n    rules:\n      - all: [{speaker: Rektor}, "
                        "{match: eier*}]\n")
    shown = json.loads(cli("show", "voss-principal", "-f", "json").stdout)
    speakers = [p["speaker"] for p in shown["passages"]]
    assert speakers == ["I", "Rektor", None, "I", "Rektor"]
    result = cli("autocode", "--dry-run", "--format", "json")
    proposals = json.loads(result.stdout)["proposed"]
    assert [(p["transcript"], p["passage"]) for p in proposals
            if p["code"] == "ownership"] == [("voss-principal", 5)]
