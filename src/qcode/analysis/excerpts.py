"""Excerpts for people: a text with some spans marked, and keyword-in-context snippets
(auto-coding proposals, search hits)."""

from __future__ import annotations

from collections.abc import Iterable


def highlight(text: str, offset: int, matches: Iterable[tuple[int, int]],
              mark: tuple[str, str] = ("**", "**")) -> str:
    """``text`` (the body from ``offset``) with the matched spans wrapped in ``mark``."""
    out, position = [], 0
    for start, end in matches:
        start, end = max(start - offset, position), min(end - offset, len(text))
        if end <= start:
            continue
        out += [text[position:start], mark[0], text[start:end], mark[1]]
        position = end
    out.append(text[position:])
    return "".join(out)


def snippet(text: str, offset: int, matches: list[tuple[int, int]], context: int = 40,
            mark: tuple[str, str] = ("**", "**")) -> str:
    """The matched words of ``text`` (the body from ``offset``) with about ``context``
    characters of whole words around each, whitespace collapsed, gaps shown as "…"."""
    windows: list[list[int]] = []
    for start, end in matches:
        low = _word_edge(text, max(start - offset - context, 0), -1)
        high = _word_edge(text, min(end - offset + context, len(text)), 1)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    if not windows:
        windows = [[0, _word_edge(text, min(len(text), 2 * context), 1)]]
    pieces = []
    for index, (low, high) in enumerate(windows):
        piece = " ".join(highlight(text[low:high], offset + low, matches, mark).split())
        if low > 0 and index == 0:
            piece = "… " + piece
        pieces.append(piece)
    out = " … ".join(pieces)
    return out + (" …" if windows[-1][1] < len(text) else "")


def _word_edge(text: str, position: int, direction: int) -> int:
    """``position`` moved outwards to the nearest whitespace (or the text's edge)."""
    if direction < 0:
        while position > 0 and not text[position - 1].isspace():
            position -= 1
    else:
        while position < len(text) and not text[position].isspace():
            position += 1
    return position


def keyword_context(text: str, start: int, end: int, low: int, high: int,
                    width: int = 40) -> tuple[str, str]:
    """The words before and after ``text[start:end]`` inside ``[low, high)``: about
    ``width`` characters on each side, never part of a word at the outer edge,
    whitespace collapsed. A space between the context and the hit is kept (one), so
    ``left + text[start:end] + right`` reads as the text does."""
    left_edge = max(low, start - width)
    if left_edge > low and not text[left_edge - 1].isspace():
        while left_edge < start and not text[left_edge].isspace():
            left_edge += 1
    right_edge = min(high, end + width)
    if right_edge < high and not text[right_edge].isspace():
        while right_edge > end and not text[right_edge - 1].isspace():
            right_edge -= 1
    return (_collapsed(text[left_edge:start], keep_end=True),
            _collapsed(text[end:right_edge], keep_end=False))


def _collapsed(piece: str, keep_end: bool) -> str:
    words = " ".join(piece.split())
    if not words:
        return ""
    if keep_end and piece[-1].isspace():
        return words + " "
    if not keep_end and piece[0].isspace():
        return " " + words
    return words
