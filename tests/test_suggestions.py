"""Suggestions logs: reading, checking, reviewing (library and line mode)."""

from __future__ import annotations

import io
import json

import pytest

from qcode import Project
from qcode.cli.plain.suggestions import run_suggestions_plain
from qcode.coding.autocode import autocode
from qcode.coding.review import Review
from qcode.errors import QcodeError
from qcode.store.suggestions import SuggestionLog

RULES = """\
        description: Leaders leave it to others.
        rules:
          - match: "alene"
          - match: "lite involvert"
          - all: [{speaker: "Rektor"}, {match: "mange lærere"}]
"""


@pytest.fixture
def proposed(project_dir):
    """The fixture project with rules, and `qcode autocode --coder me` run once:
    me's suggestions: strinda 1 lead-weak, voss 2 lead-weak, voss 3 and 4 ownership."""
    project_dir.replace("codebooks/codes.yaml", "        description: Leaders leave it to others.\n",
                        RULES)
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"eier*\"}]\n")
    autocode(Project.open(project_dir.root), coder="me")
    return project_dir


def lines(project_dir, name):
    path = project_dir.root / "codings" / name
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]


def where(suggestions):
    return [(s.transcript, s.code, s.passage) for s in suggestions]


def test_pending_suggestions_in_transcript_then_position_order(proposed):
    review = Review(Project.open(proposed.root), "me")
    assert where(review.pending()) == [
        ("strinda-coordinator", "lead-weak", 1), ("voss-principal", "lead-weak", 2),
        ("voss-principal", "ownership", 3), ("voss-principal", "ownership", 4)]
    assert where(review.pending("voss-principal", "ownership")) == [
        ("voss-principal", "ownership", 3), ("voss-principal", "ownership", 4)]


def test_accepting_writes_the_coding_then_the_decision(proposed):
    review = Review(Project.open(proposed.root), "me")
    first = review.pending()[0]
    [event] = review.accept([first])
    coding = lines(proposed, "me.jsonl")[-1]
    assert coding == event
    assert coding["memo"] == 'autocode: match "alene"; match "lite involvert"'
    assert coding["suggestion"] == first.id
    assert (coding["start"], coding["end"], coding["code"]) == (first.start, first.end,
                                                               "lead-weak")
    decision = lines(proposed, "me.suggestions.jsonl")[-1]
    assert decision["op"] == "accept" and decision["id"] == first.id
    assert decision["coding"] == coding["id"] and decision["coder"] == "me"
    project = Project.open(proposed.root)
    assert [(c.code, c.memo) for c in project.codings("me")] == [
        ("lead-weak", 'autocode: match "alene"; match "lite involvert"')]
    assert len(Review(project, "me").pending()) == 3
    with pytest.raises(QcodeError, match="already accepted"):
        review.accept([first])
    # Re-running autocode neither proposes it again nor counts it as pending.
    again = autocode(Project.open(proposed.root), coder="me")
    assert again.new == [] and again.total.accepted == 1 and again.total.pending == 3


def test_rejecting_is_an_appended_event(proposed):
    before = (proposed.root / "codings" / "me.suggestions.jsonl").read_bytes()
    review = Review(Project.open(proposed.root), "me")
    assert review.reject(review.pending()[1:2]) == 1
    after = (proposed.root / "codings" / "me.suggestions.jsonl").read_bytes()
    assert after.startswith(before)  # append-only
    event = json.loads(after[len(before):])
    assert event["op"] == "reject" and set(event) == {"op", "id", "at", "coder"}
    assert not (proposed.root / "codings" / "me.jsonl").exists()
    state = SuggestionLog(Project.open(proposed.root), "me").read()
    assert (state.count("pending"), state.count("rejected")) == (3, 1)


