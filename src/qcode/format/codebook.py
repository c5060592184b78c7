"""The codebook: a YAML tree of codes, validated strictly, looked up by id or alias."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, ValidationError, field_validator

from qcode.errors import NotCodable, UnknownName
from qcode.format.limits import MAX_CODE_DEPTH
from qcode.format.names import did_you_mean
from qcode.format.rules import Rule, check_rules
from qcode.format.validation import StrictModel, validate
from qcode.format.yamlio import YamlDocument, load_yaml_file
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache
    from qcode.problems import Problem

CODE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"

# Keys a code's shortcut cannot be: the characters the full-screen coder binds by default
# (qcode.coding.keymap; a test keeps the two in step), and space, comma and minus, which
# separate and remove codes in a line-mode answer. Line mode's `b` and `.` give way to a
# code that takes them.
RESERVED_KEYS = frozenset("jkJKumdvq/?[]()+") | frozenset(" ,-")


class Code(StrictModel):
    """One code of the codebook. ``codable: false`` makes it a grouping folder."""

    id: Annotated[str, Field(pattern=CODE_ID_PATTERN, max_length=64)]
    label: Annotated[str, Field(min_length=1)]
    description: str = ""
    include: str | None = None
    exclude: str | None = None
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    key: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    color: Annotated[str, Field(pattern=COLOR_PATTERN)] | None = None
    codable: bool = True
    aliases: list[Annotated[str, Field(pattern=CODE_ID_PATTERN)]] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    children: list[Code] = Field(default_factory=list)


class ChangelogEntry(StrictModel):
    """One version of the codebook: when it was made and what changed in it."""

    version: str | int | float
    date: str
    changes: list[str] = []
    note: str | None = None
    # The codes whose definition (description, include, exclude, examples) changed in
    # this version: codings of them made under an earlier version may need a second look.
    definitions: list[str] = []

    @field_validator("version")
    @classmethod
    def _version_text(cls, value: str | int | float) -> str:
        return str(value)


class CodebookFile(StrictModel):
    """The YAML file as written: ``name``, ``version``, ``description``, ``changelog``,
    ``codes``."""

    name: str
    version: str | int | float = "1"
    description: str = ""
    changelog: list[ChangelogEntry] = []
    codes: list[Code] = []

    @field_validator("version")
    @classmethod
    def _version_text(cls, value: str | int | float) -> str:
        return str(value)


class Codebook:
    """The codes in codebook order, with their hierarchy, aliases and source lines."""

    def __init__(self, model: CodebookFile, file: str = "",
                 lines: dict[str, int] | None = None,
                 rule_lines: dict[tuple[str, int], int] | None = None) -> None:
        self.name = model.name
        self.version = str(model.version)
        self.description = model.description
        self.changelog: list[ChangelogEntry] = list(model.changelog)
        self.roots: list[Code] = list(model.codes)
        self.file = file
        self.lines: dict[str, int] = lines or {}
        self.rule_lines: dict[tuple[str, int], int] = rule_lines or {}  # (code, index) -> line
        self.changelog_lines: list[int | None] = []  # the line of each changelog entry
        self.codes: list[Code] = []
        self.parent_of: dict[str, str | None] = {}
        self.depth_of: dict[str, int] = {}
        self._by_id: dict[str, Code] = {}
        self._children: dict[str | None, list[str]] = {None: []}
        self._walk(self.roots, None, 0)
        self._aliases: dict[str, str] = {}
        for code in self.codes:
            for alias in code.aliases:
                if alias not in self._by_id:
                    self._aliases.setdefault(alias, code.id)

    def _walk(self, codes: list[Code], parent: str | None, depth: int) -> None:
        for code in codes:
            self.codes.append(code)
            # With duplicate ids (a check error) the first definition wins everywhere.
            if code.id not in self._by_id:
                self._by_id[code.id] = code
                self.parent_of[code.id] = parent
                self.depth_of[code.id] = depth
                self._children.setdefault(parent, []).append(code.id)
                self._children.setdefault(code.id, [])
            self._walk(code.children, code.id, depth + 1)

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, code_id: str) -> Code | None:
        return self._by_id.get(code_id)

    def resolve(self, name: str) -> Code | None:
        """The code named by an id or a former id (alias); None when unknown."""
        code = self._by_id.get(name)
        if code is None and name in self._aliases:
            code = self._by_id[self._aliases[name]]
        return code

    def canonical(self, name: str) -> str:
        """The current id of a code named by its id or a former id (alias); an unknown
        name is returned as it is (``check`` reports it)."""
        code = self.resolve(name)
        return code.id if code is not None else name

    def require(self, name: str, *, codable: bool = False) -> Code:
        """The code named by an id, a former id (alias) or its shortcut key; else
        ``UnknownName`` with the nearest ids, aliases and labels, or ``NotCodable``."""
        code = self.resolve(name) or self.by_key(name)
        if code is None:
            by_label = {c.label: c.id for c in self.codes}
            pool = [*self._by_id, *self._aliases, *by_label]
            guesses = did_you_mean(name, pool)
            ids = list(dict.fromkeys(
                (self.resolve(g) or self._by_id[by_label[g]]).id for g in guesses))
            raise UnknownName("code", name, ids,
                              hint="`qcode codes` lists the codebook with ids, labels and "
                                   "shortcut keys")
        if codable and not code.codable:
            raise NotCodable(f"code {code.id!r} is a grouping folder (codable: false)",
                             hint=f"use one of its children: {', '.join(self.children(code.id))}")
        return code

    def by_key(self, key: str) -> Code | None:
        for code in self.codes:
            if code.key == key:
                return code
        return None

    def children(self, code_id: str | None) -> list[str]:
        return list(self._children.get(code_id, []))

    def descendants(self, code_id: str) -> list[str]:
        """``code_id`` and every code below it, in codebook order."""
        out = [code_id]
        for child in self._children.get(code_id, []):
            out.extend(self.descendants(child))
        return out

    def ancestors(self, code_id: str) -> list[str]:
        out = []
        parent = self.parent_of.get(code_id)
        while parent is not None:
            out.append(parent)
            parent = self.parent_of.get(parent)
        return out

    def path(self, code_id: str) -> str:
        return "/".join([*reversed(self.ancestors(code_id)), code_id])

    def rule_location(self, code_id: str, index: int) -> str:
        """``file:line`` of a code's ``index``-th rule (the file alone when unknown)."""
        line = self.rule_lines.get((code_id, index)) or self.lines.get(code_id)
        return f"{self.file}:{line}" if line else self.file


