"""Hostile disks, files and names get a clear error, never a crash (issue 17, items 14-17).

A full or read-only disk, a folder where a file belongs and a file where a folder belongs,
qcode's metadata block in a REFI-QDA file edited into another shape, names with a trailing
newline, YAML with characters it forbids, case tables whose columns have no name or the
same name, and processes tagging the same passage at once.
"""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.interchange.qdpx import export_project

# -- helpers ------------------------------------------------------------------------------------


def assert_clean_error(result, *words: str, code: int = 1) -> None:
    """Exit ``code`` with an `error:` line (and its hint) naming ``words``: no traceback."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.stderr.startswith("error: "), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (the cache left out: it may change)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".qcode" not in p.relative_to(root).parts}


def fail_from(monkeypatch: pytest.MonkeyPatch, name: str, code: int, after: int = 0) -> None:
    """Make ``os.<name>`` raise ``OSError(code)`` from its ``after + 1``-th call on: a disk
    that fills up (ENOSPC), turns read-only (EROFS) or refuses us (EACCES) part way."""
    real = getattr(os, name)
    calls = [0]

    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] > after:
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)


def refuse_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act as a read-only folder would for root, whom permissions do not stop: opening a
    file for writing or making a folder fails with EACCES."""
    real_open, real_mkdir = os.open, os.mkdir
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def open_(path, flags, *args, **kwargs):
        if flags & writing:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if not os.path.isdir(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)


# -- item 14: full, read-only and misshapen disks ----------------------------------------------

HINTS = {errno.ENOSPC: "free some space", errno.EROFS: "read-only",
         errno.EACCES: "permissions", errno.EDQUOT: "free some space"}


def _run(operation: str, cli, project_dir, tmp_path: Path):
    """Run one writing command; returns (result, the path it must not have written)."""
    root = project_dir.root
    if operation == "output":
        return cli("matrix", "--by", "school", "-o", "out.csv"), root / "out.csv"
    if operation == "export":
        return cli("export", "qdpx", "-o", "out.qdpx"), root / "out.qdpx"
    if operation == "import":
        source = tmp_path / "new-interview.txt"
        source.write_text("I: Hva skjedde?\n\nLærer: Mye.\n", "utf-8")
        return cli("import", "transcripts", str(source)), root / "transcripts/new-interview.md"
    if operation == "init":
        return cli("init", str(tmp_path / "fresh")), tmp_path / "fresh"
    assert operation == "tag"
    return cli("tag", "voss-principal", "2", "ownership", "--coder", "a"), None


@pytest.mark.parametrize("code", sorted(HINTS))
@pytest.mark.parametrize("operation", ["output", "export", "import", "init", "tag"])
def test_a_failing_disk_is_one_error_and_writes_nothing(cli, project_dir, tmp_path, monkeypatch,
                                                        operation, code):
    project_dir.append_log("a", {"op": "add", "id": "0123456789abcdef",
                                 "transcript": "voss-principal", "start": 0, "end": 1,
                                 "code": "personal", "text": "I", "at": "2026-01-01T00:00:00Z"})
    before = tree(project_dir.root)
    fail_from(monkeypatch, "fsync", code)
    result, target = _run(operation, cli, project_dir, tmp_path)
    if operation == "import":  # one line per file: this one failed, the others would not
        assert result.exit_code == 1, result.output
        assert "error: new-interview.txt" in result.stderr or "new-interview" in result.stderr
        assert "cannot write" in result.stderr and HINTS[code] in result.stderr
    else:
        assert_clean_error(result, "cannot ", HINTS[code])
    assert tree(project_dir.root) == before  # the log, the folders: all as they were
    assert target is None or not target.exists()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_log_write_cut_short_by_a_full_disk_leaves_the_log_as_it_was(cli, project_dir,
                                                                      monkeypatch):
    assert cli("tag", "voss-principal", "2", "ownership", "--coder", "a").exit_code == 0
    before = (project_dir.root / "codings" / "a.jsonl").read_bytes()
    real_write = os.write

    def half_then_full(fd, data):  # the disk fills up in the middle of the line
        if len(data) > 8:
            return real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", half_then_full)
    result = cli("tag", "voss-principal", "4", "ownership", "--coder", "a")
    assert_clean_error(result, "codings/a.jsonl", "no space left", "free some space")
    assert (project_dir.root / "codings" / "a.jsonl").read_bytes() == before


