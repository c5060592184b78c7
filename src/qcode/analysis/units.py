"""What intercoder agreement counts as its units, and what it calls a disagreement.

Shared by ``qcode.analysis.reliability`` (``qcode agree``) and
``qcode.coding.adjudication`` (``qcode adjudicate``), so that both commands count the
same things:

- **Excluded speakers.** The turns of the interviewers qcode.yaml declares
  (``interviewer:``) are no units unless asked for; more labels can be named (wildcards
  as in a ``speaker:`` rule). An interviewer's question is rarely coded, so each of its
  passages would add an agreement on "neither coded it" to every code.
- **Disagreement.** A (transcript, passage, code) where the coders' coverage of the
  passage with the code differs: ``presence`` (some coded it, others not) or ``extent``
  (all coded it, not the same characters). See ``DISAGREEMENT_KINDS``.
- **Coverage.** Which transcripts every coder coded, and how they spread over the case
  attribute (qcode.yaml ``cases[0].key``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript

Span = tuple[int, int]  # as in qcode.analysis.reliability, which imports this module

DISAGREEMENT_KINDS = {
    "presence": "some coders coded the passage with the code, others did not (counts "
                "against agreement on passages and on characters)",
    "extent": "every coder coded the passage with the code, but not the same characters "
              "(counts against agreement on characters only)",
}


def disagreement_kind(coverages: Sequence[tuple[Span, ...]]) -> str | None:
    """``presence``, ``extent``, or None when every coder covered the same characters
    (``coverages``: each coder's merged spans of the code inside the passage)."""
    if len(set(coverages)) <= 1:
        return None
    return "extent" if all(coverages) else "presence"


def excluded_speakers(corpus: Corpus | HasCorpus, exclude_speakers: Iterable[str] = (),
                      include_interviewer: bool = False) -> list[str]:
    """The speaker labels whose turns are no units: those named, and the interviewers
    qcode.yaml declares (``interviewer:``) unless ``include_interviewer``."""
    declared = [] if include_interviewer else list(as_corpus(corpus).config.interviewer)
    return list(dict.fromkeys([*declared, *exclude_speakers]))


def coverage(corpus: Corpus | HasCorpus, counted: Sequence[Transcript],
             left_out: Sequence[str]) -> dict[str, Any]:
    """Which transcripts were coded by every coder (``counted``; ``left_out``: the ids
    of the others in scope), and how they spread over the case attribute (qcode.yaml
    ``cases[0].key``; none without a case table)."""
    corpus = as_corpus(corpus)
    out: dict[str, Any] = {"transcripts": len(counted),
                           "of_transcripts": len(counted) + len(left_out)}
    if not corpus.config.cases:
        return out
    attribute = corpus.config.cases[0].key
    in_scope = [*counted, *(corpus.transcript(t) for t in left_out)]
    values = list(dict.fromkeys(str(t.attributes.get(attribute, "")) for t in in_scope))
    covered = {str(t.attributes.get(attribute, "")) for t in counted}
    return {**out, "attribute": attribute, "values": len(covered & set(values)),
            "of_values": len(values), "not_covered": [v for v in values if v not in covered]}


__all__ = ["DISAGREEMENT_KINDS", "coverage", "disagreement_kind", "excluded_speakers"]
