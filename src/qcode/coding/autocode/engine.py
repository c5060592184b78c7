"""The auto-coding engine: a codebook's rules compiled once and applied to transcripts.

A code's rules (docs/autocode.md) are compiled once into *leaves* (``match`` word
patterns, ``regex``, ``fuzzy`` phrases, ``speaker`` labels) combined by ``all``/``any``/
``not``. Each body is scanned once for every word leaf together: one regular expression
built as a trie of the leaves' literal prefixes finds the word starts where some leaf may
match, and only there is each candidate leaf's own pattern tried. ``regex`` leaves run
over the body on their own; rapidfuzz runs only on the windows around the word starts a
``fuzzy`` phrase's words begin with. A rule then holds for a *unit* (a passage, or a
sentence with ``scope: sentence``) and the unit becomes a proposal.

What a proposal is matched against: the passage's text without its speaker label (who
speaks is what ``speaker:`` is for). Matching is case-insensitive for ``match`` and
``fuzzy``; ``regex`` is as written (add ``(?i)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from qcode.coding.autocode.units import Spans, Unit, Units
from qcode.errors import PatternTooSlow
from qcode.format.matching import REGEX_CHARS_PER_SECOND as REGEX_CHARS_PER_SECOND
from qcode.format.matching import REGEX_SECONDS as REGEX_SECONDS
from qcode.format.matching import (
    SLOW_REGEX_HINT,
    fuzzy_phrase,
    fuzzy_spans,
    regex_budget,
)
from qcode.format.rules import (
    DEFAULT_SCORE,
    compile_regex,
    describe,
    rule_kind,
    rule_value,
    speaker_regex,
    wildcard_regex,
    word_regex,
)
from qcode.format.text import fold, nfc

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Codebook
    from qcode.format.rules import Rule
    from qcode.format.transcripts import Transcript

# The time a `regex` rule may take on one transcript (REGEX_SECONDS and one more second
# per REGEX_CHARS_PER_SECOND characters) is qcode.format.matching.regex_budget, shared with
# text search: a rule past its budget stops the run.


class RuleTooSlow(PatternTooSlow):
    """A ``regex`` rule ran past its time budget on a transcript; nothing was proposed."""


def _trie_regex(prefixes: Iterable[str]) -> str:
    """One alternation for many literals, as a trie: longer continuations are tried first,
    so the match is the longest literal that is a prefix of the text."""
    trie: dict[str, Any] = {}
    for prefix in prefixes:
        node = trie
        for ch in prefix:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return emit(trie)


# -- compiled rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One matcher, shared by every rule that uses the same one."""

    kind: str  # match | regex | fuzzy | speaker
    text: str
    score: float = DEFAULT_SCORE
    # match (on folded text, re), regex (as written, the regex package: it has a timeout)
    pattern: Any = None
    prefix: str = ""                        # match: literal start of its first word
    prefixes: tuple[str, ...] = ()          # fuzzy: where its candidate windows start
    phrase: str = ""                        # fuzzy: the folded phrase

    @property
    def regex(self) -> Any:
        """The compiled pattern of a match, regex or speaker leaf."""
        assert self.pattern is not None, f"a {self.kind} leaf has no pattern"
        return self.pattern


# A compiled rule node: ("leaf", index) | ("all", [nodes]) | ("any", [nodes]) | ("not", node)
Node = tuple


@dataclass(frozen=True)
class CompiledRule:
    code: str
    node: Node
    scope: str
    text: str  # describe(rule), or `keyword "…"`
    where: str = ""  # the rule's codebook file:line


