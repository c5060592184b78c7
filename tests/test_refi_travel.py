"""Memos and cases travel through REFI-QDA to QualCoder and back, and the codebook to
Taguette: coding memos as the selection's ``Description``, per-source name-less cases
with the attributes a transcript inherits from its case, ``creationDateTime`` on sources,
and ``qcode export codebook --format taguette-csv``.

``QualCoderStyleReader`` is our own reader that behaves as QualCoder's REFI-QDA import
does (its ``refi.py``, read for behaviour only): a coding's memo is its selection's
``Description``; a file's variables are the ``VariableValue``s inside its ``TextSource``
plus those of every ``Case`` that has no ``name`` and exactly one ``SourceRef``; named
cases' ``SourceRef``s are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from defusedxml import ElementTree as SafeET

from conftest import require_shared
from qcode import Project
from qcode.interchange.import_report import ImportReport
from qcode.interchange.qdpx import export_project
from qcode.interchange.qdpx_import import import_project

REPO = Path(__file__).resolve().parents[1]
NS = "{urn:QDA-XML:project:1.0}"


@pytest.fixture(scope="module")
def project_schema():
    import xmlschema

    return xmlschema.XMLSchema(str(require_shared("refi-schemas") / "Project.xsd"))


@pytest.fixture
def bundled(tmp_path) -> Path:
    study = tmp_path / "bundled"  # `project_dir` (behind `cli`) is tmp_path / "study"
    study.mkdir()
    for name in ("qcode.yaml", "codebooks", "transcripts", "cases", "codings"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, study / name)
    return study


class QualCoderStyleReader:
    """A ``project.qde`` read the way QualCoder's import reads it (see the module doc)."""

    def __init__(self, qde: str) -> None:
        root = SafeET.fromstring(qde.encode("utf-8"))
        self.variables = {v.get("guid"): v.get("name") for v in root.iter(f"{NS}Variable")}
        codes = {c.get("guid"): c.get("name") for c in root.iter(f"{NS}Code")}
        self.files: dict[str, dict] = {}   # source guid -> {name, date, attributes}
        self.codings: list[dict] = []
        for source in root.iter(f"{NS}TextSource"):
            attributes = {self._value(v)[0]: self._value(v)[1]
                          for v in source.findall(f"{NS}VariableValue")}
            self.files[source.get("guid")] = {"name": source.get("name"), "attributes":
                                              attributes,
                                              "date": source.get("creationDateTime")}
            for selection in source.findall(f"{NS}PlainTextSelection"):
                description = selection.find(f"{NS}Description")
                memo = description.text if description is not None else ""
                for coding in selection.findall(f"{NS}Coding"):
                    self.codings.append({
                        "file": source.get("name"), "code": codes[coding[0].get("targetGUID")],
                        "start": int(selection.get("startPosition")),
                        "end": int(selection.get("endPosition")), "memo": memo or ""})
        for case in root.iter(f"{NS}Case"):
            refs = case.findall(f"{NS}SourceRef")
            if case.get("name") is not None or len(refs) != 1:
                continue  # a named case's sources are not linked to it by QualCoder
            target = self.files[refs[0].get("targetGUID")]["attributes"]
            for value in case.findall(f"{NS}VariableValue"):
                name, text = self._value(value)
                target[name] = text

    def _value(self, element) -> tuple[str, str]:
        return self.variables[element[0].get("targetGUID")], (element[1].text or "").strip()

    def attributes(self, file_name: str) -> dict[str, str]:
        return next(f["attributes"] for f in self.files.values() if f["name"] == file_name)


def _memo_project(project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], "a", memo="Anchored in the plan")
    project.tag("voss-principal", 2, ["ownership"], "a", memo="Teachers carry it")
    project.tag("voss-principal", 2, ["personal"], "a")
    project.tag("lier-teacher", 2, ["personal"], "b", memo="Confidence")
    return Project.open(project_dir.root)


def test_coding_memos_are_the_selections_descriptions(project_dir, project_schema):
    result = export_project(_memo_project(project_dir))
    project_schema.validate(result.qde)
    reader = QualCoderStyleReader(result.qde)
    memos = sorted((c["code"], c["memo"]) for c in reader.codings)
    # Three codings of one coder on one span, two memos: three selections, each coding
    # with its own memo and the memo-less one with none.
    assert memos == [("Personal outcomes", ""), ("Personal outcomes", "Confidence"),
                     ("Staff ownership", "Teachers carry it"),
                     ("Strong anchoring", "Anchored in the plan")]
    root = SafeET.fromstring(result.qde.encode("utf-8"))
    spans = Counter((s.get("startPosition"), s.get("endPosition"))
                    for s in root.iter(f"{NS}PlainTextSelection"))
    assert sorted(spans.values()) == [1, 3]
    # The Note and its NoteRef stay for the tools that read those.
    assert len(list(root.iter(f"{NS}Note"))) == 3 == len(list(root.iter(f"{NS}NoteRef")))


