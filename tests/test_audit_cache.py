"""`qcode check`'s audit of a log, kept in the cache: read back only while the log, the
transcripts and the codebook are what it was made from, and then without reading a
single coding's columns beyond those counting needs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from qcode import Project
from qcode.store.events import add_event
from qcode.store.log import CodingLog


def _problems(root: Path) -> list[dict]:
    return [p.to_dict() for p in Project.open(root).check().problems]


def _truth(root: Path, monkeypatch) -> list[dict]:
    with monkeypatch.context() as patch:
        patch.setenv("QCODE_NO_CACHE", "1")
        return _problems(root)


def _append(root: Path, *events: dict, coder: str = "a") -> None:
    CodingLog(root / "codings" / f"{coder}.jsonl", coder, f"codings/{coder}.jsonl").append(
        list(events))


def _same_with_the_cache(root: Path, monkeypatch) -> list[dict]:
    truth = _truth(root, monkeypatch)
    assert _problems(root) == truth  # makes or refreshes the audit
    assert _problems(root) == truth  # reads it back
    return truth


def test_the_kept_audit_is_the_audit_after_every_kind_of_change(coded, project_dir,
                                                                monkeypatch):
    root = coded.root
    body = coded.transcript("voss-principal").body
    first = coded.codings("a")[0]
    _append(root,
            add_event(first.transcript, first.start, first.end, first.code, first.text),
            add_event("voss-principal", 0, 4, "zqxw", body[0:4]),
            add_event("voss-principl", 0, 4, "ownership", body[0:4]))
    before = _same_with_the_cache(root, monkeypatch)
    rules = sorted(p["rule"] for p in before)
    assert rules == ["coding-duplicate", "coding-unknown-code", "coding-unknown-transcript"]

    # a new code changes no coding's resolution, only the hint for the unknown one
    project_dir.replace("codebooks/codes.yaml", "  - id: outcomes\n",
                        "  - id: zqxv\n    label: Near miss\n  - id: outcomes\n")
    hints = [p["hint"] for p in _same_with_the_cache(root, monkeypatch)
             if p["rule"] == "coding-unknown-code"]
    assert hints == ["did you mean 'zqxv'? (a renamed code keeps its old id in `aliases`)"]

    # an alias resolves the unknown code
    project_dir.replace("codebooks/codes.yaml", "    key: o\n",
                        "    key: o\n    aliases: [zqxw]\n")
    assert "coding-unknown-code" not in {p["rule"] for p in _same_with_the_cache(
        root, monkeypatch)}

    # a transcript's text changes under its codings; then a new line is logged
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    assert "coding-text-mismatch" in {p["rule"] for p in _same_with_the_cache(
        root, monkeypatch)}
    _append(root, add_event("lier-teacher", 0, 3, "nowhere", "abc"))
    assert _same_with_the_cache(root, monkeypatch) != before


def test_an_unchanged_project_is_assessed_without_reading_the_rest_of_the_columns(coded):
    root = coded.root
    first = coded.codings("b")[0]
    _append(root, add_event(first.transcript, first.start, first.end, first.code,
                            first.text), coder="b")
    old = time.time() - 60  # past the racy window: the cache may trust stamps alone
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    Project.open(root).check()
    project = Project.open(root)
    assessment = project.assess(all_coders=True)
    assert any("repeat another coding" in note for note in assessment.notes)
    tables = project.coding_tables()
    assert len(tables) == 2 and all(table._rest is not None for table in tables)
