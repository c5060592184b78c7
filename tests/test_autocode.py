"""`qcode autocode`: rule semantics, rule checks, proposing, re-running, precision/recall."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.analysis.excerpts import snippet
from qcode.coding.autocode import RuleSet, autocode, split_sentences
from qcode.errors import QcodeError, UnknownName
from qcode.format.codebook import Rule
from qcode.format.rules import wildcard_regex
from qcode.format.text import fold
from qcode.format.transcripts import parse_transcript

# -- rule semantics on one transcript ---------------------------------------------------------

TEXT = """\
I: Hva med lederforankringen hos dere?

Rektor: Lederforankring er viktig. Vi har ildsjeler! Vikarutgiftene er store.
Skolevikaren kom ikke. Det er godt forankra i ledelsa.

Lærer 1: Ærlig talt er det sårbart. Øya er høyt oppe. Vi følger det opp.

Lærer 2: Jeg er enig, på en måte å si det.
"""


def scan(rules: dict[str, list[dict]], text: str = TEXT, keywords: dict | None = None):
    transcript = parse_transcript(text, "t.md", "t")
    ruleset = RuleSet()
    for code, items in rules.items():
        for item in items:
            ruleset.add(code, Rule.model_validate(item))
    for code, words in (keywords or {}).items():
        for word in words:
            ruleset.add_keyword(code, word)
    return transcript, ruleset.scan(transcript)


def hits(rules: dict[str, list[dict]], text: str = TEXT) -> list[tuple[str, int, list[str]]]:
    """(code, passage number, matched words) of every proposal."""
    transcript, proposals = scan(rules, text)
    return [(p.code, p.passage, [transcript.body[s:e] for s, e in p.matches]) for p in proposals]


def test_wildcards_match_inflections_case_insensitively():
    assert hits({"c": [{"match": "lederforankr*"}]}) == [
        ("c", 1, ["lederforankringen"]), ("c", 2, ["Lederforankring"])]
    assert hits({"c": [{"match": "ildsjel?r"}]}) == [("c", 2, ["ildsjeler"])]
    assert hits({"c": [{"match": "ildsjel?"}]}) == []  # ? is exactly one letter


def test_whole_words_only_with_unicode_letters_at_the_boundaries():
    # "vikar*" is not inside "Skolevikaren"; æ ø å are letters, so no boundary inside words.
    assert hits({"c": [{"match": "vikar*"}]}) == [("c", 2, ["Vikarutgiftene"])]
    assert hits({"c": [{"match": "rer"}]}) == []                 # not inside "Lærer"
    assert hits({"c": [{"match": "ærlig"}]}) == [("c", 3, ["Ærlig"])]
    assert hits({"c": [{"match": "øy*"}]}) == [("c", 3, ["Øya"])]  # not "høyt"
    assert hits({"c": [{"match": "å"}]}) == [("c", 4, ["å"])]      # not inside "på" or "måte"
    assert hits({"c": [{"match": "*vikar*"}]}) == [("c", 2, ["Vikarutgiftene", "Skolevikaren"])]


def test_a_decomposed_pattern_matches_the_composed_body():
    assert hits({"c": [{"match": "s\u0061\u030arbar*"}]}) == [("c", 3, ["sårbart"])]


def test_phrases_allow_any_whitespace_and_wildcard_words():
    text = "Koordinator: Hun brenner\nfor dette, og rektor følger det tett opp.\n"
    assert hits({"c": [{"match": "brenner for"}]}, text) == [("c", 1, ["brenner\nfor"])]
    assert hits({"c": [{"match": "følger * opp"}]}, TEXT) == [("c", 3, ["følger det opp"])]
    assert hits({"c": [{"match": "følger * opp"}]}, text) == []  # * is one word, not two


def test_the_speaker_label_is_not_matched_but_the_speaker_rule_sees_it():
    text = "Rektor: Vi gjør det.\n\nI: Og rektor?\n\nRektor: Ja.\n"
    assert hits({"c": [{"match": "rektor"}]}, text) == [("c", 2, ["rektor"])]
    assert [(c, n) for c, n, _ in hits({"c": [{"speaker": "rektor"}]}, text)] == [
        ("c", 1), ("c", 3)]
    assert [(c, n) for c, n, _ in hits({"c": [{"speaker": "Lærer*"}]})] == [("c", 3), ("c", 4)]
    assert hits({"c": [{"speaker": "Lærer"}]}) == []  # a whole label, unless wildcards


def test_all_any_not():
    both = {"c": [{"all": [{"speaker": "Lærer*"}, {"match": "sårbar*"}]}]}
    assert hits(both) == [("c", 3, ["sårbart"])]
    either = {"c": [{"any": [{"match": "ildsjel*"}, {"match": "ærlig"}]}]}
    assert hits(either) == [("c", 2, ["ildsjeler"]), ("c", 3, ["Ærlig"])]
    without = {"c": [{"all": [{"speaker": "Lærer*"}, {"not": {"match": "enig"}}]}]}
    assert hits(without) == [("c", 3, [])]
    nested = {"c": [{"all": [{"not": {"speaker": "I"}},
                             {"any": [{"match": "lederforankr*"}, {"match": "øy*"}]}]}]}
    assert hits(nested) == [("c", 2, ["Lederforankring"]), ("c", 3, ["Øya"])]
    only_not = {"c": [{"not": {"match": "er"}}]}
    assert [n for _, n, _ in hits(only_not)] == [1]  # every passage without the word "er"


def test_several_rules_of_a_code_make_one_proposal_per_unit():
    transcript, proposals = scan({"c": [{"match": "ildsjel*"}, {"match": "vikar*"},
                                        {"speaker": "Rektor"}]})
    assert len(proposals) == 1
    proposal = proposals[0]
    assert proposal.rules == ['match "ildsjel*"', 'match "vikar*"', 'speaker "Rektor"']
    assert [transcript.body[s:e] for s, e in proposal.matches] == ["ildsjeler", "Vikarutgiftene"]
    passage = transcript.passage(2)
    assert (proposal.start, proposal.end) == (passage.start, passage.end)
    assert proposal.text == transcript.body[passage.start:passage.end]


def test_overlapping_leaves_of_different_codes_all_match():
    result = hits({"a": [{"match": "vikar*"}], "b": [{"match": "vikarutgift*"}],
                   "c": [{"match": "vikarutgiftene"}], "d": [{"match": "vikarutgifter"}]})
    assert result == [("a", 2, ["Vikarutgiftene"]), ("b", 2, ["Vikarutgiftene"]),
                      ("c", 2, ["Vikarutgiftene"])]


def test_a_word_start_inside_another_leafs_literal_is_still_found():
    text = "Koordinator: Send en e-post til postkontoret.\n"
    assert hits({"a": [{"match": "e-post"}], "b": [{"match": "post*"}]}, text) == [
        ("a", 1, ["e-post"]), ("b", 1, ["post", "postkontoret"])]


def test_sentence_scope_proposes_the_sentence():
    _, proposals = scan({"c": [{"match": "ildsjel*", "scope": "sentence"}]})
    assert [(p.scope, p.text) for p in proposals] == [("sentence", "Vi har ildsjeler!")]
    # With a passage rule of the same code firing too, the passage covers the sentence.
    _transcript, proposals = scan({"c": [{"match": "ildsjel*", "scope": "sentence"},
                                        {"match": "vikar*"}]})
    assert [(p.scope, p.passage) for p in proposals] == [("passage", 2)]


def test_sentences_split_at_end_marks_and_blank_lines_not_at_times():
    body = "Kl. 07:45 stod vi klare. «Ja!» sa hun. Vi reiste 3. mai… Så\n\nNytt avsnitt"
    assert [body[s:e] for s, e in split_sentences(body, 0, len(body))] == [
        "Kl. 07:45 stod vi klare.", "«Ja!» sa hun.", "Vi reiste 3. mai…", "Så",
        "Nytt avsnitt"]


def test_regex_is_as_written_and_may_ask_for_ignorecase():
    assert hits({"c": [{"regex": r"ildsjel\w*"}]}) == [("c", 2, ["ildsjeler"])]
    assert hits({"c": [{"regex": r"ærlig"}]}) == []
    assert hits({"c": [{"regex": r"(?i)ærlig"}]}) == [("c", 3, ["Ærlig"])]
    # A match that runs on into the next passage counts where it starts, clipped to it.
    assert hits({"c": [{"regex": r"opp\.\s+Lærer"}]}) == [("c", 3, ["opp."])]


def test_fuzzy_finds_inflected_and_misspelt_phrases_as_whole_words():
    assert hits({"c": [{"fuzzy": "forankret i ledelsen", "score": 75}]}) == [
        ("c", 2, ["forankra i ledelsa"])]
    assert hits({"c": [{"fuzzy": "forankret i ledelsen", "score": 95}]}) == []
    assert hits({"c": [{"fuzzy": "lederforankring"}]}) == [
        ("c", 1, ["lederforankringen"]), ("c", 2, ["Lederforankring"])]


def test_keywords_are_whole_words():
    _transcript, proposals = scan({}, keywords={"c": ["ildsjel", "ildsjeler", "*"]})
    assert [(p.passage, p.rules) for p in proposals] == [(2, ['keyword "ildsjeler"'])]


def test_wildcard_regex_and_fold_keep_offsets():
    source, prefix = wildcard_regex("Leder*forankr?ng  i ")
    assert prefix == "leder"
    assert re.fullmatch(source, "lederforankring i")
    assert fold("İstanbul ÆØÅ") == "İstanbul æøå"  # İ lowers to two characters: kept
    assert len(fold("İ" * 3)) == 3


def test_snippet_marks_matches_in_whole_words():
    text = "Rektor: Vi har mange vikarer her, og vikarene koster penger hvert eneste år."
    out = snippet(text, 100, [(121, 128), (137, 145)], context=8)
    assert out == "… har mange **vikarer** her, og **vikarene** koster penger …"


# -- the scanner against a direct implementation (property) ----------------------------------

VOCABULARY = ["vikar", "vikarer", "Skolevikar", "vikarutgift", "ærlig", "Ærlig", "øya", "høyt",
              "på", "å", "lederforankring", "forankret", "i", "ledelsen", "Ledelsen", "e-post",
              "post", "rektor", "ildsjel", "v1kar"]
PATTERNS = ["vikar*", "vikar", "ærlig", "øy*", "å", "lederforankr*", "i ledelsen",
            "forankr* i *", "v?kar*", "*kar", "e-post", "post*", "i", "ildsjel ildsjel",
            "ledelse*"]


@st.composite
def bodies(draw):
    turns = []
    for _ in range(draw(st.integers(1, 5))):
        speaker = draw(st.sampled_from(["I", "Rektor", "Lærer 1"]))
        words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=12))
        separators = draw(st.lists(st.sampled_from([" ", ", ", ". ", "\n", " – "]),
                                   min_size=len(words), max_size=len(words)))
        turns.append(f"{speaker}: " + "".join(w + s for w, s in zip(words, separators,
                                                                      strict=True)).strip())
    return "\n\n".join(turns) + "\n"


@settings(max_examples=150, deadline=None)
@given(bodies(), st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=6, unique=True))
def test_scan_finds_what_matching_at_every_word_start_finds(body, patterns):
    transcript = parse_transcript(body, "t.md", "t")
    ruleset = RuleSet()
    for index, pattern in enumerate(patterns):
        ruleset.add(f"c{index}", Rule(match=pattern))
    got = {(p.code, p.passage): p.matches for p in ruleset.scan(transcript)}
    low = fold(transcript.body)
    expected = {}
    for index, pattern in enumerate(patterns):
        compiled = re.compile(wildcard_regex(pattern)[0])
        for passage in transcript.passages:
            label = len(passage.speaker) + 2 if passage.speaker else 0
            start, end = passage.start + label, passage.end
            spans = []
            for position in range(start, end):
                match = compiled.match(low, position, end)
                if match:
                    spans.append(match.span())
            merged = []
            for span in spans:
                if merged and span[0] <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], span[1]))
                else:
                    merged.append(span)
            if merged:
                expected[(f"c{index}", passage.number)] = merged
    assert got == expected


# -- checking rules --------------------------------------------------------------------------

RULED = """\
      - id: lead-weak
        label: Weak anchoring
        key: W
        description: Leaders leave it to others.
        rules:
