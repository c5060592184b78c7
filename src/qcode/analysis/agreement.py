"""Intercoder agreement statistics, implemented from their published formulas.

Every function takes a *reliability matrix* ``data``: a list of rows, one per coder, one
column per unit (a passage, a character, an item), with ``None`` (or NaN) for a value a
coder did not give. Values are numbers, or for nominal data any hashable label (a code
id, a string). This is the layout of Krippendorff (2011) and of the ``krippendorff``
package::

    data = [[1, 2, 3, 3, None],    # coder A, five units
            [1, 2, 3, 4, 2]]       # coder B

Every function returns an ``AgreementResult``: the ``value`` (``None`` when the statistic
is undefined for these data, with the ``reason``), the observed and chance parts it was
computed from, and how many units and coders entered it. ``float(result)`` is the value
or NaN. Degenerate data (no variation, a single unit, everything missing) never raise.

The statistics and which units each one uses:

- ``percent_agreement``: the share of agreeing pairs of values within a unit, averaged
  over the units with at least two values (for two coders: the share of units both
  coded where they agree).
- ``cohen_kappa(a, b, weights)``: Cohen (1960), weighted as in Cohen (1968); units both
  coders coded. Chance agreement from each coder's own marginal distribution.
- ``scott_pi``: Scott (1955), two coders, units both coded; chance from the pooled
  distribution.
- ``fleiss_kappa``: Fleiss (1971), any number of coders, units every coder coded (Scott's
  pi generalised; for two coders it equals ``scott_pi``).
- ``krippendorff_alpha(level=...)``: Krippendorff (2011), any number of coders, missing
  values allowed; nominal, ordinal, interval or ratio metric.
- ``gwet_ac1``: Gwet (2008; Handbook of Inter-Rater Reliability, 2014), any number of
  coders, missing values allowed.
- ``brennan_prediger``: Brennan & Prediger (1981), chance agreement 1/q for q categories;
  the same observed agreement as ``gwet_ac1``.

For data that are large and repetitive (every character of a project), ``UnitCounts``
holds the same information compactly: per distinct unit, how many coders gave each
category, and how many units look like that. Every multi-coder function accepts one in
place of ``data``; ``cohen_kappa_table`` takes Cohen's cross table directly.

numpy is imported by this module; the command line imports it only when it computes.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = (None, "linear", "quadratic")

NO_UNITS = "no unit has values from two coders (everything is missing or single-coded)"
NO_VARIATION = ("no variation: every value is the same category, so chance agreement is "
                "total and the statistic is 0/0")
ONE_CATEGORY = "only one category: chance agreement is total and the statistic is 0/0"


@dataclass(frozen=True)
class AgreementResult:
    """One statistic on one set of data.

    ``observed`` and ``expected`` are agreements (p_o, p_e) for the kappa family and
    disagreements (D_o, D_e) for Krippendorff's alpha; ``measures`` says which.
    ``units`` counts the units that entered the computation (for alpha: the pairable
    units, with two or more values), ``values`` the values in those units.
    """

    statistic: str
    value: float | None
    observed: float | None = None
    expected: float | None = None
    measures: str = "agreement"
    units: int = 0
    values: int = 0
    coders: int = 0
    categories: int = 0
    level: str | None = None
    weights: str | None = None
    reason: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __float__(self) -> float:
        return math.nan if self.value is None else float(self.value)

    @property
    def defined(self) -> bool:
        return self.value is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statistic": self.statistic, "value": self.value, "observed": self.observed,
            "expected": self.expected, "measures": self.measures, "units": self.units,
            "values": self.values, "coders": self.coders, "categories": self.categories,
        }
        if self.level is not None:
            out["level"] = self.level
        if self.weights is not None:
            out["weights"] = self.weights
        out["reason"] = self.reason
        if self.notes:
            out["notes"] = list(self.notes)
        return out


# -- input ----------------------------------------------------------------------------------

def is_missing(value: Any) -> bool:
    """``None``, a float NaN (also numpy's) or pandas' ``NA``."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return type(value).__name__ in ("NAType", "NaTType")


def _rows(data: Any) -> list[list[Any]]:
    """The reliability matrix as plain lists, rectangular, missing values as ``None``."""
    if hasattr(data, "to_numpy"):  # a pandas DataFrame: rows are coders
        data = data.to_numpy(dtype=object).tolist()
    elif isinstance(data, np.ndarray):
        data = data.tolist()
    rows = [list(row) for row in data]
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"every coder's row needs one value per unit; got rows of lengths "
                         f"{sorted(widths)} (use None for a missing value)")
    return [[None if is_missing(v) else v for v in row] for row in rows]


