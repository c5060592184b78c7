"""``qcode export qdc`` and ``qcode export qdpx``: what is written, validated against the
official REFI-QDA schemas (xmlschema), with stable GUIDs."""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import require_shared
from qcode import Project
from qcode.interchange import guids
from qcode.interchange.qdc import export_codebook
from qcode.interchange.qdpx import export_project

REPO = Path(__file__).resolve().parents[1]
NS = "{urn:QDA-XML:project:1.0}"
CB = "{urn:QDA-XML:codebook:1.0}"


@pytest.fixture(scope="module")
def schemas():
    import xmlschema

    folder = require_shared("refi-schemas")
    return {"project": xmlschema.XMLSchema(str(folder / "Project.xsd")),
            "codebook": xmlschema.XMLSchema(str(folder / "Codebook.xsd"))}


def assert_valid(schema, text: str) -> None:
    errors = list(schema.iter_errors(text))
    assert not errors, errors[0]


def parse(text: str):
    import defusedxml.ElementTree as DET

    return DET.fromstring(text.encode("utf-8"))


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


# -- the codebook -------------------------------------------------------------------------------


def test_qdc_is_valid_and_carries_the_codebook(project_dir, schemas):
    project_dir.replace("codebooks/codes.yaml", "        description: Leaders carry the work.\n",
                        "        description: Leaders carry the work.\n"
                        "        include: Plans and follow-up.\n"
                        "        examples: [\"Rektor: Det står i planen.\"]\n"
                        "        color: \"#1f77b4\"\n")
    text, count, warnings = export_codebook(Project.open(project_dir.root))
    assert (count, warnings) == (6, [])
    assert_valid(schemas["codebook"], text)
    root = parse(text)
    assert root.tag == f"{CB}CodeBook" and root.get("origin").startswith("qcode ")
    top = root.find(f"{CB}Codes").findall(f"{CB}Code")
    assert [c.get("name") for c in top] == ["Leadership", "Staff ownership", "Outcomes"]
    assert top[0].get("isCodable") == "false" and top[1].get("isCodable") == "true"
    strong = top[0].findall(f"{CB}Code")[0]
    assert strong.get("name") == "Strong anchoring" and strong.get("color") == "#1f77b4"
    assert strong.find(f"{CB}Description").text == (
        "Leaders carry the work.\n\nInclude: Plans and follow-up.\n\n"
        "Examples:\n- Rektor: Det står i planen.")
    namespace = guids.project_namespace("Fixture study")
    assert strong.get("guid") == str(uuid.uuid5(namespace, "code:lead-strong")).upper()
    assert "<?qcode " in text.split("<CodeBook", 1)[0]   # qcode's ids, before the root


def test_qdc_cli_to_stdout_and_file(cli, project_dir, schemas):
    result = cli("export", "qdc")
    assert result.exit_code == 0, result.output
    assert_valid(schemas["codebook"], result.stdout)
    target = project_dir.root / "out.qdc"
    assert cli("export", "qdc", "-o", str(target)).exit_code == 0
    assert target.read_text("utf-8") == result.stdout
    again = cli("export", "qdc", "-o", str(target))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert cli("export", "qdc", "-o", str(target), "--force").exit_code == 0


def test_an_empty_codebook_cannot_be_a_qdc(cli, project_dir):
    project_dir.write("codebooks/codes.yaml", "name: Empty\ncodes: []\n")
    result = cli("export", "qdc")
    assert result.exit_code == 1 and "no codes" in result.stderr


# -- the project --------------------------------------------------------------------------------


