"""How well auto-coding rules agree with a human coder: per code and pooled, on passages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.autocode.engine import Proposal
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import Coding
    from qcode.store.suggestions import Suggestion


@dataclass
class GoldScore:
    """The rules against one human coder, on passages, in the transcripts they coded."""

    coder: str
    transcripts: int
    both: int = 0        # passages the rules propose and the coder coded (true positives)
    rules_only: int = 0  # proposed, not coded (false positives)
    coder_only: int = 0  # coded, not proposed (false negatives)

    @property
    def precision(self) -> float | None:
        proposed = self.both + self.rules_only
        return self.both / proposed if proposed else None

    @property
    def recall(self) -> float | None:
        coded = self.both + self.coder_only
        return self.both / coded if coded else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)

    def to_dict(self) -> dict[str, Any]:
        return {"coder": self.coder, "transcripts": self.transcripts, "both": self.both,
                "rules_only": self.rules_only, "coder_only": self.coder_only,
                "precision": _round(self.precision), "recall": _round(self.recall),
                "f1": _round(self.f1)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class CodeReport:
    code: str
    label: str
    rules: int
    found: int = 0      # units the rules hold for
    passages: int = 0   # distinct passages among them
    new: int = 0        # proposed now (or, with --dry-run, would be)
    pending: int = 0    # proposed before, not yet reviewed
    accepted: int = 0   # proposed before and accepted
    rejected: int = 0   # proposed before and rejected: not proposed again
    coded: int = 0      # the coder already has this code there
    withdrawn: int = 0  # pending before, no longer made by the rules
    gold: dict[str, GoldScore] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "rules": self.rules,
                "found": self.found, "passages": self.passages, "new": self.new,
                "pending": self.pending, "accepted": self.accepted,
                "rejected": self.rejected, "coded": self.coded, "withdrawn": self.withdrawn,
                "gold": {c: g.to_dict() for c, g in self.gold.items()}}


@dataclass
class AutocodeResult:
    coder: str
    log: str                     # the suggestions log, relative to the project
    dry_run: bool
    transcripts: int
    rules: int
    gold: list[str]
    found: list[Proposal]        # everything the rules hold for
    new: list[Proposal]          # the proposals written (or that would be)
    withdrawn: list[Suggestion]  # pending suggestions the rules no longer make
    codes: list[CodeReport]
    total: CodeReport
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"coder": self.coder, "suggestions_log": self.log, "dry_run": self.dry_run,
                "transcripts": self.transcripts, "rules": self.rules,
                "gold_coders": self.gold,
                "proposed": [p.to_dict() for p in self.new],
                "withdrawn": [s.id for s in self.withdrawn],
                "codes": [c.to_dict() for c in self.codes], "total": self.total.to_dict(),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}


def coded_passages(codings: Iterable[Coding], transcripts: Iterable[Transcript],
                   canonical: Callable[[str], str], codes: set[str]
                   ) -> tuple[dict[str, set[tuple[str, int]]], set[str]]:
    """The passages (transcript, number) each of ``codes`` holds for in ``codings`` (a
    coding holds for every passage it overlaps, as in `qcode agree`), and the transcripts
    with at least one coding, of any code: where the coder's silence means "not this"."""
    by_id = {t.id: t for t in transcripts}
    held: dict[str, set[tuple[str, int]]] = {}
    coded: set[str] = set()
    for coding in codings:
        transcript = by_id.get(coding.transcript)
        if transcript is None:
            continue
        coded.add(coding.transcript)
        code = canonical(coding.code)
        if code not in codes:
            continue
        for passage in transcript.passages_overlapping(coding.start, coding.end):
            held.setdefault(code, set()).add((coding.transcript, passage.number))
    return held, coded


def score_against(codings: list[Coding], coder: str, transcripts: list[Transcript],
                  passages: dict[str, set[tuple[str, int]]], reports: dict[str, CodeReport],
                  canonical: Callable[[str], str]) -> None:
    """Precision and recall of the rules against ``coder`` on passages (like `qcode agree`):
    a passage counts as proposed (coded) when a proposal (a coding) of the code overlaps it,
    in the transcripts in scope where the coder has at least one coding."""
    human, coded_transcripts = coded_passages(codings, transcripts, canonical, set(reports))
    for code, report in reports.items():
        mine = {p for p in passages.get(code, ()) if p[0] in coded_transcripts}
        theirs = human.get(code, set())
        report.gold[coder] = GoldScore(coder, len(coded_transcripts), len(mine & theirs),
                                       len(mine - theirs), len(theirs - mine))


def total_report(reports: list[CodeReport], gold: list[str]) -> CodeReport:
    """All codes pooled (micro-averaged precision and recall)."""
    total = CodeReport("ALL", "all codes with rules", sum(r.rules for r in reports))
    for name in ("found", "passages", "new", "pending", "accepted", "rejected", "coded",
                 "withdrawn"):
        setattr(total, name, sum(getattr(r, name) for r in reports))
    for coder in gold:
        scores = [r.gold[coder] for r in reports if coder in r.gold]
        total.gold[coder] = GoldScore(
            coder, scores[0].transcripts if scores else 0,
            sum(s.both for s in scores), sum(s.rules_only for s in scores),
            sum(s.coder_only for s in scores))
    return total