@dataclass(slots=True)
class Proposal:
    """A code the rules propose for a unit (a passage or a sentence) of a transcript."""

    transcript: str
    code: str
    start: int
    end: int
    passage: int          # number of the passage the unit is in
    speaker: str | None
    scope: str
    rules: list[str]      # the rules that fired, as text
    matches: list[tuple[int, int]]  # body spans of the words that matched, sorted
    text: str = ""
    source: str = "rules"  # or "learned" (``qcode autocode --learn``)
    probability: float | None = None  # a learned proposal's probability
    features: list[str] = field(default_factory=list)  # the words that weighed most
    threshold: float | None = None  # the code's decision threshold (learned)

    @property
    def rule(self) -> str:
        return "; ".join(self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "code": self.code, "start": self.start,
                "end": self.end, "passage": self.passage, "speaker": self.speaker,
                "scope": self.scope, "rule": self.rule,
                "matches": [list(m) for m in self.matches], "text": self.text,
                **({} if self.source == "rules" else {
                    "source": self.source, "probability": self.probability,
                    "threshold": self.threshold, "features": list(self.features)})}


# How a word start the locator found is checked against a leaf (see RuleSet._classify):
# the word found is the whole match; the word is the phrase's first word and the rest of
# the pattern is tried there; the pattern is tried there; a fuzzy window starts there.
_WORD, _PHRASE, _PATTERN, _FUZZY = range(4)