def test_memos_come_back_once(project_dir, tmp_path):
    p1 = _memo_project(project_dir)
    archive = tmp_path / "memos.qdpx"
    archive.write_bytes(export_project(p1).data)
    import_project(archive, tmp_path / "back")
    p2 = Project.open(tmp_path / "back")
    assert sorted((c.code, c.memo or "") for c in p2.codings()) == sorted(
        (c.code, c.memo or "") for c in p1.codings())


def test_per_source_cases_carry_what_the_case_table_gives(project_dir, project_schema):
    qde = export_project(Project.open(project_dir.root)).qde
    project_schema.validate(qde)
    root = SafeET.fromstring(qde.encode("utf-8"))
    nameless = [c for c in root.iter(f"{NS}Case") if c.get("name") is None]
    assert len(nameless) == 3 and all(len(c.findall(f"{NS}SourceRef")) == 1 for c in nameless)
    reader = QualCoderStyleReader(qde)
    # Front matter (school, informant_group) from the source, pupils/model from the case;
    # Strinda's empty model cell gives no value.
    assert reader.attributes("voss-principal") == {
        "school": "Voss", "informant_group": "principal", "pupils": "372", "model": "mature"}
    assert reader.attributes("strinda-coordinator") == {
        "school": "Strinda", "informant_group": "coordinator", "pupils": "1052"}


def test_sources_are_dated_from_front_matter_else_file_time(project_dir, tmp_path):
    project_dir.replace("transcripts/voss-principal.md", "school: Voss\n",
                        "school: Voss\ninterview_date: '2019-02-12'\n")
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier\n",
                        "school: Lier\ncreated: 2020-05-01T09:30:00+02:00\n")
    stamp = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC).timestamp()
    os.utime(project_dir.root / "transcripts/strinda-coordinator.md", (stamp, stamp))
    qde = export_project(Project.open(project_dir.root)).qde
    dates = {f["name"]: f["date"] for f in QualCoderStyleReader(qde).files.values()}
    assert dates == {"voss-principal": "2019-02-12T00:00:00Z",
                     "lier-teacher": "2020-05-01T09:30:00+02:00",
                     "strinda-coordinator": "2021-03-04T05:06:07Z"}
    archive = tmp_path / "dated.qdpx"
    archive.write_bytes(export_project(Project.open(project_dir.root)).data)
    import_project(archive, tmp_path / "back")
    # The import gives each file its time back, so the next export says the same.
    assert (tmp_path / "back/transcripts/strinda-coordinator.md").stat().st_mtime == stamp
    assert export_project(Project.open(tmp_path / "back")).qde == qde


def test_a_foreign_source_without_a_date_keeps_its_time_in_front_matter(tmp_path):
    qde = """<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Other" origin="QualCoder">
  <CodeBook><Codes><Code guid="11111111-1111-4111-8111-111111111111" name="Trust"
    isCodable="true"/></Codes></CodeBook>
  <Sources>
    <TextSource guid="22222222-2222-4222-8222-222222222222" name="anna"
      plainTextPath="internal://22222222-2222-4222-8222-222222222222.txt"
      creationDateTime="2019-06-04T05:25:16Z">
      <PlainTextSelection guid="33333333-3333-4333-8333-333333333333" startPosition="0"
        endPosition="5" creationDateTime="2019-06-05T05:25:16Z">
        <Description>Said twice</Description>
        <Coding guid="44444444-4444-4444-8444-444444444444"
          creationDateTime="2019-06-05T05:25:16Z">
          <CodeRef targetGUID="11111111-1111-4111-8111-111111111111"/>
          <NoteRef targetGUID="55555555-5555-4555-8555-555555555555"/>
        </Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
  <Notes><Note guid="55555555-5555-4555-8555-555555555555" name="m">
    <PlainTextContent>Said twice</PlainTextContent></Note></Notes>
</Project>"""
    archive = tmp_path / "other.qdpx"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("project.qde", qde)
        zf.writestr("sources/22222222-2222-4222-8222-222222222222.txt", "Hello world\n")
    report: ImportReport = import_project(archive, tmp_path / "p")
    assert report.skipped == []
    project = Project.open(tmp_path / "p")
    assert project.check().ok
    transcript = project.transcripts[0]
    assert transcript.front_matter["created"] == "2019-06-04T05:25:16Z"
    # The Description and the Note say the same: one memo, not two.
    assert [c.memo for c in project.codings()] == ["Said twice"]


