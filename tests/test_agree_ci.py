"""``qcode agree`` for a reviewer: bootstrap intervals (``--ci``), speakers left out of
the units (``--exclude-speaker``, qcode.yaml ``interviewer:``), ``--flag``, the coverage
line, and one definition of a disagreement shared with ``qcode adjudicate``.

The fixture's passages (tests/conftest.py), with the interviewer's turns marked *:

    voss-principal       1 I*  2 Rektor       3 I*  4 Rektor      body 207 characters
    lier-teacher         1 I*  2 Lærer 1      3 Lærer 2           body 149
    strinda-coordinator  1 Koordinator  2 I*  3 Koordinator       body 150

10 passages, 4 of them I turns; the I turns hold 21 + 39 + 23 + 17 = 100 characters of
the 506. The ``coded`` fixture codes no I turn, so leaving them out changes only the
"neither" counts (and the statistics built on them).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from qcode import Project
from qcode.analysis import bootstrap
from qcode.analysis.reliability import (
    agreement_report,
    disagreement_counts,
    disagreements,
    resolve_agreement_scope,
    statistics_from_patterns,
)
from qcode.coding.adjudication import Adjudication

STATISTICS = ("agreement_pct", "cohen_kappa", "krippendorff_alpha")


@pytest.fixture
def coded_cli(coded, cli):
    return cli


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _row(data, code):
    return next(r for r in [*data["codes"], data["overall"]] if r["code"] == code)


# -- speakers left out of the units ---------------------------------------------------------

def test_exclude_speaker_drops_the_hand_counted_passages(coded_cli):
    every = _json(coded_cli("agree", "--coders", "a,b", "-f", "json"))
    fewer = _json(coded_cli("agree", "--coders", "a,b", "--exclude-speaker", "I",
                            "-f", "json"))
    assert (every["passages"], every["dropped_passages"], every["excluded_speakers"]) == (
        10, 0, [])
    assert (fewer["passages"], fewer["dropped_passages"], fewer["excluded_speakers"]) == (
        6, 4, ["I"])
    # ownership: a coded voss 2 and 4, b never; only "neither" loses the 4 I turns
    assert [_row(every, "ownership")[k] for k in ("both", "only_a", "only_b", "neither")] \
        == [0, 2, 0, 8]
    assert [_row(fewer, "ownership")[k] for k in ("both", "only_a", "only_b", "neither")] \
        == [0, 2, 0, 4]
    assert _row(fewer, "ownership")["agreement_pct"] == pytest.approx(66.7)
    assert _row(fewer, "ALL")["passages"] == 5 * 6


def test_exclude_speaker_on_characters(coded_cli):
    data = _json(coded_cli("agree", "--coders", "a,b", "-u", "character",
                           "--exclude-speaker", "i", "-f", "json"))   # any case, as rules
    assert (data["characters"], data["dropped_characters"]) == (506 - 100, 100)
    for row in data["codes"]:
        assert row["both"] + row["only_a"] + row["only_b"] + row["neither"] == 406


def test_a_segment_reaching_into_an_excluded_turn_counts_only_outside_it(project_dir):
    project = Project.open(project_dir.root)
    # one segment over all of strinda: passages 1-3, the middle one an I turn (69-108)
    project.tag("strinda-coordinator", (0, 149), ["ownership"], "a")
    project.tag("strinda-coordinator", 1, ["ownership"], "b")
    report = agreement_report(project, ["a", "b"], "character", exclude_speakers=["I"])
    row = report.rows[0]
    assert report.units == 150 - 39 and report.dropped == 39
    # a alone covers passage 3's 39 characters and the gaps between turns (67-69, 108-110)
    assert row.patterns == {3: 67, 1: 2 + 2 + 39, 0: 1}


def test_wildcards_and_repeats(coded_cli):
    data = _json(coded_cli("agree", "--coders", "a,b", "--exclude-speaker", "lærer*",
                           "--exclude-speaker", "I", "-f", "json"))
    assert data["passages"] == 10 - 4 - 2 and data["excluded_speakers"] == ["lærer*", "I"]


def test_declared_interviewers_are_left_out_by_default(coded, project_dir, cli):
    project_dir.write("qcode.yaml", project_dir.read("qcode.yaml") + "interviewer: [I]\n")
    default = _json(cli("agree", "--coders", "a,b", "-f", "json"))
    assert (default["passages"], default["dropped_passages"]) == (6, 4)
    kept = _json(cli("agree", "--coders", "a,b", "--include-interviewer", "-f", "json"))
    assert (kept["passages"], kept["dropped_passages"], kept["excluded_speakers"]) == (
        10, 0, [])
    table = cli("agree", "--coders", "a,b", "-f", "table")
    assert ("units: 6 passages; left out: 4 passages of the turns of I "
            "(--include-interviewer / --exclude-speaker)") in table.stdout


# -- bootstrap ------------------------------------------------------------------------------

def test_intervals_reproducible_with_a_seed_and_around_the_estimate(coded_cli):
    args = ("agree", "--coders", "a,b", "--ci", "95", "-f", "json")
    first = _json(coded_cli(*args))
    assert first == _json(coded_cli(*args, "--seed", "2026"))   # the default seed
    other = _json(coded_cli(*args, "--seed", "7", "--resamples", "500"))
    assert other["bootstrap"] == {"level": 0.95, "resamples": 500, "seed": 7,
                                  "method": "percentile", "resampled": "transcripts",
                                  "transcripts": 3, "min_used": 0.5}
    row = _row(first, "ALL")
    assert row["resamples_used"] == 2000
    for name in STATISTICS:
        assert row[f"{name}_ci_low"] <= row[name] <= row[f"{name}_ci_high"]
    assert other["overall"] != first["overall"]


def test_intervals_on_the_library(coded):
    report = agreement_report(coded, ["a", "b"])
    bootstrap.add_intervals(report, 0.9, 300, seed=1)
    again = agreement_report(coded, ["a", "b"])
    bootstrap.add_intervals(again, 0.9, 300, seed=1)
    assert report.intervals == again.intervals
    # lead-strong occurs in voss only: a resample without voss has no variation, so
    # alpha is skipped there; (2/3)^3 of resamples miss voss (about 89 of 300)
    used = report.intervals["lead-strong"]["krippendorff_alpha"]["used"]
    assert 300 - 130 < used < 300 - 50
    for row in report.rows:
        for name, result in (("cohen_kappa", row.kappa), ("krippendorff_alpha", row.alpha)):
            interval = report.intervals[row.code][name]
            if interval["ci_low"] is not None:
                assert interval["ci_low"] - 1e-9 <= round(result.value, 3)
                assert round(result.value, 3) <= interval["ci_high"] + 1e-9


def test_too_few_defined_resamples_give_no_interval():
    values = np.array([0.5, np.nan, np.nan, 0.7])
    assert bootstrap.percentile_interval(values, 0.95) == {
        "ci_low": 0.505, "ci_high": 0.695, "used": 2}
    assert bootstrap.percentile_interval(np.array([0.5, np.nan, np.nan]), 0.95) == {
        "ci_low": None, "ci_high": None, "used": 1}


def test_resample_weights_draw_as_many_transcripts_as_there_are():
    weights = bootstrap.resample_weights(5, 400, seed=3)
    assert weights.shape == (400, 5) and (weights.sum(axis=1) == 5).all()
    assert (weights == bootstrap.resample_weights(5, 400, seed=3)).all()


@settings(max_examples=150, deadline=None)
@given(coders=st.sampled_from([2, 3]), data=st.data())
def test_vectorised_statistics_equal_qcode_agreement(coders, data):
    """The law: one resample's statistics equal those `qcode agree` computes on the same
    bitmask counts (statistics_from_patterns, through qcode.agreement)."""
    counts = data.draw(st.lists(st.integers(0, 6), min_size=1 << coders,
                                max_size=1 << coders))
    fast = bootstrap.statistics(np.array([counts]), coders)
    exact = statistics_from_patterns("x", dict(enumerate(counts)), coders)
    for key, result, scale in (("agreement_pct", exact.percent, 100),
                               ("kappa", exact.kappa, 1),
                               ("krippendorff_alpha", exact.alpha, 1)):
        if result.value is None:
            assert np.isnan(fast[key][0]), key
        else:
            assert fast[key][0] == pytest.approx(scale * result.value, abs=1e-9), key


@pytest.mark.skipif(importlib.util.find_spec("krippendorff") is None,
                    reason="the krippendorff package is not installed")
def test_alpha_of_a_resample_equals_the_krippendorff_package(coded):
    import krippendorff

    report = agreement_report(coded, ["a", "b"])
    transcripts = [t.id for t in report.scope.transcripts]
    weights = bootstrap.resample_weights(len(transcripts), 1, seed=11)[0]
    assert sorted(weights) != [1, 1, 1]   # a real resample: one transcript twice
    matrix = bootstrap.pattern_matrix(report.per_transcript["ALL"], transcripts, 2)
    ours = bootstrap.statistics(weights @ matrix, 2)["krippendorff_alpha"][0]
    # the same units spelled out, one column per unit, a transcript drawn twice twice
    rows: list[list[int]] = [[], []]
    for count, per_mask in zip(weights, matrix, strict=True):
        for mask, units in enumerate(per_mask):
            for _ in range(int(count * units)):
                rows[0].append(mask & 1)
                rows[1].append(mask >> 1 & 1)
    theirs = krippendorff.alpha(reliability_data=np.array(rows, dtype=float),
                                level_of_measurement="nominal")
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_ci_errors_are_one_line(coded_cli):
    bad = coded_cli("agree", "--coders", "a,b", "--ci", "150")
    assert bad.exit_code == 2 and "between 0 and 100" in bad.stderr
    assert "Traceback" not in bad.output
    mixed = coded_cli("agree", "--coders", "a,b", "--disagreements", "--ci", "95")
    assert mixed.exit_code == 2 and "--ci and --flag go with the per-code report" in (
        mixed.stderr)


# -- --flag, formats, coverage ----------------------------------------------------------------

def test_flag_marks_codes_below_and_says_so_last(coded_cli):
    table = coded_cli("agree", "--coders", "a,b", "--flag", "0.8", "-f", "table")
    last = table.stdout.strip().splitlines()[-1]
    # alpha on 10 passages: lead-strong 1.000; lead-weak, ownership, outcomes, personal below
    assert last == ("4 codes below 0.80 (Krippendorff's alpha): lead-weak, ownership, "
                    "outcomes, personal")
    data = _json(coded_cli("agree", "--coders", "a,b", "--flag", "0.8", "-f", "json"))
    assert data["flag"] == {"statistic": "krippendorff_alpha", "below": 0.8,
                            "codes": ["lead-weak", "ownership", "outcomes", "personal"]}
    assert [r["flagged"] for r in data["codes"]] == [False, True, True, True, True]
    none = coded_cli("agree", "--coders", "a,b", "--flag", "0.1", "--codes", "lead-strong")
    assert "0 codes below 0.10 (Krippendorff's alpha)" in none.stderr


def test_csv_and_markdown_carry_the_new_fields(coded_cli):
    csv = coded_cli("agree", "--coders", "a,b", "--ci", "95", "--flag", "0.8", "-f", "csv")
    header = csv.stdout.splitlines()[0].split(",")
    assert header[-8:] == ["agreement_pct_ci_low", "agreement_pct_ci_high",
                           "cohen_kappa_ci_low", "cohen_kappa_ci_high",
                           "krippendorff_alpha_ci_low", "krippendorff_alpha_ci_high",
                           "resamples_used", "flagged"]
    assert "units: 10 passages" in csv.stderr
    assert "4 codes below 0.80" in csv.stderr
    md = coded_cli("agree", "--coders", "a,b", "--ci", "95", "-f", "md")
    assert "krippendorff_alpha_ci_low" in md.stdout
    assert "- ci: 95% percentile intervals from 2000 bootstrap resamples" in md.stdout
    assert "- double-coded: 3 of 3 transcripts, 3 of 3 schools; not double-coded: none" in (
        md.stdout)


def test_coverage_names_the_cases_not_double_coded(coded, cli):
    Project.open(coded.root).tag("voss-principal", 2, ["ownership"], "c")
    data = _json(cli("agree", "--coders", "a,c", "-f", "json"))
    assert data["coverage"] == {"transcripts": 1, "of_transcripts": 3, "attribute": "school",
                                "values": 1, "of_values": 3,
                                "not_covered": ["Lier", "Strinda"]}
    csv = cli("agree", "--coders", "a,c", "-f", "csv")   # the notes go to stderr
    assert ("double-coded: 1 of 3 transcripts, 1 of 3 schools; not double-coded: Lier, "
            "Strinda") in csv.stderr


# -- one definition of a disagreement -------------------------------------------------------

def test_agree_and_adjudicate_count_the_same_disagreements(coded, coded_cli):
    """6 presence disagreements are listed on passages; the 7th (lier 2, personal: a the
    passage, b one sentence) is one of extent, which adjudicate also asks about."""
    scope = resolve_agreement_scope(coded, ["a", "b"])
    assert disagreement_counts(scope) == {"presence": 6, "extent": 1, "excluded": 0}
    kinds = [i.kind for i in Adjudication(coded, "a", "b").disagreements()]
    assert (kinds.count("presence"), kinds.count("extent")) == (6, 1)
    assert len(disagreements(coded, ["a", "b"])) == 6
    assert len(disagreements(coded, ["a", "b"], "character")) == 7
    data = _json(coded_cli("agree", "--coders", "a,b", "--disagreements", "-f", "json"))
    assert data["counts"] == {"presence": 6, "extent": 1, "excluded": 0}
    assert set(data["kinds"]) == {"presence", "extent"}
    table = coded_cli("agree", "--coders", "a,b", "--disagreements", "-f", "table")
    assert ("`qcode adjudicate` asks about each): 7 = 6 presence + 1 extent; extent ones "
            "are listed with --unit character") in table.stdout
    adjudicated = coded_cli("adjudicate", "a", "b", "--plain", input="q\n")
    assert ("as `qcode agree --disagreements` counts them: 6 presence (one coded the "
            "passage with the code, the other did not) + 1 extent") in adjudicated.stderr


def test_disagreements_on_left_out_turns_are_counted_not_listed(coded, coded_cli):
    Project.open(coded.root).tag("voss-principal", 1, ["ownership"], "b")
    data = _json(coded_cli("agree", "--coders", "a,b", "--disagreements",
                           "--exclude-speaker", "I", "-f", "json"))
    assert data["counts"] == {"presence": 6, "extent": 1, "excluded": 1}
    assert all(r["speaker"] != "I" for r in data["disagreements"])
    assert len(data["disagreements"]) == 6


# -- the bundled study ----------------------------------------------------------------------

def test_bundled_study_intervals_and_interviewer_turns():
    """The reviewer's questions on the bundled study: interviewer turns (193 of 411
    passages) are left out by default, and the intervals come in about a second."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "qcode", "--project", str(REPO), "agree",
                             "--coders", "coder-a,coder-b", "--ci", "95", "--flag", "0.8",
                             "--format", "json"], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["passages"], data["dropped_passages"]) == (218, 193)
    assert data["coverage"]["transcripts"] == 16 and data["coverage"]["of_values"] == 8
    overall = data["overall"]
    assert overall["cohen_kappa"] == 0.926
    assert overall["cohen_kappa_ci_low"] < 0.926 < overall["cohen_kappa_ci_high"]
    escorts = _row(data, "mobility-escorts")
    assert escorts["krippendorff_alpha_ci_high"] - escorts["krippendorff_alpha_ci_low"] > 0.3
    assert "mobility-escorts" in data["flag"]["codes"]
    assert elapsed < 20   # measured about 1.3 s with the interpreter's start
