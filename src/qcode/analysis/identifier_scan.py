"""Finding what may identify someone in a project's text: proposals for the key.

``qcode pseudonymise scan`` reads every transcript (front matter values and body) and,
when the whole project is scanned, the memo files, and proposes three kinds of candidate:

* every identifying original of the key, in each inflection ``KeyMatcher`` finds;
* every e-mail address, phone number, national identity number and URL
  (``qcode.format.identifiers``: the same patterns the residue check uses);
* capitalised words and runs of them («Ola Nordmann», «Voss vidaregåande») that are not
  sentence-initial, not a speaker label, not ordinary words (the shipped list
  ``data/ordinary_words.txt``, the codebook's labels, and any word the corpus itself also
  writes in lowercase), and not already in the key under any kind (a ``none`` row is a
  reviewer's "not identifying", remembered).

Candidates are grouped by their text with a count, the transcripts they occur in and the
first few places (file, line, a keyword-in-context snippet). Nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from qcode.analysis.excerpts import keyword_context
from qcode.format.identifiers import find_identifiers
from qcode.format.pseudonyms import KeyMatcher, PseudonymKey
from qcode.format.transcripts import FrontMatterError, Transcript, split_front_matter
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

SOURCES = ("key", "pattern", "capitalised")
CONTEXT_CHARS = 30

# Letters only: «Ola-prosjektet» is «Ola» then «prosjektet», «Ola's» is «Ola» then «s».
_WORD = re.compile(r"[^\W\d_]+")
# What may stand between a sentence's end (or a line's start) and its first word.
_OPENERS = set(" \t\"'«»“”‘’„([{*_-–—•")
_SENTENCE_END = set(".!?:…")
# Lowercase words that complete a name before them: «Voss vidaregåande», «Lier kommune».
_INSTITUTIONS = {
    "school": ("vidaregåande", "videregående", "skule", "skole", "skulen", "skolen",
               "ungdomsskole", "ungdomsskule", "barneskole", "barneskule", "vgs",
               "høgskole", "høgskule", "høyskole", "universitet", "universitetet",
               "school", "college", "university", "academy"),
    "place": ("kommune", "kommunen", "fylkeskommune", "fylke", "municipality", "county"),
    "organisation": ("sykehus", "sjukehus", "sykehjem", "barnehage", "hospital", "as", "asa"),
}
_INSTITUTION_KIND = {word: kind for kind, words in _INSTITUTIONS.items() for word in words}


@dataclass(frozen=True)
class Place:
    """Where a candidate occurs: ``transcript`` is empty for a memo."""

    file: str
    line: int
    transcript: str
    snippet: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "transcript": self.transcript or None,
                "context": self.snippet}


@dataclass
class Candidate:
    """One proposed original: ``kind`` is the key's kind for a key original, the
    pattern's kind (``email``, ``phone``, ``national-id``, ``url``) or a guess from an
    institution word, else ``?``."""

    text: str
    kind: str
    source: str
    count: int = 0
    transcripts: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)

    @property
    def in_key(self) -> bool:
        return self.source == "key"

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "kind": self.kind, "source": self.source,
                "count": self.count, "transcripts": list(self.transcripts),
                "places": [p.to_dict() for p in self.places]}


@dataclass
class ScanResult:
    candidates: list[Candidate]
    transcripts: list[str]
    memo_files: int = 0

    def new(self) -> list[Candidate]:
        """The candidates not in the key yet."""
        return [c for c in self.candidates if not c.in_key]

    def by_text(self, text: str) -> Candidate | None:
        folded = text.casefold()
        return next((c for c in self.candidates if c.text.casefold() == folded), None)


@cache
def ordinary_words() -> frozenset[str]:
    """The shipped list of ordinary capitalised-able words, casefolded."""
    text = resources.files("qcode.analysis").joinpath("data/ordinary_words.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


@dataclass
class _Text:
    """One stretch of text to scan: a transcript body, a front matter value, a memo."""

    file: str
    transcript: str
    text: str
    first_line: int
    labels: list[tuple[int, int]] = field(default_factory=list)
    is_value: bool = False  # a front matter value: its first word starts no sentence
    key: str = ""           # the front matter key, shown in the snippet

    def line_of(self, offset: int) -> int:
        return self.first_line + self.text.count("\n", 0, offset)

    def snippet(self, start: int, end: int) -> str:
        if self.is_value:
            return f"{self.key}: {self.text[:start]}**{self.text[start:end]}**{self.text[end:]}"
        left, right = keyword_context(self.text, start, end, 0, len(self.text),
                                      CONTEXT_CHARS)
        hit = " ".join(self.text[start:end].split())
        return f"{left}**{hit}**{right}"


class _Groups:
    def __init__(self, max_places: int) -> None:
        self.max_places = max_places
        self.groups: dict[tuple[str, str], Candidate] = {}

    def add(self, source: str, text: str, kind: str, where: _Text, start: int,
            end: int) -> None:
        shown = " ".join(text.split())
        group_key = (source, shown.casefold())
        candidate = self.groups.get(group_key)
        if candidate is None:
            candidate = self.groups[group_key] = Candidate(shown, kind, source)
        candidate.count += 1
        if where.transcript and where.transcript not in candidate.transcripts:
            candidate.transcripts.append(where.transcript)
        if len(candidate.places) < self.max_places:
            candidate.places.append(Place(where.file, where.line_of(start), where.transcript,
                                          where.snippet(start, end)))


def scan(source: Corpus | HasCorpus, transcripts: Iterable[str] | None = None,
         key: PseudonymKey | None = None, max_places: int = 3,
         memos: bool | None = None) -> ScanResult:
    """Candidates in ``transcripts`` (default: all, and then the memo files too, unless
    ``memos`` says otherwise), grouped by text, each with up to ``max_places`` places."""
    corpus = as_corpus(source)
    chosen = ([corpus.transcript(t) for t in dict.fromkeys(transcripts)]
              if transcripts else corpus.transcripts)
    if memos is None:
        memos = not transcripts
    texts: list[_Text] = []
    for transcript in chosen:
        texts += _transcript_texts(corpus, transcript)
    memo_texts = _memo_texts(corpus) if memos else []
    texts += memo_texts
    key = key or PseudonymKey()
    groups = _Groups(max_places)
    everything = KeyMatcher(key.entries)
    lowercase = _lowercase_words(texts)
    ordinary = ordinary_words() | _codebook_words(corpus) | lowercase
    for where in texts:
        taken: list[tuple[int, int]] = list(where.labels)
        for match in everything.finditer(where.text):
            taken.append((match.start, match.suffix_end))
            if match.entry.identifying:
                groups.add("key", match.entry.original, match.entry.kind, where,
                           match.start, match.suffix_end)
        for found in find_identifiers(where.text):
            if _free(taken, found.start, found.end):
                taken.append((found.start, found.end))
                groups.add("pattern", found.text, found.kind, where, found.start, found.end)
        for start, end, kind in _capitalised_runs(where, ordinary, taken):
            groups.add("capitalised", where.text[start:end], kind, where, start, end)
    # The key's originals go by their key spelling, so every inflection counts once.
    for candidate in groups.groups.values():
        if candidate.source == "key":
            entry = key.get(candidate.text)
            candidate.text = entry.original if entry is not None else candidate.text
    rank = {name: i for i, name in enumerate(SOURCES)}
    ordered = sorted(groups.groups.values(),
                     key=lambda c: (rank[c.source], -c.count, c.text.casefold()))
    return ScanResult(ordered, [t.id for t in chosen], len({t.file for t in memo_texts}))


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def _untaken_words(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans of the words of ``text`` that overlap no taken span, in one sweep over
    both (a transcript has a taken span per speaker label: checking each word against
    all of them was quadratic)."""
    merged: list[list[int]] = []
    for start, end in sorted(taken):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    words, i = [], 0
    for m in _WORD.finditer(text):
        start, end = m.start(), m.end()
        while i < len(merged) and merged[i][1] <= start:
            i += 1
        if i == len(merged) or end <= merged[i][0]:
            words.append((start, end))
    return words