def test_the_bundled_study_through_a_qualcoder_style_reader(bundled, tmp_path, cli):
    p1 = Project.open(bundled)
    result = export_project(p1)
    reader = QualCoderStyleReader(result.qde)
    # Every coding and every coding memo arrives, on the right span.
    want = Counter((c.transcript, c.start, c.end, p1.codebook.get(
        p1.codebook.canonical(c.code)).label, c.memo or "") for c in p1.codings())
    got = Counter((c["file"], c["start"], c["end"], c["code"], c["memo"])
                  for c in reader.codings)
    assert got == want
    assert sum(1 for c in reader.codings if c["memo"]) == sum(
        1 for c in p1.codings() if c.memo) > 0
    # Every file knows its school's model, which lives only in cases/schools.csv.
    for transcript in p1.transcripts:
        model = transcript.attributes.get("model")
        if model:
            assert reader.attributes(transcript.id)["model"] == model

    # What QualCoder keeps: no qcode instruction, named cases without their sources.
    archive = tmp_path / "as-qualcoder-sees-it.qdpx"
    archive.write_bytes(_as_qualcoder_keeps_it(result.data))
    import_project(archive, tmp_path / "back")
    for project in (bundled, tmp_path / "back"):
        answer = cli("matrix", "--by", "model", "--all-coders", "--format", "json",
                     cwd=project)
        assert answer.exit_code == 0, answer.stderr
        if project == bundled:
            original = json.loads(answer.stdout)
    # Without qcode's instruction code ids are made from labels: compare by label.
    def cells(table):
        return [{k: v for k, v in row.items() if k not in ("code", "parent")} for row in table]

    assert cells(json.loads(answer.stdout)) == cells(original)
    assert {row["model"] for row in original} >= {"mature", "instrumental"}


def _as_qualcoder_keeps_it(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = src.read(info)
            if info.filename == "project.qde":
                text = payload.decode("utf-8")
                # After the XML declaration and the <?qcode ...?> instruction.
                rest = text.split("?>\n", 2)[2]
                root = SafeET.fromstring(rest.encode("utf-8"))
                for case in root.iter(f"{NS}Case"):
                    if case.get("name") is not None:
                        for ref in case.findall(f"{NS}SourceRef"):
                            case.remove(ref)
                ET.register_namespace("", NS[1:-1])
                payload = ET.tostring(root, encoding="utf-8", xml_declaration=True)
            dst.writestr(info, payload)
    return out.getvalue()


# -- Taguette ----------------------------------------------------------------------------------


def _taguette_reads(text: str) -> list[tuple[str, str]]:
    """Taguette's codebook CSV rule: exactly one of tag/name/path, optional description."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert sum(name in header for name in ("tag", "name", "path")) == 1
    path, description = header.index("tag"), header.index("description")
    return [(row[path], row[description]) for row in rows[1:]]


def test_taguette_csv(cli, project_dir):
    result = cli("export", "codebook", "--format", "taguette-csv")
    assert result.exit_code == 0, result.stderr
    # Folders (leadership) only in paths; levels joined by dots; label then definition.
    assert _taguette_reads(result.stdout) == [
        ("leadership.lead-strong", "Strong anchoring\nLeaders carry the work."),
        ("leadership.lead-weak", "Weak anchoring\nLeaders leave it to others."),
        ("ownership", "Staff ownership\nTeachers own the work."),
        ("outcomes", "Outcomes\nWhat came out of it."),
        ("outcomes.personal", "Personal outcomes\nConfidence and independence."),
    ]
    target = project_dir.root / "tags.csv"
    assert cli("export", "codebook", "-o", "tags.csv").exit_code == 0
    assert target.read_text("utf-8") == result.stdout
    refused = cli("export", "codebook", "-o", "tags.csv")
    assert refused.exit_code != 0 and "--force" in refused.stderr
    assert cli("export", "codebook", "-o", "tags.csv", "--force").exit_code == 0
    qdc = cli("export", "codebook", "--format", "qdc")
    assert qdc.exit_code == 0 and qdc.stdout == cli("export", "qdc").stdout


def test_taguette_csv_of_the_bundled_study(bundled, cli):
    result = cli("export", "codebook", cwd=bundled)
    assert result.exit_code == 0, result.stderr
    tags = [path for path, _ in _taguette_reads(result.stdout)]
    codable = [c.id for c in Project.open(bundled).codebook.codes if c.codable]
    assert [t.rsplit(".", 1)[-1] for t in tags] == codable
    assert len(set(tags)) == len(tags)
