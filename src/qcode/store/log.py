"""The one write path of coding events (``CodingLog``) and the coding logs of a project
(``CodingStore``): which coders there are, each log read once and replayed, and the replay
dropped the moment the log is written."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode import progress
from qcode._bulk import bulk_load
from qcode.errors import LogWriteError
from qcode.format.names import CODER_RE, check_coder_name
from qcode.problems import Problems
from qcode.store.codings import Coding, CodingList, CodingTable, LogChangedError
from qcode.store.events import LOG_SUFFIX, Event, encode_event, stamp_codebook_version
from qcode.store.locks import FileLock, SessionLock
from qcode.store.replay import Replay, _chunks, _read_range, _Replayer, replay_bytes

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache

SUGGESTIONS_SUFFIX = ".suggestions"


class CodingLog:
    """The log of one coder, ``codings/<coder>.jsonl`` (or a suggestions log): the one
    way events reach a log.

    ``append`` and ``append_checked`` write complete lines in one ``write`` under an
    exclusive lock, then fsync, so two processes never interleave and what was reported
    saved survives a crash. A log that belongs to a ``CodingStore`` tells it after every
    write, so no replay of the old content is used again.
    """

    def __init__(self, path: Path, coder: str, rel: str | None = None,
                 store: CodingStore | None = None) -> None:
        self.path = path
        self.coder = coder
        self.rel = rel or path.name
        self._store = store

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, events: Iterable[Event]) -> int:
        """Append events as complete lines, durably; returns how many were written."""
        events = list(events)
        return self._append_locked(lambda: events) if events else 0

    def append_checked(self, build: Callable[[dict[str, Coding]], list[Event]]) -> int:
        """Under the lock: replay the log as it is now, let ``build`` choose the events
        from the current codings (by id), and append them. A plan made from an older read
        (re-anchoring, say) thus never acts on a coding someone changed meanwhile, and two
        processes tagging the same passage write it once. The replay under the lock goes
        through the project's cache, so it reads only what the cache cannot vouch for."""

        def from_current() -> list[Event]:
            cache = self._store.cache if self._store is not None else None
            return build({c.id: c for c in self.replay(cache).codings})

        return self._append_locked(from_current)

    def _append_locked(self, events_for: Callable[[], list[Event]]) -> int:
        while True:
            written = self._append_once(events_for)
            if written is not None:
                return written

    def _append_once(self, events_for: Callable[[], list[Event]]) -> int | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LogWriteError.of(exc, self.rel, "append to") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # a pipe or a device named like a log
                raise LogWriteError(f"cannot append to {self.rel}: it is not a regular file",
                                    "nothing was written; move it out of the codings folder",
                                    self.rel)
            with FileLock(fd):
                if _replaced(fd, self.path):
                    # `qcode compact` renamed a new log over this one while we waited for
                    # the lock: append to the new one, never to the file it replaced.
                    return None
                events = events_for()  # under the lock: no other writer can interleave
                if self._store is not None:  # a coding log of the project, not an import
                    stamp_codebook_version(events, self._store.codebook_version())
                size = os.fstat(fd).st_size
                payload = b"".join(encode_event(e) for e in events)
                if not payload:
                    return 0
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    # Keep a torn line (from a crash) on a line of its own, untouched.
                    payload = b"\n" + payload
                try:
                    written = 0
                    while written < len(payload):
                        written += os.write(fd, payload[written:])
                    os.fsync(fd)
                except OSError:
                    # A full disk can take part of the lines: cut the log back to what it
                    # was (still under the lock), so a failed write leaves no trace.
                    with suppress(OSError):
                        os.ftruncate(fd, size)
                    raise
        except OSError as exc:
            raise LogWriteError.of(exc, self.rel, "append to") from None
        finally:
            os.close(fd)
            if self._store is not None:
                self._store.forget(self.coder)
        return len(events)

    def replay(self, cache: Cache | None = None, bodies: Mapping[str, str] | None = None
               ) -> Replay:
        """Read the log and replay it; never raises for bad content.

        With a ``cache``, the replay of the log's first N bytes is taken from it when those
        bytes are provably unchanged (``qcode.cache``), and only later lines are read.
        With ``bodies`` (transcript id -> body), a log replayed from its first line has
        each coded text compared with its transcript as it is decoded (``CodingTable.checked``).
        """
        try:  # non-blocking: a pipe named like a log must not hang the command
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return Replay(self.coder, CodingTable(self.coder), 0, Problems())
        except OSError as exc:
            problems = Problems()
            problems.error("file-unreadable", self.rel, None,
                           f"cannot read {self.rel}: {exc.strerror}")
            return Replay(self.coder, CodingTable(self.coder), 0, problems)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                problems = Problems()
                problems.error("log-not-a-file", self.rel, None,
                               f"{self.rel} is not a file, so it cannot be a coding log",
                               "move it out of the codings folder (a log is a file)")
                return Replay(self.coder, CodingTable(self.coder), 0, problems)
            with bulk_load():
                return self._replay_open(fd, cache, bodies)
        finally:
            os.close(fd)

    def _replay_open(self, fd: int, cache: Cache | None, bodies: Mapping[str, str] | None
                     ) -> Replay:
        from qcode.format.cache import MALFORMED_ENTRY, Stamp, source_record, stamp_proves

        stamp = Stamp.of(os.fstat(fd))
        if cache is not None and not cache.enabled:
            cache = None
        entry = cache.load(self._cache_name) if cache is not None else None
        if entry is not None and (entry.get("log") != self.rel
                                  or not 0 <= entry.get("covered", -1) <= stamp.size):
            entry = None
        if cache is not None and entry is not None and stamp_proves(entry.get("source"), stamp):
            # Unchanged since the entry was made: the rest is an unfinished line at most.
            covered = entry["covered"]
            with suppress(*MALFORMED_ENTRY):
                if covered == stamp.size:
                    return _Replayer.replay_of_entry(entry, self, cache)
                replayer = _Replayer.from_entry(entry, self, cache)
                replayer.feed(_read_range(fd, covered, stamp.size), covered)
                return replayer.finish()
        # Only a log read anew may be decoded in pieces: the warm path above never needs
        # multiprocessing and its imports (about 5 ms of every small command).
        from qcode.store.parallel import PIECE_BYTES, PieceFeeder, worker_count

        covered = 0
        resumed: _Replayer | None = None
        if cache is not None and entry is not None:
            prefix = hashlib.sha256()
            for chunk in _chunks(fd, 0, entry["covered"]):
                prefix.update(chunk)
            if prefix.hexdigest() == entry.get("prefix_sha256"):
                # The log grew (or was touched): replay only the lines after the entry's.
                with suppress(*MALFORMED_ENTRY):
                    resumed = _Replayer.from_entry(entry, self, cache)
                    covered = entry["covered"]
        if resumed is None:
            replayer, prefix = _Replayer(self.coder, self.rel, self.path), hashlib.sha256()
            replayer.bodies = bodies
        else:
            replayer = resumed
        # With a cache, texts are replaced by their digests as they are read: the cache
        # keeps digests, and a text is read back from the log if it is ever wanted. So a
        # replay holds neither the file nor its texts, only the coding table.
        replayer.keep_text = cache is None
        complete, pending = covered, b""  # complete: the end of the last whole line fed
        feeder = PieceFeeder(replayer, worker_count(stamp.size - covered), fd)
        try:
            for chunk in progress.track(_chunks(fd, covered, stamp.size, PIECE_BYTES),
                                        f"replaying {self.rel}", stamp.size - covered,
                                        size=len):
                cut = chunk.rfind(b"\n") + 1
                if not cut:
                    pending += chunk  # a line longer than a chunk: wait for its end
                    continue
                lines = pending + chunk[:cut] if pending else chunk[:cut]
                feeder.feed(lines, complete)
                prefix.update(lines)
                complete += len(lines)
                pending = chunk[cut:]
        except BaseException:  # Ctrl-C, say: stop the workers, decode nothing more
            feeder.abandon()
            raise
        feeder.close()
        if cache is not None:
            whole = prefix.copy()
            whole.update(pending)
            covered = (complete, prefix.hexdigest(), source_record(stamp, whole.hexdigest()))
            # The entry covers the complete lines: an unfinished last one is fed below, so
            # the entry is made now; else when it is written (by a child, perhaps).
            made = replayer.to_entry(*covered) if pending else None

            def build() -> dict[str, dict[str, Any]]:
                main, rest = made or replayer.to_entry(*covered)
                # The rest first: a main entry never lacks its rest.
                return {self._rest_name: rest, self._cache_name: main}

            cache.save_later(build)
        if pending:
            replayer.feed(pending, complete)
        return replayer.finish_for_entry()

    @property
    def _cache_name(self) -> str:
        return f"logs/{self.coder}.json"

    @property
    def _rest_name(self) -> str:
        return f"logs/{self.coder}.rest.json"

    def rest_loader(self, entry: dict[str, Any], cache: Cache
                    ) -> Callable[[CodingTable], None]:
        """Fills a cached table's other columns, from the cache's second file when it
        belongs to the same entry, else by replaying the lines the entry covers."""
        from qcode.format.cache import MALFORMED_ENTRY

        binding = ("lineage", "covered", "prefix_sha256")
        names = ("id", "at", "line", "offset", "length", "digest")

        def load(table: CodingTable) -> None:
            rest = cache.load(self._rest_name)
            with suppress(*MALFORMED_ENTRY):
                if rest is not None and all(rest[k] == entry[k] for k in binding):
                    columns = [rest[n] for n in names]
                    if all(type(c) is list and len(c) == len(table) for c in columns):
                        (table.ids, table.ats, table.lines, table.offsets, table.lengths,
                         table.digests) = columns
                        return
            fresh = self._replay_prefix(entry["covered"], entry["prefix_sha256"]).table
            if len(fresh) != len(table) or fresh.starts != table.starts:
                raise LogChangedError.of(self.rel)
            (table.ids, table.ats, table.lines, table.offsets, table.lengths, table.texts) = (
                fresh.ids, fresh.ats, fresh.lines, fresh.offsets, fresh.lengths, fresh.texts)
            table.digests = list[int | None](fresh.all_digests())

        return load

    def _replay_prefix(self, size: int, sha256: str) -> Replay:
        try:
            with self.path.open("rb") as handle:
                data = handle.read(size)
        except OSError:
            raise LogChangedError.of(self.rel) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise LogChangedError.of(self.rel)
        return replay_bytes(data, self.coder, self.rel)




