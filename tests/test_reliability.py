"""``qcode.reliability`` and ``qcode agree`` on the fixture project, against 2×2 tables
counted by hand.

The ``coded`` fixture (tests/conftest.py) has 10 passages in 3 transcripts:
lier-teacher 1-3, strinda-coordinator 1-3, voss-principal 1-4. Coder a coded
voss 2 lead-strong+ownership, voss 4 ownership, lier 2 personal+lead-weak, lier 3 personal,
strinda 1 lead-weak, strinda 3 outcomes; coder b voss 2 lead-strong, voss 4 lead-weak,
strinda 1 lead-weak, and one sentence of lier 2 personal. So per code (both, only a,
only b, neither) on passages:

    lead-strong  1 0 0 9   p_o .9+.1 = 1.0, kappa 1
    lead-weak    1 1 1 7   p_o .8, p_e .2*.2 + .8*.8 = .68, kappa .12/.32 = .375
    ownership    0 2 0 8   p_o .8, p_e .2*0 + .8*1 = .8, kappa 0
    outcomes     0 1 0 9   p_o .9, p_e .9, kappa 0
    personal     1 1 0 8   p_o .9, p_e .2*.1 + .8*.9 = .74, kappa .16/.26 = .615
    ALL          3 5 1 41  (the sums; 50 passage-code units)

Krippendorff's alpha (nominal, two coders, n = 20 values) is
1 - (n - 1) * 2 * (disagreeing units) / (2 * n_0 * n_1), e.g. lead-weak: n_1 = 4,
n_0 = 16: 1 - 19 * 4 / 128 = .406.
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from conftest import SENTENCE
from qcode import Project
from qcode.analysis.families import family_agreement, family_disagreements
from qcode.analysis.reliability import (
    OVERALL,
    agreement_report,
    clip,
    disagreements,
    merge_spans,
)
from qcode.errors import QcodeError, UnknownName, UsageError

HAND_COUNTED = {  # code: (both, only a, only b, neither, agreement %, kappa, alpha)
    "lead-strong": (1, 0, 0, 9, 100.0, 1.0, 1.0),
    "lead-weak": (1, 1, 1, 7, 80.0, 0.375, round(1 - 19 * 4 / 128, 3)),
    "ownership": (0, 2, 0, 8, 80.0, 0.0, round(1 - 19 * 4 / (2 * 18 * 2), 3)),
    "outcomes": (0, 1, 0, 9, 90.0, 0.0, 0.0),
    "personal": (1, 1, 0, 8, 90.0, round(0.16 / 0.26, 3), round(1 - 19 * 2 / (2 * 17 * 3), 3)),
}


def _rows(report) -> dict[str, dict]:
    return {r["code"]: r for r in report.table.to_dict(orient="records")}


def test_passage_unit_per_code_tables(coded):
    report = agreement_report(coded, ["a", "b"])
    rows = _rows(report)
    assert list(rows) == [*HAND_COUNTED, OVERALL]  # codebook order, folders never compared
    for code, (both, only_a, only_b, neither, pct, kappa, alpha) in HAND_COUNTED.items():
        row = rows[code]
        assert (row["both"], row["only_a"], row["only_b"], row["neither"]) == (
            both, only_a, only_b, neither), code
        assert row["passages"] == 10
        assert row["agreement_pct"] == pct
        assert row["cohen_kappa"] == pytest.approx(kappa, abs=1e-3), code
        assert row["krippendorff_alpha"] == pytest.approx(alpha, abs=1e-3), code
    overall = rows[OVERALL]
    assert (overall["both"], overall["only_a"], overall["only_b"], overall["neither"]) == (
        3, 5, 1, 41)
    assert overall["passages"] == 50
    # pooled 2x2: p_o = 44/50, p_e = (8/50)(4/50) + (42/50)(46/50)
    p_o, p_e = 44 / 50, (8 * 4 + 42 * 46) / 2500
    assert overall["cohen_kappa"] == pytest.approx((p_o - p_e) / (1 - p_e), abs=1e-3)
    assert report.units == 10 and report.unused == []


def test_passage_statistics_equal_the_generic_functions_on_the_full_matrix(coded):
    # The fast path (bitmask counts) against the plain reliability matrix of 0/1 values.
    from qcode.analysis import agreement

    report = agreement_report(coded, ["a", "b"])
    rows = _rows(report)
    passages = [(t, p.number) for t in coded.transcripts for p in t.passages]
    for code in HAND_COUNTED:
        matrix = []
        for coder in ("a", "b"):
            hit = {(c.transcript, p.number) for c in coded.codings(coder) if c.code == code
                   for p in coded.transcript(c.transcript).passages_overlapping(c.start, c.end)}
            matrix.append([1 if (t.id, n) in hit else 0 for t, n in passages])
        expected = agreement.krippendorff_alpha(matrix).value
        assert rows[code]["krippendorff_alpha"] == pytest.approx(expected, abs=1e-3)
        assert rows[code]["cohen_kappa"] == pytest.approx(
            agreement.cohen_kappa(*matrix).value, abs=1e-3)


def test_character_unit_counts_covered_characters(coded):
    report = agreement_report(coded, ["a", "b"], unit="character")
    rows = _rows(report)
    lier = coded.transcript("lier-teacher")
    voss = coded.transcript("voss-principal")
    strinda = coded.transcript("strinda-coordinator")
    total = len(lier.body) + len(voss.body) + len(strinda.body)
    length = {(t.id, p.number): p.end - p.start for t in (lier, voss, strinda)
              for p in t.passages}
    assert report.units == total
    # personal: a has lier 2 and 3, b one sentence inside lier 2
    personal = rows["personal"]
    only_a = length[("lier-teacher", 2)] - len(SENTENCE) + length[("lier-teacher", 3)]
    assert (personal["both"], personal["only_a"], personal["only_b"]) == (
        len(SENTENCE), only_a, 0)
    assert personal["neither"] == total - len(SENTENCE) - only_a
    assert personal["characters"] == total
    # lead-weak: both strinda 1, a lier 2, b voss 4
    weak = rows["lead-weak"]
    assert (weak["both"], weak["only_a"], weak["only_b"]) == (
        length[("strinda-coordinator", 1)], length[("lier-teacher", 2)],
        length[("voss-principal", 4)])
    assert rows[OVERALL]["characters"] == 5 * total


def test_character_unit_merges_a_coders_overlapping_segments(project_dir):
    project = Project.open(project_dir.root)
    body = project.transcript("lier-teacher").body
    start = body.index(SENTENCE)
    project.tag("lier-teacher", (start, start + 10), ["personal"], "a")
    project.tag("lier-teacher", (start + 5, start + 20), ["personal"], "a")
    project.tag("lier-teacher", (start, start + 20), ["personal"], "b")
    rows = _rows(agreement_report(Project.open(project_dir.root), ["a", "b"], "character"))
    assert (rows["personal"]["both"], rows["personal"]["only_a"],
            rows["personal"]["only_b"]) == (20, 0, 0)
    assert rows["personal"]["cohen_kappa"] == 1.0


def test_transcripts_not_coded_by_every_coder_are_left_out(coded, project_dir):
    coded.tag("voss-principal", 2, ["lead-strong"], "c")
    project = Project.open(project_dir.root)
    report = agreement_report(project, ["a", "b", "c"])
    assert [t.id for t in report.scope.transcripts] == ["voss-principal"]
    assert report.scope.left_out == {"lier-teacher": ["c"], "strinda-coordinator": ["c"]}
    assert report.units == 4
    data = report.to_dict()
    assert data["transcripts"]["left_out"] == [
        {"transcript": "lier-teacher", "not_coded_by": ["c"]},
        {"transcript": "strinda-coordinator", "not_coded_by": ["c"]}]


def test_three_coders_use_fleiss_kappa(coded, project_dir):
    for transcript in ("voss-principal", "lier-teacher", "strinda-coordinator"):
        coded.tag(transcript, 1, ["outcomes"], "c")
    coded.tag("voss-principal", 2, ["lead-strong"], "c")
    project = Project.open(project_dir.root)
    report = agreement_report(project, ["a", "b", "c"])
    rows = _rows(report)
    assert "fleiss_kappa" in report.table.columns and "cohen_kappa" not in report.table.columns
    # lead-strong: voss 2 coded by all three, 9 passages by none -> perfect agreement
    assert (rows["lead-strong"]["all"], rows["lead-strong"]["some"],
            rows["lead-strong"]["none"]) == (1, 0, 9)
    assert rows["lead-strong"]["fleiss_kappa"] == 1.0
    # outcomes: c coded 3 passages, a one other (strinda 3): 4 units with one "yes" of 3.
    # P_i = 1/3 there, 1 elsewhere: P-bar = (6 + 4/3) / 10 = .7333; p_yes = 4/30:
    # P_e = (4/30)^2 + (26/30)^2 = .7689 -> kappa = (.7333 - .7689) / (1 - .7689) = -.154
    outcomes = rows["outcomes"]
    assert (outcomes["all"], outcomes["some"], outcomes["none"]) == (0, 4, 6)
    p_bar, p_e = (6 + 4 / 3) / 10, (4 / 30) ** 2 + (26 / 30) ** 2
    assert outcomes["fleiss_kappa"] == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-3)
    assert outcomes["agreement_pct"] == pytest.approx(round(100 * p_bar, 1))


def test_where_filter_and_unused_codes(coded):
    report = agreement_report(coded, ["a", "b"], where=["school=Voss"])
    assert [t.id for t in report.scope.transcripts] == ["voss-principal"]
    assert list(_rows(report)) == ["lead-strong", "lead-weak", "ownership", OVERALL]
    assert report.unused == ["outcomes", "personal"]
    assert report.to_dict()["where"] == ["school=Voss"]


def test_codes_asked_for_get_a_row_even_when_unused(coded):
    report = agreement_report(coded, ["a", "b"], codes=["leadership", "personal"],
                              where=["school=Voss"])
    rows = _rows(report)
    assert list(rows) == ["lead-strong", "lead-weak", "personal", OVERALL]
    assert math.isnan(rows["personal"]["cohen_kappa"])  # undefined: NaN in the frame
    assert "no variation" in rows["personal"]["reason"]
    assert rows["personal"]["neither"] == 4


def test_aliases_count_for_their_code(project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], "a")
    project_dir.append_log("b", {
        "op": "add", "id": "x1", "transcript": "voss-principal",
        "start": project.transcript("voss-principal").passage(2).start,
        "end": project.transcript("voss-principal").passage(2).end, "code": "anchoring",
        "text": project.transcript("voss-principal").body[
            project.transcript("voss-principal").passage(2).start:
            project.transcript("voss-principal").passage(2).end],
        "at": "2026-01-01T00:00:00.000Z"})
    rows = _rows(agreement_report(Project.open(project_dir.root), ["a", "b"]))
    assert rows["lead-strong"]["both"] == 1 and rows["lead-strong"]["cohen_kappa"] == 1.0


def test_scope_errors(coded):
    with pytest.raises(UsageError, match="at least 2 different coders"):
        agreement_report(coded, ["a", "a"])
    with pytest.raises(UnknownName, match="unknown coder 'bb'"):
        agreement_report(coded, ["a", "bb"])
    with pytest.raises(UsageError, match="unknown unit"):
        agreement_report(coded, ["a", "b"], unit="word")


def test_nothing_in_common_is_an_error_naming_the_transcripts(coded, project_dir):
    coded.tag("voss-principal", 2, ["lead-strong"], "c")
    project = Project.open(project_dir.root)
    with pytest.raises(QcodeError, match="none coded by all of a, c"):
        agreement_report(project, ["a", "c"], where=["school=Lier"])


# -- disagreements ---------------------------------------------------------------------------

def test_disagreements_on_passages(coded):
    frame = disagreements(coded, ["a", "b"])
    listed = list(zip(frame["transcript"], frame["passage"], frame["code"], frame["kind"],
                      strict=True))
    assert listed == [
        ("lier-teacher", 2, "lead-weak", "presence"),
        ("lier-teacher", 3, "personal", "presence"),
        ("strinda-coordinator", 3, "outcomes", "presence"),
        ("voss-principal", 2, "ownership", "presence"),
        ("voss-principal", 4, "lead-weak", "presence"),
        ("voss-principal", 4, "ownership", "presence"),
    ]
    row = frame.iloc[4]
    assert (row["coded_by"], row["not_coded_by"], row["a"], row["b"]) == ("b", "a", "",
                                                                          "passage")
    assert row["text"].startswith("Rektor: Lærerne eier prosjektet")
    assert row["speaker"] == "Rektor"


def test_disagreements_on_characters_add_differences_of_extent(coded):
    frame = disagreements(coded, ["a", "b"], unit="character")
    extent = frame[frame["kind"] == "extent"]
    assert list(zip(extent["transcript"], extent["passage"], extent["code"], strict=True)) == [
        ("lier-teacher", 2, "personal")]
    body = coded.transcript("lier-teacher").body
    start = body.index(SENTENCE)
    assert extent.iloc[0]["a"] == "passage"
    assert extent.iloc[0]["b"] == f"{start}:{start + len(SENTENCE)}"
    assert len(frame) == 7


# -- a family of mutually exclusive codes ----------------------------------------------------

@pytest.fixture
def family_coded(coded, project_dir):
    # a applies both children to voss 4 (a conflict); b calls lier 2 strong where a said weak
    coded.tag("voss-principal", 4, ["lead-strong", "lead-weak"], "a")
    coded.tag("lier-teacher", 2, ["lead-strong"], "b")
    return Project.open(project_dir.root)


def test_family_alpha_over_passages(family_coded):
    report = family_agreement(family_coded, ["a", "b"], "leadership")
    assert report.categories == ["lead-strong", "lead-weak"]
    # pairable: voss 2 (strong, strong), strinda 1 (weak, weak), lier 2 (weak, strong);
    # voss 4 has a conflict for a (missing) and weak for b. n = 6 values, 3 of each:
    # alpha = 1 - (n - 1) * 2 / (2 * 3 * 3) = 1 - 10/18
    assert report.alpha.units == 3
    assert report.alpha.value == pytest.approx(1 - 10 / 18)
    assert report.percent.value == pytest.approx(2 / 3)
    # Cohen: a strong 1 weak 2, b strong 2 weak 1: p_o 2/3, p_e 4/9 -> 0.4
    assert report.kappa.value == pytest.approx(0.4)
    assert report.conflicts == [{"transcript": "voss-principal", "passage": 4, "line": 14,
                                 "coder": "a", "codes": ["lead-strong", "lead-weak"]}]
    assert report.passages == 10
    freq = report.frequencies().set_index("coder")
    assert freq.loc["a"].tolist() == [1, 2, 6, 1]
    assert freq.loc["b"].tolist() == [2, 2, 6, 0]
    data = report.to_dict()
    assert data["unit"] == "passage" and data["family"] == "leadership"
    assert data["pairable_passages"] == 3 and data["krippendorff_alpha"] == round(8 / 18, 3)


def test_family_disagreements(family_coded):
    frame = family_disagreements(family_coded, ["a", "b"], "leadership")
    listed = [tuple(r) for r in frame[["transcript", "passage", "a", "b"]].itertuples(
        index=False, name=None)]
    assert listed == [("lier-teacher", 2, "lead-weak", "lead-strong"),
                      ("voss-principal", 4, "lead-strong+lead-weak", "lead-weak")]


def test_family_needs_two_children(coded):
    with pytest.raises(UsageError, match="a family needs at least two"):
        family_agreement(coded, ["a", "b"], "outcomes")


def test_family_maps_grandchildren_to_their_child(project_dir):
    project_dir.write("codebooks/codes.yaml", """\
