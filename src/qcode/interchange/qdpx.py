"""The REFI-QDA project (``.qdpx``): a whole qcode project to a zip of XML and text, and back.

Export writes ``project.qde`` and one ``sources/<GUID>.txt`` per transcript: the normalised
body as UTF-8 with LF line ends and no BOM, so that every tool's position counting agrees
(FORMAT-NOTES §3). Every current coding becomes a ``Coding`` inside a ``PlainTextSelection``
whose positions are qcode's own offsets (code points, end exclusive) and whose ``name``
quotes the selected text, so any importer can check them. Selections are grouped per coder
and span; a coding's memo is a ``Note`` referred to from the coding.

qcode's own ids (code ids, transcript ids and files, coder names, coding ids), and what
REFI-QDA cannot hold (shortcut keys, aliases, qcode.yaml), travel in a ``<?qcode {...}?>``
processing instruction before the root element: other tools skip it, and importing the
file into qcode gives back the very same project. The XML stays the authority: the
instruction only names and completes what the XML says.

The archive is streamed (``export_project_file``): every GUID is worked out first, then
``project.qde`` is written into the zip a piece at a time and each source after it, through
a temp file beside the target, so neither the document nor the archive is ever whole in
memory. ``export_project`` gives the same bytes in memory, for small projects and tests.

Import (``import_project``) reads leniently what real tools write and reports everything
it leaves out; see docs/refi-qda.md.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from qcode._version import __version__
from qcode.errors import UnknownName
from qcode.format.files import atomic_output, atomic_write, check_output
from qcode.format.names import did_you_mean
from qcode.interchange import guids as guidmod
from qcode.interchange.common import (
    META_FORMAT,
    META_PI,
    PROJECT_NS,
    is_datetime,
    meta_pi_text,
    value_kind,
    value_text,
    variable_type,
    xml_safe,
)
from qcode.interchange.qdc import ORIGIN, code_elements, guid_store
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Code, Codebook
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import Coding

QDE_NAME = "project.qde"
SOURCES_DIR = "sources"
INDENT = "  "
# project.qde goes into the archive in pieces of about this many characters, so neither
# the XML document nor the zip is ever whole in memory.
CHUNK_SIZE = 1 << 20


def _el(parent: ET.Element, name: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, name, attrs or {})


@dataclass
class ExportSummary:
    """What an export wrote (``codes``, ``transcripts``, ``codings``, ... counts) and what
    it had to leave out or warn about."""

    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


@dataclass
class ExportResult:
    """A whole archive in memory (``export_project``): for small projects and tests."""

    data: bytes
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    qde: str = ""


def export_project(corpus: Corpus | HasCorpus, coders: list[str] | None = None
                   ) -> ExportResult:
    """The project as a ``.qdpx`` archive in memory. ``coders`` narrows it to those coders.

    Large projects should use ``export_project_file``, which streams to disk; both write
    the very same bytes.
    """
    corpus = as_corpus(corpus)
    buffer = io.BytesIO()
    summary = write_project(corpus, buffer, coders)
    data = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        qde = zf.read(QDE_NAME).decode("utf-8")
    return ExportResult(data, summary.counts, summary.warnings, qde)


def export_project_file(corpus: Corpus | HasCorpus, path: Path,
                        coders: list[str] | None = None, force: bool = False
                        ) -> ExportSummary:
    """Write the project's ``.qdpx`` to ``path``, streamed through a temp file beside it.

    A reader never sees half an archive, a failed export leaves nothing behind, and an
    existing file is only replaced with ``force``.
    """
    corpus = as_corpus(corpus)
    path = Path(path)
    check_output(path, force)  # before the work, not only after it
    plan = _plan(corpus, coders)
    with atomic_output(path, force) as handle:
        _write_archive(plan, handle)
    return ExportSummary(plan.counts, plan.warnings)


def write_project(corpus: Corpus | HasCorpus, out: IO[bytes],
                  coders: list[str] | None = None) -> ExportSummary:
    """Write the ``.qdpx`` archive to ``out``, a seekable binary file (or ``BytesIO``)."""
    plan = _plan(as_corpus(corpus), coders)
    _write_archive(plan, out)
    return ExportSummary(plan.counts, plan.warnings)


def _write_archive(plan: _Plan, out: IO[bytes]) -> None:
    """The archive, member by member: ``project.qde`` as it is made, in pieces of about
    ``CHUNK_SIZE`` characters, then one ``sources/<GUID>.txt`` per transcript."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        # The zip64 header is chosen up front as a one-piece write chooses it from the size.
        big = _qde_size_bound(plan) * 1.05 > zipfile.ZIP64_LIMIT
        with zf.open(_member_info(QDE_NAME, plan.stamp), "w", force_zip64=big) as member:
            for chunk in _made_ahead(_encoded(_qde_pieces(plan))):
                member.write(chunk)
        for source in plan.sources:
            _add_member(zf, f"{SOURCES_DIR}/{source.guid}.txt",
                        source.transcript.body.encode("utf-8"), plan.stamp)


