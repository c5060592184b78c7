"""The auto-coding rule language of the codebook (``rules:``): what a rule may say, its
patterns, and the ``qcode check`` rules that hold it to that (called by the codebook
loader). The engine that applies rules is ``qcode.coding.autocode``.

``regex`` rules are compiled (and checked) with the ``regex`` package, whose matching
takes a time limit: no inspection of a pattern can tell every slow one, so the engine
stops a rule that runs past its budget. ``match`` and ``speaker`` patterns are
translated so that they run in linear time whatever the wildcards.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import ConfigDict, Field

from qcode.format.limits import MAX_REGEX_DEPTH
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
    parts = [word_regex(word) for word in words]
    prefix = ""
    for ch in (words[0] if words else ""):
        if ch in "*?":
            break
        prefix += ch
    return r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", prefix


def word_regex(word: str) -> str:
    """One word of a ``match`` pattern as a regex that runs in linear time.

    A stretch of the word between non-word characters (letters, digits, ``?``, ``*``)
    matches a whole run of word characters in the text, so it is a glob over that run:
    each part between two ``*`` is matched at its first place after the one before, in
    an atomic group, which is always right for a glob and never backtracks. Written as
    plain ``\\w*``, ``a*a*a*a*b`` took time to the power of its stars on a long word.
    """
    out, stretch = [], ""
    for ch in word + " ":
        if ch in "*?" or (ch != " " and re.match(r"\w", ch)):
            stretch += ch
            continue
        out.append(_glob(stretch, r"\w", r"\w"))
        stretch = ""
        if ch != " ":
            out.append(re.escape(ch))
    return "".join(out)


def _glob(pattern: str, one: str, any_char: str) -> str:
    """``*`` and ``?`` over ``any_char`` as a regex, the middle parts in atomic groups."""
    def part(text: str) -> str:
        return "".join(one if ch == "?" else re.escape(ch) for ch in text)

    pieces = pattern.split("*")
    if len(pieces) == 1:
        return part(pattern)
    middle = "".join(f"(?>{any_char}*?{part(piece)})" for piece in pieces[1:-1] if piece)
    return part(pieces[0]) + middle + f"{any_char}*" + part(pieces[-1])


def speaker_regex(pattern: str) -> re.Pattern[str]:
    """A ``speaker`` pattern (``*`` any text, ``?`` one character) for ``fullmatch``;
    linear in the label's length however many ``*`` it has."""
    return re.compile(_glob(nfc(pattern).strip(), ".", "."), re.IGNORECASE | re.DOTALL)


def speaker_matcher(patterns: Iterable[str]) -> Callable[[str | None], bool] | None:
    """Whether a passage's speaker label matches one of ``patterns`` (as a ``speaker:``
    rule: whole label, any case, ``*`` and ``?`` wildcards; a passage without a label
    matches none); None without patterns. Answers are remembered per label."""
    compiled = [speaker_regex(p) for p in patterns]
    if not compiled:
        return None
    known: dict[str, bool] = {}

    def matches(speaker: str | None) -> bool:
        if speaker is None:
            return False
        answer = known.get(speaker)
        if answer is None:
            label = nfc(speaker).strip()
            answer = known[speaker] = any(p.fullmatch(label) for p in compiled)
        return answer

    return matches


def compile_regex(source: str) -> Any:
    """A ``regex`` rule compiled as the engine runs it: with the ``regex`` package (its
    ``VERSION0`` syntax is Python's ``re``), whose matching takes a ``timeout``."""
    import warnings

    import regex

    with warnings.catch_warnings():  # "possible nested set": Python's own reading stands
        warnings.simplefilter("ignore", FutureWarning)
        return regex.compile(nfc(source), regex.VERSION0)


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
        _check_rule(rule, loc, doc, rel, problems, f"a rule of {code_id!r}", top=True)
        if len(problems.errors) == errors and not has_positive(rule):
            problems.warning("rule-negative", rel, doc.line_for(loc),
                             f"rule {index + 1} of {code_id!r} ({describe(rule)}) matches by "
                             "negation only: it proposes every passage without a match",
                             "combine it with a positive rule in `all:`")