def _ordered(values: Iterable[Hashable]) -> list[Hashable]:
    """Distinct values sorted when they can be (numbers, strings), else as first seen."""
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)  # type: ignore[type-var]  # TypeError when not orderable
    except TypeError:
        return distinct


@dataclass(frozen=True)
class UnitCounts:
    """Per unit, how many coders gave each category: a units × categories table.

    ``weights[u]`` says how many identical units row ``u`` stands for (1 by default), so
    a million characters coded the same way are one row. ``coders`` is the number of
    coders in the study: a unit with fewer values than that has missing values.
    """

    categories: tuple[Hashable, ...]
    counts: np.ndarray
    weights: np.ndarray
    coders: int

    @classmethod
    def from_data(cls, data: Any, categories: Sequence[Hashable] | None = None
                  ) -> UnitCounts:
        """From a reliability matrix (coders × units, ``None`` for missing)."""
        rows = _rows(data)
        present = [v for row in rows for v in row if v is not None]
        cats = _check_categories(present, categories)
        index = {c: i for i, c in enumerate(cats)}
        units = len(rows[0]) if rows else 0
        counts = np.zeros((units, len(cats)))
        for row in rows:
            for unit, value in enumerate(row):
                if value is not None:
                    counts[unit, index[value]] += 1
        return cls(tuple(cats), counts, np.ones(units), len(rows))

    @classmethod
    def from_table(cls, table: Any, categories: Sequence[Hashable] | None = None,
                   weights: Sequence[float] | None = None, coders: int | None = None
                   ) -> UnitCounts:
        """From a units × categories table of counts, as Fleiss (1971) prints his data.

        ``coders`` defaults to the largest row total.
        """
        counts = np.asarray(table, dtype=float)
        if counts.ndim != 2:
            raise ValueError("a count table has one row per unit and one column per category")
        if (counts < 0).any():
            raise ValueError("counts cannot be negative")
        cats = tuple(categories) if categories is not None else tuple(range(counts.shape[1]))
        if len(cats) != counts.shape[1]:
            raise ValueError(f"{len(cats)} categories named for {counts.shape[1]} columns")
        unit_weights = (np.ones(counts.shape[0]) if weights is None
                        else np.asarray(weights, dtype=float))
        if unit_weights.shape != (counts.shape[0],):
            raise ValueError("one weight per unit (row) is needed")
        most = int(counts.sum(axis=1).max()) if counts.size else 0
        return cls(cats, counts, unit_weights, coders if coders is not None else most)

    @property
    def per_unit(self) -> np.ndarray:
        """How many values each unit has (m_u)."""
        return self.counts.sum(axis=1)


def _check_categories(present: list[Hashable], categories: Sequence[Hashable] | None
                      ) -> list[Hashable]:
    if categories is None:
        return _ordered(present)
    cats = list(dict.fromkeys(categories))
    unknown = [v for v in dict.fromkeys(present) if v not in set(cats)]
    if unknown:
        raise ValueError(f"values {unknown[:5]!r} are not among the categories given")
    return cats


def _counts(data: Any, categories: Sequence[Hashable] | None = None) -> UnitCounts:
    if isinstance(data, UnitCounts):
        if categories is not None and list(categories) != list(data.categories):
            raise ValueError("categories cannot be changed on UnitCounts; build it with them")
        return data
    return UnitCounts.from_data(data, categories)


def _result(statistic: str, **kwargs: Any) -> AgreementResult:
    for key in ("value", "observed", "expected"):
        if kwargs.get(key) is not None:
            kwargs[key] = float(kwargs[key])
    return AgreementResult(statistic, **kwargs)


def _int(x: float) -> int:
    return round(float(x))


