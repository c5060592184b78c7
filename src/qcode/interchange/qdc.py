"""The REFI-QDA codebook (``.qdc``): qcode's codebook to XML and back.

Export maps each code to a ``<Code>``: the label as ``name``, ``codable`` as ``isCodable``,
the colour, and the description with include/exclude/examples/keywords as marked sections
(``common.compose_description``). qcode's own code ids, shortcut keys and aliases have no
place in REFI-QDA; they travel in a ``<?qcode {...}?>`` processing instruction before the
root, which every XML reader skips and qcode's importer reads back.

Import is lenient (a BOM, draft namespaces, braced or lower-case GUIDs, Taguette's empty
``<Sets/>``) and makes ids from names: slugged and unique, the name kept as the label.
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode._version import __version__
from qcode.errors import QcodeError, WriteFailed
from qcode.format.limits import MAX_CODE_DEPTH
from qcode.format.names import plural
from qcode.interchange import guids as guidmod
from qcode.interchange.common import (
    CODEBOOK_NS,
    META_FORMAT,
    META_PI,
    attr,
    checked_meta,
    child,
    children,
    compose_description,
    is_code_id,
    local,
    meta_pi_text,
    namespace,
    normalize_color,
    slugify,
    split_description,
    text_of,
    unique_id,
    xml_safe,
)
from qcode.interchange.import_report import ImportReport
from qcode.interchange.safety import UnsafeInput, XmlDocument, parse_xml, read_json_pi
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Code

ORIGIN = f"qcode {__version__}"
MAX_QDC_SIZE = 64 * 1024 * 1024


# -- export -----------------------------------------------------------------------------------


def code_elements(parent: ET.Element, codes: list[Code], store: guidmod.GuidStore,
                  meta: dict[str, dict[str, Any]], seen: set[str], warnings: list[str],
                  memo_sections: dict[str, str] | None = None) -> int:
    """Append ``<Code>`` elements for ``codes`` (and their children); returns how many.
    ``memo_sections``: code id -> its memos, after the definition (``qdpx_memos``)."""
    count = 0
    for code in codes:
        if code.id in seen:
            warnings.append(f"code id {code.id!r} appears twice in the codebook; the second "
                            "one is left out (run `qcode check`)")
            continue
        seen.add(code.id)
        guid = store.get("code", code.id)
        element = ET.SubElement(parent, "Code", {
            "guid": guid, "name": xml_safe(code.label),
            "isCodable": "true" if code.codable else "false",
        })
        if code.color:
            element.set("color", code.color)
        description = compose_description(code.description, code.include, code.exclude,
                                          code.examples, code.keywords)
        if memo_sections and code.id in memo_sections:
            description = "\n\n".join(part for part in (description, memo_sections[code.id]) if part)
        if description:
            ET.SubElement(element, "Description").text = xml_safe(description)
        entry: dict[str, Any] = {"id": code.id}
        if code.key is not None:
            entry["key"] = code.key
        if code.aliases:
            entry["aliases"] = list(code.aliases)
        if code.rules:
            entry["rules"] = [rule.model_dump(exclude_defaults=True) for rule in code.rules]
        meta[guid] = entry
        count += 1 + code_elements(element, code.children, store, meta, seen, warnings,
                                   memo_sections)
    return count


def guid_store(corpus: Corpus | HasCorpus) -> guidmod.GuidStore:
    """GUIDs for this project: kept ones from the codebook's sidecar, the rest derived."""
    corpus = as_corpus(corpus)
    codebook_path = corpus.path(corpus.config.codebook)
    kept = guidmod.load_sidecar(guidmod.sidecar_path(codebook_path))
    return guidmod.GuidStore(guidmod.project_namespace(corpus.name), kept)


