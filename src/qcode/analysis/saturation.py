"""Saturation: the codes each transcript adds, in the order the transcripts were taken.

Walking the transcripts in an order (when each was first coded, by id, by an attribute
such as the interview date, or as a file lists them), a code is *new* in the first
transcript that has a segment of it; the *cumulative* count is the number of distinct
codes used so far. A curve that flattens early is the usual argument that more
interviews would have added little (Guest, Bunce & Johnson 2006).

Codes are counted under their current id (an alias counts for the code that lists it);
segments are those every count uses (``qcode.analysis.segments``: distinct spans, with
several coders the union). A transcript the order cannot place (never coded, or without
the attribute) goes last, and the result's ``attrs["notes"]`` says which: an uncoded
transcript adds nothing, which would otherwise look like saturation.

Imported only by the ``saturation`` command and ``Project.saturation``; it imports
pandas at module level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from qcode.analysis.scope import attribute_text, resolve_scope, scope_attrs
from qcode.analysis.segments import segment_frame
from qcode.analysis.tally import natural as _natural
from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.attributes import attribute_types, typed_value
from qcode.format.names import did_you_mean
from qcode.format.transcripts import Transcript
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

CODING = "coding"  # when the coders in scope first coded each transcript (the log's `at`)
BY_ID = "id"       # transcript ids in natural order (teacher-2 before teacher-10)
DATE = "date"      # the attribute named `date`, else the only attribute of type date
FIRST_CODED = "first_coded"  # the column that shows the coding order's key
COLUMNS = ["position", "transcript", "codings", "new", "cumulative", "share", "new_codes"]


@dataclass(frozen=True)
class Order:
    """How the transcripts are ordered: ``kind`` is coding, id, attribute or file;
    ``name`` the attribute, or the file as the user wrote it."""

    kind: str
    name: str = ""

    @property
    def key_column(self) -> str | None:
        """The column that shows each transcript's place in the order, if it has one."""
        if self.kind == CODING:
            return FIRST_CODED
        if self.kind != "attribute":
            return None
        # an attribute named like a column of the result (`new`) must not hide it
        return self.name if self.name not in COLUMNS else f"{self.name}_value"

    @property
    def text(self) -> str:
        return self.name or self.kind


def saturation(corpus: Corpus | HasCorpus, order: str | Path = CODING,
               coders: Sequence[str] | None = None, all_coders: bool = False,
               where: Iterable[str] = ()) -> pd.DataFrame:
    """One row per transcript in scope, in ``order``: position (from 1), transcript,
    the order's key (``first_coded`` or the attribute, for those orders), codings (its
    segments), new (codes first used here), cumulative (distinct codes so far), share
    (cumulative as a percentage of all distinct codes used) and new_codes (their ids,
    codebook order). ``order`` is ``coding``, ``id``, ``date``, an attribute name, or a
    file of transcript ids (a ``Path``, or a string naming an existing file)."""
    corpus = as_corpus(corpus)
    scope = resolve_scope(corpus, coders, all_coders, where)
    chosen = resolve_order(corpus, order)
    segments = segment_frame(corpus, scope)
    codings: dict[str, int] = segments["transcript"].value_counts().to_dict()
    pairs = segments[["transcript", "code"]].drop_duplicates()  # few: one per code used
    codes_in: dict[str, set[str]] = {}
    for transcript, code in zip(pairs["transcript"].tolist(), pairs["code"].tolist(),
                                strict=True):
        codes_in.setdefault(transcript, set()).add(code)
    ordered, keys, notes = _ordered(corpus, scope.transcripts, scope.coders, chosen)
    uncoded = [t.id for t in ordered if not codings.get(t.id)]
    if uncoded and chosen.kind != CODING:  # the coding order says it itself
        notes.append(f"{_count(len(uncoded), 'transcript')} with no codings by "
                     f"{', '.join(scope.coders) or 'anyone'} add no codes: "
                     f"{_listed(uncoded)}")
    rank = {code.id: i for i, code in enumerate(corpus.codebook)}
    total = len(set().union(*codes_in.values())) if codes_in else 0
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for position, transcript in enumerate(ordered, start=1):
        new = sorted(codes_in.get(transcript.id, set()) - seen, key=lambda c: rank.get(c, -1))
        seen.update(new)
        row: dict[str, Any] = {"position": position, "transcript": transcript.id}
        if chosen.key_column is not None:
            row[chosen.key_column] = keys.get(transcript.id)
        row.update(codings=codings.get(transcript.id, 0), new=len(new), cumulative=len(seen),
                   share=round(100 * len(seen) / total, 1) if total else 0.0, new_codes=new)
        rows.append(row)
    columns = list(COLUMNS)
    if chosen.key_column is not None:
        columns.insert(2, chosen.key_column)
    frame = pd.DataFrame(rows, columns=columns)
    last = next((row for row in reversed(rows) if row["new"]), None)
    frame.attrs = scope_attrs(scope, order=chosen.text, order_kind=chosen.kind,
                              key_column=chosen.key_column, notes=notes,
                              codes=total,
                              last_new=last["transcript"] if last else None,
                              last_new_position=last["position"] if last else None)
    return frame


