"""Every file in examples/ (and .pre-commit-hooks.yaml) runs against a copy of the bundled
study, so an example can never rot.

- The shell script runs through bash, the Python script through the interpreter, both with
  the qcode of this venv first on PATH; what they write is compared with what the library
  counts, and with counts made here straight from the coding log.
- The CI files are parsed with ``qcode.yamlio.parse_yaml`` and every ``qcode ...`` command
  line of their ``run:`` (GitHub) and ``before_script:``/``script:`` (GitLab) blocks is
  executed, in order, in the study's copy; the artifacts they upload must then exist. See
  ``qcode_commands`` for how lines are picked: a line whose first word is ``qcode`` is run
  with this venv's qcode, and must not use shell syntax (pipes, redirections, variables,
  globs) that running it without a shell would silently change. Other lines (``pip
  install``) are checked, not run: the tests never install anything.
- The pre-commit hooks are run the way pre-commit runs them: the hooks named in
  examples/pre-commit-config.yaml are resolved through .pre-commit-hooks.yaml, the staged
  files filtered with ``files``/``exclude``, and ``entry`` + ``args`` (+ the file names when
  ``pass_filenames``) executed from the repository root.
"""

from __future__ import annotations

import csv
import datetime
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from qcode import Project
from qcode.format.yamlio import parse_yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
BIN = Path(sys.executable).parent  # the venv's bin: its qcode is the one under test
QCODE = BIN / "qcode"
STUDY_PARTS = ("qcode.yaml", "codebooks", "cases", "transcripts", "codings")
GROUPS = ["coordinator", "principal", "teacher", "department_manager"]  # declared order


# -- helpers -------------------------------------------------------------------------------------

def copy_study(target: Path) -> Path:
    """The bundled study's files (only those) in ``target``: tests never touch the original."""
    target.mkdir(parents=True)
    for part in STUDY_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            shutil.copy2(source, target / part)
    return target


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QCODE_PROJECT", "QCODE_CODER")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env


def run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=environment(),
                          capture_output=True, text=True, timeout=300)


def today_folders() -> set[str]:
    # A run that crosses midnight names the folder after either day.
    return {datetime.date.today().isoformat(),
            (datetime.date.today() - datetime.timedelta(days=1)).isoformat()}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return rows[0], without_sizes(rows[1:])


def without_sizes(rows: list) -> list:
    """A matrix's rows without its last row of column sizes (``n_transcripts``)."""
    return rows[:-1] if rows and rows[-1][0] == "n_transcripts" else rows


def read_sheet(path: Path) -> tuple[list, list[list]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True)["matrix"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return rows[0], without_sizes(rows[1:])


def frame_records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def break_log_with_unknown_code(study: Path) -> int:
    """Append a coding of a code that does not exist; returns its line in the log."""
    log = study / "codings" / "coder-a.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[0])
    event.update(id="0000deadbeef0000", code="leadership-stong")
    with log.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(event, ensure_ascii=False) + "\n")
    return len(lines) + 1


def tear_last_line(study: Path) -> int:
    """An interrupted write at the end of coder-b's log: a warning, not an error."""
    log = study / "codings" / "coder-b.jsonl"
    count = len(log.read_text(encoding="utf-8").splitlines())
    with log.open("a", encoding="utf-8") as handle:
        handle.write('{"op": "add", "id": "torn", "transcript": "voss-pr')
    return count + 1


def hand_counts(project: Project, attr: str) -> dict[str, dict[str, tuple[int, int]]]:
    """(segments, documents) per code and value of ``attr`` with rollup (a code counts the
    distinct spans of itself and its descendants), counted here from the primary coder's
    current codings without qcode.analysis."""
    attribute = {t.id: t.attributes.get(attr) for t in project.transcripts}
    spans: dict[str, set] = {}
    for coding in project.codings(project.require_config().primary_coder):
        code = project.codebook.resolve(coding.code).id  # a former id counts for its code
        spans.setdefault(code, set()).add((coding.transcript, coding.start, coding.end))
    counts = {}
    for code in project.codebook.codes:
        rolled = set().union(*(spans.get(c, set())
                               for c in project.codebook.descendants(code.id)))
        by_value: dict[str, set] = {}
        for span in rolled:
            by_value.setdefault(attribute[span[0]], set()).add(span)
        counts[code.id] = {value: (len(found), len({span[0] for span in found}))
                           for value, found in by_value.items()}
    return counts


