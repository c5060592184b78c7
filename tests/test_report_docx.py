"""``qcode report`` as DOCX, opened with python-docx: the same section headings, tables
and quotes as the HTML of the same model, header rows that repeat, shaded heat cells,
hostile text written as text, the format chosen by -o's suffix, and the bundled study."""

import io
from html.parser import HTMLParser

import docx
import pytest
from docx.oxml.ns import qn

from conftest import REPO
from qcode import Project
from qcode.analysis.report import ReportOptions
from qcode.render.report_docx import FILLS, render_report_docx
from qcode.render.report_html import render_report, shade


class Outline(HTMLParser):
    """The HTML's headings (level, text), tables and blockquotes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str]] = []
        self.tables = self.quotes = 0
        self._heading: tuple[int, list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = (int(tag[1]), [])
        self.tables += tag == "table"
        self.quotes += tag == "blockquote"

    def handle_endtag(self, tag):
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], "".join(self._heading[1]).strip()))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._heading[1].append(data)


def open_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def headings(document) -> list[tuple[int, str]]:
    """(level, text) of every heading; the title is level 0."""
    out = []
    for paragraph in document.paragraphs:
        name = paragraph.style.name
        if name == "Title":
            out.append((0, paragraph.text))
        elif name.startswith("Heading "):
            out.append((int(name.split()[1]), paragraph.text))
    return out


def quotes(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == "Quote"]


def all_text(document) -> str:
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def same_outline(report):
    """The DOCX and the HTML of one model: Heading n is the HTML's h(n+1)."""
    document = open_docx(render_report_docx(report))
    html = Outline(render_report(report))
    words = headings(document)
    assert words[0] == (0, report.cover.title) and html.headings[0] == (1, report.cover.title)
    sections = [text for level, text in words if level == 1]
    assert sections == [text for level, text in html.headings if level == 2]
    # below the sections the wording differs (the HTML links "definition"), the shape not
    assert [level for level, _ in words] == [level - 1 for level, _ in html.headings]
    assert len(document.tables) == html.tables
    assert len(quotes(document)) == html.quotes
    return document


def header_repeats(table) -> bool:
    first = table.rows[0]._tr.trPr
    return first is not None and first.find(qn("w:tblHeader")) is not None


def fill(cell) -> str | None:
    shading = cell._tc.tcPr.find(qn("w:shd"))
    return None if shading is None else shading.get(qn("w:fill"))


# -- the fixture ----------------------------------------------------------------------------------

def test_the_docx_has_the_htmls_sections_tables_and_quotes(coded):
    report = coded.report(ReportOptions(by=["school"], coders=["a", "b"], quotes=2,
                                        transcripts=True))
    document = same_outline(report)
    sections = [text for level, text in headings(document) if level == 1]
    assert sections == ["Contents", "About this report", "Codebook", "Codes by School",
                        "Codes that occur together", "Saturation",
                        "Framework matrix: School × themes", "Quotes",
                        "Intercoder agreement", "Method notes", "Appendix: transcripts"]
    # the contents: the section titles as a numbered list
    listed = [p.text for p in document.paragraphs if p.style.name == "List Number"]
    assert listed == sections[1:]
    assert all(header_repeats(table) for table in document.tables)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None
               for table in document.tables for row in table.rows)
    assert all(t.style.name == "Table Grid" for t in document.tables)


def test_heat_cells_are_shaded_with_their_number(coded):
    report = coded.report(ReportOptions(by=["school"], coders=["a"]))
    [section] = report.matrices
    document = open_docx(render_report_docx(report))
    [table] = [t for t in document.tables if t.rows[0].cells[0].text == "Code"
               and "Lier" in t.rows[0].cells[1].text]
    assert [c.text for c in table.rows[0].cells] == ["Code", "Lier\nn=1", "Strinda\nn=1",
                                                     "Voss\nn=1"]
    for row, model_row in zip(table.rows[1:], section.rows, strict=True):
        assert row.cells[0].text.strip().endswith(f"{model_row.label} {model_row.code}")
        for cell, value in zip(row.cells[1:], model_row.values, strict=True):
            assert cell.text == str(value)
            assert fill(cell) == FILLS[shade(value, section.peak)]
    # ownership: 2 at Voss, the peak, the darkest step; personal 2 at Lier too
    rows = {r.cells[0].text.strip(): r for r in table.rows[1:]}
    assert fill(rows["Staff ownership ownership"].cells[3]) == FILLS[5]
    assert rows["Σ Leadership leadership"].cells[1].text == "1"  # a group folder: a sum
    text = all_text(document)
    assert "Σ rows are sums of their sub-codes" in text
    assert "the scale runs to the largest leaf cell, 2" in text


def test_quotes_carry_transcript_and_speaker(coded):
    report = coded.report(ReportOptions(by=["school"], coders=["a"], quotes=2))
    document = open_docx(render_report_docx(report))
    expected = [q for code in report.quotes for q in code.quotes]
    found = quotes(document)
    assert len(found) == len(expected)
    for text, quote in zip(found, expected, strict=True):
        assert f"— {quote.transcript}, passage {quote.passage}" in text
        if quote.speaker:
            assert text.endswith(f", {quote.speaker}")