def _member_info(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _add_member(zf: zipfile.ZipFile, name: str, payload: bytes,
                stamp: tuple[int, int, int, int, int, int]) -> None:
    zf.writestr(_member_info(name, stamp), payload)


def _encoded(pieces: Iterable[str], size: int | None = None) -> Iterator[bytes]:
    """The pieces as UTF-8, joined into chunks of about ``size`` (``CHUNK_SIZE``)
    characters."""
    size = size or CHUNK_SIZE
    batch: list[str] = []
    length = 0
    for piece in pieces:
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(batch).encode("utf-8")
            batch, length = [], 0
    if batch:
        yield "".join(batch).encode("utf-8")


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def _made_ahead(items: Iterator[bytes], depth: int = 4) -> Iterator[bytes]:
    """``items``, made by a second thread up to ``depth`` ahead of the one using them.

    Making the XML is Python; compressing and writing it is zlib and the disk, which let go
    of the interpreter, so on two cores the two overlap. An error in either thread ends both
    and is raised here.
    """
    import queue
    import threading

    made: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: Any) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(_Failure(exc))
            return
        hand_over(_DONE)

    thread = threading.Thread(target=make, name="qcode-qdpx-xml", daemon=True)
    thread.start()
    try:
        while True:
            item = made.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


# -- planning: everything but the XML text --------------------------------------------------------
#
# qcode's ids travel in a processing instruction *before* the root element, and it names
# every coding's GUID; so every GUID (and every warning) is worked out first, in the order
# the GUID store hands them out, and only then is the document written. The plan holds
# GUIDs and offsets, not XML.


@dataclass(slots=True)
class _Member:
    """One coding inside a selection."""

    guid: str
    created: str | None  # its time, when that is a valid xsd:dateTime
    code_ref: str  # its code's GUID, escaped for an attribute (a kept one may need it)
    note_guid: str | None


@dataclass(slots=True)
class _Selection:
    start: int
    end: int
    coder: str
    guid: str
    created: str | None
    members: list[_Member]


@dataclass(slots=True)
class _Source:
    transcript: Transcript
    guid: str
    selections: list[_Selection]


@dataclass(slots=True)
class _Note:
    guid: str
    coding: Coding
    label: str


@dataclass
class _Plan:
    root_attrs: dict[str, str]
    prolog: str  # the XML declaration and the processing instruction with qcode's ids
    head: str  # Users, CodeBook, Variables, Cases: small, so written out already
    sources: list[_Source]
    notes: list[_Note]
    own_values: dict[str, dict[str, Any]]  # transcript id -> its front-matter attributes
    var_guid: dict[str, str]
    var_type: dict[str, str]
    user_guid: dict[str, str]
    stamp: tuple[int, int, int, int, int, int]
    counts: dict[str, int]
    warnings: list[str]


