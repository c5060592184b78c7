"""Hostile input costs seconds, not hours (issue #17, items 8-13): clean-up that stays
linear, counts an input declares bounded, zip bombs refused however they are split, user
regexes run with a time budget, deep nesting reported with its line, and large honest
files read. Every hostile file is built here, small; limits are lowered where the real
one would need gigabytes. Time bounds are generous: the bugs took minutes or hours."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CONFIG
from qcode import Project
from qcode.coding.autocode.units import split_sentences
from qcode.format.yamlio import YamlProblem, parse_simple_mapping, parse_yaml
from qcode.importers import ImportFailed, read_bytes
from qcode.importers._common import clean_body
from qcode.interchange.safety import UnsafeInput


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# -- item 8: clean-up and splitting in linear time --------------------------------------------


def test_a_megabyte_of_spaces_is_cleaned_in_well_under_a_second():
    assert seconds(lambda: clean_body("I: a" + " " * 1_000_000 + "\n")) < 2
    line = "I: a" + " " * 200_000 + "b\n"
    assert seconds(lambda: clean_body(line)) < 2
    assert clean_body(line) == line  # spaces inside a line are text


def test_a_transcript_with_a_megabyte_whitespace_run_imports_quickly():
    raw = ("I: a" + " \t" * 500_000 + "\nR: b" + " " * 200_000 + "c\n").encode()
    took = seconds(lambda: read_bytes(raw, ".txt"))
    assert took < 2
    assert read_bytes(raw, ".txt").text.startswith("I: a\nR: b ")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=" \t\nab\r\u2028", max_size=40))
def test_trailing_spaces_go_as_the_multiline_regex_said(text):
    expected = re.sub(r"[ \t]+$", "", text.replace("\r\n", "\n").replace("\r", "\n")
                      .replace("\u2028", "\n"), flags=re.MULTILINE)
    expected = re.sub(r"\n{3,}", "\n\n", expected).strip("\n")
    expected = expected + "\n" if expected.strip() else ""
    assert clean_body(text) == expected


def test_the_sentence_splitter_is_linear_on_runs_of_marks():
    dots = "I: " + "." * 20_000 + "x. Neste setning."
    assert seconds(lambda: split_sentences(dots, 3, len(dots))) < 2
    assert split_sentences(dots, 3, len(dots)) == [(3, 20_005), (20_006, len(dots))]


_OLD_SENTENCE_END = re.compile(r"[.!?…]+[\"»”’')\]]*\s+(?=\S)|\n[ \t]*\n")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=".!? \n\"aB«)", max_size=30))
def test_sentences_split_where_they_did_before(text):
    from qcode.coding.autocode import units

    new = units.split_sentences(text, 0, len(text))
    saved = units._SENTENCE_END
    try:
        units._SENTENCE_END = _OLD_SENTENCE_END
        old = units.split_sentences(text, 0, len(text))
    finally:
        units._SENTENCE_END = saved
    assert new == old


def test_other_cleanup_patterns_stay_linear_on_long_runs():
    from qcode.importers.subtitles import _VOICE, _plain
    from qcode.interchange.qdpx_import import _SET_ATTRIBUTE

    run = " " * 100_000
    assert seconds(lambda: parse_simple_mapping("a: x" + run + "y")) < 2
    assert parse_simple_mapping("a: x" + run + "y").data == {"a": "x" + run + "y"}
    assert parse_simple_mapping("a:" + run).data == {"a": None}
    assert parse_simple_mapping("a:x") is None
    assert seconds(lambda: _VOICE.match("<v" + run)) < 2
    assert _VOICE.match("<v  Ann Lee>hei").group(1) == "Ann Lee"
    assert seconds(lambda: _plain("<" * 100_000 + "{\\" * 50_000)) < 2
    assert _plain("<i>hei</i> {\\an8}du") == "hei du"
    assert seconds(lambda: _SET_ATTRIBUTE.fullmatch("gender: x" + run + "y")) < 2
    assert _SET_ATTRIBUTE.fullmatch(" gender :  female  ").groups() == ("gender", "female")
    assert _SET_ATTRIBUTE.fullmatch("gender: a b\nc") is None


# -- item 9: counts an .odt declares, and the size of one import -------------------------------

ODT_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            '<office:body><office:text>')
ODT_TAIL = "</office:text></office:body></office:document-content>"


def odt(body: str, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", ODT_HEAD + body + ODT_TAIL)
        for name, payload in (extra or {}).items():
            archive.writestr(name, payload)
    return out.getvalue()


def test_space_counts_an_odt_declares_are_bounded_and_bad_ones_reported(project_dir, cli):
    huge = project_dir.write("huge.odt", odt('<text:p>I: a<text:s text:c="2000000000"/>b'
                                              '</text:p>'))
    bad = project_dir.write("bad.odt", odt('<text:p>I: a<text:s text:c="x"/>b<text:s '
                                           'text:c="-3"/>c<text:s text:c="3"/>d</text:p>'))
    start = time.perf_counter()
    result = cli("import", "transcripts", str(huge), str(bad), "--dry-run")
    assert time.perf_counter() - start < 10
    assert result.exit_code == 0, result.output
    assert "1 run of more than 1,000 spaces (text:c) cut to 1,000" in result.output
    assert "space counts that are not a number (text:c='x', '-3')" in result.output
    assert read_bytes(bad.read_bytes(), ".odt").text == "I: a b c   d\n"


def test_one_import_is_bounded_in_size(monkeypatch, project_dir, cli):
    from qcode.importers import _common

    monkeypatch.setattr(_common, "MAX_TRANSCRIPT_CHARS", 20_000)
    spaces = '<text:p>I: a' + '<text:s text:c="1000"/>b' * 30 + '</text:p>'
    with pytest.raises(ImportFailed, match="more than 20,000 characters"):
        read_bytes(odt(spaces), ".odt")
    big = project_dir.write("big.txt", "I: " + "ord " * 10_000 + "\n")
    result = cli("import", "transcripts", str(big), "--dry-run")
    assert result.exit_code == 1
    assert "big.txt: becomes more than 20,000 characters of text" in result.output


# -- item 10: zip bombs, however they are split --------------------------------------------


def zip_of(members: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return out.getvalue()


MINIMAL_QDE = '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>'


def test_a_zip_bomb_split_across_many_members_is_refused(tmp_path, monkeypatch):
    """The issue's archive had 100 members of 9.9 MB, each under the per-member check;
    here 40 of 400 KB, with the size the ratio applies from lowered to match."""
    from qcode.interchange import safety
    from qcode.project import import_qdpx

    monkeypatch.setattr(safety, "BOMB_MIN_SIZE", 1024 * 1024)  # per member and in total
    members = {"project.qde": MINIMAL_QDE,
               **{f"sources/{i}.txt": b"a" * 400_000 for i in range(40)}}
    archive = tmp_path / "split.qdpx"
    archive.write_bytes(zip_of(members))
    assert archive.stat().st_size < 200_000
    with pytest.raises(UnsafeInput, match="its 41 members expand"):
        import_qdpx(archive, tmp_path / "p")
    assert not (tmp_path / "p").exists()


def test_a_word_or_odt_file_split_into_small_parts_is_refused(monkeypatch):
    from qcode.importers import _common

    monkeypatch.setattr(_common, "ZIP_RATIO_FROM", 1024 * 1024)
    parts = {f"Pictures/{i}.xml": b"<a/>" * 200_000 for i in range(20)}  # 800 KB each
    raw = odt("<text:p>I: hei</text:p>", parts)
    assert len(raw) < 200_000
    with pytest.raises(ImportFailed, match="-fold, to 15 MB"):
        read_bytes(raw, ".odt")


def lie_about_size(raw: bytes, name: str, size: int) -> bytes:
    """The archive with ``name``'s uncompressed size in the central directory changed."""
    data = bytearray(raw)
    at = data.rfind(b"PK\x01\x02")
    while at != -1:
        name_length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + name_length] == name.encode():
            data[at + 24:at + 28] = size.to_bytes(4, "little")
            return bytes(data)
        at = data.rfind(b"PK\x01\x02", 0, at)
    raise AssertionError(name)


