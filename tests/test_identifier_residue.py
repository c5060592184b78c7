"""Proving nothing is left: the ``identifier-residue`` and ``key-location`` check rules and
``qcode pseudonymise verify`` (qcode.interchange.residue, qcode.project.residue).

Each test starts from the fixture project with a key kept outside it, shows it clean, puts
one identifier in one place qcode keeps text, and expects exactly that file and line;
taking it out makes the project clean again. Expected lines are found in the files, not
written down.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.format.identifiers import valid_national_id
from qcode.format.pseudonyms import PseudonymKey
from qcode.interchange.residue import scan_paths

KEY = """\
original,replacement,kind
Ola Nordmann,[Person A],person
Bjørnstad skole,[Skole 1],school
Kari,,?
rektor,,none
"""
VALID_ID = "01019000083"
INVALID_ID = "01019000084"  # the same with a wrong check digit


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key.csv"
    path.write_text(KEY, encoding="utf-8")
    return path


def residue(cli, key: Path, *extra: str) -> list[dict]:
    result = cli("check", "--key", str(key), "--format", "json", *extra)
    problems = json.loads(result.stdout)["problems"]
    return [p for p in problems if p["rule"] in ("identifier-residue", "key-location")]


def where(problems: list[dict]) -> list[tuple[str, int | None]]:
    return sorted((p["file"], p["line"]) for p in problems)


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def test_a_fixture_without_identifiers_is_clean_and_check_without_a_key_is_unchanged(
        cli, key_file):
    assert residue(cli, key_file) == []  # «rektor» is in a transcript but marked `none`
    plain = cli("check")
    assert plain.exit_code == 0 and "identifier" not in plain.stdout


def test_an_original_in_a_transcript_is_an_error_at_its_line(cli, project_dir, key_file):
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del",
                        "Det sa Ola  Nordmann. Det ble en del")
    path = project_dir.root / "transcripts/voss-principal.md"
    found = residue(cli, key_file)
    assert where(found) == [("transcripts/voss-principal.md", line_of(path, "Ola"))]
    assert "key line 2 (person)" in found[0]["message"]
    assert "Ola" not in found[0]["message"]  # what is hidden is never printed
    result = cli("check", "--key", str(key_file))
    assert result.exit_code == 1
    assert f"transcripts/voss-principal.md:{line_of(path, 'Ola')}: error[identifier-residue]" \
        in result.stdout
    project_dir.replace("transcripts/voss-principal.md", "Det sa Ola  Nordmann. ", "")
    assert residue(cli, key_file) == []


@pytest.mark.parametrize("form", ["Ola Nordmanns", "Ola Nordmann-prosjektet",
                                  "OLA NORDMANN's", "Bjørnstad skoles"])
def test_inflected_forms_are_found(cli, project_dir, key_file, form):
    project_dir.replace("transcripts/lier-teacher.md", "Jeg er enig", f"{form} er enig")
    found = residue(cli, key_file)
    assert where(found) == [("transcripts/lier-teacher.md", line_of(
        project_dir.root / "transcripts/lier-teacher.md", "er enig"))]


def test_pattern_identifiers_are_found_and_an_invalid_national_id_is_not(
        cli, project_dir, key_file):
    assert valid_national_id(VALID_ID) and not valid_national_id(INVALID_ID)
    path = project_dir.root / "transcripts/strinda-coordinator.md"
    project_dir.replace("transcripts/strinda-coordinator.md", "Det vet ingen.",
                        f"Det vet ingen. Nummer {INVALID_ID}, nettside www.skole.no, dato 2019-02-26.")
    assert residue(cli, key_file) == []  # a bad checksum, a web address, a date: no residue
    project_dir.replace("transcripts/strinda-coordinator.md", "Ærlig talt.",
                        f"Ærlig talt. {VALID_ID}, ola@example.no, 922 33 444.")
    found = residue(cli, key_file)
    line = line_of(path, "Ærlig")
    assert where(found) == [("transcripts/strinda-coordinator.md", line)] * 3
    assert sorted(p["message"].rsplit(": ", 1)[1] for p in found) == [
        "e-mail address", "national identity number", "phone number"]


def test_a_name_kept_in_a_coding_log_is_found_after_the_transcript_is_cleaned(
        cli, project_dir, key_file):
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del",
                        "Ola Nordmanns plan ble en del")
    assert cli("tag", "voss-principal", "2", "ownership", "--coder", "me").exit_code == 0
    project_dir.replace("transcripts/voss-principal.md", "Ola Nordmanns plan",
                        "[Person A]s plan")
    found = residue(cli, key_file)
    assert where(found) == [("codings/me.jsonl", 1)]
    (project_dir.root / "codings/me.jsonl").unlink()
    assert residue(cli, key_file) == []


def test_a_suggestions_log_is_searched_line_by_line(cli, project_dir, key_file):
    from qcode.store.events import propose_event

    event = propose_event("voss-principal", 0, 4, "ownership", "Kari \u00e5pnet",
                          "2024-01-01T00:00:00Z", "r", 1, [[0, 4]])
    escaped = json.dumps(event, ensure_ascii=True)  # «\u00e5» must not hide anything
    path = project_dir.root / "codings/me.suggestions.jsonl"
    path.write_text(json.dumps({"op": "remove", "id": "x", "at": "t", "reason": "r"})
                    + "\n" + escaped + "\n", encoding="utf-8")
    found = residue(cli, key_file)
    assert where(found) == [("codings/me.suggestions.jsonl", 2)]
    assert "key line 4 (?)" in found[0]["message"]  # an unreviewed candidate counts


def test_memo_and_case_table(cli, project_dir, key_file):
    assert cli("memo", "transcript", "lier-teacher", "--coder", "me", "--text",
               "Snakk med Kari igjen.\nRing 922 33 444.").exit_code == 0
    memo = next((project_dir.root / "memos").rglob("*.md"))
    project_dir.replace("cases/schools.csv", "Lier,450,mature", "Lier,450,ola@example.no")
    found = residue(cli, key_file)
    rel = memo.relative_to(project_dir.root).as_posix()
    assert where(found) == sorted([
        ("cases/schools.csv", line_of(project_dir.root / "cases/schools.csv", "Lier")),
        (rel, line_of(memo, "Kari")), (rel, line_of(memo, "922"))])
    memo.unlink()
    project_dir.replace("cases/schools.csv", "ola@example.no", "mature")
    assert residue(cli, key_file) == []


def test_the_cache_is_decoded_and_reported_without_a_line(cli, project_dir, key_file):
    from qcode.format.cache import Cache

    cache = Cache(project_dir.root, enabled=True)
    cache.save("logs/old.json", {"texts": ["Det sa Bj\u00f8rnstad skole"]})
    entry = project_dir.root / ".qcode/cache/logs/old.json"
    assert entry.exists() and "Bjørnstad".encode() in entry.read_bytes()
    found = residue(cli, key_file)
    assert where(found) == [(".qcode/cache/logs/old.json", None)]
    shutil.rmtree(project_dir.root / ".qcode/cache")
    assert residue(cli, key_file) == []


def test_exports_csv_html_qdpx_and_xlsx(cli, project_dir, key_file):
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del",
                        "Ola Nordmann ble en del")
    assert cli("tag", "voss-principal", "2", "ownership", "--coder", "me").exit_code == 0
    exports = project_dir.root / "exports"
    exports.mkdir()
    for name in ("quotes.csv", "quotes.html"):
        assert cli("segments", "ownership", "-o", f"exports/{name}").exit_code == 0
    assert cli("export", "qdpx", "-o", "exports/study.qdpx").exit_code == 0
    (exports / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    found = [p for p in residue(cli, key_file) if p["file"].startswith("exports/")]
    by_file = {p["file"]: p for p in found}
    assert set(by_file) == {"exports/quotes.csv", "exports/quotes.html", "exports/study.qdpx"}
    for name in ("quotes.csv", "quotes.html"):
        assert by_file[f"exports/{name}"]["line"] == line_of(exports / name, "Ola Nordmann")
    qdpx_messages = [p["message"] for p in found if p["file"] == "exports/study.qdpx"]
    assert any(" in project.qde line " in m for m in qdpx_messages)
    assert any(" in sources/" in m for m in qdpx_messages)
    unsearched = [p for p in json.loads(cli("check", "--key", str(key_file), "--format",
                                            "json").stdout)["problems"]
                  if p["rule"] == "identifier-residue-unsearched"]
    assert [p["file"] for p in unsearched] == ["exports/plot.png"]


def test_an_xlsx_matrix_is_read_through_its_xml(cli, project_dir, tmp_path):
    key = tmp_path / "places.csv"
    key.write_text("original,replacement,kind\nStrinda,[Skole 3],school\n", encoding="utf-8")
    assert cli("tag", "strinda-coordinator", "1", "ownership", "--coder", "me").exit_code == 0
    out = tmp_path / "x.xlsx"
    assert cli("matrix", "--by", "school", "-o", str(out)).exit_code == 0
    report = scan_paths(PseudonymKey.load(key).matcher(), [(out, "x.xlsx")])
    assert report.findings and all(f.member and f.member.startswith("xl/")
                                   for f in report.findings)
    with zipfile.ZipFile(out) as zf:
        xml = zf.read(report.findings[0].member).decode()
    line = report.findings[0].line
    assert "Strinda" in xml.splitlines()[line - 1]


def test_a_name_cut_into_runs_of_a_word_paragraph_is_found(tmp_path, key_file):
    doc = tmp_path / "report.docx"
    with zipfile.ZipFile(doc, "w") as zf:
        zf.writestr("word/document.xml",
                    '<?xml version="1.0"?>\n<w:document xmlns:w="urn:w"><w:body>\n'
                    "<w:p><w:r><w:t>Hei.</w:t></w:r></w:p>\n"
                    "<w:p><w:r><w:t>Ola Nord</w:t></w:r><w:r><w:t>mann sa</w:t></w:r></w:p>\n"
                    "</w:body></w:document>")
    report = scan_paths(PseudonymKey.load(key_file).matcher(), [(doc, "report.docx")])
    assert [(f.member, f.line, f.entry.line) for f in report.findings] == [
        ("word/document.xml", 4, 2)]


def test_html_entities_and_attributes_do_not_hide_a_name(tmp_path, key_file):
    page = tmp_path / "page.html"
    page.write_text('<p>ok</p>\n<p title="Kari">x</p>\n<p>Bj&oslash;rnstad skole</p>\n',
                    encoding="utf-8")
    report = scan_paths(PseudonymKey.load(key_file).matcher(), [(page, "page.html")])
    assert [(f.line, f.entry.original) for f in report.findings] == [
        (2, "Kari"), (3, "Bjørnstad skole")]


def test_a_zip_with_a_member_climbing_out_is_refused_not_followed(tmp_path, key_file, cli):
    evil = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../outside.txt", "Ola Nordmann")
    report = scan_paths(PseudonymKey.load(key_file).matcher(), [(evil, "evil.qdpx")])
    assert not report.clean and not report.findings
    assert "'..'" in report.refused[0][1]
    assert not (tmp_path.parent / "outside.txt").exists()
    result = cli("pseudonymise", "verify", "--key", str(key_file), str(evil))
    assert result.exit_code == 1 and "refused" in result.stdout


def test_verify_exit_codes_formats_and_what_was_searched(cli, project_dir, key_file, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    assert cli("export", "qdpx", "-o", str(shared / "study.qdpx")).exit_code == 0
    (shared / "figure.pdf").write_bytes(b"%PDF-1.4")
    clean = cli("pseudonymise", "verify", "--key", str(key_file), str(shared))
    assert clean.exit_code == 0, clean.output
    assert "archive member" in clean.stdout and "figure.pdf: not searched" in clean.stdout
    (shared / "notes.md").write_text("a\nOla Nordmann b\n", encoding="utf-8")
    dirty = cli("pseudonymise", "verify", "--key", str(key_file), str(shared))
    assert dirty.exit_code == 1
    assert f"{shared}/notes.md:2: key line 2 (person)" in dirty.stdout
    assert "Ola" not in dirty.stdout
    shown = cli("pseudonymise", "verify", "--key", str(key_file), "--show-originals",
                str(shared / "notes.md"))
    assert "Ola Nordmann" in shown.stdout
    data = json.loads(cli("pseudonymise", "verify", "--key", str(key_file), "--format",
                          "json", str(shared)).stdout)
    assert data["clean"] is False
    assert [(f["file"], f["line"], f["key_line"]) for f in data["findings"]] == [
        (f"{shared}/notes.md", 2, 2)]
    assert "text" not in data["findings"][0]
    assert any(m.endswith("project.qde") for m in data["archive_members"])
    no_key = cli("pseudonymise", "verify", str(shared))
    assert no_key.exit_code == 2


def test_verify_defaults_to_the_projects_exports_and_reads_the_key_from_the_environment(
        cli, project_dir, key_file, monkeypatch):
    (project_dir.root / "exports").mkdir()
    (project_dir.root / "exports/a.txt").write_text("ring 922 33 444\n", encoding="utf-8")
    monkeypatch.setenv("QCODE_KEY", str(key_file))
    result = cli("pseudonymise", "verify")
    assert result.exit_code == 1 and "exports/a.txt:1: phone number" in result.stdout


def test_github_annotations_carry_file_and_line(cli, project_dir, key_file):
    project_dir.replace("transcripts/lier-teacher.md", "Jeg er enig", "Kari er enig")
    line = line_of(project_dir.root / "transcripts/lier-teacher.md", "Kari")
    result = cli("check", "--key", str(key_file), "--format", "github")
    assert result.exit_code == 1
    assert (f"::error file=transcripts/lier-teacher.md,line={line},"
            "title=identifier-residue::") in result.stdout


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_a_key_inside_the_project_is_refused_unless_gitignored(cli, project_dir):
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is needed to test the key-location rule")
        pytest.skip("git is not installed: whether the key is ignored cannot be asked")
    root = project_dir.root
    _git(root, "init", "-q")
    key = root / "private" / "key.csv"
    key.parent.mkdir()
    key.write_text(KEY, encoding="utf-8")
    found = residue(cli, key)
    assert [(p["rule"], p["file"]) for p in found] == [("key-location", "private/key.csv")]
    assert "not ignored by git" in found[0]["message"]
    (root / ".gitignore").write_text("private/\n", encoding="utf-8")
    assert residue(cli, key) == []
    exported = root / "exports" / "key.csv"
    exported.parent.mkdir()
    shutil.copy(key, exported)
    (root / ".gitignore").write_text("private/\nexports/\n", encoding="utf-8")
    found = residue(cli, exported)
    assert [(p["rule"], p["file"]) for p in found] == [("key-location", "exports/key.csv")]


_TOKENS = ["ord", "Ola Nordmann", "Kari", "ola@example.no", "922 33 444", "+47 22 33 44 55",
           VALID_ID, INVALID_ID, "2019-02-26", "12", "1234", "-", ".", ",", " ", "  ", "\n",
           "\x00", "x" * 300]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=60))
def test_searching_stretches_finds_what_searching_everything_finds(tokens):
    """The identifier patterns run only on stretches near an @ or a long number: the law
    is that this finds exactly what running them on the whole text finds."""
    from qcode.format.identifiers import find_identifiers
    from qcode.interchange.residue import RESIDUE_KINDS, ResidueScanner

    text = "".join(tokens)
    matcher = PseudonymKey.parse(KEY).matcher()
    everything = sorted([(m.start, "key", text[m.start:m.end]) for m in matcher.finditer(text)]
                        + [(f.start, f.kind, f.text) for f in find_identifiers(text)
                           if f.kind in RESIDUE_KINDS])
    stretches = sorted((offset, kind, found)
                       for offset, kind, found, _ in ResidueScanner(matcher).find(text))
    assert stretches == everything
