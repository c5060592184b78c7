"""``qcode report`` as a Word document (python-docx, imported only when one is made).

The same model and the same sections as the HTML (``qcode.render.report_html``): each
section a Heading 1, its parts Heading 2 and below, tables as real Word tables (style
"Table Grid") whose header row repeats on every page and whose rows are never split,
heat cells shaded with the number printed, quotes in the built-in "Quote" style.
Every piece of project text goes through ``_text``: control characters shown as in the
HTML (ESC as ␛), so that nothing XML cannot hold ever reaches python-docx, which refuses
it. A formula such as ``=cmd|...`` is plain text: Word does not evaluate a run of text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qcode.analysis.report import (
    AgreementSection,
    AppendixTranscript,
    CodebookEntry,
    CodeQuotes,
    CooccurSection,
    Cover,
    MatrixSection,
    MemoEntry,
    MethodNotes,
    Report,
    SaturationSection,
)
from qcode.format.text import printable
from qcode.render.labels import attribute_label, value_label
from qcode.render.report_html import (
    MEASURE_WORDS,
    bootstrap_note,
    framework_caption,
    framework_heading,
    interval_headings,
    interval_text,
    legend_steps,
    matrix_heading,
    number_text,
    shade,
)
from qcode.render.tables import CHANGED_MARK, DISPLAY_SEPARATOR

if TYPE_CHECKING:  # pragma: no cover
    from docx.document import Document
    from docx.table import Table

    from qcode.analysis.framework import FrameworkMatrix

# The HTML's blues (same steps), as cell fills; the top step takes white text.
FILLS = {0: "FFFFFF", 1: "EFF3FF", 2: "C6DBEF", 3: "9ECAE1", 4: "6BAED6", 5: "2171B5"}
# Not control characters, so ``printable`` keeps them, but XML 1.0 cannot hold them.
_NOT_XML = str.maketrans({0xFFFE: "\ufffd", 0xFFFF: "\ufffd"})


def _text(value: Any) -> str:
    """Project text as Word text: control characters shown (ESC as ␛), never sent."""
    return printable("" if value is None else str(value)).translate(_NOT_XML)


def render_report_docx(report: Report) -> bytes:
    """The whole report as the bytes of one .docx file."""
    from docx import Document as new_document

    document = new_document()
    document.core_properties.title = _text(report.cover.title)
    document.core_properties.author = "qcode"
    _heading(document, _text(report.cover.title), level=0)
    sections: list[tuple[str, Any]] = [
        ("About this report", lambda: _cover(document, report.cover, report.notes)),
        ("Codebook", lambda: _codebook(document, report.codebook))]
    for matrix in report.matrices:
        heading = matrix_heading(matrix)
        sections.append((heading, lambda m=matrix, h=heading: _matrix(document, m, h)))
    sections.append(("Codes that occur together",
                     lambda: _cooccurrence(document, report.cooccurrence)))
    if report.saturation is not None:
        curve = report.saturation
        sections.append(("Saturation", lambda: _saturation(document, curve)))
    if report.framework is not None:
        themes = report.framework
        sections.append((framework_heading(themes), lambda: _framework(document, themes)))
    if report.quotes_per_code > 0:
        sections.append(("Quotes", lambda: _quotes(document, report.quotes,
                                                   report.quotes_by)))
    if report.agreement is not None:
        agreement = report.agreement
        sections.append(("Intercoder agreement", lambda: _agreement(document, agreement)))
    if report.memos:
        sections.append(("Memos", lambda: _memos(document, report.memos)))
    sections.append(("Method notes", lambda: _method(document, report.method)))
    if report.transcripts:
        sections.append(("Appendix: transcripts",
                         lambda: _appendix(document, report.transcripts)))
    # The contents as a list of the section titles: a TOC field would be empty until
    # Word updates it, and LibreOffice and other readers may never do so.
    _heading(document, "Contents", level=1)
    for heading, _ in sections:
        _styled(document, "List Number", _text(heading))
    for heading, write in sections:
        _heading(document, _text(heading), level=1)
        write()
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# -- parts ----------------------------------------------------------------------------------------

def _table(document: Document, caption: str, header: Sequence[str],
           rows: Sequence[Sequence[str]], numeric_from: int = 1) -> Table:
    """A Word table under a bold caption: the header row repeated on each page, no row
    split across pages; cells from column ``numeric_from`` on right-aligned."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document.add_paragraph().add_run(_text(caption)).bold = True
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        keep = OxmlElement("w:cantSplit")
        keep.set(qn("w:val"), "true")
        properties.append(keep)
        if index == 0:
            repeat = OxmlElement("w:tblHeader")
            repeat.set(qn("w:val"), "true")
            properties.append(repeat)
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(_text(text)).bold = True
    for row, values in zip(table.rows[1:], rows, strict=True):
        for column, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
            paragraph = cell.paragraphs[0]
            paragraph.add_run(_text(text))
            if column >= numeric_from:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return table


