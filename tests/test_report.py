"""``qcode report``: the model's numbers (equal to ``matrix`` and ``agree``), the HTML
(one file, no script, no request, anchors that resolve, accessible tables), hostile text
shown as text, the scope on the cover, and the time on the bundled study."""

import json
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from qcode import Project
from qcode.analysis.report import ReportOptions
from qcode.render.labels import attribute_label, value_label
from qcode.render.report_html import CSP, SHADES, render_report, shade


class Page(HTMLParser):
    """What the tests look at in a page: tags, ids, links, sources, CSP, table parts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.sources: list[str] = []
        self.csp: list[str] = []
        self.scopes: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        self.tags.append(tag)
        if "id" in values:
            self.ids.add(values["id"])
        if "href" in values:
            self.hrefs.append(values["href"])
        if "src" in values:
            self.sources.append(values["src"])
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp.append(values["content"])
        if tag == "th":
            self.scopes.append(values.get("scope", ""))

    def handle_data(self, data):
        self.text.append(data)


def model(project: Project, **options):
    return project.report(ReportOptions(**options))


def matrix_cells(cli, *args, cwd=None) -> dict[tuple[str, str], float]:
    result = cli("matrix", *args, "-f", "json", cwd=cwd)
    assert result.exit_code == 0, result.output
    by = args[args.index("--by") + 1]
    return {(r["code"], r[by]): next(v for k, v in r.items() if k not in
                                      ("code", "label", "parent", by, "n_transcripts",
                                       "n_cases"))
            for r in json.loads(result.stdout)}


def model_cells(section) -> dict[tuple[str, str], float]:
    return {(row.code, column[0]): value for row in section.rows
            for column, value in zip(section.columns, row.values, strict=True) if value}


# -- the model ------------------------------------------------------------------------------------

def test_the_matrix_is_counted_by_hand_on_the_fixture(coded):
    [section] = model(coded, by=["school"], coders=["a"]).matrices
    assert section.columns == [("Lier",), ("Strinda",), ("Voss",)]
    assert section.column_n == [1, 1, 1]
    rows = {row.code: row.values for row in section.rows}
    # leadership is a group folder: the sum of its sub-codes, rollup or not
    assert rows == {"leadership": [1, 1, 1], "lead-strong": [0, 0, 1],
                    "lead-weak": [1, 1, 0], "ownership": [0, 0, 2], "outcomes": [0, 1, 0],
                    "personal": [2, 0, 0]}
    assert section.peak == 2
    assert {row.code for row in section.rows if row.is_parent} == {"leadership", "outcomes"}
    assert {row.code for row in section.rows if row.is_sum} == {"leadership"}


def test_rollup_makes_parents_sums_left_out_of_the_scale(coded):
    [section] = model(coded, by=["school"], coders=["a"], rollup=True).matrices
    rows = {row.code: row.values for row in section.rows}
    assert rows["leadership"] == [1, 1, 1]   # lead-strong at Voss, lead-weak at Lier, Strinda
    assert rows["outcomes"] == [2, 1, 0]     # personal twice at Lier, outcomes at Strinda
    assert section.peak == 2                 # the leaves' largest cell
    assert {row.code for row in section.rows if row.is_sum} == {"leadership", "outcomes"}
    html = render_report(model(coded, by=["school"], coders=["a"], rollup=True))
    assert "Σ" in html and "Σ rows are sums of their sub-codes" in html


@pytest.mark.parametrize("measure", ["segments", "documents-pct", "cases"])
def test_every_matrix_number_is_the_matrix_commands(coded, cli, measure):
    report = model(coded, by=["school", "informant_group"], coders=["a"], measure=measure)
    for section in report.matrices:
        attribute = section.by[0]
        expected = matrix_cells(cli, "--by", attribute, "--coder", "a", "--measure", measure)
        assert model_cells(section) == expected


def test_the_codebook_counts_are_freqs(coded, cli):
    report = model(coded, coders=["a"])
    freq = json.loads(cli("freq", "--coder", "a", "-f", "json").stdout)
    assert [(e.id, e.segments, e.documents) for e in report.codebook] == [
        (r["code"], r["segments"], r["documents"]) for r in freq]


def test_agreement_is_agrees_json_when_several_coders_are_in_scope(coded, cli):
    assert model(coded, coders=["a"]).agreement is None
    section = model(coded, coders=["a", "b"]).agreement
    data = json.loads(cli("agree", "--coders", "a,b", "-f", "json").stdout)
    expected = [[r[h] for h in section.header] for r in [*data["codes"], data["overall"]]]
    assert section.rows == expected
    assert section.units == data["passages"] and section.unit == "passage"


def test_quotes_take_turns_across_the_first_by_values(coded):
    report = model(coded, by=["school"], coders=["a"], quotes=1)
    quotes = {q.code: q for q in report.quotes}
    assert [len(q.quotes) for q in report.quotes] == [1] * len(report.quotes)
    assert quotes["ownership"].segments == 2
    lead_weak = model(coded, by=["school"], coders=["a"], quotes=2).quotes
    [weak] = [q for q in lead_weak if q.code == "lead-weak"]
    assert [q.value for q in weak.quotes] == ["Lier", "Strinda"]
    assert weak.quotes[1].speaker == "Koordinator"
    none = model(coded, coders=["a"], quotes=0)
    assert none.quotes == [] and 'id="quotes"' not in render_report(none)


def test_the_cover_states_the_scope_and_the_values(coded):
    cover = model(coded, coders=["a"], where=["school=Voss,Lier"]).cover
    assert cover.transcripts == 2 and cover.where == ["school=Voss,Lier"]
    counts = {c.attribute: dict(c.values) for c in cover.attributes}
    assert counts["school"] == {"Lier": 1, "Voss": 1}
    assert counts["informant_group"] == {"coordinator": 0, "principal": 1, "teacher": 1}


# -- the HTML -------------------------------------------------------------------------------------

def check_page(html: str) -> Page:
    page = Page(html)
    assert page.csp == [CSP]
    assert "script" not in page.tags and "<script" not in html.lower()
    assert page.sources == []  # no image, frame or script to fetch
    assert page.hrefs and all(h.startswith("#") for h in page.hrefs)
    assert {h[1:] for h in page.hrefs} <= page.ids  # every link lands
    assert page.tags.count("table") == page.tags.count("caption")
    assert set(page.scopes) <= {"col", "row"} and "" not in page.scopes
    return page


def test_the_cli_writes_one_safe_html_file(cli, coded, project_dir):
    result = cli("report", "--coder", "a", "--where", "school=Voss")
    assert result.exit_code == 0, result.output
    html = (project_dir.root / "report.html").read_text()
    page = check_page(html)
    text = "".join(page.text)
    assert "where school=Voss" in text
    assert "qcode report -o report.html --coder a --where school=Voss" in text
    for heading in ("Codebook", "Codes by School", "Codes by Informant group", "Quotes",
                    "Saturation", "Method notes"):
        assert heading in text
    assert "@media print" in html and "thead{display:table-header-group}" in html
    again = cli("report", "--coder", "a")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert cli("report", "--coder", "a", "--force").exit_code == 0


def test_the_saturation_curve_is_drawn_inline(cli, coded, project_dir):
    from defusedxml import ElementTree

    assert cli("report", "--coder", "a").exit_code == 0
    html = (project_dir.root / "report.html").read_text()
    check_page(html)  # inline SVG fetches nothing: the CSP and the no-source rule hold
    assert html.count("<svg") == 1 and "<?xml" not in html
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img" and "Distinct codes so far" in root.get("aria-label")


def test_unknown_by_is_refused_with_a_suggestion(cli, coded):
    result = cli("report", "--coder", "a", "--by", "schol")
    assert result.exit_code != 0 and "did you mean 'school'" in result.stderr


def test_hostile_text_is_shown_as_text(project_dir, cli):
    script, formula, escape = "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "\x1b[2J"
    project_dir.replace("codebooks/codes.yaml", "label: Staff ownership",
                        "label: \"<b>bold</b> & co\"")
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        f"Rektor: {script} {formula} {escape} Vi hadde")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="memo <i>x</i>")
    result = cli("report", "--coder", "a", "--quotes", "5", "-o", "hostile.html")
    assert result.exit_code == 0, result.output
    html = (project_dir.root / "hostile.html").read_text()
    page = check_page(html)
    assert "b" not in page.tags and "i" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    text = "".join(page.text)
    assert formula in text and "␛[2J" in text and "\x1b" not in html


def test_labels_for_people():
    assert attribute_label("informant_group") == "Informant group"
    assert value_label("department_manager") == "department manager"
    assert value_label("Voss") == "Voss"


@given(st.floats(-10, 1000, allow_nan=False), st.floats(0.1, 1000, allow_nan=False))
def test_shade_is_zero_only_for_nothing_and_grows_with_the_value(value, peak):
    step = shade(value, peak)
    assert (step == 0) == (value <= 0)
    assert 0 <= step <= SHADES
    assert shade(value + peak / SHADES, peak) >= step
    if 0 < value <= peak:
        assert (step - 1) * peak / SHADES < value * (1 + 1e-9)


# -- the bundled study ----------------------------------------------------------------------------

def test_the_bundled_studys_report_answers_as_matrix_and_agree_do(cli, tmp_path):
    project = Project.open(REPO)
    report = project.report(ReportOptions())  # its time is measured by bench/run.py
    html = render_report(report)
    assert [m.by for m in report.matrices] == [["school"], ["informant_group"], ["format"],
                                               ["participants"]]
    for section in report.matrices[:2]:
        assert model_cells(section) == matrix_cells(cli, "--by", section.by[0], cwd=REPO)
    page = check_page(html)
    text = "".join(page.text)
    assert "Informant group" in text and "department manager" in text
    agreement = project.report(ReportOptions(coders=["coder-a", "coder-b"],
                                             by=["school"])).agreement
    data = json.loads(cli("agree", "--coders", "coder-a,coder-b", "-f", "json",
                          cwd=REPO).stdout)
    assert agreement.rows[-1] == [data["overall"][h] for h in agreement.header]
    assert len(agreement.rows) == len(data["codes"]) + 1


def test_the_report_command_on_the_bundled_study(cli, tmp_path):
    out = tmp_path / "study.html"
    result = cli("report", "-o", str(out), cwd=REPO)
    assert result.exit_code == 0, result.output
    check_page(out.read_text())


# -- the framework matrix, agreement intervals, the transcripts appendix ---------------------------

def test_every_framework_cell_is_the_framework_commands(coded, cli):
    report = model(coded, by=["school"], coders=["a"], quotes=2)
    # the top-level families in scope: leadership and outcomes stand for their children
    assert [t.code for t in report.framework.themes] == [
        "lead-strong", "lead-weak", "ownership", "outcomes", "personal"]
    data = json.loads(cli("framework", "--rows", "school", "--codes",
                          "leadership,ownership,outcomes", "--coder", "a", "--quotes", "2",
                          "-f", "json").stdout)
    assert report.framework.to_dict() == data
    chosen = model(coded, by=["school"], coders=["a"], codes=["leadership"]).framework
    assert [t.code for t in chosen.themes] == ["lead-strong", "lead-weak"]
    assert chosen.cell("Lier", "lead-weak").total == 1
    assert model(coded, coders=["a"], quotes=0).framework is None


def test_the_framework_is_a_table_of_escaped_quotes(coded):
    report = model(coded, by=["school"], coders=["a"], quotes=2)
    html = render_report(report)
    page = check_page(html)
    assert 'id="framework"' in html and "Framework matrix: School × themes" in "".join(page.text)
    start = html.index('<section id="framework"')
    section = html[start:html.index("</section>", start)]
    for row in report.framework.rows:
        for theme in report.framework.themes:
            for quote in report.framework.cell(row, theme.code).quotes:
                assert _escaped(quote["text"]) in section


def _escaped(text: str) -> str:
    import html as html_module

    return html_module.escape(text).replace("\n", "<br>\n")


def test_agreement_intervals_are_agree_ci_95s(coded, cli):
    section = model(coded, coders=["a", "b"]).agreement
    data = json.loads(cli("agree", "--coders", "a,b", "--ci", "95", "-f", "json").stdout)
    records = [*data["codes"], data["overall"]]
    assert len(section.intervals) == len(records)
    for found, record in zip(section.intervals, records, strict=True):
        for short, name in (("kappa", "cohen_kappa"), ("alpha", "krippendorff_alpha")):
            low, high = record[f"{name}_ci_low"], record[f"{name}_ci_high"]
            assert found[short] == (None if low is None else (low, high))
    assert section.bootstrap["seed"] == data["bootstrap"]["seed"]
    assert section.bootstrap["resamples"] == data["bootstrap"]["resamples"]
    html = render_report(model(coded, coders=["a", "b"]))
    assert "κ 95 % CI" in html and "α 95 % CI" in html and "bootstrap resamples" in html


def test_quotes_link_to_the_transcripts_appendix(cli, coded, project_dir):
    assert cli("report", "--coder", "a", "--quotes", "5", "--transcripts").exit_code == 0
    html = (project_dir.root / "report.html").read_text()
    page = check_page(html)  # every link lands on an id of the page
    links = [h for h in page.hrefs if h.startswith("#t-")]
    report = model(coded, coders=["a"], quotes=5, transcripts=True)
    quotes = [q for code in report.quotes for q in code.quotes]
    assert len(links) == len(quotes) > 0
    assert links[0] == f"#t-{quotes[0].transcript}-p{quotes[0].passage}"
    assert {"t-voss-principal", "t-lier-teacher", "t-strinda-coordinator"} <= page.ids
    passages = Project.open(project_dir.root).transcript("voss-principal").passages
    assert {f"t-voss-principal-p{p.number}" for p in passages} <= page.ids
    assert "--transcripts" in "".join(page.text)  # the command on the cover
    plain = render_report(model(coded, coders=["a"], quotes=5))
    assert 'href="#t-' not in plain and 'id="transcripts"' not in plain


def test_hostile_transcript_text_is_escaped_in_the_appendix(project_dir, cli):
    script = "<script>alert(1)</script>"
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        f"Rektor: {script} <img src=x> Vi hadde")
    result = cli("report", "--transcripts", "-o", "hostile.html")
    assert result.exit_code == 0, result.output
    html = (project_dir.root / "hostile.html").read_text()
    page = check_page(html)
    appendix = html[html.index('<section id="transcripts"'):]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x&gt;" in appendix
    assert "img" not in page.tags and "script" not in page.tags


def test_the_bundled_studys_framework_and_intervals(cli):
    project = Project.open(REPO)
    report = project.report(ReportOptions(by=["school"], coders=["coder-a", "coder-b"],
                                          quotes=1))
    families = [t.code for t in report.framework.themes]
    data = json.loads(cli("framework", "--rows", "school", "--codes",
                          ",".join(dict.fromkeys(_roots(project, families))), "--coder",
                          "coder-a", "--coder", "coder-b", "--quotes", "1", "-f", "json",
                          cwd=REPO).stdout)
    assert report.framework.to_dict()["cells"] == data["cells"]
    agree = json.loads(cli("agree", "--coders", "coder-a,coder-b", "--ci", "95", "-f",
                           "json", cwd=REPO).stdout)["overall"]
    assert report.agreement.intervals[-1]["alpha"] == (
        agree["krippendorff_alpha_ci_low"], agree["krippendorff_alpha_ci_high"])


def _roots(project: Project, codes: list[str]) -> list[str]:
    codebook = project.corpus.codebook
    return [(codebook.ancestors(c) or [c])[-1] for c in codes]
