"""The cache under .qcode/cache/: it may only ever change speed, never an answer.

Every test compares what qcode derives with the cache against what it derives from the
files alone, after the kinds of change real projects see: appends, rewrites, edits in
the same clock tick, touched files, corrupt or foreign cache files, a read-only folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.errors import QcodeError
from qcode.format.cache import CACHE_DIR, Cache, Stamp, source_record, stamp_proves
from qcode.store.codings import LogChangedError
from qcode.store.events import add_event, remove_event
from qcode.store.log import CodingLog


def _state(replay) -> tuple:
    table = replay.table
    return (
        [(c.id, c.transcript, c.start, c.end, c.code, c.text, c.at, c.memo, c.line, c.extra)
         for c in replay.codings],
        replay.events, [p.to_dict() for p in replay.problems], replay.last_position,
        table.offsets, table.lengths,
    )


def _log(root: Path, coder: str = "a") -> CodingLog:
    path = root / "codings" / f"{coder}.jsonl"
    return CodingLog(path, coder, f"codings/{coder}.jsonl")


def _fresh(root: Path, coder: str = "a") -> tuple:
    return _state(_log(root, coder).replay(None))


def _cached(root: Path, coder: str = "a") -> tuple:
    return _state(_log(root, coder).replay(Cache(root, enabled=True)))


def _entry_path(root: Path, coder: str = "a") -> Path:
    return root / CACHE_DIR / "logs" / f"{coder}.json"


def _entry(root: Path, coder: str = "a") -> dict:
    """The log's entry as qcode reads it (its HMAC checked)."""
    entry = Cache(root, enabled=True).load(f"logs/{coder}.json")
    assert entry is not None
    return entry


def _put_entry(root: Path, entry: dict, coder: str = "a") -> None:
    """Write an entry as qcode on this machine would (authenticated): for tests of what
    qcode does with its own entries, not with forged ones."""
    Cache(root, enabled=True).save(f"logs/{coder}.json", entry)


def _add(transcript="t", start=0, end=4, code="x", text="abcd", **extra):
    return add_event(transcript, start, end, code, text, **extra)


# -- the stamp rule ---------------------------------------------------------------------------

def test_a_fresh_change_is_racy_and_an_old_one_is_not(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x")
    stamp = Stamp.of(path.stat())
    assert source_record(stamp, "h")["racy"] is True
    assert not stamp_proves(source_record(stamp, "h"), stamp)
    old = stamp.mtime_ns - 10 * 10**9
    os.utime(path, ns=(old, old))
    stamp = Stamp.of(path.stat())
    record = source_record(stamp, "h")
    assert record["racy"] is False and stamp_proves(record, stamp)
    path.write_bytes(b"y")
    assert not stamp_proves(record, Stamp.of(path.stat()))


# -- coding logs ------------------------------------------------------------------------------

def test_cached_replay_equals_the_log_with_every_kind_of_line(project_dir):
    root = project_dir.root
    first, second = _add(memo="why"), _add(start=1, end=3, text="bc", origin="import")
    project_dir.append_log(
        "a", first, second, remove_event(first["id"]), remove_event(first["id"]),
        remove_event("nope"), _add(), "not json", {"op": "add", "id": second["id"]} | {
            k: second[k] for k in ("transcript", "start", "end", "code", "text", "at")},
        '{"op": "add", "id": "torn", "tr')
    cold = _fresh(root)
    assert _cached(root) == cold  # builds the entry
    assert _entry_path(root).exists()
    assert _cached(root) == cold  # uses it
    rules = [p["rule"] for p in cold[2]]
    assert rules.count("log-remove-unknown") == 2
    assert {"log-invalid-json", "log-duplicate-id", "log-torn-line"} <= set(rules)


def test_appended_lines_are_replayed_after_the_cached_ones(project_dir):
    root = project_dir.root
    first = _add()
    project_dir.append_log("a", first, _add(start=1, text="bcd"))
    _cached(root)
    project_dir.append_log("a", remove_event(first["id"]), _add(start=2, text="cd"))
    assert _cached(root) == _fresh(root)
    entry = _entry(root)
    assert entry["lines"] == 4 and entry["covered"] == (root / "codings/a.jsonl").stat().st_size


def test_a_torn_last_line_is_not_cached_and_is_completed_by_the_next_append(project_dir):
    root = project_dir.root
    project_dir.append_log("a", _add())
    path = root / "codings" / "a.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"op": "add", "id": "half')
    assert _cached(root) == _fresh(root)
    assert [p["rule"] for p in _fresh(root)[2]] == ["log-torn-line"]
    _log(root).append([_add(start=1, text="bcd")])  # starts a new line after the torn one
    assert _cached(root) == _fresh(root)
    assert len(_fresh(root)[0]) == 2


def test_a_rewritten_log_is_replayed_again(project_dir):
    root = project_dir.root
    project_dir.append_log("a", _add(code="x"))
    _cached(root)
    text = (root / "codings/a.jsonl").read_text()
    (root / "codings/a.jsonl").write_text(text.replace('"code": "x"', '"code": "y"'))
    assert _cached(root) == _fresh(root)
    assert _fresh(root)[0][0][4] == "y"


def test_a_same_tick_rewrite_is_caught_by_the_racy_rule(project_dir):
    """A rewrite that leaves size, times and inode as they were (possible within one
    clock tick) is invisible to the stamp: the entry made just before is racy, so its
    content is hashed."""
    root = project_dir.root
    project_dir.append_log("a", _add(code="x"))
    _cached(root)
    path = root / "codings/a.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"code": "x"', b'"code": "y"'))
    entry = _entry(root)
    assert entry["source"]["racy"] is True
    entry["source"]["stamp"] = Stamp.of(path.stat()).to_json()  # as if nothing had moved
    _put_entry(root, entry)
    assert _cached(root)[0][0][4] == "y"


def test_an_old_unchanged_stamp_is_trusted_without_reading_the_log(project_dir):
    root = project_dir.root
    project_dir.append_log("a", _add(code="x"))
    path = root / "codings/a.jsonl"
    old = path.stat().st_mtime_ns - 10 * 10**9
    os.utime(path, ns=(old, old))
    _cached(root)
    entry = _entry(root)
    assert entry["source"]["racy"] is False
    # Proof that the stamp path reads nothing: a cache claiming other content is believed.
    entry["codes"] = ["from-the-cache"]
    _put_entry(root, entry)
    assert _cached(root)[0][0][4] == "from-the-cache"
    path.write_bytes(path.read_bytes().replace(b'"code": "x"', b'"code": "y"'))
    assert _cached(root)[0][0][4] == "y"  # a new stamp: the content decides


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"format": 999}',
                                     b'{"format": 1, "qcode": "0.0.0"}', b"\x00\xff"])