def export_codebook(corpus: Corpus | HasCorpus) -> tuple[str, int, list[str]]:
    """The project's codebook as ``.qdc`` XML; returns (text, number of codes, warnings)."""
    corpus = as_corpus(corpus)
    codebook = corpus.codebook
    store = guid_store(corpus)
    root = ET.Element("CodeBook", {"origin": ORIGIN})
    codes_el = ET.SubElement(root, "Codes")
    meta_codes: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    count = code_elements(codes_el, codebook.roots, store, meta_codes, set(),
                          warnings)
    if count == 0:
        raise QcodeError(f"the codebook {codebook.file} has no codes; a .qdc needs at least one",
                         "add codes to the codebook first")
    meta = {"format": META_FORMAT, "qcode": __version__, "project": corpus.name,
            "codebook": {"name": codebook.name, "version": codebook.version},
            "codes": meta_codes}
    return serialize(root, CODEBOOK_NS, meta), count, warnings


def serialize(root: ET.Element, ns: str, meta: dict[str, Any]) -> str:
    """The document with ``meta`` in a processing instruction before the root.

    Elements are built without a namespace and the root declares ``ns`` as the default
    one, so every element is in it and attributes stay unqualified, as the schemas want.
    """
    root.attrib = {"xmlns": ns, **root.attrib}
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<?{META_PI} {meta_pi_text(meta)}?>\n{body}\n")


# -- reading ----------------------------------------------------------------------------------


@dataclass
class ForeignCode:
    guid: str | None          # as written (None: missing or not a GUID)
    name: str
    codable: bool
    color: str | None         # normalised to #RRGGBB, None when absent or unreadable
    description: str
    children: list[ForeignCode] = field(default_factory=list)
    note_refs: list[str] = field(default_factory=list)

    @property
    def key(self) -> str | None:
        return guidmod.normalize(self.guid)


def read_codes(codes_element: Any, report: ImportReport,
               doc: XmlDocument | None = None) -> list[ForeignCode]:
    """The codes under ``<Codes>``; codes nested past ``MAX_CODE_DEPTH`` (which a qcode
    codebook cannot hold) are refused with the line of the first one (from ``doc``)."""
    return [_read_code(el, report, doc, 1) for el in children(codes_element, "Code")]


def _read_code(element: Any, report: ImportReport, doc: XmlDocument | None,
               depth: int) -> ForeignCode:
    name = attr(element, "name") or ""
    if depth > MAX_CODE_DEPTH:
        line = doc.line_of(element) if doc is not None else None
        where = f" (line {line})" if line else ""
        raise UnsafeInput(f"{report.source}: code {name[:60]!r}{where} is nested {depth} "
                          f"levels deep, more than a codebook holds ({MAX_CODE_DEPTH}); "
                          "nothing was imported",
                          "flatten the code hierarchy in the tool it came from")
    guid = attr(element, "guid")
    if not guidmod.is_guid(guid):
        report.note(f"code {name!r} has no valid GUID ({guid!r}); codings cannot refer to it")
        guid = None
    raw_codable = (attr(element, "isCodable") or "").strip()
    codable = raw_codable not in ("false", "0")
    if raw_codable not in ("true", "false", "1", "0"):
        report.note(f"code {name!r}: isCodable={raw_codable!r} is not a boolean; "
                    "taken as codable")
    raw_color = attr(element, "color")
    color = normalize_color(raw_color)
    if raw_color and color is None:
        report.note(f"code {name!r}: colour {raw_color!r} is not a colour; left out")
    return ForeignCode(
        guid=guid, name=name, codable=codable, color=color,
        description=text_of(child(element, "Description")),
        children=[_read_code(c, report, doc, depth + 1) for c in children(element, "Code")],
        note_refs=[r for r in (attr(n, "targetGUID") for n in children(element, "NoteRef")) if r],
    )


def count_codes(codes: list[ForeignCode]) -> int:
    return sum(1 + count_codes(c.children) for c in codes)


def check_root(doc: XmlDocument, expected: str, what: str) -> None:
    """The root must be ``expected`` in a REFI-QDA namespace (any draft) or in none."""
    tag = doc.root.tag
    ns = namespace(tag)
    if local(tag) != expected or (ns and not ns.lower().startswith("urn:qda-xml:")):
        found = f"<{local(tag)}>" + (f" in namespace {ns!r}" if ns else "")
        raise UnsafeInput(f"{what} is not a REFI-QDA {expected} file: its root is {found}",
                          f"expected <{expected}> in urn:QDA-XML:...")