def test_a_failed_rename_writes_nothing(cli, project_dir, monkeypatch):
    fail_from(monkeypatch, "replace", errno.EROFS)
    result = cli("freq", "-o", "freq.csv")
    assert_clean_error(result, "freq.csv", "read-only")
    assert sorted(p.name for p in project_dir.root.iterdir() if p.name.startswith(
        (".freq", "freq"))) == []


def test_init_that_fails_part_way_takes_back_what_it_made(cli, tmp_path, monkeypatch):
    fail_from(monkeypatch, "fsync", errno.ENOSPC, after=2)  # the third file fails
    result = cli("init", str(tmp_path / "fresh"))
    assert_clean_error(result, "no space left")
    assert not (tmp_path / "fresh").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    result = cli("init", str(tmp_path / "mine"))
    assert_clean_error(result, "no space left")
    assert tree(tmp_path / "mine") == {"notes.txt": b"keep"}


def test_a_read_only_folder_is_one_error(cli, project_dir, tmp_path, monkeypatch, request):
    """With real permissions (chmod); root ignores them, so as root the refusals are
    simulated: under CI=true that must run rather than skip."""
    codings = project_dir.root / "codings"
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    if os.geteuid() == 0:
        if os.environ.get("CI") != "true":
            pytest.skip("running as root, which ignores file permissions (the monkeypatched "
                        "EACCES/EROFS tests cover the same paths)")
        refuse_writes(monkeypatch)
    else:
        for folder in (codings, outputs, tmp_path / "ro-parent"):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o555)
            request.addfinalizer(lambda folder=folder: folder.chmod(0o755))
    before = tree(project_dir.root)
    assert_clean_error(cli("tag", "voss-principal", "2", "ownership", "--coder", "new"),
                       "codings/new.jsonl", "permission denied")
    assert_clean_error(cli("matrix", "--by", "school", "-o", str(outputs / "m.csv")),
                       "m.csv", "permission denied")
    assert_clean_error(cli("init", str(tmp_path / "ro-parent" / "p")), "permission denied")
    assert tree(project_dir.root) == before
    assert list(outputs.iterdir()) == []


