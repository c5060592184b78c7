"""Heat maps and curves drawn as SVG by qcode itself (``--plot FILE.svg``, issue #21 item 4),
and the matplotlib PNG with its defects fixed.

The fixture counts (coder a, segments by school; ``coded`` in conftest) by hand:

    code         Voss  Lier  Strinda
    leadership      1     1        1   grouping folder (codable: false): always a sum
    lead-strong     1     0        0
    lead-weak       0     1        1
    ownership       2     0        0
    outcomes        0     0        1   (with --rollup: 0, 2, 1 — its own and personal's)
    personal        0     2        0
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from defusedxml import ElementTree as SafeET
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO
from qcode import Project
from qcode.render.svg import (
    CHAR_WIDTH,
    SUM_FILL,
    TITLE_SIZE,
    contrast,
    curve_svg,
    heatmap_svg,
    scale_colour,
    text_colour,
)

NS = {"s": "http://www.w3.org/2000/svg"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CODES = ["leadership", "lead-strong", "lead-weak", "ownership", "outcomes", "personal"]
BY_HAND = {"Voss": [1, 1, 0, 2, 0, 0], "Lier": [1, 0, 1, 0, 0, 2],
           "Strinda": [1, 0, 1, 0, 1, 0]}


def parsed(svg: str):
    return SafeET.fromstring(svg.encode("utf-8"))


def text_of(element) -> str:
    """An element's own drawn text, without its tooltip (<title>)."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def cells(root) -> dict[tuple[int, int], tuple[str, str, str]]:
    """(row, column) -> (number text, fill, text colour) of each cell group."""
    out = {}
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        if "cell" in group.get("class", "").split():
            rect, text = group.find("s:rect", NS), group.find("s:text", NS)
            out[int(group.get("data-row")), int(group.get("data-column"))] = (
                text.text, rect.get("fill"), text.get("fill"))
    return out


def classed(root, tag: str, name: str) -> list:
    return [e for e in root.iter(f"{{http://www.w3.org/2000/svg}}{tag}")
            if name in e.get("class", "").split()]


def columns(root) -> list[str]:
    return [text_of(e) for e in classed(root, "text", "column")]


def legend_text(root) -> list[str]:
    legend = classed(root, "g", "legend")
    assert len(legend) == 1
    return [e.text for e in legend[0].iter("{http://www.w3.org/2000/svg}text")]


# -- through the CLI, on the fixture -------------------------------------------------------------

