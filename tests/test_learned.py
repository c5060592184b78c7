"""`qcode autocode --learn`: classifiers learned from a coder's codings, measured by
cross-validation grouped by transcript, proposed into the suggestions log beside the rules."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from conftest import ProjectBuilder
from qcode import Project
from qcode.cli.plain.suggestions import run_suggestions_plain
from qcode.coding.autocode import autocode
from qcode.coding.autocode.learned import grouped_folds, learn, passage_rows
from qcode.coding.autocode.learned_report import choose_threshold
from qcode.store.events import now_iso, reject_event
from qcode.store.suggestions import SuggestionLog

CONFIG = """\
name: Learning fixture
codebook: codebooks/codes.yaml
transcripts: transcripts
codings: codings
segmentation: turns
interviewer: [I]
"""

CODEBOOK = """\
name: Learning codes
version: "1"
codes:
  - id: costs
    label: Costs of substitutes
    description: Talk about what substitute teachers cost.
    rules:
      - match: "vikarutgift*"
  - id: noise
    label: Noise
    description: Coded at random.
"""

FILLER = ("skolen elevene lærerne prosjektet utveksling praksis bedriften rektor avdelingen "
          "ledelsen erfaring opphold partner reise søknad yrkesfag fagbrev lærling språk "
          "kultur samarbeid kvalitet planen ansvar tid og i på med for at det som en er til "
          "av har vi de ikke så men når om kan vil jo altså liksom egentlig veldig").split()
COST_WORDS = ["vikarutgiftene", "vikarutgifter", "vikarbudsjettet", "vikarkostnadene"]
TRANSCRIPTS, CODED, PASSAGES = 10, 7, 16


def _sentence(rng: random.Random, cost: bool) -> str:
    words = [rng.choice(FILLER) for _ in range(14)]
    if cost:
        words.insert(rng.randrange(len(words)), rng.choice(COST_WORDS))
        words.insert(rng.randrange(len(words)), rng.choice(COST_WORDS))
    return " ".join(words).capitalize() + "."


def build(root: Path) -> ProjectBuilder:
    """Ten transcripts; ``me`` codes the first seven: ``costs`` wherever the passage speaks
    of substitute costs (inflected and compounded), ``noise`` on a coin toss. The
    interviewer asks about the costs too: never learned from, never proposed."""
    rng = random.Random(7)
    builder = ProjectBuilder(root)
    builder.write("qcode.yaml", CONFIG)
    builder.write("codebooks/codes.yaml", CODEBOOK)
    plan: dict[str, list[tuple[bool, bool]]] = {}
    for t in range(TRANSCRIPTS):
        turns, flags = [], []
        for _ in range(PASSAGES):
            turns.append(f"I: {_sentence(rng, rng.random() < 0.3)}")
            cost, noise = rng.random() < 0.3, rng.random() < 0.15
            turns.append(f"Informant: {_sentence(rng, cost)} {_sentence(rng, False)}")
            flags.append((cost, noise))
        builder.write(f"transcripts/t{t}.md", "\n\n".join(turns) + "\n")
        plan[f"t{t}"] = flags
    (root / "codings").mkdir()
    project = Project.open(root)
    events = []
    for transcript in project.transcripts:
        if int(transcript.id[1:]) >= CODED:
            continue
        informant = [p for p in transcript.passages if p.speaker == "Informant"]
        for passage, (cost, noise) in zip(informant, plan[transcript.id], strict=True):
            for code, flag in (("costs", cost), ("noise", noise)):
                if flag:
                    events.append({"op": "add", "id": f"{transcript.id}-{passage.number}-{code}",
                                   "transcript": transcript.id, "start": passage.start,
                                   "end": passage.end, "code": code,
                                   "text": transcript.body[passage.start:passage.end],
                                   "at": "2026-01-01T00:00:00Z"})
    builder.append_log("me", *events)
    return builder


@pytest.fixture
def study(tmp_path: Path) -> ProjectBuilder:
    return build(tmp_path / "learn")


def by_code(result) -> dict:
    return {e.code: e for e in result.codes}


def test_a_word_pattern_is_learned_and_noise_is_not(study):
    result = learn(Project.open(study.root), evaluate=True, min_examples=10)
    codes = by_code(result)
    assert result.trainer == "me" and result.new == []
    costs, noise = codes["costs"], codes["noise"]
    assert costs.examples >= 20 and costs.folds == 5
    assert costs.learned is not None and costs.learned.f1 >= 0.8
    assert costs.average_precision >= 0.8
    assert costs.rules is not None  # the code has a rule: its figures on the same passages
    assert noise.threshold is None and "precision 0.7" in noise.reason
    assert noise.learned is None or (noise.learned.f1 or 0.0) < 0.5
    assert not (study.root / "codings" / "auto.suggestions.jsonl").exists()


def test_proposals_are_uncoded_non_interviewer_passages_with_probability_and_words(study):
    project = Project.open(study.root)
    result = learn(project)
    assert result.new and {p.code for p in result.new} == {"costs"}
    coded = {(line["transcript"], line["start"]) for line in study.log_lines("me")
             if line["code"] == "costs"}
    costs = by_code(result)["costs"]
    for proposal in result.new:
        assert proposal.speaker == "Informant" and proposal.source == "learned"
        assert (proposal.transcript, proposal.start) not in coded
        assert proposal.probability >= costs.threshold
        assert proposal.threshold == pytest.approx(costs.threshold, abs=1e-4)
        assert proposal.features and proposal.matches
    # the uncoded transcripts' cost passages are found
    hits = [p for p in result.new if int(p.transcript[1:]) >= CODED]
    assert sum("vikar" in p.text for p in hits) >= 0.7 * len(hits) > 0
    state = SuggestionLog(project.store, "auto").read()
    assert not state.problems.errors
    stored = list(state.suggestions.values())
    assert {s.source for s in stored} == {"learned"}
    assert all(s.probability is not None and s.features for s in stored)


def test_interviewer_turns_are_neither_learned_from_nor_proposed(study):
    project = Project.open(study.root)
    rows = passage_rows(project, project.transcripts)
    assert rows and all(r.speaker == "Informant" for r in rows)
    result = learn(project, threshold=0.0)  # everything above: still no interviewer turn
    assert result.new and all(p.speaker == "Informant" for p in result.new)


def test_grouped_folds_never_split_a_transcript(study):
    project = Project.open(study.root)
    rows = passage_rows(project, project.transcripts)
    groups = [r.transcript for r in rows]
    labels = [r.number % 3 == 0 for r in rows]
    folds = grouped_folds(groups, labels)
    assert len(folds) == 5
    tested: list[int] = []
    for train, test in folds:
        assert {groups[i] for i in train}.isdisjoint({groups[i] for i in test})
        tested += test
    assert sorted(tested) == list(range(len(rows)))
    # the code in only one transcript: nothing to hold out
    assert grouped_folds(groups, [g == "t0" for g in groups]) == []


def test_rerun_proposes_nothing_twice_and_a_rejection_is_remembered_and_learned(study):
    project = Project.open(study.root)
    first = learn(project)
    assert first.new
    again = learn(Project.open(study.root))
    assert again.new == [] and again.withdrawn == []
    assert sum(e.report.pending for e in again.codes) == len(first.new)
    log = SuggestionLog(project.store, "auto")
    target = next(s for s in log.read().suggestions.values()
                  if int(s.transcript[1:]) >= CODED)  # in a transcript `me` never coded
    log.append([reject_event(target.id, "me", now_iso())])
    before = by_code(again)["costs"].negatives
    third = learn(Project.open(study.root))
    assert by_code(third)["costs"].negatives == before + 1  # the rejection is a negative
    assert all((p.transcript, p.start) != (target.transcript, target.start) for p in third.new)
    assert third.withdrawn == []


def test_accepting_through_the_plain_review_makes_a_positive(study):
    learn(Project.open(study.root))
    before = by_code(learn(Project.open(study.root), evaluate=True))["costs"].examples
    out = io.StringIO()
    run_suggestions_plain(Project.open(study.root), "me", io.StringIO("a\nq\n"), out,
                          source="auto")
    after = by_code(learn(Project.open(study.root), evaluate=True))["costs"].examples
    assert after == before + 1


def test_rules_and_learned_suggestions_coexist_and_never_withdraw_each_other(study):
    rules = autocode(Project.open(study.root))
    learned = learn(Project.open(study.root))
    assert rules.new and learned.new
    state = SuggestionLog(Project.open(study.root).store, "auto").read()
    assert not state.problems.errors
    assert {s.source for s in state.suggestions.values()} == {"rules", "learned"}
    # the rule changes: rules withdraw their own pending suggestions, not the learned ones
    study.replace("codebooks/codes.yaml", 'match: "vikarutgift*"', 'match: "nowhere"')
    rerun = autocode(Project.open(study.root))
    assert rerun.withdrawn and {s.source for s in rerun.withdrawn} == {"rules"}
    # nothing reaches the threshold any more: learned withdraw their own, not the rules'
    study.replace("codebooks/codes.yaml", 'match: "nowhere"', 'match: "vikarutgift*"')
    autocode(Project.open(study.root))
    relearn = learn(Project.open(study.root), threshold=1.0)
    assert relearn.withdrawn and {s.source for s in relearn.withdrawn} == {"learned"}
    state = SuggestionLog(Project.open(study.root).store, "auto").read()
    pending = {s.source for s in state.suggestions.values() if s.status == "pending"}
    assert pending == {"rules"}


def test_choose_threshold_is_the_lowest_reaching_the_precision_with_enough_hits():
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    labels = [True, True, True, False, True, True, False, False]
    assert choose_threshold(probabilities, labels, 0.7, 3) == 0.3  # 5 of 7
    assert choose_threshold(probabilities, labels, 0.75, 3) == 0.4  # 5 of 6
    assert choose_threshold(probabilities, labels, 0.7, 6) is None
    # each negative standing for ten (a subsample): only the top three stay precise
    assert choose_threshold(probabilities, labels, 0.7, 3, weights=(1.0, 10.0)) == 0.7


def test_cli_json_shape_and_usage_errors(study, monkeypatch):
    from typer.testing import CliRunner

    from qcode.cli.app import app

    monkeypatch.chdir(study.root)
    runner = CliRunner()
    result = runner.invoke(app, ["autocode", "--learn", "--evaluate", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["learned_from"] == "me" and data["evaluate"] is True
    assert data["proposed"] == [] and data["min_precision"] == 0.7
    code = data["codes"][0]
    assert {"code", "examples", "negatives", "transcripts", "folds", "calibrated",
            "threshold", "average_precision", "learned", "rules", "no_proposals"} <= set(code)
    assert set(code["learned"]) >= {"precision", "recall", "f1"}
    assert data["macro"][0]["name"] == "MACRO"
    for args in (["--evaluate"], ["--from", "me"], ["--threshold", "0.5"],
                 ["--min-examples", "3"]):
        wrong = runner.invoke(app, ["autocode", *args])
        assert wrong.exit_code == 2 and "only go with --learn" in wrong.output
    wrong = runner.invoke(app, ["autocode", "--learn", "--threshold", "1.5"])
    assert wrong.exit_code == 2 and "not a probability" in wrong.output
    csv = runner.invoke(app, ["autocode", "--learn", "--dry-run", "--format", "csv"])
    assert csv.exit_code == 0 and csv.stdout.startswith("code,label,examples")
    assert not (study.root / "codings" / "auto.suggestions.jsonl").exists()


BLOCKED = """
import builtins, sys
real = builtins.__import__
def block(name, *args, **kwargs):
    if name == "sklearn" or name.startswith("sklearn."):
        raise ImportError("blocked for the test")
    return real(name, *args, **kwargs)
builtins.__import__ = block
from qcode.cli.app import main
sys.argv = ["qcode", *sys.argv[1:]]
main()
"""


def test_refuses_clearly_without_scikit_learn(study):
    done = subprocess.run([sys.executable, "-c", BLOCKED, "autocode", "--learn"],
                          cwd=study.root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'qcode[learn]'" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["autocode", "--help"]])
def test_help_does_not_import_scikit_learn(args):
    code = ("import sys\nfrom qcode.cli.app import app\ntry:\n"
            f"    app({args!r}, prog_name='qcode')\nexcept SystemExit:\n    pass\n"
            "print('sklearn' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
