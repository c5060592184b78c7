"""A codebook checked once is not checked again while its bytes are the same
(``qcode.format.codebook.load_codebook`` with the project cache): the codebook and the
problems of a warm run are those of a first read, and a changed file is read anew."""

from __future__ import annotations

import json
import subprocess
import sys

from qcode import Project
from qcode.format.codebook import _checked_name

# Problems on purpose: a code without a description, a rule that matches by negation
# only, a regex that backtracks, a regex that does not compile, a duplicate key.
CODES_WITH_PROBLEMS = """\
  - id: reluctance
    label: Reluctance
    key: o
    rules:
      - not: {match: "gjerne"}
      - regex: "(a|ab)*c"
  - id: broken-rule
    label: Broken rule
    description: Its regex does not compile.
    rules:
      - regex: "(unclosed"
      - match: "praksis*"
        scope: sentence
"""


def with_problems(project_dir) -> None:
    text = project_dir.read("codebooks/codes.yaml")
    project_dir.write("codebooks/codes.yaml", text + CODES_WITH_PROBLEMS)


def check_json(cli) -> dict:
    done = cli("check", "-f", "json")
    return json.loads(done.stdout)


def test_warm_check_reports_what_the_first_check_found(project_dir, cli):
    with_problems(project_dir)
    first = check_json(cli)
    assert (project_dir.root / ".qcode/cache" / _checked_name("codebooks/codes.yaml")).exists()
    rules = {p["rule"] for p in first["problems"]}
    assert {"code-description-empty", "rule-negative", "rule-regex",
            "code-key-duplicate"} <= rules
    assert check_json(cli) == first == check_json(cli)


def test_warm_codebook_is_the_codebook_of_a_first_read(project_dir):
    with_problems(project_dir)
    cold = Project.open(project_dir.root)
    cold_codebook, cold_problems = cold.codebook, list(cold.problems)
    warm = Project.open(project_dir.root)
    warm_codebook = warm.codebook
    assert list(warm.problems) == cold_problems
    assert [c.model_dump() for c in warm_codebook] == [c.model_dump() for c in cold_codebook]
    assert list(warm_codebook) == list(cold_codebook)
    for name in ("name", "version", "description", "changelog", "lines", "rule_lines",
                 "changelog_lines", "parent_of", "depth_of", "ids"):
        assert getattr(warm_codebook, name) == getattr(cold_codebook, name), name
    assert warm_codebook.rule_location("reluctance", 1) == \
        cold_codebook.rule_location("reluctance", 1)
    assert [c.model_fields_set for c in warm_codebook] == \
        [c.model_fields_set for c in cold_codebook]


def test_a_changed_codebook_is_checked_anew(project_dir, cli):
    first = check_json(cli)
    assert first["problems"] == []
    with_problems(project_dir)
    changed = check_json(cli)
    assert any(p["rule"] == "rule-regex" for p in changed["problems"])
    project_dir.replace("codebooks/codes.yaml", '"(unclosed"', '"(closed)"')
    fixed = check_json(cli)
    assert not any(p["rule"] == "rule-regex" for p in fixed["problems"])
    assert check_json(cli) == fixed


def test_an_entry_that_is_not_what_qcode_wrote_counts_as_none(project_dir, cli):
    with_problems(project_dir)
    first = check_json(cli)
    entry = project_dir.root / ".qcode/cache" / _checked_name("codebooks/codes.yaml")
    raw = entry.read_bytes()
    entry.write_bytes(raw.replace(b'"rule-regex"', b'"rule-other"'))  # the HMAC fails
    assert check_json(cli) == first
    assert b'"rule-regex"' in entry.read_bytes()  # written again from the file


def test_a_warm_command_neither_imports_regex_nor_checks_rules(project_dir, cli):
    with_problems(project_dir)
    check_json(cli)  # warms the cache
    code = ("import sys\n"
            "from qcode.cli.entry import main\n"
            "sys.argv = ['qcode', 'codes', '-f', 'csv']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(repr(sorted(m for m in ('regex', 'pandas') if m in sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=project_dir.root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.stderr.strip().endswith("[]"), done.stderr
    assert "reluctance" in done.stdout
