"""The names ``qcode pseudonymise apply`` changes besides text: transcript ids that hold
an original (``borgund-principal``), and the settings files that name data values.

A transcript id names its file, its codings and suggestions (their ``transcript``
field), the memos about it (``about: transcript:ID`` and their file names) and its kept
REFI-QDA GUID (the codebook's ``.guids.yaml`` sidecar), so an id that holds an original
would leak it in every log line. Such an id gets the key applied and is made an id again
(``[Skole 1]-principal`` -> ``skole-1-principal``: lower case ASCII letters, digits and
``-``), unique among the project's ids and transcript file names (``-2``, ``-3``...);
the file is renamed to it (or keeps its name when the name never held the id and names
no original). ``qcode.coding.pseudonymise`` writes every change in its one transaction.

``qcode.yaml`` holds data too: the declared ``values:`` of an attribute (``school:
values: [Borgund, ...]``) must follow the renamed values or every transcript fails
``check``, and ``interviewer:`` lists speaker labels the transcripts spell. Those are
rewritten where they stand, nothing else in the file; names of attributes and columns
are names, not data, and stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from qcode.errors import UsageError
from qcode.format.memos import parse_about
from qcode.format.pseudonym_files import ValueRewriter, rewrite_yaml_scalars
from qcode.format.pseudonyms import Edit, KeyMatcher, rewrite_text
from qcode.format.text import ascii_fold
from qcode.store.corpus import Corpus

ID_MAX = 100  # as ``NEW_ID_RE`` allows a transcript id qcode writes
GUIDS_SUFFIX = ".guids.yaml"  # as qcode.interchange.guids.sidecar_path names the sidecar


@dataclass(frozen=True)
class IdRename:
    """A transcript's id and file, before and after."""

    old: str
    new: str
    old_file: str
    new_file: str


def slug_id(text: str, fallback: str = "transcript") -> str:
    """``text`` as a transcript id: ASCII lower case letters and digits, runs of
    anything else one ``-`` (``[Skole 1]-Rektor`` -> ``skole-1-rektor``)."""
    folded = ascii_fold(text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    return slug[:ID_MAX].rstrip("-") or fallback


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3``... the first not in ``taken`` (compared
    without case: a file system may not tell ``A.md`` from ``a.md``); recorded there."""
    folded = {name.casefold() for name in taken}
    candidate, number = base, 2
    while candidate.casefold() in folded:
        suffix = f"-{number}"
        candidate = base[:ID_MAX - len(suffix)].rstrip("-") + suffix
        number += 1
    taken.add(candidate)
    return candidate


def plan_id_renames(corpus: Corpus, matcher: KeyMatcher) -> dict[str, IdRename]:
    """Old id -> its rename, for every transcript whose id or file name holds an
    original (a file whose name alone holds one keeps its id and gets a new name)."""
    transcripts = corpus.transcripts
    taken = {t.id for t in transcripts} | {PurePosixPath(t.file).stem for t in transcripts}
    renames: dict[str, IdRename] = {}
    for transcript in transcripts:
        file = PurePosixPath(transcript.file)
        new_id = transcript.id
        if matcher.search(transcript.id):
            new_id = unique_id(slug_id(rewrite_text(transcript.id, matcher).text), taken)
        if file.stem == transcript.id:
            stem = new_id
        elif matcher.search(file.stem):
            stem = unique_id(slug_id(rewrite_text(file.stem, matcher).text), taken)
        else:
            stem = file.stem
        if new_id != transcript.id or stem != file.stem:
            new_file = file.with_name(stem + file.suffix).as_posix()
            renames[transcript.id] = IdRename(transcript.id, new_id, transcript.file,
                                              new_file)
    return renames


def with_new_id(values: ValueRewriter, rename: IdRename | None, has_id: bool
                ) -> ValueRewriter:
    """A transcript's front matter rewriter that also writes its new ``id:`` (only
    where the file has one: else the id is the file's name, renamed with the file)."""
    if rename is None or not has_id or rename.new == rename.old:
        return values

    def rewrite(key: str, value: Any) -> tuple[str, list[Edit]] | None:
        return (rename.new, []) if key == "id" else values(key, value)

    return rewrite


def with_new_about(values: ValueRewriter, ids: dict[str, str]) -> ValueRewriter:
    """A memo's front matter rewriter that also points ``about: transcript:ID`` at the
    transcript's new id."""
    if not ids:
        return values

    def rewrite(key: str, value: Any) -> tuple[str, list[Edit]] | None:
        if key == "about" and isinstance(value, str):
            try:
                about = parse_about(value)
            except UsageError:
                return values(key, value)  # `check` names a broken about: left as it is
            if about.kind == "transcript" and about.target in ids:
                return f"transcript:{ids[about.target]}", []
        return values(key, value)

    return rewrite


def memo_stem(stem: str, ids: dict[str, str]) -> str:
    """A memo file's name with each renamed id in it replaced by the new id (the name
    ``qcode memo`` gave it was ``transcript-<id>``), longest id first."""
    for old in sorted(ids, key=len, reverse=True):  # a new id is a slug: no escapes in it
        stem = re.sub(re.escape(old), ids[old], stem, flags=re.IGNORECASE)
    return stem


def rewrite_config(text: str, rel: str, matcher: KeyMatcher
                   ) -> tuple[str, list[Edit]]:
    """``qcode.yaml`` with the key applied to its data values: the items of each
    attribute's ``values:`` and the ``interviewer:`` labels (see the module's docstring)."""
    edits: list[Edit] = []

    def choose(path: tuple[Any, ...], value: str, is_key: bool) -> str | None:
        declared = len(path) == 4 and path[0] == "attributes" and path[2] == "values"
        if is_key or not (declared or path[:1] == ("interviewer",)):
            return None
        done = rewrite_text(value, matcher)
        edits.extend(done.edits)
        return done.text

    return rewrite_yaml_scalars(text, rel, choose), edits


def rewrite_guids(text: str, rel: str, matcher: KeyMatcher, ids: dict[str, str]
                  ) -> tuple[str, list[Edit]]:
    """The codebook's GUID sidecar with its ``transcripts:`` keys renamed and the key
    applied to the values of its ``cases:`` keys (``school=Borgund``)."""
    edits: list[Edit] = []

    def choose(path: tuple[Any, ...], value: str, is_key: bool) -> str | None:
        if not is_key or len(path) != 2:
            return None
        if path[0] == "transcripts":
            return ids.get(value)
        if path[0] == "cases" and "=" in value:
            attribute, _equals, case = value.partition("=")
            done = rewrite_text(case, matcher)
            edits.extend(done.edits)
            return f"{attribute}={done.text}"
        return None

    return rewrite_yaml_scalars(text, rel, choose), edits


def guids_file(codebook: str) -> str:
    """``codebooks/study.yaml`` -> ``codebooks/study.guids.yaml``."""
    path = PurePosixPath(codebook)
    return path.with_name(path.name.removesuffix(path.suffix) + GUIDS_SUFFIX).as_posix()
