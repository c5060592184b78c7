"""Safe YAML: plain values only, YAML 1.2 scalars, line numbers, hostile input refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.format.yamlio import YamlProblem, dump_yaml, parse_simple_mapping, parse_yaml


def test_yaml_12_scalars_and_positions():
    doc = parse_yaml("lang: no\nok: true\nn: 0o17\nx: 1.5\nd: 2019-02-14\nz: ~\nl:\n  - a\n  - b\n")
    assert doc.data == {"lang": "no", "ok": True, "n": 15, "x": 1.5, "d": "2019-02-14",
                        "z": None, "l": ["a", "b"]}
    assert doc.positions[("l",)] == 7
    assert doc.positions[("l", 1)] == 9
    assert doc.line_for(("l", 1, "missing")) == 9


@pytest.mark.parametrize("text", [
    "x: !!python/object/apply:os.system ['echo hacked']\n",
    "x: !!python/name:os.system\n",
    "x: !custom 3\n",
    "x: !!set {a, b}\n",
])
def test_tags_outside_the_core_schema_are_refused(text):
    with pytest.raises(YamlProblem) as info:
        parse_yaml(text)
    assert info.value.rule == "yaml-unsafe-tag"
    assert info.value.line == 1


def test_duplicate_keys_name_both_lines():
    with pytest.raises(YamlProblem) as info:
        parse_yaml("a: 1\nb: 2\na: 3\n")
    assert info.value.rule == "yaml-duplicate-key"
    assert info.value.line == 3
    assert "line 1" in info.value.message


def test_syntax_errors_carry_line_and_column():
    with pytest.raises(YamlProblem) as info:
        parse_yaml("a: [1, 2\nb: 3\n", line_offset=10)
    assert info.value.rule == "yaml-syntax"
    assert info.value.line == 11  # where the [ was opened, not where the parser gave up
    with pytest.raises(YamlProblem) as info:
        parse_yaml("a: 1\nb: x\n c: 2\n", line_offset=10)
    assert info.value.line == 13


def test_alias_bomb_is_stopped():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(YamlProblem) as info:
        parse_yaml("\n".join(lines) + "\n")
    assert info.value.rule == "yaml-too-large"


def test_dump_round_trips_plain_data():
    data = {"name": "Studie", "lang": "no", "codes": [{"id": "a", "text": "line 1\nline 2\n"}]}
    assert parse_yaml(dump_yaml(data)).data == data


def test_folded_and_literal_blocks_read_as_yaml_says():
    doc = parse_yaml("a: >-\n  one two\n  three\n\n  four\nb: |\n  x\n  y\n")
    assert doc.data == {"a": "one two three\nfour", "b": "x\ny\n"}


scalar = st.one_of(
    st.sampled_from(["no", "yes", "on", "Off", "true", "False", "NULL", "~", "", "0", "-3", "+7",
                     "007", "1.50", "1e5", ".inf", "0x1F", "2019-02-14", "12:30", "Voss",
                     "Lærer 2", "'quoted'", "'it''s'", '"dq"', '"a\\tb"', "a #comment",
                     "[list]", "&anchor x", "*alias", "!tag x", "Ærlig talt", "Kl. 07:45",
                     "a: b", "- item"]),
    st.text(alphabet=st.sampled_from(list("aZø0 .-:#'\"[]{}!&*|>%@,")), max_size=12),
)
keys = st.sampled_from(["school", "informant_group", "id", "n", "date", "x-y", "Æ", "_k"])


@given(st.lists(st.tuples(keys, scalar), max_size=6))
def test_the_simple_front_matter_reader_agrees_with_yaml(pairs):
    text = "\n".join(f"{k}: {v}" if v else f"{k}:" for k, v in pairs) + "\n"
    fast = parse_simple_mapping(text, line_offset=1)
    if fast is None:
        return  # not simple: parse_yaml decides alone
    assert fast.data == (parse_yaml(text, line_offset=1).data or {})  # empty: no mapping
    assert fast.positions == {k: v for k, v in parse_yaml(text, line_offset=1).positions.items()
                              if len(k) == 1}


def test_the_simple_reader_handles_the_bundled_front_matter():
    doc = parse_simple_mapping("id: voss-principal\nschool: Voss\ninterview_date: '2019-02-14'"
                               "\nsynthetic: true\nlang: no\n")
    assert doc.data == {"id": "voss-principal", "school": "Voss", "interview_date": "2019-02-14",
                        "synthetic": True, "lang": "no"}


# -- syntax errors in plain words (#16 item 16) ---------------------------------------------

@pytest.mark.parametrize("text, line, words, hint", [
    ("a:\n  b: 1\n c: 2\n", 3, "indentation of line 3 does not line up", "indent it"),
    ("a:\n\tb: 1\n", 2, "a tab in the indentation", "spaces"),
    ('a: "hello\nb: 2\n', 1, 'opened with " is never closed', 'end the value with "'),
    ("a: 'it\nb: 2\n", 1, "opened with ' is never closed", "''"),
    ("codes:\n  - id: x\n    label Staff\n    key: z\n", 3, "a line without a colon",
     "missing ':'"),
    ("a: time: 10\n", 1, "a value holds ': '", "quotes"),
    ("a: [x, y\nb: 2\n", 1, "a [ is opened and not closed", "close it with ]"),
    ("a: *nope\n", 1, "*nope refers to no &anchor", "anchor"),
    ("a: @x\n", 1, "cannot start with @", "quotes"),
    ("a: 1\na: 2\n", 2, "duplicate key 'a' (first at line 1)", "keep one"),
])
def test_syntax_errors_are_said_in_plain_words(text, line, words, hint):
    with pytest.raises(YamlProblem) as caught:
        parse_yaml(text)
    problem = caught.value
    assert problem.line == line
    assert words in problem.message and hint in (problem.hint or "")
    jargon = ("<block end>", "simple key", "scanning", "parsing a", "stream")
    assert not any(word in problem.message for word in jargon), problem.message


def test_a_broken_codebook_is_named_with_its_line_by_every_command(cli, project_dir):
    project_dir.replace("codebooks/codes.yaml", "    label: Staff ownership",
                        "\tlabel: Staff ownership")
    for command in (("check",), ("codes",), ("matrix", "--by", "school")):
        result = cli(*command)
        said = result.stdout + result.stderr  # check reports on stdout, the others on stderr
        assert result.exit_code == 1
        assert "codebooks/codes.yaml:19:" in said
        assert "a tab in the indentation" in said, said


def test_a_lone_surrogate_escape_is_an_error_at_its_line(cli, project_dir):
    """`"\\ud800"` makes half a character that no file or terminal can hold: it crashed
    every exact output (CSV to a pipe) with exit 70."""
    with pytest.raises(YamlProblem) as caught:
        parse_yaml('a: 1\nb: "x\\ud800y"\n')
    assert caught.value.line == 2 and "half a character" in caught.value.message
    assert parse_yaml('a: "\\U0001F600"\n').data == {"a": "\U0001F600"}  # a whole one
    project_dir.replace("transcripts/voss-principal.md", "school: Voss",
                        'school: Voss\nroom: "x\\ud800y"')
    result = cli("transcripts", "-f", "csv")
    assert result.exit_code == 0 and "voss-principal" not in result.stdout
    assert "cannot be read" in result.stderr
