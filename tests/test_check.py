"""`qcode check`: every rule with a broken variant of the fixture project.

Each case breaks one thing and asserts the exit code, the rule id, the file and the
line, through the CLI's JSON output (what CI scripts read).
"""

from __future__ import annotations

import json

import pytest

from qcode.project import Project

CB = "codebooks/codes.yaml"
VOSS = "transcripts/voss-principal.md"
LIER = "transcripts/lier-teacher.md"
STRINDA = "transcripts/strinda-coordinator.md"
LOG = "codings/coder-a.jsonl"


def tagged(p, *args, **kwargs):
    Project.open(p.root).tag(*args, **kwargs)


def event(**fields):
    base = {"op": "add", "id": "e1", "transcript": "voss-principal", "start": 0, "end": 2,
            "code": "ownership", "text": "I:", "at": "2026-01-01T00:00:00Z"}
    base.update(fields)
    return base


CASES = {
    # codebook -------------------------------------------------------------------------
    "yaml-syntax": (lambda p: p.replace(CB, "label: Staff ownership", "label: [Staff ownership"),
                    "yaml-syntax", CB, 19),  # where the [ opens
    "unknown-key": (lambda p: p.replace(CB, "    label: Staff ownership", "    lable: Staff"),
                    "codebook-unknown-key", CB, 19),
    "missing-key": (lambda p: p.replace(CB, "    label: Staff ownership\n", ""),
                    "codebook-schema", CB, 18),
    "bad-id": (lambda p: p.replace(CB, "id: personal", "id: Personal Outcomes"),
               "codebook-schema", CB, 26),
    "bad-color": (lambda p: p.replace(CB, "    key: o\n", "    key: o\n    color: red\n"),
                  "codebook-schema", CB, 21),
    "duplicate-id": (lambda p: p.replace(CB, "id: personal", "id: ownership"),
                     "code-id-duplicate", CB, 26),
    "duplicate-key": (lambda p: p.replace(CB, "key: p", "key: o"), "code-key-duplicate", CB, 28),
    "reserved-key": (lambda p: p.replace(CB, "key: p", "key: j"), "code-key-reserved", CB, 28),
    "alias-collision": (lambda p: p.replace(CB, "aliases: [anchoring]", "aliases: [ownership]"),
                        "code-alias-collision", CB, 13),
    "unsafe-tag": (lambda p: p.replace(CB, "name: Fixture codes",
                                       "name: !!python/object/apply:os.system ['true']"),
                   "yaml-unsafe-tag", CB, 1),
    "changelog-missing-date": (lambda p: p.replace(CB, 'version: "1"\n',
                                                   'version: "1"\nchangelog:\n'
                                                   '  - version: "1"\n    changes: [x]\n'),
                               "codebook-schema", CB, 4),
    "codebook-missing": (lambda p: (p.root / CB).unlink(), "file-missing", CB, None),
    # project file ---------------------------------------------------------------------
    "config-unknown-key": (lambda p: p.replace("qcode.yaml", "segmentation: turns",
                                               "segmentaton: turns"),
                           "config-unknown-key", "qcode.yaml", 5),
    "config-bad-value": (lambda p: p.replace("qcode.yaml", "segmentation: turns",
                                             "segmentation: sentences"),
                         "config-schema", "qcode.yaml", 5),
    # transcripts ----------------------------------------------------------------------
    "not-utf8": (lambda p: p.write(VOSS, "---\nschool: Voss\n---\nRektor: Blåbær\n"
                                   .encode("cp1252")), "transcript-encoding", VOSS, 4),
    "front-matter-syntax": (lambda p: p.replace(VOSS, "school: Voss", "school: [Voss"),
                            "transcript-front-matter", VOSS, 3),  # where the [ opens
    "front-matter-unclosed": (lambda p: p.write(LIER, "---\nschool: Lier\nI: Hei\n"),
                              "transcript-front-matter", LIER, 1),
    "front-matter-list": (lambda p: p.replace(VOSS, "school: Voss", "school: [Voss, Lier]"),
                          "transcript-front-matter", VOSS, 3),
    "attribute-missing": (lambda p: p.replace(LIER, "informant_group: teacher\n", ""),
                          "attribute-missing", LIER, 1),
    "attribute-value": (lambda p: p.replace(VOSS, "group: principal", "group: principle"),
                        "attribute-value", VOSS, 4),
    "attribute-type": (lambda p: (p.replace("qcode.yaml", "school: {required: true}",
                                            "school: {required: true}\n  year: {type: integer}"),
                                  p.replace(VOSS, "school: Voss", "school: Voss\nyear: 2019b")),
                       "attribute-type", VOSS, 4),
    "duplicate-transcript": (lambda p: p.write("transcripts/zz-copy.md",
                                               "---\nid: voss-principal\nschool: Voss\n"
                                               "informant_group: principal\n---\nI: x\n"),
                             "transcript-id-duplicate", "transcripts/zz-copy.md", 2),
    # case tables ----------------------------------------------------------------------
    "case-key-unknown": (lambda p: p.replace(STRINDA, "school: Strinda", "school: Strinde"),
                         "case-key-unknown", STRINDA, 3),
    "case-key-duplicate": (lambda p: p.write("cases/schools.csv",
                                             p.read("cases/schools.csv") + "Voss,400,\n"),
                           "case-key-duplicate", "cases/schools.csv", 5),
    "case-table-missing": (lambda p: (p.root / "cases/schools.csv").unlink(),
                           "case-table-missing", "cases/schools.csv", None),
    # coding logs ----------------------------------------------------------------------
    "log-invalid-json": (lambda p: p.append_log("coder-a", event(), "{not json}"),
                         "log-invalid-json", LOG, 2),
    "log-invalid-event": (lambda p: p.append_log("coder-a", event(start="3")),
                          "log-invalid-event", LOG, 1),
    "log-duplicate-id": (lambda p: p.append_log("coder-a", event(), event()),
                         "log-duplicate-id", LOG, 2),
    "log-coder-name": (lambda p: p.append_log("coder a", event()),
                       "log-coder-name", "codings/coder a.jsonl", None),
    "unknown-transcript": (lambda p: p.append_log("coder-a", event(transcript="voss-principle")),
                           "coding-unknown-transcript", LOG, 1),
    "unknown-code": (lambda p: p.append_log("coder-a", event(code="ownershp")),
                     "coding-unknown-code", LOG, 1),
    "not-codable": (lambda p: p.append_log("coder-a", event(code="leadership")),
                    "coding-not-codable", LOG, 1),
    "span-outside": (lambda p: p.append_log("coder-a", event(start=0, end=10_000)),
                     "coding-span-outside", LOG, 1),
    "text-mismatch": (lambda p: (tagged(p, "voss-principal", 2, ["ownership"], "coder-a"),
                                 p.replace(VOSS, "for mange lærere", "for få lærere")),
                      "coding-text-mismatch", LOG, 1),
    "remove-unknown": (lambda p: p.append_log("coder-a", event(),
                                              {"op": "remove", "id": "zz", "at": "x"}),
                       "log-remove-unknown", LOG, 2),
}