def check_pattern(rule: Rule, where: str) -> Problems:
    """The checks of ``check_rules`` for one rule outside a codebook (a search pattern),
    its messages starting with ``where``."""
    from qcode.problems import Problems

    problems = Problems()
    _check_rule(rule, (), _NO_LINES, "", problems, where, top=True)
    return problems


class _NoLines:
    def line_for(self, loc: tuple) -> int | None:
        return None


_NO_LINES = _NoLines()


class _Lines(Protocol):
    def line_for(self, loc: tuple) -> int | None: ...


def _check_rule(rule: Rule, loc: tuple, doc: _Lines, rel: str, problems: Problems,
                where: str, top: bool) -> None:
    line = doc.line_for(loc)
    present = [name for name in MATCHERS if rule_value(rule, name) is not None]
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
            _check_rule(child, (*loc, kind, index), doc, rel, problems, where, top=False)
    elif kind == "not":
        _check_rule(value, (*loc, "not"), doc, rel, problems, where, top=False)


def _check_regex(source: str, line: int | None, rel: str, problems: Problems,
                 where: str) -> None:
    import regex

    shown = source if len(source) <= 80 else source[:77] + "..."
    depth = group_depth(source)
    if depth > MAX_REGEX_DEPTH:
        problems.error("rule-regex", rel, line,
                       f"{where}: regex {shown!r} nests groups {depth} deep, more than "
                       f"{MAX_REGEX_DEPTH}", "write the pattern with fewer nested ( )")
        return
    try:
        compile_regex(source)
    except (regex.error, RecursionError, OverflowError) as exc:
        position = getattr(exc, "pos", None)
        at = f" (at position {position})" if position is not None else ""
        problems.error("rule-regex", rel, line, f"{where}: regex {shown!r} does not compile: "
                       f"{getattr(exc, 'msg', None) or exc}{at}",
                       "Python regular expression syntax; test it with `qcode autocode "
                       "--dry-run`")
        return
    parsed = _parse_regex(nfc(source))
    if parsed is None:  # the regex package's own syntax: only the time budget guards it
        return
    if parsed.getwidth()[0] == 0:
        problems.error("rule-regex", rel, line,
                       f"{where}: regex {shown!r} can match empty text, so it would match "
                       "everywhere", "make it require at least one character")
    if _nested_quantifier(list(parsed), False):
        problems.error("rule-backtracking", rel, line,
                       f"{where}: regex {shown!r} nests a repeated part inside a repeat "
                       "(like (a+)+), which can take exponential time on some text",
                       "drop the inner or outer quantifier, or use a possessive (a++) or "
                       "atomic (?>...) group")
        return
    shape = _slow_shape(list(parsed))
    if shape:
        problems.warning("rule-slow-pattern", rel, line,
                         f"{where}: regex {shown!r} {shape}, which can take very long on "
                         "some text; `qcode autocode` stops a rule that runs past "
                         "its time budget", "make the alternatives or repeats exclusive, "
                         "or use a possessive (a++) or atomic (?>...) group")


def group_depth(source: str) -> int:
    """How deep ``(`` nest in a pattern (outside ``[...]``, not escaped): the compilers
    recurse once per level, so this is checked before compiling."""
    depth = deepest = 0
    escaped = in_class = False
    for ch in source:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth = max(depth - 1, 0)
    return deepest


def _parse_regex(source: str) -> Any:
    # The standard library's own regex parser (``re._parser``, Python 3.11+): the only
    # complete reader of Python's pattern syntax. None for what only the regex package
    # reads (its own escapes and syntax).
    import warnings

    sre_parse = importlib.import_module("re._parser")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return sre_parse.parse(source)
    except (re.error, RecursionError, OverflowError):
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


