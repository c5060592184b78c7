"""``qcode segments`` reads plain rows (``tally.segment_records``, ``retrieval.retrieve``):
the same segments as the DataFrame counting (``segment_frame``) on random codings, and
the same output as the DataFrame ``Project.segments`` gives, without importing pandas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from qcode import Project
from qcode.analysis import tally
from qcode.analysis.counting import resolve_scope, segment_frame
from qcode.cli.app import app
from qcode.render.tables import frame_rows
from test_analysis_vectorised import _write, codings

STUDY = Path(__file__).resolve().parents[1]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, order=st.permutations(["a", "b", "c"]))
def test_segment_records_are_the_rows_of_segment_frame(project_dir, rows, order):
    project = _write(project_dir.root, rows)
    coders = [c for c in order if c in project.coders]
    if not coders:
        return
    for opened in (project, Project.open(project.root)):  # replayed, then from the cache
        scope = resolve_scope(opened, coders=coders)
        expected = list(segment_frame(opened, scope).itertuples(index=False, name=None))
        assert tally.segment_records(opened.corpus, scope) == expected


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, by=st.sampled_from([None, "school", "transcript"]),
       codes=st.sampled_from([None, ["leadership"], ["outcomes", "lead-weak"]]))
def test_the_rows_of_segments_are_its_frame(project_dir, rows, by, codes):
    project = _write(project_dir.root, rows)
    plain = project.segment_rows(codes, all_coders=True, by=by)
    frame = project.segments(codes, all_coders=True, by=by)
    assert (plain.columns, tally_rows(plain.rows)) == frame_rows(frame)
    assert plain.attrs == frame.attrs


def tally_rows(rows):
    from qcode.render.tables import plain_rows

    return plain_rows(rows)


def run(args: list[str]) -> str:
    done = CliRunner().invoke(app, ["--project", str(STUDY), *args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.parametrize("args", [
    ["leadership-involved"], ["--all-coders", "--by", "school"],
    ["origins", "--by", "informant_group", "--coder", "coder-a"],
    ["--by", "transcript", "--where", "school=Voss"],
])
def test_the_command_prints_what_the_library_frame_holds(args):
    """JSON and CSV from the plain rows are the DataFrame of ``Project.segments``."""
    study = Project.open(STUDY)
    by = args[args.index("--by") + 1] if "--by" in args else None
    coder = args[args.index("--coder") + 1] if "--coder" in args else None
    where = [args[args.index("--where") + 1]] if "--where" in args else []
    codes = [a for a in args[:1] if not a.startswith("-")] or None
    frame = study.segments(codes, coder, "--all-coders" in args, where, by)
    header, rows = frame_rows(frame)
    printed = json.loads(run(["segments", *args, "-f", "json"]))
    assert printed == [dict(zip(header, row, strict=True)) for row in rows]
    assert len(printed) > 3


def test_markdown_and_terminal_quotes_never_show_a_missing_memo_as_nan():
    """With several coders, a span only one of them coded has no memo: it was printed
    as ``memo: nan`` when the quotes came from a DataFrame."""
    for fmt in ("md", "table"):
        printed = run(["segments", "--all-coders", "--by", "school", "-f", fmt])
        assert "memo: nan" not in printed
        assert "memo: " in printed  # the memos there are shown


def _same_texts_read_later(project: Project, by: str | None) -> None:
    from qcode.analysis.retrieval import retrieve

    changed = project.assess(all_coders=True).changed
    full = retrieve(project.corpus, None, None, True, (), by, changed)
    lazy = retrieve(project.corpus, None, None, True, (), by, changed, texts=False)
    text_at = full.columns.index("text")
    assert [lazy.text_length(row) for row in lazy.rows] == [len(r[text_at]) for r in full.rows]
    assert [lazy.text(row) for row in lazy.rows] == [r[text_at] for r in full.rows]
    assert lazy.rows == full.rows  # each text, once read, is in its row


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, by=st.sampled_from([None, "school", "transcript"]))
def test_segments_retrieved_without_their_texts_read_the_same_texts(project_dir, rows, by):
    """What the report and the framework matrix read: the rows of ``segments`` with the
    texts left out, read only for the quotes shown; a quote's length known unread."""
    _same_texts_read_later(_write(project_dir.root, rows), by)


def test_a_changed_transcript_shows_the_coded_text_read_later_too(coded, project_dir):
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    project = Project.open(coded.root)
    assert project.assess(all_coders=True).changed
    _same_texts_read_later(project, "school")
