"""``qcode.agreement``: published worked examples, hand-computed cases, laws, and
cross-checks against independent implementations (``krippendorff``, ``scikit-learn``,
``statsmodels``: test-only dependencies, skipped when absent)."""

from __future__ import annotations

import importlib.util
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.analysis.agreement import (
    UnitCounts,
    brennan_prediger,
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    gwet_ac1,
    is_missing,
    krippendorff_alpha,
    percent_agreement,
    scott_pi,
)

N = None


def _missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True


needs_krippendorff = pytest.mark.skipif(_missing("krippendorff"),
                                        reason="the krippendorff package is not installed")
needs_sklearn = pytest.mark.skipif(_missing("sklearn"), reason="scikit-learn is not installed")
needs_statsmodels = pytest.mark.skipif(_missing("statsmodels"),
                                       reason="statsmodels is not installed")

# -- Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. University of
# Pennsylvania, Annenberg School for Communication, Departmental Papers 43.
# Section C ("nominal data, any number of observers, missing data"): the reliability data
# matrix of 4 observers x 12 units; sections D-F reuse it for the other metrics.
# (Unit 12 has a single value, so it is not pairable and whose value it is does not
# matter; n.. = 40 pairable values.)
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],   # observer A
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],   # observer B
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],   # observer C
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],   # observer D
]


@pytest.mark.parametrize(("level", "expected"), [
    ("nominal", 0.743),   # section C
    ("ordinal", 0.815),   # section D
    ("interval", 0.849),  # section E
    ("ratio", 0.797),     # section F
])
def test_krippendorff_2011_four_observers_twelve_units(level, expected):
    result = krippendorff_alpha(KRIPPENDORFF_C, level)
    assert round(result.value, 3) == expected
    assert result.values == 40      # n.. in the paper: the pairable values
    assert result.units == 11       # unit 12 has one value only
    assert result.coders == 4
    assert result.measures == "disagreement" and result.level == level


def test_krippendorff_2011_binary_two_observers():
    # Section A: binary data, two observers, ten units, no missing data: alpha = 0.095.
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert round(krippendorff_alpha([a, b]).value, 3) == 0.095


def test_krippendorff_2011_nominal_two_observers():
    # Section B: nominal data, two observers, twelve units, no missing data: alpha = 0.692.
    a = "a a b b d c c c e d d a".split()
    b = "b a b b b c c c e d d d".split()
    assert round(krippendorff_alpha([a, b]).value, 3) == 0.692


# -- Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
# Psychological Bulletin 76(5), 378-382, Table 1: 30 patients, each diagnosed by 6
# psychiatrists into 5 categories (1 depression, 2 personality disorder, 3 schizophrenia,
# 4 neurosis, 5 other); kappa = .430 with P-bar = .556 and P-bar_e = .220. The ratings as
# distributed with the R package irr (data set `diagnoses`), one string per patient.
FLEISS_1971 = (
    "444444 222555 233335 555555 222444 113333 333355 113334 114444 555555 "
    "144444 124444 222333 144444 224445 333335 111455 111112 224444 133555 "
    "555555 244444 224555 114444 144445 222224 111155 224444 133333 555555"
).split()


def _fleiss_data() -> list[list[int]]:
    return [[int(patient[rater]) for patient in FLEISS_1971] for rater in range(6)]


def test_fleiss_1971_table_1():
    result = fleiss_kappa(_fleiss_data())
    assert round(result.value, 3) == 0.430
    assert round(result.observed, 3) == 0.556
    assert round(result.expected, 3) == 0.220
    assert (result.units, result.coders, result.categories) == (30, 6, 5)


def test_fleiss_1971_from_its_count_table():
    # The same data as Fleiss prints them: per patient, how many raters chose each category.
    table = [[patient.count(str(c)) for c in range(1, 6)] for patient in FLEISS_1971]
    counts = UnitCounts.from_table(table, categories=[1, 2, 3, 4, 5])
    assert counts.coders == 6
    assert round(fleiss_kappa(counts).value, 3) == 0.430
    # p_j, the share of each category, as printed under the table
    shares = counts.counts.sum(axis=0) / 180
    assert [round(float(s), 3) for s in shares] == [0.144, 0.144, 0.167, 0.306, 0.239]


