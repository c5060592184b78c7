"""Auto-coding: the codebook's ``rules:`` applied to transcripts, proposed for review.

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

``autocode(project, ...)`` writes the proposals that are new into the suggestions log
(``qcode.suggestions``) and measures the rules against human coders.
"""

from __future__ import annotations

import bisect
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode._bulk import bulk_load
from qcode.format.transcripts import LABEL_RE

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.suggestions import Suggestion, SuggestionState
    from qcode.format.codebook import Code, Codebook, Rule
    from qcode.format.transcripts import Passage, Transcript
    from qcode.format.yamlio import YamlDocument
    from qcode.problems import Problems
    from qcode.project import Project

DEFAULT_SCORE = 85
SCOPES = ("passage", "sentence")
MATCHERS = ("match", "regex", "fuzzy", "speaker", "all", "any", "not")
_MIN_FUZZY = 4        # shorter fuzzy phrases match almost anything
_FUZZY_PREFIX = 4     # a fuzzy phrase's candidate words start like its words' first 4 letters
_MAX_BOUNDED_REPEAT = 10  # {0,10} around a quantifier is harmless; more is checked like *


# -- folding and patterns ------------------------------------------------------------------


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case ``text`` keeping every character at its offset (so spans stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters (İ) lower to two: keep those as they are.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def wildcard_regex(pattern: str) -> tuple[str, str]:
    """A ``match`` pattern → (regex source on folded text, literal prefix of its first word).

    ``*`` is any run of letters or digits, ``?`` exactly one; words are separated by any
    whitespace; the pattern must start and end at word boundaries.
    """
    words = fold(nfc(pattern)).split()
    parts = []
    for word in words:
        parts.append("".join(r"\w*" if ch == "*" else r"\w" if ch == "?" else re.escape(ch)
                             for ch in word))
    prefix = ""
    for ch in (words[0] if words else ""):
        if ch in "*?":
            break
        prefix += ch
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", prefix


def _speaker_regex(pattern: str) -> re.Pattern[str]:
    source = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                     for ch in nfc(pattern).strip())
    return re.compile(source, re.IGNORECASE | re.DOTALL)


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


# -- checking rules (called by the codebook loader) --------------------------------------------


def check_rules(code: Code, here: tuple, doc: YamlDocument, rel: str,
                problems: Problems) -> None:
    """Every rule of ``code``: one matcher each, patterns that compile and cannot run away,
    scores in range. Problems go to ``problems`` with the rule's line."""
    if not code.codable:
        problems.error("rule-not-codable", rel, doc.line_for((*here, "rules")),
                       f"code {code.id!r} has rules but is a grouping folder (codable: false)",
                       "put the rules on one of its children")
    for index, rule in enumerate(code.rules):
        loc = (*here, "rules", index)
        errors = len(problems.errors)
        _check_rule(rule, loc, doc, rel, problems, code.id, top=True)
        if len(problems.errors) == errors and not _has_positive(rule):
            problems.warning("rule-negative", rel, doc.line_for(loc),
                             f"rule {index + 1} of {code.id!r} ({describe(rule)}) matches by "
                             "negation only: it proposes every passage without a match",
                             "combine it with a positive rule in `all:`")


