"""``Project``: the library facade every command and the interactive coder go through.

A project is a folder with ``qcode.yaml``. Files are read lazily, once, and leniently:
a broken transcript or log line becomes a ``Problem`` (``project.problems``) instead of
stopping commands that do not need it; ``check()`` reads everything and adds the
cross-file rules.

The facade sits on top of the layers (``qcode.format``, ``qcode.store``,
``qcode.analysis``, ``qcode.coding``, ``qcode.importers``, ``qcode.interchange``): it
imports them, they never import it. What the analysis and the coding workflow read is
handed to them as one ``Corpus`` (``project.corpus``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from qcode.errors import InvalidProject, QcodeError, UsageError, file_in_the_way
from qcode.format.attributes import (
    attribute_names,
    attribute_types,
    check_attributes,
    check_units,
    join_cases,
)
from qcode.format.cache import Cache
from qcode.format.cases import CaseTable, load_case_table
from qcode.format.codebook import Code, Codebook, load_codebook
from qcode.format.config import CONFIG_NAME, ProjectConfig, find_project_root, load_config
from qcode.format.files import private_folder_links
from qcode.format.transcript_files import EARLY_WORKER_SHARE, TranscriptReading
from qcode.format.transcripts import Passage, Transcript, find_transcript
from qcode.format.yamlio import YamlDocument
from qcode.problems import CheckReport, Problems
from qcode.project.analysis import AnalysisMethods, coder_list
from qcode.project.memos import MemoMethods
from qcode.store.codings import Coding, CodingList, CodingTable
from qcode.store.consistency import Assessment, check_definition_changes
from qcode.store.corpus import Corpus
from qcode.store.events import Event, add_event, remove_event
from qcode.store.journal import recover
from qcode.store.log import CodingLog, CodingStore
from qcode.store.replay import Replay

if TYPE_CHECKING:  # pragma: no cover
    from qcode.coding.anchoring import ApplyResult, ReanchorPlan
    from qcode.coding.pseudonymise import ApplyResult as PseudonymiseResult
    from qcode.importers.transcripts import ImportRequest, ImportResult
    from qcode.interchange.import_report import ImportReport

_SPAN_RE = re.compile(r"([0-9]+):([0-9]+)")
_NUMBER_RE = re.compile(r"[0-9]+")


@dataclass
class TagResult:
    transcript: str
    start: int
    end: int
    passage: Passage | None
    added: list[str] = field(default_factory=list)      # code ids written
    unchanged: list[str] = field(default_factory=list)  # already tagged / not tagged


class Project(AnalysisMethods, MemoMethods):
    """A qcode project folder. Open with ``Project.open(path)`` or ``Project.find()``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        # A change of several files that a crash interrupted is finished (or undone)
        # before anything is read, so no command sees half of it.
        self.recovered = recover(self.root)
        self.problems = Problems()
        self.config_doc: YamlDocument | None = None  # qcode.yaml as read (line numbers)
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
        self.config_doc, config = load_config(self.root, self.problems, self.cache)
        return config

    def require_config(self) -> ProjectConfig:
        if self.config is None:
            raise InvalidProject(f"{CONFIG_NAME} is invalid", self.problems.errors)
        return self.config

    @property
    def name(self) -> str:
        return self.require_config().name

    def path(self, configured: str) -> Path:
        return (self.root / configured).resolve()

    @cached_property
    def cache(self) -> Cache:
        """The project's ``.qcode/cache/`` (see ``qcode.format.cache``)."""
        return Cache(self.root)

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

    def add_code(self, fields: Mapping[str, str | None], parent: str | None = None) -> Code:
        """Append a code (``id``, ``label``, ``description``, ``key``, ``color``) to the
        codebook file, under ``parent`` or at the top, bumping its minor version with a
        changelog entry as every codebook command does (``qcode codes add``; see
        ``qcode.format.codebook_changes``), changing nothing else in the file; refused
        with a ``QcodeError`` when ``qcode check`` would not pass it. The project sees the
        new code at once."""
        from qcode.coding.keymap import bound_characters
        from qcode.format.codebook_changes import add_code_logged

        config = self.require_config()
        change = add_code_logged(self.path(config.codebook), fields, parent,
                                 rel=config.codebook, taken_keys=bound_characters(config.keys),
                                 cache=self.cache)
        self.forget_codebook()
        return change.codebook.require(str(fields["id"]))

    def forget_codebook(self) -> None:
        """Read the codebook again on next use (it was changed): what was read from it
        goes too (the corpus, assessments, its problems)."""
        for name in ("_codebook", "_corpus", "_assessments"):
            self.__dict__.pop(name, None)
        self.problems.forget(self.require_config().codebook)

    # -- transcripts and cases -----------------------------------------------------------

    @cached_property
    def case_tables(self) -> list[CaseTable]:
        tables = []
        for spec in self.require_config().cases:
            table = load_case_table(self.path(spec.file), spec.file, spec.key, self.problems)
            if table is not None:
                tables.append(table)
        return tables

    def _begin_reading(self) -> None:
        """Begin reading the transcripts before the codebook is read: on a cold start a
        worker parses most of them meanwhile (``TranscriptReading``)."""
        if "_transcripts" in self.__dict__ or "_reading" in self.__dict__ \
                or "_codebook" in self.__dict__ or self.config is None:
            return
        try:
            folder = self._folder("transcripts")
        except InvalidProject:
            return  # reported when the transcripts are read
        if os.path.isdir(folder):
            self.__dict__["_reading"] = TranscriptReading(
                folder, self.rel(folder), self.config.segmentation, self.cache,
                EARLY_WORKER_SHARE)

    @cached_property
    def _transcripts(self) -> dict[str, Transcript]:
        config = self.require_config()
        folder = self._folder("transcripts")
        reading = self.__dict__.pop("_reading", None)
        if os.path.isdir(folder):  # never raises (a name too long, say)
            if reading is None:
                reading = TranscriptReading(folder, self.rel(folder), config.segmentation,
                                            self.cache)
            loaded = reading.finish(self.problems)
        else:
            loaded = {}
            self.problems.error(
                "transcripts-missing", CONFIG_NAME,
                self.config_doc.positions.get(("transcripts",)) if self.config_doc else None,
                f"transcript folder {config.transcripts} does not exist",
                "create it or fix `transcripts:` in qcode.yaml")
        join_cases(loaded.values(), self.case_tables, self.problems)
        check_attributes(loaded.values(), config.attributes, self.problems,
                         self.case_tables)
        check_units(config, self.config_doc, loaded.values(), self.case_tables, self.problems)
        return loaded

    @property
    def transcripts(self) -> list[Transcript]:
        """Every readable transcript, in file order (case attributes joined)."""
        return list(self._transcripts.values())

    def attribute_names(self) -> list[str]:
        """Declared attributes first (in qcode.yaml order), then the others as first seen."""
        return attribute_names(self.require_config().attributes, self.transcripts)

    def attribute_types(self) -> dict[str, str]:
        """Each attribute's type (text, integer, number, boolean, date): declared in
        qcode.yaml, else inferred from its values."""
        return dict(attribute_types(self.require_config().attributes, self.transcripts))

    def transcript(self, transcript_id: str) -> Transcript:
        return find_transcript(self._transcripts, transcript_id)

    # -- coding logs ---------------------------------------------------------------------

    @property
    def codings_dir(self) -> Path:
        return self.path(self.require_config().codings)

    @cached_property
    def store(self) -> CodingStore:
        """The coding logs (``codings/<coder>.jsonl``), each replayed once."""
        return CodingStore(self.root, self._folder("codings"), self.problems, self.cache,
                           lambda: self._codebook.version if self._codebook else None)

    def _folder(self, key: str) -> Path:
        """The folder qcode.yaml names at ``key`` (``transcripts``, ``codings``); a file
        there stops the command (``check`` reports it as config-not-a-folder)."""
        configured = getattr(self.require_config(), key)
        folder = self.path(configured)
        if file_in_the_way(folder) is not None:
            raise InvalidProject(f"`{key}: {configured}` in {CONFIG_NAME} is not a folder",
                                 [p for p in self.problems if p.rule == "config-not-a-folder"])
        return folder

    @property
    def coders(self) -> list[str]:
        """Coders with a log, sorted by name."""
        return self.store.coders

    def coders_with_codings(self) -> list[str]:
        """Coders with at least one current coding: the columns of per-coder tables."""
        return self.store.coders_with_codings()

    def log(self, coder: str) -> CodingLog:
        return self.store.log(coder)

    def replay(self, coder: str) -> Replay:
        """The replay of one coder's log (read once, then kept until it is written)."""
        return self.store.replay(coder)

    def coding_tables(self, coder: str | list[str] | None = None) -> list[CodingTable]:
        """The current codings of one coder, several, or all, as one column table each:
        what counting reads, without building an object per coding."""
        return self.store.tables(coder)

    def codings(self, coder: str | list[str] | None = None) -> CodingList:
        """Current codings (the replay of the logs) of one coder, several, or all."""
        return self.store.codings(coder)

    @property
    def corpus(self) -> Corpus:
        """What the analysis and the coding workflow read (see ``qcode.store.corpus``)."""
        corpus = self.__dict__.get("_corpus")
        if corpus is None:
            corpus = self.__dict__["_corpus"] = Corpus(
                self.root, self.require_config(), self.codebook, self._transcripts,
                self.store, self.problems, self.case_tables)
        return corpus

    def code_usage(self) -> dict[str, dict[str, int]]:
        """How many codings each code has, per coder (aliases counted as their code; the
        same span coded twice with one code counts once, as in every count)."""
        from qcode.analysis.tally import coding_usage

        return coding_usage(self.store.tables(), self._canonical, "code")

    def transcript_usage(self) -> dict[str, dict[str, int]]:
        """How many codings each transcript has, per coder (counted as ``code_usage``)."""
        from qcode.analysis.tally import coding_usage

        return coding_usage(self.store.tables(), self._canonical, "transcript")

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

    def _canonical(self, code_id: str) -> str:
        return self._codebook.canonical(code_id) if self._codebook else code_id

    # -- tagging -------------------------------------------------------------------------

    def resolve_span(self, transcript: Transcript, where: int | str | tuple[int, int]
                     ) -> tuple[int, int, Passage | None]:
        """A passage number, ``"START:END"`` or ``(start, end)`` → the span it names."""
        if isinstance(where, str):
            match = _SPAN_RE.fullmatch(where.strip())
            if match:
                where = (int(match.group(1)), int(match.group(2)))
            elif _NUMBER_RE.fullmatch(where.strip()):
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
        if start >= end:
            raise UsageError(f"span {start}:{end} is reversed or empty: START must be before END",
                             f"did you mean {end}:{start}?" if end < start
                             else "offsets are 0-based, end exclusive")
        if not 0 <= start < end <= len(transcript.body):
            raise UsageError(f"span {start}:{end} is outside transcript {transcript.id!r} "
                             f"(its body has {len(transcript.body)} characters)",
                             "offsets are 0-based, end exclusive, START < END")
        return start, end, None

    def tag(self, transcript_id: str, where: int | str | tuple[int, int], codes: list[str],
            coder: str, memo: str | None = None) -> TagResult:
        """Code a passage or span; codes already there are left alone. All or nothing.

        Whether a code is already there is decided under the log's lock, from the log as
        it is at that moment: two processes tagging the same passage write it once."""
        transcript = self.transcript(transcript_id)
        start, end, passage = self.resolve_span(transcript, where)
        wanted = _unique([self.codebook.require(c, codable=True).id for c in codes])
        text = transcript.body[start:end]
        result = TagResult(transcript.id, start, end, passage)

        def build(current: dict[str, Coding]) -> list[Event]:
            present = {self._canonical(c.code) for c in current.values()
                       if c.transcript == transcript.id and c.start == start and c.end == end}
            result.added, result.unchanged = [], []
            events: list[Event] = []
            for code_id in wanted:
                if code_id in present:
                    result.unchanged.append(code_id)
                else:
                    events.append(add_event(transcript.id, start, end, code_id, text, memo))
                    result.added.append(code_id)
            return events

        self.log(coder).append_checked(build)
        return result

    def untag(self, transcript_id: str, where: int | str | tuple[int, int], codes: list[str],
              coder: str) -> TagResult:
        """Remove codes from a passage (every coding of the code inside it) or exact span."""
        transcript = self.transcript(transcript_id)
        start, end, passage = self.resolve_span(transcript, where)
        wanted = _unique([self.codebook.require(c).id for c in codes])
        result = TagResult(transcript.id, start, end, passage)

        def build(current: dict[str, Coding]) -> list[Event]:
            mine = [c for c in current.values() if c.transcript == transcript.id]
            result.added, result.unchanged = [], []
            events: list[Event] = []
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
            return events

        self.log(coder).append_checked(build)
        return result

    # -- changing transcripts --------------------------------------------------------------

    def reanchor(self, transcripts: Iterable[str] | None = None, min_score: float | None = None,
                 dry_run: bool = False) -> tuple[ReanchorPlan, ApplyResult | None]:
        """Move every coder's codings on edited transcripts back onto their text (see
        ``qcode.coding.anchoring``); returns the plan and, unless ``dry_run``, what was
        written."""
        from qcode.coding import anchoring

        score = anchoring.DEFAULT_MIN_SCORE if min_score is None else min_score
        plan = anchoring.plan_reanchor(self.corpus, transcripts, score)
        if dry_run:
            return plan, None
        return plan, anchoring.apply_plan(self.corpus, plan)

    def pseudonymise(self, key: Path, dry_run: bool = False) -> PseudonymiseResult:
        """Apply the pseudonymisation key at ``key`` to every transcript, case table,
        memo and log, moving every coding with its text, as one change (see
        ``qcode.coding.pseudonymise``); refused while a coding session is open or when
        the key lies where it would be shared."""
        from qcode.coding.pseudonymise import apply_key, load_key_for

        result = apply_key(self.corpus, load_key_for(self.root, Path(key)), dry_run)
        if not dry_run and not result.nothing_to_do:
            for name in ("_transcripts", "_reading", "_corpus", "_memos", "case_tables",
                         "_assessments"):
                self.__dict__.pop(name, None)
        return result

    def import_transcripts(self, request: ImportRequest) -> ImportResult:
        """Write transcript files from other formats into the project (see
        ``qcode.importers.transcripts``)."""
        from qcode.importers.transcripts import import_transcripts

        result = import_transcripts(self.corpus, request)
        if not request.dry_run and any(r.ok and r.path for r in result.files):
            # What `qcode check` will say about the new files, said now.
            fresh = Project(self.root)
            fresh.transcripts  # noqa: B018 - reading them applies the attribute rules
            result.note_problems(fresh.problems)
        return result

    # -- what a reading command must say -------------------------------------------------

    def assess(self, coders: str | list[str] | None = None, all_coders: bool = False,
               uses: Iterable[str] = ("codebook", "attributes")) -> Assessment:
        """Read what an answer depends on (``uses``: the codebook, transcript attributes)
        and the logs of the coders in scope, and sort the problems found into those that
        make the answer undefined (``blocking``) and one note per kind of problem that
        changes it (see ``qcode.store.consistency.assess``)."""
        used = set(uses)
        key = (tuple(coder_list(coders) or ()), all_coders, tuple(sorted(used)))
        kept = self.__dict__.setdefault("_assessments", {})
        if key in kept:
            return kept[key]
        config = self.require_config()
        self._begin_reading()
        # The cache entries are written while the command goes on to count and print.
        with self.cache.deferred():
            kept[key] = self._assess(config, coders, all_coders, used)
        return kept[key]

    def _assess(self, config: ProjectConfig, coders: str | list[str] | None,
                all_coders: bool, used: set[str]) -> Assessment:
        from qcode.analysis.scope import choose_coders
        from qcode.store.consistency import assess, check_codings

        files = {CONFIG_NAME: "config", config.codebook: "codebook",
                 **{spec.file: "cases" for spec in config.cases}}
        codebook = self._codebook if "codebook" in used else None
        transcripts = self._transcripts
        first = assess(self.problems, files, used, [], {}, str)
        if first.blocking or ("codebook" in used and codebook is None):
            return first
        audits, tables = [], {}
        if codebook is not None:
            chosen = ([] if coders is not None and not coders
                      else choose_coders(self.corpus, coder_list(coders), all_coders))
            bodies = loaded_bodies(transcripts)
            for coder in chosen:
                replay = self.store.replay(coder, bodies)
                tables[coder] = replay.table
                audits.append(check_codings(replay, self.store.log(coder).rel, transcripts,
                                            codebook, self.cache, Problems()))
            # The bodies the replays compared coded texts with are not needed to count;
            # a command that shows text reads the ones it shows again (a first, cold run
            # holds them all: 34 MB of text at 1,000 transcripts).
            for table in tables.values():
                table.checked = None
            for transcript in transcripts.values():
                transcript.release_body()
        canonical = codebook.canonical if codebook is not None else str
        return assess(self.problems, files, used, audits, tables, canonical)

    # -- checking ------------------------------------------------------------------------

    def check(self, key: Path | None = None) -> CheckReport:
        """Read every file, apply every rule, and report all problems at once. With the
        pseudonymisation ``key`` (its path), also ``identifier-residue`` and
        ``key-location`` (``qcode.project.residue``); an unreadable key is ``InvalidKey``."""
        counts: dict[str, int] = {}
        if self.config is None:
            return CheckReport(self.problems.sorted(), counts)
        self._begin_reading()
        # The cache is written here, not deferred (as ``assess`` does): after the logs,
        # a check has too little left to do for a writing child to save any time.
        return self._check(self.config, key, counts)

    def _check(self, config: ProjectConfig, key: Path | None, counts: dict[str, int]
               ) -> CheckReport:
        from qcode.coding.keymap import check_keys
        from qcode.format.config import check_interviewer_labels
        from qcode.format.rules import check_speaker_rules
        from qcode.format.transcripts import check_control_characters, check_speakers
        from qcode.store.consistency import check_codings, check_suggestion_logs

        problems = self.problems
        codebook = self._codebook
        try:
            transcripts = self._transcripts
        except InvalidProject:  # `transcripts:` is not a folder: reported when it was read
            transcripts = {}
        try:
            store = self.store
        except InvalidProject:  # the same for `codings:`
            store = CodingStore(self.root, self.codings_dir, Problems(), self.cache)
        counts["codes"] = len(codebook) if codebook else 0
        counts["transcripts"] = len(transcripts)
        counts["coders"] = len(store.coders)
        total = 0
        bodies = loaded_bodies(transcripts)
        for coder in store.coders:
            replay = store.replay(coder, bodies)
            total += len(replay.table)
            check_codings(replay, store.log(coder).rel, transcripts, codebook, self.cache,
                          problems)
        counts["codings"] = total
        check_definition_changes(codebook, store, problems)
        check_speakers(transcripts.values(), problems)
        for link in private_folder_links(self.root):
            problems.warning(
                "qcode-folder-link", link, None,
                f"{link} is a symbolic link in qcode's own folder; qcode never follows it "
                "(the cache or session locks there are off)",
                f"delete it (rm {link}): qcode makes what it needs; .qcode/ belongs in "
                ".gitignore")
        check_control_characters(transcripts.values(), problems)
        speakers = {s for t in transcripts.values() for s in t.passage_columns()[2] if s}
        if codebook is not None:
            check_keys(config.keys, self.config_doc, codebook, problems)
            check_speaker_rules(((c.id, c.rules) for c in codebook), codebook.lines,
                                codebook.file, speakers, problems)
        if transcripts:
            check_interviewer_labels(config, self.config_doc, speakers, problems)
        found = Problems()
        check_suggestion_logs(store, transcripts, codebook, found)
        self._check_memos(problems, transcripts)
        if key is not None:
            from qcode.project.residue import check_key

            check_key(self.root, config, Path(key), problems)
        found.extend(problems.sorted())
        return CheckReport(found.sorted(), counts)


def import_qdpx(path: Path, into: Path, display: str | None = None) -> ImportReport:
    """Import a REFI-QDA project (``.qdpx`` or ``.qde``) as a new qcode project in
    ``into``, then run ``qcode check`` on it (the result is in ``report.check``)."""
    from qcode.interchange.qdpx_import import import_project

    report = import_project(Path(path), Path(into), display)
    result = Project.open(into).check()
    report.check = {
        "ok": result.ok,
        "errors": [p.to_dict() for p in result.errors],
        "warnings": len(result.warnings),
    }
    return report


def loaded_bodies(transcripts: dict[str, Transcript]) -> dict[str, str]:
    """The bodies in memory, by transcript id: a log replayed from its first line compares
    its coded texts with them while decoding (the check of ``check_codings``)."""
    return {tid: body for tid, t in transcripts.items() if (body := t.loaded_body) is not None}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = ["CheckReport", "Project", "QcodeError", "TagResult", "import_qdpx"]
