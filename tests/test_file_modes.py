"""Files qcode writes can be read by colleagues on a shared drive (#16 item 11): a new file
gets ``0666 & ~umask`` as any other program's would, and a file qcode replaces keeps the
mode it had."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_get_the_umask_mode(cli, coded, project_dir, tmp_path, umask_022):
    root = project_dir.root
    written = {
        "matrix.csv": ("matrix", "--by", "school", "-c", "a", "-o", "matrix.csv"),
        "matrix.xlsx": ("matrix", "--by", "school", "-c", "a", "-o", "matrix.xlsx",
                        "--plot", "matrix.png"),
        "segments.html": ("segments", "-c", "a", "-o", "segments.html"),
        "study.qdpx": ("export", "qdpx", "-o", "study.qdpx"),
        "codes.qdc": ("export", "qdc", "-o", "codes.qdc"),
    }
    for name, command in written.items():
        result = cli(*command)
        assert result.exit_code == 0, (name, result.output)
        assert mode(root / name) == 0o644, name
    assert mode(root / "matrix.png") == 0o644

    source = tmp_path / "interview.txt"
    source.write_text("I: Hei.\n\nRektor: Hei.\n", encoding="utf-8")
    result = cli("import", "transcripts", str(source), "-a", "school=Voss",
                 "-a", "informant_group=principal")
    assert result.exit_code == 0, result.output
    assert mode(root / "transcripts" / "interview.md") == 0o644

    fresh = tmp_path / "fresh"
    assert cli("init", str(fresh)).exit_code == 0
    for path in [fresh / "qcode.yaml", *fresh.rglob("*.yaml")]:
        assert mode(path) == 0o644, path


def test_a_replaced_file_keeps_its_mode(cli, project_dir, tmp_path, umask_022):
    """`import qdc --merge` rewrites the codebook: a 0640 codebook stays 0640 (group-readable,
    not world-readable), and a 0644 one stays 0644."""
    root = project_dir.root
    assert cli("export", "qdc", "-o", str(tmp_path / "codes.qdc")).exit_code == 0
    exported = (tmp_path / "codes.qdc").read_text(encoding="utf-8")
    codebook = root / "codebooks" / "codes.yaml"
    for number, wanted in enumerate((0o640, 0o644)):
        more = tmp_path / f"more-{number}.qdc"
        more.write_text(exported.replace(
            "</Codes>", f'<Code guid="0D3C0A6E-9A44-4F43-8D8B-7B1B1A2F0C1{number}" '
            f'name="Brand new {number}" isCodable="true"/></Codes>', 1), encoding="utf-8")
        codebook.chmod(wanted)
        result = cli("import", "qdc", str(more), "--merge")
        assert result.exit_code == 0, result.output
        assert f"Brand new {number}" in codebook.read_text(encoding="utf-8")
        assert mode(codebook) == wanted


def test_replacing_an_export_with_force_keeps_its_mode(cli, coded, project_dir, umask_022):
    out = project_dir.root / "m.csv"
    assert cli("matrix", "--by", "school", "-c", "a", "-o", str(out)).exit_code == 0
    out.chmod(0o600)  # the user made it private; --force must not widen it
    assert cli("matrix", "--by", "school", "-c", "a", "-o", str(out), "--force").exit_code == 0
    assert mode(out) == 0o600
