"""``qcode.adjudication`` and ``qcode adjudicate --plain`` with scripted input.

On the ``coded`` fixture (see tests/test_reliability.py for the codings), coders a and b
agree on lead-strong in voss 2 and lead-weak in strinda 1, and disagree on seven
(passage, code) items, in transcript, passage and codebook order:

    1 lier 2      lead-weak   presence (a only)
    2 lier 2      personal    extent   (a: the passage, b: one sentence)
    3 lier 3      personal    presence (a only)
    4 strinda 3   outcomes    presence (a only)
    5 voss 2      ownership   presence (a only)
    6 voss 4      lead-weak   presence (b only)
    7 voss 4      ownership   presence (a only)
"""

from __future__ import annotations

import pytest

from conftest import SENTENCE
from qcode import Project
from qcode.coding.adjudication import Adjudication, parse_span
from qcode.errors import QcodeError, UsageError

PENDING = [
    ("lier-teacher", 2, "lead-weak", "presence"),
    ("lier-teacher", 2, "personal", "extent"),
    ("lier-teacher", 3, "personal", "presence"),
    ("strinda-coordinator", 3, "outcomes", "presence"),
    ("voss-principal", 2, "ownership", "presence"),
    ("voss-principal", 4, "lead-weak", "presence"),
    ("voss-principal", 4, "ownership", "presence"),
]


def _listed(items):
    return [(i.transcript, i.passage, i.code, i.kind) for i in items]


def _current(project_dir, coder="consensus"):
    project = Project.open(project_dir.root)
    return sorted((c.transcript, c.start, c.end, c.code) for c in project.codings(coder))


def _span(project, transcript, number):
    passage = project.transcript(transcript).passage(number)
    return (passage.start, passage.end)


def test_items_agreements_and_pending(coded):
    session = Adjudication(coded, "a", "b", "consensus")
    assert _listed(session.pending()) == PENDING
    assert _listed(session.agreements()) == [
        ("strinda-coordinator", 1, "lead-weak", "agreement"),
        ("voss-principal", 2, "lead-strong", "agreement")]
    assert session.progress() == (0, 7)
    assert session.left_out == {}


def test_copy_agreements_once(coded, project_dir):
    session = Adjudication(coded, "a", "b")
    assert session.copy_agreements() == 2
    assert _current(project_dir) == sorted([
        ("strinda-coordinator", *_span(coded, "strinda-coordinator", 1), "lead-weak"),
        ("voss-principal", *_span(coded, "voss-principal", 2), "lead-strong")])
    lines = project_dir.log_lines("consensus")
    assert all(line["memo"] == "agreed: a and b both coded the passage" for line in lines)
    assert lines[0]["adjudication"] == {"coders": ["a", "b"], "passage": 1,
                                        "decision": "agreed"}
    # a new session (a re-run) copies nothing twice, in either order of the coders
    assert Adjudication(Project.open(project_dir.root), "a", "b").copy_agreements() == 0
    assert Adjudication(Project.open(project_dir.root), "b", "a").copy_agreements() == 0
    assert len(project_dir.log_lines("consensus")) == 2