def _plan(corpus: Corpus, coders: list[str] | None) -> _Plan:
    config = corpus.config
    codebook = corpus.codebook
    transcripts = corpus.transcripts
    chosen = _choose_coders(corpus, coders)
    store = guid_store(corpus)
    warnings: list[str] = []
    if corpus.problems.errors:
        first = corpus.problems.errors[0]
        warnings.append(f"the project has errors ({first.location()}: {first.message}); what "
                        "cannot be read is left out: run `qcode check`")

    root_attrs = {"xmlns": PROJECT_NS, "name": xml_safe(config.name), "origin": ORIGIN}
    meta: dict[str, Any] = {
        "format": META_FORMAT, "qcode": __version__, "project": config.name,
        "config": config.model_dump(mode="json", exclude_defaults=True),
        "codebook": {"name": codebook.name, "version": codebook.version},
    }
    head: list[ET.Element] = []  # small: built as elements, written out at the end

    # Users: one per coder.
    user_guid = {coder: store.get("user", coder) for coder in chosen}
    if chosen:
        users = ET.Element("Users")
        for coder in chosen:
            _el(users, "User", {"guid": user_guid[coder], "name": coder, "id": coder})
        head.append(users)
    meta["coders"] = {user_guid[c]: c for c in chosen}

    # The codebook.
    meta_codes: dict[str, Any] = {}
    if codebook.roots:
        book = ET.Element("CodeBook")
        codes_el = _el(book, "Codes")
        if code_elements(codes_el, codebook.roots, store, meta_codes, set(), warnings):
            head.append(book)
    # Code id -> its GUID as an attribute value (a GUID kept from another tool may need
    # escaping).
    code_ref = {entry["id"]: _attr_text(guid) for guid, entry in meta_codes.items()}
    meta["codes"] = meta_codes

    # Variables: every attribute in front matter or a case table, typed by its values.
    own = {t.id: {k: v for k, v in t.front_matter.items() if k != "id" and v is not None}
           for t in transcripts}
    kinds: dict[str, set[str]] = {}
    for values in own.values():
        for name, value in values.items():
            kind = value_kind(value, from_table=False)
            if kind:
                kinds.setdefault(name, set()).add(kind)
    for table in corpus.case_tables:
        for key_value in table.rows:
            for name, value in table.attributes(key_value).items():
                kind = value_kind(value, from_table=True)
                if kind:
                    kinds.setdefault(name, set()).add(kind)
    names = [n for n in corpus.attribute_names() if n in kinds or n in config.attributes]
    names += [n for n in kinds if n not in names]
    var_type = {n: variable_type(kinds.get(n, set())) if kinds.get(n) else "Text" for n in names}
    var_guid = {n: store.get("variable", n) for n in names}
    if names:
        variables = ET.Element("Variables")
        for name in names:
            element = _el(variables, "Variable", {"guid": var_guid[name], "name": xml_safe(name),
                                                  "typeOfVariable": var_type[name]})
            spec = config.attributes.get(name)
            if spec is not None and spec.description:
                _el(element, "Description").text = xml_safe(spec.description)
        head.append(variables)

    # Cases: one per case-table row, with its attributes and its transcripts.
    source_guid = {t.id: store.get("source", t.id) for t in transcripts}
    meta["case_tables"] = []
    meta["cases"] = {}
    case_count = 0
    cases_el = ET.Element("Cases")
    for table in corpus.case_tables:
        meta["case_tables"].append({"file": table.file, "key": table.key,
                                    "columns": list(table.columns)})
        for key_value in table.rows:
            guid = store.get("case", f"{table.key}={key_value}")
            case = _el(cases_el, "Case", {"guid": guid, "name": xml_safe(key_value)})
            for name, value in table.attributes(key_value).items():
                if name in var_guid:
                    _value_element(case, var_guid[name], var_type[name], value)
            for t in transcripts:
                value = t.front_matter.get(table.key)
                if value is not None and str(value) == key_value:
                    _el(case, "SourceRef", {"targetGUID": source_guid[t.id]})
            meta["cases"][guid] = {"table": table.file, "key": key_value}
            case_count += 1
    if case_count:
        head.append(cases_el)

    # Sources, selections and codings. Each coding's time is checked once, here.
    codings = corpus.codings(chosen) if chosen else []
    by_transcript: dict[str, list[tuple[Coding, str | None]]] = {}
    known = set(source_guid)
    first_time: str | None = None
    last_time: str | None = None
    for coding in codings:
        at = coding.at if is_datetime(coding.at) else None
        if at is not None:
            if first_time is None or at < first_time:
                first_time = at
            if last_time is None or at > last_time:
                last_time = at
        if coding.transcript not in known:
            warnings.append(f"coding {coding.id} of {coding.coder} is on unknown transcript "
                            f"{coding.transcript!r}; left out")
            continue
        by_transcript.setdefault(coding.transcript, []).append((coding, at))
    notes: list[_Note] = []
    meta["transcripts"] = {}
    meta["codings"] = {}
    sources: list[_Source] = []
    exported = 0
    non_bmp = []
    for transcript in transcripts:
        guid = source_guid[transcript.id]
        body = transcript.body
        if _beyond_bmp(body):
            non_bmp.append(transcript.id)
        meta["transcripts"][guid] = {"id": transcript.id, "file": transcript.file,
                                     "keys": list(transcript.front_matter),
                                     "front_matter": transcript.body_line > 1}
        selections = _plan_selections(transcript, by_transcript.pop(transcript.id, []),
                                      codebook, code_ref, user_guid, store, meta["codings"],
                                      notes, warnings)
        exported += sum(len(selection.members) for selection in selections)
        sources.append(_Source(transcript, guid, selections))

    creator = config.primary_coder if config.primary_coder in user_guid else (
        chosen[0] if chosen else None)
    if creator:
        root_attrs["creatingUserGUID"] = user_guid[creator]
    if first_time is not None and last_time is not None:
        root_attrs["creationDateTime"] = first_time
        root_attrs["modifiedDateTime"] = last_time
    if non_bmp:
        warnings.append(
            f"{len(non_bmp)} transcripts contain characters outside the Basic Multilingual "
            f"Plane (e.g. emoji) such as {non_bmp[0]!r}: NVivo counts those as two "
            "positions and will misplace codings after them")

    counts = {"codes": len(meta_codes), "transcripts": len(transcripts), "codings": exported,
              "coders": len(chosen), "cases": case_count, "variables": len(names),
              "memos": len(notes)}
    # Every GUID is handed out: let the store's bookkeeping (one entry per GUID, the
    # largest thing here) go before the instruction's JSON is made.
    del store
    prolog = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              f"<?{META_PI} {meta_pi_text(meta)}?>\n")
    del meta
    head_text = "".join(piece for element in head
                        for piece in ("\n" + INDENT, *_element_pieces(element, 1)))
    return _Plan(root_attrs, prolog, head_text, sources, notes, own, var_guid, var_type,
                 user_guid, _zip_time(last_time), counts, warnings)


