"""The plain-Python counts the command line prints (``qcode.analysis.tally``) are the
library's DataFrame counts (``qcode.analysis.counting``), on random codings, replayed and
read back from the cache."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.analysis import tally
from test_analysis_vectorised import _write, codings


def frame_rows(frame) -> tuple[list[str], list[list]]:
    from qcode.render.tables import number

    rows = [[None if v is None or (isinstance(v, float) and v != v) else number(v)
             for v in row] for row in frame.itertuples(index=False, name=None)]
    return [str(c) for c in frame.columns], rows


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, rollup=st.booleans(), by=st.sampled_from([None, "school", "transcript"]),
       coders=st.sampled_from([["a"], ["a", "b"], ["c", "b", "a"]]),
       codes=st.sampled_from([None, ["leadership"], ["outcomes", "lead-weak"]]))
def test_freq_rows_are_the_frame_of_freq(project_dir, rows, rollup, by, coders, codes):
    project = _write(project_dir.root, rows)
    coders = [c for c in coders if c in project.coders]
    if not coders:
        return
    for opened in (project, Project.open(project.root)):  # replayed, then from the cache
        expected = frame_rows(opened.freq(by, rollup, coders, codes=codes))
        assert tally.freq_rows(opened.corpus, by, rollup, coders, codes=codes) == expected


def test_the_bundled_study_counts_the_same_without_pandas():
    from pathlib import Path

    study = Project.open(Path(__file__).resolve().parents[1])
    for by in (None, "school", "informant_group"):
        for rollup in (False, True):
            expected = frame_rows(study.freq(by, rollup, all_coders=True))
            assert study.freq_rows(by, rollup, all_coders=True) == expected
            assert any(row[-3] for row in expected[1])  # something was counted


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, rollup=st.booleans(), totals=st.booleans(),
       measure=st.sampled_from(tally.MEASURES),
       by=st.sampled_from(["school", "transcript", "school,informant_group"]),
       coders=st.sampled_from([["a"], ["a", "b"], ["c", "b", "a"]]),
       min_documents=st.sampled_from([1, 2]))
def test_matrix_grid_is_the_frame_of_matrix(project_dir, rows, rollup, totals, measure, by,
                                            coders, min_documents):
    if measure not in tally.CASE_MEASURES:
        min_documents = 1
    project = _write(project_dir.root, rows)
    coders = [c for c in coders if c in project.coders]
    if not coders:
        return
    for opened in (project, Project.open(project.root)):  # replayed, then from the cache
        frame = opened.matrix(by, measure, rollup, coders, totals=totals,
                              min_documents=min_documents)
        plain = tally.matrix_grid(opened.corpus, by, measure, rollup, coders, totals=totals,
                                  min_documents=min_documents)
        assert plain.index == [str(i) for i in frame.index]
        assert plain.columns == list(frame.columns)
        cells = frame.to_numpy().tolist()
        assert plain.to_numpy().tolist() == cells
        assert [[type(v) for v in row] for row in plain.cells] == [[type(v) for v in row]
                                                                    for row in cells]
        assert plain.attrs == frame.attrs


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, rollup=st.booleans(), unit=st.sampled_from(tally.COOCCUR_UNITS),
       coders=st.sampled_from([["a"], ["a", "b"], ["c", "b", "a"]]),
       min_documents=st.sampled_from([1, 2]))
# An empty span where another starts shares no character with it.
@example(rows=[("a", "voss-principal", 10, 5, "lead-weak", None, 0),
               ("a", "voss-principal", 10, 0, "lead-strong", None, 1)],
         rollup=False, unit="segment", coders=["a"], min_documents=1)
def test_cooccur_grid_is_the_frame_of_cooccur(project_dir, rows, rollup, unit, coders,
                                              min_documents):
    if unit != "case":
        min_documents = 1
    project = _write(project_dir.root, rows)
    coders = [c for c in coders if c in project.coders]
    if not coders:
        return
    for opened in (project, Project.open(project.root)):  # replayed, then from the cache
        frame = opened.cooccur(unit, rollup, coders, min_documents=min_documents)
        plain = tally.cooccur_grid(opened.corpus, unit, rollup, coders,
                                   min_documents=min_documents)
        assert plain.index == list(frame.index) and plain.columns == list(frame.columns)
        assert plain.to_numpy().tolist() == frame.to_numpy().tolist()
        assert plain.attrs == frame.attrs


@pytest.mark.parametrize("args", [
    ["matrix", "--by", "school", "--measure", "documents-pct", "--rollup"],
    ["matrix", "--by", "school,informant_group", "--measure", "segments", "--totals"],
    ["freq", "--by", "informant_group", "--rollup"],
    ["cooccur", "--unit", "passage"],
    ["cooccur", "--unit", "segment", "--rollup"],
])
@pytest.mark.parametrize("output", ["csv", "json"])
def test_the_command_line_prints_the_same_on_either_side_of_the_plain_counting_limit(
        args, output, monkeypatch):
    """A small project is counted in plain Python, a large one with pandas
    (``PLAIN_COUNTING_LIMIT``): what the command prints must not depend on which."""
    from pathlib import Path

    from typer.testing import CliRunner

    from qcode.cli.app import app
    from qcode.project import analysis

    runner = CliRunner()
    command = ["--project", str(Path(__file__).resolve().parents[1]), *args, "--all-coders",
               "-f", output]
    def refuse(*_args, **_kwargs):
        raise AssertionError("counted by the other engine")

    with monkeypatch.context() as patch:  # the bundled study is small: no pandas counting
        for name in ("matrix", "freq", "cooccur"):
            patch.setattr(analysis.AnalysisMethods, name, refuse)
        plain = runner.invoke(app, command, catch_exceptions=False)
    monkeypatch.setattr(analysis, "PLAIN_COUNTING_LIMIT", 0)
    for name in ("matrix_grid", "freq_rows", "cooccur_grid"):
        monkeypatch.setattr(tally, name, refuse)
    with_pandas = runner.invoke(app, command, catch_exceptions=False)
    assert plain.exit_code == with_pandas.exit_code == 0
    assert plain.stdout == with_pandas.stdout
    assert len(plain.stdout) > 200


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, by=st.sampled_from(["code", "transcript"]))
def test_coding_usage_counts_each_coders_distinct_codings(project_dir, rows, by):
    """What `qcode codes` and `qcode transcripts` count: distinct (span, canonical code)
    per coder, broken codings included, read from the columns as from the objects."""
    project = _write(project_dir.root, rows)
    for opened in (project, Project.open(project.root)):  # replayed, then from the cache
        distinct = {(c.coder, c.transcript, c.start, c.end, opened.codebook.canonical(c.code))
                    for c in opened.codings()}
        expected: dict[str, dict[str, int]] = {}
        for coder, transcript, _start, _end, code in distinct:
            per_coder = expected.setdefault(code if by == "code" else transcript, {})
            per_coder[coder] = per_coder.get(coder, 0) + 1
        usage = opened.code_usage() if by == "code" else opened.transcript_usage()
        assert usage == expected