def test_each_decision_writes_what_it_says(coded, project_dir):
    session = Adjudication(coded, "a", "b")
    items = {(i.transcript, i.passage, i.code): i for i in session.pending()}
    lier = coded.transcript("lier-teacher")
    start = lier.body.index(SENTENCE)
    sentence = (start, start + len(SENTENCE))

    took_a = session.decide(items[("lier-teacher", 2, "lead-weak")], "a")
    assert took_a.spans == (_span(coded, "lier-teacher", 2),)
    took_b = session.decide(items[("lier-teacher", 2, "personal")], "b")
    assert took_b.spans == (sentence,)
    neither = session.decide(items[("lier-teacher", 3, "personal")], "neither")
    assert neither.spans == () and neither.events == 2
    both = session.decide(items[("voss-principal", 4, "lead-weak")], "both")
    assert both.spans == (_span(coded, "voss-principal", 4),)
    # taking the coder who coded nothing is "no coding", recorded like neither
    nothing = session.decide(items[("voss-principal", 4, "ownership")], "b")
    assert nothing.spans == ()
    voss = coded.transcript("voss-principal")
    tail = voss.body.index("Det ble en del av planen")
    edited = session.decide(items[("voss-principal", 2, "ownership")], "edit",
                            [(tail, tail + 24)])
    assert edited.spans == ((tail, tail + 24),)

    assert _current(project_dir) == sorted([
        ("lier-teacher", *_span(coded, "lier-teacher", 2), "lead-weak"),
        ("lier-teacher", *sentence, "personal"),
        ("voss-principal", *_span(coded, "voss-principal", 4), "lead-weak"),
        ("voss-principal", tail, tail + 24, "ownership")])
    assert session.progress() == (6, 7)
    assert _listed(session.pending()) == [("strinda-coordinator", 3, "outcomes", "presence")]
    # the consensus log is valid for `qcode check` (the neither markers add, then remove)
    assert Project.open(project_dir.root).check().ok


def test_memos_say_where_each_coding_came_from(coded, project_dir):
    session = Adjudication(coded, "a", "b")
    items = session.pending()
    session.decide(items[1], "b")     # lier 2 personal, extent
    session.decide(items[2], "neither")
    lines = project_dir.log_lines("consensus")
    body = coded.transcript("lier-teacher").body
    start = body.index(SENTENCE)
    assert lines[0]["memo"] == (f"adjudicated: b's coding (a coded the passage, b "
                                f"{start}:{start + len(SENTENCE)})")
    assert lines[0]["adjudication"] == {"coders": ["a", "b"], "passage": 2, "decision": "b",
                                        "from": "b"}
    assert lines[0]["text"] == SENTENCE
    assert lines[1]["op"] == "add" and lines[2] == {
        "op": "remove", "id": lines[1]["id"], "at": lines[2]["at"],
        "adjudication": {"coders": ["a", "b"], "passage": 3, "decision": "neither"}}
    assert lines[1]["memo"] == "adjudicated: neither (a coded the passage, b nothing)"


def test_original_memos_are_kept(project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="teachers say 'our project'")
    project.tag("voss-principal", 4, ["lead-weak"], "b")
    session = Adjudication(Project.open(project_dir.root), "a", "b")
    [item] = [i for i in session.pending() if i.code == "ownership"]
    session.decide(item, "a")
    memo = project_dir.log_lines("consensus")[-1]["memo"]
    assert memo.endswith(" | a's memo: teachers say 'our project'")


def test_resume_reads_the_decisions_back(coded, project_dir):
    session = Adjudication(coded, "a", "b")
    session.copy_agreements()
    for item in session.pending()[:3]:
        session.decide(item, "neither")
    resumed = Adjudication(Project.open(project_dir.root), "b", "a")
    assert resumed.progress() == (3, 7)
    assert [(i.transcript, i.passage, i.code) for i in resumed.pending()] == [
        p[:3] for p in PENDING[3:]]
    assert resumed.agreements() == []


def test_a_decided_item_is_not_decided_twice(coded):
    session = Adjudication(coded, "a", "b")
    item = session.pending()[0]
    session.decide(item, "a")
    with pytest.raises(QcodeError, match="already decided"):
        session.decide(item, "b")


def test_segments_across_passages_are_cut_at_the_passage(project_dir):
    project = Project.open(project_dir.root)
    lier = project.transcript("lier-teacher")
    p2, p3 = lier.passage(2), lier.passage(3)
    project.tag("lier-teacher", (p2.start, p3.end), ["personal"], "b")  # one span, two turns
    project.tag("lier-teacher", 1, ["lead-weak"], "a")
    session = Adjudication(Project.open(project_dir.root), "a", "b")
    assert [(i.passage, i.second) for i in session.pending() if i.code == "personal"] == [
        (2, ((p2.start, p2.end),)), (3, ((p3.start, p3.end),))]
    for item in session.pending():
        if item.code == "personal":
            session.decide(item, "b")
    assert [(s, e) for _t, s, e, c in _current(project_dir) if c == "personal"] == [
        (p2.start, p2.end), (p3.start, p3.end)]


