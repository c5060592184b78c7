"""The shape of what commands print (#16 items 13, 17 and 18): one default-format rule for
every command that prints a table, nothing wrapped for a pipe, tables fitted to a terminal
without two headers alike, and no column for a coder with nothing coded."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.cli.tables import unique_abbreviations

REPO = Path(__file__).resolve().parents[1]

TABULAR = [
    ("codes",),
    ("transcripts",),
    ("matrix", "--by", "school", "-c", "a"),
    ("freq", "-c", "a"),
    ("cooccur", "-c", "a"),
    ("segments", "-c", "a"),
    ("query", "ownership", "-c", "a"),
    ("agree", "--coders", "a,b"),
]


@pytest.mark.parametrize("command", TABULAR, ids=[c[0] for c in TABULAR])
def test_every_table_command_prints_csv_to_a_pipe(cli, coded, command, monkeypatch):
    """Item 13: with no --format, a pipe gets CSV from every command that prints a table
    (`transcripts` used to print a table, `matrix` CSV)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    result = cli(*command)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) >= 2 and len({len(r) for r in rows}) == 1, result.stdout[:500]
    assert "┃" not in result.stdout and "─" not in result.stdout


def test_nothing_wraps_for_a_pipe(monkeypatch, tmp_path):
    """Item 13: piped `codes` (tree) and `show` keep every line whole, however long: the
    counts stay on their code's line."""
    from typer.testing import CliRunner

    from qcode.cli.app import app

    monkeypatch.delenv("COLUMNS", raising=False)
    runner = CliRunner()
    tree = runner.invoke(app, ["--project", str(REPO), "codes", "-f", "tree"])
    assert tree.exit_code == 0, tree.output
    line = next(x for x in tree.stdout.splitlines() if "staff-mobility-prep" in x)
    assert re.search(r"\d+ / \d+ / \d+$", line), line
    assert max(len(x) for x in tree.stdout.splitlines()) > 80
    shown = runner.invoke(app, ["--project", str(REPO), "show", "voss-principal",
                                "-c", "consensus"])
    body = (REPO / "transcripts" / "voss-principal.md").read_text(encoding="utf-8")
    long_turn = max((p for p in body.split("\n\n") if p.startswith("Rektor:")), key=len)
    assert long_turn in shown.stdout
    proposals = runner.invoke(app, ["--project", str(REPO), "autocode", "--dry-run"])
    assert proposals.stdout.startswith("transcript,passage,speaker,")  # CSV, as the others


def test_a_throwaway_coder_leaves_no_column(cli, coded, project_dir, tmp_path):
    """Item 17: `tag … --coder me` then `untag` leaves a log with nothing in it: no column
    in `transcripts` and `codes`, no user in the REFI-QDA export."""
    assert cli("tag", "voss-principal", "2", "personal", "--coder", "me").exit_code == 0
    assert cli("untag", "voss-principal", "2", "personal", "--coder", "me").exit_code == 0
    assert (project_dir.root / "codings" / "me.jsonl").exists()
    header = cli("transcripts", "-f", "csv").stdout.splitlines()[0]
    assert header.endswith("codings_a,codings_b")
    assert json.loads(cli("codes", "-f", "json").stdout)["coders"] == ["a", "b"]
    assert "│ me" not in cli("transcripts", "-f", "table").stdout
    out = tmp_path / "study.qdpx"
    assert cli("export", "qdpx", "-o", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as archive:
        qde = archive.read("project.qde").decode("utf-8")
    assert 'name="a"' in qde and 'name="b"' in qde and 'name="me"' not in qde


def test_tables_fit_80_columns_with_headers_never_alike(monkeypatch):
    """Item 18: at 80 columns `matrix --by school` used to show `V…` and `Vo…` (Verdal and
    Voss alike) and `transcripts` `Bo… co… in…`. Now every line fits, no header is cut to
    an ellipsis, no two are alike, and shortened ones are explained beneath."""
    from typer.testing import CliRunner

    from qcode.cli.app import app

    monkeypatch.setenv("COLUMNS", "80")
    runner = CliRunner()
    for command in (["matrix", "--by", "school", "--measure", "documents-pct", "--rollup"],
                    ["matrix", "--by", "informant_group"], ["transcripts"],
                    ["freq", "--by", "school"]):
        result = runner.invoke(app, ["--project", str(REPO), *command, "-f", "table"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, command
        assert "…" not in result.stdout, command
        header_lines = [lines[i - 1] for i, line in enumerate(lines)
                        if i and set(line.strip()) == {"─"}]
        for header in header_lines:
            names = header.split()
            assert len(names) == len(set(names)), header
    matrix = runner.invoke(app, ["--project", str(REPO), "matrix", "--by", "school",
                                 "-f", "table"]).stdout
    assert "Verd = Verdal" in matrix and re.search(r"\bVoss\b", matrix)


@given(st.lists(st.text(alphabet="VvoOsdaerlł", min_size=1, max_size=9), min_size=1,
                max_size=12, unique=True),
       st.integers(min_value=1, max_value=6))
def test_shortened_headers_are_unique_prefixes(names, width):
    short = unique_abbreviations(names, [width] * len(names))
    assert len({s.casefold() for s in short}) == len(short)
    for name, abbreviation in zip(names, short, strict=True):
        stem = abbreviation.split("#")[0]
        assert name.startswith(stem)
        assert len(stem) >= min(len(name), 4)
