"""Reading a project's transcript folder: each file parsed, or taken from the cache when
it is provably the file the cache entry was made from (``qcode.format.cache``).

On a cold start (no cache: a fresh clone, CI) parsing and segmenting a large folder takes
about a third of a second per 1,000 transcripts; when a core is spare, a forked worker
reads the later files while this process reads the earlier ones. The worker runs the very
code this process runs and sends back the transcripts (passages as columns) with their
problems, which are told in file order, as one process would tell them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.format.transcripts import (
    BodyLoader,
    Segmentation,
    Transcript,
    discover,
    transcript_from_text,
)
from qcode.problems import Problem, Problems

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Future, ProcessPoolExecutor

    from qcode.format.cache import Cache

# Below this many bytes to parse, a worker costs more (forking, sending back) than it saves.
FORK_MIN_BYTES = 4 << 20
# The share of those bytes the worker reads: this process also forks the worker and takes
# in what it sends back (about a fifth of the cost of parsing them).
WORKER_SHARE = 0.45
# When the reading begins before the codebook is read (``Project.begin_reading``), this
# process has that to do first: the worker reads more.
EARLY_WORKER_SHARE = 0.65

# What reading one file gives: the transcript, its cache record, whether the file was read.
FileResult = tuple[Transcript | None, dict[str, Any] | None, bool]


def load_transcripts(folder: Path, base: str, mode: Segmentation, cache: Cache,
                     problems: Problems) -> dict[str, Transcript]:
    """Every readable transcript under ``folder`` (``base`` is its path relative to the
    project), by id in file order. A second transcript with an id already taken is
    reported and left out."""
    return TranscriptReading(folder, base, mode, cache).finish(problems)


class TranscriptReading:
    """The reading of a transcript folder, begun: a forked worker may already be reading
    its later files (``worker_share`` of the bytes to parse) while this process does
    something else (reads the codebook, say) before ``finish``."""

    def __init__(self, folder: Path, base: str, mode: Segmentation, cache: Cache,
                 worker_share: float = WORKER_SHARE) -> None:
        self.folder, self.base, self.mode, self.cache = folder, base, mode, cache
        entry = cache.load("transcripts.json") or {}
        known = entry.get("files") if entry.get("segmentation") == mode else None
        self.known: dict[str, Any] = known if isinstance(known, dict) else {}
        self.reader = _Reader(base, mode, self.known)
        self.files = discover(folder)
        self.split, self.pool, self.worker = _fork_later_files(self.reader, self.files,
                                                               worker_share)

    def finish(self, problems: Problems) -> dict[str, Transcript]:
        if not os.path.isdir(self.folder):
            problems.error("transcripts-missing", self.base, None,
                           f"transcript folder {self.base} does not exist",
                           "create it or fix `transcripts:` in qcode.yaml")
        loaded: dict[str, Transcript] = {}
        for transcript in self._parsed(problems):
            if transcript.id in loaded:
                first = loaded[transcript.id].file
                problems.error(
                    "transcript-id-duplicate", transcript.file,
                    transcript.front_lines.get("id", 1),
                    f"transcript id {transcript.id!r} is also used by {first}; this file "
                    "is ignored", "give each transcript its own `id:` (default: the file name)")
                continue
            loaded[transcript.id] = transcript
        return loaded

    def _parsed(self, problems: Problems) -> list[Transcript]:
        from qcode import progress
        from qcode._bulk import bulk_load

        reader, files, split = self.reader, self.files, self.split
        results: list[FileResult] = []
        with bulk_load():
            for path, inside in progress.track(files[:split], "reading transcripts"):
                results.append(reader.read(path, inside, problems))
            results.extend(_later_results(reader, files[split:], self.pool, self.worker,
                                          problems))
        self.pool = self.worker = None
        out, records, changed = [], {}, False
        for transcript, record, read in results:
            changed = changed or read
            if transcript is not None and record is not None:
                out.append(transcript)
                records[transcript.file] = record
        if changed or len(records) != len(self.known):
            self.cache.save("transcripts.json", {"segmentation": self.mode, "files": records})
        return out


class _Reader:
    """Reads one transcript file at a time against the cache entry's records."""

    def __init__(self, base: str, mode: Segmentation, known: dict[str, Any]) -> None:
        self.prefix = "" if base in ("", ".") else f"{base}/"
        self.mode = mode
        self.known = known

    def read(self, path: Path, inside: str, problems: Problems) -> FileResult:
        from qcode.format.cache import Stamp, content_hash, source_record, stamp_proves
        from qcode.format.files import decode_text

        rel = f"{self.prefix}{inside}"
        record = self.known.get(rel)
        record = record if isinstance(record, dict) else None
        try:
            stamp = Stamp.of(path.stat())
            if record is not None and stamp_proves(record.get("source"), stamp):
                cached = _from_record(record, rel, BodyLoader(
                    path, record["source"]["sha256"], self.mode))
                if cached is not None:
                    return cached, record, False
            raw = path.read_bytes()
        except OSError as exc:
            problems.error("file-unreadable", rel, None, f"cannot read {rel}: {exc.strerror}")
            return None, None, False
        digest = content_hash(raw)
        transcript = None
        if record is not None and (record.get("source") or {}).get("sha256") == digest:
            transcript = _from_record(record, rel, BodyLoader(path, digest, self.mode))
        if transcript is None:
            text = decode_text(raw, rel, problems, "transcript-encoding")
            transcript = (transcript_from_text(text, rel, path.stem, problems, self.mode)
                          if text is not None else None)
            if transcript is None:
                return None, None, True  # not cached: its problems are reported on every read
            record = transcript.to_record()
            transcript.read_again_from(BodyLoader(path, digest, self.mode))
        transcript.sha256 = digest
        return transcript, {**(record or {}), "source": source_record(stamp, digest)}, True