def _check_rule(rule: Rule, loc: tuple, doc: YamlDocument, rel: str, problems: Problems,
                code_id: str, top: bool) -> None:
    line = doc.line_for(loc)
    present = [name for name in MATCHERS if _get(rule, name) is not None]
    where = f"a rule of {code_id!r}"
    if len(present) != 1:
        found = ", ".join(present) if present else "none"
        problems.error("rule-invalid", rel, line,
                       f"{where} needs exactly one of {', '.join(MATCHERS)} (found: {found})",
                       "write one matcher per rule; combine them with all:/any:/not:")
        return
    kind = present[0]
    if rule.scope is not None and not top:
        problems.error("rule-invalid", rel, doc.line_for((*loc, "scope")),
                       f"{where}: `scope` belongs on the code's top-level rule, not inside "
                       f"{kind}:", "move `scope:` up to the rule in the code's `rules:` list")
    if rule.score is not None and kind != "fuzzy":
        problems.error("rule-invalid", rel, doc.line_for((*loc, "score")),
                       f"{where}: `score` goes with `fuzzy`, not with {kind}", "remove `score:`")
    value = _get(rule, kind)
    if kind in ("match", "regex", "fuzzy", "speaker") and not value.strip():
        problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                       f"{where}: {kind} is empty", f"give {kind}: a text")
        return
    if kind == "match" and not any(ch not in "*? \t\n" for ch in value):
        problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                       f"{where}: match {value!r} has only wildcards and would match every "
                       "word", "start it with some letters, e.g. lederforankr*")
    elif kind == "fuzzy":
        if len(" ".join(value.split())) < _MIN_FUZZY:
            problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                           f"{where}: fuzzy {value!r} is too short to match approximately",
                           f"use at least {_MIN_FUZZY} characters, or match: for a word")
        score = rule.score
        if score is not None and not 0 < score <= 100:
            problems.error("rule-score", rel, doc.line_for((*loc, "score")),
                           f"{where}: score {score} is outside 1-100",
                           f"a rapidfuzz score: 100 is an exact match (default {DEFAULT_SCORE})")
    elif kind == "regex":
        _check_regex(value, doc.line_for((*loc, kind)), rel, problems, where)
    elif kind in ("all", "any"):
        if not value:
            problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                           f"{where}: {kind}: is an empty list", f"list the rules {kind}: joins")
        for index, child in enumerate(value):
            _check_rule(child, (*loc, kind, index), doc, rel, problems, code_id, top=False)
    elif kind == "not":
        _check_rule(value, (*loc, "not"), doc, rel, problems, code_id, top=False)


def _check_regex(source: str, line: int | None, rel: str, problems: Problems,
                 where: str) -> None:
    try:
        compiled = re.compile(nfc(source))
    except re.error as exc:
        problems.error("rule-regex", rel, line, f"{where}: regex {source!r} does not compile: "
                       f"{exc.msg} (at position {exc.pos})",
                       "Python regular expression syntax; test it with `qcode autocode "
                       "--dry-run`")
        return
    parsed = _parse_regex(compiled.pattern)
    if parsed is None:  # pragma: no cover - compiled above, so it parses
        return
    if parsed.getwidth()[0] == 0:
        problems.error("rule-regex", rel, line,
                       f"{where}: regex {source!r} can match empty text, so it would match "
                       "everywhere", "make it require at least one character")
    if _nested_quantifier(list(parsed), False):
        problems.error("rule-backtracking", rel, line,
                       f"{where}: regex {source!r} nests a repeated part inside a repeat "
                       "(like (a+)+), which can take exponential time on some text",
                       "drop the inner or outer quantifier, or use a possessive (a++) or "
                       "atomic (?>...) group")


def _parse_regex(source: str):
    try:
        from re import _parser as sre_parse  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse  # type: ignore[no-redef]
    try:
        return sre_parse.parse(source)
    except re.error:  # pragma: no cover
        return None


def _nested_quantifier(items: list, inside: bool) -> bool:
    """True when a repeat that can match more than once sits inside another unbounded (or
    long) repeat: the shape of catastrophic backtracking. Possessive and atomic groups do
    not backtrack and are left alone."""
    from re import _constants as c

    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _, high, body = av
            if inside and high > 1:
                return True
            outer = high == c.MAXREPEAT or high > _MAX_BOUNDED_REPEAT
            if _nested_quantifier(list(body), inside or outer):
                return True
            continue
        if op == c.SUBPATTERN:
            parts = [av[3]]
        elif op == c.BRANCH:
            parts = av[1]
        elif op in (c.ASSERT, c.ASSERT_NOT):
            parts = [av[1]]
        elif op == c.GROUPREF_EXISTS:
            parts = [branch for branch in av[1:] if branch is not None]
        else:
            parts = []
        if any(_nested_quantifier(list(part), inside) for part in parts):
            return True
    return False


def _get(rule: Rule, name: str) -> Any:
    return rule.not_ if name == "not" else getattr(rule, name)


def _kind(rule: Rule) -> str:
    for name in MATCHERS:
        if _get(rule, name) is not None:
            return name
    return "match"  # an invalid rule (a check error): never reached when compiling


