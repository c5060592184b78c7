"""Names for people: attribute names and values as a report shows them.

``informant_group`` is "Informant group", ``department_manager`` "department manager";
the ids stay what the files say (a report shows them beside the labels where a reader
may need them for a command).
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[_]+")


def attribute_label(name: str) -> str:
    """An attribute's name as a heading: underscores as spaces, first letter capital."""
    words = _SEPARATORS.sub(" ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def value_label(value: str) -> str:
    """An attribute's value as text: underscores as spaces, case as written."""
    words = _SEPARATORS.sub(" ", value).strip()
    return words or value