def test_a_member_that_unpacks_past_its_declared_size_is_not_followed(tmp_path):
    from qcode.importers._common import open_zip, read_member
    from qcode.interchange import safety

    raw = lie_about_size(zip_of({"project.qde": MINIMAL_QDE, "sources/a.txt": b"a" * 5_000_000}),
                         "sources/a.txt", 1_000)
    (tmp_path / "lie.qdpx").write_bytes(raw)
    archive = safety.open_archive(tmp_path / "lie.qdpx")
    try:
        with pytest.raises(UnsafeInput, match=r"cannot read sources/a\.txt"):
            archive.read(archive.find("sources/a.txt"))
        assert archive.read_total < 2_000_000
    finally:
        archive.close()
    with pytest.raises(ImportFailed, match="damaged"):
        read_member(open_zip(raw, "x"), "sources/a.txt", "x")


# -- item 12: deep nesting is a file:line error ------------------------------------------------


def check_json(cli) -> tuple[int, list[dict]]:
    result = cli("check", "--format", "json")
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result.exit_code, json.loads(result.stdout)["problems"]


def test_deep_yaml_in_the_config_and_front_matter_is_reported_with_its_line(project_dir, cli):
    project_dir.replace("qcode.yaml", "segmentation: turns\n",
                        "segmentation: turns\nextra: " + "[" * 5000 + "]" * 5000 + "\n")
    code, problems = check_json(cli)
    assert code == 1
    deep = [p for p in problems if p["rule"] == "yaml-too-deep"]
    assert deep and deep[0]["file"] == "qcode.yaml" and deep[0]["line"] == 6
    project_dir.write("qcode.yaml", CONFIG)
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier\n",
                        "school: Lier\nnested: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n")
    code, problems = check_json(cli)
    assert code == 1
    [problem] = [p for p in problems if p["file"] == "transcripts/lier-teacher.md"]
    assert problem["rule"] == "transcript-front-matter" and problem["line"] == 3
    assert "more than 100 levels" in problem["message"]


