"""REFI-QDA building blocks: ids, GUIDs, colours, descriptions, typed values, offsets."""

from __future__ import annotations

import itertools
import unicodedata
import uuid

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qcode.format.text import normalize
from qcode.interchange import guids
from qcode.interchange.common import (
    compose_description,
    normalize_color,
    slugify,
    split_description,
    typed_value,
    unique_id,
    value_kind,
    value_text,
    variable_type,
)
from qcode.interchange.offsets import SourceText, choose_model, expectation, model_for_origin

# -- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "slug"), [
    ("Oltás típusa", "oltas-tipusa"),
    ("THEME - Affordances", "theme-affordances"),
    ('"rushed"', "rushed"),
    ("Coke::diet Coke", "coke-diet-coke"),
    ("interesting\\places", "interesting-places"),
    ("2. Attitűd szint az oltáshoz", "2-attitud-szint-az-oltashoz"),
    ("snake_case stays", "snake_case-stays"),
    ("健康", "code"),          # nothing Latin left: the fallback
    ("", "code"),
])
def test_slugify_makes_valid_code_ids(name, slug):
    assert slugify(name, fallback="code") == slug


def test_slugify_caps_length_without_a_trailing_dash():
    slug = slugify("word " * 40)
    assert len(slug) <= 64 and not slug.endswith("-")


def test_unique_id_numbers_repeats_and_records_them():
    taken = {"economy"}
    assert unique_id("economy", taken) == "economy-2"
    assert unique_id("economy", taken) == "economy-3"
    assert unique_id("health", taken) == "health"
    assert taken == {"economy", "economy-2", "economy-3", "health"}
    long = "x" * 64
    taken = {long}
    assert unique_id(long, taken) == "x" * 62 + "-2"


@given(st.text(max_size=80))
def test_slugify_always_gives_a_code_id(name):
    from qcode.interchange.common import is_code_id

    assert is_code_id(slugify(name, fallback="code"))


# -- GUIDs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [
    "{5215cc69-b628-4e02-afb9-9beeaee55808}",
    "5215CC69-B628-4E02-AFB9-9BEEAEE55808",
    " 5215cc69-b628-4e02-afb9-9beeaee55808 ",
])
def test_guids_compare_without_case_or_braces(written):
    assert guids.normalize(written) == "5215cc69-b628-4e02-afb9-9beeaee55808"


@pytest.mark.parametrize("bad", ["code-001-aaaa-bbbb-cccc", "", "{5215cc69-b628}", None])
def test_non_guids_are_recognised(bad):
    assert guids.normalize(bad) is None


def test_derived_guids_are_uuid5_of_the_project_and_the_id():
    namespace = guids.project_namespace("Fixture study")
    expected = uuid.uuid5(uuid.uuid5(guids.QCODE_NAMESPACE, "project:Fixture study"),
                          "code:lead-strong")
    assert guids.derive(namespace, "code", "lead-strong") == str(expected).upper()
    assert guids.derive(namespace, "code", "lead-strong") != guids.derive(
        guids.project_namespace("Other study"), "code", "lead-strong")


def test_coding_ids_made_from_guids_give_the_guid_back():
    guid = "DA50C6DE-CD58-40DA-A7E3-BE4B82D7F00C"
    coding_id = guids.coding_id_from_guid(guid)
    assert coding_id == "da50c6decd5840daa7e3be4b82d7f00c"
    assert guids.guid_of_coding_id(coding_id) == guid.lower()
    assert guids.guid_of_coding_id("9f2c4e1ab37d5a06") is None  # qcode's own ids


def test_guid_store_prefers_kept_guids_and_never_hands_out_one_twice():
    namespace = guids.project_namespace("p")
    kept = {"codes": {"a": "{11111111-2222-3333-4444-555555555555}"}}
    store = guids.GuidStore(namespace, kept)
    assert store.get("code", "a") == "{11111111-2222-3333-4444-555555555555}"
    assert store.get("code", "a") == "{11111111-2222-3333-4444-555555555555}"  # same owner
    assert store.get("code", "b") == guids.derive(namespace, "code", "b")
    # A coding's own GUID that another object already has is refused.
    assert not store.claim("11111111-2222-3333-4444-555555555555", "coding:x")


def test_sidecar_path_sits_beside_the_codebook(tmp_path):
    assert guids.sidecar_path(tmp_path / "codebooks" / "vet.yaml").name == "vet.guids.yaml"


# -- colours ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "colour"), [
    ("#46AA00", "#46AA00"), ("#ffff00", "#ffff00"), ("#F0a", "#FF00aa"),
    ("#1F77B4CC", "#1F77B4"), ("255,0,0", "#FF0000"), ("rgb(0, 128, 255)", "#0080FF"),
    ("red", None), ("300,0,0", None), ("", None), (None, None),
])
def test_colours_from_what_tools_write(written, colour):
    assert normalize_color(written) == colour


