"""Turning analysis frames into files and text: CSV, TSV, JSON, Markdown, HTML, XLSX, plots.

The numbers come from ``qcode.analysis``; this module only lays them out, so CSV, JSON
and XLSX of the same matrix always agree. pandas, openpyxl and matplotlib are imported
by the functions that need them.
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.errors import UsageError
from qcode.format.delimited import cell_text as _cell_text
from qcode.format.delimited import delimited as delimited  # the CSV writer, re-exported
from qcode.format.delimited import spreadsheet_safe
from qcode.format.files import atomic_write, check_output
from qcode.format.text import TERMINAL_UNSAFE_RE, printable
from qcode.render.markdown import markdown_text as markdown_text  # re-exported

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.format.codebook import Codebook
    from qcode.render.segment_memos import SegmentMemos

# Said over a quote whose transcript was edited after it was coded.
CHANGED_MARK = ("[text changed since coding: the quote is what was coded; run `qcode "
                "reanchor`]")
COMBINED_SEPARATOR = "|"   # "Voss|principal" as a CSV column name
DISPLAY_SEPARATOR = " / "  # "Voss / principal" in tables for people


def column_names(grid: pd.DataFrame, separator: str = COMBINED_SEPARATOR) -> list[str]:
    """Flat column names: the value, or the two values joined by ``separator``."""
    out = []
    for column in grid.columns:
        if isinstance(column, tuple):
            parts = [str(p) for p in column if str(p) != ""]
            out.append(separator.join(parts))
        else:
            out.append(str(column))
    return out


def column_headings(grid: pd.DataFrame, separator: str = DISPLAY_SEPARATOR) -> list[str]:
    """Column names for people: with each column's size, ``Voss (n=5)``, when the grid
    has one (``column_n``: transcripts, or cases for the case measures)."""
    names = column_names(grid, separator)
    sizes = grid.attrs.get("column_n")
    if not sizes or len(sizes) != len(names):
        return names
    return [f"{name} (n={size})" for name, size in zip(names, sizes, strict=True)]


def n_footer(grid: pd.DataFrame) -> list[Any] | None:
    """The column sizes as a last row for CSV and XLSX, whose header stays the plain
    column names: ``n_transcripts`` (or ``n_cases``), then one number per column."""
    sizes = grid.attrs.get("column_n")
    if not sizes or len(sizes) != len(grid.columns):
        return None
    return [grid.attrs.get("n_label", "n_transcripts"), *[int(n) for n in sizes]]


def number(value: Any) -> Any:
    """Plain Python numbers for JSON and CSV: ints stay ints, percentages keep one decimal."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else round(value, 1)
    return value


def frame_rows(frame: Any) -> tuple[list[str], list[list[Any]]]:
    """A DataFrame as a header and rows of plain values (missing values as None), what the
    delimited, JSON and Markdown writers take."""
    return [str(c) for c in frame.columns], plain_rows(frame.itertuples(index=False, name=None))


