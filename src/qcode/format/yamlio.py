"""Safe YAML 1.2 reading that remembers where every key and item came from.

We never let a YAML library construct objects. ruamel.yaml only *composes* the node
graph (YAML 1.2 rules, so the language code ``no`` stays the string "no"); this module
turns nodes into plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` and
records the 1-based line of every key and list item, keyed by its path (``loc``), so a
pydantic error at ``("codes", 3, "label")`` can be reported at its line in the file.

Dates stay strings: a transcript's ``interview_date: 2019-02-14`` is the text the
researcher wrote, not a ``datetime``. Any tag outside YAML's core schema (``!!python/…``,
``!custom``) is rejected, never constructed.
"""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode.format.limits import MAX_ALIAS_VALUES, MAX_YAML_DEPTH
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}

Loc = tuple[Any, ...]


class YamlProblem(Exception):
    def __init__(self, rule: str, line: int | None, message: str, hint: str | None = None):
        super().__init__(message)
        self.rule = rule
        self.line = line
        self.message = message
        self.hint = hint


@dataclass
class YamlDocument:
    data: Any
    positions: dict[Loc, int] = field(default_factory=dict)
    # The SHA-256 of the bytes parsed, when read from a file by ``load_yaml_file``: what
    # the cache keys on.
    sha256: str | None = field(default=None, compare=False)

    def line_for(self, loc: Loc) -> int | None:
        """The line of ``loc``, or of its nearest enclosing key when ``loc`` is absent."""
        loc = self._as_written(tuple(loc))
        while loc:
            line = self.positions.get(loc)
            if line is not None:
                return line
            loc = loc[:-1]
        return self.positions.get(())

    def _as_written(self, loc: Loc) -> Loc:
        """``loc`` with each key as the document has it: pydantic names a key that is
        not text (null, a number) by its ``str()``."""
        node, keys = self.data, []
        for part in loc:
            if isinstance(node, dict) and part not in node:
                part = next((key for key in node if str(key) == str(part)), part)
            keys.append(part)
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                node = None
        return tuple(keys)


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _too_deep(line: int | None) -> YamlProblem:
    return YamlProblem("yaml-too-deep", line,
                       f"the YAML nests more than {MAX_YAML_DEPTH} levels deep (lists and "
                       "mappings inside each other)",
                       "no qcode file needs that depth; check where the file came from")


@functools.cache
def _composer_class() -> Any:
    from ruamel.yaml.composer import Composer

    class DepthLimitedComposer(Composer):
        """ruamel's composer recurses once per level: stop at ``MAX_YAML_DEPTH`` with the
        line, long before Python's recursion limit."""

        nesting = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.nesting += 1
            try:
                if self.nesting > MAX_YAML_DEPTH:
                    raise _TooDeep(self.parser.peek_event().start_mark.line + 1)
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    return DepthLimitedComposer


def _yaml():
    from ruamel.yaml import YAML

    # The pure-Python safe pipeline: YAML 1.2 resolution (the C parser would bring
    # libyaml's YAML 1.1 rules back), and no comment bookkeeping since we only compose.
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _composer_class()
    return yaml


def parse_yaml(text: str, line_offset: int = 0) -> YamlDocument:
    """Parse one YAML document; raise ``YamlProblem`` with a file line on any problem.

    ``line_offset`` is added to every line (front matter starts below the ``---``).
    """
    return parse_yaml_nodes(text, line_offset)[0]