# -- descriptions -------------------------------------------------------------------------------


def test_description_sections_are_readable_and_split_again():
    text = compose_description("What it means.", "When leaders act.", "Paper only.",
                               ["Rektor: Ja.", "Two\nlines"], ["anchoring", "lederforankring"])
    assert text == ("What it means.\n\nInclude: When leaders act.\n\nExclude: Paper only.\n\n"
                    "Examples:\n- Rektor: Ja.\n- Two\n  lines\n\n"
                    "Keywords:\n- anchoring\n- lederforankring")
    assert split_description(text) == {
        "description": "What it means.", "include": "When leaders act.",
        "exclude": "Paper only.", "examples": ["Rektor: Ja.", "Two\nlines"],
        "keywords": ["anchoring", "lederforankring"]}


def test_plain_descriptions_from_other_tools_stay_descriptions():
    text = "Erősen szkeptikus (piros)\nEnyhén szkeptikus\n\nElfogadó (zöld)"
    assert split_description(text)["description"] == text
    assert split_description("")["description"] == ""


def test_only_some_sections():
    text = compose_description("", None, "Use other.", [], ["k"])
    assert text == "Exclude: Use other.\n\nKeywords:\n- k"
    parts = split_description(text)
    assert (parts["description"], parts["include"], parts["exclude"]) == ("", None, "Use other.")
    assert parts["keywords"] == ["k"]


_MARKERS = ("Include: ", "Exclude: ", "Examples:", "Keywords:", "- ", "  ")
_text = st.text(alphabet=st.sampled_from(list("ab -:\nIE")), max_size=30)


@settings(max_examples=300)
@given(description=_text, include=st.none() | _text, exclude=st.none() | _text,
       examples=st.lists(_text, max_size=3), keywords=st.lists(_text, max_size=3))
def test_compose_then_split_is_the_identity(description, include, exclude, examples, keywords):
    # The sections are told apart by a blank line and a marker: a field that itself holds
    # a blank line followed by a marker is ambiguous, and so is a description that starts
    # with a blank line; qcode codebooks never do this in practice.
    fields = [description, include or "", exclude or "", *examples, *keywords]
    if any("\n\n" in f for f in fields) or description.startswith("\n"):
        return
    text = compose_description(description, include, exclude, examples, keywords)
    assert split_description(text) == {
        "description": description, "include": include, "exclude": exclude,
        "examples": examples, "keywords": keywords}


# -- typed values -------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "table", "kind"), [
    (846, False, "Integer"), (6.6, False, "Float"), (True, False, "Boolean"),
    ("2019-02-12", False, "Date"), ("2019-02-30", False, "Text"), ("12", False, "Text"),
    ("12", True, "Integer"), ("007", True, "Text"), ("6.6", True, "Float"),
    ("1e5", True, "Text"), ("true", True, "Boolean"), ("True", True, "Text"),
    ("over 20", True, "Text"), ("", True, None), (None, False, None),
])
def test_value_kinds(value, table, kind):
    assert value_kind(value, from_table=table) == kind


def test_a_variable_has_one_type_for_all_its_values():
    assert variable_type({"Integer"}) == "Integer"
    assert variable_type({"Integer", "Float"}) == "Float"
    assert variable_type({"Integer", "Text"}) == "Text"
    assert variable_type({"Date", "Text"}) == "Text"


def test_values_are_written_as_xsd_values_and_read_back():
    assert value_text(True, "Boolean") == "true"
    assert value_text(1e-7, "Float") == "0.0000001"
    assert value_text(3.0, "Float") == "3.0"
    assert typed_value("Boolean", "1") is True
    assert typed_value("Integer", " 846 ") == 846
    assert typed_value("Float", "6.60") == 6.6
    assert typed_value("Date", "2019-02-12") == "2019-02-12"
    assert typed_value("Text", " spaced ") == " spaced "


# -- positions ----------------------------------------------------------------------------------

NVIVO_RAW = "\ufeffI: Hei 😀 der\r\nR: Svar her\r\n"


def test_nvivo_counts_utf16_units_and_crlf_as_two():
    # By hand: "I: Hei " is units 0-6, the emoji 7-8, " der" 9-12, CRLF 13-14,
    # "R: Svar her" 15-25. The body (LF, code points) is "I: Hei 😀 der\nR: Svar her\n".
    text = SourceText(NVIVO_RAW)
    assert text.body == "I: Hei 😀 der\nR: Svar her\n"
    assert text.units("utf16") == 28
    assert (text.to_body("utf16", 15), text.to_body("utf16", 26)) == (13, 24)
    assert text.body[13:24] == "R: Svar her"
    assert text.body[text.to_body("utf16", 10):text.to_body("utf16", 13)] == "der"
    # A position inside the surrogate pair falls back to the emoji it splits.
    assert text.to_body("utf16", 8) == 7


