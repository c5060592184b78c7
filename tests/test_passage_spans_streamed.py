"""iter_passage_spans (one transcript at a time, only the codes used there) against the
naive whole-corpus computation it replaced: same items, same order, on random scopes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.analysis.reliability import (
    AgreementScope,
    clip,
    iter_passage_spans,
    passage_spans,
)
from qcode.format.transcripts import Passage, Transcript

CODES = ["a", "b", "c", "d"]
CODERS = ["x", "y", "z"]


def naive_passage_spans(scope, codes=None):
    wanted = scope.codes if codes is None else list(codes)
    out = {}
    for transcript in scope.transcripts:
        for code in wanted:
            per_passage = {}
            for coder in scope.coders:
                spans = scope.coder_spans(coder, transcript.id, code)
                if not spans:
                    continue
                skipped = scope.skipped.get(transcript.id, frozenset())
                touched = {}
                for start, end in spans:
                    for passage in transcript.passages:
                        hit = (passage.overlaps(start, end) if end > start
                               else passage.start <= start < passage.end)
                        if hit and passage.number not in skipped:
                            touched[passage.number] = passage
                for number, passage in touched.items():
                    per_passage.setdefault(number, {})[coder] = clip(
                        spans, passage.start, passage.end)
            for number in sorted(per_passage):
                out[(transcript.id, number, code)] = per_passage[number]
    order = {c: i for i, c in enumerate(wanted)}
    index = {t.id: i for i, t in enumerate(scope.transcripts)}
    return dict(sorted(out.items(), key=lambda kv: (index[kv[0][0]], kv[0][1],
                                                    order[kv[0][2]])))


def _transcript(tid, lengths):
    passages, start = [], 0
    for number, length in enumerate(lengths, start=1):
        passages.append(Passage(number, start, start + length, None, number))
        start += length + 1
    return Transcript(tid, f"{tid}.txt", "x" * start, 1, {}, passages)


span = st.tuples(st.integers(0, 60), st.integers(0, 15)).map(lambda p: (p[0], p[0] + p[1]))


@st.composite
def scopes(draw):
    transcripts = [_transcript(f"t{i}", draw(st.lists(st.integers(1, 12), min_size=1,
                                                      max_size=6)))
                   for i in range(draw(st.integers(1, 4)))]
    coders = CODERS[:draw(st.integers(2, 3))]
    codes = draw(st.permutations(CODES))[:draw(st.integers(1, 4))]
    spans = {coder: {t.id: {code: draw(st.lists(span, max_size=4))
                            for code in draw(st.lists(st.sampled_from([*CODES, "gone"]),
                                                      unique=True))}
                     for t in transcripts}
             for coder in coders}
    skipped = {t.id: frozenset(draw(st.sets(st.integers(1, 6), max_size=2)))
               for t in transcripts}
    return AgreementScope(coders, transcripts, {}, codes, spans=spans, skipped=skipped)


@settings(max_examples=300, deadline=None)
@given(scopes(), st.booleans())
def test_streamed_passage_spans_equal_the_naive_ones(scope, other_codes):
    codes = ["d", "a"] if other_codes else None
    expected = naive_passage_spans(scope, codes)
    assert list(iter_passage_spans(scope, codes)) == list(expected.items())
    assert list(passage_spans(scope, codes).items()) == list(expected.items())
