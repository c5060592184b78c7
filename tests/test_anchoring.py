"""Re-anchoring (``qcode.anchoring``): hand-computed cases, the laws of edits as property
tests, and writing moves to the logs (append-only, under the lock)."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.coding.anchoring import (
    DEFAULT_MIN_SCORE,
    apply_plan,
    list_orphans,
    place_coding,
    plan_body,
    plan_reanchor,
)
from qcode.errors import UnknownName, UsageError
from qcode.store.codings import Coding


def coding(body: str, text: str, ident: str = "c1", coder: str = "a", occurrence: int = 0,
           code: str = "x") -> Coding:
    start = -1
    for _ in range(occurrence + 1):
        start = body.index(text, start + 1)
    return Coding(ident, coder, "t", start, start + len(text), code, text, "2024-01-01T00:00Z")


BODY = ("I: Hvordan startet det?\n\n"
        "Rektor: Vi hadde for mange lærere, og så så vi en mulighet.\n\n"
        "I: Ja.\n\n"
        "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt.\n\n"
        "I: Ja.\n\n"
        "Rektor: Det vet ingen. Ærlig talt.\n")


# -- hand-computed cases -----------------------------------------------------------------


def test_nothing_drifted_nothing_planned():
    plan = plan_body("t", BODY, [coding(BODY, "I: Ja.")])
    assert plan.placements == [] and plan.counts()["in_place"] == 1


def test_insertion_above_moves_codings_exactly_by_its_length():
    inserted = "Intervjuer presenterer prosjektet.\n\n"
    new = inserted + BODY
    codings = [coding(BODY, "Vi hadde for mange lærere", "c1"),
               coding(BODY, "I: Ja.", "c2", occurrence=1)]
    plan = plan_body("t", new, codings)
    assert [p.kind for p in plan.placements] == ["exact", "exact"]
    for placement in plan.placements:
        assert placement.target.start == placement.coding.start + len(inserted)
        assert new[placement.target.start:placement.target.end] == placement.coding.text


def test_duplicate_text_goes_to_the_occurrence_the_shift_predicts():
    """`I: Ja.` occurs twice; after a 37-character insertion the second one's old offset
    is nearer the first copy's new place than its own, but the shift of the placed coding
    next to it says where it went."""
    old_second = BODY.index("I: Ja.", BODY.index("I: Ja.") + 1)
    new = BODY.replace("Lærerne eier", "Lærerne, sa hun med ettertrykk, eier")
    inserted = len(new) - len(BODY)
    codings = [coding(BODY, "I: Ja.", "c1", occurrence=1),
               coding(BODY, "Rektor: Det vet ingen. Ærlig talt.", "c2")]
    plan = plan_body("t", new, codings)
    by_id = {p.coding.id: p for p in plan.placements}
    assert by_id["c1"].kind == "exact"
    assert by_id["c1"].target.start == old_second + inserted


def test_small_edit_inside_is_fuzzy_with_a_score():
    new = BODY.replace("for mange lærere", "altfor mange lærere")
    text = "Vi hadde for mange lærere, og så så vi en mulighet."
    plan = plan_body("t", new, [coding(BODY, text)])
    (placement,) = plan.placements
    assert placement.kind == "fuzzy"
    assert placement.target.text == "Vi hadde altfor mange lærere, og så så vi en mulighet."
    # fuzz.ratio: 2 * 51 common / (51 + 54) characters = 97.1
    assert placement.target.score == pytest.approx(97.1)


def test_deleted_passage_is_orphaned_with_its_best_candidate():
    text = "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt."
    new = BODY.replace(text + "\n\n", "")
    plan = plan_body("t", new, [coding(BODY, text)])
    (orphan,) = plan.orphans
    assert orphan.target is None
    assert orphan.candidate is not None and orphan.candidate.score < DEFAULT_MIN_SCORE
    assert "below 90" in orphan.reason
    assert orphan.to_dict()["old"]["text"] == text


def test_short_text_is_never_matched_approximately():
    new = BODY.replace("I: Hvordan startet det?", "I: Hvorfor startet det?")
    plan = plan_body("t", new, [coding(BODY, "Hvordan")])
    (orphan,) = plan.orphans
    assert "too short" in orphan.reason


def test_min_score_decides_between_fuzzy_and_orphan():
    new = BODY.replace("Det vet ingen. Ærlig talt.", "Det vet ingen, ærlig talt!")
    text = "Rektor: Det vet ingen. Ærlig talt."
    low = plan_body("t", new, [coding(BODY, text)], min_score=80)
    high = plan_body("t", new, [coding(BODY, text)], min_score=99)
    assert low.placements[0].kind == "fuzzy"
    assert high.placements[0].kind == "orphan"
    assert high.placements[0].candidate.score == low.placements[0].target.score
    with pytest.raises(UsageError):
        plan_body("t", new, [], min_score=101)


def test_span_past_the_end_counts_as_drifted():
    text = "Rektor: Det vet ingen. Ærlig talt."
    cut = BODY[: BODY.index(text)] + text + "\n"
    shorter = cut.replace("I: Hvordan startet det?\n\n", "")
    plan = plan_body("t", shorter, [coding(BODY, text)])
    assert plan.placements[0].kind == "exact"
    assert plan.placements[0].target.end == len(shorter) - 1


# -- laws (hypothesis) -------------------------------------------------------------------

WORDS = [
    "skole", "lærer", "elev", "rektor", "reise", "prosjekt", "utveksling", "Spania",
    "Malta", "Irland", "leder", "plan", "budsjett", "søknad", "mobilitet", "yrkesfag",
    "bedrift", "praksis", "språk", "trygghet", "mestring", "kollega", "avdeling",
    "kontakt", "partner", "opphold", "vertsfamilie", "erfaring", "kompetanse", "kurs",
    "ansvar", "eierskap", "forankring", "oppfølging", "evaluering", "rapport", "møte",
    "høst", "vår", "sommer", "tidlig", "sent", "alltid", "aldri", "ofte", "sjelden",
    "kanskje", "egentlig", "ganske", "veldig", "litt", "mye", "ingen", "alle", "noen",
    "hver", "samme", "annen", "ny", "gammel", "stor", "liten", "god", "vanskelig",
    "enkel", "viktig", "rolig", "travel", "glad", "redd", "stolt", "sliten", "klar",
    "Voss", "Lier", "Strinda", "Bergen", "Oslo", "Molde", "Hamar", "Tromsø", "Bodø",
]

# Real sentences do not repeat one word all through; "skole skole skole …" would make every
# shifted copy of a passage a near-perfect match of it.
sentences = st.lists(st.sampled_from(WORDS), min_size=5, max_size=14, unique=True).map(
    lambda words: " ".join(words).capitalize() + ".")
# Text inserted between coded passages: anything, including transcript-like words.
filler = st.one_of(
    st.text(alphabet=st.sampled_from("abcdeøæå ,.?!\n0123456789-–«»"), min_size=1, max_size=40),
    sentences.map(lambda s: f"\n\nI: {s}\n\n"),
)


@st.composite
def transcripts(draw):
    """A body as segments [(text, coded?)], sentences coded or not, some repeated."""
    turns = draw(st.lists(sentences, min_size=2, max_size=10))
    if draw(st.booleans()):  # a repeated passage makes exact matching ambiguous
        turns.append(draw(st.sampled_from(turns)))
    segments: list[tuple[str, bool]] = []
    for index, sentence in enumerate(turns):
        segments.append((("I: " if index % 2 == 0 else "\n\nRektor: "), False))
        segments.append((sentence, draw(st.booleans())))
        segments.append(("\n\n", False))
    assume(any(coded for _, coded in segments))
    return segments


def _positions(segments: list[tuple[str, bool]]) -> list[int]:
    out, position = [], 0
    for text, _ in segments:
        out.append(position)
        position += len(text)
    return out


def _codings(segments: list[tuple[str, bool]]) -> dict[int, Coding]:
    starts = _positions(segments)
    return {i: Coding(f"c{i}", "a", "t", starts[i], starts[i] + len(text), "x", text, "now")
            for i, (text, coded) in enumerate(segments) if coded}


@st.composite
def outside_edits(draw, segments):
    """Insertions, deletions and replacements in the uncoded segments only."""
    edited = list(segments)
    for _ in range(draw(st.integers(1, 6))):
        free = [i for i, (_, coded) in enumerate(edited) if not coded]
        index = draw(st.sampled_from(free))
        text = edited[index][0]
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        cut = draw(st.integers(0, len(text)))
        cut_end = draw(st.integers(cut, len(text)))
        if kind == "insert":
            text = text[:cut] + draw(filler) + text[cut:]
        elif kind == "delete":
            text = text[:cut] + text[cut_end:]
        else:
            text = text[:cut] + draw(filler) + text[cut_end:]
        edited[index] = (text, False)
    return edited


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_edits_outside_coded_text_leave_every_coding_on_its_text(data):
    segments = data.draw(transcripts())
    edited = data.draw(outside_edits(segments))
    old = _codings(segments)
    new_body = "".join(t for t, _ in edited)
    new_starts = _positions(edited)
    plan = plan_body("t", new_body, old.values())
    placed = {p.coding.id: p for p in plan.placements}
    for index, item in old.items():
        placement = placed.get(item.id)
        if placement is None:  # still in place: its span holds its text
            assert new_body[item.start:item.end] == item.text
            continue
        assert placement.kind == "exact", placement
        target = placement.target
        assert new_body[target.start:target.end] == item.text
        if new_body.count(item.text) == 1:
            assert target.start == new_starts[index]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_small_edit_inside_coded_text_relocates_with_a_high_score(data):
    segments = data.draw(transcripts())
    coded = [i for i, (text, c) in enumerate(segments) if c and len(text) >= 60]
    assume(coded)
    index = data.draw(st.sampled_from(coded))
    text = segments[index][0]
    size = data.draw(st.integers(1, 2))
    at = data.draw(st.integers(1, len(text) - size - 1))
    kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    piece = data.draw(st.text(alphabet="xyzq", min_size=size, max_size=size))
    changed = {"insert": text[:at] + piece + text[at:],
               "delete": text[:at] + text[at + size:],
               "replace": text[:at] + piece + text[at + size:]}[kind]
    assume(changed != text)
    edited = list(segments)
    edited[index] = (changed, True)
    old = _codings(segments)[index]
    new_body = "".join(t for t, _ in edited)
    start = _positions(edited)[index]
    # An untouched copy of the old text elsewhere is an exact match, which comes first.
    assume(old.text not in new_body)
    plan = plan_body("t", new_body, [old])
    if not plan.placements:  # the edit happened to leave the span's text as it was
        assert new_body[old.start:old.end] == old.text
        return
    (placement,) = plan.placements
    assert placement.kind in ("exact", "fuzzy"), placement
    assert placement.target.score >= 90
    # It lands on the edited passage, give or take the edited characters.
    assert abs(placement.target.start - start) <= size
    assert abs(placement.target.end - (start + len(changed))) <= size


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_deleting_a_coded_passage_orphans_it_and_never_attaches_it_elsewhere(data):
    segments = data.draw(transcripts())
    coded = [i for i, (_, c) in enumerate(segments) if c]
    index = data.draw(st.sampled_from(coded))
    old = _codings(segments)[index]
    edited = segments[:index - 1] + segments[index + 1:]  # the passage and its label go
    new_body = "".join(t for t, _ in edited)
    # No passage left says nearly the same: at most half its words occur elsewhere.
    words = set(old.text.rstrip(".").lower().split())
    elsewhere = set(new_body.replace(".", " ").lower().split())
    assume(len(words & elsewhere) <= len(words) // 2)
    plan = plan_body("t", new_body, [old])
    (placement,) = plan.placements
    assert placement.kind == "orphan"
    assert placement.target is None


# -- writing moves -----------------------------------------------------------------------


def _edit_voss(project_dir) -> None:
    project_dir.replace("transcripts/voss-principal.md", "I: Hvordan startet det?",
                        "I: Takk for at du stiller. Hvordan startet det hele?")


def test_apply_plan_writes_remove_and_add_append_only(coded, project_dir):
    before = {c: (project_dir.root / f"codings/{c}.jsonl").read_bytes() for c in ("a", "b")}
    old = {c.id: c for c in coded.codings() if c.transcript == "voss-principal"}
    _edit_voss(project_dir)
    project = Project.open(project_dir.root)
    assert any(p.rule == "coding-text-mismatch" for p in project.check().problems)
    plan = plan_reanchor(project)
    assert not plan.orphans
    assert {p.coding.id for p in plan.moves} == set(old)
    result = apply_plan(project, plan)
    assert result.written == {"a": 2 * 3, "b": 2 * 2}
    for coder in ("a", "b"):
        after = (project_dir.root / f"codings/{coder}.jsonl").read_bytes()
        assert after.startswith(before[coder])  # append-only
    events = project_dir.log_lines("a")[-6:]
    removes = [e for e in events if e["op"] == "remove"]
    adds = [e for e in events if e["op"] == "add"]
    for add in adds:
        origin = add["reanchored_from"]
        moved = old[origin["id"]]
        assert (add["code"], add["text"], add.get("memo")) == (moved.code, moved.text,
                                                                moved.memo)
        assert add["start"] == moved.start + len("Takk for at du stiller.  hele")
        assert origin["how"] == "exact" and origin["start"] == moved.start
        assert {"op": "remove", "id": moved.id} .items() <= next(
            r for r in removes if r["id"] == moved.id).items()
    fresh = Project.open(project_dir.root)
    assert fresh.check().ok
    assert plan_reanchor(fresh).placements == []


def test_memo_and_unknown_fields_survive_a_move(project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="klar sak")
    project_dir.append_log("a", {**project_dir.log_lines("a")[0], "id": "feedfeedfeedfeed",
                                 "code": "lead-weak", "source": "refi-import"})
    _edit_voss(project_dir)
    project = Project.open(project_dir.root)
    apply_plan(project, plan_reanchor(project, ["voss-principal"]))
    current = {c.code: c for c in Project.open(project_dir.root).codings("a")}
    assert current["ownership"].memo == "klar sak"
    assert current["lead-weak"].extra["source"] == "refi-import"
    assert current["lead-weak"].extra["reanchored_from"]["id"] == "feedfeedfeedfeed"


def test_a_coding_removed_after_planning_is_skipped(coded, project_dir):
    _edit_voss(project_dir)
    project = Project.open(project_dir.root)
    plan = plan_reanchor(project)
    gone = next(p.coding for p in plan.moves if p.coding.coder == "b")
    Project.open(project_dir.root).log("b").append([{"op": "remove", "id": gone.id,
                                                     "at": "2024-01-01T00:00:00Z"}])
    result = apply_plan(project, plan)
    assert [p.coding.id for p in result.skipped] == [gone.id]
    assert gone.id not in {c.id for c in Project.open(project_dir.root).codings("b")}
    assert not any(e.get("reanchored_from", {}).get("id") == gone.id
                   for e in project_dir.log_lines("b"))


def test_apply_waits_for_the_log_lock(coded, project_dir):
    _edit_voss(project_dir)
    project = Project.open(project_dir.root)
    plan = plan_reanchor(project)
    path = project_dir.root / "codings" / "a.jsonl"
    size = path.stat().st_size
    fd = os.open(path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another qcode process is appending
    worker = threading.Thread(target=apply_plan, args=(project, plan))
    try:
        worker.start()
        time.sleep(0.3)
        assert path.stat().st_size == size  # it waited
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    worker.join(10)
    assert path.stat().st_size > size


def test_orphans_are_listed_and_can_be_placed_by_hand(coded, project_dir):
    project_dir.replace("transcripts/voss-principal.md",
                        "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt.",
                        "Rektor: Det er lærernes eget.")
    project = Project.open(project_dir.root)
    orphans = list_orphans(project, ["voss-principal"])
    assert {(o.coding.coder, o.coding.code) for o in orphans} == {("a", "ownership"),
                                                                 ("b", "lead-weak")}
    orphan = next(o for o in orphans if o.coding.coder == "a")
    assert orphan.coding.text == "Rektor: Lærerne eier prosjektet – det er «deres» prosjekt."
    body = project.transcript("voss-principal").body
    start = body.index("Rektor: Det er lærernes eget.")
    new_id = place_coding(project, orphan.coding, start, start + 29)
    fresh = Project.open(project_dir.root)
    moved = next(c for c in fresh.codings("a") if c.id == new_id)
    assert moved.text == "Rektor: Det er lærernes eget."
    assert moved.extra["reanchored_from"]["how"] == "manual"
    assert [o.coding.coder for o in list_orphans(fresh)] == ["b"]


def test_unknown_transcript_is_named(project_dir):
    with pytest.raises(UnknownName, match="did you mean 'voss-principal'"):
        plan_reanchor(Project.open(project_dir.root), ["voss-principa"])
