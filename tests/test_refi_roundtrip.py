"""qcode → REFI-QDA → qcode gives back the very same project, and a second export equals
the first; without qcode's processing instruction the REFI-QDA content alone still carries
the transcripts, attributes, codebook and codings."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from qcode import Project
from qcode.interchange.qdc import import_codebook
from qcode.interchange.qdpx import export_project
from qcode.project import import_qdpx as import_project

REPO = Path(__file__).resolve().parents[1]


def coding_key(c):
    return (c.coder, c.id, c.transcript, c.start, c.end, c.code, c.text, c.at, c.memo,
            tuple(sorted(c.extra.items())))


def assert_same_project(p1: Project, p2: Project) -> None:
    assert p2.config == p1.config
    assert (p2.codebook.name, p2.codebook.version) == (p1.codebook.name, p1.codebook.version)
    assert p2.codebook.roots == p1.codebook.roots
    t1 = {t.id: t for t in p1.transcripts}
    t2 = {t.id: t for t in p2.transcripts}
    assert list(t2) == list(t1)
    for tid, t in t1.items():
        other = t2[tid]
        assert (other.file, other.body, other.front_matter, other.attributes) == (
            t.file, t.body, t.front_matter, t.attributes), tid
    for a, b in zip(p1.case_tables, p2.case_tables, strict=True):
        assert (b.file, b.key, b.columns, b.rows) == (a.file, a.key, a.columns, a.rows)
    assert p2.coders == p1.coders
    assert sorted(map(coding_key, p2.codings())) == sorted(map(coding_key, p1.codings()))


@pytest.fixture
def bundled(tmp_path) -> Path:
    study = tmp_path / "study"
    study.mkdir()
    for name in ("qcode.yaml", "codebooks", "transcripts", "cases", "codings"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, study / name)
    return study


def test_the_bundled_study_round_trips(bundled, tmp_path):
    p1 = Project.open(bundled)
    first = export_project(p1)
    archive = tmp_path / "study.qdpx"
    archive.write_bytes(first.data)
    report = import_project(archive, tmp_path / "back")
    assert report.skipped == [] and report.notes == []
    assert report.check["ok"] and report.check["warnings"] == 0
    assert report.offsets["checked"] == report.offsets["matched"] > 0
    p2 = Project.open(tmp_path / "back")
    assert_same_project(p1, p2)
    assert len(p2.codings()) == first.counts["codings"] == len(p1.codings())
    second = export_project(p2)
    assert second.data == first.data


def test_edge_cases_round_trip(project_dir, tmp_path):
    # Emoji and decomposed letters, a memo, a coding under a former id (alias), a null
    # attribute, a transcript without front matter in a sub-folder, unknown event fields.
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        "Rektor: 😀 Ska\u030a vi hadde")
    project_dir.replace("transcripts/voss-principal.md", "informant_group: principal\n",
                        "informant_group: principal\nformat:\nscore: 4.5\nwho: '12'\n")
    project_dir.write("transcripts/extra/notes.txt", "Note: a text without front matter.\n")
    project_dir.replace("qcode.yaml", "{required: true, values", "{values")
    project_dir.replace("qcode.yaml", "school: {required: true}", "school: {}")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong", "ownership"], "a", memo="Clear case")
    body = project.transcript("voss-principal").body
    start = body.index("vi hadde")
    project_dir.append_log("b", {"op": "add", "id": "0123456789abcdef",
                                 "transcript": "voss-principal", "start": start,
                                 "end": start + 8, "code": "anchoring", "text": "vi hadde",
                                 "at": "2026-03-01T10:00:00Z", "session": 7})
    project.tag("notes", 1, ["personal"], "b")
    p1 = Project.open(project_dir.root)
    assert p1.check().ok, p1.check().errors
    archive = tmp_path / "fixture.qdpx"
    archive.write_bytes(export_project(p1).data)
    report = import_project(archive, tmp_path / "back")
    assert report.check["ok"], report.check
    p2 = Project.open(tmp_path / "back")
    assert_same_project(p1, p2)
    alias = next(c for c in p2.codings("b") if c.id == "0123456789abcdef")
    assert (alias.code, alias.extra) == ("anchoring", {"session": 7})
    assert (tmp_path / "back" / "transcripts" / "extra" / "notes.txt").read_text(
        "utf-8") == "Note: a text without front matter.\n"
    assert export_project(p2).data == export_project(p1).data


def strip_qcode_instruction(data: bytes) -> bytes:
    """The same archive as another tool would see it: without <?qcode ...?>."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = src.read(info)
            if info.filename == "project.qde":
                payload = re.sub(rb"<\?qcode .*?\?>\n", b"", payload, flags=re.DOTALL)
                assert b"<?qcode" not in payload
            dst.writestr(info, payload)
    return out.getvalue()


