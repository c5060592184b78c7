"""``Corpus``: everything a count or a coding workflow reads, in one value.

The facade (``qcode.project.Project``) builds it once the project's files are read; the
analysis and the coding workflow take it instead of the project, so they never call back
into the facade. Functions that accept "a corpus" also accept anything with a ``corpus``
attribute (a ``Project``), through ``as_corpus``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from qcode.format.attributes import attribute_names
from qcode.format.cases import CaseTable
from qcode.format.codebook import Codebook
from qcode.format.config import ProjectConfig
from qcode.format.transcripts import Transcript, find_transcript
from qcode.problems import Problems
from qcode.store.codings import CodingList, CodingTable
from qcode.store.log import CodingStore

WORDS_ENTRY = "words.json"


@dataclass
class Corpus:
    """The codebook, the transcripts (case attributes joined), the project's settings and
    its coding logs."""

    root: Path
    config: ProjectConfig
    codebook: Codebook
    transcripts_by_id: dict[str, Transcript]
    store: CodingStore
    problems: Problems = field(default_factory=Problems)
    case_tables: list[CaseTable] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.name

    def path(self, configured: str) -> Path:
        """A path named in qcode.yaml (relative to the project), resolved."""
        return (self.root / configured).resolve()

    @property
    def transcripts(self) -> list[Transcript]:
        """Every readable transcript, in file order."""
        return list(self.transcripts_by_id.values())

    def transcript(self, transcript_id: str) -> Transcript:
        return find_transcript(self.transcripts_by_id, transcript_id)

    def word_counts(self) -> dict[str, int]:
        """Each transcript's words (``Transcript.words``), by id. Counting reads every
        body, so the counts are kept in the cache (``words.json``) per file content: a
        command that shows only the counts (``qcode transcripts``) reads no body twice."""
        cache = self.store.cache
        entry = (cache.load(WORDS_ENTRY) if cache is not None else None) or {}
        known = entry.get("files")
        known = known if isinstance(known, dict) else {}
        counts: dict[str, int] = {}
        records: dict[str, list[object]] = {}
        for transcript in self.transcripts:
            record = known.get(transcript.file)
            if (transcript.sha256 is not None and isinstance(record, list)
                    and len(record) == 2 and record[0] == transcript.sha256
                    and type(record[1]) is int):
                counts[transcript.id] = record[1]
            else:
                counts[transcript.id] = transcript.words
            if transcript.sha256 is not None:
                records[transcript.file] = [transcript.sha256, counts[transcript.id]]
        if cache is not None and records != known:
            cache.save(WORDS_ENTRY, {"files": records})
        return counts

    def attribute_names(self) -> list[str]:
        """Declared attributes first (in qcode.yaml order), then the others as first seen."""
        return attribute_names(self.config.attributes, self.transcripts_by_id.values())

    def declared_values(self, attribute: str) -> list[str]:
        spec = self.config.attributes.get(attribute)
        return list(spec.values) if spec is not None and spec.values else []

    @property
    def coders(self) -> list[str]:
        return self.store.coders

    def coders_with_codings(self) -> list[str]:
        return self.store.coders_with_codings()

    def tables(self, coder: str | Iterable[str] | None = None) -> list[CodingTable]:
        return self.store.tables(coder)

    def codings(self, coder: str | Iterable[str] | None = None) -> CodingList:
        return self.store.codings(coder)


class HasCorpus(Protocol):
    @property
    def corpus(self) -> Corpus: ...


def as_corpus(source: Corpus | HasCorpus) -> Corpus:
    """The corpus itself, or the corpus of a project."""
    return source if isinstance(source, Corpus) else source.corpus