def test_a_broken_or_foreign_entry_is_ignored_and_replaced(project_dir, garbage):
    root = project_dir.root
    project_dir.append_log("a", _add(), _add(start=1, text="bcd"))
    _cached(root)
    _entry_path(root).write_bytes(garbage)
    assert _cached(root) == _fresh(root)
    assert _entry(root)["log"] == "codings/a.jsonl"


def test_an_entry_made_for_a_longer_log_is_not_used(project_dir):
    root = project_dir.root
    project_dir.append_log("a", _add(), _add(start=1, text="bcd"))
    _cached(root)
    path = root / "codings/a.jsonl"
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")  # shorter: rewritten
    assert _cached(root) == _fresh(root)
    assert len(_fresh(root)[0]) == 1


def test_text_of_cached_codings_is_read_from_the_log_and_checked(project_dir):
    root = project_dir.root
    project_dir.append_log("a", _add(text="æøå «x»"), _add(start=1, text='a "q" \\ b'))
    _cached(root)
    replay = _log(root).replay(Cache(root))
    assert replay.table.texts == [None, None]  # not read until asked for
    first = replay.codings[0]
    assert first.text_matches("æøå «x»") and not first.text_matches("æøå «y»")
    assert replay.table.texts == [None, None]  # compared through the digest
    assert [c.text for c in replay.codings] == ["æøå «x»", 'a "q" \\ b']
    replay = _log(root).replay(Cache(root))
    (root / "codings/a.jsonl").write_text("{}\n" * 40)  # rewritten under the command
    with pytest.raises(LogChangedError, match=r"codings/a\.jsonl changed while qcode"):
        _ = replay.codings[1].text


events = st.lists(st.tuples(st.sampled_from(["add", "remove", "junk"]),
                            st.integers(0, 5), st.booleans()), max_size=25)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=events, second=events, torn=st.booleans())
def test_replay_through_the_cache_is_the_replay_of_the_whole_log(project_dir, first, second,
                                                                  torn):
    """Law: replaying a log in two steps through the cache (with any lines appended in
    between, after a torn write or not) gives what replaying it at once gives."""
    root = project_dir.root
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    path = root / "codings" / "a.jsonl"
    path.write_bytes(b"")
    ids: list[str] = []

    def lines(batch):
        out = []
        for op, n, memo in batch:
            if op == "add":
                event = _add(start=n, end=n + 1, text="x", memo="m" if memo else None)
                ids.append(event["id"])
                out.append(json.dumps(event))
            elif op == "remove":
                out.append(json.dumps(remove_event(ids[n % len(ids)] if ids else "none")))
            else:
                out.append('{"op": "add", "id": 1}' if memo else "{oops")
        return out

    with path.open("a") as handle:
        handle.write("".join(f"{line}\n" for line in lines(first)))
        if torn:
            handle.write('{"op": "remove", "id": "x')
    assert _cached(root) == _fresh(root)
    with path.open("a") as handle:
        handle.write(("\n" if torn else "") + "".join(f"{line}\n" for line in lines(second)))
    assert _cached(root) == _fresh(root)
    assert _cached(root) == _fresh(root)


