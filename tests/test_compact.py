"""Compaction (qcode.store.compact, `qcode compact`): a log replaced by its current
state, proven to replay the same."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode.problems import Problems
from qcode.store.compact import (
    CannotCompact,
    compact_coding_log,
    compact_suggestions_log,
    suggestion_states_equal,
)
from qcode.store.events import (
    accept_event,
    add_event,
    encode_event,
    new_id,
    now_iso,
    propose_event,
    reject_event,
    remove_event,
    withdraw_event,
)
from qcode.store.replay import replay_bytes
from qcode.store.suggestions import replay_suggestions

TRANSCRIPTS = ["t-one", "t-two", "t-three"]


def _fields(coding) -> tuple:
    return (coding.id, coding.coder, coding.transcript, coding.start, coding.end,
            coding.code, coding.text, coding.at, coding.memo, coding.extra)


# A random log: each step adds a coding (maybe with a memo and extra fields), removes a
# live one, or re-adds a removed one (a new add of the same span and code, as undo does).
steps = st.lists(st.tuples(st.sampled_from(["add", "add", "remove", "readd"]),
                           st.integers(0, 10_000), st.booleans()), max_size=40)


def _build_log(plan: list[tuple[str, int, bool]]) -> bytes:
    written: dict[str, dict] = {}
    live: list[dict] = []
    removed: list[dict] = []
    lines: list[bytes] = []
    for op, number, flag in plan:
        if op == "add" or (op == "readd" and not removed):
            start = number % 500
            event = add_event(TRANSCRIPTS[number % 3], start, start + number % 40,
                              f"code-{number % 4}", f"tekst «{number}» æøå",
                              memo=f"memo {number}" if flag else None,
                              cb="1" if number % 2 else None,
                              reanchored_from={"start": 1} if number % 5 == 0 else None)
        elif op == "readd":
            old = removed.pop(number % len(removed))
            event = {**old, "id": new_id(), "at": now_iso()}
        elif live:
            event = remove_event(live.pop(number % len(live))["id"])
            removed.append(written[event["id"]])
            lines.append(encode_event(event))
            continue
        else:
            continue
        live.append(event)
        written[event["id"]] = event
        lines.append(encode_event(event))
    return b"".join(lines)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_a_compacted_log_replays_equal_and_compacting_again_changes_nothing(plan) -> None:
    raw = _build_log(plan)
    before = replay_bytes(raw, "me", "codings/me.jsonl")
    compacted = compact_coding_log(raw, "me", "codings/me.jsonl")
    after = replay_bytes(compacted.data, "me", "codings/me.jsonl")
    assert [_fields(c) for c in after.codings] == [_fields(c) for c in before.codings]
    assert not after.problems
    assert b'"op": "remove"' not in compacted.data
    assert compacted.events_after == len(before.codings)
    assert compact_coding_log(compacted.data, "me", "codings/me.jsonl").data \
        == compacted.data


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_a_transform_is_applied_and_proven(plan) -> None:
    raw = _build_log(plan)
    before = replay_bytes(raw, "me", "codings/me.jsonl").codings

    def drop_one_rename_text(event: dict) -> dict | None:
        if event["transcript"] == "t-two":
            return None
        return {**event, "text": event["text"].replace("tekst", "[X]")}

    compacted = compact_coding_log(raw, "me", "codings/me.jsonl", drop_one_rename_text)
    after = replay_bytes(compacted.data, "me", "codings/me.jsonl").codings
    assert [(c.id, c.text) for c in after] == [
        (c.id, c.text.replace("tekst", "[X]")) for c in before if c.transcript != "t-two"]
    assert sorted(compacted.dropped) == sorted(c.id for c in before
                                               if c.transcript == "t-two")


def test_a_torn_last_line_is_refused_with_its_line() -> None:
    raw = encode_event(add_event("t-one", 0, 3, "c", "abc")) + b'{"op": "add", "id": "x'
    with pytest.raises(CannotCompact, match=r"codings/me\.jsonl:2: line 2 is an incomplete"):
        compact_coding_log(raw, "me", "codings/me.jsonl")


def test_broken_json_in_the_middle_is_refused() -> None:
    raw = (encode_event(add_event("t-one", 0, 3, "c", "abc")) + b"not json\n"
           + encode_event(add_event("t-one", 0, 3, "d", "abc")))
    with pytest.raises(CannotCompact, match=r"codings/me\.jsonl:2:"):
        compact_coding_log(raw, "me", "codings/me.jsonl")


# -- suggestions logs ----------------------------------------------------------------------

decisions = st.lists(st.tuples(st.integers(0, 1000),
                               st.sampled_from(["none", "accept", "reject", "withdraw",
                                                "accept+reject"])), max_size=30)


def _suggestions_log(plan: list[tuple[int, str]]) -> bytes:
    lines = []
    for number, decision in plan:
        start = number % 300
        event = propose_event(TRANSCRIPTS[number % 3], start, start + 5, f"code-{number % 3}",
                              f"tekst {number}", "2026-01-01T00:00:00.000Z",
                              f'match "{number}"', number % 7, [[start, start + 2]])
        lines.append(encode_event(event))
        at = "2026-01-02T00:00:00.000Z"
        if decision.startswith("accept"):
            lines.append(encode_event(accept_event(event["id"], "me", f"c{number}", at)))
        if decision.endswith("reject"):
            lines.append(encode_event(reject_event(event["id"], "me", at)))
        if decision == "withdraw":
            lines.append(encode_event(withdraw_event(event["id"], at, "no longer matched")))
    return b"".join(lines)


@settings(max_examples=150)
@given(decisions)
def test_a_compacted_suggestions_log_keeps_what_autocode_reads(plan) -> None:
    raw = _suggestions_log(plan)
    before = replay_suggestions(raw.split(b"\n"), "me", "s", Problems())
    compacted = compact_suggestions_log(raw, "me", "s")
    after = replay_suggestions(compacted.data.split(b"\n"), "me", "s", Problems())
    assert suggestion_states_equal(before, after)
    assert not any(s.status == "withdrawn" for s in after.suggestions.values())
    assert compact_suggestions_log(compacted.data, "me", "s").data == compacted.data


# -- the command ---------------------------------------------------------------------------

@pytest.fixture
def churned(project_dir, cli):
    """Codings added, taken back and added again by `qcode tag` / `qcode untag`."""
    for passage in ("2", "4"):
        assert cli("tag", "voss-principal", passage, "ownership", "--coder", "me"
                   ).exit_code == 0
    assert cli("untag", "voss-principal", "4", "ownership", "--coder", "me").exit_code == 0
    assert cli("tag", "voss-principal", "4", "ownership", "--coder", "me").exit_code == 0
    assert cli("tag", "lier-teacher", "2", "personal", "--coder", "you").exit_code == 0
    return project_dir


def test_compact_rewrites_the_log_and_check_still_passes(churned, cli) -> None:
    from qcode import Project

    before = [c.to_dict() for c in Project.open(churned.root).store.codings("me")]
    result = cli("compact", "me")
    assert result.exit_code == 0, result.output
    assert "compacted codings/me.jsonl: 4 events -> 2" in result.stdout
    lines = churned.log_lines("me")
    assert [line["op"] for line in lines] == ["add", "add"]
    assert [c.to_dict() for c in Project.open(churned.root).store.codings("me")] == before
    assert cli("check").exit_code == 0
    assert len(churned.log_lines("you")) == 1  # another coder's log is left alone


def test_compact_all_json_and_dry_run(churned, cli) -> None:
    raw = (churned.root / "codings/me.jsonl").read_bytes()
    result = cli("compact", "--all", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    logs = {log["log"]: log for log in json.loads(result.stdout)["logs"]}
    assert logs["codings/me.jsonl"]["events_before"] == 4
    assert logs["codings/me.jsonl"]["events_after"] == 2
    assert logs["codings/you.jsonl"]["events_after"] == 1
    assert (churned.root / "codings/me.jsonl").read_bytes() == raw


def test_compact_backup_outside_the_project_and_refused_inside(churned, cli,
                                                              tmp_path) -> None:
    raw = (churned.root / "codings/me.jsonl").read_bytes()
    inside = cli("compact", "me", "--backup", "backups")
    assert inside.exit_code == 2
    assert "inside the project" in inside.output and "--backup-inside-project" in inside.output
    assert (churned.root / "codings/me.jsonl").read_bytes() == raw
    outside = cli("compact", "me", "--backup", str(tmp_path / "bk"))
    assert outside.exit_code == 0, outside.output
    [copy] = (tmp_path / "bk").glob("qcode-compact-*/codings/me.jsonl")
    assert copy.read_bytes() == raw


def test_compact_refuses_while_a_session_is_open(churned, cli) -> None:
    from qcode.store.locks import SessionLock

    raw = (churned.root / "codings/me.jsonl").read_bytes()
    with SessionLock(churned.root, "me"):
        result = cli("compact", "me")
    assert result.exit_code == 1
    assert "session" in result.output
    assert (churned.root / "codings/me.jsonl").read_bytes() == raw


def test_compact_refuses_a_torn_log_naming_the_line(churned, cli) -> None:
    churned.append_log("me", '{"op": "add", "id": "torn')
    result = cli("compact", "me")
    assert result.exit_code == 1
    assert "codings/me.jsonl:5" in result.output


def test_compact_needs_a_coder_or_all(cli) -> None:
    assert cli("compact").exit_code == 2
    assert cli("compact", "nobody").exit_code == 1


def test_an_append_waiting_for_the_lock_goes_to_the_compacted_log(
        churned, monkeypatch) -> None:
    """A writer that opened the old log before compaction renamed the new one over it,
    and got the lock after, appends to the new log (never to the replaced file)."""
    import qcode.store.log as log_module
    from qcode import Project
    from qcode.store.compact import compact

    real_lock = log_module.FileLock
    compacted = []

    class CompactFirst(real_lock):  # type: ignore[misc,valid-type]
        def __enter__(self):
            if not compacted:  # the log is open; compaction lands before the lock
                compacted.append(compact(Project.open(churned.root).store, ["me"]))
            return super().__enter__()

    monkeypatch.setattr(log_module, "FileLock", CompactFirst)
    log = log_module.CodingLog(churned.root / "codings/me.jsonl", "me", "codings/me.jsonl")
    log.append([add_event("voss-principal", 0, 3, "ownership", "Hvo")])
    assert compacted
    assert [line["op"] for line in churned.log_lines("me")] == ["add", "add", "add"]
