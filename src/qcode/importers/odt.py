"""``.odt``: OpenDocument text (LibreOffice, Google Docs' export), read directly from its
``content.xml`` with defusedxml.

The format is small and stable (ISO/IEC 26300): paragraphs, headings, lists, sections
and tables hold the text; spans, links, spaces (``text:s``), tabs and line breaks sit
inside paragraphs. Reading it ourselves keeps every XML parse behind defusedxml (odfpy,
the usual library, has had no release since 2020 and parses with the plain SAX parser).
Annotations (comments), notes, text boxes, tracked deletions and the headers and
footers in ``styles.xml`` are dropped and reported, as for ``.docx``.
"""

from __future__ import annotations

from qcode.format.limits import MAX_DECLARED_SPACES
from qcode.importers._common import (
    Imported,
    ImportFailed,
    ImportOptions,
    clean_body,
    open_zip,
    parse_part,
    plural,
    read_member,
    refuse_dtd,
    relabel_turns,
    require_size,
    require_text,
    table_row_text,
)

LABEL = "OpenDocument file"

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"

_BLOCKS = {TEXT + "p", TEXT + "h"}
_CONTAINERS = {TEXT + "list", TEXT + "list-item", TEXT + "list-header", TEXT + "section",
               TEXT + "index-body", OFFICE + "text", TABLE + "table-row-group",
               TABLE + "table-rows", TABLE + "table-header-rows"}


def read(raw: bytes, options: ImportOptions) -> Imported:
    archive = open_zip(raw, "OpenDocument text (.odt)")
    names = set(archive.namelist())
    if "content.xml" not in names:
        if "word/document.xml" in names:
            raise ImportFailed("is a Word document, not OpenDocument", "rename it to .docx")
        raise ImportFailed("is a zip file but not an OpenDocument file (no content.xml)",
                           "open it in LibreOffice and save it as .odt")
    mimetype = read_member(archive, "mimetype", LABEL)[:200].decode(
        "ascii", "replace").strip() if "mimetype" in names else ""
    if mimetype and mimetype != "application/vnd.oasis.opendocument.text":
        raise ImportFailed(f"is an OpenDocument file of another kind ({mimetype})",
                           "export the transcript as .odt text or .docx")
    refuse_dtd(archive, LABEL)
    root = parse_part(read_member(archive, "content.xml", LABEL), LABEL, "content.xml")
    body = root.find(f"{OFFICE}body/{OFFICE}text")
    if body is None:
        raise ImportFailed("has no text body (office:text)", "is it a text document?")
    imported = Imported("", "odt")
    reader = _Reader()
    text = clean_body("\n\n".join(b for b in reader.blocks(body) if b.strip()), imported.notes)
    require_text(text, LABEL)
    reader.report(imported)
    if "styles.xml" in names:
        _report_headers(read_member(archive, "styles.xml", LABEL), imported)
    imported.text = clean_body(relabel_turns(text, options.speaker_map, imported))
    return imported


