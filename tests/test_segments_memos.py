"""Memo files beside coded segments (#20 item 4): `qcode segments` shows each code's memos
under its heading and each case's under its `--by` group, escaped in every format; JSON
gets them only with --memos (an object), so its bare list stays as it was."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook

from qcode.format.memos import Memo, MemoAbout
from qcode.render.segment_memos import segment_memos

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) \x1b[31mred\x1b[0m\nline two"


def _memos(cli) -> None:
    for args in (("code", "lead-weak", "-c", "a", "-t", "Weak: heads hand it down."),
                 ("code", "lead-weak", "-c", "b", "-t", "Also weak where busy."),
                 ("code", "ownership", "-c", "a", "-t", "Ownership memo."),
                 ("case", "school=Lier", "-c", "a", "-t", "Lier merged two schools."),
                 ("case", "informant_group=teacher", "-c", "a", "-t", "Teachers, all."),
                 ("transcript", "voss-principal", "-c", "a", "-t", "Not beside segments."),
                 ("project", "-c", "a", "-t", "Nor is this.")):
        result = cli("memo", *args)
        assert result.exit_code == 0, result.output


def test_md_puts_code_memos_under_the_code_and_case_memos_under_the_group(cli, coded):
    _memos(cli)
    md = cli("segments", "lead-weak", "ownership", "-c", "a", "--by", "school", "-f",
             "md").stdout
    lines = [line for line in md.splitlines() if line.startswith(("#", "*Memo*"))]
    assert lines == [
        "# Fixture study: coded segments of lead-weak, ownership (coders: a; 3 transcripts)",
        "## Weak anchoring (`lead-weak`)",
        "*Memo* (a): Weak: heads hand it down.",
        "*Memo* (b): Also weak where busy.",
        "### school: Lier",
        "*Memo* (a): Lier merged two schools.",
        "### school: Strinda",
        "## Staff ownership (`ownership`)",
        "*Memo* (a): Ownership memo.",
        "### school: Voss"]
    assert "Not beside" not in md and "Nor is this" not in md and "Teachers" not in md


def test_case_memos_follow_the_by_attribute(cli, coded):
    """By informant_group, the memo on informant_group=teacher is under `teacher`, and
    school=Lier's is nowhere (its attribute is not the grouping one); without --by no
    case memo is shown."""
    _memos(cli)
    md = cli("segments", "personal", "-c", "a", "--by", "informant_group", "-f", "md").stdout
    assert "### informant_group: teacher\n\n*Memo* (a): Teachers, all.\n" in md
    assert "Lier merged" not in md
    plain = cli("segments", "lead-weak", "-c", "a", "-f", "md").stdout
    assert "Lier merged" not in plain and "Weak: heads" in plain


def test_html_and_terminal_show_them(cli, coded, monkeypatch):
    _memos(cli)
    html = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "html").stdout
    # the report's quotes renderer: a value's heading is h4, its attribute as a label
    assert ("<h4>School: Lier</h4>\n<p class=\"memo\"><em>Memo</em> (a): "
            "Lier merged two schools.</p>") in html
    assert html.index("Weak: heads") < html.index("<h4>School: Lier</h4>")
    monkeypatch.setenv("COLUMNS", "200")
    table = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "table").stdout
    order = [line for line in table.splitlines()
             if line.startswith(("Weak anchoring", "memo (", "school:"))]
    assert order == ["Weak anchoring (lead-weak)", "memo (a): Weak: heads hand it down.",
                     "memo (b): Also weak where busy.", "school: Lier",
                     "memo (a): Lier merged two schools.", "school: Strinda"]


def test_json_stays_a_list_unless_memos_is_asked(cli, coded):
    _memos(cli)
    plain = json.loads(cli("segments", "lead-weak", "-c", "a", "-f", "json").stdout)
    assert isinstance(plain, list) and len(plain) == 2
    both = json.loads(cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "json",
                          "--memos").stdout)
    assert both["segments"] == plain
    assert [(m["about"], m["author"], m["text"]) for m in both["memos"]] == [
        ("code:lead-weak", "a", "Weak: heads hand it down."),
        ("code:lead-weak", "b", "Also weak where busy."),
        ("case:school=Lier", "a", "Lier merged two schools.")]
    refused = cli("segments", "lead-weak", "-c", "a", "-f", "csv", "--memos")
    assert refused.exit_code == 2 and "--memos" in refused.stderr
    assert "Traceback" not in refused.output


def test_csv_unchanged_and_xlsx_gets_a_memos_sheet(cli, coded, project_dir):
    before = cli("segments", "lead-weak", "-c", "a").stdout
    _memos(cli)
    assert cli("segments", "lead-weak", "-c", "a").stdout == before
    assert next(csv.reader(io.StringIO(before)))[:3] == ["code", "label", "transcript"]
    out = project_dir.root / "weak.xlsx"
    assert cli("segments", "lead-weak", "-c", "a", "--by", "school", "-o",
               str(out)).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["data", "memos"]
    rows = list(book["memos"].iter_rows(values_only=True))
    assert rows[0] == ("about", "author", "created", "updated", "file", "text")
    assert [(r[0], r[1]) for r in rows[1:]] == [("code:lead-weak", "a"), ("code:lead-weak", "b"),
                                                ("case:school=Lier", "a")]
    no_memos = project_dir.root / "outcomes.xlsx"
    assert cli("segments", "outcomes", "-c", "a", "-o", str(no_memos)).exit_code == 0
    assert load_workbook(no_memos).sheetnames == ["data"]


def test_a_hostile_memo_is_only_text_in_every_format(cli, coded, monkeypatch):
    assert cli("memo", "code", "lead-weak", "-c", "a", "-t", HOSTILE).exit_code == 0
    assert cli("memo", "case", "school=Lier", "-c", "a", "-t", HOSTILE).exit_code == 0
    md = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "md").stdout
    assert "<script>" not in md and "\x1b" not in md
    assert "](javascript" not in md.replace("\\](", "")  # no link: its "]" is escaped
    assert md.count("*Memo* (a): &lt;script>alert(1)&lt;/script> \\[x\\](javascript:") == 2
    html = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "html").stdout
    assert "<script>" not in html and html.count("&lt;script&gt;") == 2
    monkeypatch.setenv("COLUMNS", "300")
    table = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "table").stdout
    assert "\x1b" not in table and table.count("line two") == 2
    data = cli("segments", "lead-weak", "-c", "a", "--by", "school", "-f", "json", "--memos")
    assert "\x1b" not in data.stdout  # to_json writes controls as \u escapes
    assert json.loads(data.stdout)["memos"][0]["text"] == HOSTILE


def _memo(about: str, author: str | None = "a") -> Memo:
    kind, _, target = about.partition(":")
    return Memo(MemoAbout(kind, target), author, None, None, f"on {about}", "memos/x.md", 2)


def test_segment_memos_picks_the_codes_and_values_shown():
    """The library: a code memo naming a former id counts for the current one (and says
    so); a case memo counts only for a value shown of the --by attribute; a boolean value
    matches its text."""
    memos = [_memo("code:anchoring"), _memo("code:lead-weak"), _memo("case:school=Voss"),
             _memo("case:school=Lier"), _memo("case:online=true"), _memo("project", None),
             _memo("transcript:voss-principal")]
    canonical = {"anchoring": "lead-strong"}.get
    chosen = segment_memos(memos, ["lead-strong"], "school", ["Voss", None],
                           lambda c: canonical(c) or c)
    assert [str(m.about) for m in chosen.all()] == ["code:lead-strong", "case:school=Voss"]
    assert chosen.for_code("lead-weak") == [] and chosen.for_value(None) == []
    by_bool = segment_memos(memos, [], "online", [True])
    assert [m.text for m in by_bool.for_value(True)] == ["on case:online=true"]
    assert segment_memos(memos, ["lead-weak"], None, []).records()[0]["about"] == \
        "code:lead-weak"


def test_bundled_study_segments_show_its_code_memos(tmp_path):
    """On the bundled study: a code memo written on a copy, naming the code by its former
    id (leadership-strong, now leadership-involved), shows over that code's quotes, before
    the first school; the study's segments JSON is still a list."""
    import shutil

    from typer.testing import CliRunner

    from qcode.cli.app import app

    study = tmp_path / "study"
    shutil.copytree(REPO, study, ignore=shutil.ignore_patterns(
        ".git", ".venv", "src", "tests", "bench", "*.egg-info", "__pycache__"))
    runner = CliRunner()
    wrote = runner.invoke(app, ["--project", str(study), "memo", "code", "leadership-strong",
                                "-c", "consensus", "-t", "Strong where the head stays."])
    assert wrote.exit_code == 0, wrote.output
    md = runner.invoke(app, ["--project", str(study), "segments", "leadership-strong", "-c",
                             "consensus", "--by", "school", "-f", "md"]).stdout
    heading = md.index("## Leaders take part (involvement +) (`leadership-involved`)")
    assert md.index("*Memo* (consensus): Strong where the head stays.") > heading
    assert md.index("Strong where the head stays.") < md.index("### school:")
    listed = runner.invoke(app, ["--project", str(study), "segments", "leadership-strong",
                                 "-c", "consensus", "-f", "json"])
    assert isinstance(json.loads(listed.stdout), list)