# -- transcripts, YAML, and the whole project -------------------------------------------------

def _project_state(root: Path) -> tuple:
    project = Project.open(root)
    return ([(t.id, t.file, t.body, t.body_line, t.attributes, t.front_lines,
              [(p.number, p.start, p.end, p.speaker, p.line) for p in t.passages])
             for t in project.transcripts],
            [p.to_dict() for p in project.check().problems],
            project.codebook.ids)


def _without_cache(root: Path, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setenv("QCODE_NO_CACHE", "1")
        return _project_state(root)


def test_project_answers_are_the_same_with_and_without_the_cache(coded, monkeypatch):
    root = coded.root
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    truth = _without_cache(root, monkeypatch)
    assert not (root / CACHE_DIR / "transcripts.json").exists()
    assert _project_state(root) == truth  # builds the cache
    assert (root / CACHE_DIR / "transcripts.json").exists()
    assert _project_state(root) == truth  # reads it
    for entry in (root / CACHE_DIR).rglob("*.json"):
        # JSON after the HMAC line, never pickle: a cache cannot run code
        orjson.loads(entry.read_bytes().partition(b"\n")[2])


def test_edited_transcripts_and_codebook_are_read_again(coded, project_dir, monkeypatch):
    root = coded.root
    _project_state(root)
    project_dir.replace("transcripts/voss-principal.md", "for mange", "for fa")
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier", "school: Voss")
    project_dir.replace("codebooks/codes.yaml", "label: Staff ownership", "label: Ownership")
    project_dir.write("transcripts/new.md", "---\nschool: Lier\ninformant_group: teacher\n"
                      "---\nI: Ny?\n\nLærer: Ja.\n")
    (root / "transcripts/strinda-coordinator.md").unlink()
    truth = _without_cache(root, monkeypatch)
    assert _project_state(root) == truth
    rules = {p["rule"] for p in truth[1]}
    assert {"coding-text-mismatch", "coding-unknown-transcript"} <= rules
    project = Project.open(root)
    assert project.codebook.get("ownership").label == "Ownership"
    assert project.transcript("lier-teacher").attributes["school"] == "Voss"


def test_check_finds_a_changed_coded_text_through_the_digest(coded, project_dir):
    root = coded.root
    assert Project.open(root).check().ok
    project = Project.open(root)
    assert project.check().ok
    assert all(t.texts == [None] * len(t) for t in project.coding_tables())  # digests only
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    report = Project.open(root).check()
    assert {p.rule for p in report.errors} == {"coding-text-mismatch"}
    assert all("voss-principal" in p.message for p in report.errors)


def test_a_transcript_changed_while_a_command_runs_is_reported(coded, project_dir):
    root = coded.root
    Project.open(root).transcripts  # noqa: B018 - builds the cache
    project = Project.open(root)
    transcript = project.transcript("voss-principal")
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    with pytest.raises(QcodeError, match=r"voss-principal\.md changed while qcode"):
        _ = transcript.body


def test_yaml_that_json_cannot_hold_is_parsed_every_time(project_dir):
    project_dir.replace("qcode.yaml", "name: Fixture study", "name: Fixture study\n"
                        "extra_nan: .nan")
    project = Project.open(project_dir.root)
    assert not list((project_dir.root / CACHE_DIR / "yaml").glob("*.json")) or all(
        b"extra_nan" not in p.read_bytes()
        for p in (project_dir.root / CACHE_DIR / "yaml").glob("*.json"))
    assert project.problems is not None


def test_no_cache_when_turned_off_and_none_needed_when_unwritable(coded, cli, monkeypatch):
    root = coded.root
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    monkeypatch.setenv("QCODE_NO_CACHE", "1")
    expected = cli("matrix", "--by", "school", "--all-coders", "--format", "json").stdout
    assert not (root / CACHE_DIR).exists()
    monkeypatch.delenv("QCODE_NO_CACHE")
    (root / ".qcode").mkdir()
    (root / CACHE_DIR).write_text("a file where the cache folder should be")  # unwritable
    result = cli("matrix", "--by", "school", "--all-coders", "--format", "json")
    assert result.exit_code == 0 and result.stdout == expected
    (root / CACHE_DIR).unlink()
    assert cli("matrix", "--by", "school", "--all-coders", "--format", "json").stdout == expected
    assert (root / CACHE_DIR / "CACHEDIR.TAG").exists()
    assert (root / CACHE_DIR / ".gitignore").read_text() == "*\n"
    shutil.rmtree(root / CACHE_DIR)
    assert cli("matrix", "--by", "school", "--all-coders", "--format", "json").stdout == expected


def test_a_cache_restored_into_a_fresh_clone_is_used_by_content(coded, tmp_path):
    """New inodes and times (a clone, a CI checkout with a restored cache): every stamp
    differs, the content hashes match, and the answers stay the same."""
    root = coded.root
    before = _project_state(root)
    clone = tmp_path / "clone"
    shutil.copytree(root, clone)  # copies mtimes but not inodes or ctimes
    assert _project_state(clone) == _project_state(root) == before


def test_check_keeps_verified_codings_per_transcript_content(coded, project_dir,
                                                             monkeypatch):
    from qcode.store.codings import CodingTable

    root = coded.root
    assert Project.open(root).check().ok  # compares every coding, remembers the answers
    compared: set[tuple[str, int]] = set()
    real = CodingTable.text_matches

    def spy(self, row, text):
        compared.add((self.coder, row))
        return real(self, row, text)

    monkeypatch.setattr(CodingTable, "text_matches", spy)
    assert Project.open(root).check().ok
    assert compared == set()  # nothing changed: nothing compared
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    report = Project.open(root).check()
    voss = sum(c.transcript == "voss-principal" for c in Project.open(root).codings())
    assert len(compared) == voss  # only the codings on the changed transcript
    assert {p.rule for p in report.errors} == {"coding-text-mismatch"}
    compared.clear()
    again = Project.open(root).check()  # nothing changed since: the same problems again
    assert [p.to_dict() for p in again.problems] == [p.to_dict() for p in report.problems]


def test_a_rewritten_log_is_checked_again_in_full(coded, project_dir):
    root = coded.root
    assert Project.open(root).check().ok
    path = root / "codings" / "a.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    event = json.loads(lines[0])
    event["text"] = event["text"][::-1] + "?"  # same line, other text: only a rewrite does this
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n" + "".join(lines[1:]))
    rules = [p.rule for p in Project.open(root).check().errors]
    assert rules == ["coding-text-mismatch"]


def test_entries_with_the_right_format_but_wrong_fields_are_ignored(coded, monkeypatch):
    """An entry edited by hand (or by a buggy tool) must not crash or mislead qcode."""
    root = coded.root
    past = (root / "qcode.yaml").stat().st_mtime_ns - 10 * 10**9
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(past, past))  # old files: the stamps alone vouch for entries
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    truth = _without_cache(root, monkeypatch)
    _project_state(root)
    damaged = 0
    cache = Cache(root, enabled=True)
    for path in (root / CACHE_DIR).rglob("*.json"):
        name = path.relative_to(root / CACHE_DIR).as_posix()
        entry = cache.load(name)
        assert entry is not None
        for key in ("id", "lineage", "starts", "positions", "upto_line"):
            if key in entry:
                entry[key] = "not what qcode wrote"
                damaged += 1
        if "files" in entry:
            for record in entry["files"].values():
                record["starts"], record["front_matter"] = "x", []
                damaged += 1
        cache.save(name, entry)  # authenticated: damage qcode's own writer could do
    assert damaged >= 4
    assert _project_state(root) == truth
    assert _project_state(root) == truth


def test_a_missing_second_file_is_made_good_from_the_log(project_dir):
    """The columns counting does not need live in logs/<coder>.rest.json; without it
    (a crash between the two writes, a hand-deleted file) they come from the log."""
    root = project_dir.root
    project_dir.append_log("a", _add(memo="m"), _add(start=1, text="bcd"))
    path = root / "codings/a.jsonl"
    old = path.stat().st_mtime_ns - 10 * 10**9
    os.utime(path, ns=(old, old))
    truth = _fresh(root)
    _cached(root)
    rest = root / CACHE_DIR / "logs" / "a.rest.json"
    assert rest.exists()
    rest.unlink()
    replay = _log(root).replay(Cache(root))
    assert len(replay.table) == 2  # counting columns, without touching the rest
    assert _state(replay) == truth
    replay = _log(root).replay(Cache(root))  # again without the second file
    path.write_text("{}\n")  # rewritten before the rest was needed
    with pytest.raises(LogChangedError):
        _ = replay.table.ids