# -- observed agreement shared by percent agreement, Gwet and Brennan-Prediger --------------

def _pairwise_agreement(uc: UnitCounts) -> tuple[float | None, float, float]:
    """(mean pairwise agreement over units with ≥2 values, those units, their values)."""
    m = uc.per_unit
    keep = m >= 2
    w = uc.weights[keep]
    units = float(w.sum())
    if units == 0:
        return None, 0.0, 0.0
    n = uc.counts[keep]
    mk = m[keep]
    per_unit = (n * (n - 1)).sum(axis=1) / (mk * (mk - 1))
    return float((w * per_unit).sum() / units), units, float((w * mk).sum())


def percent_agreement(data: Any) -> AgreementResult:
    """The share of agreeing pairs of values within a unit, averaged over the units with
    at least two values. For two coders: agreements / units both coded. For more coders
    with complete data this is Fleiss' (1971) P-bar. ``value`` is a proportion (0-1)."""
    uc = _counts(data)
    value, units, values = _pairwise_agreement(uc)
    return _result("percent_agreement", value=value, observed=value, units=_int(units),
                   values=_int(values), coders=uc.coders, categories=len(uc.categories),
                   reason=None if value is not None else NO_UNITS)


# -- Cohen's kappa ----------------------------------------------------------------------------

def _weight_matrix(k: int, weights: str | None) -> np.ndarray:
    """Disagreement weights: 1 off the diagonal, or |i-j|/(k-1), or ((i-j)/(k-1))^2."""
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    distance = np.abs(i - j) / max(k - 1, 1)
    return distance if weights == "linear" else distance ** 2


def cohen_kappa(a: Sequence[Any], b: Sequence[Any], weights: str | None = None,
                categories: Sequence[Hashable] | None = None) -> AgreementResult:
    """Cohen's (1960) kappa between two coders; weighted (Cohen 1968) with ``"linear"``
    or ``"quadratic"`` disagreement weights on the positions of the categories.

    Units where either coder has no value are left out (``notes`` says how many). The
    category order for weights is ``categories`` if given (include categories nobody
    used: they change the distances), else the sorted values.
    """
    if len(a) != len(b):
        raise ValueError(f"the two coders need one value per unit; got {len(a)} and {len(b)}")
    pairs = [(x, y) for x, y in zip(a, b, strict=True)
             if not is_missing(x) and not is_missing(y)]
    dropped = len(a) - len(pairs)
    cats = _check_categories([v for pair in pairs for v in pair], categories)
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for x, y in pairs:
        table[index[x], index[y]] += 1
    notes = (f"{dropped} unit(s) without a value from both coders left out",) if dropped else ()
    return _cohen_from_table(table, weights, notes)


