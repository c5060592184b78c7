"""``qcode report`` as one self-contained HTML file.

No script, no external request: inline CSS only, and a Content-Security-Policy that
forbids anything else, so the file opens the same anywhere and cannot call out. Every
piece of project text goes through ``_text`` (escaped, control characters shown), every
id into an anchor through ``_slug``. Print CSS makes A4 pages: each section on a new
page, table headers repeated, no row cut in two.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qcode.analysis.report import (
    AgreementSection,
    AppendixTranscript,
    CodebookEntry,
    CodeQuotes,
    CooccurSection,
    Cover,
    MatrixRow,
    MatrixSection,
    MemoEntry,
    MethodNotes,
    Report,
    SaturationSection,
)
from qcode.format.text import printable
from qcode.render.labels import attribute_label, value_label
from qcode.render.tables import CHANGED_MARK, DISPLAY_SEPARATOR

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.framework import FrameworkMatrix
    from qcode.render.segment_memos import SegmentMemos

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SHADES = 5  # the heat scale's steps above zero

# Blues, each with a text colour of WCAG AA contrast (4.5:1 or more) on it.
_CSS = """
:root{--ink:#1a1a1a;--muted:#555;--rule:#c8c8c8}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);
 margin:0 auto;max-width:72rem;padding:1.5rem;line-height:1.45}
h1{font-size:1.8rem;margin:.2rem 0 1rem}h2{font-size:1.4rem;margin-top:2.5rem;
 border-bottom:2px solid var(--rule);padding-bottom:.2rem}h3{font-size:1.15rem}
a{color:#0b4f8a}a:focus-visible,.scroll:focus-visible{outline:3px solid #b35900;
 outline-offset:2px}