def _replaced(fd: int, path: Path) -> bool:
    """Whether ``path`` no longer names the open file ``fd``."""
    try:
        now = os.stat(path)
    except OSError:
        return True
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino)


class CodingStore:
    """The coding logs of one project (``codings/<coder>.jsonl``).

    Each log is replayed once and kept; writing through one of its ``CodingLog``s drops
    that replay, so the next read sees the new lines. Problems found while reading
    (a bad log name, a broken line) go to ``problems``. ``codebook_version`` says the
    version of the codebook as it is now; every new coding written through the store is
    stamped with it (``cb``).
    """

    def __init__(self, root: Path, folder: Path, problems: Problems,
                 cache: Cache | None = None,
                 codebook_version: Callable[[], str | None] = lambda: None) -> None:
        self.root = Path(root)
        self.codebook_version = codebook_version
        self.folder = Path(folder)
        self.problems = problems
        self.cache = cache
        self._replays: dict[str, Replay] = {}

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    @cached_property
    def coders(self) -> list[str]:
        """Coders with a log, sorted by name."""
        if not os.path.isdir(self.folder):  # never raises (a name too long, say)
            return []
        names = []
        for path in sorted(self.folder.glob(f"*{LOG_SUFFIX}")):
            coder = path.name[: -len(LOG_SUFFIX)]
            if not self._is_log_file(path):
                continue
            if CODER_RE.fullmatch(coder):
                names.append(coder)
            elif (coder.endswith(SUGGESTIONS_SUFFIX)
                  and CODER_RE.fullmatch(coder[: -len(SUGGESTIONS_SUFFIX)])):
                continue  # <coder>.suggestions.jsonl: proposals of `qcode autocode`
            else:
                self.problems.error(
                    "log-coder-name", self.rel(path), None,
                    f"{path.name} is not a valid coder log name; it is ignored",
                    "coder names use letters, digits, - and _ (e.g. coder-a.jsonl)")
        return names

    def coders_with_codings(self) -> list[str]:
        """Coders whose log holds at least one current coding. A log whose codings were
        all taken back (a throwaway coder's) is still a log, but no column of a table."""
        return [coder for coder in self.coders if len(self.replay(coder).table)]

    def log(self, coder: str) -> CodingLog:
        """The coder's log (it need not exist yet: the first append creates it)."""
        check_coder_name(coder)
        path = self.folder / f"{coder}{LOG_SUFFIX}"
        return CodingLog(path, coder, self.rel(path), store=self)

    def suggestions_log_path(self, coder: str) -> Path:
        check_coder_name(coder)
        return self.folder / f"{coder}{SUGGESTIONS_SUFFIX}{LOG_SUFFIX}"

    def suggestion_logs(self) -> dict[str, Path]:
        """The suggestions logs of the project, by coder name."""
        if not os.path.isdir(self.folder):  # never raises (a name too long, say)
            return {}
        found = {}
        ending = SUGGESTIONS_SUFFIX + LOG_SUFFIX
        for path in sorted(self.folder.glob(f"*{ending}")):
            coder = path.name[: -len(ending)]
            if CODER_RE.fullmatch(coder) and self._is_log_file(path, report=False):
                found[coder] = path
        return found

    def _is_log_file(self, path: Path, report: bool = True) -> bool:
        """Whether ``path``, named like a log, is a file; a folder (or anything else) there
        is reported once and left alone."""
        if path.is_file():
            return True
        if report:
            kind = "a folder" if path.is_dir() else "not a regular file"
            self.problems.error("log-not-a-file", self.rel(path), None,
                                f"{path.name} is {kind}, so not a coding log; it is ignored",
                                "move it out of the codings folder (a log is a file)")
        return False

    def replay(self, coder: str, bodies: Mapping[str, str] | None = None) -> Replay:
        """The replay of one coder's log (read once, then kept until it is written); see
        ``CodingLog.replay`` for ``bodies``."""
        replay = self._replays.get(coder)
        if replay is None:
            replay = self.log(coder).replay(self.cache, bodies)
            self.problems.extend(replay.problems)
            self._replays[coder] = replay
        return replay

    def forget(self, coder: str) -> None:
        """Drop the kept replay of a coder's log (it was just written)."""
        self._replays.pop(coder, None)
        if coder not in self.__dict__.get("coders", [coder]):
            self.__dict__.pop("coders", None)  # a new coder's first line

    def names(self, coder: str | Iterable[str] | None) -> list[str]:
        if coder is None:
            return self.coders
        return [coder] if isinstance(coder, str) else list(coder)

    def tables(self, coder: str | Iterable[str] | None = None) -> list[CodingTable]:
        """The current codings of one coder, several, or all, as one column table each."""
        return [self.replay(name).table for name in self.names(coder)]

    def codings(self, coder: str | Iterable[str] | None = None) -> CodingList:
        """Current codings (the replay of the logs) of one coder, several, or all."""
        out = CodingList()
        for name in self.names(coder):
            out.extend(self.replay(name).codings)
        return out

    def session_lock(self, coder: str) -> SessionLock:
        """The lock of the coder's interactive sessions (see ``SessionLock``)."""
        check_coder_name(coder)
        return SessionLock(self.root, coder)

    def ensure_no_session(self, coders: Iterable[str], why: str) -> None:
        """Refuse when another process has a session open for any of ``coders``."""
        for coder in dict.fromkeys(coders):
            self.session_lock(coder).ensure_free(why)
