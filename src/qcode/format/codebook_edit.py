"""Adding a code to the codebook file, changing nothing else in it.

The researcher's codebook is their text: comments, blank lines, key order, quoting and
folded descriptions are theirs. A whole-file round trip through ruamel keeps most of
that, not all: the list indentation must be guessed for the whole file (a wrong guess
moves every line and the columns of end-of-line comments) and spacing inside a flow list
(``[x,   y]``) is normalised. So a code is added as text: the file is parsed (safely:
composed, never constructed) to find where the new code goes, only the new lines are
written there, by ruamel's round-trip dumper (``yamlio.dump_yaml``: quoting that reads
back as written), indented as the code's siblings are, and every other byte is left as
it was. The result is read back and must be the old codebook plus exactly that code,
clean of every ``qcode check`` error, before it replaces the file (atomically).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.errors import QcodeError, UsageError
from qcode.format.codebook import (
    CODE_ID_PATTERN,
    COLOR_PATTERN,
    RESERVED_KEYS,
    Code,
    Codebook,
    codebook_from_document,
)
from qcode.format.files import atomic_write, read_bytes
from qcode.format.text import decode_utf8
from qcode.format.yamlio import (
    YamlDocument,
    YamlProblem,
    dump_yaml,
    parse_yaml_nodes,
    remember_yaml,
)
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache

FIELDS = ("id", "label", "key", "color", "description")  # in the order they are written


def add_code(path: Path, fields: Mapping[str, str | None], parent: str | None = None, *,
             rel: str | None = None, taken_keys: Mapping[str, str] | None = None,
             cache: Cache | None = None) -> Code:
    """Append a code to the codebook at ``path``: ``fields`` are ``id``, ``label`` and
    optionally ``description``, ``key`` and ``color``; ``parent`` (an id or former id)
    puts it last among that code's children (a code without children gets
    ``children:``), else last among the top-level codes. Validated as ``qcode check``
    validates a codebook, and refused with a ``QcodeError`` saying why, the file
    untouched; ``taken_keys`` are further keys a shortcut may not be (character → what
    holds it: the coder's bindings). With the project's ``cache``, the new file's reading
    is kept there (it was read back to be checked). Returns the new code."""
    rel = rel or path.name
    wanted = _fields(fields)
    problems = Problems()
    raw = read_bytes(path, rel, problems)
    text = None if raw is None else decode_utf8(raw)[0]
    if text is None:
        raise QcodeError(f"cannot read the codebook {rel}",
                         problems.errors[0].message if problems.errors else "save it as UTF-8")
    doc, root = _parse(text, rel)
    codebook = codebook_from_document(doc, rel, problems)
    if codebook is None or problems.errors:
        first = problems.errors[0]
        raise QcodeError(f"the codebook has errors, so no code is added to it: "
                         f"{first.location()}: {first.message}",
                         "fix them first (`qcode check` lists them)")
    parent_id = _check_new_code(codebook, wanted, parent, taken_keys or {})
    new_text = _insert(text, root, parent_id, wanted, rel)
    code, new_doc = _verify(new_text, doc, parent_id, wanted, rel)
    if path.read_bytes() != raw:
        raise QcodeError(f"{rel} changed while the code was being added; nothing was written",
                         "add the code again")
    new_raw = new_text.encode("utf-8")
    atomic_write(path, new_raw, overwrite=True)
    if cache is not None:
        remember_yaml(cache, rel, new_raw, new_doc)
    return code


def _fields(fields: Mapping[str, str | None]) -> dict[str, str]:
    unknown = [name for name in fields if name not in FIELDS]
    if unknown:
        raise UsageError(f"a new code has no field {unknown[0]!r}",
                         f"its fields: {', '.join(FIELDS)}")
    wanted: dict[str, str] = {}
    for name in FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise UsageError(f"the new code's {name} must be text, not {value!r}")
        value = value if name == "key" else value.strip()
        if value:
            wanted[name] = value
    return wanted


def _check_new_code(codebook: Codebook, wanted: dict[str, str], parent: str | None,
                    taken_keys: Mapping[str, str]) -> str | None:
    """What ``qcode check`` would say of the codebook with the new code, said first and
    in the form's terms; the parent's id."""
    code_id = wanted.get("id", "")
    if not re.fullmatch(CODE_ID_PATTERN, code_id) or len(code_id) > 64:
        raise QcodeError(f"{code_id!r} cannot be a code id" if code_id else "the new code "
                         "needs an id", "an id is lower-case letters, digits, - and _, "
                         "starting with a letter or digit, at most 64 characters "
                         "(e.g. staff-ownership)")
    known = codebook.resolve(code_id)
    if known is not None:
        what = "the id" if known.id == code_id else "a former id (alias)"
        raise QcodeError(f"{code_id!r} is already {what} of code {known.id!r}",
                         "choose another id")
    label = wanted.get("label", "")
    if not label:
        raise QcodeError("the new code needs a label", "a short name people read, e.g. "
                         "Staff ownership")
    if "\n" in label:
        raise QcodeError("a code's label is one line", "put the rest in the description")
    key = wanted.get("key")
    if key is not None:
        if len(key) != 1 or not key.isprintable():
            raise QcodeError(f"a shortcut key is one printable character, not {key!r}")
        holder = codebook.by_key(key)
        if key in RESERVED_KEYS:
            raise QcodeError(f"shortcut key {key!r} is reserved by the interactive coder",
                             "choose another key (reserved: j k J K u m d v q / ? [ ] ( ) + "
                             ", - and space)")
        if key in taken_keys:
            raise QcodeError(f"shortcut key {key!r} is bound to {taken_keys[key]!r} in the "
                             "full-screen coder (qcode.yaml `keys:`)", "choose another key")
        if holder is not None:
            raise QcodeError(f"shortcut key {key!r} is already the key of {holder.id!r}",
                             "choose another key, or none")
    color = wanted.get("color")
    if color is not None and not re.fullmatch(COLOR_PATTERN, color):
        raise QcodeError(f"colour {color!r} is not #rrggbb", "e.g. #1f77b4")
    if parent is None:
        return None
    above = codebook.resolve(parent)
    if above is None:
        from qcode.errors import UnknownName
        from qcode.format.names import did_you_mean

        raise UnknownName("parent code", parent, did_you_mean(parent, codebook.ids),
                          hint="the parent is a code of the codebook, by id")
    return above.id


# -- where the code goes ---------------------------------------------------------------------

def _parse(text: str, rel: str) -> tuple[YamlDocument, Any]:
    try:
        return parse_yaml_nodes(text)
    except YamlProblem as exc:
        raise QcodeError(f"{rel}:{exc.line}: {exc.message}", exc.hint) from None


def _insert(text: str, root: Any, parent_id: str | None,
            wanted: dict[str, str] | Callable[[int, int, str], str], rel: str) -> str:
    """``text`` with the new code's lines inserted, nothing else changed. ``wanted`` is
    the new code's fields, or what writes its lines given the dash's column, the text's
    offset from the dash and the newline (a code moved from elsewhere in the file)."""
    def block(dash: int, body: int, newline: str) -> str:
        if callable(wanted):
            return wanted(dash, body, newline)
        return _block(wanted, dash, body, newline)

    newline = "\r\n" if "\r\n" in text else "\n"
    codes = _value(root, "codes")
    owner = root if parent_id is None else _find_code(codes, parent_id)
    if owner is None:  # its id is written in a way the text does not show (an alias)
        raise _unusual(rel)
    key = "codes" if parent_id is None else "children"
    target = _value(owner, key)
    if getattr(owner, "flow_style", False):
        raise QcodeError(f"{rel}: the place for the new code is written in YAML's flow "
                         "style ({...}), which qcode does not edit", "add the code by hand")
    if target is not None and getattr(target, "flow_style", False) and target.value:
        raise QcodeError(f"{rel}: `{key}:` is a flow-style list ([...]), which qcode does "
                         "not edit", "write it as a block list (one `- id:` per line), or "
                         "add the code by hand")
    if target is not None and _is_block_list(target):
        dash = target.start_mark.column
        body = target.value[0].start_mark.column - dash
        at = _line_after(text, _content_end(target, text))
        return _splice(text, at, block(dash, body, newline), newline)
    # `children: []` or `codes: []`, or no such key: the list is written below the key.
    step, body = _list_style(root)
    if target is not None:  # an empty flow list: its [] goes, the key stays
        key_node = next(k for k, v in owner.value if v is target)
        column = key_node.start_mark.column
        text = text[:target.start_mark.index].rstrip(" ") + text[target.end_mark.index:]
        at = _line_after(text, key_node.end_mark.index)
        return _splice(text, at, block(column + step, body, newline), newline)
    column = owner.value[0][0].start_mark.column if owner.value else 0
    at = _line_after(text, _content_end(owner, text))
    lines = f"{' ' * column}{key}:{newline}" + block(column + step, body, newline)
    return _splice(text, at, lines, newline)


def _value(mapping: Any, key: str) -> Any:
    for key_node, value_node in getattr(mapping, "value", None) or []:
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _find_code(codes: Any, code_id: str) -> Any:
    """The mapping node of code ``code_id`` (its first definition, as ``Codebook``)."""
    for item in getattr(codes, "value", None) or []:
        id_node = _value(item, "id")
        if id_node is not None and id_node.value == code_id:
            return item
        found = _find_code(_value(item, "children"), code_id)
        if found is not None:
            return found
    return None


def _is_block_list(node: Any) -> bool:
    from ruamel.yaml.nodes import SequenceNode

    return isinstance(node, SequenceNode) and not node.flow_style and bool(node.value)


def _content_end(node: Any, text: str) -> int:
    """Where a node's own text ends: a block collection ends with its last value, a block
    scalar with its last non-blank character (not at the next token, blank lines and
    comments after it belong to what follows)."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, ScalarNode):
        end = node.end_mark.index
        if node.style in ("|", ">"):
            while end > node.start_mark.index and text[end - 1] in " \t\r\n":
                end -= 1
        return end
    if node.flow_style or not node.value:
        return node.end_mark.index
    if isinstance(node, SequenceNode):
        return _content_end(node.value[-1], text)
    assert isinstance(node, MappingNode)
    key_node, value_node = node.value[-1]
    return max(_content_end(key_node, text), _content_end(value_node, text))


def _line_after(text: str, index: int) -> int:
    """The start of the line after the one ``index`` is on (the end of ``text`` if none)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def _splice(text: str, at: int, lines: str, newline: str) -> str:
    if at == len(text) and text and not text.endswith("\n"):
        lines = newline + lines
    return text[:at] + lines + text[at:]


def _list_style(root: Any) -> tuple[int, int]:
    """How the file indents a list of codes under its key: (the dash's indent from the
    key, the text's from the dash), as its first ``children:`` list does, else its
    ``codes:`` list; else 2 and 2."""
    from ruamel.yaml.nodes import MappingNode

    def lists(mapping: Any, key: str) -> Any:
        for key_node, value_node in mapping.value:
            if key_node.value == key and _is_block_list(value_node):
                yield key_node, value_node
            if key_node.value in ("codes", "children") and _is_block_list(value_node):
                for item in value_node.value:
                    if isinstance(item, MappingNode):
                        yield from lists(item, key)

    for key in ("children", "codes"):
        for key_node, found in lists(root, key):
            if found.start_mark.line > key_node.start_mark.line:  # not `key: - x`
                return (found.start_mark.column - key_node.start_mark.column,
                        found.value[0].start_mark.column - found.start_mark.column)
    return 2, 2


def _block(wanted: dict[str, str], dash: int, body: int, newline: str) -> str:
    """The new code as a list item: ``-`` at column ``dash``, its keys ``body`` further."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    item: dict[str, Any] = {name: wanted[name] for name in FIELDS if name in wanted}
    if "color" in item:
        item["color"] = DoubleQuotedScalarString(item["color"])
    lines = dump_yaml(item).rstrip("\n").split("\n")
    first = " " * dash + "-" + " " * (body - 1) + lines[0]
    rest = [(" " * (dash + body) + line) if line else "" for line in lines[1:]]
    return newline.join([first, *rest]) + newline


# -- the result, checked before it is written ---------------------------------------------------

def _verify(new_text: str, old: YamlDocument, parent_id: str | None,
            wanted: dict[str, str], rel: str) -> tuple[Code, YamlDocument]:
    """The new file must read as the old one plus the new code, with no check error."""
    expected = copy.deepcopy(old.data)
    item = {name: wanted[name] for name in FIELDS if name in wanted}
    if parent_id is None:
        expected.setdefault("codes", [])
        if expected["codes"] is None:
            expected["codes"] = []
        expected["codes"].append(item)
    else:
        place = _data_code(expected["codes"], parent_id)
        assert place is not None, "the parent was found in the nodes, so in the data"
        place.setdefault("children", []).append(item)
    problems = Problems()
    try:
        doc, _root = parse_yaml_nodes(new_text)
    except YamlProblem:
        raise _unusual(rel) from None
    codebook = codebook_from_document(doc, rel, problems)
    code = codebook.get(wanted["id"]) if codebook is not None else None
    if doc.data != expected or code is None or problems.errors:
        raise _unusual(rel)
    return code, doc


def _unusual(rel: str) -> QcodeError:
    return QcodeError(f"qcode cannot add the code to {rel} without changing other parts of "
                      "it (its layout is unusual); nothing was written",
                      "add the code by hand, then run `qcode check`")


def _data_code(codes: list[dict], code_id: str) -> dict | None:
    for item in codes or []:
        if item.get("id") == code_id:
            return item
        found = _data_code(item.get("children") or [], code_id)
        if found is not None:
            return found
    return None


__all__ = ["FIELDS", "add_code"]
