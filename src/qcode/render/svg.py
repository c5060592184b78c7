"""Heat maps and curves drawn as standalone SVG by qcode itself (``--plot FILE.svg``).

No matplotlib: the SVG is text laid out here, so a plot costs milliseconds and the same
drawing can sit inline in an HTML document. Every piece of project text goes through
``_text`` (control characters made visible, then XML-escaped), so a label such as
``<script>`` is drawn as the characters it is. The numbers are printed in every cell and
the text colour is picked for WCAG AA contrast against the cell, so the map reads in
greyscale and for people who cannot tell the shades apart.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from qcode.format.text import printable
from qcode.render.tables import SUM_MARK, TOTAL, column_headings, number_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
# A sequential blue scale (ColorBrewer Blues), lightest for the smallest value.
SCALE = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
         "#08519c", "#08306b")
EQUAL_FILL = "#6baed6"  # every value the same: one colour, said in the legend
SUM_FILL = "url(#qcode-sum-hatch)"
DARK_TEXT = "#000000"
LIGHT_TEXT = "#ffffff"
SUM_LEGEND = "Σ: sums of the rows under them (or totals), not on the colour scale"
# Characters XML 1.0 cannot hold even escaped, which printable() leaves alone.
_NOT_XML_RE = re.compile("[\ufffe\uffff]")
CHAR_WIDTH = 0.62  # a generous average glyph width, in ems, so that text never overflows
LABEL_MAX = 90     # a longer label is cut with "…"; its whole text is its tooltip
CELL_W, CELL_H, FONT_SIZE, TITLE_SIZE = 58, 24, 12, 15


def _text(value: Any) -> str:
    """Project text for an SVG text node: one line, controls visible, XML-escaped."""
    shown = printable(" ".join(str(value).split()))
    return escape(_NOT_XML_RE.sub("\ufffd", shown))


def _attr(value: Any) -> str:
    """Project text as a quoted XML attribute value."""
    shown = printable(" ".join(str(value).split()))
    return quoteattr(_NOT_XML_RE.sub("\ufffd", shown))


def _width(text: str, size: float = FONT_SIZE) -> float:
    return len(text) * size * CHAR_WIDTH


def _short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- colour ---------------------------------------------------------------------------------------

def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill``: at least 4.58 : 1 for any
    fill (WCAG AA asks 4.5 : 1)."""
    return DARK_TEXT if contrast(fill, DARK_TEXT) >= contrast(fill, LIGHT_TEXT) else LIGHT_TEXT