def deep_codebook(levels: int) -> str:
    lines = ["name: Deep", "codes:"]
    for level in range(levels):
        pad = "  " * (2 * level)
        lines += [f"{pad}  - id: c{level}", f"{pad}    label: C {level}",
                  f"{pad}    description: level {level}"]
        if level < levels - 1:
            lines.append(f"{pad}    children:")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("levels", "rule", "line"), [
    (40, "codebook-too-deep", 3 + 4 * 32), (300, "yaml-too-deep", None)])
def test_a_deep_codebook_is_reported_with_its_line(project_dir, cli, levels, rule, line):
    project_dir.write("codebooks/codes.yaml", deep_codebook(levels))
    code, problems = check_json(cli)
    assert code == 1
    [problem] = [p for p in problems if p["file"] == "codebooks/codes.yaml"]
    assert problem["rule"] == rule
    if line:
        assert problem["line"] == line and "'c32' is nested 33 levels deep" in problem["message"]
    assert cli("codes").exit_code == 1


def test_a_deep_regex_and_a_deep_query_are_refused_plainly(project_dir, cli):
    from test_autocode import codebook_with

    codebook_with(project_dir, '          - regex: "' + "(" * 2000 + "a" + ")" * 2000 + '"\n')
    code, problems = check_json(cli)
    assert code == 1 and any(p["rule"] == "rule-regex" and "nests groups 2000 deep"
                             in p["message"] and p["line"] for p in problems)
    for expression in ("(" * 5000 + "ownership" + ")" * 5000, "!" * 5000 + "ownership",
                       "near(" * 3000 + "ownership"):
        result = cli("query", expression)
        assert result.exit_code == 2, result.output
        assert "nests more than 100 levels" in result.stderr
    chain = " & ".join(["ownership"] * 5000)
    assert cli("query", chain).exit_code in (0, 1)
    assert cli("query", " | ".join(["ownership"] * 5000)).exit_code in (0, 1)


def test_a_log_line_with_a_deep_field_is_a_bad_line_and_export_works(project_dir, cli, tmp_path):
    project = Project.open(project_dir.root)
    body = project.transcript("voss-principal").body
    event = json.dumps({"op": "add", "id": "deep0001", "transcript": "voss-principal",
                        "start": 0, "end": 2, "code": "ownership", "text": body[:2],
                        "at": "2024-01-01T00:00:00Z", "extra": "DEEP"})
    project_dir.append_log("a", event.replace('"DEEP"', "[" * 1000 + "]" * 1000))
    code, problems = check_json(cli)
    assert code == 1
    assert [(p["rule"], p["line"]) for p in problems if p["file"] == "codings/a.jsonl"] == [
        ("log-invalid-event", 1)]
    result = cli("export", "qdpx", "--output", str(tmp_path / "out.qdpx"))
    assert result.exit_code in (0, 1)
    assert "internal error" not in result.output and "Traceback" not in result.output