name: Fixture codes
version: "1"
codes:
  - id: stance
    label: Stance
    codable: false
    description: Mutually exclusive.
    children:
      - id: pro
        label: Pro
        description: For it.
        children:
          - id: pro-strong
            label: Strongly for
            description: Very much for it.
      - id: contra
        label: Contra
        description: Against it.
""")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["pro-strong"], "a")
    project.tag("voss-principal", 2, ["pro"], "b")
    project.tag("voss-principal", 4, ["contra"], "a")
    project.tag("voss-principal", 4, ["contra"], "b")
    report = family_agreement(Project.open(project_dir.root), ["a", "b"], "stance",
                              where=["school=Voss"])
    assert report.values.set_index("passage").loc[2, "a"] == "pro"
    assert report.alpha.value == 1.0


# -- span helpers ------------------------------------------------------------------------------

def test_merge_and_clip_spans():
    assert merge_spans([(5, 9), (0, 3), (3, 4), (8, 12)]) == ((0, 4), (5, 12))
    assert clip([(0, 10), (20, 30)], 5, 25) == ((5, 10), (20, 25))
    assert clip([(0, 4)], 5, 25) == ()


# -- the command line --------------------------------------------------------------------------

@pytest.fixture
def coded_cli(coded, cli):
    return cli


def test_cli_json_names_unit_statistic_coders_transcripts(coded_cli):
    result = coded_cli("agree", "--coders", "a,b", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unit"] == "passage"
    assert "overlaps the passage" in data["unit_definition"]
    assert set(data["statistics"]) == {"agreement_pct", "cohen_kappa", "krippendorff_alpha"}
    assert "Cohen" in data["statistics"]["cohen_kappa"]
    assert data["coders"] == ["a", "b"]
    assert data["transcripts"] == {
        "counted": ["lier-teacher", "strinda-coordinator", "voss-principal"],
        "left_out": []}
    assert data["passages"] == 10
    weak = next(r for r in data["codes"] if r["code"] == "lead-weak")
    assert weak == {"code": "lead-weak", "label": "Weak anchoring", "passages": 10,
                    "both": 1, "only_a": 1, "only_b": 1, "neither": 7,
                    "agreement_pct": 80.0, "cohen_kappa": 0.375,
                    "krippendorff_alpha": 0.406, "reason": None}
    assert data["overall"]["code"] == "ALL" and data["overall"]["passages"] == 50


def test_cli_csv_rows_match_the_hand_counts(coded_cli):
    result = coded_cli("agree", "--coder", "a", "--coder", "b", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["code"] for r in rows] == [*HAND_COUNTED, "ALL"]
    personal = rows[-2]
    assert (personal["both"], personal["only_a"], personal["only_b"], personal["neither"]) == (
        "1", "1", "0", "8")
    assert personal["cohen_kappa"] == "0.615" and personal["agreement_pct"] == "90.0"
    assert "reason" not in rows[0]  # no undefined statistic, no column


def test_cli_character_unit_and_left_out_note(coded, cli):
    coded.tag("voss-principal", 2, ["lead-strong"], "c")
    result = cli("agree", "--coders", "a,c", "--unit", "character", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert "characters" in result.stdout.splitlines()[0]
    assert "left out, not coded by c (2): lier-teacher, strinda-coordinator" in result.stderr


def test_cli_table_and_markdown(coded_cli):
    table = coded_cli("agree", "--coders", "a,b", "-f", "table")
    assert table.exit_code == 0, table.output
    assert "unit: passage" in table.stdout and "Cohen" in table.stdout
    assert "lead-weak" in table.stdout and "0.375" in table.stdout
    md = coded_cli("agree", "--coders", "a,b", "-f", "md")
    assert md.exit_code == 0
    assert "| lead-weak | Weak anchoring | 10 | 1 | 1 | 1 | 7 | 80.0 | 0.375 | 0.406 |" in (
        md.stdout)
    assert "- coders: a, b; transcripts counted: 3" in md.stdout


def test_cli_output_file(coded_cli, project_dir):
    result = coded_cli("agree", "--coders", "a,b", "-o", "agreement.json")
    assert result.exit_code == 0, result.output
    assert json.loads((project_dir.root / "agreement.json").read_text())["unit"] == "passage"
    again = coded_cli("agree", "--coders", "a,b", "-o", "agreement.json")
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_cli_disagreements(coded_cli):
    result = coded_cli("agree", "--coders", "a,b", "--disagreements", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["unit"] == "passage" and data["coders"] == ["a", "b"]
    assert len(data["disagreements"]) == 6
    first = data["disagreements"][0]
    assert first["transcript"] == "lier-teacher" and first["code"] == "lead-weak"
    assert first["text"].startswith("Lærer 1: De ble tryggere")
    text = coded_cli("agree", "--coders", "a,b", "--disagreements", "-f", "table")
    assert "voss-principal [4] Rektor" in text.stdout
    # the passage's text is shown once for its two codes
    assert text.stdout.count("Lærerne eier prosjektet") == 1
    md = coded_cli("agree", "--coders", "a,b", "--disagreements", "-f", "md",
                   "--unit", "character")
    assert "`personal` (Personal outcomes), extent: a: passage; b: " in md.stdout
    assert "> Lærer 1: De ble tryggere på seg selv." in md.stdout


def test_cli_family(family_coded, cli):
    result = cli("agree", "--coders", "a,b", "--family", "leadership", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["krippendorff_alpha"] == 0.444 and data["conflicts"][0]["coder"] == "a"
    table = cli("agree", "--coders", "a,b", "--family", "leadership", "-f", "table")
    assert "krippendorff_alpha: 0.444" in table.stdout
    assert "conflict: voss-principal passage 4 (line 14): a applied lead-strong, lead-weak" in (
        table.stdout)
    csv_out = cli("agree", "--coders", "a,b", "--family", "leadership", "-f", "csv")
    assert csv_out.stdout.splitlines()[1] == 'leadership,"a,b",10,3,66.7,0.444,0.400,1'
    listed = cli("agree", "--coders", "a,b", "--family", "leadership", "--disagreements",
                 "-f", "csv")
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 3


@pytest.mark.parametrize(("args", "message"), [
    (["--coders", "a"], "name the coders to compare"),
    (["--coders", "a,b", "--family", "leadership", "--unit", "character"],
     "--family works on passages only"),
    (["--coders", "a,b", "--family", "leadership", "--codes", "personal"],
     "--family and --codes do not go together"),
    (["--coders", "a,b", "--family", "outcomes"], "a family needs at least two"),
])
def test_cli_usage_errors_exit_2(coded_cli, args, message):
    result = coded_cli("agree", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_cli_unknown_coder_exits_1_with_suggestion(coded_cli):
    result = coded_cli("agree", "--coders", "a,bb")
    assert result.exit_code == 1
    assert "unknown coder 'bb'" in result.stderr


def test_cli_bad_unit_is_a_usage_error(coded_cli):
    result = coded_cli("agree", "--coders", "a,b", "--unit", "word")
    assert result.exit_code == 2
