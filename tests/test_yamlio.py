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
    assert info.value.line == 12
    assert "column" in info.value.message


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