def test_deep_xml_in_qdc_qdpx_and_odt_is_refused_with_its_line(tmp_path, cli):
    codes = "".join(f'<Code guid="c0000000-0000-4000-8000-{i:012d}" name="c{i}" '
                    'isCodable="true">\n' for i in range(200)) + "</Code>" * 200
    qdc = tmp_path / "deep.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>\n' + codes
                   + "</Codes></CodeBook>", encoding="utf-8")
    result = cli("import", "qdc", str(qdc), "--into", str(tmp_path / "c.yaml"))
    assert result.exit_code == 1
    assert "code 'c32' (line 34) is nested 33 levels deep" in result.stderr
    assert not (tmp_path / "c.yaml").exists()

    qde = ('<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n' + "<Sources>" * 3000
           + "</Sources>" * 3000 + "</Project>")
    archive = tmp_path / "deep.qdpx"
    archive.write_bytes(zip_of({"project.qde": qde}))
    result = cli("import", "qdpx", str(archive), "--into", str(tmp_path / "p"))
    assert result.exit_code == 1
    assert "nests elements more than 256 deep (line 2)" in result.stderr
    assert not (tmp_path / "p").exists()

    spans = "<text:p>I: " + "<text:span>" * 5000 + "x" + "</text:span>" * 5000 + "</text:p>"
    with pytest.raises(ImportFailed, match="nested more than 256 elements deep"):
        read_bytes(odt(spans), ".odt")
    spans = "<text:p>I: a" + "<text:span>b" * 200 + "c" + "</text:span>d" * 200 + "</text:p>"
    assert read_bytes(odt(spans), ".odt").text == "I: a" + "b" * 200 + "c" + "d" * 200 + "\n"


def test_deep_json_in_the_qcode_block_is_ignored_not_followed(tmp_path, project_dir):
    from qcode.project import import_qdpx

    deep = "[" * 100_000 + "]" * 100_000
    qde = (f'<?qcode {{"format": "qcode-refi", "deep": {deep}}}?>'
           '<Project xmlns="urn:QDA-XML:project:1.0" name="x"/>')
    archive = tmp_path / "deep.qdpx"
    archive.write_bytes(zip_of({"project.qde": qde}))
    import_qdpx(archive, tmp_path / "p")
    assert (tmp_path / "p" / "qcode.yaml").exists()


def test_nested_front_matter_in_an_imported_markdown_file(project_dir, cli):
    path = project_dir.write("deep.md", "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nI: hei\n")
    result = cli("import", "transcripts", str(path), "--dry-run")
    assert result.exit_code == 1
    assert "front matter that does not parse (line 2" in result.output


# -- item 13: aliases are what the bomb rule counts; large honest files load ---------------


def test_plain_values_do_not_count_as_an_alias_bomb():
    text = "".join(f"- {i}\n" for i in range(210_000))
    assert len(parse_yaml(text).data) == 210_000


def test_alias_expansion_is_still_bounded(monkeypatch):
    from qcode.format import yamlio

    monkeypatch.setattr(yamlio, "MAX_ALIAS_VALUES", 1000)
    lines = ["a: &a [" + ", ".join(["x"] * 50) + "]", "b: [" + ", ".join(["*a"] * 19) + "]"]
    assert len(parse_yaml("\n".join(lines)).data["b"]) == 19  # 19 x 51 values
    lines[1] = "b: [" + ", ".join(["*a"] * 20) + "]"
    with pytest.raises(YamlProblem, match="aliases expand to more than 1,000") as info:
        parse_yaml("\n".join(lines))
    assert info.value.rule == "yaml-too-large" and info.value.line == 2


# -- item 11: slow patterns: checked where obvious, stopped by a time budget always ------------


