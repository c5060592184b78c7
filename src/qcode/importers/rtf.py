"""``.rtf``: Rich Text Format, read with striprtf.

striprtf honours the file's code page (``\\ansicpg``) and ``\\u`` escapes and drops the
header, footer, footnote and annotation (comment) groups, which are counted here and
reported. A paragraph (``\\par``) becomes a block; a manual line break (``\\line``)
stays a line break inside it; a table row becomes one block, like ``.docx`` tables.
"""

from __future__ import annotations

import re

from qcode.importers._common import (
    Imported,
    ImportFailed,
    ImportOptions,
    clean_body,
    plural,
    relabel_turns,
    require_text,
    sniff,
    table_row_text,
)

_LINE = re.compile(rb"\\line(?![A-Za-z])\s?")
_DROPPED = {
    "comment": re.compile(rb"\\annotation(?![A-Za-z])"),
    "footnote": re.compile(rb"\\footnote(?![A-Za-z])"),
    "header/footer": re.compile(rb"\\(?:header|footer)[lrf]?(?![A-Za-z])"),
}


def read(raw: bytes, options: ImportOptions) -> Imported:
    if not raw.strip():
        raise ImportFailed("is empty", "check that this is the transcript")
    if sniff(raw) != "rtf":
        raise ImportFailed("is not an RTF file (it does not start with `{\\rtf`)",
                           "check the file, or give it its real extension")
    from striprtf.striprtf import rtf_to_text

    # A manual line break must not become a paragraph break: mark it as U+2028 first.
    marked = _LINE.sub(rb"\\u8232?", raw)
    try:
        text = rtf_to_text(marked.decode("latin-1"), errors="replace")
    except (LookupError, ValueError, IndexError) as exc:
        raise ImportFailed(f"is a damaged RTF file ({exc})",
                           "open it in a word processor and save it as .docx") from None
    imported = Imported("", "rtf")
    blocks = []
    rows = 0
    for line in text.split("\n"):
        if line.endswith("|") and line.count("|") >= 2:  # striprtf ends table cells with |
            cells = [c.strip() for c in line.rstrip("|").split("|") if c.strip()]
            rows += 1
            line = table_row_text(cells)[0] if cells else ""
        blocks.append(line.replace("\u2028", "\n"))
    if "\ufffd" in text:
        imported.warnings.append("some characters could not be decoded (shown as �)")
    body = clean_body("\n\n".join(b for b in blocks if b.strip()), imported.notes)
    require_text(body, "RTF file")
    if rows:
        imported.notes.append(f"{plural(rows, 'table row')} flattened")
    for what, pattern in _DROPPED.items():
        count = len(pattern.findall(raw))
        if count:
            (imported.warnings if what != "header/footer" else imported.notes).append(
                f"dropped {plural(count, what)}")
    imported.text = clean_body(relabel_turns(body, options.speaker_map, imported))
    return imported