def test_existing_consensus_codings_are_not_duplicated(coded, project_dir):
    coded.tag("voss-principal", 4, ["ownership"], "consensus")  # coded by hand before
    session = Adjudication(Project.open(project_dir.root), "a", "b")
    [item] = [i for i in session.pending() if (i.passage, i.code) == (4, "ownership")]
    session.decide(item, "a")
    current = [c for c in _current(project_dir) if c[3] == "ownership"]
    assert len(current) == 1
    assert Adjudication(Project.open(project_dir.root), "a", "b").progress()[0] == 1


def test_edit_outside_the_passage_is_refused(coded):
    session = Adjudication(coded, "a", "b")
    item = session.pending()[0]
    with pytest.raises(UsageError, match="not inside passage"):
        session.decide(item, "edit", [(0, item.end)])
    with pytest.raises(UsageError, match="an edit needs the spans"):
        session.decide(item, "edit")
    with pytest.raises(UsageError, match="unknown decision"):
        session.decide(item, "maybe")
    assert session.progress() == (0, 7)


@pytest.mark.parametrize(("first", "second", "into", "message"), [
    ("a", "a", "consensus", "two different coders"),
    ("a", "b", "a", "cannot be one of the coders"),
    ("a", "b", "no good", "coder name 'no good' is not allowed"),
])
def test_session_errors(coded, first, second, into, message):
    with pytest.raises(UsageError, match=message):
        Adjudication(coded, first, second, into)


def test_parse_span(coded):
    session = Adjudication(coded, "a", "b")
    item = session.pending()[0]  # lier 2
    assert parse_span("passage", item) == ((item.start, item.end),)
    assert parse_span(" p ", item) == ((item.start, item.end),)
    assert parse_span("none", item) == ()
    assert parse_span(f"{item.start + 1}:{item.start + 5}", item) == (
        (item.start + 1, item.start + 5),)
    found = item.start + item.text.index("Kl. 07:45")
    assert parse_span("Kl. 07:45", item) == ((found, found + 9),)  # text, not offsets
    with pytest.raises(UsageError, match="not in the passage"):
        parse_span("flyplassen i Oslo", item)
    with pytest.raises(UsageError, match="not inside the passage"):
        parse_span("0:3", item)


# -- qcode adjudicate --plain ---------------------------------------------------------------

SCRIPT = "\n".join([
    "a",                            # 1 lier 2 lead-weak -> a's (the passage)
    "x",                            #   not a choice: asked again
    "b",                            # 2 lier 2 personal -> b's sentence
    "n",                            # 3 lier 3 personal -> neither
    "ab",                           # 4 strinda 3 outcomes -> both (a's passage)
    "e",                            # 5 voss 2 ownership -> edit:
    "not there",                    #   not in the passage: asked again
    "Det ble en del av planen",     #   a piece of the passage
    "s",                            # 6 voss 4 lead-weak -> skipped
    "q",                            # 7 quit
]) + "\n"


