"""Matrices, frequencies, co-occurrence and retrieval, against hand-counted expectations.

The fixture (tests/conftest.py) has three transcripts: voss-principal (4 turns),
lier-teacher (3 turns) and strinda-coordinator (3 turns). ``coded`` adds:

coder a: voss p2 lead-strong + ownership, voss p4 ownership, lier p2 personal + lead-weak,
         lier p3 personal, strinda p1 lead-weak, strinda p3 outcomes (the parent itself)
coder b: voss p2 lead-strong (same span as a), voss p4 lead-weak, strinda p1 lead-weak
         (same span as a), lier p2 personal on one sentence only
"""

from __future__ import annotations

import pytest

from conftest import SENTENCE
from qcode import Project
from qcode.errors import UnknownName, UsageError


def cells(grid):
    return {(code, col): int(v) if float(v).is_integer() else v
            for code, row in grid.iterrows() for col, v in row.items() if v}


def test_segments_by_school_for_one_coder(coded):
    grid = coded.matrix("school", coders="a")
    assert list(grid.index) == ["leadership", "lead-strong", "lead-weak", "ownership",
                                "outcomes", "personal"]
    assert list(grid.columns) == ["Lier", "Strinda", "Voss"]
    assert cells(grid) == {
        ("leadership", "Lier"): 1, ("leadership", "Strinda"): 1, ("leadership", "Voss"): 1,
        ("lead-strong", "Voss"): 1, ("lead-weak", "Lier"): 1, ("lead-weak", "Strinda"): 1,
        ("ownership", "Voss"): 2, ("outcomes", "Strinda"): 1, ("personal", "Lier"): 2,
    }


def test_rollup_counts_each_span_of_the_subtree_once(coded):
    grid = coded.matrix("school", coders="a", rollup=True)
    assert grid.loc["outcomes", "Lier"] == 2 and grid.loc["outcomes", "Strinda"] == 1
    assert grid.loc["leadership", "Voss"] == 1  # lead-strong + ownership on one span


def test_documents_and_percent_and_words(coded):
    docs = coded.matrix("school", measure="documents", coders="a")
    assert docs.loc["ownership", "Voss"] == 1 and docs.loc["personal", "Lier"] == 1
    pct = coded.matrix("informant_group", measure="documents-pct", coders="a")
    assert list(pct.columns) == ["coordinator", "principal", "teacher"]  # declared order
    assert pct.loc["ownership", "principal"] == 100.0
    words = coded.matrix("school", measure="words", coders="a")
    # "Rektor: Vi hadde for mange lærere, og så så vi en mulighet." (12) + "Det ble en del
    # av planen vår etter hvert." (9) + "Rektor: Lærerne eier prosjektet – det er «deres»
    # prosjekt." (8)
    assert words.loc["ownership", "Voss"] == 29


def test_union_of_coders_counts_identical_spans_once(coded):
    grid = coded.matrix("school", all_coders=True)
    assert grid.loc["lead-strong", "Voss"] == 1
    assert grid.loc["lead-weak", "Strinda"] == 1
    assert grid.loc["lead-weak", "Voss"] == 1
    assert grid.loc["personal", "Lier"] == 3  # two of a's, b's different span
    assert grid.loc["leadership", "Voss"] == 2
    assert grid.attrs["coders"] == ["a", "b"]


def test_coder_scope_must_be_stated_with_several_coders(coded, project_dir):
    with pytest.raises(UsageError) as info:
        coded.matrix("school")
    assert "a, b" in info.value.message and "--all-coders" in info.value.hint
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + "primary_coder: b\n")
    assert Project.open(project_dir.root).matrix("school").attrs["coders"] == ["b"]
    with pytest.raises(UnknownName):
        coded.matrix("school", coders="c")


def test_where_filters_and_missing_column(coded):
    grid = coded.matrix("school", coders="a", where=["informant_group!=teacher"])
    assert list(grid.columns) == ["Strinda", "Voss"]
    by_model = coded.matrix("model", coders="a")
    assert list(by_model.columns) == ["mature", "(missing)"]
    assert by_model.loc["lead-weak", "mature"] == 1
    assert by_model.loc["lead-weak", "(missing)"] == 1
    several = coded.matrix("school", coders="a", where=["school=Voss,Lier"])
    assert list(several.columns) == ["Lier", "Voss"]
    with pytest.raises(UnknownName):
        coded.matrix("school", coders="a", where=["shcool=Voss"])
    with pytest.raises(UsageError):
        coded.matrix("school", coders="a", where=["school"])


def test_codes_filter_keeps_descendants(coded):
    grid = coded.matrix("school", coders="a", codes=["leadership"])
    assert list(grid.index) == ["leadership", "lead-strong", "lead-weak"]


def test_two_attributes_give_combined_columns(coded):
    grid = coded.matrix(["school", "informant_group"], coders="a")
    assert list(grid.columns) == [("Lier", "teacher"), ("Strinda", "coordinator"),
                                  ("Voss", "principal")]
    assert grid.loc["ownership", ("Voss", "principal")] == 2