def cohen_kappa_table(table: Any, weights: str | None = None) -> AgreementResult:
    """Cohen's kappa from a k × k table of counts (or proportions): rows are coder A's
    categories, columns coder B's, in the same order (the order weights use)."""
    matrix = np.asarray(table, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError("Cohen's table must be square: the same categories for both coders")
    if (matrix < 0).any():
        raise ValueError("counts cannot be negative")
    return _cohen_from_table(matrix, weights, ())


def _cohen_from_table(table: np.ndarray, weights: str | None,
                      notes: tuple[str, ...]) -> AgreementResult:
    w = _weight_matrix(table.shape[0], weights)
    total = float(table.sum())
    common = {"units": _int(total), "values": _int(2 * total), "coders": 2,
              "categories": table.shape[0], "weights": weights, "notes": notes}
    name = "cohen_kappa" if weights is None else f"cohen_kappa_{weights}"
    if total == 0:
        return _result(name, value=None, reason="no unit was coded by both coders", **common)
    p = table / total
    chance = np.outer(p.sum(axis=1), p.sum(axis=0))
    observed_dis = float((w * p).sum())
    expected_dis = float((w * chance).sum())
    observed, expected = 1 - observed_dis, 1 - expected_dis
    if expected_dis == 0:
        return _result(name, value=None, observed=observed, expected=expected,
                       reason=NO_VARIATION, **common)
    return _result(name, value=1 - observed_dis / expected_dis, observed=observed,
                   expected=expected, **common)


# -- Scott's pi and Fleiss' kappa -------------------------------------------------------------

def _complete_units(uc: UnitCounts) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows of units every coder coded, their weights, and how many were left out."""
    m = uc.per_unit
    complete = m == uc.coders
    some = (m > 0) & ~complete
    return uc.counts[complete], uc.weights[complete], _int(uc.weights[some].sum())


def _fleiss(uc: UnitCounts, name: str) -> AgreementResult:
    counts, w, dropped = _complete_units(uc)
    m = uc.coders
    notes = ((f"{dropped} unit(s) not coded by every coder left out (use "
              "krippendorff_alpha for data with missing values)",) if dropped else ())
    units = float(w.sum())
    common = {"units": _int(units), "values": _int(units * m), "coders": m,
              "categories": len(uc.categories), "notes": notes}
    if m < 2:
        return _result(name, value=None, reason="agreement needs two or more coders",
                       **common)
    if units == 0:
        return _result(name, value=None, reason=NO_UNITS, **common)
    per_unit = ((counts * (counts - 1)).sum(axis=1)) / (m * (m - 1))
    observed = float((w * per_unit).sum() / units)
    shares = (w[:, None] * counts).sum(axis=0) / (units * m)
    expected = float((shares ** 2).sum())
    if expected >= 1 - 1e-15:
        return _result(name, value=None, observed=observed, expected=expected,
                       reason=NO_VARIATION, **common)
    return _result(name, value=(observed - expected) / (1 - expected), observed=observed,
                   expected=expected, **common)


def scott_pi(data: Any, categories: Sequence[Hashable] | None = None) -> AgreementResult:
    """Scott's (1955) pi for two coders: chance agreement from the categories' pooled
    shares. Units without a value from both coders are left out."""
    uc = _counts(data, categories)
    if uc.coders != 2:
        raise ValueError(f"Scott's pi is for two coders, not {uc.coders}; fleiss_kappa is "
                         "its generalisation to more")
    return _fleiss(uc, "scott_pi")


def fleiss_kappa(data: Any, categories: Sequence[Hashable] | None = None) -> AgreementResult:
    """Fleiss' (1971) kappa for any number of coders, on the units every coder coded
    (units with a missing value are left out; ``notes`` says how many)."""
    return _fleiss(_counts(data, categories), "fleiss_kappa")


# -- Krippendorff's alpha ---------------------------------------------------------------------

def _coincidences(uc: UnitCounts) -> tuple[np.ndarray, float, float]:
    """Krippendorff's coincidence matrix o_ck over pairable units, their count and values."""
    m = uc.per_unit
    keep = m >= 2
    n = uc.counts[keep]
    scale = uc.weights[keep] / (m[keep] - 1)
    coincidence = (n * scale[:, None]).T @ n - np.diag((n * scale[:, None]).sum(axis=0))
    return coincidence, float(uc.weights[keep].sum()), float((uc.weights[keep] * m[keep]).sum())


def _delta(categories: Sequence[Hashable], marginals: np.ndarray, level: str) -> np.ndarray:
    """Squared differences delta^2_ck of Krippendorff's metrics."""
    k = len(categories)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
        i, j = np.indices((k, k))
        low, high = np.minimum(i, j), np.maximum(i, j)
        between = cumulative[high + 1] - cumulative[low]
        return (between - (marginals[i] + marginals[j]) / 2) ** 2
    values = np.asarray(categories, dtype=float)
    difference = values[:, None] - values[None, :]
    if level == "interval":
        return difference ** 2
    total = values[:, None] + values[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total == 0, 0.0, difference / np.where(total == 0, 1, total))
    return ratio ** 2


def _is_number(value: Any) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, int | float | np.number)


def _check_level(level: str, categories: Sequence[Hashable],
                 explicit_order: bool) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level in ("interval", "ratio"):
        bad = [c for c in categories if not _is_number(c)]
        if bad:
            raise ValueError(f"{level} data must be numbers; got {bad[:3]!r}")
        if level == "ratio" and any(float(c) < 0 for c in categories):  # type: ignore[arg-type]
            raise ValueError("ratio data cannot be negative")
    if level == "ordinal" and not explicit_order:
        try:
            sorted(categories)  # type: ignore[type-var]
        except TypeError:
            raise ValueError("ordinal values must be sortable, or name their order with "
                             "categories=[...]") from None


