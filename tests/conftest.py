"""Shared fixtures: a small project built on disk, and a CLI runner bound to it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from qcode.cli.app import app

# CI checks a clean clone before anything lands, so there the property and fuzz tests run
# the same examples every time; every local `make test` draws new ones, which is where
# they find bugs (two crashes this way so far: tests/test_refi_import.py,
# tests/test_robustness.py).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]

# -- reference material outside the repository ----------------------------------------------
# Some tests read files that sit beside the clone in ../shared (read-only, not ours to
# commit): the REFI-QDA samples and schemas, and the study report the bundled study was
# written from. Without them a local run skips those tests with one reason per resource
# (pytest's -ra groups them into one summary line, as they are raised here); under
# CI=true nothing may skip, so they fail instead.
SHARED = REPO.parent / "shared"
_SHARED_RESOURCES = {
    "refi-samples": ("QCODE_REFI_SAMPLES", SHARED / "reference" / "refi-qda" / "samples",
                     "the REFI-QDA sample files other tools wrote"),
    "refi-schemas": ("QCODE_REFI_SCHEMAS", SHARED / "reference" / "refi-qda" / "schemas",
                     "the REFI-QDA schemas (Project.xsd, Codebook.xsd)"),
    "seeds": ("QCODE_SEEDS", SHARED / "seeds", "the study report (seeds/*.txt)"),
}


def shared_path(name: str) -> Path | None:
    """Where a ../shared resource is ($ENV overrides), or None when it is not there."""
    env, default, _ = _SHARED_RESOURCES[name]
    path = Path(os.environ[env]) if os.environ.get(env) else default
    return path if path.is_dir() and any(path.iterdir()) else None


def require_shared(name: str) -> Path:
    """The resource's folder; else skip (locally) or fail (CI=true) with one reason."""
    path = shared_path(name)
    if path is not None:
        return path
    env, default, what = _SHARED_RESOURCES[name]
    tried = os.environ.get(env) or default
    reason = (f"{what} not found at {tried} (outside the repository; set ${env} to "
              "point elsewhere)")
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true tests that need it fail instead of skipping",
                    pytrace=False)
    _MISSING_SHARED.add(f"Skipped: {reason}")
    pytest.skip(reason)


_MISSING_SHARED: set[str] = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skip for a missing ../shared resource is reported at require_shared, not at each
    test, so `-ra` folds the tests that need one resource into one summary line."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and isinstance(report.longrepr, tuple)
            and report.longrepr[2] in _MISSING_SHARED):
        report.longrepr = (__file__, _SKIP_LINE, report.longrepr[2])


_SKIP_LINE = require_shared.__code__.co_firstlineno

CONFIG = """\
name: Fixture study
codebook: codebooks/codes.yaml
transcripts: transcripts
codings: codings
segmentation: turns
cases:
  - file: cases/schools.csv
    key: school
attributes:
  school: {required: true}
  informant_group: {required: true, values: [coordinator, principal, teacher]}
"""

CODEBOOK = """\
name: Fixture codes
version: "1"
codes:
  - id: leadership
    label: Leadership
    codable: false
    description: Folder for leadership codes.
    children:
      - id: lead-strong
        label: Strong anchoring
        key: L
        description: Leaders carry the work.
        aliases: [anchoring]
      - id: lead-weak
        label: Weak anchoring
        key: W
        description: Leaders leave it to others.
  - id: ownership
    label: Staff ownership
    key: o
    description: Teachers own the work.
  - id: outcomes
    label: Outcomes
    description: What came out of it.
    children:
      - id: personal
        label: Personal outcomes
        key: p
        description: Confidence and independence.
"""

SCHOOLS = """\
school,pupils,model
Voss,372,mature
Lier,450,mature
Strinda,1052,
"""

TRANSCRIPTS = {
    "voss-principal.md": """\
---
id: voss-principal
school: Voss
informant_group: principal
---
I: Hvordan startet det?

Rektor: Vi hadde for mange lærere, og så så vi en mulighet.

Det ble en del av planen vår etter hvert.

I: Og eierskapet?

Rektor: Lærerne eier prosjektet – det er «deres» prosjekt.
""",
    "lier-teacher.md": """\
---
school: Lier
informant_group: teacher
---
I: Hva lærte elevene?

Lærer 1: De ble tryggere på seg selv. Kl. 07:45 stod de klare på flyplassen.

Lærer 2: Jeg er enig, særlig de stille elevene.
""",
    "strinda-coordinator.md": """\
---
id: strinda-coordinator
school: Strinda
informant_group: coordinator
---
Koordinator: Jeg gjør det meste alene, og rektor er lite involvert.

I: Hva skjer når du går av med pensjon?

Koordinator: Det vet ingen. Ærlig talt.
""",
}


