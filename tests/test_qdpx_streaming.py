"""``qcode export qdpx`` streams: the archive goes straight into a temp file beside the target,
``project.qde`` a piece at a time, and it is the very archive the in-memory ElementTree
export wrote (same members, order, bytes). A failed export leaves nothing behind."""

from __future__ import annotations

import errno
import io
import json
import re
import threading
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.errors import QcodeError, UsageError
from qcode.interchange import qdpx, qdpx_plan, qdpx_xml
from qcode.interchange.common import PROJECT_NS
from qcode.interchange.qdc import serialize

KEPT_USER = "{5215CC69-B628-4E02-AFB9-9BEEAEE55808}"
KEPT_CODE = "d7aa29da-519b-4946-9b90-253b6db8fd0a"
NASTY = 'Rektor: «Vi» & "de" <tre>\tså 😀 – vi hadde'


@pytest.fixture
def rich(project_dir) -> Project:
    """The fixture coded by two coders, with what stresses the writer: text that needs
    escaping, an emoji, memos (one only blanks), a span two codes share, a coding without a
    valid time, typed front matter, and GUIDs kept from another tool (one with a stray
    line break around it, which the sidecar reader accepts)."""
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde", NASTY)
    project_dir.replace("transcripts/lier-teacher.md", "informant_group: teacher\n",
                        "informant_group: teacher\nshare: 0.25\nvisited: true\n"
                        "interviewed: 2019-02-14\nrooms: 12\n")
    project_dir.write("codebooks/codes.guids.yaml",
                      f'coders:\n  a: "{KEPT_USER}\\n"\ncodes:\n  ownership: "{KEPT_CODE}"\n')
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong", "ownership"], "a",
                memo='Clear & <strong> "case"\twith a tab\nand a second line')
    project.tag("voss-principal", 2, ["lead-strong"], "b")
    project.tag("voss-principal", 4, ["ownership"], "a")
    project.tag("lier-teacher", 2, ["personal"], "b", memo="   ")
    project.tag("lier-teacher", 3, ["personal", "lead-weak"], "a")
    body = project.transcript("voss-principal").body
    start = body.index('"de" <tre>')
    project.tag("voss-principal", (start, start + 10), ["ownership"], "b")
    strinda = project.transcript("strinda-coordinator").body
    project_dir.append_log("a", {"op": "add", "id": "c0ffee00c0ffee00",
                                 "transcript": "strinda-coordinator", "start": 0, "end": 11,
                                 "code": "lead-weak", "text": strinda[:11], "at": "yesterday"})
    return Project.open(project_dir.root)