def test_check_warns_of_slow_pattern_shapes_with_their_lines(project_dir):
    from test_autocode import check_rules_found, codebook_with

    codebook_with(project_dir, """\
          - regex: "(a|aa)+b"
          - regex: "(.*a){10}x"
          - regex: "(aa?)+b"
          - regex: "(\\\\d|\\\\d\\\\d)+x"
          - regex: "(a+)+b"
          - regex: "(ab?)+c"
          - regex: "(?i)\\\\bfå (med )?(flere |nok )?lærer(e|ne)\\\\b"
          - regex: "(\\\\w+\\\\s+){2,5}slutt"
""")
    start = project_dir.read("codebooks/codes.yaml").splitlines().index("        rules:") + 2
    assert check_rules_found(project_dir) == [
        ("rule-slow-pattern", start), ("rule-slow-pattern", start + 1),
        ("rule-slow-pattern", start + 2), ("rule-slow-pattern", start + 3),
        ("rule-backtracking", start + 4)]


def test_a_regex_rule_past_its_budget_stops_autocode_with_its_line(project_dir, cli,
                                                                   monkeypatch):
    from qcode.format import matching
    from test_autocode import codebook_with

    monkeypatch.setattr(matching, "REGEX_SECONDS", 0.05)
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del av planen",
                        "Det ble " + "a" * 32 + " en del av planen")
    codebook_with(project_dir, '          - regex: "(a|aa)+b"\n')
    line = project_dir.read("codebooks/codes.yaml").splitlines().index("        rules:") + 2
    started = time.perf_counter()
    result = cli("autocode", "--coder", "auto")
    assert time.perf_counter() - started < 10
    assert result.exit_code == 1, result.output
    assert (f"codebooks/codes.yaml:{line}: the rule regex '(a|aa)+b' of code 'lead-weak' took "
            "more than 0.1 s on transcript 'voss-principal'") in result.stderr
    assert "proposed nothing" in result.stderr
    assert not (project_dir.root / "codings" / "auto.suggestions.jsonl").exists()


def test_wildcards_in_match_and_speaker_rules_run_in_linear_time(project_dir, cli):
    from qcode.format.rules import speaker_regex, word_regex
    from test_autocode import codebook_with

    assert seconds(lambda: re.fullmatch(word_regex("a*a*a*a*a*a*a*a*a*b"), "a" * 5000)) < 1
    assert seconds(lambda: speaker_regex("*a*a*a*a*a*a*a*a*a*a*a*b").fullmatch("a" * 40)) < 1
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del av planen",
                        "Det ble " + "a" * 3000 + " en del av planen")
    codebook_with(project_dir, '          - match: "a*a*a*a*a*a*a*a*b"\n'
                               '          - all: [{speaker: "*a*a*a*a*a*a*a*a*a*a*a*b"},'
                               ' {match: "planen"}]\n')
    started = time.perf_counter()
    result = cli("autocode", "--coder", "auto", "--dry-run")
    assert time.perf_counter() - started < 10
    assert result.exit_code == 0, result.output


def _naive_word(word: str) -> str:
    return "".join(r"\w*" if ch == "*" else r"\w" if ch == "?" else re.escape(ch)
                   for ch in word)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab*?-", min_size=1, max_size=7),
       st.text(alphabet="ab-", max_size=9))
def test_linear_wildcards_match_what_the_plain_translation_matched(pattern, text):
    from qcode.format.rules import _glob, word_regex

    bounded = r"(?<!\w)" + word_regex(pattern) + r"(?!\w)"
    naive = r"(?<!\w)" + _naive_word(pattern) + r"(?!\w)"
    assert [m.span() for m in re.finditer(bounded, text)] == \
        [m.span() for m in re.finditer(naive, text)]
    glob = re.compile(_glob(pattern, ".", "."), re.DOTALL)
    naive_glob = re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                                    for ch in pattern), re.DOTALL)
    assert bool(glob.fullmatch(text)) == bool(naive_glob.fullmatch(text))


# -- every input kind, fuzzed with the shapes above --------------------------------------------

_SHAPES = ("deep-list", "deep-map", "spaces", "marks", "aliases", "groups")


def _hostile(shape: str, size: int) -> str:
    """A YAML-or-text value of one hostile shape (on one line)."""
    if shape == "deep-list":
        return "[" * size + "]" * size
    if shape == "deep-map":
        return "{a: " * size + "1" + "}" * size
    if shape == "spaces":
        return "x" + " " * (size * 100) + "y"
    if shape == "marks":
        return "." * (size * 10) + "x"
    if shape == "aliases":
        return "&a [" + ", ".join(["x"] * size) + "]"
    return "(" * size + "a" + ")" * size