class ProjectBuilder:
    """Writes a fixture project into a folder; tests then break one file on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="")
        return path

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, f"{old!r} not in {rel}"
        self.write(rel, text.replace(old, new, 1))

    def log_lines(self, coder: str) -> list[dict]:
        path = self.root / "codings" / f"{coder}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]

    def append_log(self, coder: str, *events: dict | str) -> None:
        path = self.root / "codings" / f"{coder}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            for event in events:
                handle.write((event if isinstance(event, str)
                              else json.dumps(event, ensure_ascii=False)) + "\n")


def build_fixture_project(root: Path) -> ProjectBuilder:
    """The fixture project (three transcripts, six codes, a case table) at ``root``, for
    tests that need several projects or one outside pytest's function-scoped fixtures
    (hypothesis examples)."""
    builder = ProjectBuilder(root)
    builder.write("qcode.yaml", CONFIG)
    builder.write("codebooks/codes.yaml", CODEBOOK)
    builder.write("cases/schools.csv", SCHOOLS)
    for name, text in TRANSCRIPTS.items():
        builder.write(f"transcripts/{name}", text)
    (builder.root / "codings").mkdir()
    return builder


@pytest.fixture
def project_dir(tmp_path: Path) -> ProjectBuilder:
    return build_fixture_project(tmp_path / "study")


@pytest.fixture
def cli(project_dir: ProjectBuilder, monkeypatch: pytest.MonkeyPatch) -> Callable:
    """Run ``qcode`` in the fixture project; returns the click Result."""
    monkeypatch.delenv("QCODE_PROJECT", raising=False)
    monkeypatch.delenv("QCODE_CODER", raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, cwd: Path | None = None):
        old = Path.cwd()
        os.chdir(cwd or project_dir.root)
        try:
            return runner.invoke(app, list(args), input=input, catch_exceptions=False)
        finally:
            os.chdir(old)

    return run


@pytest.fixture(autouse=True)
def _no_ambient_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QCODE_PROJECT", raising=False)
    monkeypatch.delenv("QCODE_CODER", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # pytest-xdist's workers say COLUMNS=80, LINES=24; a test that wants a width sets it
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _cache_key_in_a_temporary_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The cache's machine key (qcode.format.cache.machine_key) goes to a folder of the
    test run, not the user's ~/.cache; subprocesses inherit it through the environment."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


# -- a coded fixture for the counting tests (see tests/test_analysis.py for the table) ----

SENTENCE = "De ble tryggere på seg selv."


@pytest.fixture
def coded(project_dir):
    from qcode import Project

    project = Project.open(project_dir.root)
    tag = project.tag
    tag("voss-principal", 2, ["lead-strong", "ownership"], "a")
    tag("voss-principal", 4, ["ownership"], "a")
    tag("lier-teacher", 2, ["personal", "lead-weak"], "a")
    tag("lier-teacher", 3, ["personal"], "a")
    tag("strinda-coordinator", 1, ["lead-weak"], "a")
    tag("strinda-coordinator", 3, ["outcomes"], "a")
    tag("voss-principal", 2, ["lead-strong"], "b")
    tag("voss-principal", 4, ["lead-weak"], "b")
    tag("strinda-coordinator", 1, ["lead-weak"], "b")
    body = project.transcript("lier-teacher").body
    start = body.index(SENTENCE)
    tag("lier-teacher", (start, start + len(SENTENCE)), ["personal"], "b")
    return Project.open(project_dir.root)


def press_keys(app, *keys, size=(80, 24), inspect=None):
    """Drive a full-screen app with Pilot: press ``keys`` (``*"words"`` types them), then
    return ``inspect(app)`` (run inside the app) and the coder's status line."""
    import asyncio

    async def go():
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
            seen = inspect(app) if inspect else None
            return seen, str(app.screen_stack[0].query_one("#status").render())

    return asyncio.run(go())
