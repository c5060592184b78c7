"""The text of an XML file or archive member, for the residue scan: element text and
attribute values, each with the line it is on.

Read with defusedxml's SAX parser (no DTD, no entities, nothing external), streaming, so
no tree is built and no nesting is too deep. Word, OpenDocument and spreadsheet files cut
a paragraph's text into runs («Ol» in one, «a» in the next) wherever formatting changes:
the text of a paragraph (``w:p``, ``text:p``, ``text:h``, ``a:p``) or a shared string
(``si``) is joined without a separator, so a name cut into runs is still found.
"""

from __future__ import annotations

from typing import Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler

from qcode.interchange.safety import BOM, MAX_XML_SIZE, UnsafeInput

# Elements whose text is one run of prose, however many child elements cut it.
_JOINED = {"p", "h", "si", "is"}


class _Collector(ContentHandler):
    def __init__(self, pieces: list[tuple[str, int | None]]) -> None:
        super().__init__()
        self.pieces = pieces
        self.locator: Any = None
        self.joined_depth = 0          # > 0 inside a paragraph: text is gathered
        self.buffer: list[str] = []
        self.buffer_line: int | None = None
        self.text: list[str] = []      # text since the last element boundary
        self.text_line: int | None = None

    def setDocumentLocator(self, locator: Any) -> None:
        self.locator = locator

    def _line(self) -> int | None:
        return self.locator.getLineNumber() if self.locator is not None else None

    def _flush(self) -> None:
        if self.text:
            self.pieces.append(("".join(self.text), self.text_line))
            self.text = []

    def startElement(self, name: str, attrs: Any) -> None:
        line = self._line()
        if self.joined_depth:
            self.joined_depth += 1
        else:
            self._flush()
            if name.rpartition(":")[2] in _JOINED:
                self.joined_depth = 1
                self.buffer, self.buffer_line = [], line
        for value in attrs.values():
            self.pieces.append((value, line))

    def endElement(self, name: str) -> None:
        if self.joined_depth:
            self.joined_depth -= 1
            if not self.joined_depth:
                self.pieces.append(("".join(self.buffer), self.buffer_line))
                self.buffer = []
            return
        self._flush()

    def characters(self, content: str) -> None:
        if self.joined_depth:
            self.buffer.append(content)
            return
        if not self.text:
            self.text_line = self._line()
        self.text.append(content)

    def endDocument(self) -> None:
        self._flush()


def xml_pieces(data: bytes, what: str) -> list[tuple[str, int | None]]:
    """Every text and attribute value of an XML document, with its line; ``UnsafeInput`` for a DTD,
    entities or XML that is not well-formed (``what`` names the file in the message)."""
    from defusedxml import DefusedXmlException
    from defusedxml.sax import parseString

    if len(data) > MAX_XML_SIZE:
        raise UnsafeInput(f"{what} is {len(data):,} bytes of XML, more than qcode reads "
                          f"({MAX_XML_SIZE:,})", "split it or check it another way")
    pieces: list[tuple[str, int | None]] = []
    try:
        parseString(data.removeprefix(BOM), _Collector(pieces), forbid_dtd=True,
                    forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeInput(f"{what}: refused, the XML declares a DTD or entities "
                          f"({type(exc).__name__})", "the file may be crafted to read "
                          "local files or exhaust memory") from None
    except SAXException as exc:
        raise UnsafeInput(f"{what} is not well-formed XML: {exc.getMessage()}",
                          "the file is damaged") from None
    return pieces
