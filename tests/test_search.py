"""`qcode search` (#18 item 3): text search with keyword-in-context, counts per transcript,
coding every hit in one locked append, and `s PATTERN` in line mode.

Counts on the bundled study were made by hand with grep, independently of qcode:

    LC_ALL=C.UTF-8 grep -ioP '(?<!\\w)praksisplass\\w*' transcripts/*.md

gives 6 words in 5 files (lier-coordinator 1, lier-teachers 1, romsdal-coordinators 1,
romsdal-teachers 1, verdal-department-manager 2); none is in a speaker label or the front
matter. `utveksling\\w*` the same way gives 20, each on a line that starts with its
speaker's label (so the label is the turn's speaker): 4 of them after `Rektor:`
(borgund-principal 1, setesdal-principal 2, voss-principal 1), 6 after `I:`, 10 in the
four Setesdal transcripts, 4 after `Koordinator…:` (charlottenlund 1, romsdal 1,
setesdal 2); `(?<![\\p{L}\\p{N}_])Utveksling\\w*` (capital U, case-sensitive) gives 2.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode import Project

REPO = Path(__file__).resolve().parents[1]
BUNDLED = ["-p", str(REPO)]
PRAKSISPLASS = {"lier-coordinator": 1, "lier-teachers": 1, "romsdal-coordinators": 1,
                "romsdal-teachers": 1, "verdal-department-manager": 2}


def rows(result) -> list[dict]:
    import csv
    import io

    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def per_transcript(found: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in found:
        counts[row["transcript"]] = counts.get(row["transcript"], 0) + 1
    return counts


@pytest.fixture
def bundled_copy(tmp_path) -> Path:
    """The bundled study's files in a folder of the test's own (for commands that write)."""
    root = tmp_path / "bundled"
    for name in ("codebooks", "transcripts", "cases", "codings"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "qcode.yaml", root / "qcode.yaml")
    return root


# -- finding: hand-counted on the bundled study ---------------------------------------------


def test_a_wildcard_finds_every_inflection_hand_counted(cli):
    found = rows(cli(*BUNDLED, "search", "praksisplass*"))
    assert per_transcript(found) == PRAKSISPLASS
    assert {r["hit"] for r in found} == {"praksisplasser", "praksisplassen",
                                         "praksisplassene"}
    first = found[0]
    assert (first["transcript"], first["passage"], first["speaker"]) == (
        "lier-coordinator", "2", "Prosjektleder")
    body = Project.open(REPO).transcript("lier-coordinator").body
    assert body[int(first["start"]):int(first["end"])] == "praksisplasser"
    # the context: whole words on either side, reading as the text does
    assert first["left"] == "ringte et firma i England som ordner "
    assert first["right"] == ". Og så hadde vi nettopp fått ny rektor,"


def test_a_regex_is_as_written_case_sensitive(cli):
    found = rows(cli(*BUNDLED, "search", "--regex", r"[Pp]raksisplass(en|ene)\b"))
    assert len(found) == 5 and "praksisplasser" not in {r["hit"] for r in found}
    assert len(rows(cli(*BUNDLED, "search", "--regex", r"Utveksling\w*"))) == 2
    everyone = ("--include-interviewer",)
    assert len(rows(cli(*BUNDLED, "search", "--regex", r"(?i)\butveksling\w*",
                        *everyone))) == 20
    assert len(rows(cli(*BUNDLED, "search", "utveksling*", *everyone))) == 20


def test_a_speaker_filter_takes_labels_and_wildcards(cli):
    found = rows(cli(*BUNDLED, "search", "utveksling*", "--speaker", "Rektor"))
    assert per_transcript(found) == {"borgund-principal": 1, "setesdal-principal": 2,
                                     "voss-principal": 1}
    assert {r["speaker"] for r in found} == {"Rektor"}
    found = rows(cli(*BUNDLED, "search", "utveksling*", "-s", "koordinator*"))
    assert per_transcript(found) == {"charlottenlund-coordinator": 1,
                                     "romsdal-coordinators": 1, "setesdal-coordinator": 2}
    # naming a speaker says whose turns: the interviewer's too, though qcode.yaml
    # declares `interviewer: [I]`
    both = rows(cli(*BUNDLED, "search", "utveksling*", "-s", "Rektor", "-s", "I"))
    assert len(both) == 4 + 6


def test_where_limits_the_transcripts_and_an_unknown_value_is_refused(cli):
    found = rows(cli(*BUNDLED, "search", "utveksling*", "--where", "school=Setesdal",
                     "--include-interviewer"))
    assert len(found) == 10 and all(r["transcript"].startswith("setesdal") for r in found)
    result = cli(*BUNDLED, "search", "utveksling*", "--where", "school=Setesdall")
    assert result.exit_code == 1
    assert "unknown value of school 'Setesdall'; did you mean 'Setesdal'?" in result.stderr
    result = cli(*BUNDLED, "search", "utveksling*", "--where", "skole=Voss")
    assert result.exit_code == 1 and "unknown attribute 'skole'" in result.stderr


def test_uncoded_leaves_out_passages_the_coder_coded_with_the_code_or_below(cli):
    project = Project.open(REPO)
    everything = project.search("utveksling*").hits
    codebook = project.codebook
    family = set(codebook.descendants("learner-mobility"))
    coded = {(c.transcript, p.number) for c in project.codings("consensus")
             if codebook.canonical(c.code) in family
             for p in project.transcript(c.transcript).passages_overlapping(c.start, c.end)}
    expected = [h for h in everything if (h.transcript, h.passage) not in coded]
    assert 0 < len(expected) < len(everything)  # the filter is seen to act
    found = rows(cli(*BUNDLED, "search", "utveksling*", "--coder", "consensus",
                     "--uncoded", "learner-mobility"))
    assert [(r["transcript"], int(r["passage"])) for r in found] == [
        (h.transcript, h.passage) for h in expected]


def test_uncoded_on_the_fixture(cli, project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 4, ["ownership"], "a")
    project.tag("voss-principal", 2, ["lead-strong"], "a")
    found = rows(cli("search", "prosjekt*", "--coder", "a", "--uncoded", "ownership"))
    assert found == []
    found = rows(cli("search", "prosjekt*", "--coder", "a", "--uncoded", "leadership"))
    assert [r["hit"] for r in found] == ["prosjektet", "prosjekt"]
    result = cli("search", "prosjekt*", "--uncoded", "ownership")
    assert result.exit_code == 2 and "--uncoded needs --coder" in result.stderr
    result = cli("search", "prosjekt*", "--coder", "aa", "--uncoded", "ownership")
    assert result.exit_code == 1 and "unknown coder 'aa'; did you mean 'a'?" in result.stderr


# -- what is searched -----------------------------------------------------------------------


NORWEGIAN = """\
---
id: oya
school: Voss
informant_group: teacher
---
I: Var dere på Øya?

