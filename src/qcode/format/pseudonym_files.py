"""A key applied to the text files of a project: a transcript (its body and the values of
its front matter), a case table (its cells), a memo file (its body, and the value a case
memo is about). Nothing is written here: each function returns the new text and the
replacements made, and ``qcode.coding.pseudonymise`` writes every file in one transaction.

Front matter is rewritten line by line where it is the usual ``key: value`` lines, so a
file keeps its layout and comments; a value that would read as something else once
replaced (``[Skole 1]`` is a YAML list) is quoted. The new front matter is read back and
must hold exactly the values expected, or nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qcode.errors import QcodeError
from qcode.format.pseudonyms import Edit, KeyEntry, KeyMatcher, Rewrite, rewrite_text
from qcode.format.text import normalize
from qcode.format.transcripts import FrontMatterError, split_front_matter
from qcode.format.yamlio import YamlProblem, dump_yaml, parse_simple_mapping, parse_yaml

# What to do with one front matter value: its new value, or None to leave it.
ValueRewriter = Callable[[str, Any], "tuple[str, list[Edit]] | None"]


@dataclass
class FileRewrite:
    """A file's new text and every replacement made in it; for a transcript also the
    rewrite of its body (which carries coding offsets across) and the bodies' texts."""

    text: str
    edits: list[Edit] = field(default_factory=list)
    body: Rewrite | None = None
    old_body: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.edits)


def rewrite_values(matcher: KeyMatcher, skip: frozenset[str] = frozenset({"id"})
                   ) -> ValueRewriter:
    """Every text value but those of ``skip`` (a transcript's ``id`` names its file and
    every coding of it: ``qcode.coding.pseudonymise_ids`` renames it as a whole)."""

    def rewrite(key: str, value: Any) -> tuple[str, list[Edit]] | None:
        if key in skip or not isinstance(value, str):
            return None
        done = rewrite_text(value, matcher)
        return (done.text, done.edits) if done.edits else None

    return rewrite


def rewrite_case_about(matcher: KeyMatcher) -> ValueRewriter:
    """A memo's ``about: case:ATTRIBUTE=VALUE``: the value, as the case table's cell is."""

    def rewrite(key: str, value: Any) -> tuple[str, list[Edit]] | None:
        if key != "about" or not isinstance(value, str) or not value.startswith("case:"):
            return None
        attribute, equals, case = value.partition("=")
        if not equals:
            return None
        done = rewrite_text(case, matcher)
        return (f"{attribute}={done.text}", done.edits) if done.edits else None

    return rewrite


def rewrite_document(raw: str, rel: str, matcher: KeyMatcher, values: ValueRewriter,
                     body_too: bool = True) -> FileRewrite:
    """A transcript or memo file (front matter and body) with the key applied. Offsets
    of the body are those of the normalised text, as every reader's are."""
    text = normalize(raw)
    try:
        front, body, _line, lines = split_front_matter(text)
    except FrontMatterError as exc:
        raise QcodeError(f"{rel}:{exc.line or 1}: {exc.message}",
                         "fix the front matter (`qcode check` shows it), then apply "
                         "the key again") from None
    head = old_head = text[:len(text) - len(body)]
    edits: list[Edit] = []
    if lines:
        head, edits = _rewrite_front(head, front, lines, rel, values)
    body_rewrite = rewrite_text(body, matcher) if body_too else Rewrite(body, [])
    edits.extend(body_rewrite.edits)
    if not edits and head == old_head:
        return FileRewrite(text, [], body_rewrite, body)
    return FileRewrite(head + body_rewrite.text, edits, body_rewrite, body)


