"""The code query language (``qcode query``): code logic evaluated on text regions.

``a & b`` is text coded with both, ``a | b`` with either, ``!a`` the rest of the
passages' text, ``near(a, b, N)`` the text of ``a`` and of ``b`` where the other occurs
within N passages; ``!`` binds tighter than ``&``, ``&`` tighter than ``|``.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from qcode.analysis.scope import attribute_text, resolve_scope, scope_attrs
from qcode.analysis.segments import segment_frame
from qcode.errors import UsageError
from qcode.format.limits import MAX_QUERY_DEPTH
from qcode.format.transcripts import Transcript
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

Intervals = list[tuple[int, int]]  # sorted, disjoint, non-empty


def _normalise(spans: Iterable[tuple[int, int]]) -> Intervals:
    out: Intervals = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _complement(a: Intervals, universe: Intervals) -> Intervals:
    out: Intervals = []
    for us, ue in universe:
        cursor = us
        for s, e in a:
            if e <= cursor or s >= ue:
                continue
            if s > cursor:
                out.append((cursor, s))
            cursor = max(cursor, e)
        if cursor < ue:
            out.append((cursor, ue))
    return out


@dataclass
class _Node:
    op: str  # code | and | or | not | near
    args: list = field(default_factory=list)
    value: object = None


_TOKEN_RE = re.compile(r"\s*(?:(?P<num>\d+)(?![a-z_-])|(?P<name>[a-z0-9][a-z0-9_-]*)"
                       r"|(?P<sym>[&|!(),]))")


class QueryError(UsageError):
    pass


def parse_query(expression: str) -> _Node:
    """``a & b``, ``a | b``, ``!a``, ``near(a, b, N)``, parentheses; ``!`` binds
    tightest, then ``&``, then ``|``."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot read the query at column {pos + 1}: {text[pos:pos + 10]!r}",
                             "use code ids with & | ! ( ) and near(a, b, N)")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    stream = _Tokens(tokens, text)
    node = stream.parse_or()
    if stream.peek() is not None:
        raise QueryError(f"unexpected {stream.peek()[1]!r} at column {stream.peek()[2]}",
                         "check the parentheses and operators")
    return node


class _Tokens:
    """A recursive-descent parser over the tokens. ``&`` and ``|`` chains become one node
    with many arguments, so only parentheses, ``!`` and ``near()`` nest, and they at most
    ``MAX_QUERY_DEPTH`` deep: evaluation recurses once per level."""

    def __init__(self, tokens, text):
        self.tokens, self.i, self.text = tokens, 0, text
        self.depth = 0

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_QUERY_DEPTH:
            raise QueryError(f"the query nests more than {MAX_QUERY_DEPTH} levels of ( ! and "
                             f"near() at column {column}",
                             "write it flatter: a & b & c needs no parentheses")

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None):
        token = self.peek()
        if token is None:
            raise QueryError(f"the query ends too early: {self.text!r}",
                             "finish the expression")
        if value is not None and token[1] != value:
            raise QueryError(f"expected {value!r} at column {token[2]}, found {token[1]!r}")
        self.i += 1
        return token

    def parse_or(self):
        nodes = [self.parse_and()]
        while self.peek() and self.peek()[1] == "|":
            self.take()
            nodes.append(self.parse_and())
        return nodes[0] if len(nodes) == 1 else _Node("or", nodes)

    def parse_and(self):
        nodes = [self.parse_not()]
        while self.peek() and self.peek()[1] == "&":
            self.take()
            nodes.append(self.parse_not())
        return nodes[0] if len(nodes) == 1 else _Node("and", nodes)

    def parse_not(self):
        token = self.peek()
        if token and token[1] == "!":
            self.take()
            self.enter(token[2])
            node = _Node("not", [self.parse_not()])
            self.depth -= 1
            return node
        return self.parse_atom()

    def parse_atom(self):
        kind, value, column = self.take()
        if value == "(":
            self.enter(column)
            node = self.parse_or()
            self.take(")")
            self.depth -= 1
            return node
        if kind == "name" and value == "near" and self.peek() and self.peek()[1] == "(":
            self.enter(column)
            self.take("(")
            a = self.parse_or()
            self.take(",")
            b = self.parse_or()
            self.take(",")
            kind_n, n, col = self.take()
            if kind_n != "num":
                raise QueryError(f"near() needs a number of passages at column {col}")
            self.take(")")
            self.depth -= 1
            return _Node("near", [a, b], int(n))
        if kind == "name":
            return _Node("code", value=value)
        raise QueryError(f"unexpected {value!r} at column {column}",
                         "a code id, ( or ! is expected here")