# -- import: codes to a qcode codebook --------------------------------------------------------


class CodeMapper:
    """Turns foreign codes into qcode codebook entries with unique ids, remembering GUIDs."""

    def __init__(self, meta_codes: dict[str, Any] | None, taken: set[str],
                 report: ImportReport, reserved_keys: set[str] | None = None,
                 taken_aliases: set[str] | None = None) -> None:
        self.meta = {guidmod.normalize(k): v for k, v in (meta_codes or {}).items()
                     if guidmod.is_guid(k) and isinstance(v, dict)}
        self.taken = taken
        self.report = report
        self.id_by_guid: dict[str, str] = {}     # normalised GUID -> code id
        self.guid_by_id: dict[str, str] = {}     # code id -> GUID as written
        self.codable: dict[str, bool] = {}
        self._keys = set(reserved_keys or ())
        self._aliases = set(taken_aliases or ())
        self._pending: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.aliases: dict[str, list[str]] = {}  # code id -> its aliases (after finish)

    def entry(self, code: ForeignCode, subtree: bool = True) -> dict[str, Any]:
        """A codebook entry for ``code`` (and its children unless ``subtree`` is False)."""
        meta = self.meta.get(code.key, {}) if code.key else {}
        wanted = meta.get("id")
        if is_code_id(wanted) and wanted not in self.taken:
            code_id = wanted
            self.taken.add(code_id)
        else:
            code_id = unique_id(slugify(code.name, fallback="code"), self.taken)
        if code.key:
            if code.key in self.id_by_guid:
                self.report.note(f"code {code.name!r} has the GUID of code "
                                 f"{self.id_by_guid[code.key]!r}; codings refer to the first")
            else:
                self.id_by_guid[code.key] = code_id
                self.guid_by_id[code_id] = code.guid  # type: ignore[assignment]
        self.codable[code_id] = code.codable
        label = code.name.strip() or code_id
        parts = split_description(code.description)
        data: dict[str, Any] = {"id": code_id, "label": label}
        if parts["description"]:
            data["description"] = parts["description"]
        for key in ("include", "exclude"):
            if parts[key] is not None:
                data[key] = parts[key]
        for key in ("examples", "keywords"):
            if parts[key]:
                data[key] = parts[key]
        if code.color:
            data["color"] = code.color
        if not code.codable:
            data["codable"] = False
        self._pending.append((data, meta))
        if subtree:
            kids = [self.entry(c) for c in code.children]
            if kids:
                data["children"] = kids
        return data

    def finish(self) -> None:
        """Shortcut keys and aliases from qcode's own export, once every id is known."""
        from qcode.format.codebook import CODE_ID_PATTERN, RESERVED_KEYS

        pattern = re.compile(CODE_ID_PATTERN)
        for data, meta in self._pending:
            key = meta.get("key")
            if (isinstance(key, str) and len(key) == 1 and key not in RESERVED_KEYS
                    and key not in self._keys):
                self._keys.add(key)
                data["key"] = key
            aliases = []
            for alias in meta.get("aliases") or []:
                if (isinstance(alias, str) and pattern.fullmatch(alias) and alias not in self.taken
                        and alias not in self._aliases):
                    self._aliases.add(alias)
                    aliases.append(alias)
            if aliases:
                data["aliases"] = aliases
                self.aliases[data["id"]] = aliases
            rules = meta.get("rules")
            if isinstance(rules, list) and rules and _valid_rules(rules):
                data["rules"] = rules
        # Key order as qcode writes codebooks: children last.
        for data, _meta in self._pending:
            if "children" in data:
                data["children"] = data.pop("children")
        self._pending.clear()


def _valid_rules(rules: list[Any]) -> bool:
    """Auto-coding rules from qcode's own export, kept when they still validate."""
    from pydantic import ValidationError

    from qcode.format.rules import Rule

    try:
        for rule in rules:
            Rule.model_validate(rule)
    except ValidationError:
        return False
    return True