def scale_colour(fraction: float) -> str:
    """The colour at ``fraction`` (0 to 1) of the scale, interpolated between its stops."""
    fraction = min(1.0, max(0.0, fraction))
    position = fraction * (len(SCALE) - 1)
    low = int(position)
    high = min(low + 1, len(SCALE) - 1)
    part = position - low
    mixed = [round(a + (b - a) * part) for a, b in zip(_rgb(SCALE[low]), _rgb(SCALE[high]),
                                                       strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


# -- pieces ---------------------------------------------------------------------------------------

def _title_lines(title: str, width: float) -> list[str]:
    """The title wrapped to the drawing's width (a long word is broken, never clipped)."""
    per_line = max(20, int(width / (TITLE_SIZE * CHAR_WIDTH)))
    return textwrap.wrap(printable(" ".join(title.split())), per_line) or [""]


def _svg_open(width: float, height: float, title: str, desc: str) -> list[str]:
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="{SVG_NS}" version="1.1" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={_attr(title)} '
        f'font-family="{FONT}" font-size="{FONT_SIZE}">',
        f"<title>{_text(title)}</title>",
        f"<desc>{_text(desc)}</desc>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
    ]


def _title_text(lines: list[str], x: float, top: float) -> list[str]:
    out = [f'<text class="title" x="{x:.0f}" y="{top:.0f}" font-size="{TITLE_SIZE}" '
           'font-weight="bold" fill="#000000">']
    for i, line in enumerate(lines):
        out.append(f'<tspan x="{x:.0f}" dy="{0 if i == 0 else TITLE_SIZE * 1.3:.1f}">'
                   f"{escape(_NOT_XML_RE.sub(chr(0xfffd), line))}</tspan>")
    out.append("</text>")
    return out


# -- heat map -------------------------------------------------------------------------------------

def heatmap_svg(grid: pd.DataFrame, title: str, row_labels: Sequence[str] | None = None,
                sum_rows: Collection[str] = (), measure: str | None = None,
                column_labels: Sequence[str] | None = None) -> str:
    """A wide grid (``matrix``, ``cooccur``) as a standalone SVG heat map.

    Rows: ``row_labels`` (default the index); columns: ``column_labels`` (default the
    names with each column's ``(n=…)``). ``sum_rows``: the index entries that are sums of
    other rows (parents under ``--rollup``, grouping folders, ``TOTAL``): marked ``Σ``,
    hatched, and left off the colour scale so they cannot wash the other rows out; the
    ``TOTAL`` column is left off the scale too. Each cell is a ``<g class="cell">`` with
    its rectangle and its number."""
    measure = measure or str(grid.attrs.get("measure") or "count")
    index = [str(i) for i in grid.index]
    labels_y = [str(label) for label in (row_labels or index)]
    labels_x = [str(label) for label in (column_labels or column_headings(grid))]
    names_x = [str(c[0] if isinstance(c, tuple) else c) for c in grid.columns]
    values = [[float(v) for v in row] for row in grid.to_numpy().tolist()]
    summed = {i for i, code in enumerate(index) if code in sum_rows or code == TOTAL}
    total_columns = {j for j, name in enumerate(names_x) if name == TOTAL}
    scaled = [v for i, row in enumerate(values) if i not in summed
              for j, v in enumerate(row) if j not in total_columns and not math.isnan(v)]
    low, high = (min(scaled), max(scaled)) if scaled else (0.0, 0.0)
    equal = low == high

    shown_y = [(SUM_MARK if i in summed else "") + _short(label)
               for i, label in enumerate(labels_y)]
    shown_x = [_short(label, 40) for label in labels_x]
    left = 16 + max((_width(s) for s in shown_y), default=40)
    # Column labels are drawn at -45°: their height is their length over √2.
    header = 16 + max((_width(s) for s in shown_x), default=20) / math.sqrt(2)
    grid_w = CELL_W * len(labels_x)
    legend_w = 24 + (_width(SUM_LEGEND) + 24 if summed else 260)
    width = max(left + grid_w + header / 1.2 + 16, legend_w + 32, 420)
    title_lines = _title_lines(title, width - 32)
    top = 20 + TITLE_SIZE * 1.3 * len(title_lines) + header
    grid_h = CELL_H * len(labels_y)
    legend_h = 74 if summed else 56
    height = top + grid_h + 20 + legend_h

    desc = (f"Heat map of {measure}: {len(labels_y)} rows by {len(labels_x)} columns; "
            + (f"all {number_text(low)}" if equal else
               f"from {number_text(low)} (lightest) to {number_text(high)} (darkest)")
            + ("; rows marked Σ are sums of the rows under them, hatched and not on the "
               "colour scale" if summed else "") + ". Each cell prints its number.")
    out = _svg_open(width, height, title, desc)
    out += ["<defs>",
            '<pattern id="qcode-sum-hatch" width="6" height="6" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">',
            '<rect width="6" height="6" fill="#ffffff"/>',
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#d0d0d0" stroke-width="2"/>',
            "</pattern>"]
    if not equal:
        out += ['<linearGradient id="qcode-scale">']
        out += [f'<stop offset="{i / (len(SCALE) - 1):.3f}" stop-color="{c}"/>'
                for i, c in enumerate(SCALE)]
        out += ["</linearGradient>"]
    out += ["</defs>"]
    out += _title_text(title_lines, 16, 20 + TITLE_SIZE)

    out.append('<g class="columns">')
    for j, label in enumerate(shown_x):
        x = left + CELL_W * j + CELL_W / 2
        y = top - 8
        out.append(f'<text class="column" x="{x:.1f}" y="{y:.1f}" '
                   f'transform="rotate(-45 {x:.1f} {y:.1f})" fill="#000000">'
                   f"<title>{_text(labels_x[j])}</title>{_text(label)}</text>")
    out.append("</g>")

    out.append('<g class="rows">')
    for i, label in enumerate(shown_y):
        y = top + CELL_H * i + CELL_H / 2 + FONT_SIZE * 0.35
        weight = ' font-weight="bold" font-style="italic"' if i in summed else ""
        kind = "row sum" if i in summed else "row"
        out.append(f'<text class="{kind}" x="{left - 8:.1f}" y="{y:.1f}" '
                   f'text-anchor="end" fill="#000000"{weight}>'
                   f"<title>{_text(labels_y[i])}</title>{_text(label)}</text>")
    out.append("</g>")

    out.append('<g class="cells">')
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            on_scale = i not in summed and j not in total_columns
            if not on_scale:
                fill = SUM_FILL
                ink = DARK_TEXT
            else:
                fill = EQUAL_FILL if equal else scale_colour((value - low) / (high - low))
                ink = text_colour(fill)
            x, y = left + CELL_W * j, top + CELL_H * i
            kind = "cell" if on_scale else "cell sum"
            out.append(
                f'<g class="{kind}" data-row="{i}" data-column="{j}">'
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{CELL_W}" height="{CELL_H}" '
                f'fill="{fill}" stroke="#ffffff"/>'
                f'<text x="{x + CELL_W / 2:.1f}" y="{y + CELL_H / 2 + FONT_SIZE * 0.35:.1f}" '
                f'text-anchor="middle" fill="{ink}">{number_text(value)}</text></g>')
    out.append("</g>")
    out += _legend(16, top + grid_h + 20, measure, low, high, equal, bool(summed))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(x: float, y: float, measure: str, low: float, high: float, equal: bool,
            summed: bool) -> list[str]:
    out = ['<g class="legend">',
           f'<text x="{x:.0f}" y="{y + 12:.0f}" fill="#000000">{_text(measure)}</text>']
    bar_y = y + 20
    if equal:
        ink = text_colour(EQUAL_FILL)
        out += [f'<rect x="{x:.0f}" y="{bar_y:.0f}" width="120" height="18" '
                f'fill="{EQUAL_FILL}"/>',
                f'<text x="{x + 60:.0f}" y="{bar_y + 13:.0f}" text-anchor="middle" '
                f'fill="{ink}">all {number_text(low)}</text>']
    else:
        out += [f'<rect x="{x:.0f}" y="{bar_y:.0f}" width="200" height="12" '
                'fill="url(#qcode-scale)" stroke="#888888"/>',
                f'<text class="min" x="{x:.0f}" y="{bar_y + 26:.0f}" fill="#000000">'
                f"{number_text(low)}</text>",
                f'<text class="max" x="{x + 200:.0f}" y="{bar_y + 26:.0f}" text-anchor="end" '
                f'fill="#000000">{number_text(high)}</text>']
    if summed:
        out += [f'<rect x="{x:.0f}" y="{bar_y + 34:.0f}" width="18" height="14" '
                f'fill="{SUM_FILL}" stroke="#888888"/>',
                f'<text x="{x + 24:.0f}" y="{bar_y + 45:.0f}" fill="#000000">'
                f"{SUM_LEGEND}</text>"]
    out.append("</g>")
    return out


# -- saturation curve -----------------------------------------------------------------------------

CURVE_LINE, CURVE_BAR = "#08519c", "#9ecae1"


def curve_svg(frame: pd.DataFrame, title: str) -> str:
    """The saturation curve (``qcode saturation``) as a standalone SVG: the distinct codes
    so far as a step curve over the transcripts in order, each transcript's new codes as a
    bar beneath it, the transcript ids as x labels. ``frame``: ``position``, ``transcript``,
    ``new``, ``cumulative`` per transcript."""
    positions = [int(p) for p in frame["position"].tolist()]
    cumulative = [int(c) for c in frame["cumulative"].tolist()]
    new = [int(n) for n in frame["new"].tolist()]
    labels = [str(t) for t in frame["transcript"].tolist()]
    shown = [_short(label, 40) for label in labels]
    step = max(14.0, min(40.0, 720 / max(len(labels), 1)))
    plot_h = 260
    left, label_h = 56, 16 + max((_width(s, 10) for s in shown), default=20)
    plot_w = step * max(len(labels), 1)
    legend = ["distinct codes so far", "new codes in the transcript"]
    width = max(left + plot_w + 24, 16 + sum(_width(s) + 40 for s in legend), 420)
    title_lines = _title_lines(title, width - 32)
    top = 20 + TITLE_SIZE * 1.3 * len(title_lines) + 48
    height = top + plot_h + label_h + 36
    peak = max(cumulative, default=0)
    y_max = max(1, math.ceil(peak * 1.05))  # headroom: the curve's top is not the frame

    def y_of(value: float) -> float:
        return top + plot_h - plot_h * value / y_max

    def x_of(position: float) -> float:  # the transcript's centre; position 1 is the first
        return left + step * (position - 0.5)

    last_new = next((p for p, n in zip(reversed(positions), reversed(new), strict=True) if n),
                    None)
    desc = (f"Step curve of the distinct codes over {len(labels)} transcripts in order: "
            f"{peak} codes in all" + (f", the last new one at transcript {last_new}"
                                      if last_new else "") + "; bars: each transcript's new codes.")
    out = _svg_open(width, height, title, desc)
    out += _title_text(title_lines, 16, 20 + TITLE_SIZE)
    # legend, under the title
    lx, ly = 16.0, top - 22
    out += ['<g class="legend">',
            f'<line x1="{lx:.0f}" y1="{ly - 4:.0f}" x2="{lx + 24:.0f}" y2="{ly - 4:.0f}" '
            f'stroke="{CURVE_LINE}" stroke-width="2"/>',
            f'<text x="{lx + 30:.0f}" y="{ly:.0f}" fill="#000000">{legend[0]}</text>']
    lx += 30 + _width(legend[0]) + 16
    out += [f'<rect x="{lx:.0f}" y="{ly - 10:.0f}" width="24" height="10" fill="{CURVE_BAR}"/>',
            f'<text x="{lx + 30:.0f}" y="{ly:.0f}" fill="#000000">{legend[1]}</text>', "</g>"]
    # y axis with whole-number ticks
    tick = max(1, math.ceil(y_max / 5))
    out.append('<g class="axis">')
    for value in range(0, y_max + 1, tick):
        y = y_of(value)
        out += [f'<line x1="{left:.0f}" y1="{y:.1f}" x2="{left + plot_w:.0f}" y2="{y:.1f}" '
                'stroke="#e0e0e0"/>',
                f'<text x="{left - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" '
                f'fill="#000000">{value}</text>']
    out += [f'<line x1="{left:.0f}" y1="{top:.0f}" x2="{left:.0f}" y2="{top + plot_h:.0f}" '
            'stroke="#000000"/>',
            f'<line x1="{left:.0f}" y1="{top + plot_h:.0f}" x2="{left + plot_w:.0f}" '
            f'y2="{top + plot_h:.0f}" stroke="#000000"/>',
            f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {top + plot_h / 2:.0f})" fill="#000000">codes</text>',
            "</g>"]
    out.append('<g class="bars">')
    for position, count, label in zip(positions, new, labels, strict=True):
        x = x_of(position) - step * 0.3
        out.append(f'<rect class="new" x="{x:.1f}" y="{y_of(count):.1f}" '
                   f'width="{step * 0.6:.1f}" height="{top + plot_h - y_of(count):.1f}" '
                   f'fill="{CURVE_BAR}"><title>{_text(label)}: {count} new</title></rect>')
    out.append("</g>")
    # "post" steps: the count reached at a transcript holds until the next one adds more
    points: list[tuple[float, float]] = [(left, y_of(0))]
    for position, value in zip(positions, cumulative, strict=True):
        x = x_of(position) - step / 2
        points += [(x, points[-1][1]), (x, y_of(value))]
    points.append((left + plot_w, points[-1][1]))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    out.append(f'<polyline class="curve" points="{path}" fill="none" stroke="{CURVE_LINE}" '
               'stroke-width="2"/>')
    out.append('<g class="points">')
    for position, value, label in zip(positions, cumulative, labels, strict=True):
        out.append(f'<circle cx="{x_of(position):.1f}" cy="{y_of(value):.1f}" r="3" '
                   f'fill="{CURVE_LINE}"><title>{_text(label)}: {value} codes so far'
                   "</title></circle>")
    out.append("</g>")
    out.append('<g class="transcripts" font-size="10">')
    base = top + plot_h + 8
    for position, label in zip(positions, shown, strict=True):
        x = x_of(position) + 3
        out.append(f'<text x="{x:.1f}" y="{base:.1f}" text-anchor="end" '
                   f'transform="rotate(-90 {x:.1f} {base:.1f})" fill="#000000">'
                   f"{_text(label)}</text>")
    out.append("</g>")
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 10:.0f}" text-anchor="middle" '
               'fill="#000000">transcripts in order</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
