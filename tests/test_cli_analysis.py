"""The counting commands through the CLI: formats agree, files are safe, errors are clear."""

from __future__ import annotations

import csv
import io
import json
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode import Project


def csv_cells(text):
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    return {(row[0], header[i]): float(v) for row in rows[1:] for i, v in enumerate(row)
            if i and v not in ("", "0")}


def test_matrix_csv_is_wide_with_code_first(cli, coded):
    result = cli("matrix", "--by", "school", "--coder", "a")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "code,Lier,Strinda,Voss"
    assert lines[4] == "ownership,0,0,2"
    assert len(lines) == 8  # header + every code, zero rows included, no total
    assert lines[-1] == "n_transcripts,1,1,1"  # each column's size, a footer row


def test_two_attributes_use_a_pipe_in_csv(cli, coded):
    result = cli("matrix", "--by", "school,informant_group", "-c", "a")
    assert result.stdout.splitlines()[0] == (
        "code,Lier|teacher,Strinda|coordinator,Voss|principal")


def test_json_is_tidy_long_form(cli, coded):
    result = cli("matrix", "--by", "school,informant_group", "-c", "a", "-f", "json",
                 "--measure", "documents")
    records = json.loads(result.stdout)
    assert {"code": "ownership", "label": "Staff ownership", "parent": None, "school": "Voss",
            "informant_group": "principal", "documents": 1, "n_transcripts": 1} in records
    assert all(r["documents"] for r in records)  # one record per non-empty cell


