"""``.docx``: Word documents, read with python-docx.

The body is read in document order: each paragraph becomes a block, blocks are
separated by a blank line, and a table is flattened row by row (``Speaker | text``
tables, as transcribers often deliver, become ``Speaker: text`` turns). Tracked
changes are read as accepted (insertions kept, deletions dropped). Headers, footers,
comments, footnotes and text boxes are not interview text: they are dropped and the
drop is reported.

python-docx parses the parts with lxml (entities are not resolved); before that the
zip is checked (size, bombs, paths) and any part with a DTD is refused.
"""

from __future__ import annotations

import re

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
    require_text,
    table_row_text,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

# Inside a paragraph, these hold no interview text: deleted runs, field instructions,
# properties, references to comments and notes, drawings (text boxes are reported).
_SKIP = {W + t for t in ("del", "moveFrom", "delText", "instrText", "delInstrText", "pPr",
                         "rPr", "commentReference", "footnoteReference", "endnoteReference",
                         "drawing", "pict", "object", "fldData", "annotationRef")}
_SKIP.add(MC + "Fallback")
_SKIP.add("{urn:schemas-microsoft-com:vml}shape")


def read(raw: bytes, options: ImportOptions) -> Imported:
    archive = open_zip(raw, "Word document (.docx)")
    names = set(archive.namelist())
    if "word/document.xml" not in names:
        if "content.xml" in names:
            raise ImportFailed("is an OpenDocument file, not a Word document",
                               "rename it to .odt")
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            raise ImportFailed("is an Excel workbook, not a Word document")
        raise ImportFailed("is a zip file but not a Word document (no word/document.xml)",
                           "open it in Word and save it as .docx")
    refuse_dtd(archive, "Word document")

    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ImportFailed(f"is a damaged Word document ({exc})",
                           "open it in Word, save it again and import it") from None
    except Exception as exc:  # lxml's XMLSyntaxError and friends: damaged XML
        raise ImportFailed(f"is a damaged Word document ({type(exc).__name__}: {exc})",
                           "open it in Word, save it again and import it") from None

    imported = Imported("", "docx")
    reader = _Reader()
    blocks = reader.blocks(document.element.body)
    body = clean_body("\n\n".join(b for b in blocks if b.strip()), imported.notes)
    require_text(body, "Word document")
    reader.report(imported)
    _report_dropped(document, archive, imported)
    imported.text = clean_body(relabel_turns(body, options.speaker_map, imported))
    return imported


