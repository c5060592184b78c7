"""``Project``: the library facade every command and the interactive coder go through.

A project is a folder with ``qcode.yaml``. Files are read lazily, once, and leniently:
a broken transcript or log line becomes a ``Problem`` (``project.problems``) instead of
stopping commands that do not need it; ``check()`` reads everything and adds the
cross-file rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from qcode._bulk import bulk_load
from qcode.coding.suggestions import SUGGESTIONS_SUFFIX
from qcode.errors import InvalidProject, QcodeError, UnknownName, UsageError
from qcode.format.cache import Cache
from qcode.format.cases import CaseTable, load_case_table
from qcode.format.codebook import Codebook, load_codebook
from qcode.format.config import CODER_RE, CONFIG_NAME, ProjectConfig, find_project_root
from qcode.format.names import did_you_mean
from qcode.format.transcripts import Passage, Transcript, discover
from qcode.format.validation import validate
from qcode.format.yamlio import load_yaml_file
from qcode.problems import Problem, Problems
from qcode.store.log import (
    LOG_SUFFIX,
    Coding,
    CodingList,
    CodingLog,
    CodingTable,
    Replay,
    add_event,
    remove_event,
)

_SPAN_RE = re.compile(r"^(\d+):(\d+)$")


@dataclass
class CheckReport:
    """Everything ``qcode check`` found, with a few counts for the summary line."""

    problems: list[Problem]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.problems]}


@dataclass
class TagResult:
    transcript: str
    start: int
    end: int
    passage: Passage | None
    added: list[str] = field(default_factory=list)      # code ids written
    unchanged: list[str] = field(default_factory=list)  # already tagged / not tagged


class Project:
    """A qcode project folder. Open with ``Project.open(path)`` or ``Project.find()``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.problems = Problems()
        self.config: ProjectConfig | None = self._load_config()

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Project:
        """Open the project at ``path`` (its folder or its ``qcode.yaml``)."""
        return cls(find_project_root(explicit=path))

    @classmethod
    def find(cls, start: str | Path | None = None, explicit: str | Path | None = None) -> Project:
        """Find the project like git: ``explicit``, ``$QCODE_PROJECT``, or upwards from ``start``."""
        return cls(find_project_root(Path(start) if start else None, explicit))

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _load_config(self) -> ProjectConfig | None:
        doc = load_yaml_file(self.root / CONFIG_NAME, CONFIG_NAME, self.problems, self.cache)
        if doc is None:
            return None
        if not isinstance(doc.data, dict):
            self.problems.error("config-schema", CONFIG_NAME, 1,
                                "qcode.yaml must be a mapping (`name:`, `codebook:`, ...)")
            return None
        self._config_doc = doc
        return validate(ProjectConfig, doc, CONFIG_NAME, self.problems, "config")

    def require_config(self) -> ProjectConfig:
        if self.config is None:
            raise InvalidProject(f"{CONFIG_NAME} is invalid", self.problems.errors)
        return self.config

    @property
    def name(self) -> str:
        return self.require_config().name

    def path(self, configured: str) -> Path:
        return (self.root / configured).resolve()

    # -- the codebook --------------------------------------------------------------------

    @cached_property
    def _codebook(self) -> Codebook | None:
        config = self.require_config()
        return load_codebook(self.path(config.codebook), config.codebook, self.problems,
                             self.cache)

    @property
    def codebook(self) -> Codebook:
        codebook = self._codebook
        if codebook is None:
            file = self.require_config().codebook
            raise InvalidProject(f"the codebook {file} cannot be read",
                                 [p for p in self.problems if p.file == file])
        return codebook

    # -- transcripts and cases -----------------------------------------------------------

    @cached_property
    def case_tables(self) -> list[CaseTable]:
        tables = []
        for spec in self.require_config().cases:
            table = load_case_table(self.path(spec.file), spec.file, spec.key, self.problems)
            if table is not None:
                tables.append(table)
        return tables

    @cached_property
    def _transcripts(self) -> dict[str, Transcript]:
        config = self.require_config()
        folder = self.path(config.transcripts)
        if not folder.is_dir():
            self.problems.error("transcripts-missing", config.transcripts, None,
                                f"transcript folder {config.transcripts} does not exist",
                                "create it or fix `transcripts:` in qcode.yaml")
        loaded: dict[str, Transcript] = {}
        with bulk_load():
            self._read_transcripts(folder, config, loaded)
        for transcript in loaded.values():
            self._join_cases(transcript)
            self._check_attributes(transcript)
        return loaded

    def _read_transcripts(self, folder: Path, config: ProjectConfig,
                          loaded: dict[str, Transcript]) -> None:
        for transcript in self._parsed_transcripts(folder, config.segmentation):
            if transcript.id in loaded:
                first = loaded[transcript.id].file
                self.problems.error(
                    "transcript-id-duplicate", transcript.file,
                    transcript.front_lines.get("id"),
                    f"transcript id {transcript.id!r} is also used by {first}; this file is "
                    "ignored", "give each transcript its own `id:` (default: the file name)")
                continue
            loaded[transcript.id] = transcript

    def _parsed_transcripts(self, folder: Path, mode: str) -> list[Transcript]:
        """Every readable transcript file, parsed, or taken from the cache when the file
        is provably the one the cache entry was made from (see ``qcode.cache``)."""
        from qcode.format.cache import Stamp, content_hash, source_record, stamp_proves
        from qcode.format.files import decode_text
        from qcode.format.transcripts import BodyLoader, transcript_from_text

        cache = self.cache
        entry = cache.load("transcripts.json") or {}
        known = entry.get("files") if entry.get("segmentation") == mode else None
        known = known if isinstance(known, dict) else {}
        records: dict[str, Any] = {}
        out: list[Transcript] = []
        changed = False
        base = self.rel(folder)
        base = "" if base == "." else f"{base}/"
        for path, inside in discover(folder):
            rel = f"{base}{inside}"
            record = known.get(rel)
            record = record if isinstance(record, dict) else None
            try:
                stamp = Stamp.of(path.stat())
                if record is not None and stamp_proves(record.get("source"), stamp):
                    cached = _from_record(record, rel, BodyLoader(
                        path, record["source"]["sha256"], mode))
                    if cached is not None:
                        out.append(cached)
                        records[rel] = record
                        continue
                raw = path.read_bytes()
            except OSError as exc:
                self.problems.error("file-unreadable", rel, None,
                                    f"cannot read {rel}: {exc.strerror}")
                continue
            digest = content_hash(raw)
            changed = True
            cached = None
            if record is not None and (record.get("source") or {}).get("sha256") == digest:
                cached = _from_record(record, rel, BodyLoader(path, digest, mode))
            if cached is not None:
                out.append(cached)
            else:
                text = decode_text(raw, rel, self.problems, "transcript-encoding")
                transcript = (transcript_from_text(text, rel, path.stem, self.problems, mode)
                              if text is not None else None)
                if transcript is None:
                    continue  # not cached: its problems are reported on every read
                out.append(transcript)
                record = transcript.to_record()
            out[-1].sha256 = digest
            records[rel] = {**record, "source": source_record(stamp, digest)}
        if changed or len(records) != len(known):
            cache.save("transcripts.json", {"segmentation": mode, "files": records})
        return out

    def _join_cases(self, transcript: Transcript) -> None:
        for table in self.case_tables:
            value = transcript.front_matter.get(table.key)
            if value is None:
                continue
            value = str(value)
            if value not in table.rows:
                guess = did_you_mean(value, table.rows)
                self.problems.error(
                    "case-key-unknown", transcript.file, transcript.front_lines.get(table.key),
                    f"{table.key} {value!r} is not in the case table {table.file}",
                    f"did you mean {guess[0]!r}?" if guess else f"add a row for {value!r}")
                continue
            for column, cell in table.attributes(value).items():
                own = transcript.front_matter.get(column)
                if own is None:
                    transcript.attributes[column] = cell
                elif str(own) != cell:
                    self.problems.warning(
                        "case-attribute-conflict", transcript.file,
                        transcript.front_lines.get(column),
                        f"{column} is {own!r} here but {cell!r} in {table.file} "
                        f"(line {table.lines[value]}); the transcript's value is used",
                        "make the two agree or remove one of them")

    def _check_attributes(self, transcript: Transcript) -> None:
        for name, spec in self.require_config().attributes.items():
            value = transcript.attributes.get(name)
            if value is None:
                if spec.required:
                    self.problems.error(
                        "attribute-missing", transcript.file, 1,
                        f"transcript {transcript.id!r} has no {name!r}",
                        f"add `{name}: ...` to its front matter")
                continue
            if spec.values is not None and str(value) not in spec.values:
                guess = did_you_mean(str(value), spec.values)
                hint = (f"did you mean {guess[0]!r}?" if guess
                        else f"allowed: {', '.join(spec.values)}")
                self.problems.error(
                    "attribute-value", transcript.file, transcript.front_lines.get(name),
                    f"{name} {value!r} is not one of the declared values", hint)

    @property
    def transcripts(self) -> list[Transcript]:
        """Every readable transcript, in file order (case attributes joined)."""
        return list(self._transcripts.values())

    def attribute_names(self) -> list[str]:
        """Declared attributes first (in qcode.yaml order), then the others as first seen."""
        names = list(self.require_config().attributes)
        for transcript in self.transcripts:
            for name in transcript.attributes:
                if name not in names:
                    names.append(name)
        return names

    def transcript(self, transcript_id: str) -> Transcript:
        found = self._transcripts.get(transcript_id)
        if found is None:
            raise UnknownName("transcript", transcript_id,
                              did_you_mean(transcript_id, self._transcripts),
                              hint="`qcode transcripts` lists them")
        return found

    # -- coding logs ---------------------------------------------------------------------

    @property
    def codings_dir(self) -> Path:
        return self.path(self.require_config().codings)

    @cached_property
    def coders(self) -> list[str]:
        """Coders with a log, sorted by name."""
        folder = self.codings_dir
        if not folder.is_dir():
            return []
        names = []
        for path in sorted(folder.glob(f"*{LOG_SUFFIX}")):
            coder = path.name[: -len(LOG_SUFFIX)]
            if CODER_RE.match(coder):
                names.append(coder)
            elif (coder.endswith(SUGGESTIONS_SUFFIX)
                  and CODER_RE.match(coder[: -len(SUGGESTIONS_SUFFIX)])):
                continue  # <coder>.suggestions.jsonl: proposals of `qcode autocode`
            else:
                self.problems.error(
                    "log-coder-name", self.rel(path), None,
                    f"{path.name} is not a valid coder log name; it is ignored",
                    "coder names use letters, digits, - and _ (e.g. coder-a.jsonl)")
        return names

    def log(self, coder: str) -> CodingLog:
        check_coder_name(coder)
        path = self.codings_dir / f"{coder}{LOG_SUFFIX}"
        return CodingLog(path, coder, self.rel(path))

    @cached_property
    def cache(self) -> Cache:
        """The project's ``.qcode/cache/`` (see ``qcode.cache``)."""
        return Cache(self.root)

    def replay(self, coder: str) -> Replay:
        """The replay of one coder's log (read once, then kept until this project writes)."""
        replays = self.__dict__.setdefault("_replays", {})
        if coder not in replays:
            replay = self.log(coder).replay(self.cache)
            self.problems.extend(replay.problems)
            replays[coder] = replay
        return replays[coder]

    def coding_tables(self, coder: str | list[str] | None = None) -> list[CodingTable]:
        """The current codings of one coder, several, or all, as one column table each:
        what counting reads, without building an object per coding."""
        return [self.replay(name).table for name in self._coder_names(coder)]

    def _replay(self, coder: str) -> list[Coding]:
        return self.replay(coder).codings

    def _forget(self, coder: str) -> None:
        self.__dict__.get("_replays", {}).pop(coder, None)

    def codings(self, coder: str | list[str] | None = None) -> CodingList:
        """Current codings (the replay of the logs) of one coder, several, or all."""
        out = CodingList()
        for name in self._coder_names(coder):
            out.extend(self._replay(name))
        return out

    def _coder_names(self, coder: str | list[str] | None) -> list[str]:
        if coder is None:
            return self.coders
        return [coder] if isinstance(coder, str) else list(coder)

    def code_usage(self) -> dict[str, dict[str, int]]:
        """How many current codings each code has, per coder (aliases counted as their code)."""
        usage: dict[str, dict[str, int]] = {}
        for coding in self.codings():
            per_coder = usage.setdefault(self._canonical(coding.code), {})
            per_coder[coding.coder] = per_coder.get(coding.coder, 0) + 1
        return usage

    def transcript_usage(self) -> dict[str, dict[str, int]]:
        """How many current codings each transcript has, per coder."""
        usage: dict[str, dict[str, int]] = {}
        for coding in self.codings():
            per_coder = usage.setdefault(coding.transcript, {})
            per_coder[coding.coder] = per_coder.get(coding.coder, 0) + 1
        return usage

    def passage_codings(self, transcript: Transcript, coder: str | list[str] | None = None
                        ) -> dict[int, list[Coding]]:
        """The codings touching each passage (by passage number), in log order."""
        out: dict[int, list[Coding]] = {p.number: [] for p in transcript.passages}
        for coding in self.codings(coder):
            if coding.transcript != transcript.id:
                continue
            for passage in transcript.passages_overlapping(coding.start, coding.end):
                out[passage.number].append(coding)
        return out

    # -- analysis (pandas; imported on first use) ------------------------------------------

    def matrix(self, by: str | list[str], measure: str = "segments", rollup: bool = False,
               coders: str | list[str] | None = None, all_coders: bool = False,
               where: list[str] | tuple = (), codes: list[str] | None = None,
               totals: bool = False):
        """Codes × attribute value(s) as a pandas DataFrame (see ``qcode.analysis``)."""
        from qcode.analysis import counting as analysis

        return analysis.matrix(self, by, measure, rollup, _coder_list(coders), all_coders,
                               where, codes, totals)

    def freq(self, by: str | None = None, rollup: bool = False,
             coders: str | list[str] | None = None, all_coders: bool = False,
             where: list[str] | tuple = (), codes: list[str] | None = None):
        """Code frequencies (segments, documents, coders, words) as a DataFrame."""
        from qcode.analysis import counting as analysis

        return analysis.freq(self, by, rollup, _coder_list(coders), all_coders, where, codes)

    def cooccur(self, unit: str = "segment", rollup: bool = False,
                coders: str | list[str] | None = None, all_coders: bool = False,
                where: list[str] | tuple = (), codes: list[str] | None = None):
        """Code × code co-occurrence counts as a DataFrame."""
        from qcode.analysis import counting as analysis

        return analysis.cooccur(self, unit, rollup, _coder_list(coders), all_coders, where,
                                codes)

    def segments(self, codes: list[str] | None = None, coders: str | list[str] | None = None,
                 all_coders: bool = False, where: list[str] | tuple = (),
                 by: str | None = None):
        """The coded segments with their text, attributes, passage and speaker."""
        from qcode.analysis import counting as analysis

        return analysis.segments(self, codes, _coder_list(coders), all_coders, where, by)

    def query(self, expression: str, coders: str | list[str] | None = None,
              all_coders: bool = False, where: list[str] | tuple = ()):
        """Passages matching a code expression such as ``a & !b`` or ``near(a, b, 2)``."""
        from qcode.analysis import counting as analysis

        return analysis.query(self, expression, _coder_list(coders), all_coders, where)

    # -- tagging -------------------------------------------------------------------------

    def resolve_span(self, transcript: Transcript, where: int | str | tuple[int, int]
                     ) -> tuple[int, int, Passage | None]:
        """A passage number, ``"START:END"`` or ``(start, end)`` → the span it names."""
        if isinstance(where, str):
            match = _SPAN_RE.match(where.strip())
            if match:
                where = (int(match.group(1)), int(match.group(2)))
            elif where.strip().isdigit():
                where = int(where.strip())
            else:
                raise UsageError(f"passage {where!r} is neither a number nor START:END",
                                 "write a passage number (see `qcode show`) or offsets 120:342")
        if isinstance(where, int):
            count = len(transcript.passages)
            if not 1 <= where <= count:
                raise UsageError(f"transcript {transcript.id!r} has passages 1-{count}, "
                                 f"not {where}", f"`qcode show {transcript.id}` numbers them")
            passage = transcript.passage(where)
            return passage.start, passage.end, passage
        start, end = where
        if not 0 <= start < end <= len(transcript.body):
            raise UsageError(f"span {start}:{end} is outside transcript {transcript.id!r} "
                             f"(its body has {len(transcript.body)} characters)",
                             "offsets are 0-based, end exclusive, START < END")
        return start, end, None

    def tag(self, transcript_id: str, where: int | str | tuple[int, int], codes: list[str],
            coder: str, memo: str | None = None) -> TagResult:
        """Code a passage or span; codes already there are left alone. All or nothing."""
        transcript = self.transcript(transcript_id)
        start, end, passage = self.resolve_span(transcript, where)
        wanted = _unique([self.codebook.require(c, codable=True).id for c in codes])
        log = self.log(coder)
        present = {self._canonical(c.code) for c in self._replay(coder)
                   if c.transcript == transcript.id and c.start == start and c.end == end}
        result = TagResult(transcript.id, start, end, passage)
        events = []
        text = transcript.body[start:end]
        for code_id in wanted:
            if code_id in present:
                result.unchanged.append(code_id)
            else:
                events.append(add_event(transcript.id, start, end, code_id, text, memo))
                result.added.append(code_id)
        log.append(events)
        if events:
            self._forget(coder)
        return result

    def untag(self, transcript_id: str, where: int | str | tuple[int, int], codes: list[str],
              coder: str) -> TagResult:
        """Remove codes from a passage (every coding of the code inside it) or exact span."""
        transcript = self.transcript(transcript_id)
        start, end, passage = self.resolve_span(transcript, where)
        wanted = _unique([self.codebook.require(c).id for c in codes])
        log = self.log(coder)
        result = TagResult(transcript.id, start, end, passage)
        events = []
        mine = [c for c in self._replay(coder) if c.transcript == transcript.id]
        for code_id in wanted:
            if passage is not None:
                hits = [c for c in mine if self._canonical(c.code) == code_id
                        and start <= c.start and c.end <= end]
            else:
                hits = [c for c in mine if self._canonical(c.code) == code_id
                        and c.start == start and c.end == end]
            if hits:
                events.extend(remove_event(c.id) for c in hits)
                result.added.append(code_id)
            else:
                result.unchanged.append(code_id)
        log.append(events)
        if events:
            self._forget(coder)
        return result

    def _canonical(self, code_id: str) -> str:
        code = self._codebook.resolve(code_id) if self._codebook else None
        return code.id if code else code_id

    # -- checking ------------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Read every file, apply every rule, and report all problems at once."""
        from qcode.check import run_checks
        from qcode.coding.suggestions import check_suggestion_logs

        report = run_checks(self)
        found = Problems()
        check_suggestion_logs(self, found)
        if found:
            found.extend(report.problems)
            report.problems = found.sorted()
        return report


def _from_record(record: Any, rel: str, loader: Any) -> Transcript | None:
    """A transcript from its cache record, or None when the record is malformed."""
    from qcode.format.cache import MALFORMED_ENTRY

    try:
        transcript = Transcript.from_record(record, rel, loader)
    except MALFORMED_ENTRY:
        return None
    transcript.sha256 = loader.sha256
    return transcript


def check_coder_name(coder: str) -> None:
    if not coder or not CODER_RE.match(coder):
        raise UsageError(f"coder name {coder!r} is not allowed",
                         "use letters, digits, - and _ (it becomes codings/<coder>.jsonl)")


def _coder_list(coders: str | list[str] | None) -> list[str] | None:
    if coders is None:
        return None
    return [coders] if isinstance(coders, str) else list(coders)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = ["CheckReport", "Project", "QcodeError", "TagResult"]