Lærer: Ja, ØYA var fin, og øya er liten. Det var høyt
følger
det opp, sa de.
"""


def test_norwegian_letters_fold_and_phrases_cross_line_breaks(cli, project_dir):
    project_dir.write("transcripts/oya.md", NORWEGIAN)
    found = rows(cli("search", "ØY*"))
    assert [r["hit"] for r in found] == ["Øya", "ØYA", "øya"]  # never høyt
    found = rows(cli("search", "følger * opp"))
    assert [r["hit"] for r in found] == ["følger\ndet opp"]
    assert len(rows(cli(*BUNDLED, "search", "ØY*"))) == 8  # øyne, øynene, øyeblikk


def test_speaker_labels_are_not_searched(cli):
    # "Rektor:" starts two turns of voss-principal; the word is in strinda's text once
    found = rows(cli("search", "rektor"))
    assert [(r["transcript"], r["hit"]) for r in found] == [("strinda-coordinator",
                                                              "rektor")]


def test_interviewer_turns_are_left_out_when_declared(cli, bundled_copy):
    where = ["-p", str(bundled_copy)]
    everyone = rows(cli(*where, "search", "utveksling*", "--include-interviewer"))
    assert len(everyone) == 20 and "I" in {r["speaker"] for r in everyone}
    result = cli(*where, "search", "utveksling*")  # the bundled qcode.yaml: interviewer: [I]
    found = rows(result)
    assert len(found) == 20 - sum(r["speaker"] == "I" for r in everyone)
    assert "I" not in {r["speaker"] for r in found}
    assert "without the turns of I" in result.stderr
    # without the declaration, nobody's turns are left out
    config = bundled_copy / "qcode.yaml"
    config.write_text(config.read_text("utf-8").replace("interviewer: [I]", "interviewer: []"),
                      "utf-8")
    assert len(rows(cli(*where, "search", "utveksling*"))) == 20


def test_memos_are_searched_and_hits_name_the_coding(cli, project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], "a", memo="Tydelig lederforankring")
    project.tag("lier-teacher", 2, ["personal"], "b", memo="ikke forankret")
    data = json.loads(cli("search", "forankr*", "--memos", "-f", "json").stdout)
    hits = data["hits"]
    assert [(h["transcript"], h["passage"], h["coder"], h["code"], h["hit"])
            for h in hits] == [("lier-teacher", 2, "b", "personal", "forankret")]
    assert hits[0]["coding"] == project.codings("b")[0].id
    data = json.loads(cli("search", "lederforankring", "--memos", "--coder", "a",
                          "-f", "json").stdout)
    assert [h["hit"] for h in data["hits"]] == ["lederforankring"]
    assert rows(cli("search", "lederforankring")) == []  # not in the text


# -- output ---------------------------------------------------------------------------------


def test_json_and_markdown_carry_hits_and_counts(cli, tmp_path):
    data = json.loads(cli(*BUNDLED, "search", "praksisplass*", "-f", "json").stdout)
    assert data["total"] == {"hits": 6, "passages": 6, "transcripts": 5}
    assert {c["transcript"]: c["hits"] for c in data["counts"]} == PRAKSISPLASS
    assert data["transcripts_searched"] == 33
    assert set(data["hits"][0]) == {"transcript", "passage", "speaker", "start", "end",
                                    "left", "hit", "right"}
    result = cli(*BUNDLED, "search", "praksisplass*", "-o", str(tmp_path / "hits.md"))
    assert result.exit_code == 0, result.output
    md = (tmp_path / "hits.md").read_text("utf-8")
    assert "| transcript | passage | speaker | left | hit | right |" in md
    assert "**praksisplassene**" in md
    assert "| verdal-department-manager | 2 | 2 |" in md and "| total | 6 | 6 |" in md


def test_the_table_shows_keywords_in_context_and_the_counts(cli, monkeypatch):
    monkeypatch.setattr("qcode.cli.output.stdout_is_tty", lambda: True)
    result = cli(*BUNDLED, "search", "praksisplass*")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "verdal-department-manager #22 Avdelingsleder" in out
    lines = [line for line in out.splitlines() if "**praksisplass" in line]
    assert len(lines) == 6
    assert len({line.index("**") for line in lines}) == 1  # the hits stand in one column
    assert re.search(r"total\s+6\s+6", out)


def test_csv_cells_are_spreadsheet_safe_unless_raw(cli, project_dir):
    project_dir.write("transcripts/formula.md", "---\nschool: Voss\ninformant_group: "
                      "teacher\n---\nLærer: =HYPERLINK dette er planverket\n")
    assert rows(cli("search", "planverk*"))[0]["left"] == "'=HYPERLINK dette er "
    assert rows(cli("search", "planverk*", "--raw"))[0]["left"] == "=HYPERLINK dette er "


def test_no_hits_exit_zero_and_say_so(cli):
    result = cli("search", "flyplassene")
    assert result.exit_code == 0
    assert result.stdout == "transcript,passage,speaker,start,end,left,hit,right\n"
    assert "no hits for 'flyplassene'" in result.stderr


def test_bad_patterns_and_options_are_usage_errors(cli):
    for args, message in [
        (("*",), "has only wildcards"),
        (("(", "--regex"), "does not compile"),
        (("ab", "--fuzzy"), "too short to match approximately"),
        (("abc", "--regex", "--fuzzy"), "--regex and --fuzzy do not go together"),
        (("abc", "--score", "90"), "--score goes with --fuzzy"),
        (("abc", "--dry-run"), "--dry-run goes with --code"),
        (("abc", "--code", "ownership"), "--code needs --coder"),
        (("abc", "-f", "table", "-o", "hits.txt"), "a table is for the terminal"),
        (("abc", "--span", "word"), "--span goes with --code"),
        (("abcd", "--fuzzy", "--score", "0"), "score 0 is outside 1-100"),
    ]:
        result = cli("search", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)


def test_a_regex_past_its_budget_stops_with_exit_1(cli, project_dir, monkeypatch):
    from qcode.format import matching

    monkeypatch.setattr(matching, "REGEX_SECONDS", 0.05)
    project_dir.replace("transcripts/voss-principal.md", "Det ble en del av planen",
                        "Det ble " + "a" * 40 + " en del av planen")
    result = cli("search", "--regex", "(a|aa)+b")
    assert result.exit_code == 1, result.output
    assert ("the regex '(a|aa)+b' took more than 0.1 s on transcript 'voss-principal'"
            in result.stderr)
    assert "possessive" in result.stderr and result.stdout == ""


def test_fuzzy_finds_approximate_phrases(cli, project_dir):
    project_dir.write("transcripts/fuzzy.md", "---\nschool: Voss\ninformant_group: "
                      "teacher\n---\nLærer: Det er forankra i ledelsa her.\n")
    found = rows(cli("search", "forankret i ledelsen", "--fuzzy", "--score", "75"))
    [hit] = [r["hit"] for r in found]
    assert hit.endswith("forankra i ledelsa")  # widened to whole words, as autocode does
    assert rows(cli("search", "forankret i ledelsen", "--fuzzy", "--score", "99")) == []


# -- coding the hits ------------------------------------------------------------------------


def add_lines(root: Path, coder: str) -> list[dict]:
    path = root / "codings" / f"{coder}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_code_codes_exactly_the_passages_of_the_hits(cli, bundled_copy):
    where = ["-p", str(bundled_copy)]
    result = cli(*where, "search", "praksisplass*", "--code", "mobility-partners",
                 "--coder", "me", "--yes")
    assert result.exit_code == 0, result.output
    assert "6 coded, 0 already there" in result.stderr
    lines = add_lines(bundled_copy, "me")
    project = Project.open(bundled_copy)
    expected = []
    for hit in project.search("praksisplass*").hits:
        passage = project.transcript(hit.transcript).passages[hit.passage - 1]
        expected.append((hit.transcript, passage.start, passage.end))
    assert [(e["transcript"], e["start"], e["end"]) for e in lines] == expected
    assert {e["code"] for e in lines} == {"mobility-partners"}
    assert {e["search"] for e in lines} == {"praksisplass*"}
    for event in lines:
        body = project.transcript(event["transcript"]).body
        assert event["text"] == body[event["start"]:event["end"]]
    # again: everything is already there, nothing is written
    again = cli(*where, "search", "praksisplass*", "--code", "mobility-partners",
                "--coder", "me", "--yes")
    assert "0 coded" not in again.stderr and "6 already there" in again.stderr
    assert len(add_lines(bundled_copy, "me")) == 6


def test_already_coded_spans_are_skipped_and_counted(cli, project_dir):
    Project.open(project_dir.root).tag("voss-principal", 4, ["ownership"], "me")
    result = cli("search", "--regex", r"prosjekt\w*|planen", "--code", "ownership",
                 "--coder", "me", "--yes")
    assert result.exit_code == 0, result.output
    assert "1 coded, 1 already there" in result.stderr
    lines = add_lines(project_dir.root, "me")
    passage = Project.open(project_dir.root).transcript("voss-principal").passages[1]
    assert len(lines) == 2 and (lines[-1]["start"], lines[-1]["end"]) == (passage.start,
                                                                        passage.end)


def test_span_word_and_sentence(cli, project_dir):
    result = cli("search", "prosjekt*", "--code", "ownership", "--coder", "w", "--span",
                 "word", "--yes")
    assert result.exit_code == 0, result.output
    assert [e["text"] for e in add_lines(project_dir.root, "w")] == ["prosjektet", "prosjekt"]
    for word in ("flyplassen", "tryggere"):
        assert cli("search", word, "--code", "personal", "--coder", "s", "--span",
                   "sentence", "--yes").exit_code == 0
    assert [e["text"] for e in add_lines(project_dir.root, "s")] == [
        "Kl. 07:45 stod de klare på flyplassen.", "De ble tryggere på seg selv."]


def test_dry_run_writes_nothing(cli, project_dir):
    result = cli("search", "prosjekt*", "--code", "ownership", "--coder", "me", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: would code 1 passage with ownership as me" in result.stderr
    assert not (project_dir.root / "codings" / "me.jsonl").exists()


def test_code_asks_at_a_terminal_and_needs_yes_elsewhere(cli, project_dir, monkeypatch):
    result = cli("search", "prosjekt*", "--code", "ownership", "--coder", "me")
    assert result.exit_code == 2
    assert "not at a terminal, it needs --yes" in result.stderr
    assert result.stdout == "" and not (project_dir.root / "codings" / "me.jsonl").exists()
    monkeypatch.setattr("qcode.cli.output.stdout_is_tty", lambda: True)
    monkeypatch.setattr("qcode.cli.output.stdin_is_tty", lambda: True)
    result = cli("search", "prosjekt*", "--code", "ownership", "--coder", "me", input="n\n")
    assert result.exit_code == 0
    assert "Code 1 passage with ownership as me? [y/N]" in result.stderr
    assert "nothing coded" in result.stderr
    assert not (project_dir.root / "codings" / "me.jsonl").exists()
    result = cli("search", "prosjekt*", "--code", "ownership", "--coder", "me", input="y\n")
    assert result.exit_code == 0 and "1 coded, 0 already there" in result.stderr
    assert [e["code"] for e in add_lines(project_dir.root, "me")] == ["ownership"]


def test_memo_hits_cannot_be_coded(cli):
    result = cli("search", "x*", "--memos", "--code", "ownership", "--coder", "me", "--yes")
    assert result.exit_code == 2 and "not memos" in result.stderr


# -- line mode ------------------------------------------------------------------------------


def test_line_mode_s_searches_and_jumps_to_the_next_hit(cli, project_dir):
    answers = "s prosjekt*\ns\ns\ns elev*\n:search\no\nq\n"
    result = cli("code", "--plain", "--coder", "c", "voss-principal", input=answers)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "hit 1 of 2 for 'prosjekt*'" in out  # from passage 1 on: passage 4
    assert "search wrapped round to the first hit" in out  # s: nothing after passage 4
    assert "**prosjektet**" in out
    # the session is of voss-principal only: no elev* there
    assert "no hits for 'elev*'" in out
    assert [c.code for c in Project.open(project_dir.root).codings("c")] == ["ownership"]
    transcript = Project.open(project_dir.root).transcript("voss-principal")
    coding = Project.open(project_dir.root).codings("c")[0]
    assert transcript.passage_at(coding.start).number == 4  # coded where the search went


def test_line_mode_search_walks_across_transcripts_from_the_current_passage(cli,
                                                                          project_dir):
    answers = "s elev*\ns\ns\nq\n"
    result = cli("code", "--plain", "--coder", "c", input=answers)
    out = result.stdout
    # lier-teacher: passage 1 (I) and passage 3 (Lærer 2); the session starts at passage 1
    assert out.count("[lier-teacher] passage 3/3") == 2
    assert "hit 2 of 2" in out and "hit 1 of 2" in out


def test_a_code_with_key_s_wins_and_colon_search_still_searches(cli, project_dir):
    project_dir.replace("codebooks/codes.yaml", "    key: o\n", "    key: s\n")
    result = cli("code", "--plain", "--coder", "c", "voss-principal",
                 input="s\n:search prosjekt*\nq\n")
    assert "saved: +ownership (voss-principal passage 1)" in result.stdout
    assert "hit 1 of 2 for 'prosjekt*'" in result.stdout


# -- the library ----------------------------------------------------------------------------


def test_what_is_already_there_is_decided_under_the_lock(project_dir):
    project = Project.open(project_dir.root)
    hits = project.search("prosjekt*").hits
    plan = project.code_hits(hits, "ownership", "me", dry_run=True)
    assert len(plan.added) == 1 and not plan.already
    Project.open(project_dir.root).tag("voss-principal", 4, ["ownership"], "me")  # meanwhile
    done = project.code_hits(hits, "ownership", "me")
    assert not done.added and len(done.already) == 1
    assert len(project_dir.log_lines("me")) == 1


def test_the_session_search_is_the_same_engine(project_dir):
    from qcode.coding.session import CodingSession

    project = Project.open(project_dir.root)
    session = CodingSession(project, "c")
    hits = session.search("prosjekt*")
    assert hits == project.search("prosjekt*").hits
    assert [h.text for h in hits] == ["prosjektet", "prosjekt"]
    index, wrapped = session.next_hit(hits)
    session.goto_hit(hits[index])
    assert (session.transcript.id, session.passage.number, wrapped) == (
        "voss-principal", 4, False)
    assert session.next_hit(hits) == (0, True)  # nothing after passage 4: wraps
    assert session.next_hit(hits, -1) == (0, True)  # back: wraps to passage 4's first hit
    session.goto(0, 0)
    assert session.next_hit(hits, -1) == (0, True)
    assert session.next_hit([]) is None


WORDS = st.lists(st.sampled_from(["vikar", "vikarer", "skole", "på", "Øya", "og", "–",
                                  "ord,", "\n", "  "]), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(WORDS, st.integers(min_value=0, max_value=60))
def test_context_reads_as_the_text_and_never_cuts_a_word(words, width):
    from qcode.analysis.excerpts import keyword_context

    text = " ".join(words)
    for match in re.finditer(r"vikar\w*", text):
        left, right = keyword_context(text, match.start(), match.end(), 0, len(text), width)
        shown = left + match.group() + right
        assert " ".join(shown.split()) in " ".join(text.split())
        if left.strip():
            first = left.split()[0]
            assert first in text.split(), (left, text)
        if right.strip():
            assert right.split()[-1] in text.split(), (right, text)


def test_the_search_benchmark_runs_and_finds_the_hand_counted_hits():
    import importlib.util

    spec = importlib.util.spec_from_file_location("search_latency",
                                                  REPO / "bench" / "search_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.measure(REPO, runs=1)
    assert [r["hits"] for r in results][:3] == [6, 3, 4]
    assert all(r["median_ms"] > 0 for r in results)
