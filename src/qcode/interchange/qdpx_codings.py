"""Reading the codings of a REFI-QDA project: each ``PlainTextSelection`` and its
``Coding``s become ``add`` events of the coder who made them, with positions converted to
qcode's offsets and checked against the text the tool quoted (``offsets``), and the
selection's description and notes as the memo. A mixin of ``qdpx_import.Importer``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcode.format.names import plural
from qcode.interchange import guids as guidmod
from qcode.interchange.common import attr, child, children, is_datetime, text_of
from qcode.interchange.import_report import ImportReport
from qcode.interchange.offsets import choose_model, expectation
from qcode.interchange.qdc import CodeMapper
from qcode.interchange.qdpx_files import Source
from qcode.store.events import new_id, now_iso


class CodingsReader:
    """What ``_codings`` needs of the importer it is mixed into."""

    report: ImportReport
    meta: dict[str, Any]
    mapper: CodeMapper
    sources: dict[str, Source]
    notes: dict[str, tuple[str, str]]
    memos: list[tuple[str, str]]
    _linked_memos: dict[str, list[str]]

    _coder: Callable[..., str]                       # the coder a user GUID stands for
    _note_text: Callable[[str | None], str | None]   # a note's text by its GUID

    def _codings(self, root: Any) -> dict[str, list[dict[str, Any]]]:
        report = self.report
        # Positions: pick the counting model, checking it against quoted selection text.
        checks = []
        for source in self.sources.values():
            for selection in source.selections:
                expected = expectation(attr(selection, "name"))
                start, end = _int(attr(selection, "startPosition")), _int(
                    attr(selection, "endPosition"))
                if expected and start is not None and end is not None:
                    checks.append((source.text, start, end, expected))
        choice = choose_model(report.origin, checks)
        model = choice.model
        report.offsets = {"model": model, "by": choice.by, "origin_model": choice.default,
                          "checked": choice.checked, "matched": choice.matched,
                          "mismatched": 0}
        if choice.by == "selection names":
            report.note(f"positions were counted as {model}, not {choice.default} as "
                        f"{report.origin or 'the origin'} suggests: {choice.matched} of "
                        f"{choice.checked} checkable selections agree that way")

        meta_codings = {guidmod.normalize(k): v for k, v in
                        (self.meta.get("codings") or {}).items()
                        if guidmod.is_guid(k) and isinstance(v, dict)}
        logs: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
        used_ids: dict[str, set[str]] = {}
        seen_spans: set[tuple[str, str, int, int, str]] = set()
        mismatches: list[str] = []
        sequence = 0

        now = now_iso()
        undated = 0
        for source in self.sources.values():
            body = source.text.body
            units = source.text.units(model)
            spans: list[tuple[Any, int, int, Any, list[str]]] = []
            for selection in source.selections:
                label = f"selection {attr(selection, 'guid')} in {source.name!r}"
                start, end = _int(attr(selection, "startPosition")), _int(
                    attr(selection, "endPosition"))
                codings = children(selection, "Coding")
                if start is None or end is None or start > end:
                    report.skip("selection", label, f"positions {attr(selection, 'startPosition')}"
                                f"-{attr(selection, 'endPosition')} are not a range "
                                f"({plural(len(codings), 'coding')} left out)")
                    continue
                if start < 0 or end > units:
                    report.note(f"{label}: positions {start}-{end} run outside the text "
                                f"(0-{units}); cut to fit")
                    start, end = max(0, min(start, units)), max(0, min(end, units))
                bs, be = source.text.to_body(model, start), source.text.to_body(model, end)
                if bs >= be:
                    report.skip("selection", label, "it selects no text "
                                f"({plural(len(codings), 'coding')} left out)")
                    continue
                expected = expectation(attr(selection, "name"))
                if expected and not expected.holds(body, bs, be):
                    said = (f"line {expected.line}" if expected.line is not None
                            else repr(_short(expected.text or "")))
                    mismatches.append(f"{label}: the text at {start}-{end} is "
                                      f"{_short(body[bs:be])!r}, the tool named it {said}")
                memo_parts = []
                description = text_of(child(selection, "Description")).strip()
                if description:
                    memo_parts.append(description)
                for ref in children(selection, "NoteRef"):
                    text = self._note_text(attr(ref, "targetGUID"))
                    if text:
                        memo_parts.append(text)
                for note in self._linked_memos.get(
                        guidmod.normalize(attr(selection, "guid")) or "", []):
                    memo_parts.append(self.notes[note][1].strip())
                if not codings:
                    if memo_parts:
                        self.memos.append((f"Segment {bs}:{be} of transcript "
                                           f"{source.transcript_id}",
                                           f"> {_short(body[bs:be], 300)}\n\n"
                                           + "\n\n".join(memo_parts)))
                    continue
                for coding in codings:
                    spans.append((coding, bs, be, selection, memo_parts))
            for coding in source.whole:
                spans.append((coding, 0, len(body), source.element, []))
            for coding, bs, be, holder, memo_parts in spans:
                sequence += 1
                guid = attr(coding, "guid")
                ref = child(coding, "CodeRef")
                code_key = guidmod.normalize(attr(ref, "targetGUID")) if ref is not None else None
                code_id = self.mapper.id_by_guid.get(code_key) if code_key else None
                label = f"coding {guid} in {source.name!r}"
                if code_id is None:
                    report.skip("coding", label, "its CodeRef names no code of the codebook")
                    continue
                coder = self._coder(attr(coding, "creatingUser"), attr(holder, "creatingUser"),
                                    attr(source.element, "creatingUser"),
                                    attr(root, "creatingUserGUID"))
                meta = meta_codings.get(guidmod.normalize(guid)) or {}
                code_name = code_id
                alias = meta.get("code")
                if isinstance(alias, str) and alias in self._aliases_of(code_id):
                    code_name = alias
                span_key = (coder, source.transcript_id, bs, be, code_id)
                if span_key in seen_spans:
                    report.skip("coding", label, f"{coder} already has {code_id} on this span")
                    continue
                seen_spans.add(span_key)
                ids = used_ids.setdefault(coder, set())
                wanted = meta.get("id")
                if isinstance(wanted, str) and wanted and wanted not in ids:
                    coding_id = wanted
                elif guidmod.is_guid(guid) and guidmod.coding_id_from_guid(guid) not in ids:
                    coding_id = guidmod.coding_id_from_guid(guid)
                else:
                    coding_id = new_id()
                ids.add(coding_id)
                at = next((t for t in (attr(coding, "creationDateTime"),
                                       attr(holder, "creationDateTime")) if is_datetime(t)), None)
                if at is None:
                    undated += 1
                    at = now
                event: dict[str, Any] = {"op": "add", "id": coding_id,
                                         "transcript": source.transcript_id, "start": bs,
                                         "end": be, "code": code_name, "text": body[bs:be],
                                         "at": at}
                parts = list(memo_parts)
                for note_ref in children(coding, "NoteRef"):
                    text = self._note_text(attr(note_ref, "targetGUID"))
                    if text:
                        parts.append(text)
                memo = "\n\n".join(dict.fromkeys(p for p in parts if p))
                if memo:
                    event["memo"] = memo
                extra = meta.get("extra")
                if isinstance(extra, dict):
                    for key, value in extra.items():
                        if key not in event and key != "op":
                            event[key] = value
                logs.setdefault(coder, []).append((at, sequence, event))
                if not self.mapper.codable.get(code_id, True):
                    report.note(f"{label} uses {code_id!r}, which the file marks as not "
                                "codable (isCodable=false); `qcode check` will report it")
        if undated:
            report.note(f"{undated} codings have no creation time; they are dated {now}")
        report.offsets["mismatched"] = len(mismatches)
        if mismatches:
            report.note(f"{len(mismatches)} of {choice.checked} selections do not match what "
                        f"the tool wrote in their names (counting {model}); e.g. "
                        + "; ".join(mismatches[:3]))
        return {coder: [e for _at, _n, e in sorted(items, key=lambda x: (x[0], x[1]))]
                for coder, items in logs.items()}

    def _aliases_of(self, code_id: str) -> list[str]:
        return self.mapper.aliases.get(code_id, [])

    # -- files ----------------------------------------------------------------------------


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