WARNINGS = {
    "speaker-once": (lambda p: p.replace(VOSS, "Det ble en del av planen vår etter hvert.",
                                         "Det ble en del av planen vår etter hvert.\n\n"
                                         "Resultat: det ble bra."),
                     "speaker-once", VOSS, 12),
    "rule-speaker-unmatched": (lambda p: p.replace(CB, "    key: o\n",
                                                   "    key: o\n    rules:\n"
                                                   "      - speaker: Elev*\n"),
                               "rule-speaker-unmatched", CB, 18),
    "description-empty": (lambda p: p.replace(CB, "description: Confidence and independence.",
                                              'description: ""'),
                          "code-description-empty", CB, 26),
    "case-conflict": (lambda p: p.replace(VOSS, "school: Voss\n", "school: Voss\npupils: 999\n"),
                      "case-attribute-conflict", VOSS, 4),
    "torn-line": (lambda p: (p.append_log("coder-a", event()),
                             p.write(LOG, p.read(LOG) + '{"op": "add", "id": "e2", "tr')),
                  "log-torn-line", LOG, 2),
}


def test_a_codebook_with_description_and_changelog_is_clean(project_dir, cli):
    project_dir.replace(CB, 'version: "1"\n',
                        'version: "1.1"\ndescription: Codes for the fixture study.\n'
                        'changelog:\n  - version: "1.1"\n    date: "2026-12-07"\n'
                        '    changes: [added a description]\n    note: review\n'
                        '  - {version: 1, date: "2026-01-01"}\n')
    result = cli("check", "--strict")
    assert result.exit_code == 0, result.output
    codebook = Project.open(project_dir.root).codebook
    assert codebook.description == "Codes for the fixture study."
    assert [(e.version, e.date) for e in codebook.changelog] == [("1.1", "2026-12-07"),
                                                                 ("1", "2026-01-01")]


