"""Reading commands never print a wrong number or quote silently (issue #16, items 1-4, 7,
12 and 14): a project whose answer is undefined is refused with `check`'s own message;
warnings that bear on the answer go to stderr; changed quotes are marked; an unknown
filter value is an error; typed spreadsheets; titles that state their scope."""

from __future__ import annotations

import json

import pytest

from qcode import Project

READERS = [
    ("matrix", "--by", "school", "-c", "a"),
    ("freq", "-c", "a"),
    ("cooccur", "-c", "a"),
    ("codes",),
    ("segments", "-c", "a"),
    ("query", "ownership", "-c", "a"),
    ("show", "voss-principal", "-c", "a"),
    ("agree", "--coders", "a,b"),
]


def _duplicate_code_id(project_dir) -> None:
    project_dir.replace("codebooks/codes.yaml", "  - id: ownership\n",
                        "  - id: personal\n")


@pytest.mark.parametrize("command", READERS, ids=[c[0] for c in READERS])
def test_an_undefined_answer_is_refused_with_checks_message(cli, coded, project_dir,
                                                            command):
    """Item 1: a duplicate code id makes every count undefined: exit 1 and check's own
    file:line, rule and hint, never exit 70 or a table."""
    _duplicate_code_id(project_dir)
    result = cli(*command)
    assert result.exit_code == 1, result.output
    assert "codebooks/codes.yaml:" in result.stderr
    assert "code-id-duplicate" in result.stderr
    assert "hint:" in result.stderr
    assert "internal error" not in result.stderr
    assert result.stdout == ""


def test_check_itself_still_reports_the_duplicate(cli, coded, project_dir):
    _duplicate_code_id(project_dir)
    # `transcripts` does not read the codebook: its answer stands
    assert cli("transcripts", "-f", "csv").exit_code == 0
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    assert "code-id-duplicate" in {p["rule"] for p in json.loads(result.stdout)["problems"]}


def test_warnings_are_answered_with_the_warnings_on_stderr(cli, coded, project_dir):
    """Item 1's other half: a warning does not stop the answer; it is said on stderr."""
    project_dir.replace("cases/schools.csv", "Voss,372,mature", "Voss,372,mature\n"
                        "Bergen,300,")  # an unused case row is only a warning
    project_dir.replace("transcripts/voss-principal.md", "school: Voss",
                        "school: Voss\npupils: 999")  # front matter disagrees: a warning
    result = cli("matrix", "--by", "school", "-c", "a", "-f", "csv")
    assert result.exit_code == 0
    assert result.stdout.startswith("code,")
    assert "case-attribute-conflict" in result.stderr or "qcode check" in result.stderr


def _edit_voss(project_dir) -> None:
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        "Rektor: Helt i starten, for mange år siden, hadde")


def test_codings_out_of_place_are_warned_about_and_marked(cli, coded, project_dir):
    """Item 2: after an edit every reading command says how many codings no longer match
    their text, and segments marks the quotes that changed."""
    _edit_voss(project_dir)
    for command in (("matrix", "--by", "school", "-c", "a", "-f", "csv"),
                    ("segments", "-c", "a", "-f", "csv"), ("freq", "-c", "a", "-f", "csv")):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        assert "no longer match their text in 1 transcript" in result.stderr
        assert "qcode reanchor" in result.stderr
    rows = json.loads(cli("segments", "-c", "a", "-f", "json").stdout)
    changed = {(r["transcript"], r["passage"]) for r in rows if r["text_changed"]}
    unchanged = {(r["transcript"], r["passage"]) for r in rows if not r["text_changed"]}
    assert ("voss-principal", 2) in changed
    assert all(t != "voss-principal" or p != 2 for t, p in unchanged)
    assert any(t == "lier-teacher" for t, _ in unchanged)
    markdown = cli("segments", "-c", "a", "-f", "md").stdout
    assert "text changed since coding" in markdown


def test_reanchor_clears_the_warning(cli, coded, project_dir):
    _edit_voss(project_dir)
    assert cli("reanchor").exit_code == 0
    result = cli("matrix", "--by", "school", "-c", "a", "-f", "csv")
    assert "no longer match" not in result.stderr


@pytest.mark.parametrize("value, guess", [("voss", "Voss"), ("Vos", "Voss"),
                                          ("principl", "principal")])
def test_a_where_value_no_transcript_has_is_an_error(cli, coded, value, guess):
    """Item 3: an all-zero table for a typo is a wrong answer; the value is refused with a
    did-you-mean (case-insensitive and fuzzy)."""
    attribute = "informant_group" if guess == "principal" else "school"
    for command in (("matrix", "--by", "school"), ("segments",), ("freq",)):
        result = cli(*command, "-c", "a", "--where", f"{attribute}={value}")
        assert result.exit_code == 1, result.output
        assert f"did you mean '{guess}'" in result.stderr
        assert result.stdout == ""