class _Reader:
    def __init__(self) -> None:
        self.tables = 0
        self.rows = 0
        self.comments: list[str] = []
        self.notes = 0
        self.frames = 0
        self.deletions = 0
        self.chars = 0                       # text so far (require_size)
        self.bad_spaces: list[str] = []      # text:c values that are not a count
        self.long_spaces = 0                 # runs longer than MAX_DECLARED_SPACES

    def blocks(self, container) -> list[str]:
        out: list[str] = []
        for child in container:
            tag = child.tag
            if tag in _BLOCKS:
                out.append(self.paragraph(child))
            elif tag == TABLE + "table":
                self.tables += 1
                out.extend(self.table(child))
            elif tag == TEXT + "tracked-changes":
                self.deletions += sum(1 for _ in child.iter(TEXT + "deletion"))
            elif tag in _CONTAINERS:
                out.extend(self.blocks(child))
        return out

    def paragraph(self, element) -> str:
        """A paragraph's text in document order. Walked with a stack, not recursion:
        spans may nest as deep as the XML does."""
        parts: list[str] = []
        # Each entry is an element to read, or the tail text that follows one.
        pending: list = [item for child in reversed(element)
                         for item in (child.tail or "", child)]
        pending.append(element.text or "")
        while pending:
            item = pending.pop()
            if isinstance(item, str):
                self._add(parts, item)
                continue
            inner = self._inline(item, parts)
            if inner:
                pending.extend(child_item for child in reversed(item)
                               for child_item in (child.tail or "", child))
                pending.append(item.text or "")
        return "".join(parts)

    def _add(self, parts: list[str], text: str) -> None:
        self.chars += len(text)
        require_size(self.chars)
        parts.append(text)

    def _inline(self, element, parts: list[str]) -> bool:
        """Read one element inside a paragraph; True when its content is text to read."""
        tag = element.tag
        if tag == TEXT + "s":
            self._add(parts, " " * self._spaces(element.get(TEXT + "c")))
        elif tag == TEXT + "tab":
            self._add(parts, "\t")
        elif tag == TEXT + "line-break":
            self._add(parts, "\n")
        elif tag == OFFICE + "annotation":
            self.comments.append(" ".join(
                "".join(p.itertext()) for p in element.iter(TEXT + "p")).strip())
        elif tag == OFFICE + "annotation-end":
            pass
        elif tag == TEXT + "note":
            self.notes += 1
        elif tag == DRAW + "frame":
            if "".join(element.itertext()).strip():
                self.frames += 1
        else:  # spans, links, bookmarks, change marks, fields: their text is the text
            return True
        return False

    def _spaces(self, declared: str | None) -> int:
        """The run of spaces a ``text:c`` declares: 1 when absent, a bad value read as 1
        and an absurd one cut to ``MAX_DECLARED_SPACES`` (both reported)."""
        if declared is None or not declared.strip():
            return 1
        text = declared.strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            if len(self.bad_spaces) < 3:
                self.bad_spaces.append(declared[:20])
            return 1
        if len(text) > 9 or int(text) > MAX_DECLARED_SPACES:
            self.long_spaces += 1
            return MAX_DECLARED_SPACES
        return int(text)

    def table(self, element) -> list[str]:
        lines: list[str] = []
        rows = [r for r in element.iter(TABLE + "table-row")]
        nested = {id(r) for t in element.iter(TABLE + "table") if t is not element
                  for r in t.iter(TABLE + "table-row")}
        for row in rows:
            if id(row) in nested:
                continue
            cells = []
            for cell in row.findall(TABLE + "table-cell"):
                text = "\n".join(b for b in self.blocks(cell) if b.strip()).strip()
                if text:
                    cells.append(text)
            if cells:
                self.rows += 1
                lines.append(table_row_text(cells)[0])
        return lines

    def report(self, imported: Imported) -> None:
        if self.tables:
            imported.notes.append(f"{plural(self.tables, 'table')} flattened row by row "
                                  f"({plural(self.rows, 'row')})")
        if self.comments:
            imported.warnings.append(f"dropped {plural(len(self.comments), 'comment')}: "
                                     + "; ".join(f"{c[:50]!r}" for c in self.comments[:3]))
        if self.notes:
            imported.warnings.append(f"dropped {plural(self.notes, 'footnote')}")
        if self.frames:
            imported.warnings.append(f"dropped {plural(self.frames, 'text box')}")
        if self.deletions:
            imported.warnings.append(f"tracked changes: {plural(self.deletions, 'deletion')} "
                                     "read as accepted")
        if self.bad_spaces:
            imported.warnings.append("space counts that are not a number (text:c="
                                     + ", ".join(repr(v) for v in self.bad_spaces)
                                     + ") were read as one space")
        if self.long_spaces:
            imported.warnings.append(f"{plural(self.long_spaces, 'run')} of more than "
                                     f"{MAX_DECLARED_SPACES:,} spaces (text:c) cut to "
                                     f"{MAX_DECLARED_SPACES:,}")


def _report_headers(styles: bytes, imported: Imported) -> None:
    try:
        root = parse_part(styles, LABEL, "styles.xml")
    except ImportFailed:  # a damaged styles.xml only loses this report
        return
    texts = []
    for kind in ("header", "footer", "header-left", "footer-left", "header-first",
                 "footer-first"):
        for element in root.iter(STYLE + kind):
            text = " ".join("".join(p.itertext()) for p in element.iter(TEXT + "p")).strip()
            if text and text not in texts:
                texts.append(text)
    if texts:
        imported.notes.append("dropped header/footer text: "
                              + "; ".join(f"{t[:60]!r}" for t in texts[:3]))
