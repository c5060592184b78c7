"""The memo files that belong beside coded segments (#20 item 4): each code's memos under
its heading, and a case's memos under the heading of a ``--by`` group on that case's
attribute (``case:school=Voss`` under ``school: Voss``) — the rule the framework matrix
fills its cells by (``Project._with_memos``).

The memos come from ``Project.memos()``; this module picks the ones the output shows and
lays them out for Markdown, HTML, the terminal and JSON, escaped as the segments are.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from qcode.format.attributes import attribute_text
from qcode.format.memos import Memo
from qcode.format.text import printable


@dataclass
class SegmentMemos:
    """The memos an output of segments shows: ``on_code`` by code id, ``on_value`` by the
    ``--by`` attribute's value (as text), each by author (file names sort ``x--b.md``
    before ``x.md``, so file order would not be the order anyone wrote them in)."""

    on_code: dict[str, list[Memo]] = field(default_factory=dict)
    on_value: dict[str, list[Memo]] = field(default_factory=dict)

    def for_code(self, code: Any) -> list[Memo]:
        return self.on_code.get(str(code), [])

    def for_value(self, value: Any) -> list[Memo]:
        return [] if value is None else self.on_value.get(attribute_text(value), [])

    def all(self) -> list[Memo]:
        """Each memo shown once: the code memos, then the case memos."""
        return [m for memos in (*self.on_code.values(), *self.on_value.values())
                for m in memos]

    def records(self) -> list[dict[str, Any]]:
        """The memos as JSON records (``Memo.to_dict``; a code memo's target is the code's
        current id when the file names a former one)."""
        return [m.to_dict() for m in self.all()]


def segment_memos(memos: Iterable[Memo], codes: Iterable[Any], by: str | None,
                  values: Iterable[Any], canonical: Callable[[str], str] = str
                  ) -> SegmentMemos:
    """The memos among ``memos`` on the ``codes`` shown (``canonical``: a code's current
    id, for a memo naming a former one) and on the cases ``by=VALUE`` for the ``values``
    shown. Transcript and project memos are not shown beside segments."""
    from dataclasses import replace

    from qcode.format.memos import MemoAbout

    shown_codes = {str(c) for c in codes}
    shown_values = {attribute_text(v) for v in values if v is not None}
    chosen = SegmentMemos()
    for memo in memos:
        about = memo.about
        if about.kind == "code":
            current = canonical(about.target)
            if current in shown_codes:
                if current != about.target:
                    memo = replace(memo, about=MemoAbout("code", current))
                chosen.on_code.setdefault(current, []).append(memo)
        elif about.kind == "case" and by is not None:
            attribute, value = about.case
            if attribute == by and value in shown_values:
                chosen.on_value.setdefault(value, []).append(memo)
    for lists in (chosen.on_code, chosen.on_value):
        for key, listed in lists.items():
            lists[key] = sorted(listed, key=lambda m: (m.author is None, m.author or ""))
    return chosen


def _lines(text: str) -> list[str]:
    """A memo's lines, each ``printable``: Markdown and HTML go to a terminal as often
    as to a file, so no control character of a memo reaches it. CR ends a line in
    Markdown too, so it is split on as well (as segment memos are)."""
    return [printable(line) for line in re.split(r"\r\n|\r|\n", text)]


def _author(memo: Memo) -> str:
    return memo.author or "no author"


def memos_markdown(memos: list[Memo]) -> list[str]:
    """One paragraph per memo, ``*Memo* (author): text``; the memo's line breaks are
    ``<br>`` and its text escaped as every segment's is (``markdown_text``)."""
    from qcode.render.markdown import markdown_text

    return [f"*Memo* ({markdown_text(_author(m), one_line=True)}): "
            + "<br>".join(markdown_text(line) for line in _lines(m.text)) + "\n"
            for m in memos]


def memos_html(memos: list[Memo]) -> list[str]:
    return [f"<p class=\"memo\"><em>Memo</em> ({html.escape(_author(m))}): "
            + "<br>\n".join(html.escape(line) for line in _lines(m.text)) + "</p>"
            for m in memos]


def memos_terminal(memos: list[Memo]) -> list[str]:
    """One line per memo, ``memo (author): text`` with its line breaks as spaces; the
    caller prints it through ``printable`` as all project text."""
    return [f"memo ({_author(m)}): {' '.join(m.text.split())}" for m in memos]


def memos_sheet(memos: SegmentMemos) -> tuple[str, list[str], list[list[Any]], int]:
    """The ``memos`` sheet of an XLSX of segments: about, author, dates, file, text."""
    header = ["about", "author", "created", "updated", "file", "text"]
    rows: list[list[Any]] = [[str(m.about), m.author, m.created, m.updated, m.file, m.text]
                             for m in memos.all()]
    return "memos", header, rows, 2
