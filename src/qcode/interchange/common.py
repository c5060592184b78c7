"""Pieces shared by the codebook and project exchange: names, colours, descriptions, values.

REFI-QDA has one free-text ``Description`` per code; qcode has a description plus
``include``, ``exclude``, ``examples`` and ``keywords``. They travel in the Description as
marked sections that people can read in any tool and qcode splits again on import::

    The principal and leadership team own and steer the work.

    Include: Leaders allocate resources, follow up, put it in plans.

    Exclude: Formal support only on paper; use leadership-weak.

    Examples:
    - Rektor: Det står i virksomhetsplanen, og jeg følger det opp.

    Keywords:
    - lederforankring
    - leadership anchoring
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from qcode.format.text import ascii_fold

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
META_PI = "qcode"           # <?qcode {...}?> before the root: qcode's own ids, other tools skip it
META_FORMAT = 1

# -- names and ids ----------------------------------------------------------------------------

_CODE_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")  # with fullmatch: "$" passes "a\n"


def slugify(name: str, fallback: str = "item", max_length: int = 64) -> str:
    """A qcode id from a name: ASCII lower case, words joined by ``-``.

    ``Oltás típusa`` → ``oltas-tipusa``; ``THEME - Affordances`` → ``theme-affordances``.
    """
    text = ascii_fold(name).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9_]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    text = text[:max_length].rstrip("-_")
    return text if text and _CODE_ID_RE.fullmatch(text) else fallback


def unique_id(base: str, taken: set[str], max_length: int = 64) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken yet (and record it)."""
    candidate = base
    number = 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = base[: max_length - len(suffix)].rstrip("-_") + suffix
        number += 1
    taken.add(candidate)
    return candidate




def is_code_id(text: Any) -> TypeGuard[str]:
    return isinstance(text, str) and len(text) <= 64 and bool(_CODE_ID_RE.fullmatch(text))


def local(tag: Any) -> str:
    """An element's name without its namespace (``{urn:...}Code`` → ``Code``)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def children(element: Any, name: str) -> list[Any]:
    return [child for child in element if local(child.tag) == name]


def child(element: Any, name: str) -> Any | None:
    for item in element:
        if local(item.tag) == name:
            return item
    return None


def text_of(element: Any | None) -> str:
    """The text of an element (empty or absent: ``""``)."""
    if element is None:
        return ""
    return "".join(element.itertext())


def attr(element: Any, name: str) -> str | None:
    """An unqualified attribute; tolerate a qualified one from a sloppy writer."""
    value = element.get(name)
    if value is None:
        for key, item in element.attrib.items():
            if local(key) == name:
                return item
    return value


# -- XML text ---------------------------------------------------------------------------------

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (most C0 controls, lone surrogates)."""
    return _XML_INVALID.sub("", text)