def load_codebook(path: Path, rel: str, problems: Problems, cache: Cache | None = None
                  ) -> Codebook | None:
    """Read, validate and check a codebook file; every problem goes into ``problems``.

    With a ``cache``, a file checked before (same bytes) is not checked again: its entry
    holds the parsed data, the lines and the problems the checks found, and the model is
    validated from that data, so the codebook and the problems are those of a first
    read. The checks (rules compiled with ``regex``, every line looked up) are most of a
    small study's warm command otherwise.
    """
    if cache is not None and cache.enabled:
        from qcode.format.cache import content_hash
        from qcode.format.files import read_bytes

        raw = read_bytes(path, rel, Problems())  # unreadable: the careful path says so
        if raw is not None:
            known = _checked_codebook(cache, rel, content_hash(raw), problems)
            if known is not None:
                return known
    doc = load_yaml_file(path, rel, problems, cache)
    if doc is None:
        return None
    before = len(problems)
    codebook = codebook_from_document(doc, rel, problems)
    if codebook is not None and cache is not None and doc.sha256 is not None:
        _remember_checked(cache, rel, doc, codebook, list(problems)[before:])
    return codebook


def _checked_name(rel: str) -> str:
    from qcode.format.cache import content_hash

    return f"codebook/{content_hash(rel.encode())[:20]}.json"


def _checked_codebook(cache: Cache, rel: str, sha256: str, problems: Problems
                      ) -> Codebook | None:
    """The codebook of ``rel`` from its cache entry when the entry was made from these
    bytes (``sha256``); its problems go into ``problems``. None: no such entry."""
    from qcode.format.cache import MALFORMED_ENTRY
    from qcode.problems import Problem

    entry = cache.load(_checked_name(rel))
    if entry is None or entry.get("file") != rel or entry.get("sha256") != sha256:
        return None
    try:
        model = CodebookFile.model_validate(entry["data"])
        codebook = Codebook(model, rel, {code: line for code, line in entry["lines"]},
                            {(code, index): line for code, index, line in entry["rule_lines"]})
        codebook.changelog_lines = list(entry["changelog_lines"])
        found = [Problem(*fields) for fields in entry["problems"]]
    except (*MALFORMED_ENTRY, ValidationError):
        return None  # made by another qcode, or edited: check the file instead
    problems.extend(found)
    return codebook


def _remember_checked(cache: Cache, rel: str, doc: YamlDocument, codebook: Codebook,
                      found: list[Problem]) -> None:
    from qcode.format.yamlio import survives_json

    if not survives_json(doc.data):
        return
    cache.save(_checked_name(rel), {
        "file": rel, "sha256": doc.sha256, "data": doc.data,
        "lines": [[code, line] for code, line in codebook.lines.items()],
        "rule_lines": [[code, index, line]
                       for (code, index), line in codebook.rule_lines.items()],
        "changelog_lines": codebook.changelog_lines,
        "problems": [[p.severity, p.rule, p.file, p.line, p.message, p.hint] for p in found]})


