"""Agreement on a family of mutually exclusive codes (``qcode agree --family PARENT``):
each passage gets one category per coder, the child of PARENT they applied to it, and
Krippendorff's alpha is computed over those nominal values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from qcode.analysis import agreement
from qcode.analysis.reliability import (
    AgreementScope,
    _pct,
    _record,
    _require_counted,
    _round,
    _transcripts_dict,
    passage_spans,
    resolve_agreement_scope,
)
from qcode.errors import UsageError
from qcode.store.corpus import Corpus, HasCorpus, as_corpus


@dataclass
class FamilyReport:
    """``qcode agree --family PARENT``: one nominal value per passage and coder."""

    parent: str
    categories: list[str]
    scope: AgreementScope
    values: pd.DataFrame              # transcript, passage, one column per coder
    conflicts: list[dict[str, Any]]   # a coder applied several children to a passage
    alpha: agreement.AgreementResult
    percent: agreement.AgreementResult
    kappa: agreement.AgreementResult | None  # Cohen's, for two coders

    @property
    def coders(self) -> list[str]:
        return self.scope.coders

    @property
    def passages(self) -> int:
        return len(self.values)

    def frequencies(self) -> pd.DataFrame:
        """How often each coder chose each category (passages), and missing/conflicts."""
        rows = []
        for coder in self.coders:
            counts = self.values[coder].value_counts(dropna=True)
            conflicts = sum(1 for c in self.conflicts if c["coder"] == coder)
            rows.append([coder, *[int(counts.get(cat, 0)) for cat in self.categories],
                         int(self.values[coder].isna().sum()) - conflicts, conflicts])
        return pd.DataFrame(rows, columns=["coder", *self.categories, "(none)",
                                           "(conflict)"])

    def to_dict(self) -> dict[str, Any]:
        statistics = {
            "krippendorff_alpha": "Krippendorff's (2011) alpha, nominal, over the coders; "
                                  "a passage without a child code is missing",
            "agreement_pct": "percent agreement over the passages with two or more values",
        }
        if self.kappa is not None:
            statistics["cohen_kappa"] = "Cohen's (1960) kappa on passages both coders coded"
        out: dict[str, Any] = {
            "unit": "passage",
            "unit_definition": ("each passage of a counted transcript; a coder's value is "
                                f"the child of {self.parent} they applied to it (missing if "
                                "none, a conflict if several)"),
            "family": self.parent,
            "categories": self.categories,
            "statistics": statistics,
            "coders": self.coders,
            "transcripts": _transcripts_dict(self.scope),
            "passages": self.passages,
            "pairable_passages": self.alpha.units,
            "where": self.scope.where,
            "krippendorff_alpha": _round(self.alpha.value),
            "agreement_pct": _pct(self.percent.value),
            "reason": self.alpha.reason,
            "frequencies": [_record(r) for r in self.frequencies().to_dict(orient="records")],
            "conflicts": self.conflicts,
        }
        if self.kappa is not None:
            out["cohen_kappa"] = _round(self.kappa.value)
        return out


def _family_members(corpus: Corpus, parent: str) -> tuple[str, list[str], dict[str, str]]:
    codebook = corpus.codebook
    code = codebook.require(parent)
    children = codebook.children(code.id)
    if len(children) < 2:
        raise UsageError(f"code {code.id!r} has {len(children)} child code(s); a family needs "
                         "at least two", "name a parent whose children are the categories")
    member_of = {d: child for child in children for d in codebook.descendants(child)}
    return code.id, children, member_of


def family_values(corpus: Corpus | HasCorpus, coders: Sequence[str], parent: str,
                  where: Iterable[str] = ()
                  ) -> tuple[str, list[str], AgreementScope, pd.DataFrame, list[dict]]:
    """Each counted passage's category per coder (``None`` when none or several)."""
    corpus = as_corpus(corpus)
    parent_id, children, member_of = _family_members(corpus, parent)
    scope = resolve_agreement_scope(corpus, coders, None, where)
    _require_counted(scope)
    chosen: dict[tuple[str, int], dict[str, set[str]]] = defaultdict(
        lambda: defaultdict(set))
    for (tid, number, code), per_coder in passage_spans(scope, list(member_of)).items():
        for coder in per_coder:
            chosen[(tid, number)][coder].add(member_of[code])
    rows, conflicts = [], []
    order = {c: i for i, c in enumerate(children)}
    for transcript in scope.transcripts:
        for passage in transcript.passages:
            categories = chosen.get((transcript.id, passage.number), {})
            row: list[Any] = [transcript.id, passage.number]
            for coder in scope.coders:
                applied = sorted(categories.get(coder, ()), key=order.__getitem__)
                if len(applied) > 1:
                    conflicts.append({"transcript": transcript.id,
                                      "passage": passage.number, "line": passage.line,
                                      "coder": coder, "codes": applied})
                row.append(applied[0] if len(applied) == 1 else None)
            rows.append(row)
    values = pd.DataFrame(rows, columns=["transcript", "passage", *scope.coders], dtype=object)
    values = values.astype({"passage": "int64"})
    return parent_id, children, scope, values, conflicts


def family_agreement(corpus: Corpus | HasCorpus, coders: Sequence[str], parent: str,
                     where: Iterable[str] = ()) -> FamilyReport:
    """Agreement on which child of ``parent`` each passage gets (cu-alpha on passages)."""
    parent_id, children, scope, values, conflicts = family_values(corpus, coders, parent,
                                                                  where)
    data = [[None if agreement.is_missing(v) else v for v in values[c]] for c in scope.coders]
    counts = agreement.UnitCounts.from_data(data, categories=children)
    kappa = (agreement.cohen_kappa(data[0], data[1], categories=children)
             if len(scope.coders) == 2 else None)
    return FamilyReport(parent_id, children, scope, values, conflicts,
                        agreement.krippendorff_alpha(counts, "nominal"),
                        agreement.percent_agreement(counts), kappa)


def family_disagreements(corpus: Corpus | HasCorpus, coders: Sequence[str], parent: str,
                         where: Iterable[str] = ()) -> pd.DataFrame:
    """Passages where the coders' categories differ (a missing value counts as one)."""
    _parent, _children, scope, values, conflicts = family_values(corpus, coders, parent,
                                                                 where)
    conflicted = {(c["transcript"], c["passage"], c["coder"]): "+".join(c["codes"])
                  for c in conflicts}
    transcripts = {t.id: t for t in scope.transcripts}
    records = []
    for row in values.itertuples(index=False):
        tid, number, *chosen = row
        shown = [conflicted.get((tid, number, coder))
                 or ("" if agreement.is_missing(value) else value)
                 for coder, value in zip(scope.coders, chosen, strict=True)]
        if len(set(shown)) == 1:
            continue
        passage = transcripts[tid].passage(number)
        records.append([tid, number, passage.speaker, passage.line, *shown,
                        transcripts[tid].body[passage.start:passage.end]])
    frame = pd.DataFrame(records, columns=["transcript", "passage", "speaker", "line",
                                           *scope.coders, "text"])
    frame.attrs = {"unit": "passage", "family": _parent, "coders": scope.coders,
                   "transcripts": _transcripts_dict(scope), "where": scope.where}
    return frame
