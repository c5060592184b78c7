"""Units of analysis: transcripts as columns, cases (``case:``), and column sizes.

The fixture project (tests/conftest.py) gets a fourth transcript, voss-teacher, so that
Voss is a case of two transcripts. Coder a codes:

    voss-principal  p2 lead-strong          p4 ownership
    voss-teacher    p2 ownership, personal
    lier-teacher    p2 lead-strong          p3 personal
    strinda-coord.  p1 lead-weak

Hand counts. Transcripts per school: Lier 1, Strinda 1, Voss 2. Cases (schools) per
model: mature {Voss, Lier} 2, (missing) {Strinda} 1. Codes per case: Voss {lead-strong,
ownership (2 transcripts), personal}, Lier {lead-strong, personal}, Strinda {lead-weak}.
lead-strong and personal meet in no Voss transcript but in the Voss case.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.errors import UnknownName, UsageError

VOSS_TEACHER = """\
---
school: Voss
informant_group: teacher
---
I: Hva gjør du?

Lærer: Jeg reiser med elevene hvert år, og de vokser på det.

I: Og ledelsen?

Lærer: Rektor støtter oss.
"""


@pytest.fixture
def units(project_dir):
    project_dir.write("transcripts/voss-teacher.md", VOSS_TEACHER)
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], "a")
    project.tag("voss-principal", 4, ["ownership"], "a")
    project.tag("voss-teacher", 2, ["ownership", "personal"], "a")
    project.tag("lier-teacher", 2, ["lead-strong"], "a")
    project.tag("lier-teacher", 3, ["personal"], "a")
    project.tag("strinda-coordinator", 1, ["lead-weak"], "a")
    return Project.open(project_dir.root)


def nonzero(grid):
    return {(code, column): value for code, row in grid.iterrows()
            for column, value in row.items() if value}


def csv_rows(text):
    return list(csv.reader(io.StringIO(text)))


# -- documents as columns ----------------------------------------------------------------

def test_by_transcript_gives_one_column_per_transcript(units):
    grid = units.matrix("transcript")
    assert list(grid.columns) == [t.id for t in units.transcripts]  # file order
    assert nonzero(grid) == {
        ("leadership", "voss-principal"): 1, ("leadership", "lier-teacher"): 1,
        ("leadership", "strinda-coordinator"): 1,
        ("lead-strong", "voss-principal"): 1, ("lead-strong", "lier-teacher"): 1,
        ("lead-weak", "strinda-coordinator"): 1,
        ("ownership", "voss-principal"): 1, ("ownership", "voss-teacher"): 1,
        ("personal", "voss-teacher"): 1, ("personal", "lier-teacher"): 1,
    }
    assert grid.attrs["column_n"] == []  # n would be 1 in every column


def test_where_transcript_and_freq_by_transcript(cli, units):
    table = units.freq("transcript", where=["transcript=voss-teacher,lier-teacher"])
    counted = {(r["code"], r["transcript"]): r["segments"]
               for r in table.to_dict(orient="records") if r["segments"]}
    assert counted == {("leadership", "lier-teacher"): 1, ("lead-strong", "lier-teacher"): 1,
                       ("ownership", "voss-teacher"): 1,
                       ("personal", "lier-teacher"): 1, ("personal", "voss-teacher"): 1}
    bad = cli("matrix", "--by", "school", "--where", "transcript=voss-techer")
    assert bad.exit_code != 0 and "did you mean 'voss-teacher'" in bad.stderr


def test_by_transcript_works_without_attributes(cli, project_dir):
    config = project_dir.read("qcode.yaml")
    project_dir.write("qcode.yaml", config.split("cases:")[0])
    for name in ("voss-principal.md", "lier-teacher.md", "strinda-coordinator.md"):
        text = project_dir.read(f"transcripts/{name}")
        project_dir.write(f"transcripts/{name}", "\n".join(
            line for line in text.split("\n")
            if not line.startswith(("school:", "informant_group:"))))
    Project.open(project_dir.root).tag("lier-teacher", 2, ["ownership"], "a")
    result = cli("matrix", "--by", "transcript", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "code,lier-teacher,strinda-coordinator,voss-principal"
    assert "ownership,1,0,0" in lines
    unknown = cli("matrix", "--by", "school")
    assert unknown.exit_code != 0 and "attributes: transcript" in unknown.stderr
    # what other tools call the document (the finding: `--by id`) points to transcript
    by_id = cli("matrix", "--by", "id")
    assert by_id.exit_code == 1
    assert "unknown attribute 'id'; did you mean 'transcript'?" in by_id.stderr
    no_cases = cli("matrix", "--by", "transcript", "--measure", "cases")
    assert no_cases.exit_code == 2 and "case: ATTR" in no_cases.stderr


# -- cases -------------------------------------------------------------------------------

def test_cases_count_schools_with_the_code_by_model(units):
    grid = units.matrix("model", measure="cases")
    assert list(grid.columns) == ["mature", "(missing)"]
    assert nonzero(grid) == {
        ("leadership", "mature"): 2, ("leadership", "(missing)"): 1,
        ("lead-strong", "mature"): 2, ("lead-weak", "(missing)"): 1,
        ("ownership", "mature"): 1, ("personal", "mature"): 2,
    }
    assert grid.attrs["column_n"] == [2, 1] and grid.attrs["n_label"] == "n_cases"
    assert grid.attrs["case"] == ["school"]  # the first case table's key


def test_cases_pct_is_a_share_of_the_columns_cases(units):
    grid = units.matrix("model", measure="cases-pct")
    assert grid.loc["lead-strong", "mature"] == 100.0
    assert grid.loc["ownership", "mature"] == 50.0
    assert grid.loc["lead-weak", "(missing)"] == 100.0


def test_min_documents_asks_for_that_many_transcripts_of_a_case(units, cli):
    grid = units.matrix("model", measure="cases", min_documents=2)
    assert nonzero(grid) == {("ownership", "mature"): 1}  # only Voss, with two
    with pytest.raises(UsageError):
        units.matrix("model", measure="documents", min_documents=2)
    refused = cli("matrix", "--by", "school", "--min-documents", "2")
    assert refused.exit_code == 2 and "case measures" in refused.stderr


def test_case_totals(units):
    grid = units.matrix("model", measure="cases", totals=True)
    assert grid.loc["lead-strong", "TOTAL"] == 2 and grid.loc["lead-weak", "TOTAL"] == 1
    assert list(grid.loc["TOTAL"]) == [2, 1, 3]  # cases with any code
    assert grid.attrs["column_n"] == [2, 1, 3]


def test_by_school_cases_is_zero_or_one(units):
    grid = units.matrix("school", measure="cases")
    assert set(grid.to_numpy().ravel()) == {0, 1}
    assert grid.loc["ownership", "Voss"] == 1  # two transcripts, one case


def test_case_attribute_from_qcode_yaml(project_dir, units):
    project_dir.replace("qcode.yaml", "attributes:", "case: informant_group\nattributes:")
    grid = Project.open(project_dir.root).matrix("school", measure="cases")
    # informant groups: Voss {principal, teacher}, Lier {teacher}, Strinda {coordinator}
    assert grid.attrs["column_n"] == [1, 1, 2]
    assert grid.loc["ownership", "Voss"] == 2 and grid.loc["lead-strong", "Voss"] == 1


def test_cooccur_by_case(units):
    grid = units.cooccur("case")
    pairs = {(a, b): v for (a, b), v in nonzero(grid).items() if a <= b}
    assert pairs == {
        ("lead-strong", "lead-strong"): 2, ("lead-strong", "ownership"): 1,
        ("lead-strong", "personal"): 2, ("lead-strong", "leadership"): 2,
        ("lead-weak", "lead-weak"): 1, ("lead-weak", "leadership"): 1,
        ("leadership", "leadership"): 3, ("leadership", "ownership"): 1,
        ("leadership", "personal"): 2,
        ("ownership", "ownership"): 1, ("ownership", "personal"): 1,
        ("personal", "personal"): 2,
    }
    # by transcript the Voss pair (principal's lead-strong, teacher's personal) is not one
    assert units.cooccur("transcript").loc["lead-strong", "personal"] == 1
    strict = units.cooccur("case", min_documents=2)
    assert nonzero(strict) == {("ownership", "ownership"): 1}
    with pytest.raises(UsageError):
        units.cooccur("transcript", min_documents=2)


def test_cooccur_unit_case_on_the_command_line(cli, units):
    result = cli("cooccur", "--unit", "case", "-c", "a", "-f", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert {"code": "lead-strong", "label": "Strong anchoring", "other": "personal",
            "other_label": "Personal outcomes", "count": 2} in records


# -- column sizes in every format --------------------------------------------------------

def test_sizes_in_headers_footer_and_json(cli, units, project_dir):
    args = ["matrix", "--by", "school", "--measure", "documents", "-c", "a"]
    rows = csv_rows(cli(*args).stdout)
    assert rows[0] == ["code", "Lier", "Strinda", "Voss"]  # header unchanged
    assert rows[-1] == ["n_transcripts", "1", "1", "2"]
    assert ["ownership", "0", "0", "2"] in rows
    md = cli(*args, "-f", "md").stdout
    assert "| code | label | Lier (n=1) | Strinda (n=1) | Voss (n=2) |" in md
    html = cli(*args, "-f", "html").stdout
    # the report's matrix section (one renderer): the column's size under its name
    assert '<th scope="col">Voss<br><span class="small">n=2</span></th>' in html
    records = json.loads(cli(*args, "-f", "json").stdout)
    assert {"code": "ownership", "label": "Staff ownership", "parent": None,
            "school": "Voss", "documents": 2, "n_transcripts": 2} in records
    table = cli(*args, "-f", "table").stdout
    assert "(n=2)" in table
    cases = csv_rows(cli("matrix", "--by", "model", "--measure", "cases", "-c", "a").stdout)
    assert cases[-1] == ["n_cases", "2", "1"]


def test_xlsx_has_the_footer_row(cli, units, project_dir):
    from openpyxl import load_workbook

    out = project_dir.root / "m.xlsx"
    assert cli("matrix", "--by", "school", "-c", "a", "-o", str(out)).exit_code == 0
    rows = list(load_workbook(out)["matrix"].iter_rows(values_only=True))
    assert rows[0] == ("code", "label", "Lier", "Strinda", "Voss")
    assert rows[-1] == ("n_transcripts", None, 1, 1, 2)


# -- order and headings of segments --by ---------------------------------------------------

def test_segments_by_follow_declared_order_with_headings(cli, units, project_dir):
    project_dir.replace("qcode.yaml", "school: {required: true}",
                        "school: {required: true, values: [Voss, Strinda, Lier]}")
    frame = Project.open(project_dir.root).segments(["lead-strong"], "a", by="school")
    assert list(frame["school"]) == ["Voss", "Lier"]
    table = cli("segments", "personal", "lead-strong", "--by", "school", "-c", "a",
                "-f", "table").stdout
    headings = [line for line in table.splitlines() if line.startswith("school: ")]
    assert headings == ["school: Voss", "school: Lier", "school: Voss", "school: Lier"]
    with pytest.raises(UnknownName):
        Project.open(project_dir.root).segments(by="schol")


# -- checks --------------------------------------------------------------------------------

def test_check_flags_reserved_transcript_and_unknown_case(cli, project_dir):
    project_dir.replace("qcode.yaml", "attributes:",
                        "case: schol\nattributes:\n  transcript: {}")
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier",
                        "school: Lier\ntranscript: other")
    result = cli("check")
    assert result.exit_code != 0
    out = result.stdout + result.stderr
    assert "qcode.yaml:9" in out and "case: 'schol'" in out and "'school'" in out
    assert "qcode.yaml:11" in out and "attributes: 'transcript' is a reserved name" in out
    assert "transcripts/lier-teacher.md:3" in out
    assert "front matter key 'transcript' is a reserved name" in out
    counted = cli("matrix", "--by", "school", "--measure", "cases")
    assert counted.exit_code == 1 and "unknown case attribute 'schol'" in counted.stderr
    assert "did you mean 'school'" in counted.stderr and "Traceback" not in counted.output


# -- the bundled study ---------------------------------------------------------------------

def _study_cases_with(code: str) -> set[str]:
    """An independent recount from the raw codings: schools with a consensus coding of
    the code (aliases resolved through the codebook)."""
    study = Project.open(".")
    codebook = study.codebook
    schools = {t.id: str(t.attributes["school"]) for t in study.transcripts}
    return {schools[c.transcript] for c in study.codings("consensus")
            if codebook.canonical(c.code) == code and c.transcript in schools}


def test_study_school_level_link_of_leadership_and_ownership(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    study = Project.open(".")
    involved = _study_cases_with("leadership-involved")
    broad = _study_cases_with("ownership-many-staff")
    grid = study.cooccur("case", codes=["leadership-involved", "ownership-many-staff"])
    assert grid.loc["leadership-involved", "ownership-many-staff"] == len(involved & broad)
    assert len(involved & broad) > 0
    assert grid.loc["leadership-involved", "leadership-involved"] == len(involved)


def test_study_cases_by_model(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    study = Project.open(".")
    grid = study.matrix("model", measure="cases", codes=["ownership-many-staff"])
    models = {t.attributes.get("school"): t.attributes.get("model") for t in study.transcripts}
    broad = _study_cases_with("ownership-many-staff")
    for model in grid.columns:
        expected = {s for s in broad if str(models[s] if models[s] is not None
                                              else "(missing)") == model}
        assert grid.loc["ownership-many-staff", model] == len(expected)
    assert sum(grid.attrs["column_n"]) == 8  # every school in one column


# -- laws ----------------------------------------------------------------------------------

PASSAGES = [("voss-principal", 2), ("voss-principal", 4), ("voss-teacher", 2),
            ("voss-teacher", 4), ("lier-teacher", 2), ("lier-teacher", 3),
            ("strinda-coordinator", 1), ("strinda-coordinator", 3)]
LEAVES = ["lead-strong", "lead-weak", "ownership", "personal"]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(PASSAGES), st.sampled_from(LEAVES)),
                min_size=1, max_size=10, unique=True))
def test_case_counts_agree_whatever_the_codings(tmp_path_factory, codings):
    from conftest import build_fixture_project

    builder = build_fixture_project(tmp_path_factory.mktemp("laws") / "study")
    builder.write("transcripts/voss-teacher.md", VOSS_TEACHER)
    project = Project.open(builder.root)
    for (transcript, passage), code in codings:
        project.tag(transcript, passage, [code], "a")
    project = Project.open(builder.root)
    by_model = project.matrix("model", measure="cases", totals=True)
    pairs = project.cooccur("case")
    strict = project.matrix("model", measure="cases", totals=True, min_documents=2)
    documents = project.matrix("model", measure="documents", totals=True)
    for code in LEAVES:
        # every school has one model: its cases add up to TOTAL, the cooccur diagonal
        assert by_model.loc[code].drop("TOTAL").sum() == by_model.loc[code, "TOTAL"]
        assert by_model.loc[code, "TOTAL"] == pairs.loc[code, code]
        assert (strict.loc[code] <= by_model.loc[code]).all()
        assert (by_model.loc[code] <= documents.loc[code]).all()
        for other in LEAVES:
            assert pairs.loc[code, other] <= min(pairs.loc[code, code],
                                                 pairs.loc[other, other])


def test_the_cli_offers_exactly_the_librarys_measures_and_units():
    from qcode.analysis.cooccur import COOCCUR_UNITS
    from qcode.analysis.counting import MEASURES
    from qcode.cli.options import CooccurUnit, Measure

    assert [m.value for m in Measure] == list(MEASURES)
    assert [u.value for u in CooccurUnit] == list(COOCCUR_UNITS)


def test_titles_say_what_a_case_is(cli, units):
    md = cli("matrix", "--by", "model", "--measure", "cases-pct", "--min-documents", "2",
             "-c", "a", "-f", "md").stdout
    assert "case: school, at least 2 transcripts" in md.splitlines()[0]
    assert "| ownership | Staff ownership | 50 | 0 |" in md  # Voss, one of 2 mature
