"""One renderer: ``matrix -f html`` is the report's matrix section as a page of its own
(same table markup for the same grid, the report's CSS and CSP), and every md/html title
of matrix, cooccur, segments and query states its scope."""

import re

from qcode.analysis.report import ReportOptions
from qcode.render.report_html import CSP


def table_markup(page: str) -> list[str]:
    return re.findall(r'<div class="scroll".*?</table></div>', page, re.S)


def section_of(page: str, anchor: str) -> str:
    return page[page.index(f'<section id="{anchor}"'):].split("</section>", 1)[0]


def test_matrix_html_is_the_reports_matrix_section(cli, coded, project_dir):
    args = ["--coder", "a", "--where", "school=Voss,Lier"]
    page = cli("matrix", "--by", "school", *args, "-f", "html").stdout
    assert cli("report", *args, "--by", "school", "-o", "r.html").exit_code == 0
    report = (project_dir.root / "r.html").read_text()
    [from_matrix] = table_markup(page)
    [from_report] = table_markup(section_of(report, "matrix-school"))
    assert from_matrix == from_report
    # leaves by hand: Voss has ownership twice, Lier none (school=Strinda is out of scope)
    assert ('<th scope="row">Staff ownership <code>ownership</code></th>'
            '<td class="n h0">0</td><td class="n h5">2</td></tr>') in from_matrix
    assert f'content="{CSP}"' in page and "<script" not in page


def test_rollup_and_measure_shade_the_same_in_both(cli, coded):
    rows = coded.report(ReportOptions(by=["school"], coders=["a"], rollup=True,
                                      measure="documents")).matrices[0]
    page = cli("matrix", "--by", "school", "-c", "a", "--rollup", "-m", "documents",
               "-f", "html").stdout
    from qcode.render.report_html import matrix_heading, matrix_table

    assert matrix_table(rows, matrix_heading(rows)) in page
    assert "Σ rows are sums of their sub-codes" in page


def test_the_totals_row_and_column_are_sums_off_the_scale(cli, coded):
    page = cli("matrix", "--by", "school", "-c", "a", "--totals", "-f", "html").stdout
    # leaf peak 2 (ownership in Voss): TOTAL's 3s and 8 take the top shade, not set it
    assert "the largest leaf cell, 2)" in page
    assert '<tr class="parent"><th scope="row"><span title=' in page.split("TOTAL")[-3]


def test_every_title_states_its_scope(cli, coded):
    where = ["--where", "school=Voss", "-c", "a"]
    for args in (["matrix", "--by", "informant_group"], ["cooccur"],
                 ["segments", "ownership"], ["query", "ownership | personal"]):
        for fmt in ("md", "html"):
            result = cli(*args, *where, "-f", fmt)
            assert result.exit_code == 0, result.output
            first = result.stdout.split("<h1", 1)[-1] if fmt == "html" else result.stdout
            title = first.splitlines()[0]
            assert "coders: a" in title and "where school=Voss" in title, (args, fmt, title)
    matrix_md = cli("matrix", "--by", "school", "-c", "a", "-m", "documents", "-f", "md").stdout
    assert matrix_md.startswith("**") and ": documents by school (" in matrix_md.splitlines()[0]


def test_the_bundled_study_matrix_page_has_one_shaded_table(cli):
    from conftest import REPO

    page = cli("matrix", "--by", "school", "--where", "informant_group=teacher",
               "-f", "html", cwd=REPO).stdout
    [table] = table_markup(page)
    assert "where informant_group=teacher" in page.split("<h1", 1)[1].split("</h1>")[0]
    # 8 schools, each column with its n
    assert table.count('<th scope="col">') == 9 and table.count("n=") == 8
    assert 'class="n h5"' in table and '<ul class="legend"' in page


def test_segments_html_is_the_reports_quotes_with_coders_and_memos(cli, coded, project_dir):
    """The same quote markup as the report's Quotes section, plus who coded each segment;
    no link to a codebook section that a page of quotes does not have."""
    page = cli("segments", "ownership", "-c", "a", "--by", "school", "-f", "html").stdout
    assert f'content="{CSP}"' in page and 'href="#' not in page
    # ownership by hand: voss-principal passages 2 and 4, coder a
    assert '(2 of 2 segments)</span></h3>\n<h4>School: Voss</h4>' in page
    assert page.count("<blockquote>") == 2 and page.count("; coded by a</cite>") == 2
    assert cli("report", "-c", "a", "--by", "school", "--codes", "ownership", "--quotes", "5",
               "-o", "r.html").exit_code == 0
    report = section_of((project_dir.root / "r.html").read_text(), "quotes")
    quotes = re.findall(r"<blockquote>.*?</blockquote>", report, re.S)
    assert [q.replace("; coded by a</cite>", "</cite>")
            for q in re.findall(r"<blockquote>.*?</blockquote>", page, re.S)] == quotes


def test_query_html_is_a_page_of_quotes(cli, coded):
    page = cli("query", "ownership | personal", "-c", "a", "-f", "html").stdout
    assert f'content="{CSP}"' in page
    assert "<h1 id=\"top\">" in page and "passages where ownership | personal" in page
    # voss-principal 2 and 4 (ownership), lier-teacher 2 and 3 (personal)
    assert page.count("<blockquote>") == 4
    empty = cli("query", "ownership & personal", "-c", "a", "-f", "html").stdout
    assert "No coded segments in scope." in empty
