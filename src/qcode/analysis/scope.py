"""The scope of a count: which coders, which transcripts (``--where`` filters on their
attributes) and which codes. Shared by every command that takes them.

Light on purpose (no pandas): ``autocode`` and the counting commands both use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qcode.errors import QcodeError, UnknownName, UsageError
from qcode.format.attributes import RESERVED_ATTRIBUTE, attribute_text
from qcode.format.names import did_you_mean
from qcode.store.corpus import Corpus, HasCorpus, as_corpus

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript

MISSING = "(missing)"
# Every transcript has this attribute, its id: documents as columns (``--by transcript``)
# and filters (``--where transcript=...``) work on projects without attributes. Reserved:
# qcode check flags a front matter key, declared attribute or case column of this name.
TRANSCRIPT = RESERVED_ATTRIBUTE
_DOCUMENT_WORDS = {"id", "doc", "document", "documents", "file", "source", "transcripts",
                   "transcript_id", "interview"}


def attribute_value(transcript: Transcript, attribute: str) -> object | None:
    """A transcript's value of an attribute; ``transcript`` is its id."""
    if attribute == TRANSCRIPT:
        return transcript.id
    return transcript.attributes.get(attribute)


def known_attributes(corpus: Corpus) -> list[str]:
    """The attributes a count can use: ``transcript``, then the project's own."""
    return [TRANSCRIPT, *(a for a in corpus.attribute_names() if a != TRANSCRIPT)]


def check_attribute(corpus: Corpus, attribute: str) -> None:
    """Refuse an attribute no transcript has, with a did-you-mean."""
    names = known_attributes(corpus)
    if attribute not in names:
        # what other tools call the document is `transcript` here
        guess = ([TRANSCRIPT] if attribute.lower() in _DOCUMENT_WORDS
                 else did_you_mean(attribute, names))
        raise UnknownName("attribute", attribute, guess,
                          hint=f"attributes: {', '.join(names)}")

_WHERE_RE = re.compile(r"\s*([^=!\s]+)\s*(!=|=)\s*(.*?)\s*")


@dataclass(frozen=True)
class Condition:
    """One ``--where`` filter: ``attr=value[,value…]`` or ``attr!=value[,value…]``."""

    attribute: str
    negate: bool
    values: frozenset[str]

    def matches(self, transcript: Transcript) -> bool:
        value = attribute_value(transcript, self.attribute)
        text = MISSING if value is None else attribute_text(value)
        return (text in self.values) != self.negate

    @classmethod
    def parse(cls, expression: str) -> Condition:
        match = _WHERE_RE.fullmatch(expression)
        if not match or not match.group(3):
            raise UsageError(f"--where {expression!r} is not ATTR=VALUE or ATTR!=VALUE",
                             "e.g. --where school=Voss or --where informant_group!=teacher")
        attribute, op, values = match.groups()
        return cls(attribute, op == "!=",
                   frozenset(v.strip() for v in values.split(",") if v.strip()))


def transcripts_where(corpus: Corpus | HasCorpus, where: Iterable[str | Condition]
                      ) -> tuple[list[Condition], list[Transcript]]:
    """Parse and check the conditions (unknown attributes get a did-you-mean) and return
    them with the transcripts that meet them all."""
    corpus = as_corpus(corpus)
    conditions = [c if isinstance(c, Condition) else Condition.parse(c) for c in where]
    for condition in conditions:
        check_attribute(corpus, condition.attribute)
        known = attribute_values(corpus, condition.attribute)
        for value in sorted(condition.values - set(known) - {MISSING}):
            # A value no transcript has would give an empty (or full) answer in silence.
            raise UnknownName(
                f"value of {condition.attribute}", value, did_you_mean(value, known),
                hint=f"{condition.attribute} is one of: {', '.join(known[:12])}"
                     + (", …" if len(known) > 12 else ""))
    return conditions, [t for t in corpus.transcripts
                        if all(c.matches(t) for c in conditions)]