"""


def codebook_with(project_dir, rules_yaml: str) -> None:
    project_dir.replace("codebooks/codes.yaml", RULED.replace("        rules:\n", ""),
                        RULED + rules_yaml)


def check_rules_found(project_dir):
    report = Project.open(project_dir.root).check()
    return [(p.rule, p.line) for p in report.problems if p.rule.startswith(("rule-", "codebook"))]


def test_valid_rules_pass_the_check(project_dir):
    codebook_with(project_dir, """\
          - match: "alene*"
          - regex: "(?i)lite\\\\s+involvert"
          - fuzzy: "lite involvert"
            score: 80
          - all: [{speaker: "Koordinator"}, {not: {match: "pensjon"}}]
            scope: sentence
""")
    assert check_rules_found(project_dir) == []
    code = Project.open(project_dir.root).codebook.get("lead-weak")
    assert [r.scope for r in code.rules] == [None, None, None, "sentence"]
    # Dumped as written: `not`, not the Python field name (the qdc merge dumps codes).
    assert code.rules[3].model_dump(exclude_defaults=True) == {
        "all": [{"speaker": "Koordinator"}, {"not": {"match": "pensjon"}}], "scope": "sentence"}


def test_bad_rules_are_reported_with_their_rule_and_line(project_dir):
    codebook_with(project_dir, """\
          - match: "x*"
            regex: "x"
          - score: 80
          - regex: "(unclosed"
          - regex: "a*"
          - regex: "(\\\\w+\\\\s?)+$"
          - fuzzy: "lite involvert"
            score: 150
          - fuzzy: "abc"
          - match: "**"
          - all: []
          - any:
              - match: "ok"
                scope: sentence
          - match: "ok"
            score: 90
          - not: {match: "alene"}
