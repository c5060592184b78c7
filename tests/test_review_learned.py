"""Reviewing learned suggestions (`qcode code --suggestions`): the source and probability
shown, the order by certainty or uncertainty, the --source filter, and decisions recorded
exactly as for the rules' suggestions."""

from __future__ import annotations

import asyncio
import io
import json
import re

import pytest

from qcode import Project
from qcode.cli.coding import ReviewOrder, SuggestionKind
from qcode.cli.plain.suggestions import run_suggestions_plain
from qcode.coding.review import KINDS, ORDERS, Review
from qcode.errors import QcodeError
from qcode.problems import Problems
from qcode.store.events import propose_event
from qcode.store.suggestions import replay_suggestions
from qcode.tui import make_app

AT = "2026-12-01T10:00:00.000Z"

# (transcript, words in the passage, code, probability, features, threshold); None = rules
PROPOSALS = [
    ("lier-teacher", "tryggere på seg selv", "personal", 0.91, ["tryggere", "selv"], None),
    ("lier-teacher", "de stille elevene", "personal", 0.55, ["elevene"], None),
    ("voss-principal", "Lærerne eier", "ownership", 0.75, ["eier", "lærerne"], None),
    ("strinda-coordinator", "alene", "lead-weak", None, [], None),
    ("voss-principal", "mange lærere", "lead-weak", None, [], None),
]


def passage_with(project, transcript, words):
    body = project.transcript(transcript).body
    [passage] = [p for p in project.transcript(transcript).passages
                 if words in body[p.start:p.end]]
    return passage


def write_log(project_dir, proposals=PROPOSALS):
    """codings/me.suggestions.jsonl written by hand, one whole-passage suggestion each."""
    project = Project.open(project_dir.root)
    lines = []
    for transcript, words, code, probability, features, threshold in proposals:
        passage = passage_with(project, transcript, words)
        text = project.transcript(transcript).body[passage.start:passage.end]
        learned = probability is not None
        event = propose_event(
            transcript, passage.start, passage.end, code, text, AT,
            "learned from me" if learned else f'match "{words}"', passage.number, [],
            source="learned" if learned else "rules", probability=probability,
            features=features)
        if threshold is not None:
            event["threshold"] = threshold
        lines.append(json.dumps(event, ensure_ascii=False))
    path = project_dir.root / "codings" / "me.suggestions.jsonl"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def review_plain(project_dir, answers, **options):
    out = io.StringIO()
    count = run_suggestions_plain(Project.open(project_dir.root), "me", io.StringIO(answers),
                                  out, **options)
    return count, out.getvalue()


def shown(out):
    """(transcript, the line saying where the suggestion comes from) per suggestion shown."""
    lines = out.splitlines()
    return [(re.match(r"\[\d+/\d+\] \[([^\]]+)\]", line)[1], lines[index + 2])
            for index, line in enumerate(lines) if re.match(r"\[\d+/\d+\] \[", line)]


def skip_all(count=len(PROPOSALS)):
    return "s\n" * count


def test_the_cli_choices_are_the_review_library_values():
    assert tuple(ReviewOrder) == ORDERS and tuple(SuggestionKind) == KINDS


def test_plain_review_shows_source_probability_and_words_most_certain_first(project_dir):
    write_log(project_dir)
    count, out = review_plain(project_dir, skip_all())
    assert count == 0
    assert out.startswith("5 suggestions to review for me from codings/me.suggestions.jsonl; "
                          "3 learned most certain first, then 2 from rules (? for help)")
    assert shown(out) == [
        ("lier-teacher", "learned p=0.91 · words: tryggere, selv"),
        ("voss-principal", "learned p=0.75 · words: eier, lærerne"),
        ("lier-teacher", "learned p=0.55 · words: elevene"),
        # the rules' suggestions follow, in transcript order then position
        ("strinda-coordinator", 'rule: match "alene"'),
        ("voss-principal", 'rule: match "mange lærere"')]


def test_uncertain_order_puts_the_closest_to_the_threshold_first(project_dir):
    write_log(project_dir)
    _, out = review_plain(project_dir, skip_all(), order="uncertain")
    assert "3 learned least certain first" in out.splitlines()[0]
    # |p - 0.5|: 0.05, 0.25, 0.41
    assert [line for _, line in shown(out)][:3] == [
        "learned p=0.55 · words: elevene", "learned p=0.75 · words: eier, lærerne",
        "learned p=0.91 · words: tryggere, selv"]


def test_uncertain_order_uses_the_threshold_stored_on_the_event(project_dir):
    proposals = list(PROPOSALS)
    proposals[2] = (*PROPOSALS[2][:5], 0.72)  # 0.75 is 0.03 from its own threshold
    write_log(project_dir, proposals)
    _, out = review_plain(project_dir, skip_all(), order="uncertain")
    assert [line for _, line in shown(out)][:3] == [
        "learned p=0.75 (threshold 0.72) · words: eier, lærerne",
        "learned p=0.55 · words: elevene", "learned p=0.91 · words: tryggere, selv"]


