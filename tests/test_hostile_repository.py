"""A cloned repository's `.qcode/` can neither make qcode write outside the project nor
change an answer (#17 items 1-3): links are never followed, and cache entries are
authenticated with a key that never leaves the machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcode.format import cache as cache_module
from qcode.format.cache import CACHE_DIR, Cache


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``folder`` with its bytes and mode."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mode)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    folder = tmp_path / "victim"
    folder.mkdir()
    (folder / "a.json").write_text("precious\n")  # the name a cache entry would take
    (folder / "notes.txt").write_text("precious\n")
    return folder


# -- item 1: links in the cache ------------------------------------------------------------

@pytest.mark.parametrize("link", [".qcode", ".qcode/cache", ".qcode/cache/logs",
                                  ".qcode/cache/check"])
def test_a_committed_link_in_the_cache_is_never_followed(cli, coded, project_dir, victim,
                                                          link):
    root = project_dir.root
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(victim, target_is_directory=True)
    before = snapshot(victim)
    for command in (("check",), ("matrix", "--by", "school", "-c", "a", "-f", "csv"),
                    ("segments", "-c", "a", "-f", "csv")):
        result = cli(*command)
        assert result.exit_code == 0, result.output
    assert snapshot(victim) == before
    report = json.loads(cli("check", "-f", "json").stdout)
    links = [p for p in report["problems"] if p["rule"] == "qcode-folder-link"]
    assert [p["file"] for p in links] == [link]


def test_a_link_at_an_entry_or_a_marker_is_never_written_through(cli, coded, project_dir,
                                                                  victim):
    root = project_dir.root
    shutil.rmtree(root / ".qcode", ignore_errors=True)
    logs = root / CACHE_DIR / "logs"
    logs.mkdir(parents=True)
    (logs / "a.json").symlink_to(victim / "a.json")
    (root / CACHE_DIR / ".gitignore").symlink_to(victim / "made-by-qcode")  # dangling
    before = snapshot(victim)
    assert cli("check").exit_code == 0
    assert cli("matrix", "--by", "school", "-c", "a", "-f", "csv").exit_code == 0
    assert snapshot(victim) == before
    assert not (victim / "made-by-qcode").exists()


# -- item 2: a linked session lock ----------------------------------------------------------

@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_linked_session_lock_is_refused(cli, coded, project_dir, victim, link):
    """`code` takes the coder's lock; `import transcripts --force` checks it for every coder
    with codings on the transcript it replaces (here a)."""
    root = project_dir.root
    sessions = root / ".qcode" / "sessions"
    if link == "file":
        sessions.mkdir(parents=True)
        (sessions / "a.lock").symlink_to(victim / "notes.txt")
    else:
        sessions.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(sessions, ignore_errors=True)
        sessions.symlink_to(victim, target_is_directory=True)
    before = snapshot(victim)
    result = cli("code", "--coder", "a", "--plain", input="q\n")
    assert result.exit_code == 1
    assert "symbolic link" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
    source = root.parent / "new.txt"  # the same interview with a new first turn: a's
    body = (root / "transcripts" / "voss-principal.md").read_text("utf-8").split("---\n")[2]
    source.write_text("I: Velkommen.\n\n" + body, encoding="utf-8")  # codings would move
    forced = cli("import", "transcripts", str(source), "--id", "voss-principal", "--force",
                 "-a", "school=Voss", "-a", "informant_group=principal")
    assert forced.exit_code == 1 and "symbolic link" in forced.stderr
    assert snapshot(victim) == before


# -- item 3: a forged or damaged cache ------------------------------------------------------

def _answers(cli) -> tuple:
    check = json.loads(cli("check", "-f", "json").stdout)
    return (check["ok"], sorted((p["rule"], p["file"], p["line"]) for p in check["problems"]),
            cli("matrix", "--by", "school", "-c", "a", "-f", "csv").stdout,
            cli("segments", "-c", "a", "-f", "json").stdout,
            cli("freq", "-c", "b", "-f", "csv").stdout)


def _cache_free_answers(cli, monkeypatch) -> tuple:
    with monkeypatch.context() as patch:
        patch.setenv("QCODE_NO_CACHE", "1")
        return _answers(cli)


def test_a_forged_check_verdict_cannot_pass_check(cli, coded, project_dir):
    """The CI gate bypass: a log with a garbage line, and a committed cache whose entry
    says it has no problems. check still fails."""
    root = project_dir.root
    project_dir.append_log("a", "this is not JSON")
    assert cli("check").exit_code == 1
    for path in (root / CACHE_DIR).rglob("*.json"):
        raw = path.read_bytes()
        entry = orjson.loads(raw.partition(b"\n")[2])
        for key in ("problems", "failing_lines"):
            if key in entry:
                entry[key] = []
        # What a forger can write: the JSON alone, or with the old (now wrong) HMAC line.
        path.write_bytes(raw.partition(b"\n")[0] + b"\n" + orjson.dumps(entry))
    result = cli("check", "-f", "json")
    assert result.exit_code == 1
    assert "log-invalid-json" in {p["rule"] for p in json.loads(result.stdout)["problems"]}


def test_an_entry_made_with_another_key_is_not_used(project_dir, monkeypatch):
    """A cache from another machine or user (a restored CI cache) is rebuilt."""
    cache = Cache(project_dir.root, enabled=True)
    cache.save("probe.json", {"value": 1})
    assert cache.load("probe.json")["value"] == 1
    monkeypatch.setattr(cache_module, "_KEY", b"k" * cache_module.KEY_BYTES)
    assert cache.load("probe.json") is None


def test_a_nulled_start_in_a_cached_table_changes_nothing(cli, coded, project_dir,
                                                         monkeypatch):
    """The reported crash: `start[5] = null` in the log's entry made `segments` and
    `matrix` exit 70 while check said ok."""
    root = project_dir.root
    truth = _cache_free_answers(cli, monkeypatch)
    _answers(cli)  # builds the cache
    path = root / CACHE_DIR / "logs" / "a.json"
    head, _, payload = path.read_bytes().partition(b"\n")
    entry = orjson.loads(payload)
    entry["start"][1] = None
    path.write_bytes(head + b"\n" + orjson.dumps(entry))
    assert _answers(cli) == truth


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_mutation_of_any_cache_file_gives_the_cache_free_answers(cli, coded, project_dir,
                                                                     monkeypatch, data):
    root = project_dir.root
    truth = _cache_free_answers(cli, monkeypatch)
    _answers(cli)
    files = sorted((root / CACHE_DIR).rglob("*.json"))
    assert files
    path = data.draw(st.sampled_from(files), label="file")
    raw = bytearray(path.read_bytes())
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "json"]), label="kind")
    # (a position drawn independently of the file's size, which varies from run to run)
    at = data.draw(st.integers(0, 10**6), label="at") % len(raw)
    if kind == "flip":
        raw[at] ^= data.draw(st.integers(1, 255), label="bits")
    elif kind == "cut":
        del raw[at:]
    elif kind == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
    else:  # a meaningful edit of the JSON, keeping the HMAC line as it was
        head, _, payload = bytes(raw).partition(b"\n")
        entry = orjson.loads(payload)
        key = data.draw(st.sampled_from(sorted(entry)), label="key")
        entry[key] = data.draw(st.sampled_from([None, 0, -1, "", [], {}, [None], "x"]),
                               label="value")
        raw = bytearray(head + b"\n" + orjson.dumps(entry))
    path.write_bytes(bytes(raw))
    assert _answers(cli) == truth
    shutil.rmtree(root / ".qcode", ignore_errors=True)


def test_the_machine_key_is_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache_module, "_KEY", None)
    key = cache_module.machine_key()
    path = cache_module.key_path()
    assert path == tmp_path / "xdg" / "qcode" / "cache.key"
    assert path.read_bytes() == key and len(key) == cache_module.KEY_BYTES
    assert path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(cache_module, "_KEY", None)
    assert cache_module.machine_key() == key  # the next process reads the same key
    path.chmod(0o644)  # readable by others: no longer a secret, not used
    monkeypatch.setattr(cache_module, "_KEY", None)
    assert cache_module.machine_key() != key
    monkeypatch.setattr(cache_module, "_KEY", None)


def test_a_home_where_no_key_can_be_kept_still_works(cli, coded, tmp_path, monkeypatch):
    """(A file where the key's folder should be: a failure even root meets.)"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    monkeypatch.setattr(cache_module, "_KEY", None)
    try:
        first = cli("matrix", "--by", "school", "-c", "a", "-f", "csv")
        assert first.exit_code == 0 and first.stdout.startswith("code,")
        assert cli("matrix", "--by", "school", "-c", "a", "-f", "csv").stdout == first.stdout
    finally:
        monkeypatch.setattr(cache_module, "_KEY", None)


# -- the same class: qcode.yaml or a committed link leading out of the project -----------------

@pytest.mark.parametrize("how", ["config", "link"])
def test_a_project_that_leads_outside_itself_is_refused(cli, coded, project_dir, victim, how):
    root = project_dir.root
    if how == "config":
        project_dir.replace("qcode.yaml", "codings: codings", f"codings: {victim}")
    else:
        shutil.rmtree(root / "codings")
        (root / "codings").symlink_to(victim, target_is_directory=True)
    before = snapshot(victim)
    tag = cli("tag", "voss-principal", "2", "ownership", "--coder", "a")
    assert tag.exit_code == 1
    assert "config-path-outside" in tag.stderr and "qcode.yaml:" in tag.stderr
    check = json.loads(cli("check", "-f", "json").stdout)
    assert [p["line"] for p in check["problems"] if p["rule"] == "config-path-outside"] == [4]
    assert snapshot(victim) == before
