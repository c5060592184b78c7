"""The fixed cost of a command (#25): what the installed ``qcode`` imports and builds.

Each check runs the console script's entry point (``qcode.cli.entry.main``) in a fresh
process on a copy of the bundled study, the way a researcher runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_examples import copy_study

HEAVY = ("pandas", "numpy", "pyarrow", "textual", "matplotlib", "openpyxl")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_study(tmp_path_factory.mktemp("study") / "study")


def imported(args: list[str], cwd: Path, report: Path) -> tuple[int, list[str]]:
    """Exit code and every module ``qcode ARGS``, run through the entry, imported."""
    code = (
        "import json, sys\n"
        "from qcode.cli.entry import main\n"
        f"sys.argv = ['qcode', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "    status = 0\n"
        "except SystemExit as stop:\n"
        "    status = stop.code or 0\n"
        f"open({str(report)!r}, 'w').write(json.dumps([status, sorted(sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)
    assert report.exists(), done.stderr
    status, modules = json.loads(report.read_text())
    return status, modules


def run_entry(args: list[str], cwd: Path, report: Path) -> tuple[int, list[str]]:
    """Exit code and the heavy modules imported by ``qcode ARGS`` run through the entry."""
    status, modules = imported(args, cwd, report)
    assert status == 0, f"qcode {' '.join(args)} exited with {status}"
    return status, sorted(m for m in HEAVY if m in modules)


WITHOUT_PANDAS = [["freq"], ["freq", "--by", "school", "--rollup"], ["matrix", "--by", "school"],
                 ["matrix", "--by", "school,informant_group", "-m", "cases-pct", "--totals",
                  "-f", "json"], ["cooccur"], ["cooccur", "--unit", "passage", "-f", "csv"],
                 ["codes"], ["transcripts"],
                 ["show", "voss-principal", "--coder", "consensus"],
                 ["search", "praksisplass*"], ["segments", "leadership-involved"],
                 ["segments", "--all-coders", "--by", "school", "-f", "md"],
                 ["segments", "origins", "-f", "json", "--memos"]]


@pytest.mark.parametrize("args", WITHOUT_PANDAS, ids=[" ".join(a) for a in WITHOUT_PANDAS])
def test_counting_and_text_commands_import_no_pandas_or_numpy(args, study, tmp_path):
    _, loaded = run_entry(args, study, tmp_path / "report.json")
    assert loaded == []


def test_version_is_answered_before_typer_and_reads_as_before(tmp_path):
    report = tmp_path / "report.json"
    code = (
        "import json, sys\n"
        "from qcode.cli.entry import main\n"
        "sys.argv = ['qcode', '--version']\n"
        "main()\n"
        f"open({str(report)!r}, 'w').write(json.dumps('typer' in sys.modules))\n"
    )
    fast = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    assert json.loads(report.read_text()) is False
    through_typer = subprocess.run(
        [sys.executable, "-c", "from qcode.cli.app import app; app(prog_name='qcode')",
         "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert fast == through_typer
    assert fast.startswith("qcode ") and "(Python " in fast


# Each invocation's whole output, built lazily (entry) and with every command built (app).
SAME_OUTPUT = [["--help"], [], ["-h"], ["-p", ".", "--help"], ["matrix", "--help"],
               ["codes", "--help"], ["export"], ["frobnicate"], ["matrix", "--nonsense"],
               ["--debug", "freq", "-f", "json"], ["-p.", "codes", "-f", "csv"],
               ["--project", "nowhere", "check"], ["-q", "codes", "-f", "csv"],
               ["--quiet", "--help"], ["codes", "rename", "--help"], ["export", "--help"],
               ["import", "transcripts", "--help"], ["pseudonymise", "--help"],
               ["show", "voss-principal", "-f", "json"]]


def test_every_root_option_keeps_the_lazy_path():
    """A root option the lazy builder does not know makes it build every command: each
    of ``_root``'s options must be known to it."""
    import typing

    from qcode.cli.app import _root
    from qcode.cli.lazy import ROOT_FLAGS, ROOT_VALUE_OPTIONS, invoked_name

    hints = typing.get_type_hints(_root, include_extras=True)
    # typer.Option("--project", "-p"): the first name is kept as its ``default``
    declared = {name for hint in hints.values() for extra in getattr(hint, "__metadata__", ())
                for name in (getattr(extra, "default", None),
                             *getattr(extra, "param_decls", ()))
                if isinstance(name, str) and name.startswith("-")}
    assert {"--project", "--quiet", "-q"} <= declared  # the options were found
    assert declared <= set(ROOT_FLAGS) | set(ROOT_VALUE_OPTIONS)
    assert invoked_name(["-q", "codes"]) == ("codes", True)