def _has_positive(rule: Rule) -> bool:
    kind = _kind(rule)
    if kind == "not":
        return False
    if kind == "all":
        return any(_has_positive(r) for r in rule.all or [])
    if kind == "any":
        return bool(rule.any) and all(_has_positive(r) for r in rule.any or [])
    return True


def describe(rule: Rule) -> str:
    """A rule as one line of text, e.g. ``all(speaker "Rektor", match "plan*")``."""
    kind = _kind(rule)
    value = _get(rule, kind)
    if kind in ("all", "any"):
        text = f"{kind}({', '.join(describe(r) for r in value or [])})"
    elif kind == "not":
        text = f"not({describe(value)})"
    elif kind == "fuzzy":
        text = f'fuzzy "{value}" >= {rule.score if rule.score is not None else DEFAULT_SCORE}'
    else:
        text = f'{kind} "{value}"'
    if rule.scope == "sentence":
        text += " [sentence]"
    return text


# -- compiled rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One matcher, shared by every rule that uses the same one."""

    kind: str  # match | regex | fuzzy | speaker
    text: str
    score: float = DEFAULT_SCORE
    pattern: re.Pattern[str] | None = None  # match (on folded text), regex (as written)
    prefix: str = ""                        # match: literal start of its first word
    prefixes: tuple[str, ...] = ()          # fuzzy: where its candidate windows start
    phrase: str = ""                        # fuzzy: the folded phrase


# A compiled rule node: ("leaf", index) | ("all", [nodes]) | ("any", [nodes]) | ("not", node)
Node = tuple


@dataclass(frozen=True)
class CompiledRule:
    code: str
    node: Node
    scope: str
    text: str  # describe(rule), or `keyword "…"`


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

    @property
    def rule(self) -> str:
        return "; ".join(self.rules)

    def to_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "code": self.code, "start": self.start,
                "end": self.end, "passage": self.passage, "speaker": self.speaker,
                "scope": self.scope, "rule": self.rule,
                "matches": [list(m) for m in self.matches], "text": self.text}


# How a word start the locator found is checked against a leaf (see RuleSet._classify):
# the word found is the whole match; the word is the phrase's first word and the rest of
# the pattern is tried there; the pattern is tried there; a fuzzy window starts there.
_WORD, _PHRASE, _PATTERN, _FUZZY = range(4)

Unit = tuple[int, int]  # (passage index, sentence index); sentence -1 for the whole passage
Spans = list[tuple[int, int]]


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

    def add(self, code: str, rule: Rule, text: str | None = None) -> None:
        scope = rule.scope or "passage"
        self.rules.append(CompiledRule(code, self._node(rule), scope, text or describe(rule)))
        self._locator = None

    def add_keyword(self, code: str, keyword: str) -> None:
        from qcode.format.codebook import Rule

        if any(ch not in "*? \t\n" for ch in keyword):
            self.add(code, Rule(match=keyword), f'keyword "{keyword}"')

    def _node(self, rule: Rule) -> Node:
        kind = _kind(rule)
        value = _get(rule, kind)
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
                    first = re.compile("".join(
                        r"\w*" if ch == "*" else r"\w" if ch == "?" else re.escape(ch)
                        for ch in words[0]))
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
        words, patterned, fuzzy = [], [], []
        for index, mode, first in self._candidates[literal]:
            if mode == _FUZZY:
                fuzzy.append(index)
            elif mode == _PATTERN:
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
        units = _Units(transcript)
        scoped = {"passage": self._leaf_hits(units)}
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
                if len(entry) == 2:
                    rules, spans = [entry[0]], list(entry[1])
                else:
                    rules = list(dict.fromkeys(entry[0::2]))
                    spans = _merge_spans([span for part in entry[1::2] for span in part])
                out.append(Proposal(tid, code, start, end, passage.number, passage.speaker,
                                    scope, rules, spans, text))
        return out

    def _leaf_hits(self, units: _Units) -> dict[int, dict[Unit, Spans]]:
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
                key = found.group(0, 1)
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
            units.add_hits(hits, index, leaves[index].pattern.finditer(low))
        for index in self._regex:
            units.add_hits(hits, index, leaves[index].pattern.finditer(units.body))
        for index, starts in fuzzy_starts.items():
            spans = _fuzzy_hits(leaves[index], starts, units)
            if spans:
                hits[index] = spans
        return hits

    def _holding(self, node: Node, scope: str, units: _Units,
                 hits: dict[int, dict[Unit, Spans]]) -> Iterable[tuple[Unit, Spans]]:
        found = self._candidates_of(node, scope, units, hits)
        for unit in (units.all(scope) if found is None else sorted(found)):
            spans = self._eval(node, unit, units, hits)
            if spans is not None:
                yield unit, spans

    def _candidates_of(self, node: Node, scope: str, units: _Units,
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
        if any(p is None for p in parts):
            return None
        return set().union(*parts)

    def _eval(self, node: Node, unit: Unit, units: _Units,
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
                self.leaves[index].pattern.fullmatch(nfc(speaker).strip()))
            self._speaker_cache[key] = known
        return known

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(rule.code for rule in self.rules))