def _qde_size_bound(plan: _Plan) -> int:
    """More bytes than project.qde will have: escaping makes at most 6 bytes of a character
    (``&quot;``), UTF-8 at most 4; the fixed parts of each element are well under the
    allowances here."""
    size = len(plan.prolog.encode("utf-8")) + len(plan.head.encode("utf-8")) + 1024
    for source in plan.sources:
        size += 512 + 6 * len(source.transcript.id)
        for name, value in plan.own_values[source.transcript.id].items():
            if name in plan.var_guid:
                size += 512 + 6 * len(value_text(value, plan.var_type[name]))
        for selection in source.selections:
            size += 512 + 6 * (selection.end - selection.start) + len(selection.created or "")
            for member in selection.members:
                size += 512 + len(member.created or "")
    for note in plan.notes:
        size += 512 + 6 * (len(note.label) + len(note.coding.memo or "")
                             + len(note.coding.at or ""))
    return size


def _beyond_bmp(text: str) -> bool:
    """Whether ``text`` has a character outside the Basic Multilingual Plane: those, and
    only those, take two UTF-16 code units. (Encoding runs in C; a Python loop over the
    characters was the slowest step of the whole export.)"""
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _choose_coders(corpus: Corpus, coders: list[str] | None) -> list[str]:
    available = corpus.coders
    if not coders:
        return list(available)
    chosen = []
    for coder in coders:
        if coder not in available:
            raise UnknownName("coder", coder, did_you_mean(coder, available),
                              hint=f"coders with a log: {', '.join(available) or 'none'}")
        if coder not in chosen:
            chosen.append(coder)
    return chosen


