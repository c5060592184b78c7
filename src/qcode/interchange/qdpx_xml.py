"""The XML text of ``project.qde``, a piece at a time.

The text is exactly what ElementTree wrote when the export built the whole tree
(``ET.indent(root, space="  ")`` and ``ET.tostring(root, short_empty_elements=True)``):
the same escaping, indentation and ``<Empty />`` elements, so archives stay byte for byte
what they were.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from qcode.interchange.common import value_text, xml_safe

INDENT = "  "


def add_element(parent: ET.Element, name: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, name, attrs or {})


def attr_text(text: str) -> str:
    """An attribute value escaped as ElementTree escapes it: as element text, and more."""
    text = char_data(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def char_data(text: str) -> str:
    """Element text escaped as ElementTree escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def start_tag(name: str, attrs: dict[str, str]) -> str:
    return "<" + name + "".join(f' {key}="{attr_text(value)}"' for key, value in attrs.items())


def element_pieces(element: ET.Element, depth: int) -> Iterator[str]:
    """An element (built without tails) as indented XML, its first line not indented."""
    tag = element.tag
    yield start_tag(tag, element.attrib)
    if len(element):
        yield ">"
        inner = "\n" + INDENT * (depth + 1)
        for child in element:
            yield inner
            yield from element_pieces(child, depth + 1)
        yield f"\n{INDENT * depth}</{tag}>"
    elif element.text:
        yield f">{char_data(element.text)}</{tag}>"
    else:
        yield " />"


def value_element(parent: ET.Element, variable_guid: str, kind: str, value: Any) -> None:
    """A ``<VariableValue>`` of a case or a source."""
    holder = add_element(parent, "VariableValue")
    add_element(holder, "VariableRef", {"targetGUID": variable_guid})
    add_element(holder, f"{kind}Value").text = xml_safe(value_text(value, kind))
