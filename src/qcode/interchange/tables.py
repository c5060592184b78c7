"""Tidy tables for other tools: ``qcode export tables``.

Five tables (``codes``, ``transcripts``, ``passages``, ``codings``, ``events``) as CSV or
Parquet files in one folder, for R, DuckDB, pandas, Stata ... Their columns are a public
schema (docs/tables.md): named once here (``SCHEMAS``), in the order they are written, each
with its type. Ids are the keys; labels ride along for people.

The CSV cells are the exact text (no spreadsheet formula guard, unlike the reports): these
are data for programs, and ``'=x`` would be a different value there (docs/security.md).
pyarrow, for Parquet, is an optional extra and imported only when Parquet is asked for.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from qcode._bulk import bulk_load
from qcode.analysis.scope import choose_coders
from qcode.errors import QcodeError, UsageError
from qcode.format.attributes import attribute_text, attribute_types, typed_value
from qcode.format.delimited import DelimitedWriter
from qcode.format.files import atomic_write_all, check_output
from qcode.format.limits import MAX_JSON_DEPTH, json_depth
from qcode.format.names import plural
from qcode.format.text import count_words
from qcode.store.corpus import Corpus, HasCorpus, as_corpus
from qcode.store.events import ADD_FIELDS, event_error

FORMATS = ("csv", "parquet")
PARQUET_HINT = "pip install 'qcode[parquet]'"
PARQUET_ROW_GROUP = 50_000  # rows per row group: memory stays flat however long the table

# Column types, named as in the docs; each maps to one Arrow type for Parquet.
STRING, INTEGER, NUMBER, BOOLEAN, DATE = "string", "integer", "number", "boolean", "date"
_ATTRIBUTE_TYPES = {"text": STRING, "integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN,
                    "date": DATE}

SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "codes": [("id", STRING), ("label", STRING), ("parent", STRING), ("top", STRING),
              ("depth", INTEGER), ("position", INTEGER), ("key", STRING),
              ("codable", BOOLEAN), ("description", STRING), ("aliases", STRING),
              ("color", STRING)],
    # ... and one column per attribute after these (see ``transcripts_table``).
    "transcripts": [("id", STRING), ("file", STRING), ("words", INTEGER),
                    ("passages", INTEGER)],
    "passages": [("transcript", STRING), ("number", INTEGER), ("start", INTEGER),
                 ("end", INTEGER), ("speaker", STRING), ("line", INTEGER), ("text", STRING),
                 ("words", INTEGER)],
    "codings": [("id", STRING), ("coder", STRING), ("transcript", STRING),
                ("passage", INTEGER), ("passage_end", INTEGER), ("start", INTEGER),
                ("end", INTEGER), ("code", STRING), ("label", STRING),
                ("code_as_logged", STRING), ("text", STRING), ("memo", STRING),
                ("created_at", STRING), ("line", INTEGER)],
    "events": [("coder", STRING), ("line", INTEGER), ("op", STRING), ("id", STRING),
               ("transcript", STRING), ("start", INTEGER), ("end", INTEGER),
               ("code", STRING), ("text", STRING), ("memo", STRING), ("at", STRING),
               ("valid", BOOLEAN), ("extra", STRING)],
}
TABLE_NAMES = tuple(SCHEMAS)

# The type each known event field must have to get its own column; anything else (a
# field qcode does not know, or a known one of another type) goes into ``extra``.
_EVENT_FIELD_TYPES: dict[str, type] = {"op": str, "id": str, "transcript": str, "start": int,
                                       "end": int, "code": str, "text": str, "memo": str,
                                       "at": str}


@dataclass
class Table:
    """One table: its name, typed columns and rows (lists in column order). The big
    tables' rows are a generator, made as they are written, so a project's codings and
    events are never all in memory as rows; ``warnings`` are said as they are made and
    ``written`` counts the rows that went out."""

    name: str
    columns: list[tuple[str, str]]
    rows: Iterable[list[Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: int = 0

    @property
    def header(self) -> list[str]:
        return [name for name, _kind in self.columns]


@dataclass
class Export:
    """What ``export_tables`` wrote: each file with its row count, and warnings."""

    files: list[tuple[Path, int]]
    warnings: list[str]


def export_tables(source: Corpus | HasCorpus, folder: Path, format: str = "csv",
                  coders: Sequence[str] | None = None, force: bool = False) -> Export:
    """Write the five tables into ``folder`` (made when missing) as ``<table>.csv`` or
    ``<table>.parquet``: all files or none, none replacing a file without ``force``."""
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}", f"choose one of {', '.join(FORMATS)}")
    if format == "parquet":
        _require_pyarrow()
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", "name a folder (it is made if missing)")
    paths = [folder / f"{name}.{format}" for name in TABLE_NAMES]
    for path in paths:  # refused before any work, as every qcode writer does
        check_output(path, force)
    write = write_csv if format == "csv" else write_parquet
    # What the rows read stays (the codings, their texts, the passages: millions of small
    # objects, no cycles); the collector would walk them again and again, more than
    # linearly in the project's size.
    with bulk_load():
        tables = build_tables(source, coders)
        atomic_write_all([(path, partial(write, table))
                          for path, table in zip(paths, tables, strict=True)], overwrite=force)
    return Export([(path, table.written) for path, table in zip(paths, tables, strict=True)],
                  [warning for table in tables for warning in table.warnings])


def build_tables(source: Corpus | HasCorpus, coders: Sequence[str] | None = None
                 ) -> list[Table]:
    """The five tables, in ``TABLE_NAMES`` order; the rows of codings and events come
    as they are read, with warnings about what is left out or kept as logged.
    ``coders`` narrows codings and events (default: every coder with a log)."""
    corpus = as_corpus(source)
    chosen = choose_coders(corpus, coders, all_coders=not coders)
    return [codes_table(corpus), transcripts_table(corpus), passages_table(corpus),
            codings_table(corpus, chosen), events_table(corpus, chosen)]


def codes_table(corpus: Corpus) -> Table:
    codebook = corpus.codebook
    rows = []
    for position, code in enumerate(codebook, start=1):
        ancestors = codebook.ancestors(code.id)
        rows.append([
            code.id, code.label, codebook.parent_of.get(code.id),
            ancestors[-1] if ancestors else code.id, codebook.depth_of.get(code.id, 0),
            position, code.key, code.codable, code.description or None,
            ",".join(code.aliases) or None, code.color])
    return Table("codes", SCHEMAS["codes"], rows)


def transcripts_table(corpus: Corpus) -> Table:
    """One row per transcript; then a column per attribute (declared first, in qcode.yaml
    order, then the others as first seen; case-table attributes joined), typed as the
    attribute is (declared or inferred), text when a value is not of that type."""
    transcripts = corpus.transcripts
    names = corpus.attribute_names()
    fixed = [name for name, _kind in SCHEMAS["transcripts"]]
    for name in names:
        if name in fixed:
            raise QcodeError(f"attribute {name!r} has the name of a column of the "
                             "transcripts table", f"the table's own columns are "
                             f"{', '.join(fixed)}; rename the attribute to export tables")
    kinds = attribute_types(corpus.config.attributes, transcripts)
    columns = list(SCHEMAS["transcripts"])
    values: list[list[Any]] = []
    for name in names:
        raw = [t.attributes.get(name) for t in transcripts]
        kind = kinds.get(name, "text")
        typed = [None if v is None else typed_value(v, kind) for v in raw]
        if kind == "text" or any(t is None and v is not None for t, v in zip(
                typed, raw, strict=True)):
            kind, typed = "text", [None if v is None else attribute_text(v) for v in raw]
        columns.append((name, _ATTRIBUTE_TYPES[kind]))
        values.append(typed)
    words = corpus.word_counts()
    return Table("transcripts", columns, [
        [transcript.id, transcript.file, words[transcript.id], transcript.passage_count,
         *(column[row] for column in values)] for row, transcript in enumerate(transcripts)])


def passages_table(corpus: Corpus) -> Table:
    def rows() -> Iterator[list[Any]]:
        for transcript in corpus.transcripts:
            loaded = transcript.loaded_body is not None
            body = transcript.body
            starts, ends, speakers, lines = transcript.passage_columns()
            for number, (start, end, speaker, line) in enumerate(
                    zip(starts, ends, speakers, lines, strict=True), start=1):
                text = body[start:end]
                yield [transcript.id, number, start, end, speaker, line, text,
                       count_words(text)]
            if not loaded:  # one body at a time in memory, as the passages are written
                transcript.release_body()

    return Table("passages", SCHEMAS["passages"], rows())


def codings_table(corpus: Corpus, coders: Iterable[str]) -> Table:
    """The current codings (the logs replayed), coders in the order given, each in log
    order; those the counts leave out (see ``segment_frame``) are here as logged, and a
    warning says how many. ``code`` is the canonical id; ``code_as_logged`` what the log
    says (a former id, an alias, differs). ``passage``/``passage_end``: the first and last
    passage the span overlaps (empty for a transcript the project lacks)."""
    codebook, transcripts = corpus.codebook, corpus.transcripts_by_id
    table = Table("codings", SCHEMAS["codings"])

    def rows() -> Iterator[list[Any]]:
        broken = 0
        # From the coding tables' columns, each text read and let go: no object per
        # coding or per passage is kept (at 10,000 transcripts, gigabytes).
        for logged_table in corpus.tables(list(coders)):
            for row, (coding_id, transcript_id, start, end, logged, memo, at, line) in \
                    enumerate(zip(logged_table.ids, logged_table.transcripts,
                                  logged_table.starts, logged_table.ends, logged_table.codes,
                                  logged_table.memos, logged_table.ats, logged_table.lines,
                                  strict=True)):
                transcript = transcripts.get(transcript_id)
                fits = transcript is not None and end <= transcript.body_length
                numbers = (transcript.passage_range(start, end)
                           if transcript is not None and fits else None)
                code = codebook.resolve(logged)
                broken += not fits or code is None or not code.codable
                yield [coding_id, logged_table.coder, transcript_id,
                       numbers[0] if numbers else None, numbers[1] if numbers else None,
                       start, end, code.id if code else logged,
                       code.label if code else None, logged, logged_table.read_text(row),
                       memo or None, at, line]
            logged_table.release_rest()
        if broken:
            table.warnings.insert(0, f"codings holds {plural(broken, 'coding')} that "
                                  "qcode's counts leave out (an unknown transcript or code, "
                                  "a span beyond the text, a grouping folder), as logged; "
                                  "`qcode check` lists them")

    table.rows = rows()
    return table


def events_table(corpus: Corpus, coders: Iterable[str]) -> Table:
    """Every line of the chosen coders' logs as it is written, removes and withdrawn adds
    included; ``valid`` says whether replay takes it. Lines that are no JSON object are
    left out, with a warning (``qcode check`` reports them)."""
    table = Table("events", SCHEMAS["events"])
    known = set(_EVENT_FIELD_TYPES)

    def rows() -> Iterator[list[Any]]:
        for coder in coders:
            log = corpus.store.log(coder)
            skipped: list[int] = []
            for line, event in _log_lines(log.path):
                if not isinstance(event, dict):
                    skipped.append(line)
                    continue
                cells = {key: value for key, value in event.items()
                         if key in known and _is_type(value, _EVENT_FIELD_TYPES[key])}
                extra = {key: value for key, value in event.items() if key not in cells}
                if json_depth(extra) > MAX_JSON_DEPTH:
                    skipped.append(line)
                    continue
                yield [coder, line, *(cells.get(key) for key in ADD_FIELDS[:7]),
                       cells.get("memo"), cells.get("at"), event_error(event) is None,
                       json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None]
            if skipped:
                shown = ", ".join(str(n) for n in skipped[:5])
                more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
                table.warnings.append(f"{corpus.store.rel(log.path)}: line {shown}{more} left "
                                      "out of events (not a readable event); run `qcode check`")

    table.rows = rows()
    return table


def _is_type(value: Any, kind: type) -> bool:
    return type(value) is kind  # bool is not an int here, as in the log's own checks


def _log_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(1-based line number, parsed JSON or None when unreadable) for each non-blank line,
    numbered as replay numbers them."""
    import orjson

    try:  # non-blocking: a pipe named like a log must not hang the export
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, orjson.loads(raw)
            except orjson.JSONDecodeError:
                yield number, None