class RuleSet:
    """Rules compiled once; ``scan(transcript)`` applies them all in one pass of the body."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self._leaf_index: dict[tuple, int] = {}
        self.rules: list[CompiledRule] = []
        self._locator: re.Pattern[str] | None = None
        self._candidates: dict[str, list[tuple[int, int, re.Pattern[str] | None]]] = {}
        self._standalone: list[int] = []   # match leaves without a literal prefix
        self._regex: list[int] = []
        self._speaker_cache: dict[tuple[int, str | None], bool] = {}
        self._classified: dict[tuple[str, str], tuple[tuple[int, ...], Any]] = {}
        self._sentence_leaves: set[int] = set()

    # building

    def add(self, code: str, rule: Rule, text: str | None = None, where: str = "") -> None:
        scope = rule.scope or "passage"
        self.rules.append(CompiledRule(code, self._node(rule), scope, text or describe(rule),
                                       where))
        self._locator = None

    def add_keyword(self, code: str, keyword: str) -> None:
        from qcode.format.rules import Rule

        if any(ch not in "*? \t\n" for ch in keyword):
            self.add(code, Rule(match=keyword), f'keyword "{keyword}"')

    def _node(self, rule: Rule) -> Node:
        kind = rule_kind(rule)
        value = rule_value(rule, kind)
        if kind in ("all", "any"):
            return (kind, [self._node(r) for r in value])
        if kind == "not":
            return ("not", self._node(value))
        score = rule.score if rule.score is not None else DEFAULT_SCORE
        key = (kind, value, score if kind == "fuzzy" else None)
        if key not in self._leaf_index:
            self._leaf_index[key] = len(self.leaves)
            self.leaves.append(_make_leaf(kind, value, score))
        return ("leaf", self._leaf_index[key])

    def _build_locator(self) -> None:
        by_prefix: dict[str, list[tuple[int, int, re.Pattern[str] | None]]] = {}
        self._standalone, self._regex = [], []
        for index, leaf in enumerate(self.leaves):
            if leaf.kind == "match":
                if not leaf.prefix:
                    self._standalone.append(index)
                    continue
                # Most patterns are a word or a stem, or a phrase starting with one: whether
                # the word found is that word is decided once per distinct word.
                words = leaf.text.split()
                if all(ch in "*?" or _is_word(ch) for ch in words[0]):
                    first = re.compile(word_regex(words[0]))
                    mode = _WORD if len(words) == 1 else _PHRASE
                else:
                    first, mode = None, _PATTERN
                by_prefix.setdefault(leaf.prefix, []).append((index, mode, first))
            elif leaf.kind == "fuzzy":
                for prefix in leaf.prefixes:
                    by_prefix.setdefault(prefix, []).append((index, _FUZZY, None))
            elif leaf.kind == "regex":
                self._regex.append(index)
        # A literal the locator finds stands for every leaf whose prefix is a prefix of it.
        self._candidates = {}
        self._classified = {}
        for literal in by_prefix:
            found: list[tuple[int, int, re.Pattern[str] | None]] = []
            for end in range(1, len(literal) + 1):
                found.extend(c for c in by_prefix.get(literal[:end], ()) if c not in found)
            self._candidates[literal] = found
        # The literal is captured in a lookahead and the rest of the word consumed: no leaf
        # can start inside a run of word characters, so no start is skipped.
        self._sentence_leaves = self.sentence_leaves
        trie = _trie_regex(by_prefix) if by_prefix else "(?!)"
        self._locator = re.compile(r"(?<!\w)(?=(" + trie + r"))\w*")

    def _classify(self, word: str, literal: str) -> tuple[tuple[int, ...], Any]:
        """The leaves a word start holds: (leaves matched by the word itself, and None or
        (leaves whose pattern must be tried there, fuzzy leaves with a window there))."""
        words: list[int] = []
        patterned: list[int] = []
        fuzzy: list[int] = []
        for index, mode, first in self._candidates[literal]:
            if mode == _FUZZY:
                fuzzy.append(index)
            elif mode == _PATTERN or first is None:
                patterned.append(index)
            elif first.fullmatch(word) is not None:
                (words if mode == _WORD else patterned).append(index)
        return tuple(words), ((tuple(patterned), tuple(fuzzy)) if patterned or fuzzy else None)

    @property
    def sentence_leaves(self) -> set[int]:
        """The leaves used by sentence-scope rules: only their hits are split by sentence."""
        found: set[int] = set()
        for rule in self.rules:
            if rule.scope == "sentence":
                _leaves_of(rule.node, found)
        return found

    # scanning

    def scan(self, transcript: Transcript) -> list[Proposal]:
        """Every unit of ``transcript`` some rule holds for, one proposal per code and unit."""
        if self._locator is None:
            self._build_locator()
        units = Units(transcript)
        scoped = {"passage": self._leaf_hits(units, transcript.id)}
        if self._sentence_leaves:
            scoped["sentence"] = units.by_sentence(scoped["passage"], self._sentence_leaves)
        leaves = self.leaves
        # unit → code → [rule text, spans, rule text, spans, ...]; the spans lists are shared
        # with the hits, never changed in place.
        found: dict[Unit, dict[str, list]] = {}
        for rule in self.rules:
            hits = scoped[rule.scope]
            node = rule.node
            if node[0] == "leaf" and leaves[node[1]].kind != "speaker":
                pairs: Iterable[tuple[Unit, Spans]] = hits.get(node[1], {}).items()
            else:
                pairs = self._holding(node, rule.scope, units, hits)
            code, text = rule.code, rule.text
            for unit, spans in pairs:
                codes = found.get(unit)
                if codes is None:
                    found[unit] = {code: [text, spans]}
                elif code in codes:
                    codes[code] += (text, spans)
                else:
                    codes[code] = [text, spans]
        body, passages, tid = transcript.body, units.passages, transcript.id
        out = []
        for unit in sorted(found):
            passage = passages[unit[0]]
            if unit[1] < 0:
                start, end, scope = passage.start, passage.end, "passage"
                whole = None
            else:
                start, end = units.span(unit)
                scope, whole = "sentence", found.get((unit[0], -1), {})
            text = body[start:end]
            for code, entry in found[unit].items():
                if whole and code in whole:
                    continue  # a sentence inside a proposed passage adds nothing
                if len(entry) == 2:  # one rule; a phrase repeated («x x x») overlaps itself
                    rules, spans = [entry[0]], _merge_spans(entry[1])
                else:
                    rules = list(dict.fromkeys(entry[0::2]))
                    spans = _merge_spans([span for part in entry[1::2] for span in part])
                out.append(Proposal(tid, code, start, end, passage.number, passage.speaker,
                                    scope, rules, spans, text))
        return out

    def _leaf_hits(self, units: Units, transcript_id: str) -> dict[int, dict[Unit, Spans]]:
        """Each text leaf's matches, grouped by passage (only in the text after the label)."""
        low, leaves = units.low, self.leaves
        finditer = self._locator.finditer  # type: ignore[union-attr]
        # What a (literal, word) found means is worked out once per distinct word.
        classified = self._classified
        hits: dict[int, dict[Unit, Spans]] = {}
        fuzzy_starts: dict[int, list[tuple[int, int]]] = {}
        for passage_index, (text_start, end) in enumerate(units.areas):
            if text_start >= end:
                continue
            local: dict[int, Spans] = {}
            for found in finditer(low, text_start, end):
                key = cast(tuple[str, str], found.group(0, 1))
                entry = classified.get(key)
                if entry is None:
                    entry = classified[key] = self._classify(*key)
                words, others = entry
                span = found.span()
                for index in words:
                    spans = local.get(index)
                    if spans is None:
                        local[index] = [span]
                    else:
                        spans.append(span)
                if others is None:
                    continue
                patterned, fuzzy = others
                position = span[0]
                for index in patterned:
                    match = leaves[index].pattern.match(low, position, end)
                    if match is not None:
                        local.setdefault(index, []).append((position, match.end()))
                for index in fuzzy:
                    fuzzy_starts.setdefault(index, []).append((passage_index, position))
            if local:
                unit = (passage_index, -1)
                for index, spans in local.items():
                    per_unit = hits.get(index)
                    if per_unit is None:
                        hits[index] = {unit: spans}
                    else:
                        per_unit[unit] = spans
        for index in self._standalone:
            units.add_hits(hits, index, leaves[index].regex.finditer(low))
        budget = regex_budget(len(units.body))
        for index in self._regex:
            try:
                units.add_hits(hits, index,
                               leaves[index].regex.finditer(units.body, timeout=budget))
            except TimeoutError:
                raise self._too_slow(index, transcript_id, budget) from None
        for index, starts in fuzzy_starts.items():
            fuzzy_hits = _fuzzy_hits(leaves[index], starts, units)
            if fuzzy_hits:
                hits[index] = fuzzy_hits
        return hits

    def _too_slow(self, index: int, transcript_id: str, budget: float) -> RuleTooSlow:
        leaf = self.leaves[index]
        users = [rule for rule in self.rules if index in _leaves_of(rule.node, set())]
        rule = users[0] if users else None
        where = f"{rule.where}: " if rule is not None and rule.where else ""
        of = f" of code {rule.code!r}" if rule is not None else ""
        shown = leaf.text if len(leaf.text) <= 60 else leaf.text[:57] + "..."
        return RuleTooSlow(
            f"{where}the rule regex {shown!r}{of} took more than {budget:.1f} s on "
            f"transcript {transcript_id!r}; auto-coding stopped and proposed nothing",
            SLOW_REGEX_HINT)

    def _holding(self, node: Node, scope: str, units: Units,
                 hits: dict[int, dict[Unit, Spans]]) -> Iterable[tuple[Unit, Spans]]:
        found = self._candidates_of(node, scope, units, hits)
        for unit in (units.all(scope) if found is None else sorted(found)):
            spans = self._eval(node, unit, units, hits)
            if spans is not None:
                yield unit, spans

    def _candidates_of(self, node: Node, scope: str, units: Units,
                       hits: dict[int, dict[Unit, Spans]]) -> set[Unit] | None:
        """The units a rule can hold for, or None for "any unit" (a negation)."""
        kind = node[0]
        if kind == "leaf":
            leaf = self.leaves[node[1]]
            if leaf.kind == "speaker":
                return {unit for unit in units.all(scope)
                        if self._speaker(node[1], units.passages[unit[0]].speaker)}
            return set(hits.get(node[1], ()))
        if kind == "not":
            return None
        parts = [self._candidates_of(child, scope, units, hits) for child in node[1]]
        if kind == "all":
            bounded = [p for p in parts if p is not None]
            return set.intersection(*bounded) if bounded else None
        either: set[Unit] = set()
        for part in parts:
            if part is None:
                return None
            either |= part
        return either

    def _eval(self, node: Node, unit: Unit, units: Units,
              hits: dict[int, dict[Unit, Spans]]) -> Spans | None:
        """The matched spans when the rule holds for ``unit`` (maybe none), else None."""
        kind = node[0]
        if kind == "leaf":
            leaf = self.leaves[node[1]]
            if leaf.kind == "speaker":
                return [] if self._speaker(node[1], units.passages[unit[0]].speaker) else None
            return hits.get(node[1], {}).get(unit)
        if kind == "not":
            return [] if self._eval(node[1], unit, units, hits) is None else None
        spans: Spans = []
        held = False
        for child in node[1]:
            found = self._eval(child, unit, units, hits)
            if found is None:
                if kind == "all":
                    return None
                continue
            held = True
            spans.extend(found)
        return _merge_spans(spans) if held else None

    def _speaker(self, index: int, speaker: str | None) -> bool:
        key = (index, speaker)
        known = self._speaker_cache.get(key)
        if known is None:
            known = speaker is not None and bool(
                self.leaves[index].regex.fullmatch(nfc(speaker).strip()))
            self._speaker_cache[key] = known
        return known

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(rule.code for rule in self.rules))