nav ol{columns:2;padding-left:1.4rem}nav li{margin:.15rem 0}
code,.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
th,td{border:1px solid var(--rule);padding:.25rem .5rem;vertical-align:top}
thead th{background:#f0f0f0;text-align:center}th[scope=row]{text-align:left;font-weight:normal}
td.n{text-align:right;font-variant-numeric:tabular-nums;min-width:2.5rem}
.small{font-size:.8em;color:var(--muted);font-weight:normal}
tr.parent th,tr.parent td{font-weight:700;border-top:2px solid #888}
.d1{padding-left:1.4rem!important}.d2{padding-left:2.4rem!important}
.d3{padding-left:3.4rem!important}
.h0{background:#fff;color:#595959}.h1{background:#eff3ff;color:#111}
.h2{background:#c6dbef;color:#111}.h3{background:#9ecae1;color:#111}
.h4{background:#6baed6;color:#000}.h5{background:#2171b5;color:#fff}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem;margin:.3rem 0}
ul.legend li{border:1px solid var(--rule);padding:.1rem .5rem;font-size:.85rem}
blockquote{border-left:4px solid #9ecae1;margin:.6rem 0;padding:.3rem .9rem;
 background:#f7f9fc}blockquote p{margin:0 0 .3rem}cite{color:var(--muted);font-size:.88em}
.changed{color:#8a1c1c;font-weight:600}
p.cellquote{margin:.4rem 0;min-width:14rem}
article.code{border-top:1px solid var(--rule);padding:.3rem 0}
pre.command{white-space:pre-wrap;background:#f4f4f4;padding:.4rem .6rem}
@media print{
 @page{size:A4;margin:15mm 12mm}
 body{max-width:none;padding:0;font-size:10pt}
 nav{break-after:page}section{break-before:page;page-break-before:always}
 section#cover{break-before:auto;page-break-before:auto}
 .scroll{overflow:visible}
 thead{display:table-header-group}
 tr,blockquote,article.code{break-inside:avoid;page-break-inside:avoid}
 h2,h3,h4{break-after:avoid;page-break-after:avoid}
 a{color:inherit;text-decoration:none}
 .h0,.h1,.h2,.h3,.h4,.h5{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
"""


def _text(value: Any) -> str:
    """Project text as HTML text: escaped, and its control characters shown (ESC as ␛)."""
    return html.escape(printable("" if value is None else str(value)))


def _lines(value: Any) -> str:
    return "<br>\n".join(_text(line) for line in str(value).split("\n"))


def _slug(*parts: str) -> str:
    """An anchor from ids: only [a-z0-9-] (code ids already are; attribute names may not)."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") or "x" for p in parts)


def number_text(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value:.1f}"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def shade(value: float, peak: float) -> int:
    """The heat step of a cell: 0 for nothing, else 1..SHADES in equal fifths of the
    peak; a value beyond the peak (a parent's sum) takes the top step."""
    if value <= 0 or peak <= 0:
        return 0
    return min(SHADES, max(1, math.ceil(SHADES * value / peak - 1e-9)))


def render_report(report: Report) -> str:
    """The whole report as one HTML document."""
    sections: list[tuple[str, str, str]] = [("cover", "About this report",
                                             _cover(report.cover, report.notes))]
    sections.append(("codebook", "Codebook", _codebook(report.codebook)))
    used: set[str] = set()
    for matrix in report.matrices:
        anchor = _unique(_slug("matrix", *matrix.by), used)
        heading = matrix_heading(matrix)
        sections.append((anchor, heading, matrix_table(matrix, heading)))
    sections.append(("cooccurrence", "Codes that occur together",
                     _cooccurrence(report.cooccurrence)))
    if report.saturation is not None:
        sections.append(("saturation", "Saturation", _saturation(report.saturation)))
    if report.framework is not None:
        sections.append(("framework", framework_heading(report.framework),
                         _framework(report.framework)))
    if report.quotes_per_code > 0:
        sections.append(("quotes", "Quotes", _quotes(report.quotes, report.quotes_by,
                                                     bool(report.transcripts))))
    if report.agreement is not None:
        sections.append(("agreement", "Intercoder agreement", _agreement(report.agreement)))
    if report.memos:
        sections.append(("memos", "Memos", _memos(report.memos)))
    sections.append(("method", "Method notes", _method(report.method)))
    if report.transcripts:
        sections.append(("transcripts", "Appendix: transcripts",
                         _appendix(report.transcripts)))
    toc = "\n".join(f'<li><a href="#{anchor}">{_text(heading)}</a></li>'
                    for anchor, heading, _ in sections)
    body = "\n".join(
        f'<section id="{anchor}" aria-labelledby="{anchor}-h">\n'
        f'<h2 id="{anchor}-h">{_text(heading)}</h2>\n{content}</section>'
        for anchor, heading, content in sections)
    nav = ('<nav aria-labelledby="contents-h"><h2 id="contents-h">Contents</h2>\n'
           f"<ol>\n{toc}\n</ol></nav>\n")
    return page(report.cover.title, f"{nav}<main>\n{body}\n</main>\n", report.method.version)


def page(title: str, body: str, version: str | None = None) -> str:
    """A standalone document around finished ``body`` HTML: the report's CSS and CSP, and
    ``title`` (project text, escaped here) as its title and first heading."""
    generator = (f'<meta name="generator" content="qcode {_text(version)}">\n'
                 if version else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{generator}<title>{_text(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><h1 id="top">{_text(title)}</h1></header>\n{body}</body>\n</html>\n')


def matrix_page(title: str, matrix: MatrixSection) -> str:
    """``qcode matrix -f html``: the report's matrix section as a page of its own, its
    table the report's markup exactly; ``title`` (with the scope) heads the page."""
    return page(title, matrix_table(matrix, matrix_heading(matrix)))


def matrix_heading(matrix: MatrixSection) -> str:
    """A matrix section's title (the DOCX report uses the same)."""
    return "Codes by " + " × ".join(attribute_label(a) for a in matrix.by)


def _unique(anchor: str, used: set[str]) -> str:
    candidate, n = anchor, 1
    while candidate in used:
        n += 1
        candidate = f"{anchor}-{n}"
    used.add(candidate)
    return candidate


def _table(caption: str, header: Sequence[str], rows: Iterable[str],
           label: str | None = None) -> str:
    """An accessible table in a scrolling region: ``header`` and ``caption`` as HTML,
    ``rows`` as finished ``<tr>``s (their first cell a ``<th scope="row">``)."""
    head = "".join(f'<th scope="col">{h}</th>' for h in header)
    region = f' role="region" tabindex="0" aria-label="{_text(label)}"' if label else ""
    return (f'<div class="scroll"{region}><table><caption>{caption}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody></table></div>\n")


def _row(label: str, cells: Iterable[str], css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f'<tr{klass}><th scope="row">{label}</th>{"".join(cells)}</tr>'


def _num(value: Any) -> str:
    return f'<td class="n">{_text("—" if value is None else value)}</td>'


# -- sections -----------------------------------------------------------------------------------

def _cover(cover: Cover, notes: list[str]) -> str:
    facts = [("Project", _text(cover.project)),
             ("Codebook", f"{_text(cover.codebook_name)}, version "
                          f"{_text(cover.codebook_version)}"),
             ("Coders", f"{_text(', '.join(cover.coders) or 'none')} "
                        f"<span class=\"small\">({_text(cover.coders_rule)})</span>"),
             ("Transcripts", f"{cover.transcripts} in scope"),
             ("Scope", _text("where " + " and ".join(cover.where)) if cover.where
              else "all transcripts"),
             ("Date", _text(cover.date or "—")),
             ("qcode", _text(cover.version))]
    out = ['<dl class="facts">']
    out += [f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts]
    out.append("</dl>")
    out.append(f'<p>Made by:</p>\n<pre class="command">{_text(cover.command)}</pre>')
    for count in cover.attributes:
        name = attribute_label(count.attribute)
        rows = [_row(_text(value_label(value)), [_num(n)]) for value, n in count.values]
        out.append(_table(f"Transcripts per {_text(name.lower())} "
                          f'<span class="id">({_text(count.attribute)})</span>',
                          [_text(name), "Transcripts"], rows))
    if notes:
        out.append("<ul>" + "".join(f"<li>{_text(n)}</li>" for n in notes) + "</ul>")
    return "\n".join(out) + "\n"


def _codebook(entries: list[CodebookEntry]) -> str:
    out = []
    for entry in entries:
        level = min(3 + entry.depth, 6)
        kind = "" if entry.codable else ' <span class="small">(group, not coded)</span>'
        out.append(f'<article class="code" id="{_slug("code", entry.id)}">'
                   f'<h{level}>{_text(entry.label)} <code>{_text(entry.id)}</code>{kind}'
                   f"</h{level}>")
        facts = []
        if entry.description:
            facts.append(("Definition", _lines(entry.description)))
        if entry.include:
            facts.append(("Include", _lines(entry.include)))
        if entry.exclude:
            facts.append(("Exclude", _lines(entry.exclude)))
        if entry.examples:
            facts.append(("Examples", "<br>\n".join(f"“{_text(e)}”" for e in entry.examples)))
        facts.append(("Counted", f"{entry.segments} segments in {entry.documents} "
                                  "transcripts (its own codings)"))
        out.append('<dl class="facts">' + "".join(f"<dt>{n}</dt><dd>{v}</dd>"
                                                  for n, v in facts) + "</dl></article>")
    return "\n".join(out) + "\n"


MEASURE_WORDS = {"segments": "coded segments", "documents": "transcripts with the code",
             "documents-pct": "% of the column's transcripts with the code",
             "words": "words coded", "cases": "cases with the code",
             "cases-pct": "% of the column's cases with the code"}


def matrix_table(matrix: MatrixSection, heading: str) -> str:
    """A matrix as a heat-shaded table with its legend (the report's section body)."""
    header = ["Code"]
    n_name = "cases" if matrix.n_label == "n_cases" else "transcripts"
    for index, column in enumerate(matrix.columns):
        name = _text(DISPLAY_SEPARATOR.join(value_label(v) for v in column if v))
        size = (f'<br><span class="small">n={matrix.column_n[index]}</span>'
                if index < len(matrix.column_n) else "")
        header.append(f"{name}{size}")
    rows = [_matrix_row(row, matrix) for row in matrix.rows]
    what = MEASURE_WORDS.get(matrix.measure, matrix.measure)
    caption = (f"{_text(heading)}: {_text(what)}"
               f'<span class="small"> (n = {n_name} per column'
               f'{"; Σ rows are sums of their sub-codes" if any(r.is_sum for r in matrix.rows) else ""})</span>')
    return _table(caption, header, rows, heading) + _legend(matrix)


def _matrix_row(row: MatrixRow, matrix: MatrixSection) -> str:
    depth = f"d{min(row.depth, 3)}" if row.depth else ""
    mark = ""
    if row.is_sum:
        mark = '<span title="sum of its own and its sub-codes\' segments">Σ</span> '
    label = (f'<span class="{depth}">{mark}{_text(row.label)} '
             f'<code>{_text(row.code)}</code></span>' if depth else
             f"{mark}{_text(row.label)} <code>{_text(row.code)}</code>")
    cells = [f'<td class="n h{shade(v, matrix.peak)}">'
             f"{number_text(v, matrix.percent)}</td>" for v in row.values]
    css = "parent" if row.is_parent else ""
    return _row(label, cells, css)


def _legend(matrix: MatrixSection) -> str:
    if matrix.peak <= 0:
        return '<p class="small">No codings in scope: every cell is 0.</p>\n'
    items = [f'<li class="h{step}">{text}</li>' for step, text in legend_steps(matrix)]
    beyond = (" Σ rows above the top step take its shade."
              if any(r.is_sum for r in matrix.rows) else "")
    return (f'<p class="small">Shading (the number is always printed; the scale runs to '
            f"the largest leaf cell, {number_text(matrix.peak, matrix.percent)}).{beyond}</p>"
            f'\n<ul class="legend" aria-label="Shading legend">{"".join(items)}</ul>\n')


def legend_steps(matrix: MatrixSection) -> list[tuple[int, str]]:
    """Each shade step with the values it stands for (0 first); a step no whole number
    falls in is left out."""
    steps = [(0, "0")]
    for step in range(1, SHADES + 1):
        low, high = matrix.peak * (step - 1) / SHADES, matrix.peak * step / SHADES
        if matrix.percent or not float(matrix.peak).is_integer():
            text = f"> {low:.1f} – {high:.1f}"
        else:
            first, last = math.floor(low) + 1, math.floor(high)
            if first > last:
                continue
            text = str(first) if first == last else f"{first}–{last}"
        steps.append((step, text))
    return steps


def _code_cell(code: str, label: str) -> str:
    return f'<a href="#{_slug("code", code)}">{_text(label)}</a> <code>{_text(code)}</code>'


def _cooccurrence(section: CooccurSection) -> str:
    if not section.pairs:
        return "<p>No two codes occur together in scope.</p>\n"
    rows = [_row(_code_cell(p.code, p.label), [f"<td>{_code_cell(p.other, p.other_label)}</td>",
                                              _num(p.count)])
            for p in section.pairs]
    caption = (f"The {len(section.pairs)} pairs of codes with the most overlapping segments "
               f'<span class="small">({section.pairs_total} pairs in all)</span>')
    return _table(caption, ["Code", "With", "Segments"], rows, "Co-occurrence")


def _saturation(section: SaturationSection) -> str:
    rows = [_row(_text(r["position"]), [f"<td>{_text(r['transcript'])}</td>",
                                        _num(r["codings"]), _num(r["new"]),
                                        _num(r["cumulative"]),
                                        _num(number_text(r["share"], True)),
                                        f"<td>{_text(' '.join(r['new_codes']))}</td>"])
            for r in section.rows]
    summary = (f"<p>{section.codes} distinct codes; the last new code came at transcript "
               f"{section.last_new_position} of {section.transcripts} "
               f"({_text(section.last_new)}).</p>\n" if section.last_new else
               "<p>No codes used.</p>\n")
    caption = f"New codes per transcript, in {_text(section.order)} order"
    return summary + _curve(section) + _table(caption, ["#", "Transcript", "Codings", "New", "Cumulative",
                                      "Share %", "New codes"], rows, "Saturation")


def _curve(section: SaturationSection) -> str:
    """The saturation curve drawn inline (qcode's own SVG, as `saturation --plot x.svg`
    draws it): markup in the page, nothing fetched, so the CSP holds."""
    if not section.rows:
        return ""
    import pandas as pd

    from qcode.render.svg import curve_svg

    frame = pd.DataFrame(section.rows)
    svg = curve_svg(frame, f"Distinct codes so far, in {section.order} order")
    return "<figure>" + svg.split("?>", 1)[-1].strip() + "</figure>\n"


def passage_anchor(transcript: str, passage: int) -> str:
    """The id of a passage in the appendix, ``t-<transcript>-p<n>``."""
    return f"{_slug('t', transcript)}-p{passage}"


def _quotes(sections: list[CodeQuotes], by: str | None, linked: bool = False,
            memos: SegmentMemos | None = None, standalone: bool = False) -> str:
    """Quotes per code, grouped by ``by``'s value. ``linked``: each source links into the
    transcripts appendix; ``memos``: the memo files on each code and value under its
    heading; ``standalone`` (a page of its own, ``segments -f html``): no link to the
    codebook section, which is not there."""
    from qcode.render.segment_memos import memos_html

    if not sections:
        return "<p>No coded segments in scope.</p>\n"
    out = []
    for code in sections:
        shown = f"{len(code.quotes)} of {code.segments} segments"
        definition = ("" if standalone else
                      f'; <a href="#{_slug("code", code.code)}">definition</a>')
        out.append(f'<h3 id="{_slug("quotes", code.code)}">{_text(code.label)} '
                   f"<code>{_text(code.code)}</code> "
                   f'<span class="small">({shown}{definition})</span></h3>')
        if memos:
            out += memos_html(memos.for_code(code.code))
        current: object = object()
        for quote in code.quotes:
            if by and quote.value != current:
                current = quote.value
                out.append(f"<h4>{_text(attribute_label(by))}: "
                           f"{_text(value_label(quote.value or ''))}</h4>")
                if memos:
                    out += memos_html(memos.for_value(quote.value))
            changed = (f'<p class="changed">{_text(CHANGED_MARK)}</p>'
                       if quote.text_changed else "")
            speaker = f", {_text(quote.speaker)}" if quote.speaker else ""
            where = f"{_text(quote.transcript)}, passage {quote.passage}"
            if linked:  # only with the appendix: a link to nowhere would mislead
                where = f'<a href="#{passage_anchor(quote.transcript, quote.passage)}">{where}</a>'
            coders = f"; coded by {_text(quote.coders)}" if quote.coders else ""
            memo = f"; memo: {_memo(quote.memo)}" if quote.memo else ""
            out.append(f"<blockquote>{changed}<p>{_lines(quote.text)}</p>"
                       f"<cite>— {where}{speaker}{coders}{memo}</cite></blockquote>")
    return "\n".join(out) + "\n"


def _memo(text: str) -> str:
    """A segment's memo keeps its line breaks, a lone CR (old Mac) ending a line too."""
    return "<br>\n".join(_text(line) for line in re.split(r"\r\n|\r|\n", text))


def quotes_page(title: str, sections: list[CodeQuotes], by: str | None,
                memos: SegmentMemos | None = None) -> str:
    """``qcode segments``/``query -f html``: the report's quotes as a page of their own."""
    return page(title, _quotes(sections, by, memos=memos, standalone=True))


def framework_heading(matrix: FrameworkMatrix) -> str:
    """The framework section's title (the DOCX report uses the same)."""
    return f"Framework matrix: {attribute_label(matrix.rows_by)} × themes"


def framework_caption(matrix: FrameworkMatrix) -> str:
    return (f"The {matrix.quotes} longest quotes of each theme per "
            f"{attribute_label(matrix.rows_by).lower()} ({matrix.rows_by}); "
            "“k of n”: k quotes shown of the cell's n segments")


def _framework(matrix: FrameworkMatrix) -> str:
    header = [_text(attribute_label(matrix.rows_by))]
    header += [f"{_text(t.label)} <code>{_text(t.code)}</code>" for t in matrix.themes]
    rows = []
    for row in matrix.rows:
        cells = []
        for theme in matrix.themes:
            cell = matrix.cell(row, theme.code)
            # not blockquotes: those are the Quotes section's, one each in the DOCX
            quotes = "".join(
                f"<p class=\"cellquote\">“{_lines(q['text'])}”<br><cite>— "
                f"{_text(q['transcript'])}, passage {_text(q['passage'])}</cite></p>"
                for q in cell.quotes)
            cells.append(f'<td><span class="small">{len(cell.quotes)} of {cell.total}'
                         f"</span>{quotes}</td>")
        rows.append(_row(_text(value_label(row)), cells))
    return _table(_text(framework_caption(matrix)), header, rows, "Framework matrix")


def _appendix(transcripts: list[AppendixTranscript]) -> str:
    out = []
    for transcript in transcripts:
        out.append(f'<article class="transcript" id="{_slug("t", transcript.id)}">'
                   f"<h3>{_text(transcript.id)}</h3>")
        for passage in transcript.passages:
            speaker = (f"<b>{_text(passage.speaker)}</b> " if passage.speaker else "")
            out.append(f'<p id="{passage_anchor(transcript.id, passage.number)}">'
                       f'<span class="small">{passage.number}</span> {speaker}'
                       f"{_lines(passage.text)}</p>")
        out.append("</article>")
    return "\n".join(out) + "\n"


_STATISTICS = ("kappa", "alpha")


def _agreement(section: AgreementSection) -> str:
    if section.note:
        return (f"<p>Coders {_text(', '.join(section.coders))}: no agreement table "
                f"({_text(section.note)}).</p>\n")
    header = [_text(h.replace("_", " ")) for h in section.header[1:]]
    rows: list[str] = []
    for values in section.rows:
        cells = []
        for name, value in zip(section.header[2:], values[2:], strict=True):
            if isinstance(value, float) and name.endswith(_STATISTICS):
                cells.append(_num(f"{value:.3f}"))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(_num(number_text(value, name.startswith("agreement_pct"))))
            else:
                cells.append(f"<td>{_text(value or '')}</td>")
        if section.intervals:
            cells += [_num(interval_text(section.intervals[len(rows)][name]))
                      for name in _STATISTICS]
        rows.append(_row(f"{_text(values[1])} <code>{_text(values[0])}</code>", cells))
    if section.intervals:
        header += [_text(h) for h in interval_headings(section)]
    caption = (f"Agreement of {_text(', '.join(section.coders))} per code "
               f'<span class="small">(unit: {_text(section.unit)}; {section.units} '
               f"{_text(section.unit)}s in {section.transcripts} transcripts)</span>")
    notes = "".join(f"<dt>{_text(k.replace('_', ' '))}</dt><dd>{_text(v)}</dd>"
                    for k, v in section.statistics.items())
    left = (f"<p>Left out, not coded by every coder: {_text(', '.join(section.left_out))}"
            "</p>\n" if section.left_out else "")
    boot = f"<p>{_text(bootstrap_note(section))}</p>\n" if section.bootstrap else ""
    return (_table(caption, ["Code", *header[1:]], rows, "Agreement")
            + f'<dl class="facts">{notes}</dl>\n{boot}{left}')


def interval_headings(section: AgreementSection) -> list[str]:
    level = f"{100 * section.bootstrap.get('level', 0.95):g} %"
    return [f"κ {level} CI", f"α {level} CI"]


def interval_text(interval: tuple[float, float] | None) -> str:
    """An interval as ``0.412–0.873``; ``—`` when undefined on too many resamples."""
    return "—" if interval is None else f"{interval[0]:.3f}–{interval[1]:.3f}"


def bootstrap_note(section: AgreementSection) -> str:
    boot = section.bootstrap
    return (f"Intervals: {100 * boot['level']:g} % percentile intervals from "
            f"{boot['resamples']} bootstrap resamples of the {boot['transcripts']} "
            f"transcripts (seed {boot['seed']}), as `qcode agree --ci 95`; — where the "
            "statistic is undefined on too many resamples.")


def _memos(memos: list[MemoEntry]) -> str:
    out = []
    for memo in memos:
        by = f" by {_text(memo.author)}" if memo.author else ""
        when = f", {_text(memo.updated)}" if memo.updated else ""
        out.append(f"<article class=\"code\"><h3>{_text(memo.about)}</h3>"
                   f'<p class="small">{_text(memo.file)}{by}{when}</p>'
                   f"<p>{_lines(memo.text)}</p></article>")
    return "\n".join(out) + "\n"


def _method(method: MethodNotes) -> str:
    interviewers = (f"the turns of the interviewers ({_text(', '.join(method.interviewers))}) "
                    "are never coded and are left out of the agreement units"
                    if method.interviewers else "no interviewer labels are declared")
    items = [f"Segmentation: transcripts are divided into passages by "
             f"{_text(method.segmentation)}; {interviewers}.",
             *[_text(line) for line in method.counts],
             f"Made with qcode {_text(method.version)}."]
    return "<ul>\n" + "\n".join(f"<li>{item}</li>" for item in items) + "\n</ul>\n"