def test_plain_adjudication_with_scripted_input(coded, cli, project_dir):
    result = cli("adjudicate", "a", "b", "--into", "consensus", "--plain", input=SCRIPT)
    assert result.exit_code == 0, result.output
    assert "copied 2 agreement(s) of a and b into consensus; 7 of 7" in result.stderr
    assert "== lier-teacher · passage 2 · Lærer 1 (line 7)" in result.stdout
    assert "[2/7] personal (Personal outcomes) — extent" in result.stdout
    assert f"«{SENTENCE}»" in result.stdout
    assert "? 'x' is not a choice" in result.stdout
    assert "? 'not there' is not in the passage" in result.stdout
    assert "decided 5, skipped 1; 2 of 7 disagreement(s) still to decide" in result.stderr
    voss = coded.transcript("voss-principal")
    tail = voss.body.index("Det ble en del av planen")
    lier = coded.transcript("lier-teacher")
    start = lier.body.index(SENTENCE)
    assert _current(project_dir) == sorted([
        ("strinda-coordinator", *_span(coded, "strinda-coordinator", 1), "lead-weak"),
        ("voss-principal", *_span(coded, "voss-principal", 2), "lead-strong"),
        ("lier-teacher", *_span(coded, "lier-teacher", 2), "lead-weak"),
        ("lier-teacher", start, start + len(SENTENCE), "personal"),
        ("strinda-coordinator", *_span(coded, "strinda-coordinator", 3), "outcomes"),
        ("voss-principal", tail, tail + 24, "ownership")])

    # Re-running continues where it stopped: the skipped item and the one after it.
    again = cli("adjudicate", "a", "b", "--plain", input="b\na\n")
    assert again.exit_code == 0, again.output
    assert "copied 0 agreement(s) of a and b into consensus; 2 of 7" in again.stderr
    assert "[1/2] lead-weak" in again.stdout and "[2/2] ownership" in again.stdout
    assert "adjudication complete" in again.stderr
    assert ("voss-principal", *_span(coded, "voss-principal", 4), "lead-weak") in _current(
        project_dir)
    assert ("voss-principal", *_span(coded, "voss-principal", 4), "ownership") in _current(
        project_dir)
    done = cli("adjudicate", "a", "b", "--plain", input="")
    assert "0 of 7 disagreement(s) to decide" in done.stderr
    assert cli("check").exit_code == 0


def test_plain_adjudication_stops_at_end_of_input_and_keeps_decisions(coded, cli,
                                                                      project_dir):
    result = cli("adjudicate", "a", "b", "--plain", input="a\nb\n")
    assert result.exit_code == 0, result.output
    assert "decided 2, skipped 0; 5 of 7" in result.stderr
    assert "run the command again to continue" in result.stderr
    decisions = [line["adjudication"]["decision"]
                 for line in project_dir.log_lines("consensus")]
    assert decisions == ["agreed", "agreed", "a", "b"]


def test_full_screen_adjudication_decides_with_keys(coded, project_dir):
    import asyncio

    from qcode.tui import make_app

    session = Adjudication(Project.open(project_dir.root), "a", "b", "consensus")
    session.copy_agreements()
    pending = session.pending()
    app = make_app("adjudicate", adjudication=session)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("a", "j", "o", "n")
            await pilot.pause()
            return str(app.query_one("#status").render())

    status = asyncio.run(run())
    assert "decided 3/" in status
    decisions = [line["adjudication"]["decision"] for line in project_dir.log_lines("consensus")
                 if line["op"] == "add"
                 and line.get("adjudication", {}).get("decision") not in (None, "agreed")]
    assert decisions == ["a", "both", "neither"]
    # the skipped item (j) is still pending, the decided ones are not
    remaining = {i.key for i in Adjudication(Project.open(project_dir.root), "a", "b",
                                             "consensus").pending()}
    assert pending[1].key in remaining and pending[0].key not in remaining


def test_adjudicate_errors(coded, cli):
    same = cli("adjudicate", "a", "a", "--plain", input="")
    assert same.exit_code == 2 and "two different coders" in same.stderr
    unknown = cli("adjudicate", "a", "zz", "--plain", input="")
    assert unknown.exit_code == 1 and "unknown coder 'zz'" in unknown.stderr