def validate_codebook_data(data: dict[str, Any], where: str) -> None:
    """Make sure what we are about to write loads as a codebook (a bug otherwise)."""
    from pydantic import ValidationError

    from qcode.format.codebook import CodebookFile

    try:
        CodebookFile.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - would be a bug in the mapping
        raise QcodeError(f"internal error: the codebook for {where} does not validate: "
                         f"{exc.errors()[0]}", "please report this file") from None


# -- qcode import qdc -------------------------------------------------------------------------


def read_qdc(path: Path) -> tuple[XmlDocument, dict[str, Any] | None]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise QcodeError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_QDC_SIZE:
        raise UnsafeInput(f"{path.name} is {size:,} bytes, more than a codebook can be "
                          f"({MAX_QDC_SIZE:,})", "is this really a .qdc file?")
    doc = parse_xml(path.read_bytes(), path.name)
    check_root(doc, "CodeBook", path.name)
    meta = read_json_pi(doc, META_PI)
    return doc, meta


def import_codebook(qdc: Path, target: Path, merge: bool, namespace_name: str | None,
                    display: str | None = None) -> ImportReport:
    """Import a ``.qdc`` into the codebook file ``target`` (new, or merged with ``merge``).

    ``namespace_name`` is the name of the project the codebook belongs to, when known: a
    foreign GUID equal to the one qcode would derive there needs no keeping.
    """
    from qcode.format.files import atomic_write_text
    from qcode.format.yamlio import dump_yaml

    doc, meta = read_qdc(qdc)
    report = ImportReport(source=str(qdc), target=display or str(target),
                          origin=attr(doc.root, "origin"))
    meta = checked_meta(meta, report.note)
    codes_el = child(doc.root, "Codes")
    foreign = read_codes(codes_el, report, doc) if codes_el is not None else []
    _report_code_sets(doc.root, report)
    if target.exists() and not merge:
        raise QcodeError(f"{target} already exists; nothing was imported",
                         "add --merge to add the codes to it, or choose a new file with --into")
    if target.exists() and target.is_dir():
        raise QcodeError(f"{target} is a folder", "--into names a codebook file (.yaml)")
    sidecar = guidmod.sidecar_path(target)
    kept = guidmod.load_sidecar(sidecar) if sidecar.exists() else {}
    ns = guidmod.project_namespace(namespace_name) if namespace_name else None
    meta_codes = (meta or {}).get("codes") if isinstance(meta, dict) else None
    if merge and target.exists():
        data, added, matched, mapper = _merge(target, foreign, meta_codes, kept, ns, report)
        report.counts = {"codes": count_codes(foreign), "added": added, "kept": matched}
    else:
        mapper = CodeMapper(meta_codes if isinstance(meta_codes, dict) else None, set(), report)
        codes = [mapper.entry(c) for c in foreign]
        mapper.finish()
        book = (meta or {}).get("codebook") if isinstance(meta, dict) else None
        book = book if isinstance(book, dict) else {}
        name = book.get("name") if isinstance(book.get("name"), str) else qdc.stem
        version = book.get("version") if isinstance(book.get("version"), str) else "1"
        data = {"name": name, "version": version, "codes": codes}
        added = count_codes(foreign)
        report.counts = {"codes": added, "added": added, "kept": 0}
    validate_codebook_data(data, str(target))
    new_guids = {code_id: guid for code_id, guid in mapper.guid_by_id.items()
                 if ns is None or guidmod.normalize(guid) != guidmod.normalize(
                     guidmod.derive(ns, "code", code_id))}
    merging = merge and target.exists()
    if merging and added == 0:
        report.note(f"{target.name} already has every code; it was not changed")
    elif merging:
        backup = _backup(target)
        report.note(f"the previous {target.name} is saved as {backup.name} (comments in it are "
                    "not carried into the merged file)")
        atomic_write_text(target, dump_yaml(data), overwrite=True)
    else:
        header = (f"# Imported from {qdc.name} ({report.origin or 'unknown tool'}) "
                  "by `qcode import qdc`.\n")
        atomic_write_text(target, header + dump_yaml(data))
    if new_guids:
        merged = {kind: dict(kept.get(kind, {})) for kind in guidmod.SIDECAR_KINDS}
        merged["codes"].update(new_guids)
        atomic_write_text(sidecar, guidmod.sidecar_text(merged), overwrite=True)
        report.note(f"kept {plural(len(new_guids), 'GUID')} of {report.origin or 'the tool'} "
                    f"in {sidecar.name}, so a qcode export gives them back")
    return report


