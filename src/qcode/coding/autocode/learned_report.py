"""What ``qcode autocode --learn`` reports: per code, its examples, the threshold chosen,
the grouped cross-validation's precision, recall, F1 and average precision beside the
rules' on the same passages, and what was proposed; the macro averages over codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.autocode.engine import Proposal
    from qcode.coding.autocode.scoring import CodeReport
    from qcode.store.suggestions import Suggestion

MIN_PRECISION = 0.7
# A threshold must keep this many true positives out of fold: one or two lucky passages
# at the top of a noise code's ranking are no evidence of precision.
MIN_TRUE_POSITIVES = 5


@dataclass(slots=True)
class PassageRow:
    """A passage learned from or proposed for; ``text`` is without the speaker label."""

    transcript: str
    number: int
    start: int
    end: int
    speaker: str | None
    text: str
    label: str  # the body from the passage's start to its text (the speaker label)


@dataclass
class Score:
    """Precision, recall and F1 from passage counts."""

    true_positives: float  # weighted when the passages were subsampled
    false_positives: float
    false_negatives: float

    @property
    def precision(self) -> float | None:
        proposed = self.true_positives + self.false_positives
        return self.true_positives / proposed if proposed else None

    @property
    def recall(self) -> float | None:
        coded = self.true_positives + self.false_negatives
        return self.true_positives / coded if coded else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None if p is None and r is None else 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"precision": _round(self.precision), "recall": _round(self.recall),
                "f1": _round(self.f1), "true_positives": round(self.true_positives, 2),
                "false_positives": round(self.false_positives, 2),
                "false_negatives": round(self.false_negatives, 2)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def prf(predicted: Sequence[bool], actual: Sequence[bool],
        weights: tuple[float, float] = (1.0, 1.0)) -> Score:
    """Precision, recall and F1; ``weights`` (a positive's, a negative's) undo a subsample."""
    tp = fp = fn = 0.0
    for p, a in zip(predicted, actual, strict=True):
        if p and a:
            tp += weights[0]
        elif p:
            fp += weights[1]
        elif a:
            fn += weights[0]
    return Score(tp, fp, fn)


def choose_threshold(probabilities: Sequence[float], labels: Sequence[bool],
                     min_precision: float = MIN_PRECISION,
                     min_true_positives: int = MIN_TRUE_POSITIVES,
                     weights: tuple[float, float] = (1.0, 1.0)) -> float | None:
    """The lowest threshold whose precision (passages at or above it) reaches
    ``min_precision`` with at least ``min_true_positives`` (sampled) passages; None when
    none does. ``weights`` (a positive's, a negative's) undo a subsample."""
    pairs = sorted(zip(probabilities, labels, strict=True), key=lambda p: -p[0])
    best = None
    tp = fp = 0.0
    hits = 0
    for index, (probability, label) in enumerate(pairs):
        if label:
            tp += weights[0]
            hits += 1
        else:
            fp += weights[1]
        last_of_tie = index + 1 == len(pairs) or pairs[index + 1][0] != probability
        if last_of_tie and hits >= min_true_positives and tp / (tp + fp) >= min_precision:
            best = probability
    return None if best is None else float(best)


@dataclass
class CodeEvaluation:
    """One code's classifier: its examples, cross-validation and threshold."""

    examples: int            # passages the coder coded with the code (positives)
    negatives: int           # labelled passages without it (incl. rejected suggestions)
    transcripts: int         # transcripts with the code
    folds: int               # grouped cross-validation folds (0: too few transcripts)
    code: str = ""
    label: str = ""
    calibrated: bool = False  # Platt-calibrated, or the regression's own probabilities
    sampled: bool = False     # trained and measured on a weighted subsample
    threshold: float | None = None
    threshold_from: str = ""  # cross-validation | --threshold
    average_precision: float | None = None
    learned: Score | None = None  # out of fold, at the threshold
    rules: Score | None = None    # the code's rules on the same passages (when it has rules)
    report: CodeReport | None = None  # what was proposed
    model: Any = None

    @property
    def reason(self) -> str:
        """Why nothing is proposed for the code (empty when something may be)."""
        if self.threshold is not None:
            return ""
        if not self.folds:
            return "one transcript has the code: cannot cross-validate (give --threshold)"
        return (f"no threshold reaches precision {MIN_PRECISION} with "
                f"{MIN_TRUE_POSITIVES} passages out of fold")

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {"code": self.code, "label": self.label, "examples": self.examples,
                "negatives": self.negatives, "transcripts": self.transcripts,
                "folds": self.folds, "calibrated": self.calibrated,
                "subsampled": self.sampled,
                "threshold": _round(self.threshold), "threshold_from": self.threshold_from,
                "average_precision": _round(self.average_precision),
                "learned": self.learned.to_dict() if self.learned else None,
                "rules": self.rules.to_dict() if self.rules else None,
                "proposed": None if report is None else {
                    name: getattr(report, name) for name in
                    ("new", "pending", "accepted", "rejected", "coded", "withdrawn")},
                "no_proposals": self.reason or None}


@dataclass
class Macro:
    """Unweighted means over codes (codes where a figure is undefined are left out)."""

    name: str
    codes: int
    precision: float | None
    recall: float | None
    f1: float | None
    average_precision: float | None
    rules_precision: float | None = None
    rules_recall: float | None = None
    rules_f1: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: _round(v) if isinstance(v, float) else v
                for k, v in self.__dict__.items()}


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def macro_average(evaluations: list[CodeEvaluation]) -> list[Macro]:
    """Over every code evaluated, and over the codes that also have rules (with the rules'
    figures on the same codes: the fair comparison)."""

    def row(name: str, chosen: list[CodeEvaluation], with_rules: bool) -> Macro:
        scores = [e.learned for e in chosen]
        macro = Macro(name, len(chosen),
                      _mean([s.precision if s else None for s in scores]),
                      _mean([s.recall if s else 0.0 for s in scores]),
                      _mean([s.f1 if s else 0.0 for s in scores]),
                      _mean([e.average_precision for e in chosen]))
        if with_rules:
            rules = [e.rules for e in chosen if e.rules]
            macro.rules_precision = _mean([s.precision for s in rules])
            macro.rules_recall = _mean([s.recall for s in rules])
            macro.rules_f1 = _mean([s.f1 for s in rules])
        return macro

    out = [row("MACRO", evaluations, False)]
    both = [e for e in evaluations if e.rules is not None]
    if both:
        out.append(row("MACRO (codes with rules)", both, True))
    return out


@dataclass
class LearnResult:
    coder: str         # the suggestions log proposed into
    trainer: str       # the coder learned from
    log: str
    dry_run: bool
    evaluate: bool
    transcripts: int
    passages: int
    min_examples: int
    codes: list[CodeEvaluation]
    skipped: dict[str, int]  # codes with fewer examples than min_examples: their count
    new: list[Proposal]
    withdrawn: list[Suggestion]
    macro: list[Macro]
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"coder": self.coder, "learned_from": self.trainer,
                "suggestions_log": self.log, "dry_run": self.dry_run,
                "evaluate": self.evaluate, "transcripts": self.transcripts,
                "passages": self.passages, "min_examples": self.min_examples,
                "min_precision": MIN_PRECISION,
                "codes": [c.to_dict() for c in self.codes],
                "macro": [m.to_dict() for m in self.macro],
                "too_few_examples": self.skipped,
                "proposed": [p.to_dict() for p in self.new],
                "withdrawn": [s.id for s in self.withdrawn],
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}