# The reader a forked worker inherits (its cache records are not sent with the task).
_worker_reader: _Reader | None = None
WorkerResult = tuple[list[FileResult], list[Problem]]


def _read_in_worker(files: list[tuple[Path, str]]) -> WorkerResult:
    """In a worker: read ``files``; the transcripts travel with their passages as columns
    (Passage objects are made again only where they are wanted)."""
    if _worker_reader is None:
        raise RuntimeError("forked without a reader")  # the files are read in the parent
    problems = Problems()
    results = [_worker_reader.read(path, inside, problems) for path, inside in files]
    for transcript, _, _ in results:
        if transcript is not None:
            transcript.compact()
    return results, list(problems)


def _fork_later_files(reader: _Reader, files: list[tuple[Path, str]], share: float
                      ) -> tuple[int, ProcessPoolExecutor | None, Future[WorkerResult] | None]:
    """Where this process stops reading, and the worker reading the files after it (None:
    this process reads them all)."""
    global _worker_reader
    from qcode.format.forking import spare_cores

    sizes = []
    for path, inside in files:
        record = reader.known.get(f"{reader.prefix}{inside}")
        try:  # a file the cache vouches for costs nothing to read: count the others
            sizes.append(0 if isinstance(record, dict) and record.get("source") else
                         path.stat().st_size)
        except OSError:
            sizes.append(0)
    total = sum(sizes)
    if total < FORK_MIN_BYTES or not spare_cores():
        return len(files), None, None
    split, ours = 0, 0
    while split < len(files) and ours + sizes[split] <= total * (1 - share):
        ours += sizes[split]
        split += 1
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # only here: 6 ms of a warm command

    _worker_reader = reader
    pool = None
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(_read_in_worker, files[split:])
    except (OSError, ValueError, RuntimeError):
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _worker_reader = None
        return len(files), None, None
    return split, pool, future


def _later_results(reader: _Reader, files: list[tuple[Path, str]],
                   pool: ProcessPoolExecutor | None, worker: Future[WorkerResult] | None,
                   problems: Problems) -> list[FileResult]:
    """The worker's results, or (no worker, or it failed) those of reading here."""
    global _worker_reader
    if worker is not None and pool is not None:
        try:
            results, found = worker.result()
        except Exception:  # a broken worker costs speed only: the files are read here
            results = None
        finally:
            # Joined before anything else forks: the pool's thread must be gone.
            pool.shutdown(wait=True, cancel_futures=True)
            _worker_reader = None
        if results is not None:
            problems.extend(found)
            return results
    return [reader.read(path, inside, problems) for path, inside in files]


def _from_record(record: Any, rel: str, loader: BodyLoader) -> Transcript | None:
    """A transcript from its cache record, or None when the record is malformed."""
    from qcode.format.cache import MALFORMED_ENTRY

    try:
        transcript = Transcript.from_record(record, rel, loader)
    except MALFORMED_ENTRY:
        return None
    transcript.sha256 = loader.sha256
    return transcript