# -- extracting the commands of the CI files ----------------------------------------------------

# Characters a shell would treat specially (even some inside quotes): a qcode line in a CI
# file must not use them, or running it without a shell here would not be what CI runs.
SHELL_SYNTAX = re.compile(r"[|&;<>()`$*?\[\]{}~!\\]")


def logical_lines(block: str) -> list[str]:
    """The command lines of a script block: continuations joined, blanks and comments out."""
    lines = []
    for line in block.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def qcode_commands(blocks: list[str]) -> tuple[list[list[str]], list[str]]:
    """(argv of every line that runs qcode, every other line), in order."""
    commands, others = [], []
    for block in blocks:
        for line in logical_lines(block):
            words = shlex.split(line)
            if words[0] != "qcode":
                others.append(line)
                continue
            assert not SHELL_SYNTAX.search(line), \
                f"shell syntax in {line!r}: the test would run it differently than CI"
            commands.append(words)
    return commands, others


def github_blocks(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
            if "run" in step]


def gitlab_blocks(pipeline: dict) -> list[str]:
    blocks = []
    for name, job in pipeline.items():
        if isinstance(job, dict) and "script" in job and not name.startswith("."):
            for key in ("before_script", "script", "after_script"):
                blocks += job.get(key, [])
    return blocks


def load_yaml(path: Path):
    return parse_yaml(path.read_text(encoding="utf-8")).data


def matches_path_filter(path: str, pattern: str) -> bool:
    """GitHub/GitLab path filters: ``**/`` is any number of folders, ``**`` anything,
    ``*`` anything but ``/``."""
    regex = (re.escape(pattern).replace(r"\*\*/", "\0").replace(r"\*\*", "\1")
             .replace(r"\*", "[^/]*").replace("\0", "(?:.*/)?").replace("\1", ".*"))
    return re.fullmatch(regex, path) is not None


def study_files(root: Path) -> list[str]:
    """Every file of the study under ``root``, as paths relative to it."""
    return sorted(p.relative_to(root).as_posix()
                  for part in STUDY_PARTS
                  for p in ([root / part] if (root / part).is_file()
                            else (root / part).rglob("*"))
                  if p.is_file())


STUDY_FILES = study_files(REPO)
UNRELATED_FILES = ["README.md", "src/qcode/project.py", "tests/conftest.py", "docs/format.md",
                   "examples/batch_export.sh", ".pre-commit-hooks.yaml"]