def test_hostile_text_is_written_as_text(project_dir, cli):
    script, formula, escape = "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "\x1b[2J"
    project_dir.replace("codebooks/codes.yaml", "label: Staff ownership",
                        "label: \"<b>bold</b> & co\"")
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        f"Rektor: {script} {formula} {escape} \ufffe Vi hadde")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="memo <i>x</i>")
    result = cli("report", "--coder", "a", "--quotes", "5", "-o", "hostile.docx")
    assert result.exit_code == 0, result.output
    document = docx.Document(str(project_dir.root / "hostile.docx"))
    text = all_text(document)
    assert script in text and formula in text and "<b>bold</b> & co" in text
    assert "␛[2J" in text and "\x1b" not in text and "\ufffe" not in text
    [quote] = [q for q in quotes(document) if script in q]
    assert formula in quote and "voss-principal" in quote
    same_outline(project.report(ReportOptions(coders=["a"], quotes=5)))


# -- the command ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["-o", "r.docx"], ["--format", "docx", "-o", "r.docx"],
                                  ["-f", "docx", "-o", "r.docx"]])
def test_the_cli_writes_docx_by_suffix_or_format(cli, coded, project_dir, args):
    result = cli("report", "--coder", "a", *args)
    assert result.exit_code == 0, result.output
    data = (project_dir.root / "r.docx").read_bytes()
    assert data[:2] == b"PK"  # a zip: the .docx container
    assert [t for _, t in headings(open_docx(data))][:3] == [
        "Fixture study: coding report", "Contents", "About this report"]
    again = cli("report", "--coder", "a", *args)
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_an_unknown_suffix_is_refused(cli, coded, project_dir):
    result = cli("report", "--coder", "a", "-o", "r.pdf")
    assert result.exit_code == 2 and ".pdf" in result.stderr
    assert ".html" in result.stderr and ".docx" in result.stderr
    assert "Traceback" not in result.output and not (project_dir.root / "r.pdf").exists()


# -- the bundled study ----------------------------------------------------------------------------

def test_the_bundled_studys_docx_matches_its_html(cli, tmp_path):
    out = tmp_path / "study.docx"
    result = cli("report", "-o", str(out), cwd=REPO)
    assert result.exit_code == 0, result.output
    document = docx.Document(str(out))
    report = Project.open(REPO).report(ReportOptions())
    html = Outline(render_report(report))
    assert [t for level, t in headings(document) if level == 1] == [
        t for level, t in html.headings if level == 2]
    assert len(document.tables) == html.tables and len(quotes(document)) == html.quotes
    assert "Codes by Informant group" in [t for _, t in headings(document)]
    assert all(header_repeats(table) for table in document.tables)


# -- the framework matrix, intervals and the appendix ------------------------------------------------

def test_the_framework_is_a_word_table_of_the_models_quotes(coded):
    report = coded.report(ReportOptions(by=["school"], coders=["a"], quotes=2))
    matrix = report.framework
    document = open_docx(render_report_docx(report))
    [table] = [t for t in document.tables if t.rows[0].cells[0].text == "School"
               and len(t.rows[0].cells) == 1 + len(matrix.themes)]
    assert [c.text for c in table.rows[0].cells[1:]] == [
        f"{t.label} {t.code}" for t in matrix.themes]
    assert [r.cells[0].text for r in table.rows[1:]] == matrix.rows  # Lier, Strinda, Voss
    for row, value in zip(table.rows[1:], matrix.rows, strict=True):
        for cell, theme in zip(row.cells[1:], matrix.themes, strict=True):
            found = matrix.cell(value, theme.code)
            assert cell.text.startswith(f"{len(found.quotes)} of {found.total}")
            for quote in found.quotes:
                assert f"“{quote['text']}” — {quote['transcript']}, passage " \
                       f"{quote['passage']}" in cell.text


def test_agreement_intervals_and_the_appendix_in_word(coded, project_dir):
    report = coded.report(ReportOptions(by=["school"], coders=["a", "b"], transcripts=True))
    document = open_docx(render_report_docx(report))
    [table] = [t for t in document.tables if t.rows[0].cells[-1].text == "α 95 % CI"]
    assert table.rows[0].cells[-2].text == "κ 95 % CI"
    intervals = report.agreement.intervals
    for row, interval in zip(table.rows[1:], intervals, strict=True):
        expected = interval["alpha"]
        assert row.cells[-1].text == ("—" if expected is None else
                                      f"{expected[0]:.3f}–{expected[1]:.3f}")
    assert "2000 bootstrap resamples" in all_text(document)
    names = [t for level, t in headings(document) if level == 2]
    assert {"lier-teacher", "strinda-coordinator", "voss-principal"} <= set(names)
    body = Project.open(project_dir.root).transcript("lier-teacher").body
    text = all_text(document)
    assert all(line.strip() in text for line in body.splitlines() if line.strip())