def run_check(cli, *extra):
    result = cli("check", "--format", "json", *extra)
    return result, json.loads(result.stdout)


def test_the_fixture_project_is_clean(cli):
    result = cli("check")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("ok: no problems in 3 transcripts, 6 codes")


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_error_rules(project_dir, cli, case):
    breaker, rule, file, line = CASES[case]
    breaker(project_dir)
    result, report = run_check(cli)
    assert result.exit_code == 1, result.output
    assert report["ok"] is False
    hits = [p for p in report["problems"] if p["rule"] == rule]
    assert hits, report["problems"]
    assert (hits[0]["file"], hits[0]["line"], hits[0]["severity"]) == (file, line, "error")
    assert hits[0]["message"]


@pytest.mark.parametrize("case", WARNINGS, ids=list(WARNINGS))
def test_warning_rules_pass_unless_strict(project_dir, cli, case):
    breaker, rule, file, line = WARNINGS[case]
    breaker(project_dir)
    result, report = run_check(cli)
    assert result.exit_code == 0, result.output
    assert report["ok"] is True
    hits = [p for p in report["problems"] if p["rule"] == rule]
    assert [(h["file"], h["line"], h["severity"]) for h in hits] == [(file, line, "warning")]
    strict, _ = run_check(cli, "--strict")
    assert strict.exit_code == 1


def test_all_problems_are_reported_at_once(project_dir, cli):
    for case in ("duplicate-key", "attribute-value", "unknown-code", "case-key-unknown"):
        CASES[case][0](project_dir)
    _, report = run_check(cli)
    rules = {p["rule"] for p in report["problems"]}
    assert {"code-key-duplicate", "attribute-value", "coding-unknown-code",
            "case-key-unknown"} <= rules


def test_did_you_mean_hints(project_dir, cli):
    CASES["unknown-key"][0](project_dir)
    CASES["attribute-value"][0](project_dir)
    CASES["unknown-transcript"][0](project_dir)
    _, report = run_check(cli)
    hints = {p["rule"]: p["hint"] for p in report["problems"]}
    assert "'label'" in hints["codebook-unknown-key"]
    assert "'principal'" in hints["attribute-value"]
    assert "'voss-principal'" in hints["coding-unknown-transcript"]


def test_duplicate_id_message_names_the_first_line(project_dir, cli):
    CASES["duplicate-id"][0](project_dir)
    _, report = run_check(cli)
    [problem] = [p for p in report["problems"] if p["rule"] == "code-id-duplicate"]
    assert "line 18" in problem["message"]


def test_text_format_names_file_line_and_rule(project_dir, cli):
    CASES["duplicate-key"][0](project_dir)
    result = cli("check")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{CB}:28: error[code-key-duplicate]: ")
    assert "    hint: " in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("failed: 1 error")


def test_github_format_is_workflow_commands(project_dir, cli):
    CASES["duplicate-key"][0](project_dir)
    WARNINGS["torn-line"][0](project_dir)
    result = cli("check", "--format", "github")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert f"::error file={CB},line=28,title=code-key-duplicate::" in result.stdout
    assert any(line.startswith(f"::warning file={LOG},line=2,title=log-torn-line::")
               for line in lines)
    assert all(line.startswith("::") for line in lines)


def test_github_format_escapes_newlines_and_commas(project_dir, cli):
    project_dir.write("transcripts/a,b.md", b"\xff\xfe bad")
    result = cli("check", "--format", "github")
    line = next(x for x in result.stdout.splitlines() if "transcript-encoding" in x)
    assert "file=transcripts/a%2Cb.md" in line


def test_no_traceback_on_broken_files(project_dir, cli):
    for case in ("not-utf8", "unsafe-tag", "config-unknown-key"):
        CASES[case][0](project_dir)
    result = cli("check")
    assert "Traceback" not in result.output
    assert result.exit_code == 1