def _leaves_of(node: Node, found: set[int]) -> None:
    if node[0] == "leaf":
        found.add(node[1])
    elif node[0] == "not":
        _leaves_of(node[1], found)
    else:
        for child in node[1]:
            _leaves_of(child, found)


def _is_word(text: str) -> bool:
    return all(ch.isalnum() or ch == "_" for ch in text)


def _make_leaf(kind: str, value: str, score: float) -> Leaf:
    if kind == "match":
        source, prefix = wildcard_regex(value)
        return Leaf(kind, " ".join(fold(nfc(value)).split()), pattern=re.compile(source),
                    prefix=prefix)
    if kind == "regex":
        return Leaf(kind, value, pattern=re.compile(nfc(value)))
    if kind == "speaker":
        return Leaf(kind, value, pattern=_speaker_regex(value))
    phrase = " ".join(fold(nfc(value)).split())
    words = re.findall(r"\w+", phrase)
    long_words = [w[:_FUZZY_PREFIX] for w in words if len(w) >= _FUZZY_PREFIX]
    prefixes = tuple(dict.fromkeys(long_words or words))
    return Leaf(kind, value, score=score, prefixes=prefixes, phrase=phrase)


def _fuzzy_hits(leaf: Leaf, starts: list[tuple[int, int]], units: _Units
                ) -> dict[Unit, Spans]:
    """Approximate matches of a fuzzy phrase in windows around its candidate word starts
    (the best match in each window)."""
    from rapidfuzz.fuzz import partial_ratio_alignment

    size = len(leaf.phrase)
    slack = size // 4 + 2
    windows: list[list[int]] = []
    for passage_index, position in starts:
        lowest, highest = units.areas[passage_index]
        start, end = max(lowest, position - size - slack), min(highest, position + size + slack)
        if windows and windows[-1][2] == passage_index and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end, passage_index])
    low = units.low
    found: dict[Unit, Spans] = {}
    for start, end, passage_index in windows:
        aligned = partial_ratio_alignment(leaf.phrase, low[start:end], score_cutoff=leaf.score)
        if aligned is None:
            continue
        hit_start, hit_end = start + aligned.dest_start, start + aligned.dest_end
        # Whole words: widen the aligned piece to the words it cuts, without punctuation.
        while hit_start > start and low[hit_start - 1].isalnum():
            hit_start -= 1
        while hit_end < end and low[hit_end].isalnum():
            hit_end += 1
        while hit_start < hit_end and not low[hit_start].isalnum():
            hit_start += 1
        while hit_end > hit_start and not low[hit_end - 1].isalnum():
            hit_end -= 1
        if hit_end > hit_start:
            found.setdefault((passage_index, -1), []).append((hit_start, hit_end))
    return found


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


# -- units: passages and sentences -----------------------------------------------------------

# A sentence ends at . ! ? … (and any closing quotes) before whitespace and a capital
# letter or an opening quote or dash (so "Kl. 07:45" and "3. mai" do not end one); a blank
# line always ends one.
_SENTENCE_END = re.compile(r"[.!?…]+[\"»”’')\]]*\s+(?=\S)|\n[ \t]*\n")
_SENTENCE_OPENERS = frozenset("\"«“‘'([–—-")