def _slow_shape(items: list) -> str | None:
    """Shapes that backtrack exponentially without nesting a repeat in a repeat: a
    repeat whose parts can match the same text in two ways (``(a|aa)+``, ``(\\d|[0-5])+``)
    and a counted repeat of "anything" (``(.*a){10}``). Heuristic: a warning."""
    c = importlib.import_module("re._constants")
    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            _, high, body = av
            body = list(body)
            if high > 1 and (_ambiguous(body) or _optional_tail_overlaps(body)):
                return "repeats a part that can match the same text in more than one way"
            if 1 < high <= _MAX_BOUNDED_REPEAT and _repeats_anything(body):
                return "repeats a part with .* (or [^...]*) in it a fixed number of times"
            found = _slow_shape(body)
        elif op == c.SUBPATTERN:
            found = _slow_shape(list(av[3]))
        elif op == c.BRANCH:
            found = next((f for alt in av[1] if (f := _slow_shape(list(alt)))), None)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            found = _slow_shape(list(av[1]))
        else:
            found = None
        if found:
            return found
    return None


def _ambiguous(items: list) -> bool:
    """A branch (at any group depth) whose non-empty alternatives can start alike."""
    c = importlib.import_module("re._constants")
    for op, av in items:
        if op == c.SUBPATTERN and _ambiguous(list(av[3])):
            return True
        if op == c.BRANCH:
            firsts = [_first(list(alt)) for alt in av[1] if list(alt)]
            for i, one in enumerate(firsts):
                if any(_overlap(one, other) for other in firsts[i + 1:]):
                    return True
    return False


def _optional_tail_overlaps(items: list, start: Any = False) -> bool:
    """The repeated part ends with something optional that can start like the part
    itself (``start``): ``(aa?)+``, or ``(a|aa)+``, which the parser reads as
    ``(a(|a))+``. ``(ab?)+`` is fine."""
    c = importlib.import_module("re._constants")
    if not items:
        return False
    if start is False:
        start = _first(items)
    op, av = items[-1]
    if op == c.SUBPATTERN:
        return _optional_tail_overlaps(list(av[3]), start)
    if op == c.BRANCH and any(not list(alt) for alt in av[1]):
        return _overlap(_union(_first(list(alt)) for alt in av[1] if list(alt)), start)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] == 0:
        return _overlap(_first(list(av[2])), start)
    return False


def _repeats_anything(items: list) -> bool:
    c = importlib.import_module("re._constants")
    for op, av in items:
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            body = list(av[2])
            if av[1] == c.MAXREPEAT and len(body) == 1 and (
                    body[0][0] in (c.ANY, c.NOT_LITERAL)
                    or (body[0][0] == c.IN and body[0][1] and body[0][1][0][0] == c.NEGATE)):
                return True
            if _repeats_anything(body):
                return True
        parts = ([list(av[3])] if op == c.SUBPATTERN
                 else [list(alt) for alt in av[1]] if op == c.BRANCH else [])
        if any(_repeats_anything(part) for part in parts):
            return True
    return False


def _first(items: list) -> set[str] | None:
    """The characters a match of ``items`` can start with (lower-cased), or None for
    "could be anything" (classes, categories, anchors followed by anything)."""
    c = importlib.import_module("re._constants")
    for op, av in items:
        if op == c.LITERAL:
            return {chr(av).lower()}
        if op == c.IN:
            chars: set[str] = set()
            for kind, value in av:
                if kind == c.LITERAL:
                    chars.add(chr(value).lower())
                elif kind == c.RANGE and value[1] - value[0] < 256:
                    chars.update(chr(n).lower() for n in range(value[0], value[1] + 1))
                else:
                    return None
            return chars
        if op == c.SUBPATTERN:
            return _first(list(av[3]))
        if op == c.BRANCH:
            return _union(_first(list(alt)) for alt in av[1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            return _first(list(av[2])) if av[0] > 0 else None
        if op == c.AT:
            continue
        return None
    return None


def _union(parts: Iterable[set[str] | None]) -> set[str] | None:
    out: set[str] = set()
    for part in parts:
        if part is None:
            return None
        out |= part
    return out


def _overlap(one: set[str] | None, other: set[str] | None) -> bool:
    return one is None or other is None or bool(one & other)


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