@pytest.mark.parametrize("args", SAME_OUTPUT, ids=[" ".join(a) or "(none)" for a in SAME_OUTPUT])
def test_building_only_the_invoked_command_changes_no_output(args, study):
    def run(code: str) -> tuple[int, str, str]:
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=study,
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "COLUMNS": "80"})
        return done.returncode, done.stdout, done.stderr

    lazy = run("from qcode.cli.entry import main; main()")
    whole = run("from qcode.cli.app import app; app(prog_name='qcode')")
    assert lazy == whole


def loaded_modules(args: list[str], cwd: Path, report: Path, prefix: str) -> list[str]:
    """The modules named ``prefix...`` that ``qcode ARGS``, run through the entry, imported."""
    return [m for m in imported(args, cwd, report)[1] if m.startswith(prefix)]


def command_modules() -> set[str]:
    from qcode.cli.app import COMMANDS

    return {f"qcode.cli.{module}" for module, *_ in COMMANDS} | {"qcode.cli.browse"}


@pytest.mark.parametrize(("args", "module"), [
    (["matrix", "--by", "school"], "qcode.cli.analyse"),
    (["-q", "codes", "-f", "csv"], "qcode.cli.browse"),
    (["show", "voss-principal"], "qcode.cli.browse"),
    (["search", "praksisplass*"], "qcode.cli.search"),
])
def test_a_command_imports_only_its_own_command_module(args, module, study, tmp_path):
    loaded = set(loaded_modules(args, study, tmp_path / "report.json", "qcode.cli."))
    assert loaded & command_modules() == {module} | (
        {"qcode.cli.codebook_cmds"} if module == "qcode.cli.browse" and "codes" in args
        else set())


def test_help_imports_every_command_module(study, tmp_path):
    loaded = set(loaded_modules(["--help"], study, tmp_path / "report.json", "qcode.cli."))
    assert command_modules() <= loaded


def test_a_command_loads_no_pydantic_plugins_or_package_metadata(study, tmp_path):
    """The console script stands in for pydantic's plugin loader (cli/entry.py): no scan
    of installed packages, no ``importlib.metadata``, in a command that builds options."""
    loaded = loaded_modules(["freq", "--by", "school"], study, tmp_path / "report.json",
                            "importlib.metadata")
    assert loaded == []


def test_a_warm_command_writes_nothing_into_the_cache(study, tmp_path):
    """Rewriting an unchanged entry (as ``check/<coder>.json`` was) costs every command a
    write and a rename."""
    def snapshot() -> dict[str, tuple[int, int]]:
        return {str(p.relative_to(study)): (p.stat().st_mtime_ns, p.stat().st_ino)
                for p in (study / ".qcode" / "cache").rglob("*") if p.is_file()}

    for args in (["check"], ["matrix", "--by", "school"]):  # warm every entry
        run_entry(args, study, tmp_path / f"{args[0]}-first.json")
    before = snapshot()
    assert any(name.startswith(".qcode/cache/check/") for name in before)
    for args in (["matrix", "--by", "school"], ["freq"], ["codes"], ["check"]):
        run_entry(args, study, tmp_path / f"{args[0]}.json")
    assert snapshot() == before


def test_a_warm_command_starts_no_worker_machinery(study, tmp_path):
    """Worker processes decode big logs and parse many transcripts on a cold start; a warm
    small command has neither, so it does not import what would start them (6 ms)."""
    run_entry(["matrix", "--by", "school"], study, tmp_path / "first.json")
    for prefix in ("multiprocessing", "concurrent.futures"):
        assert loaded_modules(["matrix", "--by", "school"], study,
                              tmp_path / f"{prefix}.json", prefix) == []