def _transcript_texts(corpus: Corpus, transcript: Transcript) -> list[_Text]:
    texts = []
    declared = {name for name, spec in corpus.config.attributes.items() if spec.values}
    for name, value in transcript.front_matter.items():
        # Declared categories (informant_group: teacher) and the id name no one.
        if name == "id" or name in declared or not isinstance(value, str):
            continue
        texts.append(_Text(transcript.file, transcript.id, value,
                           transcript.front_lines.get(name, 1), is_value=True, key=name))
    body = transcript.body
    labels = []
    for passage in transcript.passages:
        if passage.speaker:
            colon = body.find(":", passage.start, passage.end + 1)
            if colon != -1:
                labels.append((passage.start, colon))
    texts.append(_Text(transcript.file, transcript.id, body, transcript.body_line, labels))
    return texts


def _memo_texts(corpus: Corpus) -> list[_Text]:
    from qcode.format.memos import discover_memos
    from qcode.format.text import normalize

    folder = corpus.path(corpus.config.memos)
    base = Path(corpus.config.memos).as_posix().rstrip("/")
    texts = []
    for path, rel in discover_memos(folder):
        try:
            _front, body, body_line, _lines = split_front_matter(
                normalize(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, FrontMatterError):
            continue  # `qcode check` reports an unreadable memo; nothing to propose here
        texts.append(_Text(f"{base}/{rel}", "", body, body_line))
    return texts


def _codebook_words(corpus: Corpus) -> set[str]:
    words: set[str] = set()
    for code in corpus.codebook:
        for text in (code.id, code.label or ""):
            words.update(w.casefold() for w in _WORD.findall(text))
    return words


def _lowercase_words(texts: list[_Text]) -> set[str]:
    """Words the corpus writes in lowercase somewhere: «Skolen» at a line's start is the
    ordinary «skolen», while a name is capitalised wherever it stands."""
    words: set[str] = set()
    for where in texts:
        if where.is_value:
            continue
        text = where.text
        # «kari.hansen@skole.no» writes no word in lowercase: addresses are left out
        for found in reversed(list(find_identifiers(text))):
            text = text[:found.start] + " " + text[found.end:]
        words.update(w for w in _WORD.findall(text) if w[0].islower())
    return words


def _capitalised(word: str) -> bool:
    return word[0].isupper() and len(word) > 1


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    return i < 0 or text[i] == "\n" or text[i] in _SENTENCE_END


def _capitalised_runs(where: _Text, ordinary: set[str] | frozenset[str],
                      taken: list[tuple[int, int]]) -> Iterable[tuple[int, int, str]]:
    """Spans (and a guessed kind) of capitalised words or runs of them, joined by one
    space or hyphen, trimmed of ordinary words, a sentence's first word alone dropped."""
    text = where.text
    words = _untaken_words(text, taken)
    i = 0
    while i < len(words):
        start, end = words[i]
        if not _capitalised(text[start:end]):
            i += 1
            continue
        run = [words[i]]
        j = i + 1
        while (j < len(words) and _capitalised(text[words[j][0]:words[j][1]])
               and text[run[-1][1]:words[j][0]] in (" ", "-")):
            run.append(words[j])
            j += 1
        i = j
        while run and text[run[0][0]:run[0][1]].casefold() in ordinary:
            run.pop(0)
        kind = "?"
        follower = words[j] if j < len(words) else None
        institution = (follower is not None and run and run[-1] == words[j - 1]
                       and text[run[-1][1]:follower[0]] == " "
                       and text[follower[0]:follower[1]] in _INSTITUTION_KIND)
        if institution and follower is not None:
            kind = _INSTITUTION_KIND[text[follower[0]:follower[1]]]
            run.append(follower)
        else:
            while run and text[run[-1][0]:run[-1][1]].casefold() in ordinary:
                run.pop()
        if not run:
            continue
        if (len(run) == 1 and not where.is_value
                and _sentence_initial(text, run[0][0])):
            continue
        yield run[0][0], run[-1][1], kind