def test_a_folder_named_like_a_log_is_reported_and_skipped(cli, project_dir):
    (project_dir.root / "codings" / "x.jsonl").mkdir()
    (project_dir.root / "codings" / "x.suggestions.jsonl").mkdir()
    assert cli("tag", "voss-principal", "2", "ownership", "--coder", "a").exit_code == 0
    check = cli("check", "--format", "json")
    assert check.exit_code == 1, check.output
    problems = [p for p in json.loads(check.stdout)["problems"] if p["rule"] == "log-not-a-file"]
    assert [(p["file"], p["line"]) for p in problems] == [
        ("codings/x.jsonl", None), ("codings/x.suggestions.jsonl", None)]
    assert all("is a folder" in p["message"] for p in problems)
    assert "1 coder," in cli("check").stdout
    for command in (["matrix", "--by", "school"], ["freq"], ["segments"], ["codes"],
                    ["transcripts"], ["export", "qdpx", "-o", "all.qdpx"]):
        result = cli(*command)
        assert result.exit_code in (0, 1), (command, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.output
    assert_clean_error(cli("tag", "voss-principal", "2", "ownership", "--coder", "x"),
                       "codings/x.jsonl", "folder")
    assert_clean_error(cli("segments", "--coder", "x"), "unknown coder 'x'")
    assert Project.open(project_dir.root).replay("x").problems.errors[0].rule == \
        "log-not-a-file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_pipe_named_like_a_log_never_hangs_a_command(cli, project_dir):
    import signal

    os.mkfifo(project_dir.root / "codings" / "p.jsonl")
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a command waited on the pipe"))
    signal.alarm(20)
    try:
        check = cli("check", "--format", "json")
        assert [p["file"] for p in json.loads(check.stdout)["problems"]] == ["codings/p.jsonl"]
        assert_clean_error(cli("tag", "voss-principal", "2", "ownership", "--coder", "p"),
                           "codings/p.jsonl", "not a regular file")
        [problem] = Project.open(project_dir.root).replay("p").problems
        assert problem.rule == "log-not-a-file"
    finally:
        signal.alarm(0)


def test_a_file_named_dot_qcode(cli, project_dir):
    (project_dir.root / ".qcode").write_text("not a folder")
    assert cli("tag", "voss-principal", "2", "ownership", "--coder", "a").exit_code == 0
    assert cli("check").exit_code == 0  # the cache is only lost time
    assert cli("matrix", "--by", "school").exit_code == 0
    result = cli("code", "--plain", "--coder", "a", "voss-principal", input="q\n")
    assert_clean_error(result, ".qcode is a file, not a folder", "move the file out of the way")
    assert (project_dir.root / ".qcode").read_text() == "not a folder"
    assert len(project_dir.log_lines("a")) == 1


def test_a_save_that_fails_in_a_session_is_said_and_the_session_goes_on(cli, project_dir,
                                                                         monkeypatch):
    fail_from(monkeypatch, "fsync", errno.ENOSPC)
    result = cli("code", "--plain", "--coder", "c", "voss-principal", input="o\nq\n")
    assert result.exit_code == 0, result.output
    assert "error: cannot append to codings/c.jsonl: no space left on the disk" in result.stdout
    assert "Traceback" not in result.output
    assert project_dir.log_lines("c") == []


# -- item 14: qcode's metadata block in a .qdpx / .qdc ------------------------------------------

_PI = re.compile(rb"<\?qcode (.*?)\?>", re.DOTALL)


@pytest.fixture
def exported(project_dir) -> bytes:
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong", "ownership"], "a", memo="why")
    project.tag("lier-teacher", 2, ["personal"], "b")
    return export_project(Project.open(project_dir.root)).data


def with_meta(data: bytes, change: Callable[[dict], object]) -> bytes:
    """The archive with its metadata block changed by ``change``."""
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = src.read(info)
            if info.filename == "project.qde":
                match = _PI.search(payload)
                assert match is not None
                meta = json.loads(match.group(1))
                change(meta)
                text = json.dumps(meta).replace("?>", "?\\u003e").encode()
                payload = payload[:match.start(1)] + text + payload[match.end(1):]
            dst.writestr(info, payload)
    return out.getvalue()


def _set(path: tuple, value: object) -> Callable[[dict], None]:
    def change(meta: dict) -> None:
        node = meta
        for part in path[:-1]:
            node = node[part] if part != "*" else next(iter(node.values()))
        if path[-1] == "*":
            for key in node:
                node[key] = value
        else:
            node[path[-1]] = value
    return change


@pytest.mark.parametrize("path, value", [
    (("coders",), 5), (("codes",), "x"), (("cases",), True), (("transcripts",), 1.5),
    (("codings",), [1]), (("case_tables",), 5), (("codes", "*", "aliases"), 5),
    (("transcripts", "*", "keys"), {"a": 1}), (("coders", "*"), 5),
    (("transcripts", "*"), None), (("case_tables", 0), "x"),
])
def test_a_metadata_block_of_the_wrong_shape_is_said_and_left_out(cli, exported, tmp_path,
                                                                   path, value):
    archive = tmp_path / "edited.qdpx"
    archive.write_bytes(with_meta(exported, _set(path, value)))
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert f"a `{path[0]}` part of a shape qcode does not write" in result.stderr
    assert "the block is left out" in result.stderr
    assert "qcode check: ok" in result.stderr
    project = Project.open(tmp_path / "p")
    assert len(project.transcripts) == 3 and len(project.codings()) == 3


def test_a_codebook_metadata_block_of_the_wrong_shape(cli, project_dir, tmp_path):
    assert cli("export", "qdc", "-o", str(tmp_path / "c.qdc")).exit_code == 0
    raw = (tmp_path / "c.qdc").read_bytes()
    match = _PI.search(raw)
    assert match is not None
    meta = json.loads(match.group(1))
    for entry in meta["codes"].values():
        entry["aliases"], entry["key"] = 5, ["L"]
    (tmp_path / "c.qdc").write_bytes(raw[:match.start(1)] + json.dumps(meta).encode()
                                     + raw[match.end(1):])
    result = cli("import", "qdc", str(tmp_path / "c.qdc"), "--into", str(tmp_path / "c.yaml"))
    assert result.exit_code == 0, result.output
    assert "a `codes` part of a shape qcode does not write" in result.stderr


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False)
    | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(choice=st.integers(0, 10_000), value=_JSON)
