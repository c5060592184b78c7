"""``qcode import qdpx|qdc``: lenient with what real tools write, and refusing hostile files
(path traversal, symlinks, zip bombs, XXE, billion laughs) with nothing written."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from qcode import Project
from qcode.errors import QcodeError
from qcode.interchange import safety
from qcode.interchange.safety import UnsafeInput
from qcode.project import import_qdpx as import_project

U1 = "1a2b3c4d-0000-4000-8000-000000000001"
U2 = "1A2B3C4D-0000-4000-8000-000000000002"
U9 = "9f9f9f9f-0000-4000-8000-000000000009"
C1, C2, C3 = ("c0000000-0000-4000-8000-00000000000" + n for n in "123")
S1 = "5e000000-0000-4000-8000-000000000001"
NVIVO_TEXT = "\ufeffI: Hei 😀 der\r\nR: Svar her\r\n"

FOREIGN = f"""\ufeff<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Foreign study" origin="NVivo for Windows 14">
 <Users><User guid="{{{U1}}}" name="Ann Lee"/><User guid="{U2}" name="Bo"/></Users>
 <CodeBook><Codes>
  <Code guid="{C1}" name="Feelings" isCodable="false"><Description>Parent</Description>
   <Code guid="{C2.upper()}" name="Joy" isCodable="true" color="#F0A"/>
  </Code>
  <Code guid="{C3}" name="Joy" isCodable="1"/>
 </Codes></CodeBook>
 <Variables>
  <Variable guid="a0000000-0000-4000-8000-000000000001" name="age" typeOfVariable="Integer"/>
  <Variable guid="a0000000-0000-4000-8000-000000000002" name="site" typeOfVariable="Text">
   <Description>Where it took place</Description></Variable>
 </Variables>
 <Cases>
  <Case guid="b0000000-0000-4000-8000-000000000001" name="Person A">
   <VariableValue><VariableRef targetGUID="a0000000-0000-4000-8000-000000000001"/>
    <IntegerValue>34</IntegerValue></VariableValue>
   <SourceRef targetGUID="{S1}"/></Case>
  <Case guid="b0000000-0000-4000-8000-000000000002">
   <VariableValue><VariableRef targetGUID="a0000000-0000-4000-8000-000000000002"/>
    <TextValue>Oslo</TextValue></VariableValue>
   <SourceRef targetGUID="{S1}"/></Case>
 </Cases>
 <Sources>
  <TextSource guid="{S1}" name="Interview 1.docx" plainTextPath="{S1}.txt"
              richTextPath="internal://{S1}.docx">
   <PlainTextSelection guid="d0000000-0000-4000-8000-000000000001" name="" startPosition="15"
                       endPosition="26" creatingUser="{U1}">
    <Description>Selection memo</Description>
    <Coding guid="e0000000-0000-4000-8000-000000000001" creatingUser="{U2}"
            creationDateTime="2024-05-01T10:00:00Z">
     <CodeRef targetGUID="{C2}"/><NoteRef targetGUID="f0000000-0000-4000-8000-000000000001"/>
    </Coding>
    <Coding guid="e0000000-0000-4000-8000-000000000002"><CodeRef targetGUID="{{{C3.upper()}}}"/>
    </Coding>
    <Coding guid="e0000000-0000-4000-8000-000000000003">
     <CodeRef targetGUID="00000000-0000-4000-8000-000000000000"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="d0000000-0000-4000-8000-000000000002" startPosition="10"
                       endPosition="13" creatingUser="{U9}">
    <Coding guid="e0000000-0000-4000-8000-000000000004"><CodeRef targetGUID="{C2}"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="d0000000-0000-4000-8000-000000000003" startPosition="20"
                       endPosition="999" creatingUser="{U1}">
    <Coding guid="e0000000-0000-4000-8000-000000000005" creationDateTime="2024-05-02T08:00:00Z">
     <CodeRef targetGUID="{C2}"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <PictureSource guid="5e000000-0000-4000-8000-000000000003" name="Photo"
                 path="internal://5e000000-0000-4000-8000-000000000003.jpg"/>
  <TextSource guid="5e000000-0000-4000-8000-000000000004" name="External"
              plainTextPath="relative:///far/away.txt"/>
 </Sources>
 <Notes>
  <Note guid="f0000000-0000-4000-8000-000000000001" name="n">
   <PlainTextContent>Note memo</PlainTextContent></Note>
  <Note guid="f0000000-0000-4000-8000-000000000002" name="Loose">
   <PlainTextContent>A loose note</PlainTextContent></Note>
 </Notes>
 <Sets>
  <Set guid="10000000-0000-4000-8000-000000000001" name="gender: female">
   <MemberSource targetGUID="{S1}"/></Set>
  <Set guid="10000000-0000-4000-8000-000000000002" name="Wave 1">
   <MemberSource targetGUID="{S1}"/></Set>
  <Set guid="10000000-0000-4000-8000-000000000003" name="Codes to check">
   <MemberCode targetGUID="{C2}"/></Set>
 </Sets>
