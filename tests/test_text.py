"""The offset rules: BOM, CRLF/CR, NFC, Norwegian letters and emoji, front matter."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.format.text import count_words, decode_utf8, normalize
from qcode.format.transcripts import FrontMatterError, parse_transcript, split_front_matter


def test_bom_is_dropped_and_offsets_start_after_it():
    t = parse_transcript("\ufeffRektor: Hei\n", "x.md", "x")
    assert t.body == "Rektor: Hei\n"
    assert t.passages[0].start == 0


def test_crlf_and_cr_become_lf():
    assert normalize("a\r\nb\rc\n") == "a\nb\nc\n"


def test_nfc_composes_decomposed_letters():
    decomposed = "Sko\u0308le: a\u030a"  # o + combining diaeresis, a + ring above
    body = parse_transcript(decomposed, "x.md", "x").body
    assert body == unicodedata.normalize("NFC", decomposed)
    assert "å" in body and len(body) == len("Sköle: å")


def test_offsets_count_code_points_for_norwegian_letters_and_emoji():
    text = "Lærer: Øystein 😀 på tur\n\nRektor: Ærlig\n"
    t = parse_transcript(text, "x.md", "x")
    first, second = t.passages
    assert t.body[first.start:first.end] == "Lærer: Øystein 😀 på tur"
    assert second.start == text.index("Rektor")  # one code point per emoji, not two
    assert t.body[second.start:second.end] == "Rektor: Ærlig"


def test_body_starts_after_the_newline_that_ends_the_closing_fence():
    text = "---\nschool: Voss\n---\nI: Hei\n"
    front, body, body_line, lines = split_front_matter(text)
    assert front == {"school": "Voss"}
    assert body == "I: Hei\n"
    assert body_line == 4
    assert lines == {"school": 2}


def test_front_matter_keeps_no_as_text_and_dates_as_text():
    front, *_ = split_front_matter("---\nlang: no\ndate: 2019-02-14\nn: 3\n---\n")
    assert front == {"lang": "no", "date": "2019-02-14", "n": 3}


def test_crlf_front_matter_and_body_give_the_same_offsets_as_lf():
    lf = "---\nschool: Voss\n---\nI: Hei på deg\n\nRektor: Ja\n"
    crlf = lf.replace("\n", "\r\n")
    a, b = parse_transcript(lf, "a.md", "a"), parse_transcript(crlf, "b.md", "b")
    assert a.body == b.body
    assert [(p.start, p.end) for p in a.passages] == [(p.start, p.end) for p in b.passages]


def test_unclosed_front_matter_is_an_error_with_a_line():
    with pytest.raises(FrontMatterError) as info:
        split_front_matter("---\nschool: Voss\nI: Hei\n")
    assert info.value.line == 1


def test_decode_reports_the_line_and_likely_encoding_of_latin1_text():
    raw = "Rektor: Hei\nLærer: Blåbær og søt saft fra Ærøy\n".encode("cp1252")
    text, issue = decode_utf8(raw)
    assert text is None
    assert issue.line == 2
    assert "UTF-8" in issue.message


def test_count_words_joins_hyphenated_words_and_ignores_dashes():
    assert count_words("Yrkesfag-elever – de «stille» elevene, 2019!") == 5


@given(st.booleans(), st.text(alphabet=st.sampled_from(list("abæøå😀 \n\r:é\u0301")), max_size=60))
def test_normalize_is_idempotent_and_leaves_no_cr(bom, text):
    # Only a *leading* BOM is dropped; one further in is content, so none is drawn there.
    once = normalize(("\ufeff" if bom else "") + text)
    assert normalize(once) == once
    assert "\r" not in once