def test_position_order_is_transcript_then_position_whatever_the_source(project_dir):
    write_log(project_dir)
    _, out = review_plain(project_dir, skip_all(), order="position")
    assert "learned" not in out.splitlines()[0]
    project = Project.open(project_dir.root)
    expected = sorted(
        PROPOSALS, key=lambda p: ([t.id for t in project.transcripts].index(p[0]),
                                  passage_with(project, p[0], p[1]).start))
    assert [t for t, _ in shown(out)] == [p[0] for p in expected]
    assert [line.startswith("learned") for _, line in shown(out)] == [
        p[3] is not None for p in expected]


def test_accept_and_reject_learned_suggestions_are_recorded_as_for_rules(project_dir):
    path = write_log(project_dir)
    added = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    count, out = review_plain(project_dir, "a\nr\nq\n")
    assert count == 2
    assert "saved: +personal (lier-teacher passage 2/3)" in out
    assert "saved: rejected ownership (voss-principal" in out
    accept, reject = [json.loads(line) for line in path.read_text("utf-8").splitlines()[-2:]]
    [coding] = Project.open(project_dir.root).codings("me")
    assert set(accept) == {"op", "id", "at", "coder", "coding"}
    assert (accept["op"], accept["id"], accept["coder"]) == ("accept", added[0]["id"], "me")
    assert accept["coding"] == coding.id
    assert set(reject) == {"op", "id", "at", "coder"}
    assert (reject["op"], reject["id"]) == ("reject", added[2]["id"])
    assert (coding.transcript, coding.code, coding.memo) == (
        "lier-teacher", "personal", "autocode: learned from me")
    assert (coding.start, coding.end) == (added[0]["start"], added[0]["end"])
    # the decisions hold: the next review starts with what is still pending
    _, out = review_plain(project_dir, "")
    assert out.startswith("3 suggestions to review") and "1 learned" in out.splitlines()[0]


def test_source_filter_reviews_one_kind_and_accept_all_stays_within_it(project_dir):
    write_log(project_dir)
    _, out = review_plain(project_dir, skip_all(), kind="rules")
    assert [line for _, line in shown(out)] == ['rule: match "alene"',
                                               'rule: match "mange lærere"']
    # A on voss-principal's lead-weak: only the rules' one exists there; with learned only,
    # A on lier-teacher personal takes both learned ones and nothing else
    _, out = review_plain(project_dir, "A\nq\n", kind="learned")
    assert "saved: +personal (2 in lier-teacher)" in out
    pending = Review(Project.open(project_dir.root), "me").queue()
    assert [(s.source, s.code) for s in pending] == [
        ("learned", "ownership"), ("rules", "lead-weak"), ("rules", "lead-weak")]


def test_code_suggestions_options_through_the_cli(project_dir, cli):
    write_log(project_dir)
    result = cli("code", "--coder", "me", "--suggestions", "--from", "me", "--plain",
                 "--order", "uncertain", "--source", "learned", input=skip_all(3))
    assert result.exit_code == 0, result.output
    assert [line for _, line in shown(result.stdout)] == [
        "learned p=0.55 · words: elevene", "learned p=0.75 · words: eier, lærerne",
        "learned p=0.91 · words: tryggere, selv"]
    result = cli("code", "--coder", "me", "--suggestions", "--plain", "--order", "likely")
    assert result.exit_code == 2 and "certain" in result.output


def test_review_refuses_an_unknown_order_or_source(project_dir):
    project = Project.open(project_dir.root)
    with pytest.raises(QcodeError, match="unknown review order 'likely'"):
        Review(project, "me", order="likely")
    with pytest.raises(QcodeError, match="unknown suggestion source 'model'"):
        Review(project, "me", kind="model")


def test_a_threshold_outside_0_to_1_is_an_invalid_event(project_dir):
    write_log(project_dir)
    event = propose_event("lier-teacher", 0, 3, "personal", "I: ", AT, "learned", 1, [],
                          source="learned", probability=0.8)
    problems = Problems()
    state = replay_suggestions([json.dumps({**event, "threshold": 0.6}).encode(),
                                json.dumps({**event, "threshold": 1.5}).encode()],
                               "me", "codings/me.suggestions.jsonl", problems)
    [suggestion] = state.suggestions.values()
    assert suggestion.threshold == 0.6 and suggestion.to_dict()["threshold"] == 0.6
    assert [p.message for p in problems] == [
        "line 2: `threshold` must be a number from 0 to 1"]


def test_the_screen_shows_learned_p_and_walks_most_certain_first(project_dir):
    write_log(project_dir)
    review = Review(Project.open(project_dir.root), "me")

    async def drive():
        seen = []
        async with make_app("suggestions", review=review).run_test(size=(100, 30)) as pilot:
            for _ in range(4):
                await pilot.pause()
                seen.append(str(pilot.app.screen.query_one("#suggestion").render()))
                await pilot.press("j")
        return seen

    seen = asyncio.run(drive())
    assert "learned p=0.91 · words: tryggere, selv" in seen[0]
    assert "learned p=0.75 · words: eier, lærerne" in seen[1]
    assert "learned p=0.55 · words: elevene" in seen[2]
    assert 'rule: match "alene"' in seen[3] and "learned" not in seen[3]