def test_matrix_svg_has_one_cell_per_matrix_cell_with_its_number(cli, coded, project_dir):
    result = cli("matrix", "--by", "school", "-c", "a", "--plot", "m.svg", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    root = parsed((project_dir.root / "m.svg").read_text("utf-8"))
    assert root.get("role") == "img" and "segments by school" in root.get("aria-label")
    assert root.find("s:title", NS).text.startswith("Fixture study: segments by school")
    assert "6 rows by 3 columns" in root.find("s:desc", NS).text
    drawn = cells(root)
    assert len(drawn) == 6 * 3
    names = [c.split(" (n=")[0] for c in columns(root)]
    assert sorted(names) == ["Lier", "Strinda", "Voss"]
    assert all(" (n=1)" in c for c in columns(root))
    for j, name in enumerate(names):
        assert [drawn[i, j][0] for i in range(6)] == [str(v) for v in BY_HAND[name]]
    rows = [text_of(e) for e in classed(root, "text", "row")]
    assert rows[1] == "Strong anchoring (lead-strong)"
    # the grouping folder is a sum even without --rollup: marked, hatched, off the scale
    assert rows[0] == "Σ Leadership (leadership)" and "sum" in classed(root, "text", "row")[0].get(
        "class")
    assert {drawn[0, j][1] for j in range(3)} == {SUM_FILL}
    assert legend_text(root)[:3] == ["segments", "0", "2"]


def test_rollup_parents_are_marked_and_left_off_the_scale(cli, coded, project_dir):
    result = cli("matrix", "--by", "school", "-c", "a", "--rollup", "--plot", "m.svg")
    assert result.exit_code == 0, result.stderr
    root = parsed((project_dir.root / "m.svg").read_text("utf-8"))
    sums = [text_of(e) for e in classed(root, "text", "sum")]
    assert sums == ["Σ Leadership (leadership)", "Σ Outcomes (outcomes)"]
    drawn = cells(root)
    assert {drawn[4, j][1] for j in range(3)} == {SUM_FILL}
    names = [c.split(" (n=")[0] for c in columns(root)]
    assert drawn[4, names.index("Lier")][0] == "2"  # outcomes rolls personal's two up
    assert any("sums of the rows under them" in (t or "") for t in legend_text(root))


def test_cooccur_and_saturation_draw_svg(cli, coded, project_dir):
    assert cli("cooccur", "-c", "a", "--plot", "c.svg").exit_code == 0
    assert len(cells(parsed((project_dir.root / "c.svg").read_text("utf-8")))) == 6 * 6
    result = cli("saturation", "-c", "a", "-f", "csv", "--plot", "s.svg")
    assert result.exit_code == 0, result.stderr
    root = parsed((project_dir.root / "s.svg").read_text("utf-8"))
    assert root.get("role") == "img" and root.find("s:desc", NS) is not None
    assert len(classed(root, "polyline", "curve")) == 1
    assert len(list(root.iter("{http://www.w3.org/2000/svg}circle"))) == 3
    assert len(classed(root, "rect", "new")) == 3


def test_svg_plots_import_no_matplotlib(coded, project_dir):
    code = (
        "import sys\n"
        "from qcode.cli.app import app\n"
        "for args in (['matrix', '--by', 'school', '-c', 'a', '--plot', 'm.svg', '-f', 'csv'],\n"
        "             ['saturation', '-c', 'a', '--plot', 's.svg', '-f', 'csv']):\n"
        "    try:\n"
        "        app(args, prog_name='qcode')\n"
        "    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
        "print('matplotlib' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QCODE_PROJECT", "QCODE_CODER")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=project_dir.root, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
    assert (project_dir.root / "m.svg").exists() and (project_dir.root / "s.svg").exists()


def test_png_is_still_written_with_matplotlib(cli, coded, project_dir):
    for args in (["--rollup"], ["--codes", "lead-strong", "--where", "school=Voss"]):
        (project_dir.root / "m.png").unlink(missing_ok=True)
        result = cli("matrix", "--by", "school", "-c", "a", *args, "--plot", "m.png")
        assert result.exit_code == 0, result.stderr
        assert (project_dir.root / "m.png").read_bytes().startswith(PNG_MAGIC)


# -- the drawing itself ----------------------------------------------------------------------------

def grid(rows: dict[str, list[float]], measure: str = "segments") -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["Voss", "Lier"])
    frame.attrs = {"measure": measure, "column_n": [4, 5]}
    return frame


def test_a_big_parent_does_not_set_the_scale():
    frame = grid({"parent": [40, 30], "a": [1, 3], "b": [0, 2]})
    root = parsed(heatmap_svg(frame, "t", sum_rows={"parent"}))
    assert legend_text(root)[:3] == ["segments", "0", "3"]
    drawn = cells(root)
    assert drawn[0, 0][1] == drawn[0, 1][1] == SUM_FILL
    assert drawn[1, 1][1] == scale_colour(1.0) and drawn[2, 0][1] == scale_colour(0.0)
    assert columns(root) == ["Voss (n=4)", "Lier (n=5)"]


def test_all_values_equal_are_one_colour_and_the_legend_says_so():
    root = parsed(heatmap_svg(grid({"a": [2, 2], "b": [2, 2]}), "t"))
    assert len({fill for _, fill, _ in cells(root).values()}) == 1
    assert "all 2" in legend_text(root)
    assert "all 2" in root.find("s:desc", NS).text


def test_percentages_print_one_decimal():
    root = parsed(heatmap_svg(grid({"a": [12.5, 100.0]}, "documents-pct"), "t"))
    assert sorted(t for t, _, _ in cells(root).values()) == ["100", "12.5"]
    assert legend_text(root)[0] == "documents-pct"


def test_project_text_stays_text():
    hostile = "<script>alert(1)</script> & \x1b[31m \ufffe\"'"
    frame = grid({"a": [1, 2]})
    frame.columns = [hostile, "Lier"]
    svg = heatmap_svg(frame, f"title {hostile}", row_labels=[f"label {hostile}"])
    root = parsed(svg)
    assert not list(root.iter("script")) and "<script>" not in svg
    assert text_of(classed(root, "text", "row")[0]) == "label <script>alert(1)</script> & ␛[31m �\"'"
    assert "<script>" in root.get("aria-label") and "␛" in root.find("s:title", NS).text
    assert columns(root)[0].startswith("<script>")


