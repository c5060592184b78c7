"""``qcode import transcripts`` and ``qcode reanchor`` through the command line, in the
fixture project."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qcode import Project

ATTRS = ["--attr", "school=Voss", "--attr", "informant_group=teacher"]


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph("I: Hva lærte elevene?")
    document.add_paragraph("Lærer 3: De ble tryggere, særlig de stille.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "I"
    table.cell(0, 1).text = "Takk."
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


SRT = ("1\n00:00:01,000 --> 00:00:03,000\nSpeaker 1: Hvordan gikk det i Málaga?\n\n"
       "2\n00:00:03,500 --> 00:00:06,000\nSpeaker 2: Bra, vi ble tryggere.\n")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the project, where the transcriber's files arrive."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_import_docx_writes_a_transcript_that_checks(cli, project_dir, outside):
    source = write_docx(outside / "Intervju Voss – lærer 3.docx")
    result = cli("import", "transcripts", str(source), *ATTRS)
    assert result.exit_code == 0, result.stderr
    assert "→ transcripts/intervju-voss-lærer-3.md (3 passages; speakers: I ×2, Lærer 3 ×1)" \
        in result.stderr
    written = project_dir.read("transcripts/intervju-voss-lærer-3.md")
    assert written.startswith("---\nid: intervju-voss-lærer-3\nsource_file: Intervju Voss – "
                              "lærer 3.docx\nimported_at: '20")
    assert written.endswith("school: Voss\ninformant_group: teacher\n---\n"
                            "I: Hva lærte elevene?\n\nLærer 3: De ble tryggere, særlig de "
                            "stille.\n\nI: Takk.\n")
    transcript = Project.open(project_dir.root).transcript("intervju-voss-lærer-3")
    assert transcript.attributes["school"] == "Voss"
    assert transcript.attributes["pupils"] == "372"  # the case table joined
    assert cli("check").exit_code == 0


def test_bad_files_get_one_line_each_and_the_others_import(cli, project_dir, outside):
    good = write_docx(outside / "good.docx")
    (outside / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (outside / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (outside / "empty.txt").write_bytes(b"")
    cp1252 = outside / "gammel.txt"
    cp1252.write_bytes("I: Hvordan?\r\n\r\nRektor: Økonomien var trang, ærlig talt.\r\n"
                       .encode("cp1252"))
    result = cli("import", "transcripts", str(good), str(outside / "locked.docx"),
                 str(outside / "photo.txt"), str(outside / "empty.txt"), str(cp1252), *ATTRS)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {outside / 'locked.docx'}: is encrypted (password-protected) or an old Word "
        "97-2003 file, not a Word document (.docx)",
        f"error: {outside / 'photo.txt'}: is an image, not text",
        f"error: {outside / 'empty.txt'}: is empty",
    ]
    assert "2 of 5 files imported, 3 failed" in result.stderr
    assert "read as cp1252 (guessed by charset-normalizer, confidence" in result.stderr
    assert project_dir.read("transcripts/gammel.md").endswith(
        "Rektor: Økonomien var trang, ærlig talt.\n")
    assert (project_dir.root / "transcripts/good.md").exists()
    assert not (project_dir.root / "transcripts/locked.md").exists()
    assert "Traceback" not in result.stderr


def test_never_overwrites_without_force(cli, project_dir, outside):
    source = outside / "voss-principal.txt"
    source.write_text("I: Ny tekst.\n", "utf-8")
    before = (project_dir.root / "transcripts/voss-principal.md").read_bytes()
    result = cli("import", "transcripts", str(source))
    assert result.exit_code == 1
    assert "transcript 'voss-principal' exists already (transcripts/voss-principal.md)" \
        in result.stderr
    assert "--force" in result.stderr
    assert (project_dir.root / "transcripts/voss-principal.md").read_bytes() == before
    # An id used by a file of another name counts too.
    other = outside / "lier-teacher.md"
    other.write_text("I: Hei.\n", "utf-8")
    assert cli("import", "transcripts", str(other)).exit_code == 1


def test_force_replaces_and_reanchors_the_codings(coded, cli, project_dir, outside):
    old_text = project_dir.read("transcripts/voss-principal.md").split("---\n", 2)[2]
    corrected = ("I: Velkommen. Hvordan startet det?\n\n"
                 + old_text.split("\n\n", 1)[1].replace("for mange lærere",
                                                         "altfor mange lærere"))
    source = outside / "voss-principal.md"
    source.write_text(corrected, "utf-8")
    logs_before = {c: (project_dir.root / f"codings/{c}.jsonl").read_bytes() for c in "ab"}

    dry = cli("import", "transcripts", str(source), "--force", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "would replace" in dry.stderr
    assert "codings: 0 in place, 2 would be moved exactly, 3 would be moved approximately, " \
           "0 orphaned" in dry.stderr
    assert project_dir.read("transcripts/voss-principal.md").split("---\n", 2)[2] == old_text

    result = cli("import", "transcripts", str(source), "--force")
    assert result.exit_code == 0, result.stderr
    written = project_dir.read("transcripts/voss-principal.md")
    assert "school: Voss" in written and "informant_group: principal" in written  # kept
    assert written.endswith(corrected)
    for coder in "ab":
        assert (project_dir.root / f"codings/{coder}.jsonl").read_bytes().startswith(
            logs_before[coder])
    assert cli("check").exit_code == 0
    moved = [e for e in project_dir.log_lines("a") if "reanchored_from" in e]
    assert {e["reanchored_from"]["how"] for e in moved} == {"exact", "fuzzy"}


def test_dry_run_writes_nothing_and_json_reports(cli, project_dir, outside):
    source = outside / "teams.vtt"
    source.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Anne>Hei.</v>\n", "utf-8")
    result = cli("import", "transcripts", str(source), "--dry-run", "--format", "json", *ATTRS)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["ok"] is True
    (entry,) = report["files"]
    assert (entry["id"], entry["path"], entry["format"], entry["speakers"]) == (
        "teams", "transcripts/teams.md", "vtt", {"Anne": 1})
    assert not (project_dir.root / "transcripts/teams.md").exists()


def test_speaker_map_and_id(cli, project_dir, outside):
    source = outside / "zoom_export.srt"
    source.write_text(SRT, "utf-8")
    mapping = outside / "speakers.csv"
    mapping.write_text("speaker,label\nSpeaker 1,I\nSpeaker 2,Elev\n", "utf-8")
    result = cli("import", "transcripts", str(source), "--speaker-map", str(mapping),
                 "--id", "lier-elev-1", *ATTRS)
    assert result.exit_code == 0, result.stderr
    body = project_dir.read("transcripts/lier-elev-1.md").split("---\n", 2)[2]
    assert body == ("I: Hvordan gikk det i Málaga?\n%% 00:00:01\n\n"
                    "Elev: Bra, vi ble tryggere.\n%% 00:00:03\n")
    mapping.write_text("Speaker 1,2 I\n", "utf-8")
    bad = cli("import", "transcripts", str(source), "--speaker-map", str(mapping), "--id", "x")
    assert bad.exit_code == 1
    assert f"speaker map {mapping}: line 1: '2 I' cannot be a speaker label" in bad.stderr


@pytest.mark.parametrize("args", [
    ["--id", "x", "a.txt", "b.txt"],
    ["--id", "../escape", "a.txt"],
    ["--attr", "school", "a.txt"],
    ["--attr", "id=x", "a.txt"],
    ["--attr", "bad key=x", "a.txt"],
    ["--min-score", "120", "a.txt"],
])
def test_usage_errors_exit_2(cli, args):
    result = cli("import", "transcripts", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_encoding_option(cli, project_dir, outside):
    source = outside / "mac.txt"
    source.write_bytes("I: Blåbær og rødgrøt.\n".encode("mac-roman"))
    result = cli("import", "transcripts", str(source), "--encoding", "mac-roman", *ATTRS)
    assert result.exit_code == 0, result.stderr
    assert project_dir.read("transcripts/mac.md").endswith("I: Blåbær og rødgrøt.\n")


# -- qcode reanchor ----------------------------------------------------------------------


def test_check_points_at_reanchor_and_reanchor_fixes_it(coded, cli, project_dir):
    project_dir.replace("transcripts/voss-principal.md", "I: Hvordan startet det?",
                        "I: Velkommen! Hvordan startet det egentlig?")
    check = cli("check")
    assert check.exit_code == 1
    assert "hint: run `qcode reanchor voss-principal` to move it onto its text" in check.stdout

    dry = cli("reanchor", "--dry-run")
    assert dry.exit_code == 0
    assert "voss-principal: 5 exact, 0 fuzzy, 0 orphaned; 0 in place" in dry.stdout
    assert "dry run: 5 codings would move; nothing written" in dry.stderr
    assert cli("check").exit_code == 1

    result = cli("reanchor")
    assert result.exit_code == 0
    assert "appended 6 events to codings/a.jsonl, 4 events to codings/b.jsonl" in result.stderr
    assert cli("check").exit_code == 0
    again = cli("reanchor")
    assert again.exit_code == 0
    assert "every coding is on its text (3 transcripts checked)" in again.stdout


def test_reanchor_lists_orphans_and_exits_1(coded, cli, project_dir):
    project_dir.replace("transcripts/voss-principal.md",
                        "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt.",
                        "Rektor: Det er lærernes.")
    result = cli("reanchor", "voss-principal", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    (entry,) = report["transcripts"]
    assert (entry["exact"], entry["fuzzy"], entry["orphaned"], entry["in_place"]) == (0, 0, 2, 3)
    orphan = entry["placements"][0]
    assert orphan["kind"] == "orphan"
    assert orphan["old"]["text"] == "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt."
    assert orphan["candidate"]["score"] < 90
    text = cli("reanchor")
    assert text.exit_code == 1
    assert "orphan: ownership@a" in text.stdout and "best candidate" in text.stdout
    assert "2 codings could not be placed" in text.stderr


def test_reanchor_unknown_transcript(cli):
    result = cli("reanchor", "voss-principle")
    assert result.exit_code == 1
    assert "unknown transcript 'voss-principle'; did you mean 'voss-principal'?" in result.stderr


def test_help_imports_no_reader_library():
    heavy = ("docx", "lxml", "webvtt", "striprtf", "rapidfuzz", "charset_normalizer",
             "defusedxml", "qcode.importers", "qcode.coding.anchoring")
    for args in (["--help"], ["import", "transcripts", "--help"], ["reanchor", "--help"]):
        code = ("import sys\nfrom qcode.cli.app import app\ntry:\n"
                f"    app({args!r}, prog_name='qcode')\nexcept SystemExit:\n    pass\n"
                f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        assert out.strip().splitlines()[-1] == "[]", args


def test_missing_required_attribute_is_warned_at_import(cli, project_dir, outside):
    source = outside / "uten-skole.txt"
    source.write_text("I: Hei.\n", "utf-8")
    result = cli("import", "transcripts", str(source), "--attr", "informant_group=rektor")
    assert result.exit_code == 0  # written: the fix is an edit of the front matter
    assert "warning: attribute-missing: transcript 'uten-skole' has no 'school'" in result.stderr
    assert "warning: attribute-value: informant_group 'rektor' is not one of the declared " \
           "values" in result.stderr


def test_markdown_transcript_keeps_its_own_id_and_attributes(cli, project_dir, outside):
    source = outside / "export.md"
    source.write_text("---\nid: strinda-teacher\nschool: Strinda\ninformant_group: teacher\n"
                      "---\nLærer: Vi reiste til Malta.\n", "utf-8")
    result = cli("import", "transcripts", str(source))
    assert result.exit_code == 0, result.stderr
    transcript = Project.open(project_dir.root).transcript("strinda-teacher")
    assert transcript.file == "transcripts/strinda-teacher.md"
    assert transcript.attributes["school"] == "Strinda"
    assert transcript.attributes["source_file"] == "export.md"
    assert "warning" not in result.stderr
