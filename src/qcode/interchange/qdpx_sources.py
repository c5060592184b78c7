"""What a ``.qdpx`` export tells other tools about each source beyond its text: when it was
made (``creationDateTime``) and the attributes it inherits from its case.

QualCoder (and MAXQDA, Quirkos) read document variables from a ``Case`` *without a name*
that refers to exactly one source; QualCoder ignores the sources of named cases, so a
case-table attribute such as ``model`` would otherwise never reach its documents. Each
transcript with inherited attributes therefore gets such a case holding them. Its own
front-matter values stay in the ``TextSource`` (which QualCoder reads too), so no value is
given twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.transcripts import Transcript

# The front-matter keys a source's creation time is read from, the first one that holds a
# date or a date and time; without one, the transcript file's modification time is used.
CREATED_KEYS = ("created", "interview_date", "date")


def source_created(transcript: Transcript, root: Path) -> str | None:
    """The source's ``creationDateTime``: an xsd:dateTime with a zone (UTC ``Z`` when the
    front matter gives none, midnight UTC for a date alone)."""
    for key in CREATED_KEYS:
        moment = _as_datetime(transcript.front_matter.get(key))
        if moment is not None:
            return _xsd(moment)
    try:
        mtime = (root / transcript.file).stat().st_mtime
    except OSError:
        return None
    return _xsd(dt.datetime.fromtimestamp(int(mtime), dt.UTC))


def inherited_values(transcript: Transcript, variables: dict[str, str]) -> dict[str, Any]:
    """The attributes a transcript has from its case table (not its own front matter),
    among the exported ``variables``: what its name-less per-source case carries."""
    return {name: value for name, value in transcript.attributes.items()
            if name in variables and name not in transcript.front_matter
            and value is not None and value != ""}


def parse_created(text: str | None) -> dt.datetime | None:
    """A source's ``creationDateTime`` as an aware datetime (naive ones are UTC)."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = (dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text
                      or " " in text else
                      dt.datetime.combine(dt.date.fromisoformat(text), dt.time()))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _xsd(moment: dt.datetime) -> str:
    moment = moment.replace(microsecond=0)
    if moment.utcoffset() == dt.timedelta(0):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat()