def test_a_long_title_is_wrapped_inside_the_drawing():
    title = "A study " + "with a very long scope description " * 8 + "x" * 150
    root = parsed(heatmap_svg(grid({"a": [1, 2]}), title))
    lines = [t.text for t in classed(root, "text", "title")[0]]
    assert len(lines) > 2 and "".join(lines).replace(" ", "") == title.replace(" ", "")
    width = float(root.get("width"))
    assert all(16 + len(line) * TITLE_SIZE * CHAR_WIDTH <= width for line in lines)


@given(st.floats(0, 1))
def test_every_shade_has_aa_contrast_for_its_number(fraction):
    fill = scale_colour(fraction)
    assert contrast(fill, text_colour(fill)) >= 4.5


def test_the_cells_text_colours_follow_the_shade():
    drawn = cells(parsed(heatmap_svg(grid({"a": [0, 10]}), "t")))
    assert drawn[0, 0][2] == "#000000" and drawn[0, 1][2] == "#ffffff"


def test_curve_of_no_transcripts_is_still_a_drawing():
    frame = pd.DataFrame({"position": [], "transcript": [], "new": [], "cumulative": []})
    assert parsed(curve_svg(frame, "empty")).get("role") == "img"


def test_png_leaves_sums_off_its_scale_wraps_its_title_and_labels_its_bar(monkeypatch):
    import matplotlib.axes
    import matplotlib.colorbar

    from qcode.render.tables import heatmap_bytes

    seen: dict = {}
    imshow, set_title = matplotlib.axes.Axes.imshow, matplotlib.axes.Axes.set_title
    set_label = matplotlib.colorbar.Colorbar.set_label

    def spy(name, real):
        def wrapper(self, value, *args, **kwargs):
            seen.setdefault(name, []).append((value, kwargs))
            return real(self, value, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", spy("imshow", imshow))
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", spy("title", set_title))
    monkeypatch.setattr(matplotlib.colorbar.Colorbar, "set_label", spy("bar", set_label))
    data = heatmap_bytes(grid({"parent": [40, 30], "a": [1, 3]}), ".png", "word " * 60,
                         sum_rows={"parent"})
    assert data.startswith(PNG_MAGIC)
    norm = seen["imshow"][0][1]["norm"]
    assert (norm.vmin, norm.vmax) == (1, 3)
    assert seen["title"][0][0].count("\n") >= 1
    assert seen["bar"][-1][0] == "segments"
    seen.clear()
    heatmap_bytes(grid({"a": [1, 1]}), ".png", "t")
    norm = seen["imshow"][0][1]["norm"]
    assert norm.vmin < 1 < norm.vmax and (norm.vmin, norm.vmax) != (0.9, 1.1)


# -- the bundled study --------------------------------------------------------------------------

def test_bundled_study_rollup_heat_map_scales_to_the_leaf_codes(tmp_path):
    project = Project.open(REPO)
    matrix = project.matrix("school", "segments", rollup=True, all_coders=True)
    codebook = project.codebook
    parents = {c for c in map(str, matrix.index) if codebook.children(c)}
    from qcode.cli.analyse import sum_rows

    assert sum_rows(matrix, codebook) == parents
    root = parsed(heatmap_svg(matrix, "study", sum_rows=parents))
    assert len(cells(root)) == matrix.size
    leaves = matrix.drop(index=list(parents))
    assert legend_text(root)[1:3] == [str(int(leaves.to_numpy().min())),
                                      str(int(leaves.to_numpy().max()))]
    # the parents would have set the top of the scale: the question the map answers is
    # which leaf codes each school has, not that a whole theme is large
    assert matrix.to_numpy().max() > leaves.to_numpy().max()
    assert len(classed(root, "text", "sum")) == len(parents)


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_bundled_study_plot_through_the_cli(suffix, tmp_path):
    from typer.testing import CliRunner

    from qcode.cli.app import app

    out = tmp_path / f"m{suffix}"
    result = CliRunner().invoke(app, ["--project", str(REPO), "matrix", "--by", "school",
                                      "--all-coders", "--rollup", "--plot", str(out),
                                      "-f", "csv"])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) if suffix == ".png" else parsed(data.decode()) is not None