# -- encodings -------------------------------------------------------------------------------

def _batches(table: Table, size: int) -> Iterator[list[list[Any]]]:
    batch: list[list[Any]] = []
    for row in table.rows:
        batch.append(row)
        if len(batch) == size:
            table.written += len(batch)
            yield batch
            batch = []
    if batch:
        table.written += len(batch)
        yield batch


def write_csv(table: Table, handle: IO[bytes]) -> None:
    """UTF-8 CSV, a header row, cells as the exact text; an empty cell is a missing value
    (null), booleans are ``true``/``false``, dates ISO 8601, numbers as Python writes them."""
    # Row by row through a text layer on the file: no batch of rows is held (at 10,000
    # transcripts the rows of a batch, made and dropped millions of times, cost more
    # than writing them).
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    try:
        writer = DelimitedWriter(text, raw=True)
        writer.writeheader(table.header)
        written = 0
        for row in table.rows:
            writer.writerow([_csv_cell(value) for value in row])
            written += 1
        table.written += written
        text.flush()
    finally:
        text.detach()  # the handle is the caller's to close


def table_csv(table: Table) -> str:
    """``write_csv`` to a string (for a small table)."""
    out = io.BytesIO()
    write_csv(table, out)
    return out.getvalue().decode("utf-8")


def _csv_cell(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)  # an int, a float (repr: nothing rounded) or a string


def write_parquet(table: Table, handle: IO[bytes]) -> None:
    """The table as one Parquet file, every column with its declared Arrow type, a row
    group per batch of rows."""
    pa, parquet = _require_pyarrow()
    arrow_type = {STRING: pa.string(), INTEGER: pa.int64(), NUMBER: pa.float64(),
                  BOOLEAN: pa.bool_(), DATE: pa.date32()}
    schema = pa.schema([(name, arrow_type[kind]) for name, kind in table.columns])
    with parquet.ParquetWriter(handle, schema) as writer:
        wrote = False
        for batch in _batches(table, PARQUET_ROW_GROUP):
            columns = list(zip(*batch, strict=True))
            writer.write_table(pa.Table.from_arrays(
                [pa.array(list(values), type=arrow_type[kind])
                 for values, (_name, kind) in zip(columns, table.columns, strict=True)],
                schema=schema))
            wrote = True
        if not wrote:  # an empty table still has its columns
            writer.write_table(schema.empty_table())


def _require_pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise QcodeError("Parquet output needs pyarrow, which is not installed",
                         f"{PARQUET_HINT}, or use --format csv") from None
    return pyarrow, pyarrow.parquet
