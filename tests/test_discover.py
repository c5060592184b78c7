"""Finding transcript files: recursive, sorted by relative path, dot-entries and other
suffixes skipped, and a symlinked folder cannot send the search round in a loop."""

from __future__ import annotations

import os

from qcode.format.transcripts import discover


def test_discover_walks_folders_in_path_order(tmp_path):
    root = tmp_path / "transcripts"
    for rel in ("b.md", "a/z.TXT", "a/b/c.md", "A.md", ".hidden.md", ".drafts/x.md",
                "notes.docx", "a/.git/y.md"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("I: hei\n")
    os.symlink(root / "a", root / "a" / "loop")  # a folder that contains itself
    os.symlink(root / "b.md", root / "link.md")  # a linked file is a transcript
    found = discover(root)
    assert [rel for _, rel in found] == ["A.md", "a/b/c.md", "a/z.TXT", "b.md", "link.md"]
    assert all(path == root / rel for path, rel in found)
    assert discover(tmp_path / "missing") == []
