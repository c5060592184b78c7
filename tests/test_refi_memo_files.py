"""Memo files travel through REFI-QDA (docs/refi-qda.md, "Memos"): transcript memos as the
source's Description and notes, code memos in the code's Description, project memos as
project notes, case memos as notes; `qcode import qdpx` gives the same memo files back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_shared
from qcode.interchange.qdpx_memos import split_code_memos

NS = "{urn:QDA-XML:project:1.0}"
REPO = Path(__file__).resolve().parents[1]
MEMOS = {
    "transcript:voss-principal": ("a", "The principal hedges.\n\nSecond paragraph."),
    "code:lead-strong": ("b", "Strong leadership: distinct from\nmere authority."),
    "case:school=Voss": ("a", "Voss merged two schools in 2019."),
    "project": (None, "Overall: ownership matters more than leadership."),
}


@pytest.fixture
def memoed(cli, coded):
    for about, (author, text) in MEMOS.items():
        kind, _, target = about.partition(":")
        args = ["memo", kind] + ([target] if target else []) + ["--text", text]
        result = cli(*args, *(["--coder", author] if author else []))
        assert result.exit_code == 0, result.stderr
    return coded


def export(cli, root: Path) -> Path:
    out = root / "out.qdpx"
    result = cli("export", "qdpx", "-o", str(out), "--force")
    assert result.exit_code == 0, result.stderr
    return out


def qde(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde").decode("utf-8")


def memo_list(cli, cwd: Path | None = None) -> dict[tuple[str, str | None], str]:
    result = cli("memos", "--format", "json", cwd=cwd)
    assert result.exit_code == 0, result.stderr
    return {(m["about"], m["author"]): m["text"] for m in json.loads(result.stdout)}


def test_each_kind_of_memo_goes_where_other_tools_read_it(cli, memoed, project_dir):
    import defusedxml.ElementTree as DET

    root = DET.fromstring(qde(export(cli, project_dir.root)))
    notes = {n.get("guid"): n for n in root.iter(f"{NS}Note")}
    titles = {n.get("name"): n.findtext(f"{NS}PlainTextContent") for n in notes.values()}
    assert titles["Memo on transcript voss-principal (a)"] == MEMOS[
        "transcript:voss-principal"][1]
    assert titles["Memo on case school=Voss (a)"] == MEMOS["case:school=Voss"][1]
    assert titles["Memo on the project"] == MEMOS["project"][1]
    source = next(s for s in root.iter(f"{NS}TextSource") if s.get("name") == "voss-principal")
    assert source.findtext(f"{NS}Description") == MEMOS["transcript:voss-principal"][1]
    refs = [r.get("targetGUID") for r in source.findall(f"{NS}NoteRef")]
    assert [notes[g].get("name") for g in refs] == ["Memo on transcript voss-principal (a)"]
    project_refs = [r.get("targetGUID") for r in root.findall(f"{NS}NoteRef")]
    assert [notes[g].get("name") for g in project_refs] == ["Memo on the project"]
    code = next(c for c in root.iter(f"{NS}Code") if c.get("name") == "Strong leadership"
                or "Memo (b" in (c.findtext(f"{NS}Description") or ""))
    definition, memos = split_code_memos(code.findtext(f"{NS}Description"))
    assert [(author, text) for author, _date, text in memos] == [
        ("b", MEMOS["code:lead-strong"][1])]
    assert "Memo (" not in definition


def test_the_export_stays_valid_and_its_guids_stable(cli, memoed, project_dir):
    import xmlschema

    schema = xmlschema.XMLSchema(str(require_shared("refi-schemas") / "Project.xsd"))
    first = qde(export(cli, project_dir.root))
    errors = list(schema.iter_errors(first))
    assert not errors, errors[0]
    assert qde(export(cli, project_dir.root)) == first


def test_memos_round_trip_through_qdpx(cli, memoed, project_dir, tmp_path):
    before = memo_list(cli)
    assert len(before) == 4
    out = export(cli, project_dir.root)
    into = tmp_path / "back"
    result = cli("import", "qdpx", str(out), "--into", str(into))
    assert result.exit_code == 0, result.stderr
    assert memo_list(cli, cwd=into) == before
    check = cli("check", cwd=into)
    assert check.exit_code == 0, check.stdout + check.stderr
    # the code keeps its definition without the memo
    codebook = next((into / "codebooks").glob("*.yaml")).read_text(encoding="utf-8")
    assert "Memo (" not in codebook
    assert not (into / "memos" / "imported-notes.md").exists()


def test_a_second_round_trip_changes_nothing(cli, memoed, project_dir, tmp_path):
    first = tmp_path / "one"
    assert cli("import", "qdpx", str(export(cli, project_dir.root)), "--into",
               str(first)).exit_code == 0
    again = first / "again.qdpx"
    assert cli("export", "qdpx", "-o", str(again), cwd=first).exit_code == 0
    second = tmp_path / "two"
    assert cli("import", "qdpx", str(again), "--into", str(second)).exit_code == 0
    assert memo_list(cli, cwd=second) == memo_list(cli, cwd=first)


def test_without_qcodes_instruction_notes_are_placed_by_title_and_reference(
        cli, memoed, project_dir, tmp_path):
    """What another tool keeps of a qcode export (no processing instruction)."""
    import re

    out = export(cli, project_dir.root)
    with zipfile.ZipFile(out) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    text = members["project.qde"].decode("utf-8")
    members["project.qde"] = re.sub(r"<\?qcode .*?\?>\n", "", text, flags=re.S).encode()
    bare = tmp_path / "bare.qdpx"
    with zipfile.ZipFile(bare, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    into = tmp_path / "bare"
    assert cli("import", "qdpx", str(bare), "--into", str(into)).exit_code == 0
    got = {(about, author): text for (about, author), text in memo_list(cli, cwd=into).items()}
    assert got[("transcript:voss-principal", "a")] == MEMOS["transcript:voss-principal"][1]
    assert got[("case:school=Voss", "a")] == MEMOS["case:school=Voss"][1]
    assert got[("project", None)] == MEMOS["project"][1]
    code_memos = {about: text for (about, author), text in got.items()
                  if about.startswith("code:") and author == "b"}
    assert list(code_memos.values()) == [MEMOS["code:lead-strong"][1]], got
    assert len(got) == 4, got


def test_code_memo_sections_split_from_the_definition():
    text = ("Leaders who decide.\n\nInclude: decisions\n\nMemo (alice, 2026-03-14):\n"
            "First.\n\nStill first.\n\nMemo (no author):\nSecond.")
    definition, memos = split_code_memos(text)
    assert definition == "Leaders who decide.\n\nInclude: decisions"
    assert memos == [("alice", "2026-03-14", "First.\n\nStill first."),
                     (None, None, "Second.")]
    assert split_code_memos("Plain.") == ("Plain.", [])


@pytest.fixture
def bundled(tmp_path) -> Path:
    import shutil

    study = tmp_path / "bundled"
    study.mkdir()
    for name in ("qcode.yaml", "codebooks", "transcripts", "cases", "codings"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, study / name)
    return study


def test_the_bundled_studys_memos_survive_a_round_trip(cli, bundled, tmp_path):
    """A memo on a model (an attribute only the case table gives), on a code and on an
    interview: the study's memos come back, and the imported study checks clean."""
    for args in (("case", "model=mature", "--text", "Lier and one other school."),
                 ("code", "org-coordination", "--text", "Leadership on all three."),
                 ("transcript", "lier-principal", "--text", "Speaks for the plan.")):
        result = cli("memo", *args, "--coder", "consensus", cwd=bundled)
        assert result.exit_code == 0, result.stderr
    before = memo_list(cli, cwd=bundled)
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", "-o", str(out), cwd=bundled).exit_code == 0
    into = tmp_path / "back"
    assert cli("import", "qdpx", str(out), "--into", str(into)).exit_code == 0
    assert memo_list(cli, cwd=into) == before
    assert cli("check", cwd=into).exit_code == 0


_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
_text = st.lists(_line, min_size=1, max_size=4).map("\n".join).filter(
    lambda t: t.strip() and "Memo (" not in t)


@settings(max_examples=80, deadline=None)
@given(definition=st.one_of(st.just(""), _text),
       memos=st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["a", "coder-b"])),
                                st.one_of(st.none(), st.just("2026-03-14")), _text),
                      min_size=1, max_size=3))
def test_memo_sections_split_off_as_they_were_joined(definition, memos):
    """The law the export and import rely on: a definition with memo sections appended
    splits back into the definition and the memos."""
    definition = definition.strip("\n")
    memos = [(author, date, text.strip("\n")) for author, date, text in memos]
    sections = "\n\n".join(
        f"Memo ({author or 'no author'}" + (f", {date}" if date else "") + f"):\n{text}"
        for author, date, text in memos)
    joined = "\n\n".join(part for part in (definition, sections) if part)
    assert split_code_memos(joined) == (definition, memos)