""")
    start = project_dir.read("codebooks/codes.yaml").splitlines().index("        rules:") + 2
    found = check_rules_found(project_dir)
    assert found == [
        ("rule-invalid", start), ("rule-invalid", start + 2), ("rule-regex", start + 3),
        ("rule-regex", start + 4), ("rule-backtracking", start + 5), ("rule-score", start + 7),
        ("rule-invalid", start + 8), ("rule-invalid", start + 9), ("rule-invalid", start + 10),
        ("rule-invalid", start + 13), ("rule-invalid", start + 15),
        ("rule-negative", start + 16)]
    assert project_dir.read("codebooks/codes.yaml").splitlines()[start - 1].strip() == \
        '- match: "x*"'
    messages = [p.message for p in Project.open(project_dir.root).check().problems]
    assert "needs exactly one of match, regex, fuzzy, speaker, all, any, not (found: match, " \
        "regex)" in messages[0]
    assert any("nests a repeated part" in m for m in messages)


def test_rule_keys_are_typed_strictly(project_dir):
    codebook_with(project_dir, """\
          - mtach: "x"
          - match: "y"
            scope: paragraph
""")
    rules = [p.rule for p in Project.open(project_dir.root).check().problems]
    assert "codebook-unknown-key" in rules and "codebook-schema" in rules


def test_rules_on_a_grouping_folder_are_an_error(project_dir):
    project_dir.replace("codebooks/codes.yaml", "    codable: false\n",
                        "    codable: false\n    rules: [{match: \"x\"}]\n")
    assert check_rules_found(project_dir) == [("rule-not-codable", 7)]


# -- proposing: the suggestions log ----------------------------------------------------------

RULES = """\
          - match: "alene"
          - match: "lite involvert"
          - all: [{speaker: "Rektor"}, {match: "mange lærere"}]