def _backup(target: Path) -> Path:
    import shutil

    number = 0
    while True:
        suffix = ".bak" if number == 0 else f".{number}.bak"
        backup = target.with_name(target.name + suffix)
        if not backup.exists():
            try:
                shutil.copy2(target, backup)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    backup.unlink(missing_ok=True)
                raise WriteFailed.of(exc, backup, "back the codebook up to") from None
            return backup
        number += 1


def _report_code_sets(root: Any, report: ImportReport) -> None:
    sets_el = child(root, "Sets")
    if sets_el is None:
        return
    for set_el in children(sets_el, "Set"):
        members = len(children(set_el, "MemberCode"))
        report.skip("set", attr(set_el, "name") or "", f"a code set of {plural(members, 'code')}"
                    ": qcode has no code groups (use the hierarchy or keywords)")


def _merge(target: Path, foreign: list[ForeignCode], meta_codes: Any,
           kept: dict[str, dict[str, str]], ns: Any, report: ImportReport):
    """Add the foreign codes that the codebook lacks; codes it has are left as they are.

    A foreign code is the same as a codebook code when its GUID is that code's (kept in the
    sidecar, or derived from its id), else when it has the same label under the same parent.
    """
    from qcode.format.codebook import load_codebook
    from qcode.problems import Problems

    problems = Problems()
    codebook = load_codebook(target, target.name, problems)
    if codebook is None or problems.errors:
        first = problems.errors[0] if problems.errors else None
        where = f": {first.location()}: {first.message}" if first else ""
        raise QcodeError(f"cannot merge into {target}, it has errors{where}",
                         "fix the codebook first (`qcode check`)")
    data: dict[str, Any] = {"name": codebook.name, "version": codebook.version,
            "codes": [c.model_dump(exclude_defaults=True) for c in codebook.roots]}
    by_guid: dict[str, dict[str, Any]] = {}
    aliases: set[str] = set()
    keys: set[str] = set()

    def index(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            guid = kept.get("codes", {}).get(entry["id"]) or (
                guidmod.derive(ns, "code", entry["id"]) if ns else None)
            if guid:
                by_guid[guidmod.normalize(guid)] = entry  # type: ignore[index]
            aliases.update(entry.get("aliases", []))
            if "key" in entry:
                keys.add(entry["key"])
            index(entry.get("children", []))

    index(data["codes"])
    mapper = CodeMapper(meta_codes if isinstance(meta_codes, dict) else None,
                        set(codebook.ids) | aliases, report, keys, aliases)
    counts = {"added": 0, "kept": 0}

    def merge_into(container: list[dict[str, Any]], codes: list[ForeignCode]) -> None:
        for code in codes:
            match = by_guid.get(code.key) if code.key else None
            if match is None:
                label = code.name.strip().lower()
                match = next((e for e in container if e["label"].strip().lower() == label), None)
            if match is not None:
                counts["kept"] += 1
                if code.key and code.key not in mapper.id_by_guid:
                    mapper.id_by_guid[code.key] = match["id"]
                if code.children:
                    merge_into(match.setdefault("children", []), code.children)
                continue
            entry = mapper.entry(code, subtree=False)
            container.append(entry)
            counts["added"] += 1
            if code.children:
                merge_into(entry.setdefault("children", []), code.children)
                if not entry["children"]:
                    del entry["children"]

    merge_into(data["codes"], foreign)
    _drop_empty_children(data["codes"])
    mapper.finish()
    return data, counts["added"], counts["kept"], mapper


def _drop_empty_children(entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        if "children" in entry:
            if entry["children"]:
                _drop_empty_children(entry["children"])
                entry["children"] = entry.pop("children")
            else:
                del entry["children"]