def test_atlas_counts_crlf_as_one():
    text = SourceText("Line one\r\nLine two\r\n")
    assert text.units("codepoints-lf") == 18 and text.units("codepoints") == 20
    start, end = text.to_body("codepoints-lf", 9), text.to_body("codepoints-lf", 17)
    assert text.body[start:end] == "Line two"
    # Read as raw code points the same numbers would be off by one.
    assert text.body[text.to_body("codepoints", 9):text.to_body("codepoints", 17)] != "Line two"


def test_decomposed_letters_map_into_the_nfc_body():
    raw = "Lære\nSka\u030a ja\n"   # "Skå" written decomposed: NFC makes it one code point
    text = SourceText(raw)
    assert text.body == unicodedata.normalize("NFC", raw)
    start = raw.index("ja")
    assert text.body[text.to_body("codepoints", start):text.to_body("codepoints", start + 2)] \
        == "ja"


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["a", "é", "e\u0301", "😀", "\r\n", "\n", "\r", " ", "ß"]),
                max_size=40), st.data())
def test_every_model_maps_a_whole_character_span_onto_the_same_body_text(pieces, data):
    # A lone CR followed by a LF would be one CRLF, not two pieces.
    assume(all(not (a == "\r" and b == "\n") for a, b in itertools.pairwise(pieces)))
    raw = "".join(pieces)
    text = SourceText(raw)
    assert text.body == normalize(raw)
    # Choose a span of whole pieces and compute its positions in each model by hand.
    i = data.draw(st.integers(0, len(pieces)))
    j = data.draw(st.integers(i, len(pieces)))

    def units(piece: str, model: str) -> int:
        if model == "utf16":
            return len(piece.encode("utf-16-le")) // 2
        if model == "codepoints-lf" and piece == "\r\n":
            return 1
        return len(piece)

    for model in ("codepoints", "codepoints-lf", "utf16"):
        start = sum(units(p, model) for p in pieces[:i])
        end = start + sum(units(p, model) for p in pieces[i:j])
        got = text.body[text.to_body(model, start):text.to_body(model, end)]
        assert got == normalize("".join(pieces[i:j])), model


def test_model_by_origin():
    assert model_for_origin("NVivo for Windows 12.6") == "utf16"
    assert model_for_origin("ATLAS.ti 8.4.0 573 , macOS") == "codepoints-lf"
    assert model_for_origin("MAXQDA 24 (Release 24.7.0)") == "codepoints-lf"
    assert model_for_origin("QualCoder 3.8.2") == "codepoints"
    assert model_for_origin(None) == "codepoints"


def test_quoted_names_can_overrule_the_origin():
    text = SourceText("Line one\r\nLine two\r\nLine three\r\n")
    checks = [(text, 9, 17, expectation("Line two")), (text, 18, 28, expectation("Line three"))]
    choice = choose_model("SomeTool 1.0", checks)
    assert (choice.model, choice.by, choice.matched) == ("codepoints-lf", "selection names", 2)
    kept = choose_model("ATLAS.ti 9", checks)
    assert (kept.model, kept.by) == ("codepoints-lf", "origin")


def test_expectations_from_names():
    assert expectation("") is None and expectation(None) is None
    assert expectation("line:6").line == 6
    body = "zero\none\ntwo\n"
    assert expectation("line:2").holds(body, 9, 13)
    assert not expectation("line:1").holds(body, 9, 13)
    # ATLAS.ti shortens long quotations with an ellipsis.
    assert expectation("I'm a single mum with…").holds("I'm a single mum with two kids", 0, 30)
    assert expectation("spaced\nout").holds("spaced   out", 0, 12)


def test_qcode_instruction_text_is_safe_inside_xml():
    import json

    from qcode.interchange.common import meta_pi_text, xml_safe

    data = {"id": "a?>b", "label": "Skå \ufffe\x01 😀"}
    text = meta_pi_text(data)
    assert "?>" not in text and text.isascii()
    assert json.loads(text) == data
    assert xml_safe("ok\x00\x0b\ufffe\ud800 ✓\t\n") == "ok ✓\t\n"


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["code", "source", "coding", "user"]),
       key=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_derived_guids_are_uuid5(kind, key):
    namespace = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert guids.derive(namespace, kind, key) == str(uuid.uuid5(namespace,
                                                                f"{kind}:{key}")).upper()
