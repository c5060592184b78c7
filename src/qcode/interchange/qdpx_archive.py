"""A REFI-QDA project as it is given: a ``.qdpx`` archive (or a bare ``.qde``), opened
safely (``safety``), its project XML parsed, and its source files read on request."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from qcode.errors import QcodeError
from qcode.interchange import safety
from qcode.interchange.common import META_FORMAT, META_PI, checked_meta
from qcode.interchange.import_report import ImportReport
from qcode.interchange.qdc import check_root
from qcode.interchange.safety import (
    Archive,
    UnsafeInput,
    XmlDocument,
    open_archive,
    parse_xml,
    read_json_pi,
)

_SCHEME = re.compile(r"(internal|relative|absolute)://(.*)", re.IGNORECASE)


class QdpxFile:
    """The file being imported; problems worth knowing go to ``report``."""

    def __init__(self, path: Path, report: ImportReport) -> None:
        self.path = path
        self.report = report
        self.archive: Archive | None = None
        self.meta: dict[str, Any] = {}  # qcode's own <?qcode?> block, when it has one
        self.doc: XmlDocument | None = None

    def open(self) -> Any:
        """Open the archive (or a bare .qde) and parse the project XML; returns the root."""
        if zipfile.is_zipfile(self.path):
            self.archive = open_archive(self.path)
            qde = self._find_qde()
            doc = parse_xml(self.archive.read(qde), f"{self.path.name}:{qde.filename}")
            if self.archive.duplicates:
                self.report.note("members differing only in case were ignored: "
                                 + ", ".join(self.archive.duplicates[:5]))
        else:
            try:
                if self.path.stat().st_size > safety.MAX_XML_SIZE:
                    raise UnsafeInput(f"{self.path.name} is larger than a project file can be "
                                      f"({safety.MAX_XML_SIZE:,} bytes)",
                                      "export the project from your tool as REFI-QDA (.qdpx)")
                head = self.path.read_bytes()
            except OSError as exc:
                raise QcodeError(f"cannot read {self.path}: {exc.strerror}") from None
            if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
                raise UnsafeInput(f"{self.path.name} is neither a .qdpx (zip) nor a .qde (XML)",
                                  "export the project from your tool as REFI-QDA (.qdpx)")
            doc = parse_xml(head, self.path.name)
            self.report.note("a bare .qde without its archive: its source files are not here")
        check_root(doc, "Project", self.path.name)
        self.doc = doc
        meta = read_json_pi(doc, META_PI)
        if meta and meta.get("format") == META_FORMAT:
            self.meta = checked_meta(meta, self.report.note)
        return doc.root

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def _find_qde(self) -> zipfile.ZipInfo:
        assert self.archive is not None
        qdes = [info for key, info in self.archive.members.items()
                if key.endswith(".qde") and "/" not in key.rstrip("/")]
        if not qdes:
            raise UnsafeInput(f"{self.path.name} has no .qde file at its top level",
                              "a .qdpx holds project.qde and a sources/ folder")
        preferred = [q for q in qdes if q.filename.lower() == "project.qde"]
        if len(qdes) > 1 and not preferred:
            raise UnsafeInput(f"{self.path.name} has several .qde files: "
                              + ", ".join(q.filename for q in qdes),
                              "a .qdpx holds exactly one project")
        return (preferred or qdes)[0]

    def member(self, path_value: str | None) -> tuple[bytes | None, str]:
        """The bytes of a source file named in the XML, or None and why not."""
        if not path_value:
            return None, "no file is named"
        match = _SCHEME.fullmatch(path_value.strip())
        scheme = match.group(1).lower() if match else None
        rest = (match.group(2) if match else path_value.strip()).replace("\\", "/").lstrip("/")
        if scheme in ("relative", "absolute"):
            return None, f"an external file ({path_value}), not inside the archive"
        if self.archive is None:
            return None, f"its file {rest} is not here (a bare .qde has no sources)"
        base = rest.rsplit("/", 1)[-1]
        for candidate in (f"sources/{rest}", rest, f"sources/{base}"):
            info = self.archive.find(candidate)
            if info is not None and not info.is_dir():
                return self.archive.read(info), ""
        return None, f"its file {rest} is missing from the archive"

    def decode(self, raw: bytes, what: str) -> str:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.report.note(f"{what} is UTF-16, not UTF-8 as REFI-QDA asks; decoded anyway")
            return raw.decode("utf-16", errors="replace")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            from qcode.format.text import guess_encoding

            encoding, _confidence = guess_encoding(raw)
            try:
                text = raw.decode(encoding or "cp1252")
            except (LookupError, UnicodeDecodeError):
                encoding, text = "cp1252", raw.decode("cp1252", errors="replace")
            self.report.note(f"{what} is not UTF-8; decoded as {encoding or 'cp1252'}")
            return text