def plain_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows of plain values, missing values (None, NaN) as None."""
    return [[None if value is None or (isinstance(value, float) and value != value)
             else number(value) for value in row] for row in rows]


# -- wide tables (matrix, co-occurrence) ------------------------------------------------------

def wide_rows(grid: pd.DataFrame, first: str = "code") -> tuple[list[str], list[list[Any]]]:
    header = [first, *column_names(grid)]
    rows = [[str(index), *[number(v) for v in values]]
            for index, values in zip(grid.index, grid.to_numpy().tolist(), strict=True)]
    return header, rows


def matrix_records(grid: pd.DataFrame, codebook: Codebook, measure: str) -> list[dict]:
    """The tidy long form: one record per non-empty cell."""
    by = list(grid.attrs.get("by") or grid.columns.names)
    sizes = grid.attrs.get("column_n")
    if not sizes or len(sizes) != len(grid.columns):
        sizes = [None] * len(grid.columns)
    n_label = grid.attrs.get("n_label", "n_transcripts")
    records = []
    for code, values in zip(grid.index, grid.to_numpy().tolist(), strict=True):
        known = codebook.get(code)
        for column, value, size in zip(grid.columns, values, sizes, strict=True):
            if not value:
                continue
            parts = column if isinstance(column, tuple) else (column,)
            record: dict[str, Any] = {"code": code,
                                      "label": known.label if known else code,
                                      "parent": codebook.parent_of.get(code)}
            for attribute, part in zip(by, parts, strict=False):
                record[attribute] = part if part != "" else None
            record[measure] = number(value)
            if size is not None:  # the column's size, as in the table's header
                record[n_label] = int(size)
            records.append(record)
    return records


def cooccur_records(grid: pd.DataFrame, codebook: Codebook) -> list[dict]:
    records = []
    for code, values in zip(grid.index, grid.to_numpy().tolist(), strict=True):
        for other, value in zip(grid.columns, values, strict=True):
            if value:
                records.append({"code": code, "label": codebook.require(code).label,
                                "other": other, "other_label": codebook.require(other).label,
                                "count": number(value)})
    return records


def frame_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: number(v) if not isinstance(v, str) else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def to_json(data: Any) -> str:
    """JSON, exact. json escapes the C0 controls; the C1 and bidi controls are written as
    ``\\u`` escapes too (the same string to any JSON reader), so JSON shown on a terminal
    cannot act on it."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return TERMINAL_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- Markdown and HTML --------------------------------------------------------------------------

