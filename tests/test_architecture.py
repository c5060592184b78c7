"""The house plan, held by tests: one write path for coding events, crashes of the
full-screen app contained, and no import cycles (docs/architecture.md).

The layer contracts themselves are import-linter's (``make test`` runs ``lint-imports``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from qcode import Project
from qcode.store.log import CodingLog

SUGGESTING = """\
        rules:
          - match: "tryggere"
"""


@pytest.fixture
def recorded(monkeypatch):
    """Every byte the one log API appends, per file: wraps ``CodingLog._append_locked``,
    the only place that opens a log for writing."""
    written: dict[Path, list[bytes]] = defaultdict(list)
    original = CodingLog._append_locked

    def appending(self, events_for):
        before = self.path.stat().st_size if self.path.exists() else 0
        count = original(self, events_for)
        with self.path.open("rb") as handle:
            handle.seek(before)
            written[self.path.resolve()].append(handle.read())
        return count

    monkeypatch.setattr(CodingLog, "_append_locked", appending)
    return written


def _logs(root: Path) -> dict[Path, bytes]:
    return {p.resolve(): p.read_bytes() for p in (root / "codings").glob("*.jsonl")}


def test_every_coding_writer_goes_through_the_one_log_api(project_dir, cli, recorded,
                                                          tmp_path):
    """Drive every command that writes codings, then check that each log file holds
    exactly what passed through ``CodingLog``, in order: nothing else wrote a line."""
    project_dir.replace("codebooks/codes.yaml", "        description: Confidence and "
                        "independence.\n", "        description: Confidence and "
                        "independence.\n" + SUGGESTING)
    steps = [
        ("tag", "voss-principal", "2", "lead-strong", "ownership", "--coder", "a"),
        ("tag", "lier-teacher", "1", "personal", "--coder", "b"),
        ("untag", "voss-principal", "2", "ownership", "--coder", "a"),
        ("search", "prosjekt*", "--code", "ownership", "--coder", "a", "--yes"),
    ]
    for step in steps:
        assert cli(*step).exit_code == 0, step
    assert cli("code", "voss-principal", "--coder", "a", "--plain",
               input=".\nownership\n.\nlead-weak\nq\n").exit_code == 0
    assert cli("code", "voss-principal", "--coder", "b", "--plain",
               input=".\nlead-strong\n.\nownership\nq\n").exit_code == 0
    assert cli("adjudicate", "a", "b", "--into", "consensus", "--plain",
               input="a\nb\nab\nn\n").exit_code == 0
    assert cli("autocode", "--coder", "auto").exit_code == 0
    assert cli("code", "--coder", "a", "--suggestions", "--from", "auto", "--plain",
               input="a\n").exit_code == 0
    # Edit a coded transcript: reanchor moves the codings; a forced import replaces it.
    project_dir.replace("transcripts/voss-principal.md", "Hvordan startet det?",
                        "Hvordan startet det hele, egentlig?")
    assert cli("reanchor").exit_code == 0
    source = tmp_path / "voss-principal.md"
    source.write_text(project_dir.read("transcripts/voss-principal.md")
                      .replace("Og eierskapet?", "Og eierskapet, hvem har det?"),
                      encoding="utf-8")
    result = cli("import", "transcripts", str(source), "--force")
    assert result.exit_code == 0, result.output
    # Lose a coding's text for good, and place the orphan by hand.
    project_dir.replace("transcripts/lier-teacher.md", "De ble tryggere på seg selv.",
                        "Noe helt annet ble sagt her, uten likhet.")
    assert cli("reanchor").exit_code == 1  # the orphan stays
    assert cli("code", "--coder", "b", "--review-orphans", input="d\n").exit_code == 0
    # A REFI-QDA round trip writes the new project's logs through the same API.
    assert cli("export", "qdpx", "-o", str(tmp_path / "p.qdpx")).exit_code == 0
    assert cli("import", "qdpx", str(tmp_path / "p.qdpx"), "--into",
               str(tmp_path / "copy")).exit_code == 0

    files = {**_logs(project_dir.root), **_logs(tmp_path / "copy")}
    assert {p.name for p in files} >= {"a.jsonl", "b.jsonl", "consensus.jsonl",
                                       "auto.suggestions.jsonl"}
    for path, content in files.items():
        assert content, path
        assert b"".join(recorded[path]) == content, f"{path} has lines written elsewhere"


def test_a_crash_in_the_full_screen_app_is_one_line_without_locals(project_dir, cli,
                                                                   monkeypatch):
    """A bug inside a key handler: exit 70, one line (and the hint), no traceback and no
    interview text on stderr; --debug shows the traceback without local variables."""
    from textual.app import App

    from qcode.tui.app import QcodeApp
    from qcode.tui.screens.coder import CoderScreen

    secret = "Rektor: Vi hadde for mange lærere"

    def broken(self):
        passage = self.session.passage_text()  # interview text in a local variable
        raise RuntimeError(f"bug while showing {passage[:10]!r}")

    async def press_j(pilot):
        await pilot.press("j")
        await pilot.pause()

    def headless(self, **kwargs):
        return App.run(self, headless=True, auto_pilot=press_j)

    monkeypatch.setattr(CoderScreen, "action_next_passage", broken)
    monkeypatch.setattr(QcodeApp, "run", headless)

    result = cli("code", "voss-principal", "--coder", "c")
    assert result.exit_code == 70, result.output
    lines = result.stderr.strip().splitlines()
    # The place raised from: the innermost frame (here the test's own handler).
    assert lines[0].startswith("error: internal error: the full-screen app stopped: "
                               "RuntimeError at test_architecture.py:")
    assert lines[1].startswith("  hint: this is a bug in qcode") and len(lines) == 2
    assert secret[:10] not in result.stderr and "Rektor" not in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""

    debug = cli("--debug", "code", "voss-principal", "--coder", "c")
    assert debug.exit_code == 70
    assert "Traceback" in debug.stderr and "RuntimeError" in debug.stderr
    assert "passage =" not in debug.stderr  # no local variables


def test_a_crash_leaves_the_session_lock_released(project_dir, cli, monkeypatch):
    from textual.app import App

    from qcode.tui.app import QcodeApp
    from qcode.tui.screens.coder import CoderScreen

    def broken(self):
        raise RuntimeError("bug")

    async def press_j(pilot):
        await pilot.press("j")

    monkeypatch.setattr(CoderScreen, "action_next_passage", broken)
    monkeypatch.setattr(QcodeApp, "run",
                        lambda self, **kw: App.run(self, headless=True, auto_pilot=press_j))
    assert cli("code", "--coder", "c").exit_code == 70
    project = Project.open(project_dir.root)
    with project.store.session_lock("c"):  # free again
        pass


def test_no_module_imports_itself_round_about():
    """No import cycles among qcode's modules (the layer contract forbids them between
    layers; this holds inside a layer too). Deferred imports count."""
    import grimp

    graph = grimp.build_graph("qcode")
    modules = sorted(m for m in graph.modules if m.startswith("qcode."))
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m)
                 if i.startswith("qcode.") and i in graph.modules}
             for m in modules}
    # Tarjan's strongly connected components.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == []


def test_modules_stay_small():
    """One thing per module: none over ~600 lines (docs/architecture.md)."""
    src = Path(__file__).resolve().parents[1] / "src" / "qcode"
    big = {str(p.relative_to(src)): n for p in src.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 620}
    assert big == {}
