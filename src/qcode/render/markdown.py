"""Project text as Markdown that shows it and does nothing else: the one escaping every
Markdown output uses (tables, quotes, memos)."""

from __future__ import annotations

import re
from typing import Any

from qcode.format.delimited import cell_text

# No tag, autolink or entity starts without "<" or "&", and no link or image without "[";
# a lone ">" does nothing of the sort (a memo's "->" stays readable).
_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", "\\": "\\\\", "[": "\\[", "]": "\\]"}
_MARKDOWN_SPECIAL = re.compile(r"[&<\\\[\]]")


def markdown_text(value: Any, one_line: bool = False) -> str:
    """Project text as Markdown that shows it and does nothing else: HTML is escaped
    (``<script>`` is text), and so are backslashes and brackets, so no link or image can
    be made of it (``[x](javascript:...)``, ``<javascript:...>``). ``one_line`` for
    headings and attributions: line breaks become spaces."""
    text = "" if value is None else cell_text(value)
    if one_line:
        text = " ".join(text.split("\n"))
    return _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN_ESCAPES[m.group()], text)