"""


@pytest.fixture
def ruled(project_dir):
    codebook_with(project_dir, RULES)
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"eier*\"}]\n")
    return project_dir


def suggestions(project_dir, coder="auto"):
    path = project_dir.root / "codings" / f"{coder}.suggestions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def test_autocode_proposes_into_the_suggestions_log_only(ruled):
    result = autocode(Project.open(ruled.root))
    assert [(p.transcript, p.passage, p.code) for p in result.new] == [
        ("strinda-coordinator", 1, "lead-weak"), ("voss-principal", 2, "lead-weak"),
        ("voss-principal", 3, "ownership"), ("voss-principal", 4, "ownership")]
    events = suggestions(ruled)
    assert [e["op"] for e in events] == ["add"] * 4
    first = events[1]
    project = Project.open(ruled.root)
    body = project.transcript("voss-principal").body
    assert body[first["start"]:first["end"]] == first["text"]
    assert first["rule"] == 'all(speaker "Rektor", match "mange lærere")'
    assert [body[s:e] for s, e in first["matches"]] == ["mange lærere"]
    assert not (ruled.root / "codings" / "auto.jsonl").exists()
    assert project.coders == []  # a suggestions log is not a coder
    report = {r.code: r for r in result.codes}
    assert (report["lead-weak"].rules, report["lead-weak"].new) == (3, 2)
    assert (report["ownership"].found, report["ownership"].passages) == (2, 2)


def test_rerunning_proposes_only_what_is_new(ruled):
    autocode(Project.open(ruled.root))
    again = autocode(Project.open(ruled.root))
    assert again.new == [] and len(suggestions(ruled)) == 4
    assert again.total.pending == 4
    # A new transcript: only its proposals are new.
    ruled.write("transcripts/verdal-teacher.md",
                "---\nschool: Lier\ninformant_group: teacher\n---\nLærer: Jeg er alene.\n")
    third = autocode(Project.open(ruled.root))
    assert [(p.transcript, p.code) for p in third.new] == [("verdal-teacher", "lead-weak")]
    assert len(suggestions(ruled)) == 5


def test_dry_run_writes_nothing(ruled):
    result = autocode(Project.open(ruled.root), dry_run=True)
    assert len(result.new) == 4
    assert suggestions(ruled) == []


def test_rejected_suggestions_are_not_proposed_again_even_when_the_text_moves(ruled):
    from qcode.coding.review import Review

    autocode(Project.open(ruled.root))
    review = Review(Project.open(ruled.root), "auto")
    target = next(s for s in review.pending() if s.transcript == "strinda-coordinator")
    review.reject([target])
    again = autocode(Project.open(ruled.root))
    assert again.new == [] and again.total.rejected == 1
    # The transcript gains a passage before it: offsets move, the rejection still holds,
    # the other (pending) suggestion there is withdrawn and proposed at its new place.
    ruled.replace("transcripts/strinda-coordinator.md", "Koordinator: Jeg gjør",
                  "I: Først?\n\nKoordinator: Jeg gjør")
    moved = autocode(Project.open(ruled.root))
    assert moved.new == [] and moved.total.rejected == 1 and moved.withdrawn == []
    # Other rules finding the same text do not bring it back either.
    ruled.replace("codebooks/codes.yaml", '          - match: "alene"\n',
                  '          - match: "meste"\n')
    changed = autocode(Project.open(ruled.root))
    assert changed.new == [] and changed.total.rejected == 1


def test_rules_that_stop_matching_withdraw_pending_suggestions(ruled):
    autocode(Project.open(ruled.root))
    ruled.replace("codebooks/codes.yaml", "    rules: [{match: \"eier*\"}]\n",
                  "    rules: [{match: \"eierskap*\"}]\n")
    result = autocode(Project.open(ruled.root))
    assert [s.passage for s in result.withdrawn] == [4]
    removes = [e for e in suggestions(ruled) if e["op"] == "remove"]
    assert [e["id"] for e in removes] == [result.withdrawn[0].id]
    assert result.codes[-1].withdrawn == 1  # ownership is the last code with rules
    # --codes leaves the other codes' suggestions alone.
    ruled.replace("codebooks/codes.yaml", "    rules: [{match: \"eierskap*\"}]\n",
                  "    rules: [{match: \"ingenting\"}]\n")
    only = autocode(Project.open(ruled.root), codes=["lead-weak"])
    assert only.withdrawn == []


def test_what_the_coder_already_coded_is_not_proposed(ruled):
    project = Project.open(ruled.root)
    project.tag("strinda-coordinator", 1, ["lead-weak"], "auto")
    result = autocode(Project.open(ruled.root))
    assert ("strinda-coordinator", "lead-weak") not in {(p.transcript, p.code)
                                                        for p in result.new}
    assert {r.code: r.coded for r in result.codes}["lead-weak"] == 1


def test_where_and_codes_narrow_the_run(ruled):
    result = autocode(Project.open(ruled.root), where=["school=Strinda"])
    assert [(p.transcript, p.code) for p in result.new] == [("strinda-coordinator", "lead-weak")]
    assert result.transcripts == 1
    result = autocode(Project.open(ruled.root), codes=["ownership"], dry_run=True)
    assert {p.code for p in result.new} == {"ownership"}
    result = autocode(Project.open(ruled.root), codes=["leadership"], dry_run=True)
    assert {p.code for p in result.new} == {"lead-weak"}  # a folder means its children
    with pytest.raises(UnknownName):
        autocode(Project.open(ruled.root), where=["shcool=Voss"])
    with pytest.raises(QcodeError, match="no code among personal has `rules:`"):
        autocode(Project.open(ruled.root), codes=["personal"])


def test_a_broken_rule_stops_the_run_before_anything_is_written(ruled):
    ruled.replace("codebooks/codes.yaml", '          - match: "alene"\n',
                  '          - regex: "(a+)+"\n')
    with pytest.raises(QcodeError, match="nests a repeated part"):
        autocode(Project.open(ruled.root))
    assert suggestions(ruled) == []


# -- precision and recall against a hand-coded gold coder --------------------------------------

def test_precision_and_recall_against_a_gold_coder(ruled):
    project = Project.open(ruled.root)
    # The gold coder coded voss-principal and lier-teacher only (strinda is out of scope):
    #   lead-weak: voss 2 (rules: yes)  voss 4 (rules: no)
    #   ownership: voss 4 (rules: yes)  part of voss 2 (rules: no)
    #   personal:  lier 2 (no rules for personal: not reported)
    project.tag("voss-principal", 2, ["lead-weak"], "gold")
    project.tag("voss-principal", 4, ["lead-weak", "ownership"], "gold")
    body = project.transcript("voss-principal").body
    start = body.index("Vi hadde")
    project.tag("voss-principal", (start, start + 8), ["ownership"], "gold")
    project.tag("lier-teacher", 2, ["personal"], "gold")
    result = autocode(Project.open(ruled.root), gold=["gold"], dry_run=True)
    scores = {r.code: r.gold["gold"] for r in result.codes}
    # lead-weak: the rules propose voss 2 (and strinda 1, not counted): TP 1, FP 0, FN 1.
    weak = scores["lead-weak"]
    assert (weak.both, weak.rules_only, weak.coder_only) == (1, 0, 1)
    assert (weak.precision, weak.recall, weak.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    # ownership: the rules propose voss 3 ("eierskapet") and voss 4: TP 1, FP 1, FN 1.
    owner = scores["ownership"]
    assert (owner.both, owner.rules_only, owner.coder_only) == (1, 1, 1)
    assert (owner.precision, owner.recall) == (0.5, 0.5)
    assert owner.transcripts == 2
    total = result.total.gold["gold"]
    assert (total.both, total.rules_only, total.coder_only) == (2, 1, 2)
    assert (total.precision, total.recall) == (pytest.approx(2 / 3), 0.5)
    # By default every other coder with a log is a gold coder.
    assert autocode(Project.open(ruled.root), dry_run=True).gold == ["gold"]
    with pytest.raises(UnknownName):
        autocode(Project.open(ruled.root), gold=["nobody"])


def test_a_coder_without_codings_of_a_code_has_no_precision(ruled):
    Project.open(ruled.root).tag("lier-teacher", 1, ["personal"], "gold")
    result = autocode(Project.open(ruled.root), dry_run=True)
    weak = {r.code: r for r in result.codes}["lead-weak"].gold["gold"]
    assert (weak.precision, weak.recall, weak.f1) == (None, None, None)


# -- the command ------------------------------------------------------------------------------

def test_cli_dry_run_csv_lists_the_proposals_with_marked_words(ruled, cli):
    result = cli("autocode", "--dry-run", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "transcript,passage,speaker,start,end,code,scope,rule,matched,text"
    assert lines[1].startswith("strinda-coordinator,1,Koordinator,0,67,lead-weak,passage,")
    assert ',"match ""alene""; match ""lite involvert""",alene; lite involvert,' in lines[1]
    assert "**alene**" in lines[1] and "**lite involvert**" in lines[1]
    assert len(lines) == 5
    assert "dry run: would propose 4 new suggestions" in result.stderr
    assert suggestions(ruled) == []


