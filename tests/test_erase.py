"""`qcode erase`: a participant's transcript and everything about it removed as one; not
a byte of its text left anywhere under the project."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import TRANSCRIPTS
from qcode.store.events import encode_event, propose_event, reject_event

GONE = "strinda-coordinator"
# Sentences of the erased transcript that no other file of the fixture holds.
SECRETS = ["Jeg gjør det meste alene", "rektor er lite involvert",
           "Hva skjer når du går av med pensjon", "Det vet ingen. Ærlig talt."]


@pytest.fixture
def lived_in(project_dir, cli):
    """The fixture project after some work on every transcript: codings by two coders
    (one taken back, with a memo naming the participant's words), a suggestions log, a
    memo on the transcript, a filled cache and an old export."""
    for coder in ("me", "you"):
        for transcript in ("voss-principal", GONE):
            result = cli("tag", transcript, "1", "ownership", "--coder", coder,
                         "--memo", f"note on {transcript}: «meste alene»")
            assert result.exit_code == 0, result.output
    assert cli("tag", GONE, "3", "outcomes", "--coder", "me").exit_code == 0
    assert cli("untag", GONE, "3", "outcomes", "--coder", "me").exit_code == 0
    assert cli("memo", "transcript", GONE, "--coder", "me", "--text",
               "She said: Det vet ingen. Ærlig talt.").exit_code == 0
    assert cli("memo", "transcript", "voss-principal", "--coder", "me", "--text",
               "A kept memo.").exit_code == 0
    sentence = "Jeg gjør det meste alene"
    proposal = propose_event(GONE, 14, 14 + len(sentence), "lead-weak", sentence,
                             "2026-01-01T00:00:00.000Z", 'match "alene"', 1, [[30, 35]])
    kept = propose_event("voss-principal", 0, 5, "lead-weak", "Vi ha",
                         "2026-01-01T00:00:00.000Z", 'match "vi"', 1, [[0, 2]])
    project_dir.write("codings/me.suggestions.jsonl", encode_event(proposal)
                      + encode_event(kept)
                      + encode_event(reject_event(proposal["id"], "me",
                                                  "2026-01-02T00:00:00.000Z")))
    assert cli("matrix", "--by", "school", "--all-coders", "--format", "csv").exit_code == 0
    assert cli("segments", "--all-coders", "--format", "csv", "--output", "exports/old.csv"
               ).exit_code == 0
    assert any(b"meste alene" in p.read_bytes() for p in _files(project_dir.root / ".qcode"))
    return project_dir


def _files(root: Path):
    for parent, _folders, names in os.walk(root):
        for name in names:
            yield Path(parent) / name


def test_erase_leaves_no_byte_of_the_transcript_and_check_passes(lived_in, cli) -> None:
    result = cli("erase", GONE, "--yes")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"removed transcripts/{GONE}.md" in out
    assert "removed 1 codings of me" in out and "removed 1 codings of you" in out
    assert "removed 1 suggestions of me" in out
    assert "memos/" in out and "exports/old.csv" in out
    assert "kept the case row cases/schools.csv: school=Strinda" in out
    listed = {line.strip() for line in out.splitlines()}
    for path in _files(lived_in.root):
        rel = path.relative_to(lived_in.root).as_posix()
        if rel in listed:
            continue  # an export erase said must be redone
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret!r} left in {rel}"
        assert GONE.encode() not in data or rel == "cases/schools.csv", rel
    assert cli("check").exit_code == 0, cli("check").output
    # What was about other transcripts is all still there.
    segments = json.loads(cli("segments", "--all-coders", "--format", "json").stdout)
    assert {(s["transcript"], s["code"]) for s in segments} == {("voss-principal",
                                                                 "ownership")}
    assert "me" in segments[0]["coders"] and "you" in segments[0]["coders"]
    memos = json.loads(cli("memos", "--format", "json").stdout)
    assert [m["about"] for m in memos] == ["transcript:voss-principal"]
    suggestions = lived_in.read("codings/me.suggestions.jsonl")
    assert "voss-principal" in suggestions and GONE not in suggestions


def test_dry_run_and_json_remove_nothing(lived_in, cli) -> None:
    before = {p: p.read_bytes() for p in _files(lived_in.root)}
    result = cli("erase", GONE, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["erased"] is False
    assert plan["codings"] == {"me": 1, "you": 1}  # live codings; `me`'s untagged one too
    assert sorted(plan["logs"]) == ["codings/me.jsonl", "codings/me.suggestions.jsonl",
                                    "codings/you.jsonl"]
    assert {p: p.read_bytes() for p in _files(lived_in.root)} == before


def test_without_yes_it_refuses_off_a_terminal_and_asks_on_one(lived_in, cli,
                                                              monkeypatch) -> None:
    refused = cli("erase", GONE)
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert (lived_in.root / "transcripts" / f"{GONE}.md").exists()
    monkeypatch.setattr("qcode.cli.output.stdin_is_tty", lambda: True)
    declined = cli("erase", GONE, input="no\n")
    assert declined.exit_code == 1 and "nothing was removed" in declined.output
    assert (lived_in.root / "transcripts" / f"{GONE}.md").exists()
    confirmed = cli("erase", GONE, input=f"{GONE}\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert not (lived_in.root / "transcripts" / f"{GONE}.md").exists()


def test_erase_refuses_while_a_session_is_open_and_an_unknown_transcript(lived_in,
                                                                         cli) -> None:
    from qcode.store.locks import SessionLock

    with SessionLock(lived_in.root, "you"):
        result = cli("erase", GONE, "--yes")
    assert result.exit_code == 1 and "session" in result.output
    assert (lived_in.root / "transcripts" / f"{GONE}.md").exists()
    unknown = cli("erase", "strinda-coordinatr", "--yes")
    assert unknown.exit_code == 1
    assert GONE in unknown.output  # did you mean


def test_the_fixture_secrets_are_only_in_the_erased_transcript() -> None:
    for name, text in TRANSCRIPTS.items():
        for secret in SECRETS:
            assert (secret in text) == name.startswith(GONE), (name, secret)
