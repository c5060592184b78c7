"""Bounded fuzzing of every input a project or an import brings (#17, "Done when").

Each input kind — the codebook, qcode.yaml, a transcript's front matter, coding log lines,
the case table, cache entries, and the members of a .qdc and a .qdpx — is mutated from a
valid start (bytes flipped, cut, or spliced with the fragments attackers and accidents
bring: NULs, escapes, deep brackets, YAML anchors, formulas, huge numbers). Whatever the
input, qcode must:

- exit 0, 1 or 2: never 70 (a bug), never a traceback;
- write nothing outside the project (or the folder an import was told to write to);
- give the same answers with its cache as without it.

Each kind runs a handful of examples (seconds); the examples found once stay in
hypothesis' database (.hypothesis/, ignored by git) and run first next time.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import ProjectBuilder, build_fixture_project
from qcode.cli.app import app
from qcode.store.events import add_event

FRAGMENTS = [
    b"\x00", b"\x1b]0;x\x07", b"\x1b[2J", b"\r", b"\t", b"\xff\xfe", b"\xe2\x80\xae",
    b"[" * 300, b"{" * 300, b"- " * 200, b"&a [x] ", b"*a", b"!!python/object:os.system ",
    b"=cmd|' /C calc'!A0", b"[/x]", b"[link=javascript:x]y[/link]", b"<script>",
    b"9" * 400, b"-1", b"1e400", b"NaN", b"\xf0\x9f\x98\x80", b"\"", b"'", b": ", b"\n---\n",
    b"\\", b"%YAML 1.1\n", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"(" * 300,
]

FUZZ = settings(max_examples=12, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        # drawn independently of the size, which may differ between runs (timestamps)
        at = draw(st.integers(0, 10**6)) % (len(data) + 1)
        kind = draw(st.sampled_from(["fragment", "flip", "cut", "repeat"]))
        if kind == "fragment":
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif kind == "flip" and data:
            data[min(at, len(data) - 1)] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:at + draw(st.integers(0, 64))]
        else:
            piece = bytes(data[at:at + draw(st.integers(1, 16))])
            data[at:at] = piece * draw(st.integers(2, 50))
    return bytes(data)


def _project(root: Path) -> ProjectBuilder:
    builder = build_fixture_project(root)
    builder.append_log("a", add_event("voss-principal", 0, 10, "ownership", "I: Hvordan"),
                       add_event("lier-teacher", 0, 5, "personal", "I: Hv"))
    return builder


def _run(root: Path, *args: str, no_cache: bool = False):
    env = {"NO_COLOR": "1", "QCODE_NO_CACHE": "1" if no_cache else "0", "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["--project", str(root), *args], env=env,
                                catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output and "internal error" not in result.output, \
        result.output[-2000:]
    return result


def _answers(root: Path, no_cache: bool) -> list:
    answers = []
    for args in (("check", "-f", "json"), ("matrix", "--by", "school", "-c", "a", "-f", "csv"),
                 ("segments", "-c", "a", "-f", "json"), ("codes", "-f", "csv"),
                 ("transcripts", "-f", "csv")):
        result = _run(root, *args, no_cache=no_cache)
        answers.append((result.exit_code, result.stdout))
    return answers


def _files_outside(tmp: Path, project: Path) -> set[str]:
    return {p.relative_to(tmp).as_posix() for p in tmp.rglob("*")
            if p.is_file() and project not in p.parents}


def _fuzz_project_file(tmp_path_factory, rel: str, data) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    builder = _project(tmp / "study")
    path = builder.root / rel
    path.write_bytes(data.draw(mutated(path.read_bytes()), label=rel))
    before = _files_outside(tmp, builder.root)
    with_cache = _answers(builder.root, no_cache=False)
    again = _answers(builder.root, no_cache=False)  # reads what the first run cached
    without = _answers(builder.root, no_cache=True)
    assert with_cache == without == again
    assert _files_outside(tmp, builder.root) == before


@pytest.mark.parametrize("rel", ["codebooks/codes.yaml", "qcode.yaml",
                                 "transcripts/voss-principal.md", "codings/a.jsonl",
                                 "cases/schools.csv"])
@FUZZ
@given(data=st.data())
def test_a_mutated_project_file_never_crashes_or_misleads(tmp_path_factory, rel, data):
    _fuzz_project_file(tmp_path_factory, rel, data)


@FUZZ
@given(data=st.data())
def test_a_mutated_cache_entry_never_changes_an_answer(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    builder = _project(tmp / "study")
    truth = _answers(builder.root, no_cache=True)
    _answers(builder.root, no_cache=False)
    entries = sorted((builder.root / ".qcode" / "cache").rglob("*.json"))
    path = data.draw(st.sampled_from(entries), label="entry")
    path.write_bytes(data.draw(mutated(path.read_bytes()), label="bytes"))
    assert _answers(builder.root, no_cache=False) == truth


def _exported(tmp: Path, kind: str) -> bytes:
    builder = _project(tmp / "source")
    out = tmp / f"export.{kind}"
    _run(builder.root, "export", kind, "-o", str(out))
    return out.read_bytes()


@pytest.mark.parametrize("kind", ["qdc", "qdpx"])
@FUZZ
@given(data=st.data())
def test_a_mutated_refi_qda_file_never_crashes_or_escapes(tmp_path_factory, kind, data):
    tmp = tmp_path_factory.mktemp("fuzz")
    original = _exported(tmp, kind)
    if kind == "qdc":
        payload = data.draw(mutated(original), label="qdc")
    else:  # mutate one member, keep the archive readable so the members are reached
        with zipfile.ZipFile(io.BytesIO(original)) as archive:
            members = {info.filename: archive.read(info) for info in archive.infolist()}
        name = data.draw(st.sampled_from(sorted(members)), label="member")
        members[name] = data.draw(mutated(members[name]), label="bytes")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, content in members.items():
                archive.writestr(member, content)
        payload = buffer.getvalue()
    hostile = tmp / f"hostile.{kind}"
    hostile.write_bytes(payload)
    target = _project(tmp / "target")
    before = _files_outside(tmp, target.root)
    if kind == "qdc":
        result = _run(target.root, "import", "qdc", str(hostile), "--into",
                      "codebooks/imported.yaml", "-f", "json")
    else:
        result = _run(target.root, "import", "qdpx", str(hostile), "--into",
                      str(target.root / "imported"), "-f", "json")
    if result.exit_code == 0 and result.stdout.strip():
        json.loads(result.stdout)  # the report scripts read is well-formed
    assert _files_outside(tmp, target.root) == before
