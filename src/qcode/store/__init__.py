"""The coding store: append-only JSONL logs of coding events, and their replay.

Owns the event schema and its constructors (``events``), the current codings as objects
and columns (``codings``), replaying a log into them (``replay``), the one write path
(``log.CodingLog``: lock, append, fsync, and the in-memory replays it invalidates, kept
by ``CodingStore``), file and session locks (``locks``), the suggestions logs of
auto-coding (``suggestions``) and the rules that hold codings against transcripts and
codebook (``consistency``).

May import: ``qcode.format`` and the shared vocabulary (``qcode.errors``,
``qcode.problems``, ``qcode._bulk``); orjson. Never analysis, coding or anything above.
"""
