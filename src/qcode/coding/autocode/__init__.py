"""Auto-coding: the codebook's ``rules:`` applied to transcripts, proposed for review.

``autocode(corpus, ...)`` runs the compiled rules (``engine``; the units they hold for are
``units``) over the transcripts in scope, writes the proposals that are new into the
suggestions log (``qcode.store.suggestions``), withdraws the ones the rules no longer
make, and measures the rules against human coders (``scoring``). The rule language and
its checks are ``qcode.format.rules``; reviewing the proposals is ``qcode.coding.review``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from qcode import progress
from qcode._bulk import bulk_load
from qcode.analysis.scope import transcripts_where
from qcode.coding.autocode.engine import (
    CompiledRule,
    Leaf,
    Proposal,
    RuleSet,
    compile_codebook,
    select_codes,
)
from qcode.coding.autocode.scoring import (
    AutocodeResult,
    CodeReport,
    GoldScore,
    score_against,
    total_report,
)
from qcode.coding.autocode.units import split_sentences
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.names import check_coder_name, did_you_mean
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import Event, now_iso, propose_event, withdraw_event
from qcode.store.suggestions import SuggestionLog

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript
    from qcode.store.suggestions import Suggestion, SuggestionState


def autocode(corpus: Corpus | HasCorpus, coder: str = "auto", codes: Iterable[str] | None = None,
             where: Sequence[str] = (), gold: Sequence[str] | None = None,
             keywords: bool = False, dry_run: bool = False) -> AutocodeResult:
    """Apply the codebook's rules and append the new proposals to the coder's suggestions log.

    New means: not proposed before for that span and code (pending, accepted or rejected),
    not rejected before for the same text, and not already coded so by ``coder``. Pending
    suggestions of the codes and transcripts in scope that the rules no longer make are
    withdrawn. ``gold`` coders (default: every other coder with a log) are compared with the
    rules on passages.
    """
    corpus = as_corpus(corpus)
    check_coder_name(coder)
    clock = time.perf_counter()
    codebook = corpus.codebook
    broken = [p for p in corpus.problems.errors if p.rule.startswith("rule-")]
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise QcodeError(f"{broken[0].location()}: {broken[0].message}{more}",
                         "fix the rules first (`qcode check` lists every problem)")
    ruleset = compile_codebook(codebook, codes, keywords)
    if not ruleset.rules:
        scope = f" among {', '.join(codes)}" if codes else ""
        raise QcodeError(f"no code{scope} has `rules:` in the codebook",
                         "add rules to codes (see docs/autocode.md), or use --keywords to "
                         "match each code's keywords")
    transcripts = transcripts_where(corpus, where)[1] if where else corpus.transcripts
    coders = corpus.coders
    if gold is None:
        gold_coders = [c for c in coders if c != coder]
    else:
        gold_coders = list(dict.fromkeys(gold))
        for name in gold_coders:
            if name not in coders:
                raise UnknownName("coder", name, did_you_mean(name, coders),
                                  hint=f"coders with a log: {', '.join(coders) or 'none'}")
            if name == coder:
                raise UsageError(f"--gold {name} is the coder the suggestions are for",
                                 "compare the rules with another coder")
    seconds = {"load": time.perf_counter() - clock}

    clock = time.perf_counter()
    found: list[Proposal] = []
    with bulk_load():  # many small objects, no cycles: the collector would only slow it
        for transcript in progress.track(transcripts, "auto-coding transcripts"):
            found.extend(ruleset.scan(transcript))
            transcript.release_body()  # the proposals keep their own text
    seconds["scan"] = time.perf_counter() - clock

    clock = time.perf_counter()
    log = SuggestionLog(corpus.store, coder)
    reports = {code: CodeReport(code, codebook.require(code).label,
                                sum(1 for r in ruleset.rules if r.code == code))
               for code in ruleset.codes}
    canonical = codebook.canonical
    with bulk_load():  # the proposals sorted out, then every gold coder's codings
        new, withdrawn, passages = record_proposals(corpus, log, coder, found, reports,
                                                    transcripts, dry_run)
        seconds["propose"] = time.perf_counter() - clock

        clock = time.perf_counter()
        for name in gold_coders:
            score_against(corpus.store.replay(name).codings, name, transcripts, passages,
                          reports, canonical)
        seconds["gold"] = time.perf_counter() - clock
    ordered = [reports[c] for c in ruleset.codes]
    total = total_report(ordered, gold_coders)
    return AutocodeResult(
        coder=coder, log=log.rel, dry_run=dry_run, transcripts=len(transcripts),
        rules=len(ruleset.rules), gold=gold_coders, found=found, new=new, withdrawn=withdrawn,
        codes=ordered, total=total, seconds=seconds)


def record_proposals(corpus: Corpus, log: SuggestionLog, coder: str, found: list[Proposal],
                     reports: dict[str, CodeReport], transcripts: list[Transcript],
                     dry_run: bool, source: str = "rules"
                     ) -> tuple[list[Proposal], list[Suggestion], dict[str, set[tuple[str, int]]]]:
    """Append the proposals that are new to ``log`` and withdraw the pending suggestions of
    the same ``source`` (rules or learned) that are no longer made, for the codes of
    ``reports`` in ``transcripts``; the counts go into ``reports``."""
    new, withdrawn, passages = _sort_out(found, log.read(), reports, transcripts,
                                         _coded_spans(corpus, coder), corpus.codebook.canonical,
                                         source)
    if not dry_run:
        at = now_iso()
        events: list[Event] = [
            propose_event(p.transcript, p.start, p.end, p.code, p.text, at, p.rule,
                          p.passage, p.matches, p.source, p.probability, p.features,
                          p.threshold)
            for p in new]
        events += [withdraw_event(s.id, at, "no longer matched" if source == "rules"
                                  else "no longer predicted") for s in withdrawn]
        log.append(events)
    return new, withdrawn, passages


def _sort_out(found: list[Proposal], state: SuggestionState, reports: dict[str, CodeReport],
              transcripts: list[Transcript], coded: dict[tuple[str, str], list],
              canonical: Callable[[str], str], source: str = "rules"
              ) -> tuple[list[Proposal], list[Suggestion], dict[str, set[tuple[str, int]]]]:
    """Which proposals are new, which pending suggestions to withdraw, and the passages each
    code's rules hold for; counts go into ``reports``. Only suggestions of ``source`` are
    withdrawn: a learned run never withdraws the rules' suggestions, nor the reverse."""
    by_span: dict[tuple[str, str, int, int], Suggestion] = {}
    rejected_text: set[tuple[str, str, str]] = set()
    for suggestion in state.suggestions.values():
        if suggestion.status == "withdrawn":
            continue
        code = canonical(suggestion.code)
        by_span[(suggestion.transcript, code, suggestion.start, suggestion.end)] = suggestion
        if suggestion.status == "rejected":
            rejected_text.add((suggestion.transcript, code, suggestion.text))
    new: list[Proposal] = []
    produced: set[tuple[str, str, int, int]] = set()
    passages: dict[str, set[tuple[str, int]]] = {code: set() for code in reports}
    for proposal in found:
        code, transcript = proposal.code, proposal.transcript
        report = reports[code]
        report.found += 1
        passages[code].add((transcript, proposal.passage))
        key = (transcript, code, proposal.start, proposal.end)
        produced.add(key)
        known = by_span.get(key) if by_span else None
        if known is not None and known.text == proposal.text:
            setattr(report, known.status, getattr(report, known.status) + 1)
        elif rejected_text and (transcript, code, proposal.text) in rejected_text:
            report.rejected += 1
        elif coded and any(start <= proposal.start and proposal.end <= end
                           for start, end in coded.get((transcript, code), ())):
            report.coded += 1
        else:
            report.new += 1
            new.append(proposal)
    for code, where in passages.items():
        reports[code].passages = len(where)
    # Pending suggestions the rules no longer make, or whose text has changed under them.
    # A body is read only for a transcript with pending suggestions (the scan let go of it).
    by_id = {t.id: t for t in transcripts}
    withdrawn = []
    for suggestion in state.suggestions.values():
        if (suggestion.status != "pending" or suggestion.transcript not in by_id
                or suggestion.source != source):
            continue
        code = canonical(suggestion.code)
        if code not in reports:
            continue
        if ((suggestion.transcript, code, suggestion.start, suggestion.end) not in produced
                or by_id[suggestion.transcript].body[suggestion.start:suggestion.end]
                != suggestion.text):
            withdrawn.append(suggestion)
            reports[code].withdrawn += 1
    return new, withdrawn, passages


def _coded_spans(corpus: Corpus, coder: str) -> dict[tuple[str, str], list]:
    if not corpus.store.log(coder).exists():
        return {}
    canonical = corpus.codebook.canonical
    spans: dict[tuple[str, str], list] = {}
    for coding in corpus.store.replay(coder).codings:
        spans.setdefault((coding.transcript, canonical(coding.code)), []).append(
            (coding.start, coding.end))
    return spans


__all__ = ["AutocodeResult", "CodeReport", "CompiledRule", "GoldScore", "Leaf", "Proposal",
           "RuleSet", "autocode", "compile_codebook", "record_proposals", "select_codes",
           "split_sentences"]