def attribute_values(corpus: Corpus, attribute: str) -> list[str]:
    """The values an attribute has: declared ones first, then the others found."""
    if attribute == TRANSCRIPT:
        return [t.id for t in corpus.transcripts]
    values = corpus.declared_values(attribute)
    for transcript in corpus.transcripts:
        value = transcript.attributes.get(attribute)
        text = MISSING if value is None else attribute_text(value)
        if text not in values:
            values.append(text)
    return values


@dataclass
class Scope:
    """The coders, transcripts and codes a count is made over."""

    coders: list[str]
    transcripts: list[Transcript]
    codes: list[str]  # canonical code ids shown, in codebook order
    where: list[Condition] = field(default_factory=list)


def choose_coders(corpus: Corpus | HasCorpus, coders: Sequence[str] | None = None,
                  all_coders: bool = False) -> list[str]:
    """Whose codings count: the coders named, all of them, the only one, or the project's
    ``primary_coder``; never several coders mixed without saying so."""
    known = as_corpus(corpus).coders
    if coders:
        for coder in coders:
            if coder not in known:
                raise UnknownName("coder", coder, did_you_mean(coder, known),
                                  hint=f"coders with a log: {', '.join(known) or 'none yet'}")
        return list(dict.fromkeys(coders))
    if all_coders or len(known) <= 1:
        return list(known)
    primary = as_corpus(corpus).config.primary_coder
    if primary is None:
        raise UsageError(
            f"this project has {len(known)} coders ({', '.join(known)}); say whose "
            "codings to count", "add --coder NAME (repeatable) or --all-coders, or set "
            "`primary_coder:` in qcode.yaml")
    if primary not in known:
        raise QcodeError(f"primary_coder {primary!r} in qcode.yaml has no coding log",
                         f"coders with a log: {', '.join(known)}")
    return [primary]


def resolve_scope(corpus: Corpus | HasCorpus, coders: Sequence[str] | None = None,
                  all_coders: bool = False, where: Iterable[str | Condition] = (),
                  codes: Iterable[str] | None = None) -> Scope:
    """Check and resolve coder scope, ``--where`` filters and ``--codes`` (with descendants)."""
    corpus = as_corpus(corpus)
    chosen = choose_coders(corpus, coders, all_coders)
    conditions, transcripts = transcripts_where(corpus, where)
    codebook = corpus.codebook
    if codes:
        wanted: set[str] = set()
        for name in codes:
            for part in str(name).split(","):
                if part.strip():
                    wanted.update(codebook.descendants(codebook.require(part.strip()).id))
        shown = [c.id for c in codebook if c.id in wanted and c.id in codebook.parent_of]
    else:
        shown = [c.id for c in codebook if c.id in codebook.parent_of]
    return Scope(chosen, transcripts, shown, conditions)


def case_attributes(corpus: Corpus) -> list[str]:
    """The attribute(s) whose value names a transcript's case (``case:`` in qcode.yaml,
    default the key of the first case table); refused when there is none."""
    configured = corpus.config.case
    names = ([configured] if isinstance(configured, str) else list(configured or [])
             or [spec.key for spec in corpus.config.cases[:1]])
    if not names:
        raise UsageError("this project names no case attribute, so there are no cases "
                         "to count", "add `case: ATTR` (such as `case: school`) to "
                         "qcode.yaml, or count documents (--measure documents)")
    known = known_attributes(corpus)
    for name in names:
        if name not in known:
            raise UnknownName("case attribute", name, did_you_mean(name, known),
                              hint="fix `case:` in qcode.yaml (`qcode check` shows the line)")
    return names


def case_key(transcript: Transcript, attributes: Sequence[str]) -> tuple[str, ...]:
    """The case a transcript belongs to: its values of the case attribute(s). A
    transcript lacking one is a case of its own (its id), never lumped with others."""
    values = [attribute_value(transcript, a) for a in attributes]
    if any(v is None for v in values):
        return (MISSING, transcript.id)
    return tuple(attribute_text(v) for v in values)


def scope_attrs(scope: Scope, **extra) -> dict:
    return {"coders": list(scope.coders), "transcripts": len(scope.transcripts),
            "where": [f"{c.attribute}{'!=' if c.negate else '='}{','.join(sorted(c.values))}"
                      for c in scope.where], **extra}