def codebook_from_document(doc: YamlDocument, rel: str, problems: Problems
                           ) -> Codebook | None:
    """Validate and check a parsed codebook file (see ``load_codebook``)."""
    if not isinstance(doc.data, dict):
        problems.error("codebook-schema", rel, doc.line_for(()) or 1,
                       "a codebook must be a mapping with `name` and `codes`")
        return None
    model = validate(CodebookFile, doc, rel, problems, "codebook")
    if model is None or _too_deep(model.codes, doc, rel, problems):
        return None
    lines: dict[str, int | None] = {}
    rule_lines: dict[tuple[str, int], int] = {}
    _check_codes(model.codes, ("codes",), doc, rel, problems, lines, {}, {}, rule_lines)
    codebook = Codebook(model, rel,
                        {code: line for code, line in lines.items() if line is not None},
                        rule_lines)
    codebook.changelog_lines = [doc.line_for(("changelog", i))
                                for i in range(len(codebook.changelog))]
    return codebook


def _too_deep(codes: list[Code], doc: YamlDocument, rel: str, problems: Problems) -> bool:
    """Whether a code is nested past ``MAX_CODE_DEPTH`` (reported at the first one, in file
    order): every walk of the hierarchy recurses once per level."""
    levels, depth = [codes], 0
    while levels and depth <= MAX_CODE_DEPTH:  # the usual answer, cheaply: no
        levels = [code.children for level in levels for code in level if code.children]
        depth += 1
    if depth <= MAX_CODE_DEPTH:
        return False
    stack: list[tuple[Code, tuple[str | int, ...], int]] = [
        (code, ("codes", i), 1) for i, code in reversed(list(enumerate(codes)))]
    while stack:
        code, here, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            problems.error("codebook-too-deep", rel,
                           doc.line_for((*here, "id")) or doc.line_for(here),
                           f"code {code.id!r} is nested {depth} levels deep; codes nest at "
                           f"most {MAX_CODE_DEPTH} levels", "move it higher up the hierarchy")
            return True
        stack.extend((child, (*here, "children", i), depth + 1)
                     for i, child in reversed(list(enumerate(code.children))))
    return False


def _check_codes(codes: list[Code], loc: tuple[str | int, ...], doc: YamlDocument, rel: str,
                 problems: Problems, lines: dict[str, int | None],
                 key_lines: dict[str, tuple[str, int | None]],
                 alias_lines: dict[str, tuple[str, int | None]],
                 rule_lines: dict[tuple[str, int], int]) -> None:
    for index, code in enumerate(codes):
        here = (*loc, index)
        line = doc.line_for((*here, "id")) or doc.line_for(here)
        if code.id in lines:
            problems.error("code-id-duplicate", rel, line,
                           f"duplicate code id {code.id!r} (first defined at line {lines[code.id]})",
                           "give each code its own id; to merge codes use `aliases`")
        else:
            lines[code.id] = line
        if code.id in alias_lines:
            owner, alias_line = alias_lines[code.id]
            problems.error("code-alias-collision", rel, alias_line,
                           f"alias {code.id!r} of {owner!r} is the id of a code "
                           f"(line {line})", "remove the alias or rename the code")
        for alias in code.aliases:
            alias_line = doc.line_for((*here, "aliases")) or line
            if alias in lines:
                problems.error("code-alias-collision", rel, alias_line,
                               f"alias {alias!r} of {code.id!r} is the id of a code "
                               f"(line {lines[alias]})", "remove the alias or rename the code")
            elif alias in alias_lines:
                owner, first = alias_lines[alias]
                problems.error("code-alias-collision", rel, alias_line,
                               f"alias {alias!r} of {code.id!r} is already an alias of "
                               f"{owner!r} (line {first})", "an alias can name one code only")
            else:
                alias_lines[alias] = (code.id, alias_line)
        if code.key is not None:
            key_line = doc.line_for((*here, "key")) or line
            if code.key in RESERVED_KEYS:
                problems.error("code-key-reserved", rel, key_line,
                               f"shortcut key {code.key!r} of {code.id!r} is reserved by the "
                               "interactive coder", "choose another key (reserved: j k J K u m d "
                               "v q / ? [ ] ( ) + , - and space)")
            elif code.key in key_lines:
                owner, first = key_lines[code.key]
                problems.error("code-key-duplicate", rel, key_line,
                               f"shortcut key {code.key!r} of {code.id!r} is already the key of "
                               f"{owner!r} (line {first})", "give each code its own key")
            else:
                key_lines[code.key] = (code.id, key_line)
        if code.rules:
            check_rules(code.id, code.codable, code.rules, here, doc, rel, problems)
            for number in range(len(code.rules)):
                rule_line = doc.line_for((*here, "rules", number))
                if rule_line is not None:
                    rule_lines.setdefault((code.id, number), rule_line)
        if not code.description.strip():
            problems.warning("code-description-empty", rel, line,
                             f"code {code.id!r} has no description",
                             "say what the code means so that coders apply it alike")
        _check_codes(code.children, (*here, "children"), doc, rel, problems, lines, key_lines,
                     alias_lines, rule_lines)