def query(corpus: Corpus | HasCorpus, expression: str, coders: Sequence[str] | None = None,
          all_coders: bool = False, where: Iterable[str] = (),
          changed: Iterable[tuple[str, int, int, str]] = ()) -> pd.DataFrame:
    """Passages matching a code expression, evaluated on text regions per transcript:
    a code is the text its segments cover (descendants included); ``&`` intersects, ``|``
    unites, ``!`` is the rest of the passages' text, and ``near(a, b, N)`` keeps the text of
    ``a`` and of ``b`` where the other occurs within N passages. One row per passage that
    overlaps the result, with the matched spans; ``text_changed`` marks a passage where a
    coding the expression uses was made on text that has changed since (``changed``)."""
    corpus = as_corpus(corpus)
    tree = parse_query(expression)
    scope = resolve_scope(corpus, coders, all_coders, where)
    codebook = corpus.codebook
    names: set[str] = set()
    _collect(tree, names)
    resolved = {n: codebook.descendants(codebook.require(n).id) for n in names}
    used = {c for family in resolved.values() for c in family}
    moved: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for tid, start, end, code in changed:
        if code in used:
            moved[tid].append((start, end))
    frame = segment_frame(corpus, scope)
    by_code: dict[tuple[str, str], list] = defaultdict(list)
    for t, s, e, c in frame[["transcript", "start", "end", "code"]].itertuples(index=False):
        by_code[(t, c)].append((s, e))
    records = []
    for transcript in scope.transcripts:
        universe = [(p.start, p.end) for p in transcript.passages]

        def regions(code_name: str, tid=transcript.id) -> Intervals:
            return _normalise(span for c in resolved[code_name] for span in by_code[(tid, c)])

        result = _evaluate(tree, regions, universe, transcript)
        for passage in transcript.passages:
            hits = _intersect(result, [(passage.start, passage.end)])
            if not hits:
                continue
            records.append({
                "transcript": transcript.id, "passage": passage.number,
                "speaker": passage.speaker, "start": passage.start, "end": passage.end,
                "text": transcript.body[passage.start:passage.end],
                "text_changed": any(passage.overlaps(s, e) for s, e in moved[transcript.id]),
                "matches": "; ".join(f"{s}:{e}" for s, e in hits),
                **{a: attribute_text(v) for a, v in transcript.attributes.items()},
            })
    columns = ["transcript", "passage", "speaker", "start", "end", "text", "text_changed",
               "matches",
               *corpus.attribute_names()]
    result_frame = pd.DataFrame.from_records(records, columns=columns)
    result_frame.attrs = scope_attrs(scope, query=expression)
    return result_frame


def _collect(node: _Node, names: set[str]) -> None:
    if node.op == "code":
        names.add(str(node.value))
    for arg in node.args:
        _collect(arg, names)


def _evaluate(node: _Node, regions, universe: Intervals, transcript: Transcript) -> Intervals:
    if node.op == "code":
        return regions(node.value)
    if node.op == "and":
        result = _evaluate(node.args[0], regions, universe, transcript)
        for arg in node.args[1:]:
            result = _intersect(result, _evaluate(arg, regions, universe, transcript))
        return result
    if node.op == "or":
        return _normalise(span for arg in node.args
                          for span in _evaluate(arg, regions, universe, transcript))
    if node.op == "not":
        return _complement(_evaluate(node.args[0], regions, universe, transcript), universe)
    left, right = (_evaluate(a, regions, universe, transcript) for a in node.args)
    distance = int(str(node.value))

    def passage_numbers(spans: Intervals) -> list[int]:
        return sorted({p.number for s, e in spans
                       for p in transcript.passages_overlapping(s, e)})

    def near(spans: Intervals, others: list[int]) -> Intervals:
        kept = []
        for s, e in spans:
            numbers = [p.number for p in transcript.passages_overlapping(s, e)]
            if any(_within(others, n, distance) for n in numbers):
                kept.append((s, e))
        return kept

    left_numbers, right_numbers = passage_numbers(left), passage_numbers(right)
    if not left_numbers or not right_numbers:
        return []
    return _normalise(near(left, right_numbers) + near(right, left_numbers))


def _within(sorted_numbers: list[int], n: int, distance: int) -> bool:
    i = bisect.bisect_left(sorted_numbers, n - distance)
    return i < len(sorted_numbers) and sorted_numbers[i] <= n + distance
