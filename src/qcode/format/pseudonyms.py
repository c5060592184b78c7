"""The pseudonymisation key: a CSV file ``original,replacement,kind`` kept apart from the
project, and the one way of finding and replacing its originals in text.

Every part of qcode that looks for names (``pseudonymise scan``, ``apply``, ``verify``,
the ``identifier-residue`` check, ``segments --reveal``) goes through ``KeyMatcher``, so
an inflected name found by one is found by all. A name is matched case-insensitively and
in the forms Norwegian and English give it: the genitive («Olas», «Ola's», «Lars'») and
hyphenated compounds («Ola-prosjektet», «Voss-skolen»). The suffix stays and only the
name is replaced: «Olas» becomes «[Person A]s».

Kinds: ``person``, ``school``, ``place``, ``organisation``, ``other`` are replaced; ``?``
marks a candidate not yet reviewed (not replaced, but still an identifier for the
residue check); ``none`` records a reviewer's decision that a word does not identify
anyone, so the scan does not propose it again.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qcode.errors import InvalidKey, UsageError

KINDS = ("person", "school", "place", "organisation", "other")
UNREVIEWED = "?"
NOT_IDENTIFYING = "none"
ALL_KINDS = (*KINDS, UNREVIEWED, NOT_IDENTIFYING)
HEADER = ("original", "replacement", "kind")
KEY_ENV = "QCODE_KEY"

# Placeholder stems per kind and language: `[Person A]`, `[Skole 3]`.
_STEMS = {
    "en": {"person": "Person", "school": "School", "place": "Place",
           "organisation": "Organisation", "other": "Other"},
    "no": {"person": "Person", "school": "Skole", "place": "Sted",
           "organisation": "Organisasjon", "other": "Annet"},
}
_LETTERED = {"person"}  # people are lettered (Person A, B ...), the rest numbered
_NORWEGIAN = {"no", "nb", "nn", "nob", "nno", "nor"}
# After a name: a genitive (s, 's, ’s, or a lone apostrophe after s/x/z), then no letter.
_SUFFIX = r"(?:['’]s|s|(?<=[sSxXzZ])['’])?"


@dataclass(frozen=True)
class KeyEntry:
    """One row of the key. ``line`` is its line in the key file (0: not saved yet)."""

    original: str
    replacement: str
    kind: str
    line: int = 0

    @property
    def replaces(self) -> bool:
        """Whether ``apply`` replaces this original (a reviewed identifier)."""
        return self.kind in KINDS and bool(self.replacement)

    @property
    def identifying(self) -> bool:
        """Whether this original must not remain in shared data (everything but
        ``none``: an unreviewed candidate counts until someone decides)."""
        return self.kind != NOT_IDENTIFYING


@dataclass
class PseudonymKey:
    """A key file's rows, in file order."""

    entries: list[KeyEntry] = field(default_factory=list)
    path: Path | None = None

    # -- reading and writing -----------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PseudonymKey:
        """Read and validate a key file; ``InvalidKey`` names the file and line."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InvalidKey(f"{path}: no such key file",
                             "give the key's path with --key or QCODE_KEY; "
                             "`qcode pseudonymise scan --add-to-key PATH` starts one") from None
        except OSError as exc:
            raise InvalidKey(f"{path}: cannot read the key file ({exc.strerror})",
                             "check the path and its permissions") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise InvalidKey(f"{path}:{line}: the key file is not UTF-8",
                             "save it as UTF-8 (CSV UTF-8 in a spreadsheet)") from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path | None = None) -> PseudonymKey:
        shown = str(path) if path is not None else "<key>"
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows or [c.strip().lower() for c in rows[0]] != list(HEADER):
            raise InvalidKey(f"{shown}:1: a key file starts with the header "
                             f"{','.join(HEADER)}",
                             "add that line at the top (columns in that order)")
        key = cls(path=path)
        seen: dict[str, KeyEntry] = {}
        line = 1
        for row in rows[1:]:
            line += 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise InvalidKey(f"{shown}:{line}: expected 3 columns "
                                 f"({','.join(HEADER)}), found {len(row)}",
                                 "quote a value holding a comma with double quotes")
            original, replacement, kind = (cell.strip() for cell in row)
            kind = kind.lower() or UNREVIEWED
            if not original:
                raise InvalidKey(f"{shown}:{line}: the original is empty",
                                 "write the name to replace in the first column")
            if kind not in ALL_KINDS:
                raise InvalidKey(f"{shown}:{line}: unknown kind {kind!r}",
                                 f"use one of {', '.join(ALL_KINDS)}")
            if kind in KINDS and not replacement:
                raise InvalidKey(f"{shown}:{line}: {original!r} has no replacement",
                                 "write one (e.g. [Person A]) or set the kind to ? "
                                 "until it is reviewed")
            folded = original.casefold()
            earlier = seen.get(folded)
            if earlier is not None:
                raise InvalidKey(f"{shown}:{line}: {original!r} is already in the key "
                                 f"at line {earlier.line}", "keep one row per original")
            entry = KeyEntry(original, replacement, kind, line)
            seen[folded] = entry
            key.entries.append(entry)
            line += sum(cell.count("\n") for cell in row)
        key._check_replacements(shown)
        return key

    def _check_replacements(self, shown: str) -> None:
        """A replacement must not itself hold an original: applying the key twice would
        then change the text again, and the residue check could never pass."""
        matcher = self.matcher()
        for entry in self.entries:
            if not entry.replaces:
                continue
            for match in matcher.finditer(entry.replacement):
                raise InvalidKey(f"{shown}:{entry.line}: the replacement "
                                 f"{entry.replacement!r} contains {match.entry.original!r}, "
                                 f"an original of line {match.entry.line}",
                                 "choose a placeholder that names no one, e.g. [Person A]")

    def dumps(self) -> str:
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for entry in self.entries:
            writer.writerow((entry.original, entry.replacement, entry.kind))
        return out.getvalue()

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the key atomically, readable by its owner only; returns the path."""
        from qcode.format.files import atomic_output

        target = Path(path) if path is not None else self.path
        if target is None:
            raise UsageError("the key has no file yet", "name one with --key PATH")
        with atomic_output(target, overwrite=True) as handle:
            handle.write(self.dumps().encode("utf-8"))
        os.chmod(target, 0o600)
        self.path = target
        self.entries = PseudonymKey.parse(self.dumps(), target).entries
        return target

    # -- using ------------------------------------------------------------------------

    def get(self, original: str) -> KeyEntry | None:
        folded = original.casefold()
        return next((e for e in self.entries if e.original.casefold() == folded), None)

    def add(self, original: str, kind: str = UNREVIEWED, replacement: str | None = None,
            language: str | None = None) -> KeyEntry:
        """Add (or update) the row for ``original``; a reviewed kind without a
        replacement gets the next free placeholder of that kind."""
        if kind not in ALL_KINDS:
            raise UsageError(f"unknown kind {kind!r}", f"use one of {', '.join(ALL_KINDS)}")
        if replacement is None:
            replacement = self.placeholder(kind, language) if kind in KINDS else ""
        entry = KeyEntry(original, replacement, kind)
        old = self.get(original)
        if old is not None:
            entry = KeyEntry(original, replacement, kind, old.line)
            self.entries[self.entries.index(old)] = entry
        else:
            self.entries.append(entry)
        return entry

    def placeholder(self, kind: str, language: str | None = None) -> str:
        """The next unused bracketed placeholder for ``kind``: ``[Person C]``,
        ``[Skole 4]`` (Norwegian stems when ``language`` is Norwegian)."""
        stems = _STEMS["no" if (language or "").lower() in _NORWEGIAN else "en"]
        stem = stems.get(kind, stems["other"])
        used = {e.replacement for e in self.entries}
        n = 0
        while True:
            label = _letters(n) if kind in _LETTERED else str(n + 1)
            candidate = f"[{stem} {label}]"
            if candidate not in used:
                return candidate
            n += 1

    def identifying(self) -> list[KeyEntry]:
        return [e for e in self.entries if e.identifying]

    def replacing(self) -> list[KeyEntry]:
        return [e for e in self.entries if e.replaces]

    def matcher(self, entries: Iterable[KeyEntry] | None = None) -> KeyMatcher:
        """A matcher for ``entries`` (default: every identifying original)."""
        return KeyMatcher(self.identifying() if entries is None else list(entries))