class _Reader:
    """Walks the body XML in order; counts what it turns or drops."""

    def __init__(self) -> None:
        self.tables = 0
        self.rows = 0
        self.speaker_rows = 0
        self.insertions = 0
        self.deletions = 0
        self.text_boxes = 0

    def blocks(self, container) -> list[str]:
        out: list[str] = []
        for child in container:
            tag = child.tag
            if tag == W + "p":
                out.append(self.paragraph(child))
            elif tag == W + "tbl":
                self.tables += 1
                out.extend(self.table(child))
            elif tag == W + "sdt":  # a content control: its content is ordinary text
                content = child.find(W + "sdtContent")
                if content is not None:
                    out.extend(self.blocks(content))
            elif tag == W + "customXml":
                out.extend(self.blocks(child))
        return out

    def paragraph(self, element) -> str:
        parts: list[str] = []
        self._inline(element, parts)
        return "".join(parts)

    def _inline(self, element, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # comments and processing instructions in the XML
            if tag in _SKIP:
                if tag in (W + "del", W + "moveFrom"):
                    self.deletions += 1
                elif tag in (W + "drawing", W + "pict") and any(
                        (t.text or "").strip() for t in child.iter(W + "t")):
                    self.text_boxes += 1
                continue
            if tag == W + "t":
                parts.append(child.text or "")
            elif tag == W + "tab":
                parts.append("\t")
            elif tag in (W + "br", W + "cr"):
                parts.append("\n")
            elif tag == W + "noBreakHyphen":
                parts.append("-")
            elif tag == W + "softHyphen":
                continue
            else:
                if tag in (W + "ins", W + "moveTo"):
                    self.insertions += 1
                self._inline(child, parts)

    def table(self, element) -> list[str]:
        lines: list[str] = []
        for row in element.iter(W + "tr"):
            if _ancestor_table(row) is not element:
                continue  # a row of a nested table: read with its cell
            cells = []
            for cell in row.findall(W + "tc") + [
                    tc for sdt in row.findall(W + "sdt") for tc in sdt.iter(W + "tc")]:
                text = "\n".join(b for b in self.blocks(cell) if b.strip()).strip()
                if text:
                    cells.append(text)
            if not cells:
                continue
            self.rows += 1
            lines.append(self.row_text(cells))
        return lines  # one block per row: a row is a paragraph, often a turn

    def row_text(self, cells: list[str]) -> str:
        text, turn = table_row_text(cells)
        self.speaker_rows += turn
        return text

    def report(self, imported: Imported) -> None:
        if self.tables:
            note = f"{plural(self.tables, 'table')} flattened row by row ({plural(self.rows, 'row')}"
            if self.speaker_rows:
                note += f", {self.speaker_rows} read as `Speaker: text` turns"
            imported.notes.append(note + ")")
        if self.insertions or self.deletions:
            imported.warnings.append(
                f"tracked changes ({self.insertions} insertions, {self.deletions} deletions) "
                "were read as accepted; check the text if they were not final")
        if self.text_boxes:
            imported.warnings.append(f"dropped {plural(self.text_boxes, 'text box')} "
                                     "(drawings are not read)")


def _ancestor_table(element):
    parent = element.getparent()
    while parent is not None and parent.tag != W + "tbl":
        parent = parent.getparent()
    return parent


def _report_dropped(document, archive, imported: Imported) -> None:
    """Say what was not imported: headers and footers, comments, footnotes."""
    dropped_headers: list[str] = []
    for part in document.part.package.iter_parts():
        name = str(part.partname)
        if re.fullmatch(r"/word/(header|footer)[0-9]*\.xml", name):
            text = " ".join(t.text or "" for t in part.element.iter(W + "t")).strip()
            if text and text not in dropped_headers:
                dropped_headers.append(text)
    if dropped_headers:
        shown = "; ".join(f"{t[:60]!r}" for t in dropped_headers[:3])
        imported.notes.append(f"dropped header/footer text: {shown}")
    comments = _comments(document, archive)
    if comments:
        authors = sorted({a for a, _ in comments if a})
        by = f" by {', '.join(authors)}" if authors else ""
        imported.warnings.append(f"dropped {plural(len(comments), 'comment')}{by}: "
                                 + "; ".join(f"{t[:50]!r}" for _, t in comments[:3]))
    for kind in ("footnotes", "endnotes"):
        count = _notes(archive, kind)
        if count:
            imported.warnings.append(f"dropped {count} {kind[:-1] if count == 1 else kind}")


def _comments(document, archive) -> list[tuple[str, str]]:
    try:
        comments = document.comments  # python-docx >= 1.2
    except AttributeError:  # pragma: no cover - older python-docx
        comments = None
    if comments is not None:
        return [(c.author or "", c.text.strip()) for c in comments]
    return []  # pragma: no cover


def _notes(archive, kind: str) -> int:
    """Real foot- or endnotes (Word keeps two separator notes in every file)."""
    name = f"word/{kind}.xml"
    if name not in archive.namelist():
        return 0
    root = parse_part(read_member(archive, name, "Word document"), "Word document", name)
    tag = W + kind[:-1]
    return sum(1 for note in root.iter(tag) if note.get(W + "type") in (None, "normal")
               and "".join(t.text or "" for t in note.iter(W + "t")).strip())