def resolve_order(corpus: Corpus, order: str | Path) -> Order:
    """``coding``, ``id``, an attribute name (``date``: the attribute named so, else the
    only date attribute), else an existing file; a name that is none of these is refused
    with the nearest attribute names."""
    if isinstance(order, Path):
        return Order("file", str(order))
    names = corpus.attribute_names()
    if order in (CODING, BY_ID):
        return Order(order)
    if order in names:
        return Order("attribute", order)
    if order == DATE:
        types = attribute_types(corpus.config.attributes, corpus.transcripts)
        dated = [name for name in names if types.get(name) == "date"]
        if len(dated) == 1:
            return Order("attribute", dated[0])
        raise UsageError(
            "--order date: " + (f"several attributes are dates ({', '.join(dated)})" if dated
                                else "no attribute is a date"),
            "name the attribute: --order ATTR" if dated else
            "give the interview date as an attribute (YYYY-MM-DD), or use --order coding, "
            "id or FILE")
    if Path(order).is_file():
        return Order("file", order)
    raise UnknownName("order", order, did_you_mean(order, [CODING, BY_ID, *names]),
                      hint=f"--order takes {CODING}, {BY_ID}, {DATE}, an attribute "
                           f"({_listed(names) or 'none'}) or a file of transcript ids")


def _ordered(corpus: Corpus, transcripts: list[Transcript], coders: list[str], order: Order
             ) -> tuple[list[Transcript], dict[str, str], list[str]]:
    """The transcripts in order, each one's key as text, and what to tell the user."""
    by_id = sorted(transcripts, key=lambda t: _natural(t.id))
    if order.kind == BY_ID:
        return by_id, {}, []
    if order.kind == "file":
        return _file_order(corpus, transcripts, Path(order.name)), {}, []
    if order.kind == CODING:
        keys, sortable = _first_coded(corpus, transcripts, coders)
        what = f"never coded by {', '.join(coders) or 'anyone'}"
    else:
        keys, sortable = _attribute_keys(corpus, transcripts, order.name)
        what = f"without a {order.name} to sort by"
    placed = sorted((t for t in by_id if t.id in sortable),
                    key=lambda t: sortable[t.id])  # stable: ties stay in id order
    unplaced = [t.id for t in by_id if t.id not in sortable]
    notes = ([f"{_count(len(unplaced), 'transcript')} {what}, placed last in id order: "
              f"{_listed(unplaced)}"] if unplaced else [])
    return placed + [t for t in by_id if t.id not in sortable], keys, notes


def _first_coded(corpus: Corpus, transcripts: list[Transcript], coders: list[str]
                 ) -> tuple[dict[str, str], dict[str, Any]]:
    """Each transcript's earliest ``at`` among the coders' current codings."""
    wanted = {t.id for t in transcripts}
    first: dict[str, tuple[dt.datetime, str]] = {}
    for table in corpus.tables(coders):
        for transcript, at in zip(table.transcripts, table.ats, strict=True):
            if transcript not in wanted:
                continue
            moment = _moment(at)
            if moment is not None and (transcript not in first
                                       or moment < first[transcript][0]):
                first[transcript] = (moment, at)
    return ({tid: at for tid, (_, at) in first.items()},
            {tid: moment for tid, (moment, _) in first.items()})


def _moment(at: str) -> dt.datetime | None:
    """A log time as an aware datetime (a time without an offset is taken as UTC)."""
    try:
        moment = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None  # `qcode check` reports it; here it just cannot place the coding
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _attribute_keys(corpus: Corpus, transcripts: list[Transcript], attribute: str
                    ) -> tuple[dict[str, str], dict[str, Any]]:
    """Each transcript's value as text, and as its type's value for sorting: declared
    values in their declared order, dates as dates, numbers as numbers, other text in
    natural order."""
    kind = attribute_types(corpus.config.attributes, corpus.transcripts).get(attribute, "text")
    declared = {value: i for i, value in enumerate(corpus.declared_values(attribute))}
    keys: dict[str, str] = {}
    sortable: dict[str, Any] = {}
    for transcript in transcripts:
        value = transcript.attributes.get(attribute)
        if value is None or attribute_text(value).strip() == "":
            continue
        keys[transcript.id] = attribute_text(value)
        typed = typed_value(value, kind)
        if declared:  # a value not declared is an error `qcode check` reports: unplaced
            if attribute_text(value) in declared:
                sortable[transcript.id] = declared[attribute_text(value)]
        elif typed is not None:
            sortable[transcript.id] = _natural(keys[transcript.id]) if kind == "text" else typed
    return keys, sortable


def _file_order(corpus: Corpus, transcripts: list[Transcript], path: Path) -> list[Transcript]:
    """The transcripts as ``path`` lists them: one id a line; blank lines and lines
    starting with ``#`` are skipped. Every id must be a transcript, listed once, and every
    transcript in scope must be listed (a transcript left out would bend the curve
    unseen; narrow the set with --where instead). Ids outside --where are passed over."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QcodeError(f"cannot read the order file {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}",
                         "give a UTF-8 text file with one transcript id per line") from None
    known = corpus.transcripts_by_id
    in_scope = {t.id: t for t in transcripts}
    listed: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if name not in known:
            guess = did_you_mean(name, known)
            raise QcodeError(f"{path}:{number}: unknown transcript {name!r}"
                             + (f"; did you mean {' or '.join(map(repr, guess))}?"
                                if guess else ""),
                             "list transcript ids as `qcode transcripts` shows them")
        if name in listed:
            raise QcodeError(f"{path}:{number}: transcript {name!r} is listed twice "
                             f"(first on line {listed[name]})", "list each transcript once")
        listed[name] = number
    missing = [tid for tid in sorted(in_scope, key=_natural) if tid not in listed]
    if missing:
        raise QcodeError(f"{path} does not list {_count(len(missing), 'transcript')}: "
                         f"{_listed(missing)}",
                         "add them where they belong in the order, or leave them out "
                         "with --where")
    return [in_scope[tid] for tid in listed if tid in in_scope]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _listed(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (and {len(names) - limit} more)" if len(names) > limit else "")