def _fill(step: int) -> Any:
    """A ``w:shd`` element with the step's colour (for a cell's or a run's properties)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fill = OxmlElement("w:shd")
    fill.set(qn("w:val"), "clear")
    fill.set(qn("w:color"), "auto")
    fill.set(qn("w:fill"), FILLS[step])
    return fill


def _white() -> Any:
    from docx.shared import RGBColor

    return RGBColor(0xFF, 0xFF, 0xFF)


def _shade(cell: Any, step: int) -> None:
    cell._tc.get_or_add_tcPr().append(_fill(step))
    if step == max(FILLS):
        for run in cell.paragraphs[0].runs:
            run.font.color.rgb = _white()


def _styled(document: Document, style: str, text: str = "") -> Any:
    """A paragraph in a style of python-docx's default template. The style id is set
    directly: python-docx looks a style name up anew for every paragraph, which took most
    of the time on the bundled study (the default template's ids are the names without
    spaces)."""
    paragraph = document.add_paragraph()
    paragraph._p.style = style.replace(" ", "")
    if text:
        paragraph.add_run(text)
    return paragraph


def _heading(document: Document, text: str, level: int) -> Any:
    return _styled(document, "Title" if level == 0 else f"Heading {level}", text)


def _facts(document: Document, facts: Sequence[tuple[str, str]]) -> None:
    for name, value in facts:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{name}: ").bold = True
        paragraph.add_run(_text(value))


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


# -- sections -------------------------------------------------------------------------------------

def _cover(document: Document, cover: Cover, notes: list[str]) -> None:
    _facts(document, [
        ("Project", cover.project),
        ("Codebook", f"{cover.codebook_name}, version {cover.codebook_version}"),
        ("Coders", f"{', '.join(cover.coders) or 'none'} ({cover.coders_rule})"),
        ("Transcripts", f"{cover.transcripts} in scope"),
        ("Scope", "where " + " and ".join(cover.where) if cover.where else "all transcripts"),
        ("Date", cover.date or "—"),
        ("qcode", cover.version),
        ("Made by", cover.command)])
    for count in cover.attributes:
        name = attribute_label(count.attribute)
        _table(document, f"Transcripts per {name.lower()} ({count.attribute})",
               [name, "Transcripts"], [[value_label(v), str(n)] for v, n in count.values])
    for line in notes:
        _styled(document, "List Bullet", _text(line))


def _codebook(document: Document, entries: list[CodebookEntry]) -> None:
    for entry in entries:
        kind = "" if entry.codable else " (group, not coded)"
        _heading(document, _text(f"{entry.label} {entry.id}{kind}"),
                             level=min(2 + entry.depth, 5))
        facts = [(name, value) for name, value in (("Definition", entry.description),
                                                   ("Include", entry.include),
                                                   ("Exclude", entry.exclude)) if value]
        if entry.examples:
            facts.append(("Examples", "\n".join(f"“{e}”" for e in entry.examples)))
        facts.append(("Counted", f"{entry.segments} segments in {entry.documents} "
                                 "transcripts (its own codings)"))
        _facts(document, facts)


def _matrix(document: Document, matrix: MatrixSection, heading: str) -> None:
    header = ["Code"]
    for index, column in enumerate(matrix.columns):
        name = DISPLAY_SEPARATOR.join(value_label(v) for v in column)
        size = f"\nn={matrix.column_n[index]}" if index < len(matrix.column_n) else ""
        header.append(f"{name}{size}")
    n_name = "cases" if matrix.n_label == "n_cases" else "transcripts"
    sums = any(r.is_sum for r in matrix.rows)
    caption = (f"{heading}: {MEASURE_WORDS.get(matrix.measure, matrix.measure)} "
               f"(n = {n_name} per column{'; Σ rows are sums of their sub-codes' if sums else ''})")
    rows = [[("    " * min(r.depth, 3)) + ("Σ " if r.is_sum else "") + f"{r.label} {r.code}",
             *(number_text(v, matrix.percent) for v in r.values)] for r in matrix.rows]
    table = _table(document, caption, header, rows)
    for row, values in zip(table.rows[1:], matrix.rows, strict=True):
        if values.is_parent:
            for run in row.cells[0].paragraphs[0].runs:
                run.bold = True
        for cell, value in zip(row.cells[1:], values.values, strict=True):
            _shade(cell, shade(value, matrix.peak))
    _legend(document, matrix, sums)


def _legend(document: Document, matrix: MatrixSection, sums: bool) -> None:
    if matrix.peak <= 0:
        document.add_paragraph("No codings in scope: every cell is 0.")
        return
    beyond = " Σ rows above the top step take its shade." if sums else ""
    document.add_paragraph(
        "Shading (the number is always printed; the scale runs to the largest leaf cell, "
        f"{number_text(matrix.peak, matrix.percent)}).{beyond}")
    # One line of shaded runs, not a table: the HTML's legend is a list, not a table.
    paragraph = document.add_paragraph()
    for step, text in legend_steps(matrix):
        run = paragraph.add_run(f" {text} ")
        run._r.get_or_add_rPr().append(_fill(step))
        if step == max(FILLS):
            run.font.color.rgb = _white()
        paragraph.add_run(" ")


def _cooccurrence(document: Document, section: CooccurSection) -> None:
    if not section.pairs:
        document.add_paragraph("No two codes occur together in scope.")
        return
    _table(document, f"The {len(section.pairs)} pairs of codes with the most overlapping "
                     f"segments ({section.pairs_total} pairs in all)",
           ["Code", "With", "Segments"],
           [[f"{p.label} {p.code}", f"{p.other_label} {p.other}", str(p.count)]
            for p in section.pairs], numeric_from=2)


def _saturation(document: Document, section: SaturationSection) -> None:
    document.add_paragraph(
        _text(f"{section.codes} distinct codes; the last new code came at transcript "
              f"{section.last_new_position} of {section.transcripts} ({section.last_new}).")
        if section.last_new else "No codes used.")
    rows = [[str(r["position"]), str(r["transcript"]), _cell(r["codings"]),
             _cell(r["new"]), _cell(r["cumulative"]), number_text(r["share"], True),
             " ".join(r["new_codes"])] for r in section.rows]
    table = _table(document, f"New codes per transcript, in {section.order} order",
                   ["#", "Transcript", "Codings", "New", "Cumulative", "Share %",
                    "New codes"], rows, numeric_from=2)
    for row in table.rows[1:]:  # the new codes are words, not a number
        row.cells[-1].paragraphs[0].alignment = None


def _quotes(document: Document, sections: list[CodeQuotes], by: str | None) -> None:
    if not sections:
        document.add_paragraph("No coded segments in scope.")
        return
    for code in sections:
        _heading(document, _text(f"{code.label} {code.code} ({len(code.quotes)} of "
                                   f"{code.segments} segments)"), level=2)
        current: object = object()
        for quote in code.quotes:
            if by and quote.value != current:
                current = quote.value
                _heading(document, _text(f"{attribute_label(by)}: "
                                           f"{value_label(quote.value or '')}"), level=3)
            paragraph = _styled(document, "Quote")
            if quote.text_changed:
                paragraph.add_run(CHANGED_MARK + "\n").bold = True
            paragraph.add_run(_text(quote.text))
            speaker = f", {quote.speaker}" if quote.speaker else ""
            paragraph.add_run(_text(f"\n— {quote.transcript}, passage {quote.passage}"
                                    f"{speaker}")).italic = True


def _agreement(document: Document, section: AgreementSection) -> None:
    if section.note:
        document.add_paragraph(_text(f"Coders {', '.join(section.coders)}: no agreement "
                                     f"table ({section.note})."))
        return
    rows: list[list[str]] = []
    for values in section.rows:
        cells = [f"{values[1]} {values[0]}"]
        for name, value in zip(section.header[2:], values[2:], strict=True):
            if isinstance(value, float) and name.endswith(("kappa", "alpha")):
                cells.append(f"{value:.3f}")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(number_text(value, name.startswith("agreement_pct")))
            else:
                cells.append(str(value or ""))
        if section.intervals:
            cells += [interval_text(section.intervals[len(rows)][name])
                      for name in ("kappa", "alpha")]
        rows.append(cells)
    intervals = interval_headings(section) if section.intervals else []
    _table(document, f"Agreement of {', '.join(section.coders)} per code (unit: "
                     f"{section.unit}; {section.units} {section.unit}s in "
                     f"{section.transcripts} transcripts)",
           ["Code", *(h.replace("_", " ") for h in section.header[2:]), *intervals], rows)
    _facts(document, [(k.replace("_", " "), str(v)) for k, v in section.statistics.items()])
    if section.bootstrap:
        document.add_paragraph(_text(bootstrap_note(section)))
    if section.left_out:
        document.add_paragraph(_text("Left out, not coded by every coder: "
                                     + ", ".join(section.left_out)))


def _framework(document: Document, matrix: FrameworkMatrix) -> None:
    """A Word table, a row per value and a column per theme, each cell its quotes."""
    header = [attribute_label(matrix.rows_by),
              *(f"{t.label} {t.code}" for t in matrix.themes)]
    rows = []
    for row in matrix.rows:
        cells = [value_label(row)]
        for theme in matrix.themes:
            cell = matrix.cell(row, theme.code)
            cells.append("\n\n".join(
                [f"{len(cell.quotes)} of {cell.total}",
                 *(f"“{q['text']}” — {q['transcript']}, passage {q['passage']}"
                   for q in cell.quotes)]))
        rows.append(cells)
    table = _table(document, framework_caption(matrix), header, rows)
    for table_row in table.rows[1:]:  # quotes are text, not numbers
        for word_cell in table_row.cells[1:]:
            word_cell.paragraphs[0].alignment = None


def _appendix(document: Document, transcripts: list[AppendixTranscript]) -> None:
    for transcript in transcripts:
        _heading(document, _text(transcript.id), level=2)
        for passage in transcript.passages:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{passage.number} ").bold = True
            if passage.speaker:
                paragraph.add_run(_text(passage.speaker) + " ").italic = True
            paragraph.add_run(_text(passage.text))


def _memos(document: Document, memos: list[MemoEntry]) -> None:
    for memo in memos:
        _heading(document, _text(memo.about), level=2)
        by = f" by {memo.author}" if memo.author else ""
        when = f", {memo.updated}" if memo.updated else ""
        document.add_paragraph().add_run(_text(f"{memo.file}{by}{when}")).italic = True
        document.add_paragraph(_text(memo.text))


def _method(document: Document, method: MethodNotes) -> None:
    interviewers = (f"the turns of the interviewers ({', '.join(method.interviewers)}) are "
                    "never coded and are left out of the agreement units"
                    if method.interviewers else "no interviewer labels are declared")
    for line in [f"Segmentation: transcripts are divided into passages by "
                 f"{method.segmentation}; {interviewers}.", *method.counts,
                 f"Made with qcode {method.version}."]:
        _styled(document, "List Bullet", _text(line))