def parse_yaml_nodes(text: str, line_offset: int = 0) -> tuple[YamlDocument, Any]:
    """``parse_yaml``, with the composed node graph (None for an empty document): where
    each node starts and ends in ``text`` (``start_mark.index``, ``end_mark.index``), for
    an edit that must change nothing else (``qcode.format.codebook_edit``). An alias is
    the node it names, marks and all."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    try:
        # The text itself, not a stream: ruamel re-copies a stream's buffer for every
        # 1,024 characters read inside one token, which made a long value quadratic.
        node = _yaml().compose(text)
    except _TooDeep as exc:
        raise _too_deep(exc.line + line_offset) from None
    except MarkedYAMLError as exc:
        line, message, hint = plain_syntax_error(exc, text)
        raise YamlProblem("yaml-syntax", line + line_offset if line else None, message,
                          hint) from None
    except ReaderError as exc:  # a character YAML forbids; it has a position, not a mark
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        raise YamlProblem("yaml-syntax", text.count("\n", 0, exc.position) + 1 + line_offset,
                          f"a character YAML does not allow (U+{char:04X}, a control "
                          "character)", "remove it: it often comes from copying text out "
                          "of another program") from None
    except YAMLError as exc:
        raise YamlProblem("yaml-syntax", None, f"YAML syntax error: {exc}") from None
    doc = YamlDocument(data=None)
    if node is None:
        return doc, None
    builder = _Builder(doc, line_offset)
    doc.data = builder.build(node, ())
    doc.positions.setdefault((), builder.line(node))  # a missing top-level key's line
    return doc, node


def plain_syntax_error(exc: Any, text: str) -> tuple[int | None, str, str]:
    """The parser's complaint as a person would put it: (1-based line, message, hint).
    ruamel speaks of "<block end>" and "simple keys"; the user wrote a tab, an unclosed
    quote, a line without its colon or an indentation that does not line up."""
    problem, context = str(exc.problem or ""), str(exc.context or "")
    at, opened = exc.problem_mark, exc.context_mark
    line = at.line + 1 if at is not None else None
    column = at.column + 1 if at is not None else None
    start = opened.line + 1 if opened is not None else line
    lines = text.splitlines()
    source = lines[line - 1] if line and line <= len(lines) else ""
    if "'\\t'" in problem or "\t" in problem or source[:column or 0].strip(" ") == "\t":
        return (line, "a tab in the indentation: YAML indents with spaces only",
                "replace the tab at the start of the line with spaces")
    if "quoted scalar" in context:
        opening = lines[start - 1] if start and start <= len(lines) else ""
        quote, escaped = ('"', '\\"') if '"' in opening else ("'", "''")
        return (start, f"a quoted value opened with {quote} is never closed",
                f"end the value with {quote} on the same line, or write a {quote} inside "
                f"it as {escaped}")
    if "could not find expected ':'" in problem:
        return (start, "a line without a colon: YAML expects `key: value` here",
                "add the missing ':' after the key, or indent the line to continue the text "
                "above it")
    if "mapping values are not allowed" in problem:
        return (line, "a value holds ': ' (a colon and a space), which YAML reads as a new key",
                'put the value in quotes: key: "text: more text"')
    if "flow sequence" in context or "flow mapping" in context:
        bracket, close = ("[", "]") if "sequence" in context else ("{", "}")
        return (start, f"a {bracket} is opened and not closed on its line",
                f"close it with {close}, or put items that hold : , [ ] {{ }} in quotes")
    if "undefined alias" in problem:
        return (line, f"*{problem.rsplit(' ', 1)[-1].strip(chr(39))} refers to no &anchor",
                "define the anchor (&name) above it, or write the value out")
    if "cannot start any token" in problem:
        char = problem.split("'")[1] if problem.count("'") >= 2 else "this character"
        return (line, f"a value cannot start with {char}", "put the value in quotes")
    if "<block end>" in problem or "expected key" in problem:
        return (line, f"the indentation of line {line} does not line up with the lines "
                "above it", "indent it as far as the other keys of its block (a nested "
                "block: further than its parent), with spaces")
    where = f" (column {column})" if column else ""
    return (line, f"the YAML cannot be read here{where}: {problem or context}",
            "fix the YAML syntax (indentation, quotes, brackets)")


class _Builder:
    """Nodes into plain values. An alias is built again at every place it is used, so
    what aliases expand to is counted (``MAX_ALIAS_VALUES``: an alias bomb stops there),
    and so is the depth the result reaches (aliases inside aliases nest deeper than the
    text does)."""

    def __init__(self, doc: YamlDocument, line_offset: int) -> None:
        self.doc = doc
        self.offset = line_offset
        self.built: set[int] = set()   # nodes built once; meeting one again is an alias
        self.expanding = 0             # > 0 while building an alias's copy
        self.expanded = 0
        self.outer_line = 1 + line_offset  # of the latest node built outside any copy
        self.active: set[int] = set()

    def line(self, node) -> int:
        return node.start_mark.line + 1 + self.offset

    def build(self, node, loc: Loc) -> Any:
        key = id(node)
        again = key in self.built
        if again or self.expanding:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_VALUES:
                raise YamlProblem("yaml-too-large", self.outer_line,
                                  f"YAML aliases expand to more than {MAX_ALIAS_VALUES:,} "
                                  "values (an alias bomb?)",
                                  "remove the repeated aliases (*name)")
        else:
            self.built.add(key)
            self.outer_line = self.line(node)
        if len(loc) > MAX_YAML_DEPTH:
            raise _too_deep(self.line(node))
        self.expanding += again
        try:
            return self._build(node, loc)
        finally:
            self.expanding -= again

    def _build(self, node, loc: Loc) -> Any:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        tag = str(node.tag)
        if id(node) in self.active:
            raise YamlProblem("yaml-syntax", self.line(node), "YAML alias refers to itself")
        if isinstance(node, ScalarNode):
            if tag not in _SCALAR_TAGS:
                raise _unsafe(tag, self.line(node))
            return _scalar(tag, node.value, self.line(node))
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if tag != f"{_CORE}seq":
                    raise _unsafe(tag, self.line(node))
                items = []
                for i, child in enumerate(node.value):
                    self.doc.positions[(*loc, i)] = self.line(child)
                    items.append(self.build(child, (*loc, i)))
                return items
            if isinstance(node, MappingNode):
                if tag != f"{_CORE}map":
                    raise _unsafe(tag, self.line(node))
                result: dict[Any, Any] = {}
                for key_node, value_node in node.value:
                    key = self.build(key_node, loc)
                    if isinstance(key, (dict, list)):
                        raise YamlProblem("yaml-syntax", self.line(key_node),
                                          "a mapping key must be a plain value")
                    key_line = self.line(key_node)
                    if key in result:
                        first = self.doc.positions.get((*loc, key))
                        raise YamlProblem(
                            "yaml-duplicate-key", key_line,
                            f"duplicate key {key!r} (first at line {first})",
                            "keep one of the two keys")
                    self.doc.positions[(*loc, key)] = key_line
                    result[key] = self.build(value_node, (*loc, key))
                return result
        finally:
            self.active.discard(id(node))
        raise _unsafe(tag, self.line(node))


def _unsafe(tag: str, line: int) -> YamlProblem:
    shown = tag.replace(_CORE, "!!")
    return YamlProblem("yaml-unsafe-tag", line,
                       f"YAML tag {shown} is not allowed (qcode reads plain YAML only)",
                       "remove the tag; qcode never constructs objects from YAML tags")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scalar(tag: str, value: str, line: int) -> Any:
    kind = tag[len(_CORE):]
    if kind == "str" or kind == "timestamp":
        if _SURROGATE.search(value):
            # A "\ud800" escape makes half a character: no file or terminal can hold it.
            raise YamlProblem("yaml-syntax", line,
                              "a \\u escape here makes half a character (a lone surrogate)",
                              "write the character itself, or both halves of the pair as "
                              "one \\U0001xxxx escape")
        return value
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() == "true"
    if kind == "int":
        text = value.replace("_", "")
        try:
            if text.lower().startswith(("0o", "0x", "+0o", "-0o", "+0x", "-0x")):
                return int(text, 0)
            return int(text, 10)
        except ValueError:
            return value
    if kind == "float":
        text = value.lower().replace("_", "")
        if text in (".inf", "+.inf"):
            return math.inf
        if text == "-.inf":
            return -math.inf
        if text == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            return value
    raise _unsafe(tag, line)


def load_yaml_file(path, rel: str, problems: Problems, cache: Cache | None = None
                   ) -> YamlDocument | None:
    """Read and parse a YAML file; problems are recorded against ``rel``, never raised.

    With a ``cache``, a file whose content (SHA-256) was parsed before is not parsed again:
    the pure-Python YAML 1.2 parser takes a tenth of a second for a large codebook.
    """
    from qcode.format.files import decode_text, read_bytes

    raw = read_bytes(path, rel, problems)
    if raw is None:
        return None
    if cache is not None and cache.enabled:
        from qcode.format.cache import content_hash

        entry = cache.load(_cache_name(rel))
        if entry is not None and entry.get("file") == rel \
                and entry.get("sha256") == content_hash(raw):
            from qcode.format.cache import MALFORMED_ENTRY

            try:
                return YamlDocument(entry["data"], {tuple(loc): line
                                                    for loc, line in entry["positions"]},
                                    entry["sha256"])
            except MALFORMED_ENTRY:
                pass  # parse the file instead
    text = decode_text(raw, rel, problems)
    if text is None:
        return None
    try:
        doc = parse_yaml(text)
    except YamlProblem as exc:
        problems.error(exc.rule, rel, exc.line, exc.message, exc.hint)
        return None
    if cache is not None:
        from qcode.format.cache import content_hash

        doc.sha256 = content_hash(raw)
        remember_yaml(cache, rel, raw, doc)
    return doc


def remember_yaml(cache: Cache, rel: str, raw: bytes, doc: YamlDocument) -> None:
    """Keep ``doc``, parsed from ``raw`` (the bytes of ``rel``), in the cache, so the
    next ``load_yaml_file`` of those bytes does not parse them again."""
    if cache.enabled and survives_json(doc.data):
        from qcode.format.cache import content_hash

        cache.save(_cache_name(rel), {
            "file": rel, "sha256": content_hash(raw), "data": doc.data,
            "positions": [[list(loc), line] for loc, line in doc.positions.items()]})


def _cache_name(rel: str) -> str:
    from qcode.format.cache import content_hash

    return f"yaml/{content_hash(rel.encode())[:20]}.json"


def survives_json(data: Any) -> bool:
    """Whether ``data`` comes back from JSON exactly (not so: NaN, keys that are not text,
    integers beyond 64 bits); only such documents are cached."""
    import orjson

    try:
        return orjson.loads(orjson.dumps(data)) == data
    except (TypeError, orjson.JSONEncodeError):
        return False


# `key:` and the rest of the line; the value is cut out of the rest by hand, since
# `(?: +(.*?))? *` retried every split of a long run of spaces.
_SIMPLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(.*)")
_PLAIN_SAFE = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][^#:\[\]{}&*!|>'\"%@`,]*")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What YAML 1.2 does not allow in a stream (its printable set is tab, line ends, U+0085
# and the rest of Unicode outside the C0/C1 controls, surrogates and U+FFFE/U+FFFF).
_NOT_PRINTABLE = ("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                  "\U00010000-\U0010ffff]")


@functools.cache
def _not_printable() -> re.Pattern[str]:
    # Compiled when first needed: the class spans most of Unicode and takes ~7 ms to
    # compile, which a warm command (its YAML all from the cache) never needs.
    return re.compile(_NOT_PRINTABLE)
_WORDS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False,
          "FALSE": False, "null": None, "Null": None, "NULL": None, "~": None}


def parse_simple_mapping(text: str, line_offset: int = 0) -> YamlDocument | None:
    """Read the common case of front matter, ``key: plain value`` lines, without a YAML
    parser; None as soon as anything is not that simple (then ``parse_yaml`` decides).

    It accepts only what it resolves exactly as YAML 1.2 would: unquoted text starting
    with a letter and free of YAML indicators, quoted text without escapes, whole and
    decimal numbers, dates (kept as text), true/false and null. A property test holds it
    to ``parse_yaml``.
    """
    if _not_printable().search(text):
        return None  # parse_yaml refuses it, with its line
    data: dict[str, Any] = {}
    positions: dict[Loc, int] = {}
    for number, line in enumerate(text.split("\n"), start=1 + line_offset):
        if not line.strip():
            continue
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            return None
        key, rest = match.group(1), match.group(2)
        if rest and rest[0] != " ":
            return None
        raw = rest.strip(" ")
        if key in data:
            return None
        value = _simple_value(raw)
        if value is _NOT_SIMPLE:
            return None
        data[key] = value
        positions[(key,)] = number
    return YamlDocument(data=data, positions=positions)


_NOT_SIMPLE = object()


def _simple_value(raw: str) -> Any:
    if raw == "":
        return None
    if raw in _WORDS:
        return _WORDS[raw]
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    if _DATE.fullmatch(raw):
        return raw
    if len(raw) >= 2 and raw[0] == raw[-1] == "'" and "'" not in raw[1:-1]:
        return raw[1:-1]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"' and not set(raw[1:-1]) & set('"\\'):
        return raw[1:-1]
    if _PLAIN_SAFE.fullmatch(raw):
        return raw  # YAML 1.2: "no", "yes", "on" stay text
    return _NOT_SIMPLE


def dump_yaml(data: Any, width: int = 100) -> str:
    """Plain data to YAML 1.2 text: block style, key order kept, long text as ``|`` blocks;
    lines folded past ``width`` (a huge width: never)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import LiteralScalarString

    def prepare(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list):
            return [prepare(v) for v in value]
        if isinstance(value, str) and "\n" in value:
            return LiteralScalarString(value)
        return value

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = width
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(prepare(data), out)
    return out.getvalue()
