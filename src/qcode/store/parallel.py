"""Decoding a long coding log on every core: the cold path of a large project.

A replay with no cache entry to go on from (a fresh clone, CI) decodes every line of every
log, about a second per 100,000 codings on one core. Each line decodes on its own
(``decode_lines``), so pieces of the log go to worker processes while this one reads,
hashes and applies the decoded pieces in log order (``_Replayer.apply``): the result, its
problems and their line numbers are those of a replay in one process.

Only above ``PARALLEL_MIN_BYTES`` (a small project pays nothing), only where ``fork``
starts a worker without importing anything again, and never from a process running
threads (a forked child would inherit their locks held).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import zlib
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from qcode.format.forking import idle_cores
from qcode.store.replay import DecodedLines, decode_lines

if TYPE_CHECKING:  # pragma: no cover
    from qcode.store.replay import _Replayer

# About 0.15 s of decoding on one core: less is not worth starting workers for.
PARALLEL_MIN_BYTES = 16 << 20
# The piece a worker decodes at a time: small enough to keep every core busy to the end
# and memory bounded, large enough that passing it costs little beside decoding it.
PIECE_BYTES = 4 << 20
MAX_WORKERS = 8
# The replayer's transcript bodies, set before the workers fork so that each has them
# without their being sent (tens of megabytes) with every piece.
_bodies: Mapping[str, str] | None = None


def worker_count(size: int) -> int:
    """How many processes decode ``size`` bytes of log lines (0: this one alone)."""
    if size < PARALLEL_MIN_BYTES or not sys.platform.startswith("linux"):
        return 0
    if threading.active_count() > 1:
        return 0
    cores = len(os.sched_getaffinity(0))
    if cores < 2 or idle_cores(cores) < 1.5:
        # With no core to spare besides this process's (give or take half a core: the
        # load average lags), workers only add their own cost (passing the pieces and
        # the decoded rows: about a third more work in all) to a busy machine.
        return 0
    return min(cores, MAX_WORKERS, size // PIECE_BYTES)


class PieceFeeder:
    """Feeds pieces of complete log lines to a ``_Replayer``: decoded by worker processes
    when ``workers`` > 0, applied in log order; ``close()`` applies the last ones. A
    worker that fails (it could not start, it was killed) costs speed only: its piece
    is decoded here."""

    def __init__(self, replayer: _Replayer, workers: int, fd: int) -> None:
        self.replayer = replayer
        self.fd = fd  # a forked worker shares it: it reads its piece itself
        self.index = replayer.lines_read  # the line number before the next piece
        self.pending: deque[tuple[Future[tuple[int, DecodedLines]] | None, bytes, int, int,
                                  int]] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.limit = 2 * workers
        if workers:
            global _bodies
            _bodies = replayer.bodies
            try:
                self.pool = ProcessPoolExecutor(
                    workers, mp_context=multiprocessing.get_context("fork"))
            except (OSError, ValueError):
                self.pool = None

    def feed(self, lines: bytes, offset: int) -> None:
        """Replay ``lines``, the bytes at ``offset`` of the log (complete lines)."""
        if self.pool is None:
            self.replayer.feed(lines, offset)
            return
        future: Future[tuple[int, DecodedLines]] | None
        try:
            future = self.pool.submit(_decode_piece, self.fd, offset, len(lines), self.index,
                                      self.replayer.keep_text, self.replayer.bodies is not None)
        except RuntimeError:  # the pool broke: decode here
            future = None
        count = lines.count(b"\n")
        self.pending.append((future, lines, self.index, offset, count))
        self.index += count
        while len(self.pending) > self.limit:
            self._apply_oldest()

    def close(self) -> None:
        """Apply the pieces still out, then stop the workers."""
        try:
            while self.pending:
                self._apply_oldest()
        except BaseException:
            self.abandon()
            raise
        self.abandon()

    def abandon(self) -> None:
        """Stop the workers without waiting for the pieces still out."""
        global _bodies
        self.pending.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        _bodies = None

    def _apply_oldest(self) -> None:
        future, lines, index, offset, count = self.pending.popleft()
        replayer = self.replayer
        decoded = None
        if future is not None:
            try:
                checksum, decoded = future.result()
            except Exception:  # a broken worker: the piece is decoded here
                decoded = None
            else:
                if checksum != zlib.crc32(lines):
                    decoded = None  # the worker read other bytes than these (a rewrite)
        if decoded is None:
            decoded = decode_lines(lines, index, offset, replayer.keep_text, replayer.shared,
                                   replayer.bodies)
        replayer.apply(decoded)
        replayer.lines_read = index + count


def _decode_piece(fd: int, offset: int, size: int, index: int, keep_text: bool,
                  compare: bool) -> tuple[int, DecodedLines]:
    """In a worker: decode the log's bytes ``[offset, offset + size)`` (comparing texts
    with the bodies the worker was forked with when ``compare``); with their CRC, so the
    parent knows they are the bytes it read and hashed."""
    if compare and _bodies is None:
        raise RuntimeError("forked without the bodies to compare with")  # decoded in the parent
    chunks, at = [], offset
    while at < offset + size:
        chunk = os.pread(fd, offset + size - at, at)
        if not chunk:
            break
        chunks.append(chunk)
        at += len(chunk)
    lines = b"".join(chunks)
    return zlib.crc32(lines), decode_lines(lines, index, offset, keep_text,
                                           bodies=_bodies if compare else None)
