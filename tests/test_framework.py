"""``qcode framework`` (issue #19 item 3): cases × themes, each cell the quotes of
``segments`` for that row and code, chosen by a stated rule, in every format.

The ``coded`` fixture (conftest), coder a: voss-principal (Voss) passage 2 lead-strong and
ownership, passage 4 ownership; lier-teacher (Lier) passage 2 personal and lead-weak,
passage 3 personal; strinda-coordinator (Strinda) passage 1 lead-weak, passage 3 outcomes.
Coder b adds voss 2 lead-strong, voss 4 lead-weak, strinda 1 lead-weak and one sentence of
lier 2 (personal).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SENTENCE
from qcode import Project
from qcode.analysis.framework import PICKS, QUOTE_FIELDS, choose_quotes
from qcode.cli.framework import Pick
from qcode.render.tables import markdown_table

REPO = Path(__file__).resolve().parents[1]
LIER_2 = "Lærer 1: De ble tryggere på seg selv. Kl. 07:45 stod de klare på flyplassen."
LIER_3 = "Lærer 2: Jeg er enig, særlig de stille elevene."


def where(matrix, cell):
    return [(q["transcript"], q["passage"]) for q in matrix.cell(*cell).quotes]


def test_cells_hold_the_hand_counted_quotes(coded):
    matrix = coded.framework("school", ["leadership,outcomes"], "a")
    assert matrix.rows == ["Lier", "Strinda", "Voss"]  # undeclared values: sorted
    assert [(t.code, t.own_only) for t in matrix.themes] == [
        ("lead-strong", False), ("lead-weak", False), ("outcomes", True),
        ("personal", False)]
    totals = {(row, t.code): matrix.cell(row, t.code).total
              for row in matrix.rows for t in matrix.themes}
    assert {k: v for k, v in totals.items() if v} == {
        ("Voss", "lead-strong"): 1, ("Lier", "lead-weak"): 1, ("Strinda", "lead-weak"): 1,
        ("Strinda", "outcomes"): 1, ("Lier", "personal"): 2}
    quote = matrix.cell("Voss", "lead-strong").quotes[0]
    assert (quote["transcript"], quote["passage"], quote["speaker"], quote["coders"]) == (
        "voss-principal", 2, "Rektor", "a")
    assert quote["text"].startswith("Rektor: Vi hadde for mange lærere")
    assert set(quote) == set(QUOTE_FIELDS)
    # outcomes is codable: its column holds what was coded with it, personal has its own
    assert where(matrix, ("Lier", "outcomes")) == []
    assert all(cell.memo is None for cell in matrix.cells.values())


def test_declared_order_and_transcript_rows(coded):
    by_group = coded.framework("informant_group", ["lead-weak"], "a")
    assert by_group.rows == ["coordinator", "principal", "teacher"]  # as declared
    assert by_group.cell("coordinator", "lead-weak").total == 1
    by_transcript = coded.framework("transcript", ["lead-weak"], ["a", "b"])
    assert by_transcript.rows == ["lier-teacher", "strinda-coordinator", "voss-principal"]
    assert [by_transcript.cell(r, "lead-weak").total for r in by_transcript.rows] == [1, 1, 1]
    assert by_transcript.cell("strinda-coordinator", "lead-weak").quotes[0]["coders"] == "a, b"
    # --where keeps only the rows it looked at
    assert coded.framework("school", ["lead-weak"], "a", where=["school=Voss,Lier"]).rows == [
        "Lier", "Voss"]


def test_pick_longest_or_first_and_how_many(coded):
    def texts(**options):
        cell = coded.framework("school", ["personal"], all_coders=True, **options).cell(
            "Lier", "personal")
        return [q["text"] for q in cell.quotes], cell.total

    assert texts(quotes=2) == ([LIER_2, LIER_3], 3)                  # longest
    assert texts(quotes=2, pick="first") == ([LIER_2, SENTENCE], 3)  # reading order
    assert texts(quotes=0, pick="first") == ([LIER_2, SENTENCE, LIER_3], 3)
    assert texts(quotes=1) == ([LIER_2], 3)


@given(st.lists(st.text(max_size=8), max_size=12), st.integers(0, 14), st.sampled_from(PICKS))
def test_the_pick_rule(texts, count, pick):
    """The shown quotes are ``count`` of the cell's (all for 0); ``first`` keeps the first
    ones, ``longest`` no quote shorter than one it leaves out, ties in reading order."""
    quotes = [{"text": text, "order": i} for i, text in enumerate(texts)]
    shown = choose_quotes(quotes, count, pick)
    assert len(shown) == (min(count, len(quotes)) if count else len(quotes))
    if pick == "first":
        assert shown == quotes[:len(shown)]
    else:
        left = [q for q in quotes if q not in shown]
        assert min((len(q["text"]) for q in shown), default=0) >= max(
            (len(q["text"]) for q in left), default=0)
        keys = [(-len(q["text"]), q["order"]) for q in shown]
        assert keys == sorted(keys)


def test_the_command_offers_the_library_picks():
    assert tuple(Pick) == PICKS


def test_a_quote_carries_its_memo(coded):
    coded.tag("strinda-coordinator", 3, ["outcomes"], "c", memo="pension worry")
    matrix = Project.open(coded.root).framework("school", ["outcomes"], "c")
    assert matrix.cell("Strinda", "outcomes").quotes[0]["memo"] == "pension worry"


def assert_cells_equal_segments(project, rows, family, coders=None, all_coders=False):
    """The law: a cell (all quotes, reading order) is ``segments CODE`` of that row."""
    matrix = project.framework(rows, [family], coders, all_coders, quotes=0, pick="first")
    assert matrix.rows
    for row in matrix.rows:
        filters = [] if rows == "transcript" else [f"{rows}={row}"]
        for theme in matrix.themes:
            frame = project.segments([theme.code], coders, all_coders, filters)
            if rows == "transcript":
                frame = frame[frame["transcript"] == row]
            if theme.own_only:
                frame = frame[frame["code"] == theme.code]
            expected = sorted((r["transcript"], r["start"], r["end"], r["code"], r["text"])
                              for r in frame.to_dict(orient="records"))
            cell = matrix.cell(row, theme.code)
            got = [(q["transcript"], q["start"], q["end"], q["code"], q["text"])
                   for q in cell.quotes]
            assert got == sorted(got, key=lambda q: q[:3])  # reading order
            assert sorted(got) == expected, (row, theme.code)
            assert cell.total == len(expected)


@pytest.mark.parametrize("rows", ["school", "informant_group", "transcript"])
def test_cells_equal_segments_on_the_fixture(coded, rows):
    assert_cells_equal_segments(coded, rows, "leadership", all_coders=True)
    assert_cells_equal_segments(coded, rows, "outcomes", ["a"])


@pytest.mark.parametrize("rows", ["school", "transcript"])
def test_cells_equal_segments_on_the_bundled_study(rows):
    assert_cells_equal_segments(Project.open(REPO), rows, "leadership")


def test_the_study_leadership_framework_by_school():
    """The study's question: how each school's leadership anchors the work, per school."""
    project = Project.open(REPO)
    matrix = project.framework("school", ["leadership"])
    assert matrix.rows == ["Borgund", "Charlottenlund", "Lier", "Romsdal", "Setesdal",
                           "Strinda", "Verdal", "Voss"]  # declared order
    assert [t.code for t in matrix.themes] == project.codebook.children("leadership")
    counts = project.matrix("school", codes=["leadership"])
    for row in matrix.rows:
        for theme in matrix.themes:
            cell = matrix.cell(row, theme.code)
            assert cell.total == counts.loc[theme.code, row]  # leaves: segments, no rollup
            assert len(cell.quotes) == min(3, cell.total)
            lengths = [len(q["text"]) for q in cell.quotes]
            assert lengths == sorted(lengths, reverse=True)


# -- the command and its formats -----------------------------------------------------------

def test_csv_long_form(coded, cli):
    result = cli("framework", "--rows", "school", "--codes", "personal", "--all-coders",
                 "-n", "2", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["row"], r["theme"], r["rank"], r["of"], r["passage"], r["speaker"], r["quote"])
            for r in rows] == [("Lier", "personal", "1", "3", "2", "Lærer 1", LIER_2),
                               ("Lier", "personal", "2", "3", "3", "Lærer 2", LIER_3)]


def test_json_has_every_cell(coded, cli):
    result = cli("framework", "--rows", "school", "--codes", "leadership", "--coder", "a",
                 "-f", "json")
    data = json.loads(result.stdout)
    assert data["rows"] == ["Lier", "Strinda", "Voss"] and data["coders"] == ["a"]
    assert len(data["cells"]) == 3 * 2
    voss = next(c for c in data["cells"] if (c["row"], c["theme"]) == ("Voss", "lead-strong"))
    assert (voss["segments"], voss["memo"], voss["quotes"][0]["passage"]) == (1, None, 2)


def test_markdown_is_one_table(coded, cli):
    result = cli("framework", "--rows", "school", "--codes", "personal", "--all-coders",
                 "-n", "1", "-f", "md")
    lines = result.stdout.splitlines()
    assert lines[2] == "| school | Personal outcomes (personal) |"
    assert lines[4].startswith("| Lier | “Lærer 1: De ble tryggere")
    assert "— lier-teacher, passage 2 (Lærer 1); coded by a<br><br>(1 of 3 segments) |" \
        in lines[4]
    assert len(lines) == 7  # title, blank, header, rule, Lier, Strinda, Voss


def test_html_is_a_standalone_table(coded, cli):
    result = cli("framework", "--rows", "transcript", "--codes", "lead-weak", "--coder", "b",
                 "-f", "html")
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert "<th>voss-principal</th><td><blockquote>Rektor: Lærerne eier" in result.stdout


def test_xlsx_one_sheet_wrapped_with_sources_in_comments(coded, cli, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "framework.xlsx"
    result = cli("framework", "--rows", "school", "--codes", "leadership,outcomes",
                 "--all-coders", "-o", str(path))
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames == ["framework"]
    sheet = book["framework"]
    assert [c.value for c in sheet[1]] == [
        "school", "Strong anchoring (lead-strong)", "Weak anchoring (lead-weak)",
        "Outcomes (outcomes) itself", "Personal outcomes (personal)"]
    assert [c.value for c in sheet["A"]][1:] == ["Lier", "Strinda", "Voss"]
    voss_weak = sheet["C4"]
    assert voss_weak.value.startswith("“Rektor: Lærerne eier prosjektet")
    assert voss_weak.alignment.wrap_text
    assert voss_weak.comment.text == ("1. voss-principal, passage 4, speaker Rektor, "
                                      f"characters {_span(coded, 'voss-principal', 4)}, "
                                      "code lead-weak, coded by b")
    assert sheet["B2"].value is None and sheet["B2"].comment is None  # an empty cell


def _span(project, transcript, number):
    passage = project.transcript(transcript).passage(number)
    return f"{passage.start}-{passage.end}"


def test_terminal_table_and_files(coded, cli, tmp_path):
    result = cli("framework", "--rows", "school", "--codes", "lead-strong", "--coder", "a",
                 "-f", "table")
    assert result.exit_code == 0
    assert "Rektor: Vi hadde for mange" in result.stdout and "Voss" in result.stdout
    out = tmp_path / "f.md"
    assert cli("framework", "--rows", "school", "--codes", "ownership", "--coder", "a",
               "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("**")
    again = cli("framework", "--rows", "school", "--codes", "ownership", "--coder", "a",
                "-o", str(out))
    assert again.exit_code != 0 and "--force" in again.stderr
    assert cli("framework", "--rows", "school", "--codes", "ownership", "--coder", "a",
               "-o", str(out), "--force").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--rows", "schol", "--codes", "ownership"], "unknown attribute 'schol'; did you mean "
                                                  "'school'"),
    (["--rows", "school", "--codes", "ownrship"], "unknown code 'ownrship'"),
    (["--rows", "school", "--codes", "ownership", "-f", "xlsx"], "add -o FILE.xlsx"),
    (["--rows", "school", "--codes", "ownership", "--where", "school=Vos"],
     "did you mean 'Voss'"),
    (["--rows", "school", "--codes", ","], "--codes names no code"),
])
def test_errors_are_one_line_with_a_hint(coded, cli, args, message):
    result = cli("framework", *args, "--coder", "a")
    assert result.exit_code in (1, 2) and message in result.stderr
    assert "Traceback" not in result.output


def test_several_coders_must_be_chosen(coded, cli):
    result = cli("framework", "--rows", "school", "--codes", "ownership")
    assert result.exit_code == 2 and "say whose codings" in result.stderr


# -- project text stays inert ----------------------------------------------------------------

DDE = "=cmd|' /C calc'!A0"
HTML = "<script>alert(1)</script> [x](http://evil.example)"


@pytest.fixture
def hostile(project_dir):
    project_dir.replace("transcripts/voss-principal.md", "informant_group: principal",
                        f"informant_group: principal\nnote: \"{DDE}\"")
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Lærerne eier",
                        f"Rektor: {DDE} {HTML} Lærerne eier")
    project = Project.open(project_dir.root)
    body = project.transcript("voss-principal").body
    start = body.index(DDE)  # a quote that starts like a formula
    project.tag("voss-principal", (start, len(body.rstrip())), ["ownership"], "a",
                memo=f"memo {HTML}")
    return project_dir


def test_xlsx_html_md_csv_keep_project_text_inert(hostile, cli, tmp_path):
    from markdown_it import MarkdownIt
    from openpyxl import load_workbook

    path = tmp_path / "f.xlsx"
    assert cli("framework", "--rows", "note", "--codes", "ownership", "-o",
               str(path)).exit_code == 0
    cells = [c for row in load_workbook(path)["framework"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value[0] in "=+-@"]
    assert f"'{DDE}" in [c.value for c in cells]  # the row's value, shown as text
    page = cli("framework", "--rows", "note", "--codes", "ownership", "-f", "html").stdout
    assert "<script" not in page and "&lt;script&gt;" in page
    markdown = cli("framework", "--rows", "note", "--codes", "ownership", "-f", "md").stdout
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    assert "<script" not in rendered and "&lt;script&gt;" in rendered
    assert not re.findall(r'href="', rendered)
    rows = list(csv.DictReader(io.StringIO(
        cli("framework", "--rows", "note", "--codes", "ownership", "-f", "csv").stdout)))
    assert [r["quote"][:5] for r in rows] == [f"'{DDE}"[:5]]
    assert [r["row"] for r in rows] == [f"'{DDE}"]


def test_markdown_cells_are_the_shared_escaping():
    """The framework's Markdown is ``markdown_table``: a quote's pipe cannot split a row."""
    assert markdown_table(["a"], [["x | y"]], 1).splitlines()[2] == "| x \\| y |"
