"""Renaming, merging, moving and adding codes in the codebook file, each stamped into its
version and changelog, changing nothing else in the file.

The method is ``codebook_edit``'s (read its docstring): the file is edited as text at the
places the parsed nodes name, each value written there by ruamel's dumper, every other
byte left as it was. An edit is a ``_Draft``: every step changes the text and, beside it,
the plain data the text must read back as; the file is replaced (atomically) only when
the new text reads as exactly that data and passes every ``qcode check`` rule of a
codebook. Every edit also bumps the minor version and puts an entry at the head of the
``changelog:`` list (newest first), so that a coding's ``cb`` version says which
definitions it was made under.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.errors import QcodeError, UnknownName
from qcode.format import codebook_edit as edit
from qcode.format.codebook import CODE_ID_PATTERN, Code, Codebook, codebook_from_document
from qcode.format.files import atomic_write, read_bytes
from qcode.format.names import did_you_mean
from qcode.format.text import decode_utf8
from qcode.format.yamlio import YamlProblem, dump_yaml, parse_yaml_nodes, remember_yaml
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache

# What a merge appends to the target, in this order; lists are appended item by item.
MERGED_TEXT = ("description", "include", "exclude")
MERGED_LISTS = ("examples", "keywords", "rules")


@dataclass
class CodebookChange:
    """What one edit did: the changelog entry it wrote, and the codebook it left."""

    file: str
    old_version: str
    version: str
    date: str
    changes: list[str]
    note: str | None
    definitions: list[str]
    codebook: Codebook
    written: bool
    notes: list[str] = field(default_factory=list)  # said to the user, not logged

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "date": self.date,
                               "changes": self.changes}
        if self.note:
            out["note"] = self.note
        if self.definitions:
            out["definitions"] = self.definitions
        return out


def bump_minor(version: str) -> str:
    """The next minor version: "2.0" → "2.1", "2" → "2.1", "1.9" → "1.10"."""
    major, _, rest = str(version).partition(".")
    minor = rest.split(".")[0]
    return f"{major}.{int(minor) + 1 if minor.isdigit() else 1}"


# -- the edits ---------------------------------------------------------------------------------

def rename_code(path: Path, old: str, new: str, *, rel: str | None = None,
                note: str | None = None, today: str | None = None, dry_run: bool = False,
                cache: Cache | None = None) -> CodebookChange:
    """Give code ``old`` the id ``new``; ``old`` becomes one of its ``aliases`` (the logs
    keep naming it), its children and everything else stay where they are."""
    draft = _Draft(path, rel)
    code = draft.require(old)
    _check_id(new)
    taken = draft.codebook.resolve(new)
    if taken is not None:
        what = "the id" if taken.id == new else "a former id (alias)"
        raise QcodeError(f"{new!r} is already {what} of code {taken.id!r}",
                         "choose another id, or merge the two codes (`qcode codes merge`)")
    node = draft.code_node(code.id)
    id_node = edit._value(node, "id")
    draft.text = draft.text[:id_node.start_mark.index] + new + draft.text[id_node.end_mark.index:]
    draft.data_code(code.id)["id"] = new
    draft.set_list(new, "aliases", [*code.aliases, code.id])
    change = f"renamed {code.id} to {new}"
    return draft.finish([change], [], note, today, dry_run, cache)


def merge_codes(path: Path, sources: list[str], into: str, *, rel: str | None = None,
                note: str | None = None, today: str | None = None, dry_run: bool = False,
                cache: Cache | None = None) -> CodebookChange:
    """Fold each of ``sources`` into ``into``: their ids and aliases become aliases of
    ``into``, their description, include and exclude are appended to its own under a
    heading "Merged from SRC (version X.Y):", their examples, keywords and rules are
    appended to its lists; the source codes leave the file (their shortcut keys and
    colours with them). A source with children is refused: move them first."""
    draft = _Draft(path, rel)
    target = draft.require(into)
    if not target.codable:
        raise QcodeError(f"{target.id!r} is a grouping folder (codable: false); codings "
                         "cannot count for it", "merge into a codable code")
    codes: list[Code] = []
    for name in sources:
        code = draft.require(name)
        if code.id == target.id:
            raise QcodeError(f"{name!r} is {target.id!r} itself", "name the codes to merge "
                             "first and the code they go into last")
        children = draft.codebook.children(code.id)
        if children:
            raise QcodeError(f"{code.id!r} has children ({', '.join(children)}); qcode does "
                             "not merge a code with children",
                             f"move them first (`qcode codes move {children[0]} --under "
                             f"{target.id}`), then merge")
        if code not in codes:
            codes.append(code)
    version = bump_minor(draft.codebook.version)
    fields: dict[str, Any] = {name: getattr(target, name) for name in MERGED_TEXT}
    lists: dict[str, list[Any]] = {
        "examples": list(target.examples), "keywords": list(target.keywords),
        "rules": list(draft.data_code(target.id).get("rules") or [])}
    aliases = list(target.aliases)
    changes, notes = [], []
    for code in codes:
        heading = f"Merged from {code.id} (version {version}):"
        for name in MERGED_TEXT:
            text = (getattr(code, name) or "").strip()
            if text:
                before = (fields[name] or "").rstrip()
                fields[name] = f"{before}\n\n{heading} {text}" if before else f"{heading} {text}"
        lists["examples"] += [f"(merged from {code.id}) {e}" for e in code.examples]
        lists["keywords"] += [k for k in code.keywords if k not in lists["keywords"]]
        lists["rules"] += copy.deepcopy(draft.data_code(code.id).get("rules") or [])
        aliases += [name for name in [code.id, *code.aliases] if name not in aliases]
        dropped = [f"its shortcut key {code.key!r}" if code.key else "",
                   f"its colour {code.color}" if code.color else ""]
        said = " and ".join(d for d in dropped if d)
        changes.append(f"merged {code.id} into {target.id}"
                       + (f" ({said} dropped)" if said else ""))
        if said:
            notes.append(f"{code.id}: {said} dropped with it")
    for name in MERGED_TEXT:
        if fields[name] != getattr(target, name):
            draft.set_value(target.id, name, fields[name])
    for name in MERGED_LISTS:
        old = draft.data_code(target.id).get(name) or []
        if lists[name] != old:
            draft.extend_list(target.id, name, lists[name], len(old), flow=name == "keywords")
    draft.set_list(target.id, "aliases", aliases)
    for code in codes:
        draft.remove(code.id)
    result = draft.finish(changes, [target.id], note, today, dry_run, cache)
    result.notes = notes
    return result


def move_code(path: Path, code_id: str, parent: str | None, *, rel: str | None = None,
              note: str | None = None, today: str | None = None, dry_run: bool = False,
              cache: Cache | None = None) -> CodebookChange:
    """Make ``code_id`` (with its children) the last child of ``parent``, or the last
    top-level code when ``parent`` is None. A code cannot go under itself or under one
    of its descendants."""
    draft = _Draft(path, rel)
    code = draft.require(code_id)
    parent_id = None if parent is None else draft.require(parent, "parent code").id
    if parent_id is not None and parent_id in draft.codebook.descendants(code.id):
        raise QcodeError(f"{code.id!r} cannot go under {parent_id!r}: "
                         + ("a code cannot be its own parent" if parent_id == code.id
                            else f"{parent_id!r} is below {code.id!r}"),
                         "move it under a code outside its own branch")
    if draft.codebook.parent_of[code.id] == parent_id:
        where = f"under {parent_id!r}" if parent_id else "at the top level"
        raise QcodeError(f"{code.id!r} is already {where}", "nothing to move")
    block, dash = draft.remove(code.id)

    def moved(new_dash: int, _body: int, newline: str) -> str:
        return _shift(block, new_dash - dash)

    root = draft.root()
    draft.text = edit._insert(draft.text, root, parent_id, moved, draft.rel)
    item = draft.popped
    if parent_id is None:
        draft.expected.setdefault("codes", []).append(item)
    else:
        draft.data_code(parent_id).setdefault("children", []).append(item)
    change = (f"moved {code.id} under {parent_id}" if parent_id
              else f"moved {code.id} to the top level")
    return draft.finish([change], [], note, today, dry_run, cache)


def add_code_logged(path: Path, fields: Mapping[str, str | None], parent: str | None = None,
                    *, rel: str | None = None, taken_keys: Mapping[str, str] | None = None,
                    note: str | None = None, today: str | None = None, dry_run: bool = False,
                    cache: Cache | None = None) -> CodebookChange:
    """``codebook_edit.add_code`` (the same checks and lines), with the version bump and
    changelog entry of every codebook command, in one write."""
    draft = _Draft(path, rel)
    wanted = edit._fields(fields)
    parent_id = edit._check_new_code(draft.codebook, wanted, parent, taken_keys or {})
    draft.text = edit._insert(draft.text, draft.root(), parent_id, wanted, draft.rel)
    item = {name: wanted[name] for name in edit.FIELDS if name in wanted}
    if parent_id is None:
        draft.expected.setdefault("codes", []).append(item)
    else:
        draft.data_code(parent_id).setdefault("children", []).append(item)
    change = f"added {wanted['id']}" + (f" under {parent_id}" if parent_id else "")
    return draft.finish([change], [], note, today, dry_run, cache)


def _check_id(code_id: str) -> None:
    if not re.fullmatch(CODE_ID_PATTERN, code_id) or len(code_id) > 64:
        raise QcodeError(f"{code_id!r} cannot be a code id", "an id is lower-case letters, "
                         "digits, - and _, starting with a letter or digit, at most 64 "
                         "characters (e.g. staff-ownership)")


# -- the draft: text and the data it must read as -------------------------------------------------

class _Draft:
    def __init__(self, path: Path, rel: str | None) -> None:
        self.path = path
        self.rel = rel or path.name
        problems = Problems()
        raw = read_bytes(path, self.rel, problems)
        text = None if raw is None else decode_utf8(raw)[0]
        if raw is None or text is None:
            raise QcodeError(f"cannot read the codebook {self.rel}", problems.errors[0].message
                             if problems.errors else "save it as UTF-8")
        self.raw, self.text = raw, text
        doc, _root = edit._parse(text, self.rel)
        codebook = codebook_from_document(doc, self.rel, problems)
        if codebook is None or problems.errors:
            first = problems.errors[0]
            raise QcodeError(f"the codebook has errors, so it is not edited: "
                             f"{first.location()}: {first.message}",
                             "fix them first (`qcode check` lists them)")
        self.codebook = codebook
        self.expected = copy.deepcopy(doc.data)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.popped: dict[str, Any] = {}

    def require(self, name: str, what: str = "code") -> Code:
        code = self.codebook.resolve(name)
        if code is None:
            raise UnknownName(what, name, did_you_mean(name, self.codebook.ids),
                              hint="`qcode codes` lists the codebook's ids")
        return code

    def root(self) -> Any:
        return edit._parse(self.text, self.rel)[1]

    def code_node(self, code_id: str) -> Any:
        node = edit._find_code(edit._value(self.root(), "codes"), code_id)
        if node is None or getattr(node, "flow_style", False):
            raise self.unusual()
        return node

    def data_code(self, code_id: str) -> dict[str, Any]:
        found = edit._data_code(self.expected.get("codes") or [], code_id)
        assert found is not None, "the code was found in the nodes, so in the data"
        return found

    def unusual(self) -> QcodeError:
        return QcodeError(f"qcode cannot make this change to {self.rel} without changing "
                          "other parts of it (its layout is unusual, e.g. a code in flow "
                          "style {...}); nothing was written",
                          "make the change by hand, then run `qcode check`")

    def _key_line(self, key_node: Any) -> int:
        """Where the line holding ``key_node`` starts; only indentation may precede it."""
        start = self.text.rfind("\n", 0, key_node.start_mark.index) + 1
        if self.text[start:key_node.start_mark.index].strip():
            raise self.unusual()
        return start

    def set_value(self, code_id: str, key: str, value: Any, flow: bool = False) -> None:
        """Write ``key: value`` in the code's mapping: in place of the old key and value,
        else before its ``children:``, else after its last key."""
        node = self.code_node(code_id)
        column = node.value[0][0].start_mark.column
        lines = _entry(key, value, column, flow, self.newline)
        for key_node, value_node in node.value:
            if key_node.value == key:
                start = self._key_line(key_node)
                end = edit._line_after(self.text, edit._content_end(value_node, self.text))
                self.text = self.text[:start] + lines + self.text[end:]
                break
        else:
            children = next((k for k, _v in node.value if k.value == "children"), None)
            if children is not None:
                at = self._key_line(children)
            else:
                at = edit._line_after(self.text, edit._content_end(node, self.text))
            self.text = edit._splice(self.text, at, lines, self.newline)
        self.data_code(code_id)[key] = copy.deepcopy(value)

    def set_list(self, code_id: str, key: str, values: list[Any], flow: bool = True) -> None:
        """A list value, in flow style (``[a, b]``) when it was so or is new, else block."""
        node = edit._value(self.code_node(code_id), key)
        if node is not None and not getattr(node, "flow_style", True):
            flow = False
        if any(not isinstance(v, str) for v in values):
            flow = False
        self.set_value(code_id, key, values, flow)

    def extend_list(self, code_id: str, key: str, values: list[Any], kept: int,
                    flow: bool) -> None:
        """``values`` (the old list's ``kept`` items, then new ones) as the code's ``key``:
        below a block list the new items only, leaving the old ones as written."""
        node = edit._value(self.code_node(code_id), key)
        if node is None or not edit._is_block_list(node) or kept != len(node.value):
            self.set_list(code_id, key, values, flow)
            return
        dash = node.start_mark.column
        body = node.value[0].start_mark.column - dash
        at = edit._line_after(self.text, edit._content_end(node, self.text))
        lines = _entry(key, values[kept:], 0, False, self.newline).split(self.newline)[1:]
        shift = dash - (len(lines[0]) - len(lines[0].lstrip(" ")))
        block = _shift(self.newline.join(lines), shift)
        if body != 2:  # dump_yaml writes `- ` (the dash, then one space)
            block = re.sub(r"(?m)^( *)- ", lambda m: m.group(1) + "-" + " " * (body - 1),
                           block) if body > 1 else block
        self.text = edit._splice(self.text, at, block, self.newline)
        self.data_code(code_id)[key] = copy.deepcopy(values)

    def remove(self, code_id: str) -> tuple[str, int]:
        """Cut the code (its whole list item) out of the text; returns its lines and the
        column of its dash. A list left empty goes with its ``children:`` key."""
        owner, key_node, seq, index = _container(self.root(), code_id)
        item = seq.value[index]
        start = self.text.rfind("\n", 0, item.start_mark.index) + 1
        prefix = self.text[start:item.start_mark.index]
        if seq.flow_style or not re.fullmatch(r" *- +", prefix):
            raise self.unusual()
        end = edit._line_after(self.text, edit._content_end(item, self.text))
        block = self.text[start:end]
        cut_from = start
        if len(seq.value) == 1:
            if owner is None:
                raise QcodeError("the codebook's last code cannot leave the top level")
            cut_from = self._key_line(key_node)
        self.text = self.text[:cut_from] + self.text[end:]
        container = (self.expected["codes"] if owner is None
                     else self.data_code(_id_of(owner))["children"])
        self.popped = container.pop(index)
        if owner is not None and not container:
            del self.data_code(_id_of(owner))["children"]
        return block, prefix.index("-")

    def stamp(self, changes: list[str], definitions: list[str], note: str | None,
              today: str) -> tuple[str, str]:
        """Bump the minor version and put the changelog entry first."""
        root = self.root()
        if getattr(root, "flow_style", False):
            raise self.unusual()
        old = self.codebook.version
        version = bump_minor(old)
        version_node = edit._value(root, "version")
        quoted = json.dumps(version)
        if version_node is not None:
            self.text = (self.text[:version_node.start_mark.index] + quoted
                         + self.text[version_node.end_mark.index:])
        else:
            name = next(k for k, _v in root.value if k.value == "name")
            value = edit._value(root, "name")
            at = edit._line_after(self.text, edit._content_end(value, self.text))
            self.text = edit._splice(self.text, at, " " * name.start_mark.column
                                     + f"version: {quoted}{self.newline}", self.newline)
        self.expected["version"] = version
        entry: dict[str, Any] = {"version": version, "date": today, "changes": list(changes)}
        if note:
            entry["note"] = note
        if definitions:
            entry["definitions"] = list(definitions)
        root = self.root()
        log = edit._value(root, "changelog")
        if log is not None and edit._is_block_list(log):
            first = log.value[0]
            at = self.text.rfind("\n", 0, first.start_mark.index) + 1
            if not re.fullmatch(r" *- +", self.text[at:first.start_mark.index]):
                raise self.unusual()
            block = _item(entry, log.start_mark.column,
                          first.start_mark.column - log.start_mark.column, self.newline)
            self.text = self.text[:at] + block + self.text[at:]
        else:
            key = next((k for k, _v in root.value if k.value == "changelog"), None)
            step, body = edit._list_style(root)
            if key is not None:  # `changelog: []` or `changelog:` with nothing
                start = self._key_line(key)
                end = edit._line_after(self.text, edit._content_end(log, self.text))
                column = key.start_mark.column
            else:  # a new key, just before `codes:`
                codes = next((k for k, _v in root.value if k.value == "codes"), None)
                if codes is None:
                    raise self.unusual()
                start = end = self._key_line(codes)
                column = codes.start_mark.column
            lines = (f"{' ' * column}changelog:{self.newline}"
                     + _item(entry, column + step, body, self.newline))
            self.text = self.text[:start] + lines + self.text[end:]
        self.expected["changelog"] = [entry, *(self.expected.get("changelog") or [])]
        return old, version

    def finish(self, changes: list[str], definitions: list[str], note: str | None,
               today: str | None, dry_run: bool, cache: Cache | None) -> CodebookChange:
        date = today or dt.datetime.now(dt.UTC).date().isoformat()
        note = (note or "").strip() or None
        old, version = self.stamp(changes, definitions, note, date)
        problems = Problems()
        try:
            doc, _root = parse_yaml_nodes(self.text)
        except YamlProblem:
            raise self.unusual() from None
        codebook = codebook_from_document(doc, self.rel, problems)
        if codebook is None or problems.errors:
            first = problems.errors[0] if problems.errors else None
            if doc.data == self.expected and first is not None:
                raise QcodeError(f"the edited codebook would not pass `qcode check`: "
                                 f"{first.message}; nothing was written", first.hint)
            raise self.unusual()
        if doc.data != self.expected:
            raise self.unusual()
        if not dry_run:
            if self.path.read_bytes() != self.raw:
                raise QcodeError(f"{self.rel} changed while it was being edited; nothing "
                                 "was written", "run the command again")
            new_raw = self.text.encode("utf-8")
            atomic_write(self.path, new_raw, overwrite=True)
            if cache is not None:
                remember_yaml(cache, self.rel, new_raw, doc)
        return CodebookChange(self.rel, old, version, date, list(changes), note,
                              list(definitions), codebook, written=not dry_run)


# -- text helpers --------------------------------------------------------------------------------

def _container(root: Any, code_id: str) -> tuple[Any, Any, Any, int]:
    """(the code owning the list or None for ``codes:``, the list's key node, the list,
    the index of ``code_id`` in it)."""
    def walk(owner: Any, mapping: Any, key: str) -> tuple[Any, Any, Any, int] | None:
        for key_node, seq in getattr(mapping, "value", None) or []:
            if key_node.value != key:
                continue
            for index, item in enumerate(getattr(seq, "value", None) or []):
                id_node = edit._value(item, "id")
                if id_node is not None and id_node.value == code_id:
                    return owner, key_node, seq, index
                found = walk(item, item, "children")
                if found is not None:
                    return found
        return None

    found = walk(None, root, "codes")
    assert found is not None, "the code is in the codebook"
    return found


def _id_of(node: Any) -> str:
    return str(edit._value(node, "id").value)


def _entry(key: str, value: Any, column: int, flow: bool, newline: str) -> str:
    if flow:
        text = f"{key}: [{', '.join(_flow_scalar(v) for v in value)}]"
    else:
        # not folded: an example is one line, as written
        text = dump_yaml({key: value}, width=1 << 20).rstrip("\n")
    return newline.join((" " * column + line) if line else ""
                        for line in text.split("\n")) + newline


_PLAIN = re.compile(r"[^\W\d_][\w .\-/]*")
_NOT_PLAIN = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _flow_scalar(value: str) -> str:
    """A text as a flow list item: plain when YAML reads it back as that text, else in
    double quotes (JSON's escapes are YAML's)."""
    if _PLAIN.fullmatch(value) and value.strip() == value and value.lower() not in _NOT_PLAIN:
        return value
    return json.dumps(value, ensure_ascii=False)


def _item(entry: Mapping[str, Any], dash: int, body: int, newline: str) -> str:
    """A changelog entry as a list item, version and date in double quotes (so they read
    back as text, not a number or a date)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    data = {k: DoubleQuotedScalarString(v) if k in ("version", "date") else v
            for k, v in entry.items()}
    lines = dump_yaml(data).rstrip("\n").split("\n")
    first = " " * dash + "-" + " " * (body - 1) + lines[0]
    rest = [(" " * (dash + body) + line) if line else "" for line in lines[1:]]
    return newline.join([first, *rest]) + newline


def _shift(block: str, by: int) -> str:
    """``block``'s lines indented ``by`` columns more (fewer when negative)."""
    out = []
    for line in block.splitlines(keepends=True):
        if by >= 0:
            out.append(" " * by + line if line.strip() else line)
        else:
            spaces = len(line) - len(line.lstrip(" "))
            out.append(line[min(spaces, -by):])
    return "".join(out)


__all__ = ["CodebookChange", "add_code_logged", "bump_minor", "merge_codes", "move_code",
           "rename_code"]

