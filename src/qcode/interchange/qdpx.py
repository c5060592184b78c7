"""The REFI-QDA project (``.qdpx``): a whole qcode project to a zip of XML and text, and back.

Export writes ``project.qde`` and one ``sources/<GUID>.txt`` per transcript: the normalised
body as UTF-8 with LF line ends and no BOM, so that every tool's position counting agrees
(FORMAT-NOTES §3). Every current coding becomes a ``Coding`` inside a ``PlainTextSelection``
whose positions are qcode's own offsets (code points, end exclusive) and whose ``name``
quotes the selected text, so any importer can check them. Selections are grouped per coder,
span and memo; a coding's memo is both the selection's ``Description`` (what QualCoder and
MAXQDA read) and a ``Note`` referred to from the coding. Each source has a
``creationDateTime`` and, when its case gives it attributes, a name-less case of its own
holding them (``qdpx_sources``).

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

from qcode import progress
from qcode._bulk import bulk_load
from qcode.format.files import atomic_output, atomic_write, check_output
from qcode.interchange.common import (
    is_datetime,
    value_kind,
    xml_safe,
)
from qcode.interchange.qdpx_memos import note_element
from qcode.interchange.qdpx_plan import ExportPlan, SourcePlan, plan_export, qde_size_bound
from qcode.interchange.qdpx_xml import (
    INDENT,
    add_element,
    attr_text,
    char_data,
    element_pieces,
    start_tag,
    value_element,
)
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    pass

QDE_NAME = "project.qde"
SOURCES_DIR = "sources"
# project.qde goes into the archive in pieces of about this many characters, so neither
# the XML document nor the zip is ever whole in memory.
CHUNK_SIZE = 1 << 20



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
    with bulk_load():  # see write_project
        plan = plan_export(corpus, coders)
        with atomic_output(path, force) as handle:
            _write_archive(plan, handle)
    return ExportSummary(plan.counts, plan.warnings)


def write_project(corpus: Corpus | HasCorpus, out: IO[bytes],
                  coders: list[str] | None = None) -> ExportSummary:
    """Write the ``.qdpx`` archive to ``out``, a seekable binary file (or ``BytesIO``)."""
    # The plan is millions of small objects without cycles, alive until the archive is
    # written: the collector would walk them over and over (at 10,000 transcripts a sixth
    # of the export, and more than linearly: 11x the time of 1,000 transcripts, 9.4x
    # without it).
    with bulk_load():
        plan = plan_export(as_corpus(corpus), coders)
        _write_archive(plan, out)
    return ExportSummary(plan.counts, plan.warnings)


def _write_archive(plan: ExportPlan, out: IO[bytes]) -> None:
    """The archive, member by member: ``project.qde`` as it is made, in pieces of about
    ``CHUNK_SIZE`` characters, then one ``sources/<GUID>.txt`` per transcript."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        # The zip64 header is chosen up front as a one-piece write chooses it from the size.
        big = qde_size_bound(plan) * 1.05 > zipfile.ZIP64_LIMIT
        with zf.open(_member_info(QDE_NAME, plan.stamp), "w", force_zip64=big) as member:
            for chunk in _made_ahead(_encoded(_qde_pieces(plan))):
                member.write(chunk)
        for source in progress.track(plan.sources, "writing the transcripts into the archive"):
            _add_member(zf, f"{SOURCES_DIR}/{source.guid}.txt",
                        source.transcript.body.encode("utf-8"), plan.stamp)
            source.transcript.release_body()


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
    import contextvars
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

    # Run in this thread's context, so that the maker's progress reaches our listener.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(make,),
                              name="qcode-qdpx-xml", daemon=True)
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


# -- writing project.qde ---------------------------------------------------------------------------