def _letters(n: int) -> str:
    label = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


@dataclass(frozen=True)
class KeyMatch:
    """An original found in text: ``start:end`` is the name itself; ``suffix_end`` also
    covers an inflection (genitive) that stays when the name is replaced."""

    start: int
    end: int
    suffix_end: int
    entry: KeyEntry


class KeyMatcher:
    """Finds a key's originals in text, longest first («Ola Nordmann» before «Ola»)."""

    def __init__(self, entries: Iterable[KeyEntry]) -> None:
        self.entries = list(entries)
        self._by_folded = {e.original.casefold(): e for e in self.entries}
        names = sorted(self._by_folded, key=len, reverse=True)
        if not names:
            self._pattern: re.Pattern[str] | None = None
            return
        alternatives = "|".join(r"\s+".join(re.escape(part) for part in name.split())
                                for name in names)
        # The first letters as a class ahead of the alternation let the regex engine skip
        # most positions at once: 2-3 times faster over a large log.
        firsts = "".join(sorted({re.escape(ch) for name in names
                                 for ch in (name[0], name[0].upper())}))
        self._pattern = re.compile(rf"(?=[{firsts}])(?<!\w)({alternatives})({_SUFFIX})(?!\w)",
                                   re.IGNORECASE)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def finditer(self, text: str) -> Iterator[KeyMatch]:
        if self._pattern is None:
            return
        for m in self._pattern.finditer(text):
            entry = self._by_folded.get(" ".join(m.group(1).split()).casefold())
            if entry is None:  # whitespace inside a name differs: find it by pattern
                entry = self._entry_for(m.group(1))
            yield KeyMatch(m.start(1), m.end(1), m.end(2), entry)

    def _entry_for(self, found: str) -> KeyEntry:
        words = found.split()
        for entry in self.entries:
            if [w.casefold() for w in entry.original.split()] == [w.casefold() for w in words]:
                return entry
        raise AssertionError(f"matched text {found!r} belongs to no entry")  # pragma: no cover

    def search(self, text: str) -> KeyMatch | None:
        return next(self.finditer(text), None)