def test_adjudication_keys_are_remapped_from_qcode_yaml(coded, project_dir, cli):
    """The adjudication screen's bindings have ids: `check` accepts them and the screen
    uses the remapped keys (a key of the coder, like `n`, may serve another screen)."""
    import asyncio

    from qcode.tui import make_app

    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml")
                      + "keys:\n  take-first: x\n  take-neither: ctrl+n\n")
    assert cli("check").exit_code == 0, cli("check").output
    session = Adjudication(Project.open(project_dir.root), "a", "b", "consensus")
    session.copy_agreements()
    app = make_app("adjudicate", adjudication=session)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("a")       # no longer bound: nothing happens
            await pilot.press("x", "ctrl+n")
            await pilot.pause()

    asyncio.run(run())
    decisions = [line["adjudication"]["decision"] for line in project_dir.log_lines("consensus")
                 if line["op"] == "add"
                 and line.get("adjudication", {}).get("decision") not in (None, "agreed")]
    assert decisions == ["a", "neither"]


def test_check_refuses_a_key_bound_twice_on_one_screen(coded, project_dir, cli):
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml")
                      + "keys:\n  take-first: b\n")
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    assert '"keys-conflict"' in result.stdout and "'take-second'" in result.stdout


def test_a_decision_keeps_its_reason(coded, cli, project_dir):
    """Words after the choice are the reason: kept in the record and the memo."""
    result = cli("adjudicate", "a", "b", "--plain",
                 input="a the turn names the principal's own act\nb\nq\n")
    assert result.exit_code == 0, result.output
    assert "(reason: the turn names the principal's own act)" in result.stdout
    decided = [line for line in project_dir.log_lines("consensus")
               if line["op"] == "add" and line["adjudication"]["decision"] in ("a", "b")]
    assert decided[0]["adjudication"]["reason"] == "the turn names the principal's own act"
    assert "reason: the turn names the principal's own act" in decided[0]["memo"]
    assert "reason" not in decided[1]["adjudication"]
    assert cli("check").exit_code == 0


def test_the_full_screen_reason_key(coded, project_dir):
    import asyncio

    from qcode.tui import make_app

    session = Adjudication(Project.open(project_dir.root), "a", "b", "consensus")
    session.copy_agreements()
    app = make_app("adjudicate", adjudication=session)

    async def run():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("w", *"clear case", "enter", "a")
            await pilot.pause()

    asyncio.run(run())
    decided = [line for line in project_dir.log_lines("consensus")
               if line["op"] == "add" and line["adjudication"]["decision"] == "a"]
    assert decided[0]["adjudication"]["reason"] == "clear case"


def test_plain_adjudication_shows_the_coders_memos(project_dir, cli):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["ownership"], "a", memo="teachers say 'our project'")
    project.tag("voss-principal", 4, ["lead-weak"], "b")
    result = cli("adjudicate", "a", "b", "--plain", input="q\n")
    assert "a's memo: teachers say 'our project'" in result.stdout


def test_decisions_that_left_no_coding_survive_compaction(coded, project_dir, cli):
    """«neither» is written as an add taken back at once; compacting the consensus log
    keeps that decision (without its text), so resuming does not ask it again."""
    session = Adjudication(coded, "a", "b")
    session.copy_agreements()
    for item in session.pending()[:3]:
        session.decide(item, "neither")
    session.decide(session.pending()[0], "a")
    before = _current(project_dir)
    log = project_dir.root / "codings" / "consensus.jsonl"
    assert cli("compact", "consensus").exit_code == 0
    raw = log.read_bytes()
    assert b'"op":"remove"' in raw.replace(b" ", b"")
    for item in PENDING[:3]:  # the neither decisions hold no quoted text any more
        transcript = coded.transcript(item[0])
        passage = transcript.passage(item[1])
        assert transcript.body[passage.start:passage.end][:40].encode() not in raw
    assert _current(project_dir) == before
    resumed = Adjudication(Project.open(project_dir.root), "a", "b")
    assert resumed.progress() == (4, 7)
    assert [(i.transcript, i.passage, i.code) for i in resumed.pending()] == [
        p[:3] for p in PENDING[4:]]
    assert cli("compact", "consensus").exit_code == 0
    assert log.read_bytes() == raw  # compacting again changes nothing
    assert cli("check").exit_code == 0