def test_the_refi_content_alone_carries_the_project(bundled, tmp_path):
    p1 = Project.open(bundled)
    archive = tmp_path / "plain.qdpx"
    archive.write_bytes(strip_qcode_instruction(export_project(p1).data))
    report = import_project(archive, tmp_path / "back")
    assert report.check["ok"], report.check
    p2 = Project.open(tmp_path / "back")
    # Ids are made from names: transcript names are their ids, code ids come from labels.
    label = {c.id: c.label for c in p1.codebook.codes}
    label2 = {c.id: c.label for c in p2.codebook.codes}
    assert sorted(label2.values()) == sorted(label.values())
    assert [c.codable for c in p2.codebook.codes] == [c.codable for c in p1.codebook.codes]
    assert [c.description for c in p2.codebook.codes] == [
        c.description for c in p1.codebook.codes]
    assert [c.examples for c in p2.codebook.codes] == [c.examples for c in p1.codebook.codes]
    t1 = {t.id: t for t in p1.transcripts}
    for t in p2.transcripts:
        assert t.body == t1[t.id].body
        # Cases come back as a case table keyed `case`; every attribute is there.
        attributes = {k: v for k, v in t.attributes.items() if k != "case"}
        assert attributes == t1[t.id].attributes
        assert t.attributes["case"] == t1[t.id].attributes["school"]

    def spans(project, labels):
        return sorted((c.coder, c.transcript, c.start, c.end,
                       labels[project.codebook.resolve(c.code).id], c.text, c.at, c.memo)
                      for c in project.codings())

    assert spans(p2, label2) == spans(p1, label)


def test_codebook_round_trip_through_qdc(project_dir, tmp_path, cli):
    result = cli("export", "qdc", "-o", str(tmp_path / "codes.qdc"))
    assert result.exit_code == 0
    import_codebook(tmp_path / "codes.qdc", tmp_path / "codes.yaml", merge=False,
                    namespace_name="Fixture study")
    from qcode.format.codebook import load_codebook
    from qcode.problems import Problems

    original = Project.open(project_dir.root).codebook
    back = load_codebook(tmp_path / "codes.yaml", "codes.yaml", Problems())
    assert back.roots == original.roots and back.name == original.name
    # The GUIDs are qcode's own for this project: nothing needs keeping.
    assert not (tmp_path / "codes.guids.yaml").exists()


def test_foreign_guids_survive_import_and_export(project_dir, tmp_path, cli):
    """A codebook from another tool keeps its GUIDs (braces, case and all) through qcode."""
    qdc = tmp_path / "spec.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="{5215cc69-b628-4e02-afb9-9beeaee55808}" name="Topics" isCodable="false">'
        '<Code guid="D7AA29DA-519B-4946-9B90-253B6DB8FD0A" name="Economy" isCodable="true"'
        ' color="#ffff00"><Description>Jobs</Description></Code></Code>'
        "</Codes></CodeBook>\n", encoding="utf-8")
    result = cli("import", "qdc", str(qdc), "--into", "codebooks/codes.yaml")
    assert result.exit_code == 1 and "--merge" in result.stderr
    result = cli("import", "qdc", str(qdc), "--merge")
    assert result.exit_code == 0, result.output
    assert "2 codes added" in result.stderr
    sidecar = project_dir.read("codebooks/codes.guids.yaml")
    assert "topics: '{5215cc69-b628-4e02-afb9-9beeaee55808}'" in sidecar
    assert (project_dir.root / "codebooks" / "codes.yaml.bak").exists()
    exported = cli("export", "qdc").stdout
    assert 'guid="{5215cc69-b628-4e02-afb9-9beeaee55808}" name="Topics"' in exported
    assert 'guid="D7AA29DA-519B-4946-9B90-253B6DB8FD0A" name="Economy"' in exported
    # Merging the same codebook again adds nothing and leaves the file alone.
    before = project_dir.read("codebooks/codes.yaml")
    again = cli("import", "qdc", str(qdc), "--merge")
    assert again.exit_code == 0 and "0 codes added, 2 already there" in again.stderr
    assert project_dir.read("codebooks/codes.yaml") == before
    assert cli("check").exit_code == 0
