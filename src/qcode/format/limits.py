"""How far qcode follows what a file declares: one nesting limit per format, and the
sizes and counts an input may ask for.

A file from someone else (a cloned study, an export from another tool, a restored cache)
can nest a thousand levels deep or declare two billion spaces in a few bytes. Past these
limits the file is reported with its line and what to do, never followed into a
``RecursionError`` or an hour of work. Each limit is far beyond what any honest file
needs; ``docs/format.md`` lists them.
"""

from __future__ import annotations

from typing import Any

# YAML (qcode.yaml, codebooks, front matter): levels of mappings and lists, aliases
# followed. A codebook at MAX_CODE_DEPTH with nested rules stays well inside it.
MAX_YAML_DEPTH = 100
# Codes inside codes, in a codebook and in a REFI-QDA file (.qdc, .qdpx).
MAX_CODE_DEPTH = 32
# Values YAML aliases (``*name``) may expand to, in one file: an alias bomb ("billion
# laughs") stops here. Plain values do not count; a file's size bounds them.
MAX_ALIAS_VALUES = 100_000
# XML from other tools (REFI-QDA projects and codebooks, OpenDocument text): elements
# inside elements, as libxml2 allows by default (python-docx's .docx parts).
MAX_XML_DEPTH = 256
# JSON in coding and suggestions logs and in the ``<?qcode?>`` block of an export.
MAX_JSON_DEPTH = 128
# Groups inside groups in a ``regex:`` rule.
MAX_REGEX_DEPTH = 32
# Parentheses, ``!`` and ``near()`` inside each other in a ``qcode query`` expression.
MAX_QUERY_DEPTH = 100
# The text one imported transcript may become, in characters (an .odt declares runs of
# spaces; every other format's text is no longer than its file).
MAX_TRANSCRIPT_CHARS = 50_000_000
# A run of spaces an .odt declares in one ``<text:s text:c="N"/>``.
MAX_DECLARED_SPACES = 1_000


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep lists and mappings nest in ``value`` (a scalar is 0), counted without
    recursion and only up to ``limit + 1``: enough to tell that it is too deep."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((child, depth) for child in children)
    return deepest