def test_csv_json_and_xlsx_of_one_matrix_agree(cli, coded, project_dir):
    from openpyxl import load_workbook

    args = ["matrix", "--by", "informant_group", "--all-coders", "--measure", "documents-pct",
            "--rollup"]
    from_csv = csv_cells(cli(*args, "-f", "csv").stdout)
    sizes = {key: from_csv.pop(key) for key in list(from_csv) if key[0] == "n_transcripts"}
    assert sizes == {("n_transcripts", g): 1.0 for g in ("coordinator", "principal", "teacher")}
    from_json = {(r["code"], r["informant_group"]): float(r["documents-pct"])
                 for r in json.loads(cli(*args, "-f", "json").stdout)}
    out = project_dir.root / "m.xlsx"
    assert cli(*args, "-o", str(out)).exit_code == 0  # format from the suffix
    book = load_workbook(out)
    sheet = book["matrix"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert rows[-1] == ("n_transcripts", None, 1, 1, 1)
    from_xlsx = {(row[0], header[i]): float(v) for row in rows[1:-1] for i, v in enumerate(row)
                 if i > 1 and v}
    assert from_csv == from_json == from_xlsx
    assert from_csv  # not vacuous
    assert header[:2] == ("code", "label") and sheet["A1"].font.bold
    assert sheet.freeze_panes == "C2"
    segments = list(book["segments"].iter_rows(values_only=True))
    assert segments[0][:3] == ("code", "label", "transcript") and len(segments) > 1


def test_xlsx_needs_an_output_file_and_files_are_never_overwritten(cli, coded, project_dir):
    result = cli("matrix", "--by", "school", "-c", "a", "-f", "xlsx")
    assert result.exit_code == 2 and "-o FILE.xlsx" in result.stderr
    target = project_dir.root / "out.csv"
    target.write_text("mine")
    again = cli("matrix", "--by", "school", "-c", "a", "-o", str(target))
    assert again.exit_code == 1 and "--force" in again.stderr
    assert target.read_text() == "mine"
    forced = cli("matrix", "--by", "school", "-c", "a", "-o", str(target), "--force")
    assert forced.exit_code == 0 and target.read_text().startswith("code,")


def test_plot_writes_png_and_svg(cli, coded, project_dir):
    png = project_dir.root / "exports" / "m.png"
    svg = project_dir.root / "c.svg"
    assert cli("matrix", "--by", "school", "-c", "a", "--plot", str(png)).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli("cooccur", "-c", "a", "--plot", str(svg)).exit_code == 0
    assert "<svg" in svg.read_text()
    bad = cli("matrix", "--by", "school", "-c", "a", "--plot", str(project_dir.root / "x.gif"))
    assert bad.exit_code == 2


def test_tsv_md_html_and_totals(cli, coded):
    tsv = cli("matrix", "--by", "school", "-c", "a", "-f", "tsv", "--totals").stdout
    assert tsv.splitlines()[0] == "code\tLier\tStrinda\tVoss\tTOTAL"
    assert tsv.splitlines()[-2:] == ["TOTAL\t3\t2\t3\t8", "n_transcripts\t1\t1\t1\t3"]
    md = cli("matrix", "--by", "school", "-c", "a", "-f", "md").stdout
    assert "| ownership | Staff ownership | 0 | 0 | 2 |" in md
    assert "| code | label | Lier (n=1) | Strinda (n=1) | Voss (n=1) |" in md
    html = cli("matrix", "--by", "school", "-c", "a", "-f", "html").stdout
    assert html.startswith("<!DOCTYPE html>")  # the report's matrix section (test_one_renderer)
    assert '<th scope="row">Staff ownership <code>ownership</code></th>' in html


def test_table_format_renders_for_people(cli, coded):
    result = cli("matrix", "--by", "school", "-c", "a", "-f", "table")
    assert result.exit_code == 0
    assert "ownership" in result.stdout and "Voss" in result.stdout


def test_several_coders_need_a_scope(cli, coded):
    result = cli("matrix", "--by", "school")
    assert result.exit_code == 2
    assert "2 coders (a, b)" in result.stderr and "--all-coders" in result.stderr


def test_freq_and_cooccur_json(cli, coded):
    freq = json.loads(cli("freq", "--all-coders", "-f", "json").stdout)
    weak = next(r for r in freq if r["code"] == "lead-weak")
    assert (weak["segments"], weak["documents"], weak["coders"]) == (3, 3, 2)
    pairs = json.loads(cli("cooccur", "-c", "a", "-f", "json").stdout)
    assert {"code": "lead-strong", "label": "Strong anchoring", "other": "ownership",
            "other_label": "Staff ownership", "count": 1} in pairs
    table = cli("freq", "-c", "a", "-f", "table", "--by", "school")
    assert table.exit_code == 0 and "segments" in table.stdout


def test_segments_md_groups_by_code_then_attribute(cli, coded):
    md = cli("segments", "lead-weak", "ownership", "-c", "a", "--by", "school", "-f", "md").stdout
    order = [line for line in md.splitlines() if line.startswith("#")]
    assert order == ["# Fixture study: coded segments of lead-weak, ownership (coders: a; "
                     "3 transcripts)", "## Weak anchoring (`lead-weak`)",
                     "### school: Lier", "### school: Strinda", "## Staff ownership (`ownership`)",
                     "### school: Voss"]
    assert "> Koordinator: Jeg gjør det meste alene" in md
    assert "— strinda-coordinator, passage 1 (Koordinator); coded by a" in md


def test_segments_csv_json_and_html(cli, coded):
    rows = list(csv.DictReader(io.StringIO(cli("segments", "personal", "--all-coders").stdout)))
    assert [r["passage"] for r in rows] == ["2", "2", "3"]
    assert rows[0]["school"] == "Lier"
    data = json.loads(cli("segments", "--codes", "outcomes", "-c", "a", "-f", "json").stdout)
    assert {r["code"] for r in data} == {"outcomes", "personal"}
    html = cli("segments", "personal", "-c", "a", "-f", "html").stdout
    assert "<blockquote>" in html and "&lt;" not in html.split("<body>")[0]


def test_query_cli(cli, coded):
    result = cli("query", "ownership & !lead-strong", "-c", "a", "-f", "json")
    data = json.loads(result.stdout)
    assert [(r["transcript"], r["passage"]) for r in data] == [("voss-principal", 4)]
    bad = cli("query", "ownership &", "-c", "a")
    assert bad.exit_code == 2 and "ends too early" in bad.stderr


def test_where_on_the_cli(cli, coded):
    out = cli("matrix", "--by", "school", "-c", "a", "--where", "informant_group=teacher")
    assert out.stdout.splitlines()[0] == "code,Lier"


# -- laws -------------------------------------------------------------------------------------

spans = st.lists(st.tuples(st.sampled_from(["voss-principal", "lier-teacher",
                                            "strinda-coordinator"]),
                           st.integers(1, 3),
                           st.sampled_from(["lead-strong", "lead-weak", "ownership", "outcomes",
                                            "personal"]),
                           st.sampled_from(["a", "b"])), max_size=25)


@given(spans)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_documents_never_exceed_transcripts_and_rollup_never_decreases(project_dir, tmp_path,
                                                                       codings):
    root = tmp_path / f"p{abs(hash(tuple(codings)))}"
    shutil.copytree(project_dir.root, root)
    project = Project.open(root)
    for transcript, passage, code, coder in codings:
        project.tag(transcript, passage, [code], coder)
    project = Project.open(root)
    if not project.coders:
        return
    docs = project.matrix("school", measure="documents", all_coders=True)
    assert (docs.sum(axis=1) <= len(project.transcripts)).all()
    for measure in ("segments", "documents", "words"):
        plain = project.matrix("school", measure=measure, all_coders=True)
        rolled = project.matrix("school", measure=measure, all_coders=True, rollup=True)
        assert (rolled.to_numpy() >= plain.to_numpy()).all()
