"""The counting core is vectorised (numpy over coding columns); these laws hold it to the
plain definitions, written here the slow and obvious way, on random codings."""

from __future__ import annotations

import shutil
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.analysis import cooccur as cooccur_module
from qcode.analysis.counting import _counted_rows, resolve_scope, segment_frame
from qcode.store.events import add_event

CODES = ["lead-strong", "lead-weak", "anchoring", "ownership", "outcomes", "personal",
         "leadership", "no-such-code"]
TRANSCRIPTS = ["voss-principal", "lier-teacher", "strinda-coordinator", "missing"]

codings = st.lists(st.tuples(
    st.sampled_from(["a", "b", "c"]), st.sampled_from(TRANSCRIPTS), st.integers(0, 120),
    st.integers(0, 40), st.sampled_from(CODES), st.sampled_from([None, "", "m1", "m2"]),
    st.integers(0, 9)), max_size=40)


def _write(root, rows) -> Project:
    shutil.rmtree(root / "codings", ignore_errors=True)
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    project = Project.open(root)
    bodies = {t.id: t.body for t in project.transcripts}
    per_coder = defaultdict(list)
    for coder, transcript, start, length, code, memo, second in rows:
        body = bodies.get(transcript, "x" * 200)
        end = start + length  # may run past the body: such codings are left out
        event = add_event(transcript, start, end, code, body[start:end], memo)
        event["at"] = f"2026-01-01T00:00:0{second}.000Z"
        if memo == "":
            event["memo"] = ""  # written by another tool: an empty memo is no memo
        per_coder[coder].append(event)
    for coder, events in per_coder.items():
        project.log(coder).append(events)
    return Project.open(root)


def _reference_segments(project, scope):
    """The definition: merge identical (transcript, start, end, current code) spans."""
    lengths = {t.id: len(t.body) for t in scope.transcripts}
    merged: dict[tuple, list] = {}
    for coding in project.codings(scope.coders):
        code = project.codebook.resolve(coding.code)
        if code is None or coding.transcript not in lengths \
                or coding.end > lengths[coding.transcript]:
            continue
        key = (coding.transcript, coding.start, coding.end, code.id)
        entry = merged.setdefault(key, [set(), []])
        entry[0].add(coding.coder)
        if coding.memo and coding.memo not in entry[1]:
            entry[1].append(coding.memo)
    return [(*key, ", ".join(sorted(v[0])), " | ".join(v[1]) or None)
            for key, v in merged.items()]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, order=st.permutations(["a", "b", "c"]))
def test_segment_frame_is_the_merge_of_identical_spans(project_dir, rows, order):
    project = _write(project_dir.root, rows)
    coders = [c for c in order if c in project.coders]
    if not coders:
        return
    scope = resolve_scope(project, coders=coders)
    frame = segment_frame(project, scope)
    got = [tuple(r) for r in frame.itertuples(index=False)]
    assert got == _reference_segments(project, scope)
    again = Project.open(project.root)  # now from the cache, with its categories
    cached = segment_frame(again, resolve_scope(again, coders=coders))
    assert [tuple(r) for r in cached.itertuples(index=False)] == got


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, block=st.sampled_from([1, 2, 5, cooccur_module.PAIR_BLOCK]))
def test_segment_cooccurrence_counts_overlapping_pairs(project_dir, rows, block):
    """Whatever the number of candidate pairs examined at once."""
    project = _write(project_dir.root, rows)
    if not project.coders:
        return
    default, cooccur_module.PAIR_BLOCK = cooccur_module.PAIR_BLOCK, block
    try:
        grid = project.cooccur("segment", all_coders=True)
    finally:
        cooccur_module.PAIR_BLOCK = default
    scope = resolve_scope(project, all_coders=True)
    segments = _counted_rows(project, scope, segment_frame(project, scope), rollup=False)
    expected: dict[tuple[str, str], int] = defaultdict(int)
    spans = list(segments[["transcript", "start", "end", "code"]].itertuples(index=False))
    for i, (t, s, e, c) in enumerate(spans):
        expected[(c, c)] += 1
        for t2, s2, e2, c2 in spans[i + 1:]:
            if t2 == t and c2 != c and s < e2 and s2 < e:
                expected[(c, c2)] += 1
                expected[(c2, c)] += 1
    got = {(a, b): int(grid.loc[a, b]) for a in grid.index for b in grid.columns
           if grid.loc[a, b]}
    assert got == dict(expected)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=codings, unit=st.sampled_from(["passage", "transcript"]))
def test_unit_cooccurrence_counts_units_holding_both_codes(project_dir, rows, unit):
    project = _write(project_dir.root, rows)
    if not project.coders:
        return
    grid = project.cooccur(unit, all_coders=True)
    scope = resolve_scope(project, all_coders=True)
    segments = _counted_rows(project, scope, segment_frame(project, scope), rollup=False)
    units: dict[tuple, set[str]] = defaultdict(set)
    for t, s, e, c in segments[["transcript", "start", "end", "code"]].itertuples(index=False):
        if unit == "transcript":
            units[(t,)].add(c)
        else:
            for passage in project.transcript(t).passages_overlapping(s, e):
                units[(t, passage.number)].add(c)
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for present in units.values():
        for c in present:
            for c2 in present:
                expected[(c, c2)] += 1
    got = {(a, b): int(grid.loc[a, b]) for a in grid.index for b in grid.columns
           if grid.loc[a, b]}
    assert got == dict(expected)