def test_any_edit_of_the_metadata_block_imports_or_refuses_cleanly(cli, exported, tmp_path,
                                                                   choice, value):
    meta = json.loads(_PI.search(zipfile.ZipFile(
        __import__("io").BytesIO(exported)).read("project.qde")).group(1))
    by_depth: dict[int, list[tuple]] = {}
    for found in _paths(meta):  # each depth as likely: the sections are few, entries many
        by_depth.setdefault(min(len(found), 3), []).append(found)
    depths = sorted(by_depth)
    paths = by_depth[depths[choice % len(depths)]]
    path = paths[(choice // len(depths)) % len(paths)]
    work = tmp_path / f"run-{choice}-{abs(hash(repr(value))) % 10_000}"
    work.mkdir(exist_ok=True)
    archive = work / "edited.qdpx"
    archive.write_bytes(with_meta(exported, _set(path, value)))
    into = work / "p"
    result = cli("import", "qdpx", str(archive), "--into", str(into))
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    outside = [p for p in work.rglob("*") if p != archive and p != into
               and into not in p.parents]
    assert outside == []
    if result.exit_code == 0:  # edited ids or names may make check complain, never crash
        assert cli("--project", str(into), "check").exit_code in (0, 1)


# -- item 15: processes tagging the same passage at once ----------------------------------------

ROUNDS = [(passage, code) for passage in (2, 4) for code in
          ("lead-strong", "lead-weak", "ownership", "personal", "outcomes")]


def _tagger(root: str, barrier) -> None:
    for passage, code in ROUNDS:
        barrier.wait(timeout=30)
        Project.open(root).tag("voss-principal", passage, [code], "a")  # a fresh read each time


def test_concurrent_tags_of_the_same_passage_write_it_once(project_dir):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(6)
    workers = [context.Process(target=_tagger, args=(str(project_dir.root), barrier))
               for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0] * 6
    lines = project_dir.log_lines("a")
    spans = [(e["start"], e["end"], e["code"]) for e in lines if e["op"] == "add"]
    assert len(spans) == len(set(spans)) == len(ROUNDS)
    codings = Project.open(project_dir.root).codings("a")
    assert len(codings) == len(ROUNDS)


# -- item 16: names are whole matches ------------------------------------------------------------


@pytest.mark.parametrize("coder", ["me\n", "me\r\n", "\nme", "m e", "me/x"])
def test_a_coder_name_with_a_newline_is_refused(cli, project_dir, monkeypatch, coder):
    assert_clean_error(cli("tag", "voss-principal", "2", "ownership", "--coder", coder),
                       "coder name", code=2)
    monkeypatch.setenv("QCODE_CODER", coder)
    assert_clean_error(cli("tag", "voss-principal", "2", "ownership"), "coder name", code=2)
    assert list((project_dir.root / "codings").iterdir()) == []


def test_ids_and_names_with_a_trailing_newline_are_refused(cli, project_dir, tmp_path):
    source = tmp_path / "x.txt"
    source.write_text("I: Hei.\n", "utf-8")
    result = cli("import", "transcripts", str(source), "--id", "t1\n")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (project_dir.root / "transcripts" / "t1\n.md").exists()
    project_dir.replace("codebooks/codes.yaml", "  - id: ownership\n", '  - id: "ownership\\n"\n')
    project_dir.replace("codebooks/codes.yaml", "aliases: [anchoring]",
                        'aliases: ["anchoring\\n"]')
    check = cli("check", "--format", "json")
    assert check.exit_code == 1
    found = {(p["rule"], p["file"], p["line"]) for p in json.loads(check.stdout)["problems"]}
    assert {("codebook-schema", "codebooks/codes.yaml", 18),
            ("codebook-schema", "codebooks/codes.yaml", 13)} <= found
    project_dir.replace("qcode.yaml", "segmentation: turns\n",
                        'segmentation: turns\nprimary_coder: "me\\n"\n')
    check = cli("check", "--format", "json")
    found = {(p["rule"], p["file"], p["line"]) for p in json.loads(check.stdout)["problems"]}
    assert ("config-schema", "qcode.yaml", 6) in found


def test_no_pattern_ending_in_a_dollar_is_used_to_match_a_whole_name():
    """In Python `$` also matches before a final newline, so `re.match(r"^[a-z]+$", "a\\n")`
    passes: whole values are matched with fullmatch (pydantic's `pattern=` is not
    Python's engine, and ends `$` at the very end)."""
    import qcode

    offenders = []
    for path in sorted(Path(qcode.__file__).parent.rglob("*.py")):
        text = path.read_text("utf-8")
        for name in re.findall(r'^(\w+) = re\.compile\(\s*r?"[^"\n]*\$"', text, re.M):
            if re.search(rf"\b{name}\.(match|search)\(", text):
                offenders.append(f"{path.name}: {name}")
        offenders += [f"{path.name}: {m.group(0)}" for m in
                      re.finditer(r're\.(match|search)\(\s*r?"[^"\n]*\$"', text)]
    assert offenders == []


def test_refi_names_with_a_trailing_newline_are_not_taken(cli, exported, tmp_path):
    def newline_names(meta: dict) -> None:
        for entry in meta["transcripts"].values():
            entry["id"] += "\n"
        for entry in meta["codes"].values():
            entry["id"] += "\n"
        for guid in meta["coders"]:
            meta["coders"][guid] += "\n"

    archive = tmp_path / "names.qdpx"
    archive.write_bytes(with_meta(exported, newline_names))
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    project = Project.open(tmp_path / "p")
    names = ([t.id for t in project.transcripts] + [c.id for c in project.codebook]
             + project.coders + [p.name for p in (tmp_path / "p").rglob("*")])
    assert not [n for n in names if "\n" in n or "\r" in n]
    assert project.check().ok


# -- item 17: check says where ---------------------------------------------------------------------


@pytest.mark.parametrize("rel, old, new, line", [
    ("qcode.yaml", "segmentation: turns", "segmentation: tu\x00rns", 5),
    ("codebooks/codes.yaml", "label: Staff ownership", "label: Staff\x07ownership", 19),
    ("transcripts/voss-principal.md", "school: Voss", "school: Vo\x00ss", 3),
    ("transcripts/voss-principal.md", "school: Voss", "school: 'Vo\x1bss'", 3),
])
def test_a_control_character_in_yaml_is_reported_at_its_line(cli, project_dir, rel, old, new,
                                                             line):
    project_dir.replace(rel, old, new)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    [problem] = [p for p in json.loads(result.stdout)["problems"]
                 if p["file"] == rel and p["severity"] == "error"]
    assert problem["line"] == line and "control character" in problem["message"], problem


@pytest.mark.parametrize("rel, old, new, line", [
    ("qcode.yaml", "segmentation: turns\n", "segmentation: turns\n~: 3\n", 6),
    ("qcode.yaml", "  school: {required: true}\n", "  school: {required: true}\n  5: {}\n", 11),
    ("qcode.yaml", "  school: {required: true}\n", "  school: {required: true}\n  : {}\n", 11),
    ("codebooks/codes.yaml", "    label: Staff ownership\n",
     "    label: Staff ownership\n    null: x\n", 20),
])
def test_a_key_that_is_not_text_is_reported_at_its_line(cli, project_dir, rel, old, new, line):
    project_dir.replace(rel, old, new)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    problems = [p for p in json.loads(result.stdout)["problems"] if p["file"] == rel]
    assert [(p["line"], "must be text" in p["message"]) for p in problems] == [(line, True)]


@pytest.mark.parametrize("header, message", [
    ("school,pupils,pupils", "column 3 is named 'pupils' like column 2"),
    ("school,pupils, school ", "column 3 is named 'school' like column 1"),
    ("school,,model", "column 2 of the header has no name"),
    ("school,pupils,model,", "column 4 of the header has no name"),
])
def test_a_case_table_header_loses_no_column(cli, project_dir, header, message):
    rows = "\n".join(f"{school},1,2{',' if header.endswith(',') else ''}"
                     for school in ("Voss", "Lier", "Strinda"))
    project_dir.write("cases/schools.csv", f"{header}\n{rows}\n")
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    header_problems = [p for p in json.loads(result.stdout)["problems"]
                       if p["rule"] == "case-table-header"]
    assert [(p["file"], p["line"], p["message"]) for p in header_problems] == [
        ("cases/schools.csv", 1, message)]
    matrix = cli("matrix", "--by", "school")
    assert matrix.exit_code == 1 and "case-table-header" in matrix.stderr


@pytest.mark.parametrize("key", ["codings", "transcripts"])
@pytest.mark.parametrize("value", ["qcode.yaml", "qcode.yaml/sub"])
def test_a_folder_setting_that_names_a_file(cli, project_dir, key, value):
    project_dir.replace("qcode.yaml", f"{key}: {key}\n", f"{key}: {value}\n")
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    line = 4 if key == "codings" else 3
    problems = [(p["rule"], p["file"], p["line"]) for p in json.loads(result.stdout)["problems"]]
    assert ("config-not-a-folder", "qcode.yaml", line) in problems
    for command in (["tag", "voss-principal", "2", "ownership", "--coder", "a"],
                    ["matrix", "--by", "school"], ["segments"]):
        refused = cli(*command)
        assert refused.exit_code == 1, (command, refused.output)
        assert "Traceback" not in refused.output and "not a folder" in refused.stderr
    assert project_dir.read("qcode.yaml").count("\n") > 3  # nothing written into it


@pytest.mark.parametrize("key", ["codings", "transcripts", "memos"])
def test_a_folder_name_no_file_system_takes_is_a_config_error(cli, project_dir, key):
    # found by tests/test_fuzz.py: stat() raised ENAMETOOLONG and check exited 70
    config = project_dir.read("qcode.yaml")
    setting = f"{key}: {'(' * 300}{key}\n"
    project_dir.write("qcode.yaml", config.replace(f"{key}: {key}\n", setting)
                      if f"{key}: {key}\n" in config else config + setting)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1, result.output
    problems = json.loads(result.stdout)["problems"]
    assert any(p["rule"] == "config-not-a-folder" and "longer than the 255 bytes" in p["message"]
               for p in problems)
    for command in (["matrix", "--by", "school"], ["segments"]):
        refused = cli(*command)
        assert refused.exit_code == 1 and "Traceback" not in refused.output


@pytest.mark.parametrize("rel", ["codebooks/codes.yaml", "qcode.yaml"])
def test_an_unknown_key_holding_brackets_is_named_not_a_crash(cli, project_dir, rel):
    # found by tests/test_fuzz.py: a key like "n[[[ame" was taken for one of pydantic's
    # union member names, dropped from the error's path, and check exited 70
    text = project_dir.read(rel)
    project_dir.write(rel, "n[[[ame: x\n" + text)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1, result.output
    unknown = [p for p in json.loads(result.stdout)["problems"]
               if p["rule"].endswith("-unknown-key")]
    assert [(p["file"], p["line"], p["message"]) for p in unknown] == [
        (rel, 1, "unknown key 'n[[[ame' in the top level")]


def test_a_missing_folder_and_a_missing_key_are_reported_at_their_line(cli, project_dir):
    project_dir.replace("qcode.yaml", "transcripts: transcripts\n", "transcripts: nosuch\n")
    result = cli("check", "--format", "json")
    found = {(p["rule"], p["file"], p["line"]) for p in json.loads(result.stdout)["problems"]}
    assert ("transcripts-missing", "qcode.yaml", 3) in found
    project_dir.replace("qcode.yaml", "name: Fixture study\n", "# the study\n")
    result = cli("check", "--format", "json")
    found = {(p["rule"], p["file"], p["line"]) for p in json.loads(result.stdout)["problems"]}
    assert ("config-schema", "qcode.yaml", 2) in found  # the first line of the mapping


def test_a_bad_value_from_a_case_table_is_reported_at_its_row(cli, project_dir):
    project_dir.replace("qcode.yaml", "  school: {required: true}\n",
                        "  school: {required: true}\n  pupils: {type: integer}\n")
    project_dir.replace("cases/schools.csv", "Lier,450,", "Lier,many,")
    result = cli("check", "--format", "json")
    problems = [(p["rule"], p["file"], p["line"]) for p in json.loads(result.stdout)["problems"]
                if p["rule"] == "attribute-type"]
    assert problems == [("attribute-type", "cases/schools.csv", 3)]