def _plan_selections(transcript: Transcript, codings: list[tuple[Coding, str | None]],
                     codebook: Codebook, code_ref: dict[str, str], user_guid: dict[str, str],
                     store: guidmod.GuidStore, meta_codings: dict[str, Any],
                     notes: list[_Note], warnings: list[str]) -> list[_Selection]:
    """This transcript's selections, with their GUIDs; codings that cannot go are warned of."""
    body = transcript.body
    coder_rank = {coder: i for i, coder in enumerate(user_guid)}
    groups: dict[tuple[int, int, str], list[tuple[Coding, str | None, Code]]] = {}
    for coding, at in codings:
        code = codebook.resolve(coding.code)
        if code is None or code.id not in code_ref:
            warnings.append(f"coding {coding.id} of {coding.coder} uses unknown code "
                            f"{coding.code!r}; left out")
            continue
        if not code.codable:
            warnings.append(f"coding {coding.id} of {coding.coder} uses {code.id!r}, a grouping "
                            "folder (codable: false); left out")
            continue
        start, end = coding.start, coding.end
        if not 0 <= start < end <= len(body):
            warnings.append(f"coding {coding.id} of {coding.coder} has span "
                            f"{start}:{end} outside {transcript.file}; left out")
            continue
        if not coding.text_matches(body[start:end]):
            warnings.append(f"coding {coding.id} of {coding.coder}: {transcript.file} changed "
                            "since it was coded; exported at its recorded offsets")
        key = (start, end, coding.coder)
        group = groups.get(key)
        if group is None:
            groups[key] = [(coding, at, code)]
        else:
            group.append((coding, at, code))
    selections = []
    for key in sorted(groups, key=lambda g: (g[0], g[1], coder_rank[g[2]])):
        start, end, coder = key
        grouped = groups[key]
        if len(grouped) > 1:
            grouped.sort(key=lambda item: (item[0].at, item[0].id))
        sel_guid = store.get("selection", f"{coder}:{transcript.id}:{start}:{end}")
        dated = [at for _coding, at, _code in grouped if at is not None]
        members = []
        for coding, at, code in grouped:
            own = guidmod.guid_of_coding_id(coding.id)
            if own and store.claim(own, f"coding:{coder}:{coding.id}"):
                guid = own
            else:
                guid = store.get("coding", f"{coder}:{coding.id}")
            if at is None:
                warnings.append(f"coding {coding.id} of {coder} has no valid time ({coding.at!r})")
            entry: dict[str, Any] = {"id": coding.id}
            if coding.code != code.id:
                entry["code"] = coding.code
            if coding.extra:
                entry["extra"] = dict(coding.extra)
            note_guid = None
            if coding.memo:
                note_guid = store.get("note", f"{coder}:{coding.id}")
                notes.append(_Note(note_guid, coding, code.label))
            meta_codings[guid] = entry
            members.append(_Member(guid, at, code_ref[code.id], note_guid))
        selections.append(_Selection(start, end, coder, sel_guid, min(dated) if dated else None,
                                     members))
    return selections


# -- writing project.qde ----------------------------------------------------------------------------
#
# The text is exactly what ElementTree wrote when the export built the whole tree
# (``ET.indent(root, space="  ")`` and ``ET.tostring(root, short_empty_elements=True)``):
# the same escaping, indentation and ``<Empty />`` elements, so archives stay byte for byte
# what they were.


