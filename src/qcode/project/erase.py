"""Erasing a participant: the transcript file and everything about it (codings and their
memos, suggestions, memo files on the transcript, the cache) removed as one change.

The coding and suggestions logs are compacted with a transform that drops the
transcript's events (``qcode.store.compact``): history included, nothing of its text is
left in them. Everything is staged in one ``Transaction`` (``qcode.store.journal``), so a
crash leaves the project wholly as it was or wholly erased. The cache is dropped whole:
its entries hold transcript text and digests, and it is rebuilt on the next read.
Git history and exports copied elsewhere are out of qcode's reach; exports in
``exports/`` made before the erase are listed for the user to redo.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qcode.format.cache import CACHE_DIR
from qcode.store.compact import (
    CompactionPlan,
    Transform,
    commit_locked,
    log_coders,
    plan_compaction,
    stage_compaction,
)
from qcode.store.events import Event
from qcode.store.journal import Transaction

if TYPE_CHECKING:  # pragma: no cover
    from qcode.project import Project

EXPORTS_DIR = "exports"


@dataclass
class ErasePlan:
    transcript: str
    file: str
    codings: dict[str, int] = field(default_factory=dict)       # coder -> codings dropped
    suggestions: dict[str, int] = field(default_factory=dict)   # coder -> suggestions dropped
    logs: list[str] = field(default_factory=list)               # logs rewritten
    memo_files: list[str] = field(default_factory=list)
    cache_files: int = 0
    case_rows: list[str] = field(default_factory=list)          # "cases/x.csv: school=Voss"
    stale_exports: list[str] = field(default_factory=list)
    compaction: CompactionPlan | None = None
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"transcript": self.transcript, "file": self.file, "erased": self.done,
                "codings": self.codings, "suggestions": self.suggestions,
                "logs": self.logs, "memo_files": self.memo_files,
                "cache_files": self.cache_files, "case_rows_kept": self.case_rows,
                "exports_to_redo": self.stale_exports}


def plan_erase(project: Project, transcript_id: str) -> ErasePlan:
    """What erasing the transcript would remove (nothing is written)."""
    transcript = project.transcript(transcript_id)
    tid = transcript.id
    plan = ErasePlan(tid, transcript.file)
    store = project.store
    coders = log_coders(store)

    def drop(event: Event) -> Event | None:
        return None if event.get("transcript") == tid else event

    transform: Transform = drop
    compaction = plan_compaction(store, coders, transform)
    kept: list[tuple[Path, Any]] = []
    suggestion_paths = set(store.suggestion_logs().values())
    for path, compacted in compaction.logs:
        # A log is rewritten when it holds the transcript anywhere, taken-back codings
        # (whose text is still in the old lines) included; other logs are left alone.
        if not (compacted.dropped or _mentions(path, tid)):
            continue
        kept.append((path, compacted))
        coder = path.name.split(".")[0]
        counts = plan.suggestions if path in suggestion_paths else plan.codings
        counts[coder] = len(compacted.dropped)
        plan.logs.append(compacted.rel)
    plan.compaction = CompactionPlan(kept)
    plan.memo_files = sorted({m.file for m in project.memos()
                              if m.about.kind == "transcript"
                              and project._canonical_about(m.about).target == tid})
    plan.cache_files = len(_cache_files(project.root))
    plan.case_rows = _case_rows(project, transcript.attributes)
    plan.stale_exports = _exports(project.root)
    return plan


def erase(project: Project, plan: ErasePlan) -> ErasePlan:
    """Carry out ``plan`` as one transaction (no coder may have a session open)."""
    store = project.store
    store.ensure_no_session(log_coders(store), "erasing rewrites every coder's log")
    assert plan.compaction is not None
    with Transaction(project.root, f"erase {plan.transcript}") as transaction:
        transaction.remove(project.root / plan.file)
        stage_compaction(plan.compaction, transaction, force=True)
        for memo_file in plan.memo_files:
            transaction.remove(project.root / memo_file)
        for cached in _cache_files(project.root):
            transaction.remove(cached)
        commit_locked(plan.compaction, transaction)
    for coder in log_coders(store):
        store.forget(coder)
    plan.done = True
    return plan


def _mentions(path: Path, transcript_id: str) -> bool:
    import orjson

    needle = orjson.dumps(transcript_id)
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    if needle not in raw:
        return False
    for line in raw.split(b"\n"):
        if needle in line:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict) and event.get("transcript") == transcript_id:
                return True
    return False


def _cache_files(root: Path) -> list[Path]:
    folder = root / CACHE_DIR
    if folder.is_symlink() or not folder.is_dir():
        return []
    found = []
    for parent, folders, files in os.walk(folder):  # never follows links
        found += [Path(parent) / name for name in files]
        folders[:] = [f for f in folders if not (Path(parent) / f).is_symlink()]
    return sorted(found)


def _case_rows(project: Project, attributes: dict[str, Any]) -> list[str]:
    rows = []
    for table in project.case_tables:
        value = attributes.get(table.key)
        if value is not None and str(value) in table.rows:
            rows.append(f"{table.file}: {table.key}={value}")
    return rows


def _exports(root: Path) -> list[str]:
    """Files in ``exports/`` written before now: any of them may hold the transcript."""
    folder = root / EXPORTS_DIR
    if not folder.is_dir():
        return []
    now = time.time()
    found = []
    for parent, _folders, files in os.walk(folder):
        for name in files:
            path = Path(parent) / name
            try:
                if path.stat().st_mtime <= now:
                    found.append(path.relative_to(root).as_posix())
            except OSError:
                continue
    return sorted(found)
