"""The auto-coding rule language of the codebook (``rules:``): what a rule may say, its
patterns, and the ``qcode check`` rules that hold it to that (called by the codebook
loader). The engine that applies rules is ``qcode.coding.autocode``."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from qcode.format.text import fold, nfc
from qcode.format.validation import StrictModel

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.yamlio import YamlDocument
    from qcode.problems import Problems

DEFAULT_SCORE = 85
SCOPES = ("passage", "sentence")
MATCHERS = ("match", "regex", "fuzzy", "speaker", "all", "any", "not")
MIN_FUZZY = 4        # shorter fuzzy phrases match almost anything
_MAX_BOUNDED_REPEAT = 10  # {0,10} around a quantifier is harmless; more is checked like *


class Rule(StrictModel):
    """One auto-coding rule (see ``qcode.autocode``): exactly one of the matchers
    ``match``, ``regex``, ``fuzzy``, ``speaker``, ``all``, ``any``, ``not``; ``score`` goes
    with ``fuzzy``, ``scope`` with a code's top-level rules. Checked by ``check_rules``."""

    # `not` is a Python keyword: the field is `not_`, written and dumped as `not`.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              serialize_by_alias=True)

    match: str | None = None
    regex: str | None = None
    fuzzy: str | None = None
    score: int | float | None = None
    speaker: str | None = None
    all: list[Rule] | None = None
    any: list[Rule] | None = None
    not_: Rule | None = Field(None, alias="not")
    scope: Literal["passage", "sentence"] | None = None


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


def speaker_regex(pattern: str) -> re.Pattern[str]:
    source = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                     for ch in nfc(pattern).strip())
    return re.compile(source, re.IGNORECASE | re.DOTALL)


def check_rules(code_id: str, codable: bool, rules: list[Rule], here: tuple,
                doc: YamlDocument, rel: str, problems: Problems) -> None:
    """Every rule of a code: one matcher each, patterns that compile and cannot run away,
    scores in range. Problems go to ``problems`` with the rule's line."""
    if not codable:
        problems.error("rule-not-codable", rel, doc.line_for((*here, "rules")),
                       f"code {code_id!r} has rules but is a grouping folder (codable: false)",
                       "put the rules on one of its children")
    for index, rule in enumerate(rules):
        loc = (*here, "rules", index)
        errors = len(problems.errors)
        _check_rule(rule, loc, doc, rel, problems, code_id, top=True)
        if len(problems.errors) == errors and not has_positive(rule):
            problems.warning("rule-negative", rel, doc.line_for(loc),
                             f"rule {index + 1} of {code_id!r} ({describe(rule)}) matches by "
                             "negation only: it proposes every passage without a match",
                             "combine it with a positive rule in `all:`")


def _check_rule(rule: Rule, loc: tuple, doc: YamlDocument, rel: str, problems: Problems,
                code_id: str, top: bool) -> None:
    line = doc.line_for(loc)
    present = [name for name in MATCHERS if rule_value(rule, name) is not None]
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
    value = rule_value(rule, kind)
    if kind in ("match", "regex", "fuzzy", "speaker") and not value.strip():
        problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                       f"{where}: {kind} is empty", f"give {kind}: a text")
        return
    if kind == "match" and not any(ch not in "*? \t\n" for ch in value):
        problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                       f"{where}: match {value!r} has only wildcards and would match every "
                       "word", "start it with some letters, e.g. lederforankr*")
    elif kind == "fuzzy":
        if len(" ".join(value.split())) < MIN_FUZZY:
            problems.error("rule-invalid", rel, doc.line_for((*loc, kind)),
                           f"{where}: fuzzy {value!r} is too short to match approximately",
                           f"use at least {MIN_FUZZY} characters, or match: for a word")
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


def _parse_regex(source: str) -> Any:
    # The standard library's own regex parser (``re._parser``, Python 3.11+): the only
    # complete reader of Python's pattern syntax.
    sre_parse = importlib.import_module("re._parser")
    try:
        return sre_parse.parse(source)
    except re.error:  # pragma: no cover
        return None


def _nested_quantifier(items: list, inside: bool) -> bool:
    """True when a repeat that can match more than once sits inside another unbounded (or
    long) repeat: the shape of catastrophic backtracking. Possessive and atomic groups do
    not backtrack and are left alone."""
    c = importlib.import_module("re._constants")

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


def rule_value(rule: Rule, name: str) -> Any:
    return rule.not_ if name == "not" else getattr(rule, name)


def rule_kind(rule: Rule) -> str:
    for name in MATCHERS:
        if rule_value(rule, name) is not None:
            return name
    return "match"  # an invalid rule (a check error): never reached when compiling


def has_positive(rule: Rule) -> bool:
    kind = rule_kind(rule)
    if kind == "not":
        return False
    if kind == "all":
        return any(has_positive(r) for r in rule.all or [])
    if kind == "any":
        return bool(rule.any) and all(has_positive(r) for r in rule.any or [])
    return True


def describe(rule: Rule) -> str:
    """A rule as one line of text, e.g. ``all(speaker "Rektor", match "plan*")``."""
    kind = rule_kind(rule)
    value = rule_value(rule, kind)
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


def check_speaker_rules(rules_by_code: Iterable[tuple[str, list[Rule]]],
                        lines: dict[str, int], rel: str, speakers: set[str],
                        problems: Problems) -> None:
    """A ``speaker:`` rule that no passage's speaker label matches can never hold: a
    warning at its code (the labels are those of every transcript)."""
    for code_id, rules in rules_by_code:
        for pattern in _speaker_patterns(rules):
            regex = speaker_regex(pattern)
            if not any(regex.fullmatch(nfc(s).strip()) for s in speakers):
                shown = ", ".join(sorted(speakers)[:8]) or "none"
                problems.warning(
                    "rule-speaker-unmatched", rel, lines.get(code_id),
                    f"a rule of {code_id!r} needs speaker {pattern!r}, which no passage has",
                    f"speaker labels in the transcripts: {shown}")


def _speaker_patterns(rules: Iterable[Rule]) -> Iterator[str]:
    for rule in rules:
        if rule.speaker is not None:
            yield rule.speaker
        yield from _speaker_patterns([*(rule.all or []), *(rule.any or []),
                                      *([rule.not_] if rule.not_ is not None else [])])

