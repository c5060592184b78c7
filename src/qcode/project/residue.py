"""The ``check`` rules that need the pseudonymisation key: ``identifier-residue`` (no
original and no e-mail, phone or national id left anywhere qcode keeps text) and
``key-location`` (the key is not where a commit or an export would publish it).

They run only when a key is given (``qcode check --key PATH`` or ``$QCODE_KEY``); the
scan itself is ``qcode.interchange.residue``, shared with ``qcode pseudonymise verify``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qcode.format.cache import CACHE_DIR
from qcode.format.pseudonyms import UNREVIEWED, PseudonymKey, key_location_problem
from qcode.interchange.residue import Finding, ResidueReport, ResidueScanner, walk_files

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.config import ProjectConfig
    from qcode.problems import Problems

EXPORTS = "exports"

_HINTS = {
    "transcripts": "`qcode pseudonymise apply --key KEY` replaces it in transcripts, logs "
                   "and memos",
    "codings": "`qcode pseudonymise apply --key KEY` rewrites the logs (compacted) with "
               "the pseudonymised text",
    "memos": "`qcode pseudonymise apply --key KEY` replaces it in memos, or edit the memo",
    "cases": "`qcode pseudonymise apply --key KEY` replaces it in case tables too (or edit "
             "the cell by hand)",
    "cache": "delete .qcode/cache/ (it only costs speed; apply drops it too)",
    "exports": "delete this export and make it again after `qcode pseudonymise apply`",
}
# apply passes over a candidate nobody has reviewed: replacing it is not the next step.
_UNREVIEWED_HINT = ("an unreviewed candidate (kind ?) of the key: decide about it with "
                    "`qcode pseudonymise review --key KEY`; apply then replaces it if it "
                    "identifies someone")


def project_places(root: Path, config: ProjectConfig) -> list[tuple[str, Path, str]]:
    """``(place, path, name relative to the project)`` of everything that holds text:
    transcripts, coding and suggestions logs, memos, case tables, the cache, exports."""
    places = [("transcripts", config.transcripts), ("codings", config.codings),
              ("memos", config.memos)]
    places += [("cases", spec.file) for spec in config.cases]
    places += [("cache", CACHE_DIR.as_posix()), ("exports", EXPORTS)]
    out = []
    for place, rel in places:
        path = root / rel
        if path.exists() and not path.is_symlink():
            shown = (path.resolve().relative_to(root).as_posix()
                     if _inside(root, path) else rel)
            out.append((place, path, shown))
    return out


def scan_project(root: Path, config: ProjectConfig, key: PseudonymKey
                 ) -> tuple[ResidueReport, dict[str, str]]:
    """Every identifier left in the project; also which place each scanned file is in."""
    scanner = ResidueScanner(key.matcher())
    skip = {key.path.resolve()} if key.path is not None else set()
    place_of: dict[str, str] = {}
    seen: set[Path] = set()
    for place, path, shown in project_places(root, config):
        resolved = path.resolve()
        if resolved in seen:  # a case table inside the transcripts folder, say
            continue
        seen.add(resolved)
        if path.is_dir():
            for child, rel in walk_files(path):
                if child.resolve() in skip or child.resolve() in seen:
                    continue
                name = f"{shown}/{rel}"
                place_of[name] = place
                scanner.scan_file(child, name)
        elif resolved not in skip:
            place_of[shown] = place
            scanner.scan_file(path, shown)
    return scanner.report, place_of


def check_key(root: Path, config: ProjectConfig, key_file: Path, problems: Problems) -> None:
    """Both key rules, recorded in ``problems``; an unreadable key is an ``InvalidKey``."""
    key = PseudonymKey.load(key_file)
    reason = key_location_problem(root, key_file)
    if reason is not None:
        shown = key_file.resolve().relative_to(root).as_posix()
        problems.error("key-location", shown, None, reason,
                       "move the key outside the project folder and give its path with "
                       "--key or QCODE_KEY")
    report, place_of = scan_project(root, config, key)
    for finding in report.findings:
        problems.error("identifier-residue", finding.file,
                       finding.line if finding.member is None else None,
                       residue_message(finding), _hint(finding, place_of))
    for where, why in report.refused:
        file = where.partition(":")[0] if where.partition(":")[0] in place_of else where
        problems.error("identifier-residue", file, None,
                       f"{where} cannot be searched for identifiers: {why}",
                       "delete it, or replace it with a file qcode can read")
    for where, why in report.not_searched:
        problems.warning("identifier-residue-unsearched", where.partition(":")[0]
                         if where.partition(":")[0] in place_of else where, None,
                         f"{where} was not searched for identifiers ({why})",
                         "check it by hand before sharing it, or leave it out")


def _hint(finding: Finding, place_of: dict[str, str]) -> str | None:
    if finding.entry is not None and finding.entry.kind == UNREVIEWED:
        return _UNREVIEWED_HINT
    return _HINTS.get(place_of.get(finding.file, ""))


def residue_message(finding: Finding) -> str:
    """What was found, never the original itself: ``key line 12 (person) remains``."""
    where = ""
    if finding.member is not None:
        where = f" in {finding.member}" + (f" line {finding.line}"
                                            if finding.line is not None else "")
    if finding.entry is not None:
        return (f"an original of the pseudonymisation key remains{where}: "
                f"{finding.describe()}")
    return f"a direct identifier remains{where}: {finding.describe()}"


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True