def test_qdpx_holds_the_whole_project(coded, schemas):
    result = export_project(coded)
    files = unzip(result.data)
    qde = files["project.qde"].decode("utf-8")
    assert_valid(schemas["project"], qde)
    root = parse(qde)
    assert [u.get("name") for u in root.find(f"{NS}Users")] == ["a", "b"]
    assert [u.get("id") for u in root.find(f"{NS}Users")] == ["a", "b"]
    # Variables typed by their values: pupils are whole numbers in every row.
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.find(f"{NS}Variables")}
    assert variables == {"school": "Text", "informant_group": "Text", "pupils": "Integer",
                         "model": "Text"}
    # Cases: one per case-table row, with the row's values and its transcripts.
    sources = {s.get("guid"): s.get("name") for s in root.find(f"{NS}Sources")}
    variable_name = {v.get("guid"): v.get("name") for v in root.find(f"{NS}Variables")}
    cases = {}
    for case in root.find(f"{NS}Cases"):
        if case.get("name") is None:  # per-source cases: tests/test_refi_travel.py
            continue
        values = {variable_name[v.find(f"{NS}VariableRef").get("targetGUID")]: v[1].text
                  for v in case.findall(f"{NS}VariableValue")}
        refs = [sources[r.get("targetGUID")] for r in case.findall(f"{NS}SourceRef")]
        cases[case.get("name")] = (values, refs)
    assert cases == {
        "Voss": ({"pupils": "372", "model": "mature"}, ["voss-principal"]),
        "Lier": ({"pupils": "450", "model": "mature"}, ["lier-teacher"]),
        "Strinda": ({"pupils": "1052"}, ["strinda-coordinator"]),
    }
    # Sources: embedded UTF-8 text, LF only, no BOM; the transcript's own attributes.
    assert result.counts["transcripts"] == 3 and result.counts["codings"] == 12
    for source in root.find(f"{NS}Sources"):
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        raw = files[f"sources/{source.get('guid')}.txt"]
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
        body = raw.decode("utf-8")
        assert body == coded.transcript(source.get("name")).body
        values = {variable_name[v.find(f"{NS}VariableRef").get("targetGUID")]: v[1].text
                  for v in source.findall(f"{NS}VariableValue")}
        assert set(values) == {"school", "informant_group"}
        for selection in source.findall(f"{NS}PlainTextSelection"):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert selection.get("name") == body[start:end]   # any importer can check it
            for coding in selection.findall(f"{NS}Coding"):
                assert coding.get("creatingUser") == selection.get("creatingUser")
                assert coding.get("creationDateTime").endswith("Z")
    # Each coder's codings on one span share a selection: 6 spans of a, 4 of b.
    selections = root.findall(f".//{NS}PlainTextSelection")
    by_user = {}
    for selection in selections:
        by_user.setdefault(selection.get("creatingUser"), []).append(selection)
    assert sorted(len(v) for v in by_user.values()) == [4, 6]
    assert len(root.findall(f".//{NS}Coding")) == 12
    # No memos in this fixture, so no empty <Notes/> (the schema forbids empty containers).
    assert root.find(f"{NS}Notes") is None


def test_offsets_are_code_points_of_the_body(project_dir, schemas):
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        "Rektor: 😀 Ska\u030a vi hadde")
    project = Project.open(project_dir.root)
    body = project.transcript("voss-principal").body
    start = body.index("vi hadde")
    project.tag("voss-principal", (start, start + 8), ["ownership"], "a")
    result = export_project(Project.open(project_dir.root))
    assert_valid(schemas["project"], result.qde)
    selection = parse(result.qde).find(f".//{NS}PlainTextSelection")
    # The emoji is one code point and the decomposed å became one (NFC).
    assert int(selection.get("startPosition")) == start == body.index("Skå") + 4
    assert selection.get("name") == "vi hadde"
    assert any("outside the Basic Multilingual Plane" in w for w in result.warnings)


def test_memos_become_notes_that_codings_refer_to(project_dir, schemas):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], "a", memo="Clear & <strong> case")
    qde = export_project(Project.open(project_dir.root)).qde
    assert_valid(schemas["project"], qde)
    root = parse(qde)
    note = root.find(f"{NS}Notes/{NS}Note")
    assert note.find(f"{NS}PlainTextContent").text == "Clear & <strong> case"
    assert note.get("name") == "Memo: Strong anchoring"
    ref = root.find(f".//{NS}Coding/{NS}NoteRef")
    assert ref.get("targetGUID") == note.get("guid")