class _Units:
    """The passages of a transcript with the area of their text (after the speaker label),
    and on demand their sentences. A unit is ``(passage index, sentence index)``."""

    def __init__(self, transcript: Transcript) -> None:
        self.body = transcript.body
        self.low = fold(transcript.body)
        self.passages: list[Passage] = transcript.passages
        self._starts = [p.start for p in self.passages]
        self.areas: list[tuple[int, int]] = [(self._text_start(p), p.end)
                                             for p in self.passages]
        self._sentences: dict[int, Spans] = {}

    def _text_start(self, passage: Passage) -> int:
        if passage.speaker is None:
            return passage.start
        label = LABEL_RE.match(self.body, passage.start)
        position = label.end() if label else passage.start
        while position < passage.end and self.body[position].isspace():
            position += 1
        return position

    def passage_index(self, offset: int) -> int | None:
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and self.areas[index][0] <= offset < self.areas[index][1]:
            return index
        return None

    def add_hits(self, hits: dict[int, dict[Unit, Spans]], index: int,
                 matches: Iterable[re.Match[str]]) -> None:
        """Matches found over the whole body, kept where they start in a passage's text."""
        for match in matches:
            start, end = match.span()
            if end == start:
                continue
            passage_index = self.passage_index(start)
            if passage_index is not None:
                span = (start, min(end, self.areas[passage_index][1]))
                hits.setdefault(index, {}).setdefault((passage_index, -1), []).append(span)

    def sentences(self, index: int) -> Spans:
        found = self._sentences.get(index)
        if found is None:
            found = split_sentences(self.body, *self.areas[index])
            self._sentences[index] = found
        return found

    def by_sentence(self, hits: dict[int, dict[Unit, Spans]], leaves: set[int]
                    ) -> dict[int, dict[Unit, Spans]]:
        """The hits of ``leaves`` regrouped by the sentence each starts in."""
        out: dict[int, dict[Unit, Spans]] = {}
        for leaf in leaves & hits.keys():
            per_passage = hits[leaf]
            per_sentence: dict[Unit, Spans] = {}
            for (passage_index, _), spans in per_passage.items():
                sentences = self.sentences(passage_index)
                starts = [s for s, _ in sentences]
                for start, end in spans:
                    position = bisect.bisect_right(starts, start) - 1
                    if position >= 0 and start < sentences[position][1]:
                        per_sentence.setdefault((passage_index, position), []).append(
                            (start, min(end, sentences[position][1])))
            if per_sentence:
                out[leaf] = per_sentence
        return out

    def span(self, unit: Unit) -> tuple[int, int]:
        index, sentence = unit
        if sentence < 0:
            passage = self.passages[index]
            return passage.start, passage.end
        return self.sentences(index)[sentence]

    def all(self, scope: str) -> list[Unit]:
        if scope == "passage":
            return [(i, -1) for i in range(len(self.passages))]
        return [(i, s) for i in range(len(self.passages)) for s in range(len(self.sentences(i)))]