def test_accept_and_reject_all_of_a_code_in_a_transcript(proposed):
    review = Review(Project.open(proposed.root), "me")
    events = review.accept_all("voss-principal", "ownership")
    assert [e["code"] for e in events] == ["ownership", "ownership"]
    assert where(review.pending()) == [("strinda-coordinator", "lead-weak", 1),
                                       ("voss-principal", "lead-weak", 2)]
    assert review.reject_all("voss-principal", "lead-weak") == 1
    assert where(review.pending()) == [("strinda-coordinator", "lead-weak", 1)]
    assert (review.accepted, review.rejected) == (2, 1)


def test_a_crash_between_the_two_appends_loses_and_duplicates_nothing(proposed):
    review = Review(Project.open(proposed.root), "me")
    first = review.pending()[0]
    # The coding was appended, the process died before the accept event.
    Project.open(proposed.root).tag(first.transcript, (first.start, first.end), [first.code],
                                    "me")
    fresh = Review(Project.open(proposed.root), "me")
    assert first.id not in [s.id for s in fresh.pending()]
    assert autocode(Project.open(proposed.root), coder="me").new == []


def test_a_changed_transcript_makes_pending_suggestions_stale(proposed):
    proposed.replace("transcripts/strinda-coordinator.md", "meste alene", "meste ensom")
    project = Project.open(proposed.root)
    assert "strinda-coordinator" not in {s.transcript for s in Review(project, "me").pending()}
    stale = [p for p in project.check().problems if p.rule == "suggestion-stale"]
    assert [(p.severity, p.file) for p in stale] == [("warning", "codings/me.suggestions.jsonl")]
    # autocode withdraws it and proposes the passage again (still "lite involvert").
    result = autocode(Project.open(proposed.root), coder="me")
    assert [s.transcript for s in result.withdrawn] == ["strinda-coordinator"]
    assert [(p.transcript, p.rule) for p in result.new] == [
        ("strinda-coordinator", 'match "lite involvert"')]
    assert not [p for p in Project.open(proposed.root).check().problems
                if p.rule == "suggestion-stale"]


def test_suggestions_logs_are_not_coders_but_are_checked(proposed, cli):
    proposed.write("codings/bad name.suggestions.jsonl", "")
    project = Project.open(proposed.root)
    assert project.coders == []
    rules = [(p.rule, p.file) for p in project.check().problems]
    assert rules == [("log-coder-name", "codings/bad name.suggestions.jsonl")]
    (proposed.root / "codings" / "bad name.suggestions.jsonl").unlink()
    result = cli("check", "--strict")
    assert result.exit_code == 0, result.output


def test_check_reports_broken_suggestions_logs(proposed, cli):
    first = lines(proposed, "me.suggestions.jsonl")[0]
    proposed.append_log(
        "me.suggestions",
        {"op": "reject", "id": first["id"], "at": "2026-01-01T00:00:00Z"},
        {"op": "accept", "id": first["id"], "at": "2026-01-01T00:00:01Z"},
        {"op": "reject", "id": "nope", "at": "2026-01-01T00:00:02Z"},
        {"op": "approve", "id": first["id"], "at": "2026-01-01T00:00:03Z"},
        {**first, "matches": [[1]]},
        {**first},
        {**first, "id": "x1", "transcript": "voss-principl", "code": "lead-weke"},
        "not json",
        '{"op": "reject", "id": "tor',
    )
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    problems = [(p["rule"], p["line"]) for p in json.loads(result.stdout)["problems"]]
    assert problems == [
        ("suggestion-decided", 6),
        ("suggestion-unknown-id", 7), ("log-invalid-event", 8), ("log-invalid-event", 9),
        ("log-duplicate-id", 10), ("suggestion-unknown-transcript", 11),
        ("suggestion-unknown-code", 11), ("log-invalid-json", 12), ("log-torn-line", 13)]
    messages = {p["rule"]: p for p in json.loads(result.stdout)["problems"]}
    assert "did you mean 'lead-weak'" in messages["suggestion-unknown-code"]["hint"]


# -- line mode ------------------------------------------------------------------------------