def _attr_text(text: str) -> str:
    """An attribute value escaped as ElementTree escapes it: as element text, and more."""
    text = _char_data(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _char_data(text: str) -> str:
    """Element text escaped as ElementTree escapes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _start_tag(name: str, attrs: dict[str, str]) -> str:
    return "<" + name + "".join(f' {key}="{_attr_text(value)}"' for key, value in attrs.items())


def _element_pieces(element: ET.Element, depth: int) -> Iterator[str]:
    """An element (built without tails) as indented XML, its first line not indented."""
    tag = element.tag
    yield _start_tag(tag, element.attrib)
    if len(element):
        yield ">"
        inner = "\n" + INDENT * (depth + 1)
        for child in element:
            yield inner
            yield from _element_pieces(child, depth + 1)
        yield f"\n{INDENT * depth}</{tag}>"
    elif element.text:
        yield f">{_char_data(element.text)}</{tag}>"
    else:
        yield " />"


def _qde_pieces(plan: _Plan) -> Iterator[str]:
    """project.qde as pieces of text, a selection (or a section of the head) at a time."""
    yield plan.prolog
    yield _start_tag("Project", plan.root_attrs)
    if not (plan.head or plan.sources or plan.notes):
        yield " />\n"
        return
    yield ">"
    yield plan.head
    if plan.sources:
        yield f"\n{INDENT}<Sources>"
        for source in plan.sources:
            yield from _source_pieces(plan, source)
        yield f"\n{INDENT}</Sources>"
    if plan.notes:
        yield f"\n{INDENT}<Notes>"
        for note in plan.notes:
            coding = note.coding
            attrs = {"guid": note.guid, "name": xml_safe(f"Memo: {note.label}"),
                     "creatingUser": plan.user_guid[coding.coder]}
            if is_datetime(coding.at):
                attrs["creationDateTime"] = coding.at
            element = ET.Element("Note", attrs)
            _el(element, "PlainTextContent").text = xml_safe(coding.memo or "")
            yield "\n" + INDENT * 2
            yield from _element_pieces(element, 2)
        yield f"\n{INDENT}</Notes>"
    yield "\n</Project>\n"


_SOURCE = "\n" + INDENT * 2
_SELECTION = "\n" + INDENT * 3
_CODING = "\n" + INDENT * 4
_REF = "\n" + INDENT * 5


def _source_pieces(plan: _Plan, source: _Source) -> Iterator[str]:
    transcript = source.transcript
    body = transcript.body
    values: list[ET.Element] = []
    for name, value in plan.own_values[transcript.id].items():
        if name in plan.var_guid and value_kind(value, from_table=False):
            holder = ET.Element("VariableValue")
            _value_element(holder, plan.var_guid[name], plan.var_type[name], value)
            values.extend(holder)
    start_tag = _start_tag("TextSource", {
        "guid": source.guid, "name": xml_safe(transcript.id),
        "plainTextPath": f"internal://{source.guid}.txt"})
    if not (source.selections or values):
        yield f"{_SOURCE}{start_tag} />"
        return
    yield f"{_SOURCE}{start_tag}>"
    # Selection, coding and note GUIDs are derived (or a coding id's hex digits), so they
    # need no escaping; user and code GUIDs may be kept from another tool.
    user_ref = {coder: _attr_text(guid) for coder, guid in plan.user_guid.items()}
    for selection in source.selections:
        user = user_ref[selection.coder]
        dated = (f' creationDateTime="{_attr_text(selection.created)}"'
                 if selection.created is not None else "")
        parts = [f'{_SELECTION}<PlainTextSelection guid="{selection.guid}" '
                 f'name="{_attr_text(xml_safe(body[selection.start:selection.end]))}" '
                 f'startPosition="{selection.start}" endPosition="{selection.end}" '
                 f'creatingUser="{user}"{dated}>']
        for member in selection.members:
            dated = (f' creationDateTime="{_attr_text(member.created)}"'
                     if member.created is not None else "")
            parts.append(f'{_CODING}<Coding guid="{member.guid}" creatingUser="{user}"{dated}>'
                         f'{_REF}<CodeRef targetGUID="{member.code_ref}" />')
            if member.note_guid is not None:
                parts.append(f'{_REF}<NoteRef targetGUID="{member.note_guid}" />')
            parts.append(f"{_CODING}</Coding>")
        parts.append(f"{_SELECTION}</PlainTextSelection>")
        yield "".join(parts)
    for value in values:
        yield _SELECTION
        yield from _element_pieces(value, 3)
    yield f"{_SOURCE}</TextSource>"


def _value_element(parent: ET.Element, variable_guid: str, kind: str, value: Any) -> None:
    """A ``<VariableValue>`` of a case or a source."""
    holder = _el(parent, "VariableValue")
    _el(holder, "VariableRef", {"targetGUID": variable_guid})
    _el(holder, f"{kind}Value").text = xml_safe(value_text(value, kind))


def _zip_time(at: str | None) -> tuple[int, int, int, int, int, int]:
    """A fixed member time (the last coding's), so that equal projects give equal archives."""
    import datetime as dt

    if at:
        try:
            moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
            if moment.year >= 1980:
                return (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                        moment.second - moment.second % 2)
        except ValueError:
            pass
    return (1980, 1, 1, 0, 0, 0)


# -- writing the file ---------------------------------------------------------------------------


def write_archive(path: Path, data: bytes, force: bool) -> None:
    """Write an archive that is already in memory, atomically."""
    atomic_write(Path(path), data, overwrite=force)