def markdown_code(value: Any) -> str:
    """A Markdown code span holding ``value`` literally, whatever backticks it holds (the
    fence is longer than any run of them inside)."""
    text = " ".join(str(value).split("\n"))
    runs = [len(run) for run in re.findall(r"`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]],
                   numeric_from: int = 1) -> str:
    def esc(value: Any) -> str:
        return markdown_text(value).replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---:" if i >= numeric_from else "---"
                            for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def html_document(title: str, body: str) -> str:
    import html  # only HTML output needs it: not imported by every table command

    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n"
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.25rem .5rem}"
        "td.n{text-align:right}th{background:#f4f4f4}"
        "blockquote{border-left:3px solid #bbb;margin:.5rem 0;padding:.25rem .75rem}"
        "cite{color:#666;font-size:.9em}\n</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}</body>\n</html>\n"
    )


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], numeric_from: int = 1,
               heat: bool = False) -> str:
    import html

    peak = max((v for row in rows for v in row[numeric_from:]
                if isinstance(v, (int, float)) and not isinstance(v, bool)), default=0) or 1
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(str(h))}</th>"
                                              for h in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = html.escape("" if value is None else _cell_text(value))
            if i >= numeric_from and isinstance(value, (int, float)):
                style = ""
                if heat and value:
                    style = f" style=\"background:rgba(31,119,180,{0.1 + 0.6 * value / peak:.2f})\""
                cells.append(f"<td class=\"n\"{style}>{text}</td>")
            else:
                cells.append(f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>\n")
    return "\n".join(out)


def quotes_markdown(records: Sequence[Mapping[str, Any]], by: str | None, title: str,
                    memos: SegmentMemos | None = None) -> str:
    """Coded text grouped by code, then by ``by``'s value: ready to paste into a report.
    ``records``: the rows of ``segments`` (or of ``query``) as dicts, in order.
    ``memos``: each code's memos under its heading, each case's under its group's."""
    from qcode.render.segment_memos import memos_markdown

    out = [f"# {markdown_text(title, one_line=True)}\n"]
    for (code, label), group in _groups(records, lambda row: (row["code"], row["label"])):
        out.append(f"## {markdown_text(label, one_line=True)} ({markdown_code(code)})\n")
        if memos:
            out += memos_markdown(memos.for_code(code))
        for value, quotes in _by_groups(group, by):
            if by:
                out.append(f"### {markdown_text(f'{by}: {value}', one_line=True)}\n")
                if memos:
                    out += memos_markdown(memos.for_value(value))
            for row in quotes:
                quoted = markdown_quote(str(row["text"]))
                if row.get("text_changed"):
                    quoted = f"> **{CHANGED_MARK}**\n>\n" + quoted
                out.append(quoted)
                # A memo keeps its line breaks (<br>, as in a table cell); the rest is one line.
                memo = "<br>".join(markdown_text(line) for line in _memo_lines(row))
                out.append(f"— {markdown_text(_attribution(row), one_line=True)}"
                           f"{'; memo: ' + memo if memo else ''}\n")
    return "\n".join(out)


def markdown_quote(text: str) -> str:
    """A block quote of project text, every line of it inside the quote."""
    return "".join(f"> {markdown_text(line)}\n" if line else ">\n"
                   for line in text.split("\n"))


def _groups(records: Sequence[Mapping[str, Any]], key) -> list[tuple[Any, list]]:
    """The records grouped by ``key(record)``, groups in order of first appearance (as
    pandas' ``groupby(sort=False)``)."""
    groups: dict[Any, list] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return list(groups.items())


def _by_groups(records: Sequence[Mapping[str, Any]], by: str | None):
    if not by or not records or by not in records[0]:
        return [(None, records)]
    return _groups(records, lambda row: "(missing)" if _missing(row[by]) else row[by])


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _attribution(row: dict) -> str:
    where = f"{row['transcript']}, passage {row['passage']}"
    if row.get("speaker"):
        where += f" ({row['speaker']})"
    if row.get("coders"):
        where += f"; coded by {row['coders']}"
    return where


def _memo_lines(row: dict) -> list[str]:
    """A memo's lines: CR ends a line in Markdown too, so it is split on as well."""
    return re.split(r"\r\n|\r|\n", str(row["memo"])) if row.get("memo") else []


# -- files --------------------------------------------------------------------------------------

def write_text_output(path: Path, text: str, force: bool) -> None:
    atomic_write(path, text, overwrite=force)


def xlsx_bytes(sheets: list[tuple[str, list[str], list[list[Any]], int]]) -> bytes:
    """A workbook of sheets ``(name, header, rows, label_columns)``: bold header, frozen
    panes on the header row and the label columns; every cell, the header's too, safe
    for a spreadsheet (``_excel_value``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for sheet in list(book.worksheets):  # the empty default sheet
        book.remove(sheet)
    for name, header, rows, label_columns in sheets:
        sheet = book.create_sheet(title=name[:31])
        sheet.append([_excel_value(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_excel_value(v) for v in row])
        sheet.freeze_panes = sheet.cell(row=2, column=label_columns + 1)
        for index, title in enumerate(header, start=1):
            width = max([len(str(title))] + [len(str(r[index - 1])) for r in rows[:200]
                                              if r[index - 1] is not None])
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = \
                min(max(width + 2, 6), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def typed_cells(header: Sequence[str], rows: list[list[Any]],
                types: Mapping[str, str]) -> list[list[Any]]:
    """Rows with each attribute column's cells as the attribute's type (numbers, booleans,
    dates) for spreadsheets; a cell that is not of its column's type stays as it is."""
    from qcode.format.attributes import typed_value

    kinds = [(i, types[name]) for i, name in enumerate(header)
             if types.get(name, "text") != "text"]
    if not kinds:
        return rows
    typed = []
    for row in rows:
        row = list(row)
        for index, kind in kinds:
            if row[index] is not None:
                value = typed_value(row[index], kind)
                row[index] = row[index] if value is None else value
        typed.append(row)
    return typed


def _excel_value(value: Any) -> Any:
    """A cell for a workbook: never a formula, and with its control characters shown
    (the XLSX format cannot hold them)."""
    value = spreadsheet_safe(number(value))
    return printable(value) if isinstance(value, str) else value


PLOT_SUFFIXES = (".png", ".svg")
SUM_MARK = "Σ "    # before the label of a row that sums the rows under it, in a heat map
TOTAL = "TOTAL"    # the --totals row and column (qcode.analysis.counting.TOTAL)


def number_text(value: float) -> str:
    """A heat map cell's number as the tables print it: whole numbers bare, others to one
    decimal."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return f"{int(value)}" if float(value).is_integer() else f"{value:.1f}"


def check_plot_path(path: Path, force: bool) -> None:
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UsageError(f"--plot {path} must end in .png or .svg")
    check_output(path, force)


def heatmap_bytes(grid: pd.DataFrame, suffix: str, title: str,
                  row_labels: Sequence[str] | None = None,
                  sum_rows: Collection[str] = ()) -> bytes:
    """A heat map of a wide grid with the values in the cells, as PNG (or SVG) bytes,
    drawn with matplotlib; ``qcode.render.svg.heatmap_svg`` draws SVG without it.

    The title is wrapped to the figure (constrained layout: nothing is clipped), the colour
    bar says what it measures, ``sum_rows`` (parents under --rollup, TOTAL) are grey,
    marked Σ and off the colour scale, and a grid whose values are all equal is one colour
    with a colour bar that says so. Every label is drawn as the text it is: matplotlib's
    mathtext (``$...$``) and TeX are off, so a label such as ``$\\frac{$`` is neither
    parsed nor a crash; control characters are shown (``printable``)."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    with plt.rc_context({"text.parse_math": False, "text.usetex": False}), \
            warnings.catch_warnings():
        # A character the font lacks is drawn as a box; its warning would only be noise
        # (with a path of qcode's) on the user's terminal.
        warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
        values = grid.to_numpy(dtype=float)
        index = [str(i) for i in grid.index]
        summed = [i for i, code in enumerate(index) if code in sum_rows or code == TOTAL]
        totals = [j for j, c in enumerate(column_names(grid)) if c.split(COMBINED_SEPARATOR)[0]
                  == TOTAL]
        off_scale = np.zeros(values.shape, dtype=bool)
        off_scale[summed, :] = True
        off_scale[:, totals] = True
        # printable too: a font has no glyph for ESC, and the warning would print it
        labels_y = [(SUM_MARK if i in summed else "") + printable(label) for i, label
                    in enumerate(row_labels or index)]
        labels_x = [printable(label) for label in column_headings(grid)]
        measure = str(grid.attrs.get("measure") or "count")
        height = max(3.0, 0.28 * len(labels_y) + 2.0)
        width = min(30.0, max(5.5, 0.75 * len(labels_x)
                              + 0.08 * max((len(s) for s in labels_y), default=10) + 2.0))
        title = "\n".join(textwrap.wrap(printable(" ".join(title.split())),
                                        max(30, int(width * 11))))
        fig, ax = plt.subplots(figsize=(width, min(height, 40)), layout="constrained")
        try:
            scaled = values[~off_scale]
            low = float(scaled.min()) if scaled.size else 0.0
            high = float(scaled.max()) if scaled.size else 0.0
            equal = low == high
            # the sums (masked): grey, off the scale
            cmap = matplotlib.colormaps["Blues"].with_extremes(bad="#e6e6e6")
            shown = np.ma.masked_array(values, mask=off_scale)
            # all equal: one mid colour, not a scale of 0.90-1.10 around one number
            norm = (matplotlib.colors.Normalize(low - 1, low + 1) if equal
                    else matplotlib.colors.Normalize(low, high))
            image = ax.imshow(shown, aspect="auto", cmap=cmap, norm=norm)
            ax.set_xticks(range(len(labels_x)), labels_x, rotation=45, ha="right",
                          fontsize=8)
            ax.set_yticks(range(len(labels_y)), labels_y, fontsize=8)
            for i in summed:
                ax.get_yticklabels()[i].set_fontweight("bold")
            for (i, j), value in _cells(values):
                dark = (not off_scale[i, j] and not equal
                        and (value - low) / (high - low) > 0.6)
                ax.text(j, i, number_text(value), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
            ax.set_title(title, fontsize=10, loc="left")
            bar = fig.colorbar(image, ax=ax, fraction=0.03)
            if equal:
                bar.set_ticks([low], labels=[f"all {number_text(low)}"])
            bar.set_label(measure)
            if summed:
                fig.supxlabel(f"{SUM_MARK}rows (grey): sums of the rows under them, not on "
                              "the colour scale", fontsize=8)
            out = io.BytesIO()
            fig.savefig(out, dpi=150, format=suffix.lower().lstrip("."))
        finally:
            plt.close(fig)
    return out.getvalue()


def _cells(values):
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            yield (i, j), value