def test_fleiss_kappa_wikipedia_example():
    # The worked example of the Wikipedia article "Fleiss' kappa" (10 subjects, 14 raters,
    # 5 categories): P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
             [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
             [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    result = fleiss_kappa(UnitCounts.from_table(table))
    assert round(result.value, 3) == 0.210
    assert round(result.observed, 3) == 0.378
    assert round(result.expected, 3) == 0.213


# -- Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
# Psychological Measurement 20(1), 37-46: the worked example of 200 items in 3 categories
# with p_o = .70, p_c = .41 and kappa = .49 (.492). Kappa depends only on the diagonal
# and the two marginal distributions (A: .60 .30 .10; B: .50 .30 .20), which these counts
# reproduce.
COHEN_1960 = [[88, 14, 18],
              [10, 40, 10],
              [2, 6, 12]]


def test_cohen_1960_worked_example():
    result = cohen_kappa_table(COHEN_1960)
    assert round(result.observed, 2) == 0.70
    assert round(result.expected, 2) == 0.41
    assert round(result.value, 3) == 0.492
    assert result.units == 200


def test_cohen_1960_from_the_coders_values():
    a, b = [], []
    for i, row in enumerate(COHEN_1960):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    assert round(cohen_kappa(a, b).value, 3) == 0.492


def test_cohen_kappa_wikipedia_example():
    # Wikipedia "Cohen's kappa": 50 grant proposals, yes/yes 20, yes/no 5, no/yes 10,
    # no/no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    result = cohen_kappa_table([[20, 5], [10, 15]])
    assert result.observed == pytest.approx(0.7)
    assert result.expected == pytest.approx(0.5)
    assert result.value == pytest.approx(0.4)


def test_weighted_kappa_hand_computed():
    # a = 1 2 3, b = 1 3 3. Unweighted: p_o = 2/3, p_e = 1/3 -> 0.5.
    # Linear weights |i-j|/2: D_o = 1/6, D_e = 1/2 -> 2/3.
    # Quadratic ((i-j)/2)^2: D_o = 1/12, D_e = 5/12 -> 0.8.
    a, b = [1, 2, 3], [1, 3, 3]
    assert cohen_kappa(a, b).value == pytest.approx(0.5)
    assert cohen_kappa(a, b, "linear").value == pytest.approx(2 / 3)
    assert cohen_kappa(a, b, "quadratic").value == pytest.approx(0.8)
    assert cohen_kappa(a, b, "linear").statistic == "cohen_kappa_linear"


@needs_sklearn
def test_weighted_kappa_uses_categories_nobody_chose():
    # With category 3 unused but named, 2 and 4 are two steps apart, not one.
    a, b = [1, 2, 4, 4, 1], [2, 2, 4, 1, 1]
    narrow = cohen_kappa(a, b, "linear")
    wide = cohen_kappa(a, b, "linear", categories=[1, 2, 3, 4])
    assert narrow.value != pytest.approx(wide.value)
    assert narrow.categories == 3 and wide.categories == 4
    from sklearn import metrics

    assert wide.value == pytest.approx(
        metrics.cohen_kappa_score(a, b, weights="linear", labels=[1, 2, 3, 4]))


# -- Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed., and its R package
# irrCAC: on Krippendorff's data above (irrCAC's `cac.raw4raters`), p_a = 0.8182,
# AC1 = 0.7754 with p_e = 0.1903, Brennan-Prediger = 0.7727 (p_e = 1/5).

def test_gwet_ac1_on_krippendorff_data():
    result = gwet_ac1(KRIPPENDORFF_C)
    assert round(result.observed, 4) == 0.8182
    assert round(result.expected, 4) == 0.1903
    assert round(result.value, 4) == 0.7754
    assert result.units == 11


def test_brennan_prediger_on_krippendorff_data():
    result = brennan_prediger(KRIPPENDORFF_C)
    assert result.expected == pytest.approx(0.2)
    assert round(result.value, 4) == 0.7727
    # naming an unused sixth category changes q, and with it chance agreement
    assert brennan_prediger(KRIPPENDORFF_C, categories=[1, 2, 3, 4, 5, 6]).expected == (
        pytest.approx(1 / 6))


def test_percent_agreement_on_krippendorff_data_by_hand():
    # Per pairable unit, the share of agreeing pairs: units 1, 3, 4, 5, 7, 9, 10, 11 agree
    # fully (1), units 2 and 8 have 3 of 6 pairs agreeing (0.5), unit 6 none: 9 / 11.
    assert percent_agreement(KRIPPENDORFF_C).value == pytest.approx(9 / 11)


def test_percent_agreement_of_two_coders_is_the_share_of_agreeing_units():
    a = [1, 1, 2, 2, None, 3]
    b = [1, 2, 2, 2, 1, None]
    result = percent_agreement([a, b])
    assert result.value == pytest.approx(3 / 4)
    assert result.units == 4


def test_scott_pi_hand_computed():
    # Two coders, 4 units: (x,x) (x,y) (y,y) (y,y). p_o = 3/4; pooled shares x 3/8, y 5/8:
    # p_e = 9/64 + 25/64 = 34/64 -> pi = (48/64 - 34/64) / (30/64) = 14/30.
    result = scott_pi([["x", "x", "y", "y"], ["x", "y", "y", "y"]])
    assert result.value == pytest.approx(14 / 30)
    assert result.expected == pytest.approx(34 / 64)


# -- degenerate data: a value of None with a reason, never an exception -------------------

ALL_STATISTICS = [
    ("percent_agreement", percent_agreement),
    ("scott_pi", scott_pi),
    ("fleiss_kappa", fleiss_kappa),
    ("krippendorff_alpha", krippendorff_alpha),
    ("gwet_ac1", gwet_ac1),
    ("brennan_prediger", brennan_prediger),
]


@pytest.mark.parametrize(("name", "function"), ALL_STATISTICS)
@pytest.mark.parametrize("data", [
    [[None, None, None], [None, None, None]],     # all missing
    [[], []],                                     # no units
    [[1, None, None], [None, 2, None]],           # no unit with two values
])
def test_no_pairable_units_gives_a_reason(name, function, data):
    result = function(data)
    assert result.value is None
    assert "no unit" in result.reason
    assert math.isnan(float(result))


@pytest.mark.parametrize(("name", "function"), [
    ("scott_pi", scott_pi), ("fleiss_kappa", fleiss_kappa),
    ("krippendorff_alpha", krippendorff_alpha), ("gwet_ac1", gwet_ac1),
    ("brennan_prediger", brennan_prediger)])
def test_no_variation_gives_a_reason(name, function):
    result = function([["yes"] * 5, ["yes"] * 5])
    assert result.value is None
    assert "one category" in result.reason or "no variation" in result.reason
    assert percent_agreement([["yes"] * 5, ["yes"] * 5]).value == 1.0


def test_no_variation_cohen():
    result = cohen_kappa([1, 1, 1], [1, 1, 1])
    assert result.value is None and "no variation" in result.reason
    assert result.observed == 1.0
    assert cohen_kappa([None], [1]).reason == "no unit was coded by both coders"


def test_single_unit():
    # One unit the coders agree on: chance agreement is total, so kappa is undefined.
    assert cohen_kappa(["a"], ["a"]).value is None
    # One unit they disagree on: observed and chance agreement are both 0 -> 0.
    assert cohen_kappa(["a"], ["b"]).value == 0.0
    # Alpha on one unit with two different values is defined (and 0).
    assert krippendorff_alpha([["a"], ["b"]]).value == pytest.approx(0.0)


@pytest.mark.parametrize("level", ["interval", "ratio", "ordinal"])
def test_no_variation_alpha_every_level(level):
    assert krippendorff_alpha([[2, 2, None], [2, 2, 2]], level).value is None


def test_fleiss_leaves_out_incomplete_units_and_says_so():
    result = fleiss_kappa([[1, 2, 1, None], [1, 2, 2, 1], [1, 2, 1, 1]])
    assert result.units == 3
    assert "1 unit(s) not coded by every coder left out" in result.notes[0]
    assert result.value == pytest.approx(fleiss_kappa([[1, 2, 1], [1, 2, 2], [1, 2, 1]]).value)


def test_cohen_leaves_out_units_with_a_missing_value():
    result = cohen_kappa([1, 2, None, 1], [1, 2, 2, float("nan")])
    assert result.units == 2
    assert result.notes == ("2 unit(s) without a value from both coders left out",)


# -- input --------------------------------------------------------------------------------

def test_missing_values_in_every_spelling():
    import numpy as np
    import pandas as pd

    assert all(is_missing(v) for v in (None, float("nan"), np.nan, pd.NA))
    assert not any(is_missing(v) for v in (0, "", "NA", False))
    frame = pd.DataFrame([[1, 2, np.nan], [1, 2, 2]])
    assert krippendorff_alpha(frame).values == 4


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="one value per unit"):
        krippendorff_alpha([[1, 2, 3], [1, 2]])
    with pytest.raises(ValueError, match="interval data must be numbers"):
        krippendorff_alpha([["a", "b"], ["a", "a"]], "interval")
    with pytest.raises(ValueError, match="ratio data cannot be negative"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([[1, 2], [1, 2]], "cardinal")
    with pytest.raises(ValueError, match="Scott's pi is for two coders"):
        scott_pi([[1, 2], [1, 2], [1, 2]])
    with pytest.raises(ValueError, match="weights must be"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")
    with pytest.raises(ValueError, match="not among the categories"):
        cohen_kappa([1, 2], [1, 3], categories=[1, 2])
    with pytest.raises(ValueError, match="must be square"):
        cohen_kappa_table([[1, 2, 3], [4, 5, 6]])


def test_ordinal_labels_in_a_named_order():
    # Labels that sort wrongly alphabetically: the order given is the one used.
    order = ["low", "medium", "high"]
    a = ["low", "medium", "high", "high"]
    b = ["low", "high", "high", "medium"]
    as_numbers = krippendorff_alpha([[0, 1, 2, 2], [0, 2, 2, 1]], "ordinal").value
    assert krippendorff_alpha([a, b], "ordinal", categories=order).value == pytest.approx(
        as_numbers)


def test_result_to_dict_and_float():
    result = krippendorff_alpha(KRIPPENDORFF_C, "interval")
    data = result.to_dict()
    assert data["statistic"] == "krippendorff_alpha" and data["level"] == "interval"
    assert data["value"] == pytest.approx(float(result))
    assert data["reason"] is None


# -- laws -----------------------------------------------------------------------------------

def reliability_data(labels=st.sampled_from([0, 1, 2, 3]), min_coders=2, max_coders=4,
                     missing=True):
    """Random reliability matrices: coders x units, some values missing."""
    value = st.one_of(st.none(), labels) if missing else labels
    return st.integers(min_coders, max_coders).flatmap(
        lambda m: st.integers(1, 15).flatmap(
            lambda n: st.lists(st.lists(value, min_size=n, max_size=n),
                               min_size=m, max_size=m)))


def _same(x, y) -> bool:
    if x.value is None or y.value is None:
        return x.value is None and y.value is None
    return math.isclose(x.value, y.value, abs_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(reliability_data(missing=True), st.sampled_from(["nominal", "ordinal", "interval",
                                                         "ratio"]))
def test_alpha_is_one_for_identical_coders(data, level):
    # Every coder copies the first coder's value wherever they coded the unit.
    first = data[0]
    copies = [[first[u] if v is not None else None for u, v in enumerate(row)]
              for row in data]
    copies[0] = list(first)
    copies.append(list(first))
    result = krippendorff_alpha(copies, level)
    if result.value is not None:
        assert result.value == pytest.approx(1.0)
    else:  # undefined only when nothing is pairable or nothing varies
        assert result.reason


@settings(max_examples=60, deadline=None)
@given(reliability_data(min_coders=2, max_coders=2), st.sampled_from([None, "linear",
                                                                       "quadratic"]))
def test_cohen_kappa_is_symmetric(data, weights):
    a, b = data
    assert _same(cohen_kappa(a, b, weights), cohen_kappa(b, a, weights))


@settings(max_examples=60, deadline=None)
@given(reliability_data(), st.randoms(use_true_random=False))
def test_permuting_units_or_coders_changes_nothing(data, rng):
    units = list(range(len(data[0])))
    rng.shuffle(units)
    shuffled = [[row[u] for u in units] for row in data]
    reordered = list(reversed(data))
    for function in (percent_agreement, fleiss_kappa, krippendorff_alpha, gwet_ac1,
                     brennan_prediger):
        assert _same(function(data), function(shuffled))
        assert _same(function(data), function(reordered))
    if len(data) == 2:
        assert _same(cohen_kappa(*data), cohen_kappa(*shuffled))
        assert _same(scott_pi(data), scott_pi(shuffled))


@settings(max_examples=60, deadline=None)
@given(reliability_data(min_coders=2, max_coders=2, missing=False))
def test_two_coders_fleiss_is_scott_and_alpha_corrects_pi_for_sample_size(data):
    # Fleiss (1971) generalises Scott's pi; and for two coders and complete nominal data
    # alpha = 1 - (2n - 1) / (2n) * (1 - pi) (Krippendorff 2011: alpha corrects pi's
    # expected disagreement for the sample size).
    pi, fleiss = scott_pi(data), fleiss_kappa(data)
    assert _same(pi, fleiss)
    if pi.value is not None:
        n = len(data[0])
        alpha = krippendorff_alpha(data)
        assert alpha.value == pytest.approx(1 - (2 * n - 1) / (2 * n) * (1 - pi.value))


@settings(max_examples=40, deadline=None)
@given(reliability_data(min_coders=2, max_coders=2, labels=st.sampled_from([0, 1])))
def test_two_categories_weights_change_nothing(data):
    a, b = data
    cats = [0, 1]
    plain = cohen_kappa(a, b, categories=cats)
    assert _same(plain, cohen_kappa(a, b, "linear", categories=cats))
    assert _same(plain, cohen_kappa(a, b, "quadratic", categories=cats))


@settings(max_examples=40, deadline=None)
@given(reliability_data(), st.integers(1, 4))
def test_weights_stand_for_repeated_units(data, times):
    # A count table whose rows carry weights equals the data with those units repeated.
    counts = UnitCounts.from_data(data, categories=[0, 1, 2, 3])
    weighted = UnitCounts(counts.categories, counts.counts, counts.weights * times,
                          counts.coders)
    repeated = [row * times for row in data]
    for function in (percent_agreement, fleiss_kappa, gwet_ac1, brennan_prediger):
        assert _same(function(weighted), function(UnitCounts.from_data(
            repeated, categories=[0, 1, 2, 3])))
    assert _same(krippendorff_alpha(weighted), krippendorff_alpha(repeated))


# -- cross-checks with independent implementations ------------------------------------------

@needs_krippendorff
@settings(max_examples=80, deadline=None)
@given(reliability_data(labels=st.sampled_from([1, 2, 3, 5, 8]), max_coders=5),
       st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_matches_the_krippendorff_package(data, level):
    import krippendorff
    import numpy as np

    ours = krippendorff_alpha(data, level)
    matrix = np.array([[np.nan if v is None else v for v in row] for row in data], float)
    if ours.value is None:
        return  # the package raises for these (no variation, nothing pairable)
    theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert ours.value == pytest.approx(theirs, abs=1e-9)


@needs_krippendorff
def test_alpha_on_a_larger_random_matrix_matches_the_krippendorff_package():
    import krippendorff
    import numpy as np

    rng = random.Random(7)
    data = [[rng.choice([None, 1, 2, 3, 4, 5, 5, 5]) for _ in range(300)] for _ in range(6)]
    matrix = np.array([[np.nan if v is None else v for v in row] for row in data], float)
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert krippendorff_alpha(data, level).value == pytest.approx(
            krippendorff.alpha(reliability_data=matrix, level_of_measurement=level), abs=1e-9)


@needs_sklearn
@settings(max_examples=80, deadline=None)
@given(reliability_data(min_coders=2, max_coders=2, missing=False),
       st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_matches_scikit_learn(data, weights):
    import warnings

    from sklearn import metrics

    a, b = data
    ours = cohen_kappa(a, b, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = metrics.cohen_kappa_score(a, b, weights=weights)
    if ours.value is None:
        assert math.isnan(theirs)
    else:
        assert ours.value == pytest.approx(theirs, abs=1e-9)


@needs_statsmodels
@settings(max_examples=80, deadline=None)
@given(reliability_data(min_coders=2, max_coders=6, missing=False))
def test_fleiss_kappa_matches_statsmodels(data):
    import warnings

    import numpy as np
    from statsmodels.stats import inter_rater

    ours = fleiss_kappa(data)
    table, _ = inter_rater.aggregate_raters(np.array(data).T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = inter_rater.fleiss_kappa(table)
    if ours.value is None:
        assert not np.isfinite(theirs)
    else:
        assert ours.value == pytest.approx(theirs, abs=1e-9)


@needs_statsmodels
def test_fleiss_1971_matches_statsmodels():
    import numpy as np
    from statsmodels.stats import inter_rater

    table, _ = inter_rater.aggregate_raters(np.array(_fleiss_data()).T)
    assert fleiss_kappa(_fleiss_data()).value == pytest.approx(inter_rater.fleiss_kappa(table))