def test_totals(coded):
    grid = coded.matrix("school", coders="a", totals=True)
    assert list(grid.columns)[-1] == "TOTAL" and grid.index[-1] == "TOTAL"
    assert grid["TOTAL"].drop("TOTAL").to_dict() == {
        "leadership": 3, "lead-strong": 1, "lead-weak": 2, "ownership": 2, "outcomes": 1,
        "personal": 2}
    assert grid.loc["TOTAL"].to_dict() == {"Lier": 3, "Strinda": 2, "Voss": 3, "TOTAL": 8}


def test_freq(coded):
    table = coded.freq(all_coders=True).set_index("code")
    assert table.loc["lead-weak", "segments"] == 3
    assert table.loc["lead-weak", "documents"] == 3
    assert table.loc["lead-weak", "coders"] == 2
    assert table.loc["ownership", "coders"] == 1
    assert table.loc["leadership", "segments"] == 4  # folder: distinct spans of its subtree
    assert table.loc["lead-strong", "parent"] == "leadership"
    by = coded.freq(by="school", coders="a")
    assert len(by) == 6 * 3
    voss = by[(by["code"] == "ownership") & (by["school"] == "Voss")]
    assert voss["segments"].item() == 2


def test_cooccur_units(coded):
    seg = coded.cooccur("segment", coders="a")
    assert seg.loc["lead-strong", "ownership"] == 1 == seg.loc["ownership", "lead-strong"]
    assert seg.loc["personal", "lead-weak"] == 1
    assert seg.loc["leadership", "lead-weak"] == 2
    assert seg.loc["ownership", "ownership"] == 2
    assert seg.loc["ownership", "personal"] == 0
    transcript = coded.cooccur("transcript", coders="a")
    assert transcript.loc["lead-weak", "outcomes"] == 1
    assert transcript.loc["leadership", "leadership"] == 3
    passage = coded.cooccur("passage", all_coders=True)
    assert passage.loc["lead-strong", "ownership"] == 1
    assert passage.loc["personal", "lead-weak"] == 1  # b's sentence lies in that passage
    assert (seg.to_numpy() == seg.to_numpy().T).all()


def test_segments_retrieval(coded):
    frame = coded.segments(["personal"], all_coders=True)
    assert list(frame["passage"]) == [2, 2, 3]
    assert SENTENCE in frame["text"].tolist()
    assert frame.loc[0, "school"] == "Lier" and frame.loc[0, "speaker"] == "Lærer 1"
    shared = coded.segments(["lead-strong"], all_coders=True)
    assert shared["coders"].tolist() == ["a, b"]
    ordered = coded.segments(["lead-weak", "ownership"], coders="a", by="school")
    assert ordered[["code", "school"]].values.tolist() == [
        ["lead-weak", "Lier"], ["lead-weak", "Strinda"], ["ownership", "Voss"],
        ["ownership", "Voss"]]


@pytest.mark.parametrize("expression, expected", [
    ("ownership & lead-strong", [("voss-principal", 2)]),
    ("lead-weak & !personal", [("strinda-coordinator", 1)]),
    ("ownership | personal", [("lier-teacher", 2), ("lier-teacher", 3),
                              ("voss-principal", 2), ("voss-principal", 4)]),
    ("near(lead-strong, ownership, 1)", [("voss-principal", 2)]),
    ("near(lead-strong, ownership, 2)", [("voss-principal", 2), ("voss-principal", 4)]),
    ("leadership", [("lier-teacher", 2), ("strinda-coordinator", 1), ("voss-principal", 2)]),
    ("(lead-weak | lead-strong) & !(personal | ownership)", [("strinda-coordinator", 1)]),
])
def test_query(coded, expression, expected):
    frame = coded.query(expression, coders="a")
    assert list(zip(frame["transcript"], frame["passage"], strict=True)) == expected


def test_query_region_semantics_with_partial_codings(coded):
    # b coded one sentence of lier p2 as personal: the rest of the passage is not personal
    frame = coded.query("personal", coders="b")
    body = coded.transcript("lier-teacher").body
    start = body.index(SENTENCE)
    assert frame["matches"].tolist() == [f"{start}:{start + len(SENTENCE)}"]


@pytest.mark.parametrize("expression, message", [
    ("ownership &", "ends too early"),
    ("(ownership", "ends too early"),
    ("ownership lead-weak", "unexpected"),
    ("near(ownership, personal)", "expected ','"),
    ("ownership $ personal", "cannot read"),
])
def test_query_syntax_errors(coded, expression, message):
    with pytest.raises(UsageError) as info:
        coded.query(expression, coders="a")
    assert message in info.value.message


def test_query_unknown_code(coded):
    with pytest.raises(UnknownName) as info:
        coded.query("ownershp", coders="a")
    assert info.value.suggestions == ["ownership"]