</Project>
"""


def make_zip(path: Path, members: dict[str, bytes | str],
             modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            zf.writestr(info, payload.encode("utf-8") if isinstance(payload, str) else payload)
    return path


def foreign_qdpx(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "foreign.qdpx", {
        "project.qde": FOREIGN,
        f"Sources/{S1.upper()}.txt": NVIVO_TEXT.encode("utf-8"),   # other case, capital S
    })


# -- reading leniently -------------------------------------------------------------------------


def test_a_foreign_project_maps_onto_qcode(tmp_path):
    report = import_project(foreign_qdpx(tmp_path), tmp_path / "p")
    assert report.check["ok"], report.check["errors"]
    project = Project.open(tmp_path / "p")
    # Codes: ids from names, unique; the name is the label; GUIDs in any case or braces.
    assert [(c.id, c.label, c.codable) for c in project.codebook.codes] == [
        ("feelings", "Feelings", False), ("joy", "Joy", True), ("joy-2", "Joy", True)]
    assert project.codebook.get("joy").color == "#FF00AA"
    # The transcript: BOM dropped, CRLF → LF; attributes from cases and sets.
    transcript = project.transcript("interview-1")
    assert transcript.body == "I: Hei 😀 der\nR: Svar her\n"
    assert transcript.front_matter == {"id": "interview-1", "case": "Person A", "site": "Oslo",
                                       "gender": "female", "sets": "Wave 1"}
    assert transcript.attributes["age"] == "34"   # from the case table
    assert (tmp_path / "p" / "cases" / "cases.csv").read_text("utf-8") == "case,age\nPerson A,34\n"
    # Codings: NVivo's UTF-16 positions with CRLF as 2, one log per user.
    codings = {(c.coder, c.code): c for c in project.codings()}
    bo = codings[("bo", "joy")]
    assert (bo.start, bo.end, bo.text) == (13, 24, "R: Svar her")
    assert bo.memo == "Selection memo\n\nNote memo" and bo.at == "2024-05-01T10:00:00Z"
    assert bo.id == "e0000000000040008000000000000001"   # the tool's GUID, kept as the id
    assert codings[("ann-lee", "joy-2")].memo == "Selection memo"
    unknown_user = codings[("user-9f9f9f9f", "joy")]
    assert unknown_user.text == "der"
    clamped = codings[("ann-lee", "joy")]
    assert clamped.text == "ar her\n"
    assert sorted(project.coders) == ["ann-lee", "bo", "user-9f9f9f9f"]
    # What was left out is named, never dropped silently.
    skipped = {(s.kind, s.name) for s in report.skipped}
    assert skipped == {("source", "Photo"), ("source", "External"),
                       ("set", "Codes to check"),
                       ("coding", "coding e0000000-0000-4000-8000-000000000003 in "
                                  "'Interview 1.docx'")}
    assert any("run outside the text" in n for n in report.notes)
    assert any("not among the project's users" in n for n in report.notes)
    memos = (tmp_path / "p" / "memos" / "imported-notes.md").read_text("utf-8")
    assert "A loose note" in memos and "Note memo" not in memos
    # a project memo: `qcode memos` lists it and `qcode check` accepts it
    listed = Project.open(tmp_path / "p").memos()
    assert [str(m.about) for m in listed] == ["project"] and "A loose note" in listed[0].text
    config = (tmp_path / "p" / "qcode.yaml").read_text("utf-8")
    assert "segmentation: paragraphs" in config and "Where it took place" in config


def test_foreign_guids_are_kept_for_the_next_export(tmp_path):
    from qcode.interchange.qdpx import export_project

    import_project(foreign_qdpx(tmp_path), tmp_path / "p")
    qde = export_project(Project.open(tmp_path / "p")).qde
    assert f'guid="{C2.upper()}" name="Joy"' in qde
    assert f'guid="{{{U1}}}" name="ann-lee"' in qde
    assert f'guid="{S1}" name="interview-1"' in qde
    assert 'guid="e0000000-0000-4000-8000-000000000001"' in qde   # a coding's own GUID


def test_quoted_text_chooses_the_counting_and_mismatches_are_reported(tmp_path):
    text = "Line one\r\nLine two\r\nLine three\r\n"
    qde = f"""<Project xmlns="urn:QDA-XML:project:0:10" name="x" origin="SomeTool 2">
      <CodeBook><Codes><Code guid="{C1}" name="A" isCodable="true"/></Codes></CodeBook>
      <Sources><TextSource guid="{S1}" name="t" plainTextPath="internal://t.txt">
       <PlainTextSelection guid="{U1}" name="Line two" startPosition="9" endPosition="17">
        <Coding guid="{U2}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>
       <PlainTextSelection guid="{U9}" name="Line three" startPosition="18" endPosition="28">
        <Coding guid="{C2}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>
       <PlainTextSelection guid="{C3}" name="Something else" startPosition="0" endPosition="4">
        <Coding guid="{S1[:-1]}9"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>
      </TextSource></Sources></Project>"""
    archive = make_zip(tmp_path / "a.qdpx", {"project.qde": qde, "sources/t.txt": text})
    report = import_project(archive, tmp_path / "p")
    assert (report.offsets["model"], report.offsets["by"]) == ("codepoints-lf",
                                                               "selection names")
    assert (report.offsets["checked"], report.offsets["matched"],
            report.offsets["mismatched"]) == (3, 2, 1)
    assert any("1 of 3 selections do not match" in n and "'Line'" in n for n in report.notes)
    texts = sorted(c.text for c in Project.open(tmp_path / "p").codings())
    assert texts == ["Line", "Line three", "Line two"]


def test_no_namespace_a_bare_qde_and_a_bom_are_accepted(tmp_path):
    qde = tmp_path / "project.qde"
    qde.write_bytes(b"\xef\xbb\xbf<?xml version='1.0'?><Project name='bare'><CodeBook><Codes>"
                    + f"<Code guid='{C1}' name='Only' isCodable='true'/>".encode()
                    + b"</Codes></CodeBook></Project>")
    report = import_project(qde, tmp_path / "p")
    assert report.counts["codes"] == 1 and report.check["ok"]


def test_taguette_empty_sets_and_draft_namespace_in_a_qdc(tmp_path, cli, project_dir):
    qdc = tmp_path / "t.qdc"
    qdc.write_text('<?xml version="1.0" encoding="utf-8"?>\n<CodeBook '
                   'xmlns="urn:QDA-XML:codebook:0:4" origin="Taguette 1.5.2"><Codes>'
                   f'<Code guid="{C1}" name="interesting\\places" isCodable="true"/></Codes>'
                   "<Sets/></CodeBook>", encoding="utf-8")
    result = cli("import", "qdc", str(qdc), "--into", str(tmp_path / "c.yaml"))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "c.yaml").read_text("utf-8")
    assert "id: interesting-places" in text and "label: interesting\\places" in text


# -- refusing hostile files --------------------------------------------------------------------

MINIMAL = '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'


@pytest.mark.parametrize(("name", "why"), [
    ("../evil.txt", "climbs out"),
    ("sources/../../evil.txt", "climbs out"),
    ("/tmp/evil.txt", "absolute path"),
    ("C:/evil.txt", "absolute path"),
    ("..\\evil.txt", "climbs out"),
])
def test_members_that_escape_are_refused(tmp_path, name, why):
    archive = make_zip(tmp_path / "a.qdpx", {"project.qde": MINIMAL, name: "x"})
    with pytest.raises(UnsafeInput, match=why):
        import_project(archive, tmp_path / "p")
    assert not (tmp_path / "p").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_an_encoding_python_lacks_is_refused_not_a_crash(tmp_path, cli, project_dir):
    # found by tests/test_fuzz.py: expat asks Python for the codec and gets LookupError
    qdc = tmp_path / "t.qdc"
    qdc.write_text('<?xml version="1.0" encoding="TTF-8"?>\n<CodeBook '
                   'xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>', encoding="utf-8")
    result = cli("import", "qdc", str(qdc), "--into", str(tmp_path / "c.yaml"))
    assert result.exit_code not in (0, 70), result.output
    assert "declares an encoding qcode cannot read" in result.stderr
    assert not (tmp_path / "c.yaml").exists()


def test_symlinks_are_refused(tmp_path):
    archive = make_zip(tmp_path / "a.qdpx", {"project.qde": MINIMAL,
                                             "sources/x.txt": "/etc/passwd"},
                       modes={"sources/x.txt": stat.S_IFLNK | 0o777})
    with pytest.raises(UnsafeInput, match="symbolic link"):
        import_project(archive, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_a_zip_bomb_is_refused_before_it_expands(tmp_path):
    archive = make_zip(tmp_path / "bomb.qdpx", {"project.qde": MINIMAL,
                                                "sources/big.txt": b"\0" * (20 * 1024 * 1024)})
    assert archive.stat().st_size < 100_000
    with pytest.raises(UnsafeInput, match="zip bomb"):
        import_project(archive, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_limits_on_members_and_on_what_is_read(tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "many.qdpx", {"project.qde": MINIMAL,
                                                **{f"sources/{i}.txt": "x" for i in range(6)}})
    monkeypatch.setattr(safety, "MAX_MEMBERS", 5)
    with pytest.raises(UnsafeInput, match="7 members"):
        import_project(archive, tmp_path / "p")
    monkeypatch.setattr(safety, "MAX_MEMBERS", 10_000)
    monkeypatch.setattr(safety, "MAX_READ_TOTAL", 10)
    with pytest.raises(UnsafeInput, match="more than 10 bytes"):
        import_project(archive, tmp_path / "p")
    assert not (tmp_path / "p").exists()


XXE = """<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
<Code guid="{C1}" name="&lol3;" isCodable="true"/></Codes></CodeBook>"""


def test_xxe_in_a_project_is_refused(tmp_path, cli):
    archive = make_zip(tmp_path / "xxe.qdpx", {"project.qde": XXE})
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert "refused, the XML declares a DTD" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_billion_laughs_in_a_codebook_is_refused(tmp_path, cli):
    qdc = tmp_path / "lol.qdc"
    qdc.write_text(LAUGHS.replace("{C1}", C1), encoding="utf-8")
    result = cli("import", "qdc", str(qdc), "--into", str(tmp_path / "c.yaml"))
    assert result.exit_code == 1 and "refused" in result.stderr
    assert not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize(("payload", "message"), [
    ("<Project name='x'><Users></Project>", "not well-formed XML at line 1"),
    ("<Thing xmlns='urn:QDA-XML:project:1.0'/>", "its root is <Thing>"),
    ("<Project xmlns='urn:other' name='x'/>", "in namespace 'urn:other'"),
])
def test_invalid_projects_are_refused_with_a_clear_message(tmp_path, cli, payload, message):
    archive = make_zip(tmp_path / "bad.qdpx", {"project.qde": payload})
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "p").exists()


def test_files_that_are_not_refi_qda_at_all(tmp_path, cli):
    junk = tmp_path / "junk.qdpx"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    result = cli("import", "qdpx", str(junk), "--into", str(tmp_path / "p"))
    assert result.exit_code == 1 and "neither a .qdpx" in result.stderr
    empty = make_zip(tmp_path / "empty.qdpx", {"readme.txt": "hello"})
    result = cli("import", "qdpx", str(empty), "--into", str(tmp_path / "p"))
    assert result.exit_code == 1 and "no .qde file" in result.stderr


def test_qcode_instructions_cannot_write_outside_the_project(tmp_path):
    meta = {"format": 1, "config": {"name": "x", "codebook": "../../evil.yaml",
                                    "codings": "/tmp/evil"},
            "transcripts": {S1: {"id": "../../evil", "file": "../../evil.md"}},
            "coders": {U1: "../evil"}}
    qde = (f"<?qcode {json.dumps(meta)}?>\n"
           f'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users><User guid="{U1}" '
           f'name="u"/></Users><CodeBook><Codes><Code guid="{C1}" name="A" isCodable="true"/>'
           f'</Codes></CodeBook><Sources><TextSource guid="{S1}" name="t" '
           f'plainTextPath="internal://t.txt"><PlainTextSelection guid="{U2}" startPosition="0" '
           f'endPosition="4" creatingUser="{U1}"><Coding guid="{C2}"><CodeRef targetGUID="{C1}"/>'
           "</Coding></PlainTextSelection></TextSource></Sources></Project>")
    archive = make_zip(tmp_path / "m.qdpx", {"project.qde": qde, "sources/t.txt": "text"})
    into = tmp_path / "deep" / "p"
    report = import_project(archive, into)
    assert report.check["ok"], report.check
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file())
    assert all(p.startswith("deep/p/") or p == "m.qdpx" for p in written), written
    project = Project.open(into)
    assert [t.id for t in project.transcripts] == ["t"] and project.coders == ["u"]


def test_into_must_be_new_or_empty(tmp_path, cli):
    archive = foreign_qdpx(tmp_path)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "full"))
    assert result.exit_code == 1 and "not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["mine.txt"]
    (tmp_path / "empty").mkdir()
    assert cli("import", "qdpx", str(archive), "--into", str(tmp_path / "empty")).exit_code == 0


def test_cli_report_lists_what_was_left_out(tmp_path, cli):
    result = cli("import", "qdpx", str(foreign_qdpx(tmp_path)), "--into", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "3 codes, 1 transcript, 4 codings by 3 coders, 1 case" in err
    assert "left out (4):" in err and "source 'Photo': a picture" in err
    assert "qcode check: ok" in err
    as_json = cli("import", "qdpx", str(foreign_qdpx(tmp_path)), "--into",
                  str(tmp_path / "q"), "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["counts"]["codings"] == 4 and len(data["skipped"]) == 4
    assert data["check"]["ok"] is True


def test_what_the_file_gets_wrong_is_listed_by_check(tmp_path, cli):
    # The file marks a category as not codable and then codes with it.
    qde = f"""<Project xmlns="urn:QDA-XML:project:1.0" name="x" origin="QualCoder 3.8.2">
      <CodeBook><Codes><Code guid="{C1}" name="Category" isCodable="false"/></Codes></CodeBook>
      <Sources><TextSource guid="{S1}" name="t" plainTextPath="internal://t.txt">
       <PlainTextSelection guid="{U1}" name="text" startPosition="0" endPosition="4">
        <Coding guid="{U2}"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>
      </TextSource></Sources></Project>"""
    archive = make_zip(tmp_path / "a.qdpx", {"project.qde": qde, "sources/t.txt": "text"})
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output   # the project was created
    assert "marks as not codable" in result.stderr
    assert "qcode check: 1 error in what the file holds:" in result.stderr
    assert "grouping folder" in result.stderr
    assert cli("check", cwd=tmp_path / "p").exit_code == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    from qcode.errors import WriteFailed
    from qcode.interchange import qdpx_import

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qcode.store.log.CodingLog.append", broken)
    with pytest.raises(WriteFailed, match="no space left on the disk"):
        qdpx_import.import_project(foreign_qdpx(tmp_path), tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_import_qdc_needs_a_target(tmp_path, cli):
    qdc = tmp_path / "c.qdc"
    qdc.write_text(f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="{C1}" '
                   'name="A" isCodable="true"/></Codes></CodeBook>', encoding="utf-8")
    result = cli("import", "qdc", str(qdc), cwd=tmp_path)
    assert result.exit_code == 2 and "--into" in result.stderr


def test_reading_is_bounded_for_plain_xml_too(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_XML_SIZE", 10)
    with pytest.raises(QcodeError, match="more than qcode reads"):
        safety.parse_xml(MINIMAL.encode(), "x.qde")


def test_safe_relative_paths():
    assert str(safety.safe_relative("transcripts/a.md")) == "transcripts/a.md"
    for bad in ("../a", "/a", "a/../b", "C:/a", "a\\b", ".hidden/a", "", None, 3):
        assert safety.safe_relative(bad) is None, bad


def test_zip_members_read_into_memory_only(tmp_path):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("project.qde", MINIMAL)
    (tmp_path / "z.qdpx").write_bytes(data.getvalue())
    archive = safety.open_archive(tmp_path / "z.qdpx")
    try:
        assert archive.read(archive.find("PROJECT.QDE")) == MINIMAL.encode()
    finally:
        archive.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.qdpx"]