def members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def zipped_in_one_piece(data: bytes) -> bytes:
    """The members of ``data`` zipped again as the old export did: each one whole, with
    ``writestr``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, payload in members(data):
            again = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            again.compress_type = zipfile.ZIP_DEFLATED
            again.external_attr = 0o644 << 16
            zf.writestr(again, payload)
    return out.getvalue()


def written_by_elementtree(qde: str) -> str:
    """``qde`` parsed and written again as the old export wrote its tree: ``ET.indent`` and
    ``ET.tostring`` (``qdc.serialize``), with the same processing instruction."""
    import defusedxml.ElementTree as DET

    match = re.match(r'<\?xml version="1.0" encoding="UTF-8"\?>\n<\?qcode (.*?)\?>\n', qde)
    assert match is not None
    root = DET.fromstring(qde.encode("utf-8"))
    for element in root.iter():
        element.tag = element.tag.split("}", 1)[1]
    return serialize(root, PROJECT_NS, json.loads(match.group(1)))


def test_the_streamed_archive_is_the_old_one(rich, tmp_path, monkeypatch):
    # Tiny chunks: project.qde goes through the writer thread in many pieces.
    monkeypatch.setattr(qdpx, "CHUNK_SIZE", 64)
    target = tmp_path / "out" / "study.qdpx"
    summary = qdpx.export_project_file(rich, target)
    data = target.read_bytes()
    assert data == qdpx.export_project(Project.open(rich.root)).data

    # The zip: exactly what writing each member in one piece gives.
    assert data == zipped_in_one_piece(data)
    written = members(data)
    qde = written[0][1].decode("utf-8")
    root = ET.fromstring(qde)  # our own output, parsed only to read the GUIDs back
    ns = f"{{{PROJECT_NS}}}"
    sources = root.findall(f"{ns}Sources/{ns}TextSource")
    assert [info.filename for info, _ in written] == (
        ["project.qde"] + [f"sources/{s.get('guid')}.txt" for s in sources])
    bodies = {t.id: t.body for t in rich.transcripts}
    assert [s.get("name") for s in sources] == list(bodies)
    for (_info, payload), source in zip(written[1:], sources, strict=True):
        assert payload == bodies[source.get("name")].encode("utf-8")
    last = max(c.at for c in rich.codings() if c.at != "yesterday")
    year, month, day, hour, minute, second = (int(x) for x in re.findall(r"\d+", last)[:6])
    stamp = (year, month, day, hour, minute, second - second % 2)
    for info, _ in written:
        assert (info.date_time, info.compress_type, info.external_attr) == (
            stamp, zipfile.ZIP_DEFLATED, 0o644 << 16)

    # project.qde: ElementTree's own text of the same tree, character for character.
    assert qde == written_by_elementtree(qde)
    assert "&#10;" in qde and "&#09;" in qde and "&quot;de&quot; &lt;tre&gt;" in qde
    assert f'creatingUser="{KEPT_USER}&#10;"' in qde
    assert f'<CodeRef targetGUID="{KEPT_CODE}" />' in qde
    assert "<PlainTextContent>   </PlainTextContent>" in qde
    # a: 2 + 1 + 2 + the one without a time; b: 3. The two-code tag's memo is on both.
    assert summary.counts == {"codes": 6, "transcripts": 3, "codings": 9, "coders": 2,
                              "cases": 3, "variables": 8, "memos": 3, "memo_files": 0}
    assert any("c0ffee00c0ffee00" in w and "no valid time" in w for w in summary.warnings)
    assert any("Basic Multilingual Plane" in w for w in summary.warnings)


def test_a_bare_project_is_an_empty_root(tmp_path):
    (tmp_path / "codebooks").mkdir()
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "qcode.yaml").write_text("name: Bare\ncodebook: codebooks/c.yaml\n"
                                         "transcripts: transcripts\ncodings: codings\n")
    (tmp_path / "codebooks" / "c.yaml").write_text('name: C\nversion: "1"\ncodes: []\n')
    result = qdpx.export_project(Project.open(tmp_path))
    assert result.qde.endswith(f'<Project xmlns="{PROJECT_NS}" name="Bare" '
                               f'origin="qcode {qdpx_plan.__version__}" />\n')
    assert result.qde == written_by_elementtree(result.qde)
    assert [info.filename for info, _ in members(result.data)] == ["project.qde"]


def test_the_size_bound_holds(rich, project_dir):
    """The zip64 header is chosen from a bound on project.qde's size: it must be one, also
    where escaping blows text up six times (a memo and a selection of only quotes)."""
    project_dir.replace("transcripts/strinda-coordinator.md", "Det vet ingen.", '"' * 400)
    project = Project.open(project_dir.root)
    body = project.transcript("strinda-coordinator").body
    start = body.index('"' * 400)
    project.tag("strinda-coordinator", (start, start + 400), ["outcomes"], "b", memo='"' * 300)
    project = Project.open(project_dir.root)
    plan = qdpx_plan.plan_export(project.corpus, None)
    size = len(qdpx.export_project(project).qde.encode("utf-8"))
    assert size <= qdpx_plan.qde_size_bound(plan) < 20 * size


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_failure_writing_sources_leaves_nothing(rich, tmp_path, monkeypatch):
    written = []

    def fail_on_the_second(zf, name, payload, stamp):
        if written:
            raise RuntimeError("the disk went away")
        written.append(name)
        zf.writestr(qdpx._member_info(name, stamp), payload)

    monkeypatch.setattr(qdpx, "_add_member", fail_on_the_second)
    target = tmp_path / "new" / "deeper" / "study.qdpx"
    with pytest.raises(RuntimeError, match="disk went away"):
        qdpx.export_project_file(rich, target)
    assert written  # it failed half way, not before it began
    assert leftovers(tmp_path) == ["study"]  # no file, no temp file, no folders made for it

    # Over an existing file (--force): the old file stays as it was, nothing else appears.
    existing = tmp_path / "study.qdpx"
    existing.write_bytes(b"the previous export")
    written.clear()
    with pytest.raises(RuntimeError):
        qdpx.export_project_file(rich, existing, force=True)
    assert existing.read_bytes() == b"the previous export"
    assert leftovers(tmp_path) == ["study", "study.qdpx"]


def test_a_failure_while_making_the_xml_leaves_nothing(rich, tmp_path, monkeypatch):
    made = []
    real = qdpx._source_pieces

    def fail_on_the_second(plan, source):
        if made:
            raise ValueError("cannot make this source")
        made.append(source)
        yield from real(plan, source)

    monkeypatch.setattr(qdpx, "_source_pieces", fail_on_the_second)
    monkeypatch.setattr(qdpx, "CHUNK_SIZE", 16)  # the first source is handed over already
    threads = threading.active_count()
    with pytest.raises(ValueError, match="cannot make this source"):
        qdpx.export_project_file(rich, tmp_path / "study.qdpx")
    assert leftovers(tmp_path) == ["study"]
    assert threading.active_count() == threads


def test_a_full_disk_is_a_one_line_error(cli, rich, monkeypatch):
    def full(zf, name, payload, stamp):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(qdpx, "_add_member", full)
    before = leftovers(rich.root)
    result = cli("export", "qdpx", "-o", "out/study.qdpx")
    assert result.exit_code == 1
    assert "cannot write out/study.qdpx: no space left on the disk" in result.stderr
    assert "free some space" in result.stderr
    assert "Traceback" not in result.output
    assert leftovers(rich.root) == before


def test_an_existing_file_is_refused_before_the_work(cli, coded, monkeypatch):
    target = coded.root / "study.qdpx"
    target.write_bytes(b"mine")

    def no_work(*args):
        raise AssertionError("the export ran although it could not be written")

    monkeypatch.setattr(qdpx, "plan_export", no_work)
    result = cli("export", "qdpx", "-o", str(target))
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert target.read_bytes() == b"mine"
    with pytest.raises(QcodeError, match="already exists"):
        qdpx.export_project_file(coded, target)
    with pytest.raises(UsageError, match="is a folder"):
        qdpx.export_project_file(coded, coded.root)


def test_the_cli_streams_the_same_archive(cli, coded):
    before = leftovers(coded.root)
    result = cli("export", "qdpx", "-o", "study.qdpx")
    assert result.exit_code == 0, result.output
    assert "wrote study.qdpx: 6 codes, 3 transcripts, 12 codings by 2 coders" in result.stderr
    assert (coded.root / "study.qdpx").read_bytes() == qdpx.export_project(coded).data
    assert leftovers(coded.root) == sorted([*before, "study.qdpx"])


# -- the pieces ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaping_is_elementtrees(text):
    element = ET.Element("x", {"a": text})
    assert ET.tostring(element, encoding="unicode") == f'<x a="{qdpx_xml.attr_text(text)}" />'
    element = ET.Element("x")
    element.text = text
    expected = f"<x>{qdpx_xml.char_data(text)}</x>" if text else "<x />"
    assert ET.tostring(element, encoding="unicode") == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_beyond_bmp_finds_exactly_the_astral_characters(text):
    assert qdpx_plan._beyond_bmp(text) == any(ord(ch) > 0xFFFF for ch in text)


def test_made_ahead_keeps_order_and_stops_when_abandoned():
    assert list(qdpx._made_ahead(iter([b"a", b"b", b"c"]), depth=1)) == [b"a", b"b", b"c"]
    threads = threading.active_count()
    endless = qdpx._made_ahead((b"x" for _ in iter(int, 1)), depth=2)
    assert next(endless) == b"x"
    endless.close()  # the consumer gives up: the maker must stop too
    assert threading.active_count() == threads

    def broken():
        yield b"fine"
        raise KeyError("made badly")

    made = qdpx._made_ahead(broken())
    assert next(made) == b"fine"
    with pytest.raises(KeyError, match="made badly"):
        next(made)
    assert threading.active_count() == threads


def test_a_cached_project_exports_the_same_archive_holding_no_body_after(rich, monkeypatch):
    Project.open(rich.root).check()  # the cache: transcripts whose bodies are read on use
    cached = Project.open(rich.root)
    exported = qdpx.export_project(cached).data
    monkeypatch.setenv("QCODE_NO_CACHE", "1")
    assert exported == qdpx.export_project(Project.open(rich.root)).data
    # Each body was released once its source was written: the export held one at a time.
    assert all(t._body is None for t in cached.transcripts)
    uncached = Project.open(rich.root)
    for transcript, fresh in zip(cached.transcripts, uncached.transcripts, strict=True):
        assert transcript.body == fresh.body  # read again, from the file it was made from
        body = fresh.body
        fresh.release_body()  # parsed from its file: read again from there too
        assert fresh._body is None and fresh.body == body