def _qde_pieces(plan: ExportPlan) -> Iterator[str]:
    """project.qde as pieces of text, a selection (or a section of the head) at a time."""
    yield plan.prolog
    yield start_tag("Project", plan.root_attrs)
    memo_notes = plan.memos.notes
    if not (plan.head or plan.sources or plan.notes or memo_notes):
        yield " />\n"
        return
    yield ">"
    yield plan.head
    if plan.sources:
        yield f"\n{INDENT}<Sources>"
        for source in progress.track(plan.sources, "writing codings per transcript"):
            yield from _source_pieces(plan, source)
            source.transcript.release_body()
        yield f"\n{INDENT}</Sources>"
    if plan.notes or memo_notes:
        yield f"\n{INDENT}<Notes>"
        for note in plan.notes:
            coding = note.coding
            attrs = {"guid": note.guid, "name": xml_safe(f"Memo: {note.label}"),
                     "creatingUser": plan.user_guid[coding.coder]}
            if is_datetime(coding.at):
                attrs["creationDateTime"] = coding.at
            element = ET.Element("Note", attrs)
            add_element(element, "PlainTextContent").text = xml_safe(coding.memo or "")
            yield "\n" + INDENT * 2
            yield from element_pieces(element, 2)
        for memo in memo_notes:  # memo files (qdpx_memos)
            yield "\n" + INDENT * 2
            yield from element_pieces(note_element(memo, plan.user_guid), 2)
        yield f"\n{INDENT}</Notes>"
    for guid in plan.memos.project_refs:
        yield f'\n{INDENT}<NoteRef targetGUID="{guid}" />'
    yield "\n</Project>\n"


_SOURCE = "\n" + INDENT * 2
_SELECTION = "\n" + INDENT * 3
_CODING = "\n" + INDENT * 4
_REF = "\n" + INDENT * 5


def _source_pieces(plan: ExportPlan, source: SourcePlan) -> Iterator[str]:
    transcript = source.transcript
    body = transcript.body
    values: list[ET.Element] = []
    for name, value in plan.own_values[transcript.id].items():
        if name in plan.var_guid and value_kind(value, from_table=False):
            holder = ET.Element("VariableValue")
            value_element(holder, plan.var_guid[name], plan.var_type[name], value)
            values.extend(holder)
    attrs = {"guid": source.guid, "name": xml_safe(transcript.id),
             "plainTextPath": f"internal://{source.guid}.txt"}
    if source.created is not None:
        attrs["creationDateTime"] = source.created
    opening = start_tag("TextSource", attrs)
    if not (source.selections or values or source.description or source.note_refs):
        yield f"{_SOURCE}{opening} />"
        return
    yield f"{_SOURCE}{opening}>"
    if source.description is not None:
        yield f"{_SELECTION}<Description>{char_data(source.description)}</Description>"
    # Selection, coding and note GUIDs are derived (or a coding id's hex digits), so they
    # need no escaping; user and code GUIDs may be kept from another tool.
    user_ref = {coder: attr_text(guid) for coder, guid in plan.user_guid.items()}
    for selection in source.selections:
        user = user_ref[selection.coder]
        dated = (f' creationDateTime="{attr_text(selection.created)}"'
                 if selection.created is not None else "")
        parts = [f'{_SELECTION}<PlainTextSelection guid="{selection.guid}" '
                 f'name="{attr_text(xml_safe(body[selection.start:selection.end]))}" '
                 f'startPosition="{selection.start}" endPosition="{selection.end}" '
                 f'creatingUser="{user}"{dated}>']
        if selection.description is not None:
            parts.append(f"{_CODING}<Description>{char_data(selection.description)}"
                         "</Description>")
        for member in selection.members:
            dated = (f' creationDateTime="{attr_text(member.created)}"'
                     if member.created is not None else "")
            parts.append(f'{_CODING}<Coding guid="{member.guid}" creatingUser="{user}"{dated}>'
                         f'{_REF}<CodeRef targetGUID="{member.code_ref}" />')
            if member.note_guid is not None:
                parts.append(f'{_REF}<NoteRef targetGUID="{member.note_guid}" />')
            parts.append(f"{_CODING}</Coding>")
        parts.append(f"{_SELECTION}</PlainTextSelection>")
        yield "".join(parts)
    for guid in source.note_refs:  # derived GUIDs: nothing to escape
        yield f'{_SELECTION}<NoteRef targetGUID="{guid}" />'
    for value in values:
        yield _SELECTION
        yield from element_pieces(value, 3)
    yield f"{_SOURCE}</TextSource>"



# -- writing the file ---------------------------------------------------------------------------


def write_archive(path: Path, data: bytes, force: bool) -> None:
    """Write an archive that is already in memory, atomically."""
    atomic_write(Path(path), data, overwrite=force)
