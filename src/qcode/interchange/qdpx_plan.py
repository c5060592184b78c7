"""Planning a ``.qdpx`` export: every GUID, offset, value and warning worked out before a
byte of XML is written.

qcode's ids travel in a processing instruction *before* the root element, and it names
every coding's GUID; so every GUID (and every warning) is worked out first, in the order
the GUID store hands them out, and only then is the document written. The plan holds
GUIDs and offsets, not XML.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qcode._version import __version__
from qcode.errors import UnknownName
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
from qcode.interchange.qdpx_memos import MemoExport, plan_memos
from qcode.interchange.qdpx_sources import inherited_values, source_created
from qcode.interchange.qdpx_xml import (
    INDENT,
    add_element,
    attr_text,
    element_pieces,
    value_element,
)
from qcode.store.corpus import Corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.codebook import Code, Codebook
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import Coding


@dataclass(slots=True)
class Member:
    """One coding inside a selection."""

    guid: str
    created: str | None  # its time, when that is a valid xsd:dateTime
    code_ref: str  # its code's GUID, escaped for an attribute (a kept one may need it)
    note_guid: str | None


@dataclass(slots=True)
class Selection:
    """Codings of one coder on one span that share one memo (or none): the memo is also
    the selection's ``Description``, which QualCoder and MAXQDA read as each coding's memo."""

    start: int
    end: int
    coder: str
    guid: str
    created: str | None
    members: list[Member]
    description: str | None = None


@dataclass(slots=True)
class SourcePlan:
    transcript: Transcript
    guid: str
    selections: list[Selection]
    created: str | None = None  # creationDateTime (qdpx_sources.source_created)
    description: str | None = None  # its transcript memos (qdpx_memos)
    note_refs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NotePlan:
    guid: str
    coding: Coding
    label: str


@dataclass
class ExportPlan:
    root_attrs: dict[str, str]
    prolog: str  # the XML declaration and the processing instruction with qcode's ids
    head: str  # Users, CodeBook, Variables, Cases: small, so written out already
    sources: list[SourcePlan]
    notes: list[NotePlan]
    own_values: dict[str, dict[str, Any]]  # transcript id -> its front-matter attributes
    var_guid: dict[str, str]
    var_type: dict[str, str]
    user_guid: dict[str, str]
    stamp: tuple[int, int, int, int, int, int]
    counts: dict[str, int]
    warnings: list[str]
    memos: MemoExport = field(default_factory=MemoExport)


def plan_export(corpus: Corpus, coders: list[str] | None) -> ExportPlan:
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
    memos = plan_memos(corpus, store)

    # Users: one per coder.
    user_guid = {coder: store.get("user", coder) for coder in chosen}
    if chosen:
        users = ET.Element("Users")
        for coder in chosen:
            add_element(users, "User", {"guid": user_guid[coder], "name": coder, "id": coder})
        head.append(users)
    meta["coders"] = {user_guid[c]: c for c in chosen}

    # The codebook.
    meta_codes: dict[str, Any] = {}
    if codebook.roots:
        book = ET.Element("CodeBook")
        codes_el = add_element(book, "Codes")
        if code_elements(codes_el, codebook.roots, store, meta_codes, set(), warnings,
                         memos.code_sections):
            head.append(book)
    # Code id -> its GUID as an attribute value (a GUID kept from another tool may need
    # escaping).
    code_ref = {entry["id"]: attr_text(guid) for guid, entry in meta_codes.items()}
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
            element = add_element(variables, "Variable", {"guid": var_guid[name], "name": xml_safe(name),
                                                  "typeOfVariable": var_type[name]})
            spec = config.attributes.get(name)
            if spec is not None and spec.description:
                add_element(element, "Description").text = xml_safe(spec.description)
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
            case = add_element(cases_el, "Case", {"guid": guid, "name": xml_safe(key_value)})
            for name, value in table.attributes(key_value).items():
                if name in var_guid:
                    value_element(case, var_guid[name], var_type[name], value)
            for t in transcripts:
                value = t.front_matter.get(table.key)
                if value is not None and str(value) == key_value:
                    add_element(case, "SourceRef", {"targetGUID": source_guid[t.id]})
            meta["cases"][guid] = {"table": table.file, "key": key_value}
            case_count += 1
    # A name-less case per source with what it inherits from its case: the document
    # variables QualCoder reads (see qdpx_sources).
    source_cases = 0
    for t in transcripts:
        inherited = inherited_values(t, var_guid)
        if inherited:
            case = add_element(cases_el, "Case", {"guid": store.get("source-case", t.id)})
            for name, value in inherited.items():
                value_element(case, var_guid[name], var_type[name], value)
            add_element(case, "SourceRef", {"targetGUID": source_guid[t.id]})
            source_cases += 1
    if case_count or source_cases:
        head.append(cases_el)

    # Sources, selections and codings. Each coding's time is checked once, here.
    # Coding objects made here, not the replays' kept ones: each transcript's go once its
    # selections are planned (at 10,000 transcripts, two million of them).
    codings = (coding for table in (corpus.tables(chosen) if chosen else [])
               for coding in table.codings())
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
    notes: list[NotePlan] = []
    meta["transcripts"] = {}
    meta["codings"] = {}
    sources: list[SourcePlan] = []
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
        transcript.release_body()  # read again when its source is written
        exported += sum(len(selection.members) for selection in selections)
        memo_notes = memos.by_transcript.get(transcript.id, [])
        description = "\n\n".join(note.memo.text for note in memo_notes) or None
        sources.append(SourcePlan(transcript, guid, selections,
                                  source_created(transcript, corpus.root),
                                  xml_safe(description) if description else None,
                                  [note.guid for note in memo_notes]))

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
              "memos": len(notes), "memo_files": len(memos.notes)}
    if memos.meta:
        meta["memos"] = memos.meta
    # Every GUID is handed out: let the store's bookkeeping (one entry per GUID, the
    # largest thing here) go before the instruction's JSON is made.
    del store
    prolog = ('<?xml version="1.0" encoding="UTF-8"?>\n'
              f"<?{META_PI} {meta_pi_text(meta)}?>\n")
    del meta
    head_text = "".join(piece for element in head
                        for piece in ("\n" + INDENT, *element_pieces(element, 1)))
    return ExportPlan(root_attrs, prolog, head_text, sources, notes, own, var_guid, var_type,
                 user_guid, zip_time(last_time), counts, warnings, memos)


def qde_size_bound(plan: ExportPlan) -> int:
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
            size += 6 * len(selection.description or "")
            for member in selection.members:
                size += 512 + len(member.created or "")
    for memo in plan.memos.notes:
        size += 1024 + 12 * (len(memo.memo.text) + len(str(memo.about)))
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
        return corpus.coders_with_codings()  # a log with nothing left is no user
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
                     notes: list[NotePlan], warnings: list[str]) -> list[Selection]:
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
        # One selection per distinct memo: a selection's Description is every coding's
        # memo to QualCoder. The first keeps the span's GUID, so unmemoed exports keep theirs.
        by_memo: dict[str | None, list[tuple[Coding, str | None, Code]]] = {}
        for item in grouped:
            by_memo.setdefault(item[0].memo or None, []).append(item)
        for number, (memo, shared) in enumerate(by_memo.items()):
            selections.append(_selection(
                transcript, start, end, coder, number, memo, shared, code_ref, store,
                meta_codings, notes, warnings))
    return selections


def _selection(transcript: Transcript, start: int, end: int, coder: str, number: int,
               memo: str | None, grouped: list[tuple[Coding, str | None, Code]],
               code_ref: dict[str, str], store: guidmod.GuidStore,
               meta_codings: dict[str, Any], notes: list[NotePlan], warnings: list[str]
               ) -> Selection:
    span = f"{coder}:{transcript.id}:{start}:{end}"
    sel_guid = store.get("selection", span if number == 0 else f"{span}:{number}")
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
            notes.append(NotePlan(note_guid, coding, code.label))
        meta_codings[guid] = entry
        members.append(Member(guid, at, code_ref[code.id], note_guid))
    return Selection(start, end, coder, sel_guid, min(dated) if dated else None,
                     members, xml_safe(memo) if memo else None)


def zip_time(at: str | None) -> tuple[int, int, int, int, int, int]:
    """A fixed member time (the last coding's), so that equal projects give equal archives."""

    if at:
        try:
            moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
            if moment.year >= 1980:
                return (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                        moment.second - moment.second % 2)
        except ValueError:
            pass
    return (1980, 1, 1, 0, 0, 0)