def split_sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences of ``body[start:end]`` as trimmed spans."""
    spans = []
    position = start
    for found in _SENTENCE_END.finditer(body, start, end):
        following = body[found.end()] if found.end() < end else ""
        if found.group().startswith("\n") or following.isupper() or following in _SENTENCE_OPENERS:
            _add_trimmed(body, position, found.end(), spans)
            position = found.end()
    _add_trimmed(body, position, end, spans)
    return spans


def _add_trimmed(body: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


# -- compiling a codebook --------------------------------------------------------------------


def compile_codebook(codebook: Codebook, codes: Iterable[str] | None = None,
                     keywords: bool = False) -> RuleSet:
    """The rules (and with ``keywords``, the keywords) of the codable codes chosen."""
    wanted = select_codes(codebook, codes)
    ruleset = RuleSet()
    for code in codebook:
        if code.id not in wanted or not code.codable:
            continue
        for rule in code.rules:
            ruleset.add(code.id, rule)
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


# -- the command: propose, remember, measure -------------------------------------------------


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


def autocode(project: Project, coder: str = "auto", codes: Iterable[str] | None = None,
             where: Sequence[str] = (), gold: Sequence[str] | None = None,
             keywords: bool = False, dry_run: bool = False) -> AutocodeResult:
    """Apply the codebook's rules and append the new proposals to the coder's suggestions log.

    New means: not proposed before for that span and code (pending, accepted or rejected),
    not rejected before for the same text, and not already coded so by ``coder``. Pending
    suggestions of the codes and transcripts in scope that the rules no longer make are
    withdrawn. ``gold`` coders (default: every other coder with a log) are compared with the
    rules on passages.
    """
    from qcode.coding.suggestions import SuggestionLog
    from qcode.errors import QcodeError, UnknownName, UsageError
    from qcode.format.names import did_you_mean
    from qcode.project import check_coder_name
    from qcode.store.log import new_id, now_iso

    check_coder_name(coder)
    clock = time.perf_counter()
    codebook = project.codebook
    broken = [p for p in project.problems.errors if p.rule.startswith("rule-")]
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
    transcripts = _transcripts_in_scope(project, where)
    if gold is None:
        gold_coders = [c for c in project.coders if c != coder]
    else:
        gold_coders = list(dict.fromkeys(gold))
        for name in gold_coders:
            if name not in project.coders:
                raise UnknownName("coder", name, did_you_mean(name, project.coders),
                                  hint=f"coders with a log: {', '.join(project.coders) or 'none'}")
            if name == coder:
                raise UsageError(f"--gold {name} is the coder the suggestions are for",
                                 "compare the rules with another coder")
    seconds = {"load": time.perf_counter() - clock}

    clock = time.perf_counter()
    found: list[Proposal] = []
    with bulk_load():  # many small objects, no cycles: the collector would only slow it
        for transcript in transcripts:
            found.extend(ruleset.scan(transcript))
    seconds["scan"] = time.perf_counter() - clock

    clock = time.perf_counter()
    log = SuggestionLog(project, coder)
    reports = {code: CodeReport(code, codebook.get(code).label,
                                sum(1 for r in ruleset.rules if r.code == code))
               for code in ruleset.codes}
    canonical = _canonicalizer(codebook)
    new, withdrawn, passages = _sort_out(found, log.read(), reports, transcripts,
                                         _coded_spans(project, coder, canonical), canonical)
    if not dry_run:
        at = now_iso()
        events: list[dict[str, Any]] = [
            {"op": "add", "id": new_id(), "transcript": p.transcript, "start": p.start,
             "end": p.end, "code": p.code, "text": p.text, "at": at, "rule": p.rule,
             "passage": p.passage, "matches": [list(m) for m in p.matches]} for p in new]
        events += [{"op": "remove", "id": s.id, "at": at, "reason": "no longer matched"}
                   for s in withdrawn]
        log.append(events)
    seconds["propose"] = time.perf_counter() - clock

    clock = time.perf_counter()
    for name in gold_coders:
        _score_against(project, name, transcripts, passages, reports, canonical)
    seconds["gold"] = time.perf_counter() - clock
    ordered = [reports[c] for c in ruleset.codes]
    total = _total(ordered, gold_coders)
    return AutocodeResult(
        coder=coder, log=log.rel, dry_run=dry_run, transcripts=len(transcripts),
        rules=len(ruleset.rules), gold=gold_coders, found=found, new=new, withdrawn=withdrawn,
        codes=ordered, total=total, seconds=seconds)


def _sort_out(found: list[Proposal], state: SuggestionState, reports: dict[str, CodeReport],
              transcripts: list[Transcript], coded: dict[tuple[str, str], list], canonical
              ) -> tuple[list[Proposal], list[Suggestion], dict[str, set[tuple[str, int]]]]:
    """Which proposals are new, which pending suggestions to withdraw, and the passages each
    code's rules hold for; counts go into ``reports``."""
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
    bodies = {t.id: t.body for t in transcripts}
    withdrawn = []
    for suggestion in state.suggestions.values():
        if suggestion.status != "pending" or suggestion.transcript not in bodies:
            continue
        code = canonical(suggestion.code)
        if code not in reports:
            continue
        if ((suggestion.transcript, code, suggestion.start, suggestion.end) not in produced
                or bodies[suggestion.transcript][suggestion.start:suggestion.end]
                != suggestion.text):
            withdrawn.append(suggestion)
            reports[code].withdrawn += 1
    return new, withdrawn, passages