def test_empty_containers_are_left_out(tmp_path, schemas, cli):
    assert cli("init", str(tmp_path / "bare"), cwd=tmp_path).exit_code == 0
    project = Project.open(tmp_path / "bare")
    qde = export_project(project).qde
    assert_valid(schemas["project"], qde)
    root = parse(qde)
    assert [child.tag.split("}")[1] for child in root] == ["CodeBook"]


def test_guids_are_stable_across_exports_and_edits(coded):
    first = export_project(coded)
    assert export_project(Project.open(coded.root)).data == first.data  # byte for byte
    coded.tag("strinda-coordinator", 2, ["ownership"], "b")
    second = parse(export_project(Project.open(coded.root)).qde)
    old = parse(first.qde)

    def guids_of(root, tag):
        return {e.get("guid") for e in root.iter(f"{NS}{tag}")}

    for tag in ("User", "Code", "Variable", "Case", "TextSource", "Coding"):
        assert guids_of(old, tag) <= guids_of(second, tag), tag
    assert len(guids_of(second, "Coding")) == len(guids_of(old, "Coding")) + 1


def test_coder_option_narrows_the_export(cli, coded, schemas):
    target = coded.root / "a.qdpx"
    result = cli("export", "qdpx", "-o", str(target), "--coder", "a")
    assert result.exit_code == 0, result.output
    assert "8 codings by 1 coder" in result.stderr
    qde = unzip(target.read_bytes())["project.qde"].decode("utf-8")
    assert_valid(schemas["project"], qde)
    root = parse(qde)
    assert [u.get("name") for u in root.find(f"{NS}Users")] == ["a"]
    assert len(root.findall(f".//{NS}Coding")) == 8
    unknown = cli("export", "qdpx", "-o", str(coded.root / "x.qdpx"), "--coder", "c")
    assert unknown.exit_code == 1 and "unknown coder 'c'" in unknown.stderr
    assert not (coded.root / "x.qdpx").exists()


def test_qdpx_cli_refuses_to_overwrite(cli, coded):
    target = coded.root / "study.qdpx"
    assert cli("export", "qdpx", "-o", str(target)).exit_code == 0
    before = target.read_bytes()
    again = cli("export", "qdpx", "-o", str(target))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert target.read_bytes() == before
    assert cli("export", "qdpx", "-o", str(target), "--force").exit_code == 0


def test_codings_that_cannot_be_exported_are_named(project_dir):
    project_dir.append_log("a", {"op": "add", "id": "x1", "transcript": "voss-principal",
                                 "start": 0, "end": 99999, "code": "ownership", "text": "?",
                                 "at": "2026-01-01T00:00:00Z"},
                           {"op": "add", "id": "x2", "transcript": "voss-principal",
                            "start": 0, "end": 2, "code": "leadership", "text": "I:",
                            "at": "2026-01-01T00:00:00Z"})
    result = export_project(Project.open(project_dir.root))
    assert result.counts["codings"] == 0
    assert any("x1" in w and "outside" in w for w in result.warnings)
    assert any("x2" in w and "grouping folder" in w for w in result.warnings)


def test_the_bundled_study_exports_validly(tmp_path, schemas):
    import shutil

    for name in ("qcode.yaml", "codebooks", "transcripts", "cases", "codings"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    project = Project.open(tmp_path)
    result = export_project(project)
    assert_valid(schemas["project"], result.qde)
    assert result.warnings == []
    assert result.counts["transcripts"] == len(project.transcripts) >= 32
    assert result.counts["codings"] == len(project.codings())


@pytest.mark.parametrize("args", [["export", "--help"], ["import", "qdpx", "--help"],
                                  ["export", "qdc", "--help"]])
def test_help_imports_no_xml_or_zip_machinery(args):
    import subprocess
    import sys

    code = ("import sys\n"
            "from qcode.cli.app import app\n"
            "try:\n"
            f"    app({args!r}, prog_name='qcode')\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(sorted(m for m in ('defusedxml', 'qcode.interchange', 'xmlschema', "
            "'xml.etree.ElementTree') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