# -- batch_export.sh ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shell_export(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """One real run of the shell script (one attribute, to keep the suite fast; the
    defaults are checked with --dry-run), shared by the tests that read what it wrote."""
    study = copy_study(tmp_path_factory.mktemp("shell") / "study")
    result = run(["bash", EXAMPLES / "batch_export.sh", "informant_group"], study)
    folders = list((study / "exports").iterdir()) if (study / "exports").exists() else []
    assert result.returncode == 0, result.stderr
    assert len(folders) == 1 and folders[0].name in today_folders(), folders
    return study, folders[0], result


def test_shell_script_dry_run_shows_the_default_attributes(tmp_path):
    study = copy_study(tmp_path / "study")
    result = run(["bash", EXAMPLES / "batch_export.sh", "--dry-run", "--force",
                  "--coder", "coder-b"], study)
    assert result.returncode == 0, result.stderr
    commands = [shlex.split(line) for line in result.stdout.splitlines()]
    assert commands[0] == ["qcode", "--project", ".", "check"]
    writes = commands[1:]
    assert all(c[:3] == ["qcode", "--project", "."] and "--force" in c and
               c[c.index("--coder") + 1] == "coder-b" for c in writes)
    outputs = [Path(c[c.index("-o") + 1]) for c in writes]
    assert {p.parent.as_posix() for p in outputs} in [{f"exports/{day}"} for day in today_folders()]
    matrices = Counter((c[c.index("--by") + 1], c[c.index("--measure") + 1], Path(o).suffix)
                       for c, o in zip(writes, outputs, strict=True) if c[3] == "matrix")
    assert matrices == Counter({(attr, measure, suffix): 1
                                for attr in ("school", "informant_group")
                                for measure in ("segments", "documents")
                                for suffix in (".csv", ".xlsx")})
    assert sorted(o.name for c, o in zip(writes, outputs, strict=True) if c[3] == "freq") == [
        "frequencies-by-informant_group.json", "frequencies-by-school.json", "frequencies.json"]
    assert not (study / "exports").exists()  # a dry run writes nothing


def test_shell_script_writes_the_matrices_the_library_counts(shell_export):
    study, folder, result = shell_export
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "codes-by-informant_group-segments.csv", "codes-by-informant_group-segments.xlsx",
        "codes-by-informant_group-documents.csv", "codes-by-informant_group-documents.xlsx",
        "frequencies-by-informant_group.json", "frequencies.json"])
    assert "ok: no problems" in result.stdout  # check ran first
    project = Project.open(study)
    codes = [code.id for code in project.codebook.codes]
    hand = hand_counts(project, "informant_group")
    for position, measure in enumerate(["segments", "documents"]):
        header, rows = read_csv(folder / f"codes-by-informant_group-{measure}.csv")
        assert header == ["code", *GROUPS]
        sizes = (folder / f"codes-by-informant_group-{measure}.csv").read_text().splitlines()[-1]
        assert sizes == "n_transcripts," + ",".join(
            str(sum(t.attributes.get("informant_group") == g for t in project.transcripts))
            for g in GROUPS)
        assert [row[0] for row in rows] == codes  # every code, in codebook order
        grid = project.matrix(by="informant_group", measure=measure, rollup=True)
        assert {row[0]: [int(v) for v in row[1:]] for row in rows} == \
            {code: [int(v) for v in values] for code, values in zip(
                grid.index, grid.to_numpy().tolist(), strict=True)}
        for row in rows:  # counted straight from the log
            expected = [hand[row[0]].get(group, (0, 0))[position] for group in GROUPS]
            assert [int(v) for v in row[1:]] == expected, row[0]
        sheet_header, sheet_rows = read_sheet(folder / f"codes-by-informant_group-{measure}.xlsx")
        assert sheet_header == ["code", "label", *GROUPS]
        assert [[r[0], *r[2:]] for r in sheet_rows] == [[r[0], *map(int, r[1:])] for r in rows]
    frequencies = json.loads((folder / "frequencies-by-informant_group.json").read_text("utf-8"))
    assert frequencies == frame_records(project.freq(by="informant_group", rollup=True))
    overall = json.loads((folder / "frequencies.json").read_text("utf-8"))
    assert overall == frame_records(project.freq(rollup=True))
    assert sum(r["segments"] for r in overall if r["code"] == "leadership-involved") == sum(
        s for s, _ in hand["leadership-involved"].values())


def test_shell_script_never_replaces_an_earlier_export(shell_export):
    study, folder, _ = shell_export
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    result = run(["bash", EXAMPLES / "batch_export.sh", "informant_group"], study)
    assert result.returncode == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


@pytest.mark.parametrize(("breakage", "options", "rule"), [
    (break_log_with_unknown_code, [], "coding-unknown-code"),
    (tear_last_line, ["--strict"], "log-torn-line"),
])
def test_shell_script_stops_before_exporting_when_check_fails(tmp_path, breakage, options,
                                                               rule):
    study = copy_study(tmp_path / "study")
    breakage(study)
    result = run(["bash", EXAMPLES / "batch_export.sh", *options, "-o", "out"], study)
    assert result.returncode == 1
    assert f"[{rule}]" in result.stdout
    assert "nothing exported" in result.stderr
    assert not (study / "out").exists()


def test_shell_script_stops_at_the_first_failing_command(tmp_path):
    # A stand-in for qcode (the script honours $QCODE) whose first matrix fails with 3.
    calls = tmp_path / "calls"
    stub = tmp_path / "qcode-stub"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                    'case "$*" in *" matrix "*) exit 3 ;; esac\n', encoding="utf-8")
    stub.chmod(0o755)
    result = subprocess.run(["bash", EXAMPLES / "batch_export.sh", "-o", "out"], cwd=tmp_path,
                            env={**environment(), "QCODE": str(stub)}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 3
    assert [line.split()[2] for line in calls.read_text().splitlines()] == ["check", "matrix"]
    assert "wrote" not in result.stderr


def test_shell_script_usage_errors(tmp_path):
    for args in (["--bogus"], ["-o"], ["school/../x"]):
        result = run(["bash", EXAMPLES / "batch_export.sh", *args], tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.startswith("batch_export: "), result.stderr
    assert run(["bash", EXAMPLES / "batch_export.sh", "--help"], tmp_path).stdout.startswith(
        "usage: batch_export.sh")


# -- batch_export.py ------------------------------------------------------------------------------

def test_python_script_writes_what_the_cli_writes_and_the_share_table(shell_export):
    study, cli_folder, _ = shell_export
    result = run([sys.executable, EXAMPLES / "batch_export.py", "-o", "py"], study)
    assert result.returncode == 0, result.stderr
    folder = study / "py"
    for name in ("codes-by-informant_group-segments.csv", "codes-by-informant_group-documents.csv"):
        assert (folder / name).read_text("utf-8") == (cli_folder / name).read_text("utf-8")
    for name in ("frequencies-by-informant_group.json", "frequencies.json"):
        assert json.loads((folder / name).read_text("utf-8")) == \
            json.loads((cli_folder / name).read_text("utf-8"))
    project = Project.open(study)
    for measure in ("segments", "documents"):  # school: not in the shell run
        header, rows = read_csv(folder / f"codes-by-school-{measure}.csv")
        grid = project.matrix(by="school", measure=measure, rollup=True)
        assert header == ["code", *grid.columns]
        assert [[r[0], *map(int, r[1:])] for r in rows] == [
            [code, *values] for code, values in zip(grid.index, grid.to_numpy().tolist(),
                                                     strict=True)]
        sheet_header, sheet_rows = read_sheet(folder / f"codes-by-school-{measure}.xlsx")
        assert sheet_header == ["code", "label", *grid.columns]
        assert [[r[0], *r[2:]] for r in sheet_rows] == [[r[0], *map(int, r[1:])] for r in rows]
        assert sheet_rows[0][1] == project.codebook.get(rows[0][0]).label
    assert json.loads((folder / "frequencies-by-school.json").read_text("utf-8")) == \
        frame_records(project.freq(by="school", rollup=True))

    # The share of interviews per group with each outcome code, checked against the
    # documents-pct matrix and against the log itself.
    header, rows = read_csv(folder / "share-of-interviews-outcomes-by-informant_group.csv")
    assert header == ["code", *GROUPS, "all"]
    leaves = [c for c in project.codebook.descendants("outcomes")
              if project.codebook.get(c).codable]
    assert sorted(r[0] for r in rows) == sorted(leaves)
    shares = {r[0]: [float(v) for v in r[1:]] for r in rows}
    pct = project.matrix(by="informant_group", measure="documents-pct", codes=["outcomes"])
    hand = hand_counts(project, "informant_group")
    sizes = Counter(t.attributes["informant_group"] for t in project.transcripts)
    for code in leaves:
        assert shares[code][:-1] == pytest.approx(pct.loc[code].tolist(), abs=0.051), code
        documents = sum(d for _, d in hand[code].values())
        assert shares[code][-1] == round(100 * documents / sum(sizes.values()), 1)
    assert [shares[r[0]][-1] for r in rows] == sorted((v[-1] for v in shares.values()),
                                                      reverse=True)
    printed = result.stdout.splitlines()
    assert printed[0].startswith("Share of interviews (%)")
    assert printed[1].split() == [*GROUPS, "all"]
    assert [line.split()[0] for line in printed[3:]] == [r[0] for r in rows]


@pytest.fixture
def python_example():
    spec = importlib.util.spec_from_file_location("batch_export_example",
                                                  EXAMPLES / "batch_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("args", "message"), [
    (["--family", "outcome"], "unknown code 'outcome'; did you mean 'outcomes'?"),
    (["schol"], "unknown attribute 'schol'; did you mean 'school'"),
    (["--group", "informant"], "unknown attribute 'informant'"),
])
def test_python_script_checks_names_before_writing(tmp_path, python_example, capsys, args,
                                                    message):
    study = copy_study(tmp_path / "study")
    assert python_example.main(["-p", str(study), "-o", str(tmp_path / "out"), *args]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_python_script_refuses_existing_files_and_a_broken_project(tmp_path, python_example,
                                                                   capsys):
    study = copy_study(tmp_path / "study")
    out = tmp_path / "out"
    out.mkdir()
    (out / "frequencies.json").write_text("keep me", encoding="utf-8")
    assert python_example.main(["-p", str(study), "-o", str(out), "school"]) == 1
    assert "frequencies.json already exists" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["frequencies.json"]
    line = break_log_with_unknown_code(study)
    assert python_example.main(["-p", str(study), "-o", str(out), "--force"]) == 1
    assert f"codings/coder-a.jsonl:{line}: error[coding-unknown-code]" in capsys.readouterr().err
    assert (out / "frequencies.json").read_text("utf-8") == "keep me"
    assert python_example.main(["-p", str(tmp_path / "nowhere")]) == 2


# -- CI files -------------------------------------------------------------------------------------

CI_FILES = {
    "github-actions.yml": (github_blocks, ["qcode", "check", "--format", "github", "--strict"]),
    "gitlab-ci.yml": (gitlab_blocks, ["qcode", "check", "--strict"]),
}


def ci_artifacts(name: str, document: dict) -> list[str]:
    if name == "github-actions.yml":
        return [step["with"]["path"] for job in document["jobs"].values()
                for step in job["steps"] if step.get("uses", "").startswith(
                    "actions/upload-artifact@")]
    return [path for job in document.values() if isinstance(job, dict)
            for path in job.get("artifacts", {}).get("paths", [])]


@pytest.mark.parametrize("name", CI_FILES)
def test_ci_file_commands_run_against_the_study(tmp_path, name):
    document = load_yaml(EXAMPLES / name)
    blocks, check = CI_FILES[name]
    commands, others = qcode_commands(blocks(document))
    assert commands[0] == ["qcode", "--version"]  # logged with the install
    assert commands[1] == check  # before anything is exported
    assert any(c[1] == "matrix" and c[-1].endswith(".xlsx") for c in commands)
    assert others == ['python -m pip install --disable-pip-version-check "$QCODE_SPEC"']
    spec = (document["env"] if "env" in document else document["variables"])["QCODE_SPEC"]
    assert re.fullmatch(r"qcode @ git\+https://\S+/qcode@v[\d.]+", spec)
    study = copy_study(tmp_path / "study")
    for argv in commands:
        result = run([QCODE, *argv[1:]], study)
        assert result.returncode == 0, f"{argv}: {result.stderr}"
    artifacts = ci_artifacts(name, document)
    assert artifacts and all(any((study / path).iterdir()) for path in artifacts)
    written = {Path(c[c.index("-o") + 1]) for c in commands if "-o" in c}
    assert all((study / path).is_file() for path in written)
    assert all(any(path.as_posix().startswith(a) for a in artifacts) for path in written)


@pytest.mark.parametrize("name", CI_FILES)
def test_ci_file_runs_for_every_file_of_the_study(name):
    document = load_yaml(EXAMPLES / name)
    if name == "github-actions.yml":
        triggers = document["on"]  # YAML 1.2: `on` is a string, not true
        filters = [triggers["push"]["paths"], triggers["pull_request"]["paths"]]
    else:
        filters = [rule["changes"] for job in document.values() if isinstance(job, dict)
                   for rule in job.get("rules", [])]
    assert filters
    for patterns in filters:
        for path in STUDY_FILES:
            assert any(matches_path_filter(path, p) for p in patterns), path
        for path in UNRELATED_FILES:
            assert not any(matches_path_filter(path, p) for p in patterns), path


def test_github_check_annotates_the_broken_line(tmp_path):
    commands, _ = qcode_commands(github_blocks(load_yaml(EXAMPLES / "github-actions.yml")))
    check = next(c for c in commands if c[1] == "check")
    study = copy_study(tmp_path / "study")
    line = break_log_with_unknown_code(study)
    result = run([QCODE, *check[1:]], study)
    assert result.returncode == 1
    annotation = result.stdout.splitlines()[0]
    assert annotation.startswith(
        f"::error file=codings/coder-a.jsonl,line={line},title=coding-unknown-code::")
    assert "unknown code 'leadership-stong'" in annotation


# -- pre-commit -----------------------------------------------------------------------------------

MANIFEST = REPO / ".pre-commit-hooks.yaml"


def configured_hooks() -> list[dict]:
    """The hooks of the example config, with qcode's resolved through the manifest the way
    pre-commit does (the config's keys override the manifest's)."""
    manifest = {hook["id"]: hook for hook in load_yaml(MANIFEST)}
    hooks = []
    for repo in load_yaml(EXAMPLES / "pre-commit-config.yaml")["repos"]:
        for hook in repo["hooks"]:
            if repo["repo"].endswith("/qcode"):
                hooks.append({**manifest[hook["id"]], **hook, "qcode": True})
            else:
                hooks.append({**hook, "qcode": False})
    return hooks


def hook_files(hook: dict, staged: list[str]) -> list[str]:
    """The staged files pre-commit gives a hook (none: the hook is skipped)."""
    return [path for path in staged
            if re.search(hook.get("files", ""), path)
            and not re.search(hook.get("exclude", "^$"), path)]


def hook_argv(hook: dict, staged: list[str]) -> list[str] | None:
    """What pre-commit executes for ``staged`` files, or None when the hook is skipped."""
    chosen = hook_files(hook, staged)
    if not chosen:
        return None
    files = chosen if hook.get("pass_filenames", True) else []
    return [*shlex.split(hook["entry"]), *hook.get("args", []), *files]


def test_pre_commit_manifest_declares_both_hooks():
    hooks = {hook["id"]: hook for hook in load_yaml(MANIFEST)}
    assert set(hooks) == {"qcode-check", "qcode-check-strict"}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    for hook in hooks.values():
        assert hook["language"] == "python"  # pre-commit pip-installs this repository
        assert shlex.split(hook["entry"])[0] in scripts
        # `qcode check` checks the whole project and takes no file names.
        assert hook["pass_filenames"] is False
        assert all(re.search(hook["files"], path) for path in STUDY_FILES)
        assert not any(re.search(hook["files"], path) for path in UNRELATED_FILES)
    assert shlex.split(hooks["qcode-check-strict"]["entry"])[-1] == "--strict"


@pytest.mark.parametrize("staged", [
    ["codings/coder-b.jsonl"],
    ["transcripts/voss-principal.md", "README.md"],  # the log is broken though unchanged
])
def test_pre_commit_hooks_run_as_pre_commit_runs_them(tmp_path, staged):
    study = copy_study(tmp_path / "study")
    line = tear_last_line(study)
    hooks = [hook for hook in configured_hooks() if hook["qcode"]]
    assert [(h["id"], h["stages"]) for h in hooks] == [
        ("qcode-check", ["pre-commit"]), ("qcode-check-strict", ["pre-push"])]
    outcomes = {}
    for hook in hooks:
        argv = hook_argv(hook, staged)
        assert argv is not None and not set(staged) & set(argv)
        result = run([BIN / argv[0], *argv[1:]], study)
        assert f"codings/coder-b.jsonl:{line}: warning[log-torn-line]" in result.stdout
        outcomes[hook["id"]] = result.returncode
    # The warning lets the commit through and stops the push.
    assert outcomes == {"qcode-check": 0, "qcode-check-strict": 1}


def test_pre_commit_hooks_skip_commits_that_do_not_touch_the_study():
    for hook in configured_hooks():
        if hook["qcode"]:
            assert hook_argv(hook, ["README.md", "src/qcode/cli/app.py"]) is None


def test_pre_commit_text_fixers_leave_transcripts_and_logs_alone():
    config = load_yaml(EXAMPLES / "pre-commit-config.yaml")
    others = [hook for hook in configured_hooks() if not hook["qcode"]]
    assert others
    for hook in others:
        if hook["id"] in ("trailing-whitespace", "end-of-file-fixer"):
            for path in ("transcripts/voss-principal.md", "codings/coder-a.jsonl"):
                assert not hook_files(hook, [path]), (hook["id"], path)
            assert hook_files(hook, ["codebooks/vet-mobility.yaml"])
    stages = {s for hook in configured_hooks() for s in hook.get("stages", [])}
    assert stages <= set(config["default_install_hook_types"])


# -- shell completion and the README --------------------------------------------------------------

def test_shell_completion_script_completes_commands_and_options(tmp_path):
    # `; true` keeps bash as qcode's parent, so the shell is detected as it is for a user.
    script = """
        source <(qcode --show-completion; true)
        COMP_WORDS=(qcode matr); COMP_CWORD=1; _qcode_completion qcode
        printf '%s\\n' "${COMPREPLY[@]}"
        COMP_WORDS=(qcode matrix --meas); COMP_CWORD=2; _qcode_completion qcode
        printf '%s\\n' "${COMPREPLY[@]}"
    """
    result = run(["bash", "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["matrix", "--measure"]


def test_examples_readme_gives_each_example_a_command():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for path in sorted(EXAMPLES.iterdir()):
        if path.name != "README.md":
            assert f"`{path.name}`" in readme, path.name
    assert "`.pre-commit-hooks.yaml`" in readme
    commands = re.findall(r"^(?:bash|python|cp) (examples/\S+)", readme, flags=re.MULTILINE)
    assert commands and all((REPO / c).is_file() for c in commands)