def _transcripts_in_scope(project: Project, where: Sequence[str]) -> list[Transcript]:
    if not where:
        return project.transcripts
    from qcode.analysis.scope import transcripts_where

    return transcripts_where(project, where)[1]


def _canonicalizer(codebook: Codebook):
    """id or alias → current id (unknown names stay as they are), remembered per name."""
    known: dict[str, str] = {}

    def canonical(code_id: str) -> str:
        found = known.get(code_id)
        if found is None:
            code = codebook.resolve(code_id)
            found = known[code_id] = code.id if code else code_id
        return found

    return canonical


def _coded_spans(project: Project, coder: str, canonical) -> dict[tuple[str, str], list]:
    if not project.log(coder).exists():
        return {}
    spans: dict[tuple[str, str], list] = {}
    for coding in project.replay(coder).codings:
        spans.setdefault((coding.transcript, canonical(coding.code)), []).append(
            (coding.start, coding.end))
    return spans


def _score_against(project: Project, coder: str, transcripts: list[Transcript],
                   passages: dict[str, set[tuple[str, int]]], reports: dict[str, CodeReport],
                   canonical) -> None:
    """Precision and recall of the rules against ``coder`` on passages (like `qcode agree`):
    a passage counts as proposed (coded) when a proposal (a coding) of the code overlaps it,
    in the transcripts in scope where the coder has at least one coding."""
    by_id = {t.id: t for t in transcripts}
    human: dict[str, set[tuple[str, int]]] = {}
    coded_transcripts: set[str] = set()
    for coding in project.replay(coder).codings:
        transcript = by_id.get(coding.transcript)
        if transcript is None:
            continue
        coded_transcripts.add(coding.transcript)
        code = canonical(coding.code)
        if code not in reports:
            continue
        for passage in transcript.passages_overlapping(coding.start, coding.end):
            human.setdefault(code, set()).add((coding.transcript, passage.number))
    for code, report in reports.items():
        mine = {p for p in passages.get(code, ()) if p[0] in coded_transcripts}
        theirs = human.get(code, set())
        report.gold[coder] = GoldScore(coder, len(coded_transcripts), len(mine & theirs),
                                       len(mine - theirs), len(theirs - mine))


def _total(reports: list[CodeReport], gold: list[str]) -> CodeReport:
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


def highlight(text: str, offset: int, matches: Iterable[tuple[int, int]],
              mark: tuple[str, str] = ("**", "**")) -> str:
    """``text`` (the body from ``offset``) with the matched spans wrapped in ``mark``."""
    out, position = [], 0
    for start, end in matches:
        start, end = max(start - offset, position), min(end - offset, len(text))
        if end <= start:
            continue
        out += [text[position:start], mark[0], text[start:end], mark[1]]
        position = end
    out.append(text[position:])
    return "".join(out)


def snippet(text: str, offset: int, matches: list[tuple[int, int]], context: int = 40,
            mark: tuple[str, str] = ("**", "**")) -> str:
    """The matched words of ``text`` (the body from ``offset``) with about ``context``
    characters of whole words around each, whitespace collapsed, gaps shown as "…"."""
    windows: list[list[int]] = []
    for start, end in matches:
        low = _word_edge(text, max(start - offset - context, 0), -1)
        high = _word_edge(text, min(end - offset + context, len(text)), 1)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    if not windows:
        windows = [[0, _word_edge(text, min(len(text), 2 * context), 1)]]
    pieces = []
    for index, (low, high) in enumerate(windows):
        piece = " ".join(highlight(text[low:high], offset + low, matches, mark).split())
        if low > 0 and index == 0:
            piece = "… " + piece
        pieces.append(piece)
    out = " … ".join(pieces)
    return out + (" …" if windows[-1][1] < len(text) else "")


def _word_edge(text: str, position: int, direction: int) -> int:
    """``position`` moved outwards to the nearest whitespace (or the text's edge)."""
    if direction < 0:
        while position > 0 and not text[position - 1].isspace():
            position -= 1
    else:
        while position < len(text) and not text[position].isspace():
            position += 1
    return position