def meta_pi_text(data: dict[str, Any]) -> str:
    """JSON for a processing instruction: ASCII only (so no character XML forbids can slip
    in) and never ``?>``, which would end the instruction."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("?>", "?\\u003e")


# -- colours ----------------------------------------------------------------------------------

_HEX6 = re.compile(r"#?([0-9A-Fa-f]{6})(?:[0-9A-Fa-f]{2})?")  # these three with fullmatch
_HEX3 = re.compile(r"#?([0-9A-Fa-f])([0-9A-Fa-f])([0-9A-Fa-f])")
_RGB = re.compile(r"(?:rgba?\()?\s*([0-9]{1,3})\s*,\s*([0-9]{1,3})\s*,\s*([0-9]{1,3})\s*(?:,[^)]*)?\)?")


def normalize_color(value: str | None) -> str | None:
    """A qcode colour (``#RRGGBB``) from what tools write: ``#RGB``, ``#RRGGBBAA``, ``r,g,b``."""
    if not value:
        return None
    value = value.strip()
    match = _HEX6.fullmatch(value)
    if match:
        return "#" + match.group(1)
    match = _HEX3.fullmatch(value)
    if match:
        return "#" + "".join(c * 2 for c in match.groups())
    match = _RGB.fullmatch(value)
    if match and all(0 <= int(c) <= 255 for c in match.groups()):
        return "#" + "".join(f"{int(c):02X}" for c in match.groups())
    return None


# -- descriptions -----------------------------------------------------------------------------

_SECTIONS_RE = re.compile(
    r"\A(?P<description>.*?)"
    r"(?:\n\nInclude: (?P<include>.*?))?"
    r"(?:\n\nExclude: (?P<exclude>.*?))?"
    r"(?:\n\nExamples:\n(?P<examples>- .*?))?"
    r"(?:\n\nKeywords:\n(?P<keywords>- .*?))?\Z",
    re.DOTALL,
)


def compose_description(description: str, include: str | None, exclude: str | None,
                        examples: list[str], keywords: list[str]) -> str:
    parts = [description] if description else []
    if include is not None:
        parts.append(f"Include: {include}")
    if exclude is not None:
        parts.append(f"Exclude: {exclude}")
    if examples:
        parts.append("Examples:\n" + "\n".join(_bullet(e) for e in examples))
    if keywords:
        parts.append("Keywords:\n" + "\n".join(_bullet(k) for k in keywords))
    return "\n\n".join(parts)


def _bullet(item: str) -> str:
    return "- " + item.replace("\n", "\n  ")


def split_description(text: str) -> dict[str, Any]:
    """The inverse of ``compose_description``; unmarked text is all description."""
    plain: dict[str, Any] = {"description": text, "include": None, "exclude": None, "examples": [],
             "keywords": []}
    match = _SECTIONS_RE.match("\n\n" + text)
    if match is None:
        return plain
    examples = _bullets(match.group("examples"))
    keywords = _bullets(match.group("keywords"))
    if examples is None or keywords is None:
        return plain
    return {
        "description": match.group("description").removeprefix("\n\n"),
        "include": match.group("include"),
        "exclude": match.group("exclude"),
        "examples": examples,
        "keywords": keywords,
    }


def _bullets(block: str | None) -> list[str] | None:
    if block is None:
        return []
    items: list[str] = []
    for line in block.split("\n"):
        if line.startswith("- "):
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += "\n" + line[2:]
        else:
            return None
    return items


# -- variables: typed attribute values ----------------------------------------------------------

INTEGER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")  # these four with fullmatch
DECIMAL_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATETIME_RE = re.compile(
    r"-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})?")

VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")


def is_date(text: str) -> bool:
    if not DATE_RE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def is_datetime(text: Any) -> bool:
    """Whether ``text`` is an ``xsd:dateTime`` (as REFI-QDA's creation times must be)."""
    if not isinstance(text, str) or not DATETIME_RE.fullmatch(text):
        return False
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def value_kind(value: Any, from_table: bool) -> str | None:
    """The REFI-QDA type one attribute value has; None for "no value".

    Front matter is typed YAML, so its text stays text (but a date stays a date); a case
    table's cells are all text, so there a number, ``true``/``false`` or a date counts as one.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float" if value == value and value not in (float("inf"), float("-inf")) else "Text"
    text = str(value)
    if from_table:
        if INTEGER_RE.fullmatch(text):
            return "Integer"
        if DECIMAL_RE.fullmatch(text):
            return "Float"
        if text in ("true", "false"):
            return "Boolean"
    if is_date(text):
        return "Date"
    return "Text"


def variable_type(kinds: set[str]) -> str:
    """One type for all of a variable's values: their common type, else Text."""
    kinds = set(kinds)
    if kinds == {"Integer", "Float"}:
        return "Float"
    if len(kinds) == 1:
        return next(iter(kinds))
    return "Text"


def value_text(value: Any, kind: str) -> str:
    """How a value is written as a ``<...Value>`` of a variable of type ``kind``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "Float" and isinstance(value, float):
        return _decimal_text(value)
    return str(value)


def _decimal_text(value: float) -> str:
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    if "." not in text:
        text += ".0"
    return text


def typed_value(kind: str, text: str) -> Any:
    """A front-matter value from a ``<...Value>``'s text (dates stay text, as in qcode)."""
    text = text.strip() if kind != "Text" else text
    if kind == "Boolean":
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        return text
    if kind == "Integer":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "Float":
        try:
            number = float(Decimal(text))
        except (InvalidOperation, ValueError):
            return text
        return number
    return text


def cell_text(kind: str, text: str) -> str:
    """A case-table cell from a ``<...Value>``'s text."""
    if kind == "Boolean":
        stripped = text.strip()
        return {"1": "true", "0": "false"}.get(stripped, stripped)
    return text.strip() if kind != "Text" else text


# -- qcode's metadata block (<?qcode {...}?>) -------------------------------------------------
# The block is only an aid: it brings back what REFI-QDA cannot hold (ids, keys, aliases,
# file names). It comes from a file anyone may have edited, and its parts refer to each
# other (qcode.yaml's case tables, the cases in them), so a block with any part of a shape
# qcode does not write is left out whole, and said: the import goes on from the REFI-QDA
# content, as for a file another tool wrote.

_TEXT_LIST = list[str]
# section -> the shape of each entry (sections keyed by GUID, or lists).
_META_ENTRIES: dict[str, dict[str, Any]] = {
    "coders": {"": str},
    "codes": {"id": str, "key": str, "aliases": _TEXT_LIST, "rules": list},
    "cases": {"table": str, "key": str},
    "transcripts": {"id": str, "file": str, "keys": _TEXT_LIST, "front_matter": bool},
    "codings": {"id": str, "code": str, "extra": dict},
}
_META_LISTS: dict[str, dict[str, Any]] = {
    "case_tables": {"file": str, "key": str, "columns": _TEXT_LIST},
}
_META_VALUES: dict[str, type] = {"format": int, "qcode": str, "project": str, "config": dict,
                                 "codebook": dict}


def checked_meta(data: Any, note: Callable[[str], None]) -> dict[str, Any]:
    """qcode's metadata block, or an empty one (and a ``note`` naming the first part
    that is not of the shape qcode writes). Unknown parts (a newer qcode's) are kept, and
    ignored by the readers."""
    if not isinstance(data, dict):
        return {}
    for section, value in data.items():
        if section in _META_VALUES:
            ok = _shape_ok(value, _META_VALUES[section])
        elif section in _META_ENTRIES:
            ok = isinstance(value, dict) and all(
                _entry_ok(entry, _META_ENTRIES[section]) for entry in value.values())
        elif section in _META_LISTS:
            ok = isinstance(value, list) and all(
                _entry_ok(entry, _META_LISTS[section]) for entry in value)
        else:
            ok = True
        if not ok:
            note(f"qcode's metadata block in the file has a `{section}` part of a shape qcode "
                 "does not write (edited by hand?): the block is left out, and the project "
                 "is imported from its REFI-QDA content alone")
            return {}
    return data


def _entry_ok(entry: Any, shape: dict[str, Any]) -> bool:
    if "" in shape:  # a plain value, such as a coder's name
        return _shape_ok(entry, shape[""])
    return isinstance(entry, dict) and all(
        _shape_ok(entry[key], kind) for key, kind in shape.items() if key in entry)


def _shape_ok(value: Any, kind: Any) -> bool:
    if kind is _TEXT_LIST:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)
