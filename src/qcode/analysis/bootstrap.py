"""Bootstrap confidence intervals for ``qcode agree``, resampling transcripts.

Transcripts, not units, are resampled: passages of one interview are not independent
(one informant, one interviewer, one coding session), so the interview is the sampling
unit. Each resample draws as many transcripts as were counted, with replacement; a
transcript drawn twice counts its units twice. Every statistic of every code is computed
again on the resampled units, and the interval is the percentile interval (the
``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled values).

A statistic undefined on a resample (no variation: nobody, or everybody, used the code
in the transcripts drawn) is skipped for that resample; ``used`` says on how many it was
defined, and with fewer than half of the resamples the interval is not given (None):
it would describe only the resamples that happen to contain the code.

The data are binary and complete (every coder has a 1/0 value for every unit), so each
statistic is a function of how many units each coder bitmask has; a resample is a
weighted sum of the transcripts' bitmask counts, and all resamples are computed at once
as arrays. ``statistics_from_patterns`` (``qcode.analysis.reliability``) computes the
same numbers one by one through ``qcode.agreement``; the tests hold the two equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qcode import progress
from qcode.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from collections import Counter

    from qcode.analysis.reliability import AgreementReport

DEFAULT_SEED = 2026
DEFAULT_RESAMPLES = 2000
MIN_USED = 0.5  # the share of resamples a statistic must be defined on to get an interval
_TINY = 1e-15   # as qcode.agreement: chance agreement this close to total is "total"


def pattern_matrix(per_transcript: dict[str, Counter], transcripts: list[str],
                   coders: int) -> np.ndarray:
    """Transcripts × coder bitmasks: how many units of each transcript have each mask."""
    out = np.zeros((len(transcripts), 1 << coders))
    for row, tid in enumerate(transcripts):
        for mask, n in per_transcript.get(tid, {}).items():
            out[row, mask] = n
    return out


def statistics(counts: np.ndarray, coders: int) -> dict[str, np.ndarray]:
    """Percent agreement (0-1), Cohen's (two coders) or Fleiss' kappa, and Krippendorff's
    alpha (nominal) for each row of ``counts`` (rows × bitmasks); NaN where undefined."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    ones = np.array([bin(m).count("1") for m in range(1 << coders)], dtype=float)
    zeros = coders - ones
    units = counts.sum(axis=1)
    pairs = coders * (coders - 1) / 2
    agreeing = (ones * (ones - 1) / 2 + zeros * (zeros - 1) / 2) / pairs
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(units > 0, counts @ agreeing / units, np.nan)
        # Krippendorff: n values, n1 of them 1; D_o and D_e on the coincidences
        values = units * coders
        n1 = counts @ ones
        n0 = values - n1
        mixed = counts @ (ones * zeros) * 2 / (coders - 1)    # o_01 + o_10
        expected_dis = 2 * n0 * n1 / (values * (values - 1))
        alpha = np.where((values >= 2) & (expected_dis > _TINY),
                         1 - (mixed / values) / expected_dis, np.nan)
        if coders == 2:
            a1 = (counts[:, 1] + counts[:, 3]) / units
            b1 = (counts[:, 2] + counts[:, 3]) / units
            chance = a1 * b1 + (1 - a1) * (1 - b1)
            kappa = np.where((units > 0) & (1 - chance > _TINY),
                             (observed - chance) / (1 - chance), np.nan)
        else:
            share = n1 / values
            chance = share ** 2 + (1 - share) ** 2
            kappa = np.where((units > 0) & (chance < 1 - _TINY),
                             (observed - chance) / (1 - chance), np.nan)
    return {"agreement_pct": 100 * observed, "kappa": kappa, "krippendorff_alpha": alpha}


def resample_weights(transcripts: int, resamples: int, seed: int) -> np.ndarray:
    """Resamples × transcripts: how often each transcript is drawn in each resample."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, transcripts, size=(resamples, transcripts))
    weights = np.zeros((resamples, transcripts))
    np.add.at(weights, (np.repeat(np.arange(resamples), transcripts), drawn.ravel()), 1)
    return weights


def percentile_interval(values: np.ndarray, level: float, digits: int = 3
                        ) -> dict[str, Any]:
    """The percentile interval of the defined values; None ends when too few are."""
    defined = values[~np.isnan(values)]
    used = int(defined.size)
    if used == 0 or used < MIN_USED * values.size:
        return {"ci_low": None, "ci_high": None, "used": used}
    low, high = np.quantile(defined, [(1 - level) / 2, (1 + level) / 2])
    # + 0.0: a rounded -0.0 is printed as 0.000
    return {"ci_low": round(float(low), digits) + 0.0,
            "ci_high": round(float(high), digits) + 0.0, "used": used}


def add_intervals(report: AgreementReport, level: float = 0.95,
                  resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> None:
    """Bootstrap intervals for every statistic of every row of ``report`` (in place:
    ``report.intervals[code][statistic]`` and ``report.bootstrap``)."""
    if not 0 < level < 1:
        raise UsageError(f"a confidence level must be between 0 and 100, not {100 * level:g}",
                         "e.g. --ci 95")
    if resamples < 1:
        raise UsageError(f"--resamples must be at least 1, not {resamples}", "e.g. 2000")
    transcripts = [t.id for t in report.scope.transcripts]
    coders = len(report.coders)
    weights = resample_weights(len(transcripts), resamples, seed)
    for row in progress.track(report.rows, f"bootstrapping intervals ({resamples} resamples)"):
        matrix = pattern_matrix(report.per_transcript[row.code], transcripts, coders)
        computed = statistics(weights @ matrix, coders)
        computed[report.kappa_name] = computed.pop("kappa")
        report.intervals[row.code] = {
            name: percentile_interval(values, level, 1 if name == "agreement_pct" else 3)
            for name, values in computed.items()}
    report.bootstrap = {
        "level": level, "resamples": resamples, "seed": seed, "method": "percentile",
        "resampled": "transcripts", "transcripts": len(transcripts),
        "min_used": MIN_USED}


__all__ = ["DEFAULT_RESAMPLES", "DEFAULT_SEED", "add_intervals", "pattern_matrix",
           "percentile_interval", "resample_weights", "statistics"]