def _leaves_of(node: Node, found: set[int]) -> set[int]:
    if node[0] == "leaf":
        found.add(node[1])
    elif node[0] == "not":
        _leaves_of(node[1], found)
    else:
        for child in node[1]:
            _leaves_of(child, found)
    return found


def _is_word(text: str) -> bool:
    return all(ch.isalnum() or ch == "_" for ch in text)


def _make_leaf(kind: str, value: str, score: float) -> Leaf:
    if kind == "match":
        source, prefix = wildcard_regex(value)
        return Leaf(kind, " ".join(fold(nfc(value)).split()), pattern=re.compile(source),
                    prefix=prefix)
    if kind == "regex":
        return Leaf(kind, value, pattern=compile_regex(value))
    if kind == "speaker":
        return Leaf(kind, value, pattern=speaker_regex(value))
    phrase, prefixes = fuzzy_phrase(value)
    return Leaf(kind, value, score=score, prefixes=prefixes, phrase=phrase)


def _fuzzy_hits(leaf: Leaf, starts: list[tuple[int, int]], units: Units
                ) -> dict[Unit, Spans]:
    """Approximate matches of a fuzzy phrase in windows around its candidate word starts
    (the best match in each window), per passage."""
    found = fuzzy_spans(leaf.phrase, leaf.score, units.low, starts, units.areas)
    return {(passage_index, -1): spans for passage_index, spans in found.items()}


def _merge_spans(spans: Spans) -> Spans:
    if len(spans) < 2:
        return list(spans)
    merged: Spans = []
    for start, end in sorted(set(spans)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# -- compiling a codebook --------------------------------------------------------------------


def compile_codebook(codebook: Codebook, codes: Iterable[str] | None = None,
                     keywords: bool = False) -> RuleSet:
    """The rules (and with ``keywords``, the keywords) of the codable codes chosen."""
    wanted = select_codes(codebook, codes)
    ruleset = RuleSet()
    for code in codebook:
        if code.id not in wanted or not code.codable:
            continue
        for number, rule in enumerate(code.rules):
            ruleset.add(code.id, rule, where=codebook.rule_location(code.id, number))
        if keywords:
            for keyword in code.keywords:
                ruleset.add_keyword(code.id, keyword)
    return ruleset


def select_codes(codebook: Codebook, codes: Iterable[str] | None) -> set[str]:
    """``--codes ID,...`` with their descendants; every code when None."""
    if not codes:
        return {c.id for c in codebook if c.id in codebook.parent_of}
    wanted: set[str] = set()
    for name in codes:
        for part in str(name).split(","):
            if part.strip():
                wanted.update(codebook.descendants(codebook.require(part.strip()).id))
    return wanted