@dataclass(frozen=True)
class Edit:
    """One replacement: ``text[start:end]`` (old offsets) became ``replacement``."""

    start: int
    end: int
    replacement: str
    entry: KeyEntry


@dataclass
class Rewrite:
    """Text after replacement, with the edits made and a way to carry offsets across."""

    text: str
    edits: list[Edit]

    def __post_init__(self) -> None:
        self._starts = [e.start for e in self.edits]
        shifts, total = [], 0
        for edit in self.edits:
            total += len(edit.replacement) - (edit.end - edit.start)
            shifts.append(total)
        self._shifts = shifts

    def offset(self, old: int, side: str = "start") -> int:
        """Where old offset ``old`` is in the new text. An offset inside a replaced name
        moves to the replacement's start (``side="start"``) or end (``"end"``), so a
        coding that began or ended inside a name still covers the whole placeholder."""
        i = bisect_right(self._starts, old) - 1
        if i < 0:
            return old
        edit = self.edits[i]
        new_start = edit.start + (self._shifts[i - 1] if i else 0)
        if old == edit.start:
            return new_start
        if old < edit.end:
            return new_start if side == "start" else new_start + len(edit.replacement)
        return old + self._shifts[i]


def rewrite_text(text: str, matcher: KeyMatcher) -> Rewrite:
    """``text`` with every original ``matcher`` finds replaced by its replacement
    (entries that do not replace, ``?`` and ``none``, are left as they are)."""
    parts: list[str] = []
    edits: list[Edit] = []
    last = 0
    for match in matcher.finditer(text):
        if not match.entry.replaces:
            continue
        parts.append(text[last:match.start])
        parts.append(match.entry.replacement)
        edits.append(Edit(match.start, match.end, match.entry.replacement, match.entry))
        last = match.end
    if not edits:
        return Rewrite(text, [])
    parts.append(text[last:])
    return Rewrite("".join(parts), edits)


# -- where the key may live -----------------------------------------------------------

def key_path(option: str | os.PathLike[str] | None) -> Path | None:
    """The key named by ``--key``, else by ``$QCODE_KEY``, else none."""
    if option:
        return Path(option)
    value = os.environ.get(KEY_ENV, "").strip()
    return Path(value) if value else None


def key_location_problem(root: Path, path: Path) -> str | None:
    """Why a key at ``path`` is in the wrong place for the project at ``root`` (None if
    it is outside the project, or inside it but ignored by git and not under a folder
    qcode writes exports to)."""
    try:
        inside = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return None
    if inside.parts and inside.parts[0] in ("exports", ".qcode"):
        return (f"the key {inside.as_posix()} is inside {inside.parts[0]}/, which qcode "
                "writes and people share; keep the key outside the project")
    if not _git_ignored(root, path):
        return (f"the key {inside.as_posix()} is inside the project and not ignored by git, "
                "so a commit would publish every original; keep it outside the project "
                "(or add it to .gitignore)")
    return None


def _git_ignored(root: Path, path: Path) -> bool:
    try:
        result = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", str(path)],
                                capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False  # no git: nothing proves it ignored
    return result.returncode == 0