def _plant(builder, kind: str, value: str, archive_dir) -> list[str]:
    """Put ``value`` into one input kind; returns the command to run on it."""
    quoted = json.dumps(value)
    if kind == "codebook":
        builder.replace("codebooks/codes.yaml", "description: Teachers own the work.",
                        f"description: Teachers own the work.\n    extra: {value}")
        return ["check", "--format", "json"]
    if kind == "rule":
        builder.replace("codebooks/codes.yaml", "description: Teachers own the work.",
                        f"description: Teachers own the work.\n    rules: [{{regex: {quoted}}}]")
        return ["autocode", "--dry-run", "--coder", "auto"]
    if kind == "config":
        builder.replace("qcode.yaml", "segmentation: turns", f"segmentation: turns\nx: {value}")
        return ["check", "--format", "json"]
    if kind == "front-matter":
        builder.replace("transcripts/lier-teacher.md", "school: Lier", f"school: Lier\nx: {value}")
        return ["check", "--format", "json"]
    if kind == "body":
        builder.replace("transcripts/lier-teacher.md", "Jeg er enig", value[:200_000])
        return ["autocode", "--dry-run", "--coder", "auto", "--keywords"]
    if kind == "log":
        event = json.dumps({"op": "add", "id": "f0001", "transcript": "voss-principal",
                            "start": 0, "end": 2, "code": "ownership", "text": "I:",
                            "at": "2024-01-01T00:00:00Z", "x": "X"})
        builder.append_log("a", event.replace('"X"', quoted if shape_is_text(value)
                                              else value.replace("&a ", "")))
        return ["check", "--format", "json"]
    if kind == "cases":
        builder.replace("cases/schools.csv", "Lier,450,mature", f"Lier,450,{quoted}")
        return ["check", "--format", "json"]
    if kind == "query":
        return ["query", value.replace("a", "ownership")[:20_000]]
    if kind == "odt":
        path = archive_dir / "in.odt"
        path.write_bytes(odt(f"<text:p>I: {value[:200_000]}</text:p>"))
        return ["import", "transcripts", str(path), "--dry-run"]
    if kind == "qdc":
        path = archive_dir / "in.qdc"
        path.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                        f'<Code guid="c0000000-0000-4000-8000-000000000001" name={quoted} '
                        'isCodable="true"/></Codes></CodeBook>', encoding="utf-8")
        return ["import", "qdc", str(path), "--into", str(archive_dir / "c.yaml")]
    path = archive_dir / "in.qdpx"
    path.write_bytes(zip_of({"project.qde": '<Project xmlns="urn:QDA-XML:project:1.0" '
                             f'name={quoted}><Sources><TextSource guid="5e000000-0000-4000-'
                             '8000-000000000001" name="s" plainTextPath="s.txt"/></Sources>'
                             "</Project>", "sources/s.txt": "I: " + value[:200_000]}))
    return ["import", "qdpx", str(path), "--into", str(archive_dir / "p")]


def shape_is_text(value: str) -> bool:
    return not value.startswith(("[", "{", "&"))


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["codebook", "rule", "config", "front-matter", "body", "log",
                             "cases", "query", "odt", "qdc", "qdpx"]),
       shape=st.sampled_from(_SHAPES), size=st.sampled_from([3, 120, 2000, 5000]))
def test_hostile_shapes_in_every_input_kind_end_in_a_plain_answer(tmp_path_factory, kind,
                                                                  shape, size):
    from typer.testing import CliRunner

    from conftest import build_fixture_project
    from qcode.cli.app import app

    root = tmp_path_factory.mktemp("fuzz")
    builder = build_fixture_project(root / "study")
    inputs = root / "inputs"
    inputs.mkdir()
    args = _plant(builder, kind, _hostile(shape, size), inputs)
    before = sorted(p.name for p in root.iterdir())
    runner = CliRunner()
    started = time.perf_counter()
    first = runner.invoke(app, ["--project", str(builder.root), *args])
    second = runner.invoke(app, ["--project", str(builder.root), *args])  # from the cache
    assert time.perf_counter() - started < 60
    for result in (first, second):
        assert result.exit_code in (0, 1, 2), (kind, shape, size, result.output[-500:])
        assert "Traceback" not in result.output and "internal error" not in result.output
    if kind not in ("qdc", "qdpx"):  # a second import refuses the existing target
        assert first.output == second.output
    assert sorted(p.name for p in root.iterdir()) == before