def test_cli_report_csv_json_and_table(ruled, cli):
    Project.open(ruled.root).tag("voss-principal", 4, ["ownership"], "gold")
    result = cli("autocode", "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()
    assert rows[0].endswith(",withdrawn,precision_gold,recall_gold,f1_gold")
    assert rows[2] == "ownership,Staff ownership,1,2,2,2,0,0,0,0,0,0.5000,1.0000,0.6667"
    assert rows[3].startswith("ALL,all codes with rules,4,4,4,4,")
    assert "proposed 4 new suggestions in codings/auto.suggestions.jsonl" in result.stderr
    assert "review them with `qcode code --coder NAME --suggestions`" in result.stderr
    mine = cli("autocode", "-f", "json", "--coder", "me")
    assert "`qcode code --coder NAME --suggestions --from me`" in mine.stderr
    data = json.loads(mine.stdout)
    assert data["suggestions_log"] == "codings/me.suggestions.jsonl"
    assert len(data["proposed"]) == 4 and data["gold_coders"] == ["gold"]
    assert data["codes"][1]["gold"]["gold"]["precision"] == 0.5
    table = cli("autocode", "-f", "table")
    assert "pending" in table.stdout and "0.50/1.00" in table.stdout
    assert "proposed 0 new suggestions" in table.stderr


def test_cli_errors_are_one_line(ruled, cli):
    result = cli("autocode", "--gold", "nobody")
    assert result.exit_code == 1 and "unknown coder 'nobody'" in result.stderr
    result = cli("autocode", "--coder", "bad name")
    assert result.exit_code == 2
    result = cli("autocode", "--codes", "personal")
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_repeated_phrase_is_marked_once_not_as_overlapping_matches():
    """Found by the property test above: «ildsjel ildsjel» in «ildsjel ildsjel ildsjel»
    matches at two word starts; the marked words are one span."""
    transcript = parse_transcript("I: vikar ildsjel ildsjel ildsjel\n", "t.md", "t")
    ruleset = RuleSet()
    ruleset.add("c0", Rule(match="ildsjel ildsjel"))
    assert [p.matches for p in ruleset.scan(transcript)] == [[(9, 32)]]