def krippendorff_alpha(data: Any, level: str = "nominal",
                       categories: Sequence[Hashable] | None = None) -> AgreementResult:
    """Krippendorff's alpha for any number of coders with missing values (Krippendorff
    2011, "Computing Krippendorff's Alpha-Reliability").

    alpha = 1 - D_o / D_e, from the coincidence matrix of the pairable values (units with
    two or more values). ``level`` picks the metric: nominal, ordinal (ranks in the order
    of ``categories`` or the sorted values), interval or ratio (numbers).
    """
    uc = _counts(data, categories)
    _check_level(level, uc.categories, categories is not None or isinstance(data, UnitCounts))
    coincidence, units, values = _coincidences(uc)
    marginals = coincidence.sum(axis=1)
    n = float(marginals.sum())
    common = {"measures": "disagreement", "units": _int(units), "values": _int(values),
              "coders": uc.coders, "categories": int((marginals > 0).sum()), "level": level}
    if n < 2:
        return _result("krippendorff_alpha", value=None, reason=NO_UNITS, **common)
    delta = _delta(uc.categories, marginals, level)
    observed = float((coincidence * delta).sum() / n)
    expected = float((np.outer(marginals, marginals) * delta).sum() / (n * (n - 1)))
    if expected <= 1e-15:
        return _result("krippendorff_alpha", value=None, observed=observed,
                       expected=expected, reason=NO_VARIATION, **common)
    return _result("krippendorff_alpha", value=1 - observed / expected, observed=observed,
                   expected=expected, **common)


# -- Gwet's AC1 and Brennan-Prediger ----------------------------------------------------------

def gwet_ac1(data: Any, categories: Sequence[Hashable] | None = None) -> AgreementResult:
    """Gwet's AC1 (Gwet 2008; Handbook of Inter-Rater Reliability, 4th ed. 2014) for any
    number of coders with missing values.

    p_a is the pairwise agreement of ``percent_agreement``; chance agreement is
    p_e = 1/(q-1) * sum_k pi_k (1 - pi_k), with pi_k the share of category k averaged
    over the units with at least one value. q is the number of ``categories`` (default:
    the categories that occur).
    """
    uc = _counts(data, categories)
    return _chance_by_categories(uc, "gwet_ac1")


def brennan_prediger(data: Any, categories: Sequence[Hashable] | None = None
                     ) -> AgreementResult:
    """Brennan & Prediger's (1981) coefficient: (p_a - 1/q) / (1 - 1/q), chance being a
    uniform choice among q categories (``categories``, default: those that occur).
    Also known as free-marginal kappa and, for two categories, as PABAK."""
    uc = _counts(data, categories)
    return _chance_by_categories(uc, "brennan_prediger")


def _chance_by_categories(uc: UnitCounts, name: str) -> AgreementResult:
    observed, units, values = _pairwise_agreement(uc)
    q = len(uc.categories)
    common = {"units": _int(units), "values": _int(values), "coders": uc.coders,
              "categories": q}
    if observed is None:
        return _result(name, value=None, reason=NO_UNITS, **common)
    if q < 2:
        return _result(name, value=None, observed=observed, reason=ONE_CATEGORY, **common)
    if name == "brennan_prediger":
        expected = 1 / q
    else:
        m = uc.per_unit
        coded = m >= 1
        w = uc.weights[coded]
        shares = (w[:, None] * uc.counts[coded] / m[coded][:, None]).sum(axis=0) / w.sum()
        expected = float((shares * (1 - shares)).sum() / (q - 1))
    return _result(name, value=(observed - expected) / (1 - expected), observed=observed,
                   expected=expected, **common)


__all__ = [
    "LEVELS", "AgreementResult", "UnitCounts", "brennan_prediger", "cohen_kappa",
    "cohen_kappa_table", "fleiss_kappa", "gwet_ac1", "is_missing", "krippendorff_alpha",
    "percent_agreement", "scott_pi",
]
