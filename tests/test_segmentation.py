"""Segmentation into passages: turns, paragraphs, lines, and label-like text."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from qcode.format.transcripts import LABEL_RE, segment

BODY = """\
Intro before any speaker.

I: Hvordan startet det?

Rektor: Vi hadde for mange lærere.

Kl. 07:45 gikk flyet, og vi sa: «nå drar vi».
- Pass: sjekket
«Sitat: dette er ikke en taler»

Lærer 2: Enig.


"""


def texts(body, passages):
    return [body[p.start:p.end] for p in passages]


def test_turns_start_at_labels_and_continue_through_paragraphs():
    passages = segment(BODY, "turns")
    assert [p.speaker for p in passages] == [None, "I", "Rektor", "Lærer 2"]
    rektor = texts(BODY, passages)[2]
    assert rektor.startswith("Rektor: Vi hadde")
    assert rektor.endswith("«Sitat: dette er ikke en taler»")
    assert texts(BODY, passages)[-1] == "Lærer 2: Enig."  # trailing blank lines excluded
    assert [p.number for p in passages] == [1, 2, 3, 4]


def test_passage_lines_are_file_lines():
    passages = segment(BODY, "turns", body_line=5)
    assert [p.line for p in passages] == [5, 7, 9, 15]


def test_paragraphs_are_blocks_between_blank_lines():
    passages = segment(BODY, "paragraphs")
    assert len(passages) == 5
    assert texts(BODY, passages)[3].startswith("Kl. 07:45")
    # a paragraph that opens with a speaker label is that speaker's, as in turns
    assert [p.speaker for p in passages] == [None, "I", "Rektor", None, "Lærer 2"]


def test_lines_are_non_empty_lines_trimmed():
    body = "  a line  \n\n\tb\n"
    assert texts(body, segment(body, "lines")) == ["a line", "b"]


def test_label_rules():
    for label in ["I: x", "Rektor: x", "Lærer 2: x", "Koordinator (Voss): x", "Avd.leder:"]:
        assert LABEL_RE.match(label), label
    for not_label in ["Kl. 07:45 x", "- Pass: x", "«Sitat: x»", "https://example.org",
                      "2019: x", "I høst, på et møte, sa rektor: «x»", "a" * 41 + ": x"]:
        assert not LABEL_RE.match(not_label), not_label


def test_empty_body_has_no_passages():
    assert segment("", "turns") == []
    assert segment("\n\n  \n", "paragraphs") == []


words = st.text(alphabet=st.sampled_from(list("abcæøå .,«»–")), min_size=1, max_size=12)
line = st.one_of(words, st.builds(lambda w: f"Rektor: {w}", words), st.just(""))


@given(st.lists(line, max_size=25), st.sampled_from(["turns", "paragraphs", "lines"]))
def test_passages_are_ordered_disjoint_and_trimmed(lines, mode):
    body = "\n".join(lines)
    passages = segment(body, mode)
    previous_end = 0
    for p in passages:
        assert previous_end <= p.start < p.end <= len(body)
        text = body[p.start:p.end]
        assert text == text.strip()
        previous_end = p.end
    # every non-blank character belongs to some passage
    covered = set()
    for p in passages:
        covered.update(range(p.start, p.end))
    assert all(i in covered for i, ch in enumerate(body) if not ch.isspace())


def reference_segment(body, mode, body_line=1):
    """The rules of docs/format.md written out line by line, slowly and plainly."""
    spans, current, pos = [], None, 0
    for index, line in enumerate(body.split("\n")):
        start = pos
        pos += len(line) + 1
        stripped = line.rstrip()
        if not stripped.strip():
            if mode == "paragraphs" and current is not None:
                spans.append(tuple(current))
                current = None
            continue
        lead = len(stripped) - len(stripped.lstrip())
        first, last, file_line = start + lead, start + len(stripped), body_line + index
        match = LABEL_RE.match(line) if lead == 0 else None
        speaker = match.group("label").strip() if match is not None else None
        if mode == "lines":
            spans.append((first, last, speaker, file_line))
        elif mode == "paragraphs":
            if current is None:
                current = [first, last, speaker, file_line]
            else:
                current[1] = last
        else:
            if match is not None:
                if current is not None:
                    spans.append(tuple(current))
                current = [first, last, match.group("label").strip(), file_line]
            elif current is None:
                current = [first, last, None, file_line]
            else:
                current[1] = last
    if current is not None:
        spans.append(tuple(current))
    return [(i, s, e, sp, ln) for i, (s, e, sp, ln) in enumerate(spans, start=1)]


tricky = st.text(alphabet=st.sampled_from(list("aæ Ø:«»-.1\t\n\n\u00a0\u2028")), max_size=80)
mixed_line = st.one_of(tricky, line, st.builds(lambda w: f"  Rektor: {w}", words),
                       st.builds(lambda w: f"Kl. 07:45 {w}", words))


@given(st.lists(mixed_line, max_size=30), st.sampled_from(["turns", "paragraphs", "lines"]),
       st.integers(1, 9))
@example(["Ø:\n1"], "turns", 1)  # a label with nothing after it on the body's first line
def test_fast_segmentation_agrees_with_the_line_by_line_rules(lines, mode, body_line):
    body = "\n".join(lines)
    fast = [(p.number, p.start, p.end, p.speaker, p.line) for p in segment(body, mode, body_line)]
    assert fast == reference_segment(body, mode, body_line)


@pytest.mark.parametrize("mode", ["paragraphs", "lines"])
def test_a_leading_label_names_the_speaker_in_every_segmentation(mode):
    body = "Rektor: Vi startet tidlig.\n\nI: Hvorfor?\n\n  Lærer: innrykket er ikke en etikett."
    assert [p.speaker for p in segment(body, mode)] == ["Rektor", "I", None]