def review_plain(proposed, answers, coder="me", **options):
    out = io.StringIO()
    count = run_suggestions_plain(Project.open(proposed.root), coder, io.StringIO(answers),
                                  out, **options)
    return count, out.getvalue()


def test_plain_review_accept_reject_skip_and_help(proposed):
    count, out = review_plain(proposed, "a\nx\n?\nr\n\nq\n")
    assert count == 2
    assert out.startswith("4 suggestions to review for me from codings/me.suggestions.jsonl")
    assert "[1/4] [strinda-coordinator] passage 1/3  Koordinator" in out
    assert "suggested: lead-weak (Weak anchoring)" in out
    assert 'rule: match "alene"; match "lite involvert"' in out
    assert "Koordinator: Jeg gjør det meste **alene**, og rektor er **lite involvert**." in out
    assert "saved: +lead-weak (strinda-coordinator passage 1/3)" in out
    assert "error: 'x' is not an answer here" in out
    assert "A              accept every pending suggestion" in out
    assert "saved: rejected lead-weak (voss-principal passage 2/4)" in out
    assert "[3/4] [voss-principal] passage 3/4  I" in out
    assert "quit: 1 accepted, 1 rejected, 1 skipped, 2 still pending" in out
    codings = Project.open(proposed.root).codings("me")
    assert [(c.transcript, c.code) for c in codings] == [("strinda-coordinator", "lead-weak")]
    # The next session starts with what is still pending.
    count, out = review_plain(proposed, "")
    assert out.startswith("2 suggestions to review") and "end of input: 0 accepted" in out


def test_plain_review_accept_all_skips_what_it_decided(proposed):
    count, out = review_plain(proposed, "s\ns\nA\nr\n")
    assert "A/R accept/reject all 2 of ownership in voss-principal" in out
    assert "saved: +ownership (2 in voss-principal)" in out
    assert "[4/4]" not in out  # passage 4 was accepted with A
    assert "end: no more suggestions; 2 accepted, 0 rejected, 2 skipped, 2 still pending" in out
    assert count == 2
    assert [c.passage for c in Review(Project.open(proposed.root), "me").pending()] == [1, 2]


def test_plain_review_shows_the_coders_codes_and_works_from_another_log(proposed):
    Project.open(proposed.root).tag("voss-principal", 2, ["ownership"], "you")
    _count, out = review_plain(proposed, "s\na\n", coder="you", source="me")
    assert "your codes here: ownership" in out
    assert lines(proposed, "you.jsonl")[-1]["code"] == "lead-weak"
    assert lines(proposed, "me.suggestions.jsonl")[-1]["coder"] == "you"


def test_plain_review_without_suggestions_says_how_to_get_them(proposed):
    count, out = review_plain(proposed, "", coder="nobody")
    assert count == 0
    assert out == ("no suggestions in codings/nobody.suggestions.jsonl: run `qcode autocode "
                   "--coder nobody` first; there are suggestions from me (--from me)\n")
    Review(Project.open(proposed.root), "me").accept_all("voss-principal", "ownership")
    review_plain(proposed, "A\nA\n")
    count, out = review_plain(proposed, "")
    assert out == "no pending suggestions in codings/me.suggestions.jsonl\n"


def test_plain_review_of_sentence_suggestions_marks_the_part(project_dir):
    project_dir.replace("codebooks/codes.yaml", "    description: Teachers own the work.\n",
                        "    description: Teachers own the work.\n"
                        "    rules: [{match: \"ærlig\", scope: sentence}]\n")
    autocode(Project.open(project_dir.root), coder="me")
    _count, out = review_plain(project_dir, "a\n")
    assert "[1/1] [strinda-coordinator] passage 3/3 (part)  Koordinator" in out
    assert "\n**Ærlig** talt.\n" in out
    [coding] = Project.open(project_dir.root).codings("me")
    assert coding.text == "Ærlig talt." and coding.memo == 'autocode: match "ærlig" [sentence]'