def _rewrite_front(head: str, front: dict[str, Any], lines: dict[str, int], rel: str,
                   values: ValueRewriter) -> tuple[str, list[Edit]]:
    """The front matter with ``values`` applied; a value may change without a
    replacement of the key (a transcript's new ``id``)."""
    expected = dict(front)
    edits: list[Edit] = []
    for key, value in front.items():
        done = values(key, value)
        if done is not None:
            expected[key], found = done
            edits.extend(found)
    if expected == front:
        return head, []
    file_lines = head.split("\n")  # head ends with "\n": the last item is ""
    yaml_text = "\n".join(file_lines[1:-2]) + "\n"
    if parse_simple_mapping(yaml_text) is not None:
        for key, value in expected.items():
            if value != front[key]:
                file_lines[lines[key] - 1] = f"{key}: {yaml_scalar(value)}"
        new_head = "\n".join(file_lines)
    else:  # block scalars, comments, flow style: written anew, values kept
        new_head = f"{file_lines[0]}\n{dump_yaml(expected)}{file_lines[-2]}\n"
    try:
        again = split_front_matter(new_head)[0]
    except FrontMatterError:
        again = None
    if again != expected:
        raise QcodeError(f"{rel}:1: its front matter would not read back as written once "
                         "the key is applied; nothing was changed",
                         "simplify the front matter to `key: value` lines and try again")
    return new_head, edits


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar that reads back as this very text: plain when it is
    plain, else single-quoted."""
    plain = parse_simple_mapping(f"k: {value}")
    if plain is not None and plain.data == {"k": value}:
        return value
    quoted = "'" + value.replace("'", "''") + "'"
    if parse_yaml(f"k: {quoted}").data != {"k": value}:  # pragma: no cover - YAML quoting
        raise QcodeError(f"cannot write {value!r} as a YAML value")
    return quoted


# Which text scalar of a YAML file to change: (its path of mapping keys and list indices,
# its text, whether it is a mapping key) -> the new text, or None to leave it.
ScalarRewriter = Callable[[tuple[Any, ...], str, bool], "str | None"]


def rewrite_yaml_scalars(text: str, rel: str, choose: ScalarRewriter) -> str:
    """A YAML file (``qcode.yaml``, say) with the text scalars ``choose`` picks rewritten
    where they stand: every other byte (comments, key order, quoting, flow lists) stays.
    The new text is read back and must hold the old data with exactly those changes, or
    nothing is written."""
    from qcode.format.yamlio import parse_yaml_nodes

    try:
        doc, root = parse_yaml_nodes(text)
    except YamlProblem as exc:
        raise QcodeError(f"{rel}:{exc.line or 1}: {exc.message}",
                         "fix it (`qcode check` shows it), then apply the key again") from None
    spans: dict[tuple[int, int], tuple[str, str | None]] = {}
    expected = _scalars(root, doc.data, (), choose, spans)
    if not spans:
        return text
    out = text
    for (start, end), (value, style) in sorted(spans.items(), reverse=True):
        out = out[:start] + _inline_scalar(value, style) + out[end:]
    try:
        again = parse_yaml(out).data
    except YamlProblem:
        again = None
    if again != expected:
        raise QcodeError(f"{rel}: it would not read back as written once the key is "
                         "applied; nothing was changed",
                         "replace the originals in it by hand, then apply the key again")
    return out


def _scalars(node: Any, data: Any, path: tuple[Any, ...], choose: ScalarRewriter,
             spans: dict[tuple[int, int], tuple[str, str | None]]) -> Any:
    """``data`` (built from ``node``) with ``choose`` applied; the spans to rewrite are
    collected in ``spans``. A mapping's keys are built in the order of its nodes."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    def scalar(child: Any, value: Any, where: tuple[Any, ...], is_key: bool) -> Any:
        if not isinstance(value, str):
            return value
        new = choose(where, value, is_key)
        if new is None or new == value:
            return value
        spans[(child.start_mark.index, child.end_mark.index)] = (new, child.style)
        return new

    if isinstance(node, MappingNode) and isinstance(data, dict):
        out: dict[Any, Any] = {}
        for (key_node, value_node), (key, value) in zip(node.value, data.items(),
                                                         strict=True):
            new_key = scalar(key_node, key, (*path, key), True)
            out[new_key] = _scalars(value_node, value, (*path, key), choose, spans)
        return out
    if isinstance(node, SequenceNode) and isinstance(data, list):
        return [_scalars(child, value, (*path, index), choose, spans)
                for index, (child, value) in enumerate(zip(node.value, data, strict=True))]
    return scalar(node, data, path, False)


def _inline_scalar(value: str, style: str | None = None) -> str:
    """``value`` as a one-line YAML scalar that reads back as itself in a block and in a
    flow list (``[a, b]``): quoted as the old value was, else plain when it can be, else
    single-quoted."""
    if "\n" not in value and style != '"':
        if style == "'":
            return "'" + value.replace("'", "''") + "'"
        plain = True
        for wrapped in (f"k: {value}", f"k: [{value}]"):
            try:
                data = parse_yaml(wrapped).data
            except YamlProblem:
                plain = False
                break
            plain = plain and data in ({"k": value}, {"k": [value]})
        if plain:
            return value
        return "'" + value.replace("'", "''") + "'"
    import json

    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML scalar


def rewrite_case_table(raw: str, matcher: KeyMatcher) -> FileRewrite:
    """A case table with the key applied to every cell below the header (column names
    are attributes, not data). Written as the file was: its BOM, its line ends."""
    bom = "\ufeff" if raw.startswith("\ufeff") else ""
    text = raw.removeprefix("\ufeff")
    ending = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    edits: list[Edit] = []
    for row in rows[1:]:
        for index, cell in enumerate(row):
            done = rewrite_text(cell, matcher)
            if done.edits:
                row[index] = done.text
                edits.extend(done.edits)
    if not edits:
        return FileRewrite(raw)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=ending).writerows(rows)
    new = out.getvalue()
    if not text.endswith(("\n", "\r")):
        new = new.removesuffix(ending)
    return FileRewrite(bom + new, edits)


class Revealer:
    """Placeholders mapped back to their originals, for the holder of the key (``qcode
    segments --reveal``): a placeholder several originals share shows them all, joined
    with « / ». Never used to write into the project."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        originals: dict[str, list[str]] = {}
        for entry in entries:
            if entry.replaces:
                originals.setdefault(entry.replacement, []).append(entry.original)
        self.originals = {placeholder: " / ".join(names)
                          for placeholder, names in originals.items()}
        ordered = sorted(self.originals, key=len, reverse=True)
        self._pattern = (re.compile("|".join(re.escape(p) for p in ordered))
                         if ordered else None)

    def __call__(self, text: str) -> str:
        if self._pattern is None or not isinstance(text, str):
            return text
        return self._pattern.sub(lambda m: self.originals[m.group()], text)