def test_a_duplicate_coding_counts_once_everywhere_and_check_warns(cli, coded, project_dir):
    """Item 4: the same span and code under two ids (two branches merged) is one coding for
    codes, freq and matrix alike, and check says so."""
    lines = project_dir.log_lines("a")
    event = next(e for e in lines if e["code"] == "ownership")
    project_dir.append_log("a", {**event, "id": "0123456789abcdef"})
    project = Project.open(project_dir.root)
    assert project.code_usage()["ownership"]["a"] == 2
    freq = {r["code"]: r for r in json.loads(cli("freq", "-c", "a", "-f", "json").stdout)}
    assert freq["ownership"]["segments"] == 2
    grid = json.loads(cli("matrix", "--by", "school", "-c", "a", "-f", "json").stdout)
    assert sum(r["segments"] for r in grid if r["code"] == "ownership") == 2
    codes = cli("codes", "-f", "json")
    assert {c["id"]: c for c in json.loads(codes.stdout)["codes"]}["ownership"]["counts"]["a"] \
        == 2
    report = cli("check", "-f", "json")
    duplicates = [p for p in json.loads(report.stdout)["problems"]
                  if p["rule"] == "coding-duplicate"]
    assert len(duplicates) == 1 and duplicates[0]["severity"] == "warning"
    assert duplicates[0]["file"] == "codings/a.jsonl" and duplicates[0]["line"] == len(lines) + 1


def test_an_unknown_output_suffix_is_a_usage_error(cli, coded, project_dir):
    """Item 7: `-o x.pdf` used to get CSV; now the formats are listed and nothing written."""
    result = cli("matrix", "--by", "school", "-c", "a", "-o", "x.pdf")
    assert result.exit_code == 2
    assert "csv" in result.stderr and "xlsx" in result.stderr
    assert not (project_dir.root / "x.pdf").exists()
    assert cli("matrix", "--by", "school", "-c", "a", "-o", "x.pdf", "-f", "csv").exit_code \
        == 0


def test_spreadsheets_store_typed_attribute_cells(cli, coded, project_dir):
    """Item 12: numbers, booleans and dates are typed cells, not "number stored as text";
    ids with leading zeros stay text."""
    import datetime as dt

    from openpyxl import load_workbook

    project_dir.replace("transcripts/voss-principal.md", "school: Voss",
                        "school: Voss\nrecorded: 2019-03-26\nsynthetic: true\nroom: '007'")
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier",
                        "school: Lier\nrecorded: 2019-04-02\nsynthetic: false\nroom: '120'")
    for command, sheet_name in ((("segments", "-c", "a"), "data"),
                                (("matrix", "--by", "school", "-c", "a"), "segments")):
        out = project_dir.root / f"{command[0]}.xlsx"
        assert cli(*command, "-o", str(out)).exit_code == 0
        sheet = load_workbook(out)[sheet_name]
        header = [c.value for c in sheet[1]]
        voss = next(row for row in sheet.iter_rows(min_row=2, values_only=True)
                    if row[header.index("transcript")] == "voss-principal")
        cell = dict(zip(header, voss, strict=True))
        assert cell["pupils"] == 372 and isinstance(cell["pupils"], int)
        assert cell["synthetic"] is True
        assert isinstance(cell["recorded"], dt.datetime)
        assert cell["recorded"].date() == dt.date(2019, 3, 26)
        assert cell["room"] == "007"  # a leading zero: text
        assert cell["school"] == "Voss"
    assert Project.open(project_dir.root).attribute_types()["pupils"] == "integer"


def test_titles_state_the_scope(cli, coded):
    """Item 14: md and html titles of segments and query say which codes, coders and
    filter they show, as matrix does."""
    args = ("-c", "a", "--where", "school=Voss")
    for command in (("segments", "ownership"), ("query", "ownership & !lead-weak")):
        for fmt in ("md", "html"):
            text = cli(*command, *args, "-f", fmt).stdout
            title = (text.splitlines()[0] if fmt == "md"
                     else text.split("<h1", 1)[1].split("</h1>", 1)[0])
            assert "coders: a" in title and "where school=Voss" in title, title
            assert "ownership" in title


def test_digits_that_are_not_decimal_never_crash(cli, coded, project_dir):
    """'²' is a digit to str.isdigit() but not a number to int(): as an attribute value,
    a passage or a query's distance it is text or an error, never exit 70."""
    project_dir.replace("transcripts/voss-principal.md", "school: Voss", "school: Voss\nroom: ²")
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier", "school: Lier\nroom: 10")
    result = cli("matrix", "--by", "room", "-c", "a", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "code,10,²,(missing)"
    query = cli("query", "near(ownership, personal, ²)", "-c", "a")
    assert query.exit_code in (1, 2) and "internal error" not in query.stderr
