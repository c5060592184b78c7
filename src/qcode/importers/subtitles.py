"""``.vtt`` and ``.srt``: captions from Zoom, Teams, Whisper and transcription services,
read with webvtt-py and joined into speaker turns.

- A ``<v Name>`` voice tag (Teams) names the speaker of its line. When a file has no
  voice tags, a ``Name:`` prefix (Zoom, numbering tools: ``Speaker 1:``) or
  ``[Name]:`` does. A cue without a speaker continues the current turn.
- Consecutive cues of one speaker merge into one turn; a caption's line wraps become
  spaces.
- Each turn (or paragraph) is followed by a ``%% 00:12:31`` line with the time the turn
  *started*. It stands after the text so that it stays inside its own turn: a line in
  front of the label would belong to the previous passage.
- Without any speaker (plain Whisper output), cues are joined into paragraphs that break
  at pauses of two seconds or more.
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from dataclasses import dataclass

from qcode.importers._common import (
    Imported,
    ImportFailed,
    ImportOptions,
    as_label,
    clean_body,
    hms,
    label_prefix,
    note_speaker_map,
    plural,
    refuse_misnamed,
)
from qcode.importers.plaintext import decode

# The name starts at its first non-space: `\s+([^>]+)` retried every split of a long run
# of spaces. Tags end at the first `<` or `{` too, so no start scans past the next one.
_VOICE = re.compile(r"^\s*<v(?:\.[\w-]+)*\s+([^>\s][^>]*)>")
_BRACKETED = re.compile(r"^\[(?P<name>[^\]\n]{1,40})\]:[ \t]*")
_ASS_TAGS = re.compile(r"\{\\[^{}]*\}")      # {\an8} positioning in SRT files
_CUE_TAG = re.compile(r"<[^<>\n]*>")
_SPACES = re.compile(r"\s+")
PAUSE_SECONDS = 2.0                            # a paragraph break in speaker-less captions
PARAGRAPH_CHARS = 600                          # ... or a long paragraph at a sentence end


@dataclass
class _Cue:
    speaker: str | None
    start: float
    end: float
    text: str


def read(raw: bytes, options: ImportOptions, suffix: str = ".vtt") -> Imported:
    kind = suffix.lstrip(".").lower()
    if not raw.strip():
        raise ImportFailed("is empty", "check that this is the transcript")
    refuse_misnamed(raw, expected="")
    text, encoding, confidence, notes = decode(raw, options.encoding)
    captions = _parse(text, kind)
    imported = Imported("", kind, notes=notes, encoding=encoding, confidence=confidence)
    cues = _cues(captions)
    if not any(c.text for c in cues):
        raise ImportFailed(f"has no caption text ({plural(len(captions), 'cue')}, all empty)",
                           "check that this is the transcript")
    cues = _apply_speaker_map(cues, options.speaker_map, imported)
    if any(c.speaker for c in cues):
        blocks = _turns(cues, options.timestamps, imported)
    else:
        blocks = _paragraphs(cues, options.timestamps, imported)
    imported.text = clean_body("\n\n".join(blocks), imported.notes)
    if options.timestamps:
        imported.notes.append("each turn ends with a `%% HH:MM:SS` line: the time it started")
    return imported


def _parse(text: str, kind: str):
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        if kind == "srt":
            captions = webvtt.WebVTT.from_buffer(io.StringIO(text), format="srt").captions
        else:
            captions = webvtt.WebVTT.from_string(text).captions
    except MalformedFileError as exc:
        expected = ("numbered cues with `00:00:01,000 --> 00:00:04,000` times" if kind == "srt"
                    else "a `WEBVTT` first line and cues with `00:00:01.000 --> ...` times")
        raise ImportFailed(f"is not a valid .{kind} file ({exc}); expected {expected}",
                           "check the file, or import it as .txt") from None
    except (MalformedCaptionError, ValueError) as exc:
        raise ImportFailed(f"has a malformed cue ({exc})", "fix the cue's time line") from None
    if not captions:
        raise ImportFailed(f"has no cues (an empty .{kind} file)",
                           "check that this is the transcript")
    return captions


def _cues(captions) -> list[_Cue]:
    """One ``_Cue`` per speaker stretch of each caption, voice tags first."""
    voiced = any(_VOICE.match(line) for c in captions for line in c.lines)
    cues: list[_Cue] = []
    previous_last_line = None
    for caption in captions:
        start, end = caption.start_time.in_milliseconds() / 1000, \
            caption.end_time.in_milliseconds() / 1000
        lines = list(caption.lines)
        # Rolling captions repeat the previous cue's last line first: drop the repeat.
        if previous_last_line is not None and len(lines) > 1 and \
                _plain(lines[0]) == previous_last_line:
            lines = lines[1:]
        if lines:
            previous_last_line = _plain(lines[-1])
        for line in lines:
            speaker = None
            if voiced:
                match = _VOICE.match(line)
                speaker = match.group(1).strip() if match else None
                line_text = _plain(line)
            else:
                line_text = _plain(line)
                bracketed = _BRACKETED.match(line_text)
                prefixed = label_prefix(line_text)
                if bracketed:
                    speaker, line_text = bracketed.group("name").strip(), \
                        line_text[bracketed.end():]
                elif prefixed:
                    speaker, line_text = prefixed
            if speaker is None and cues and cues[-1].start == start and cues[-1].end == end:
                cues[-1].text = f"{cues[-1].text} {line_text}".strip()
            else:
                cues.append(_Cue(speaker, start, end, line_text))
    return [c for c in cues if c.text or c.speaker]


def _plain(line: str) -> str:
    """A caption line without cue tags and entities, spaces collapsed."""
    text = _CUE_TAG.sub("", _ASS_TAGS.sub("", line))
    return _SPACES.sub(" ", html.unescape(text)).strip()


def _apply_speaker_map(cues: list[_Cue], mapping: dict[str, str],
                       imported: Imported) -> list[_Cue]:
    """Map raw speaker names, then make every name a valid label (and say so)."""
    used: Counter[str] = Counter()
    unmapped: Counter[str] = Counter()
    renamed: dict[str, str] = {}
    unnamed = 0
    for cue in cues:
        if cue.speaker is None:
            continue
        raw = cue.speaker
        if mapping:
            if raw in mapping:
                used[raw] += 1
                cue.speaker = mapping[raw]
                continue
            unmapped[raw] += 1
        if raw not in renamed:
            label = as_label(raw)
            if label is None:
                unnamed += 1
                label = f"Speaker {unnamed}"
            renamed[raw] = label
        cue.speaker = renamed[raw]
    note_speaker_map(used, unmapped, imported, unit="cue")
    changed = {raw: label for raw, label in renamed.items() if raw != label}
    if changed:
        imported.notes.append("speaker names made into labels: " + ", ".join(
            f"{raw!r} → {label!r}" for raw, label in changed.items()))
    return cues


def _turns(cues: list[_Cue], timestamps: bool, imported: Imported) -> list[str]:
    blocks: list[str] = []
    speaker: str | None = None
    texts: list[str] = []
    started = 0.0

    def flush() -> None:
        if not texts:
            return
        body = " ".join(t for t in texts if t)
        block = f"{speaker}: {body}" if speaker else body
        blocks.append(block + (f"\n%% {hms(started)}" if timestamps else ""))

    for cue in cues:
        if (cue.speaker is not None and cue.speaker != speaker) or not texts:
            flush()
            speaker = cue.speaker if cue.speaker is not None else speaker
            texts, started = [cue.text], cue.start
        else:
            texts.append(cue.text)
    flush()
    imported.notes.append(f"{plural(len(cues), 'cue')} joined into {plural(len(blocks), 'turn')}")
    if cues and cues[0].speaker is None:
        imported.warnings.append("the first cues name no speaker: they open the transcript "
                                 "without a label")
    return blocks


def _paragraphs(cues: list[_Cue], timestamps: bool, imported: Imported) -> list[str]:
    blocks: list[str] = []
    texts: list[str] = []
    started, last_end = 0.0, 0.0
    for cue in cues:
        long_enough = (sum(len(t) for t in texts) >= PARAGRAPH_CHARS
                       and texts[-1].endswith((".", "?", "!")))
        if texts and (cue.start - last_end >= PAUSE_SECONDS or long_enough):
            blocks.append(" ".join(texts) + (f"\n%% {hms(started)}" if timestamps else ""))
            texts = []
        if not texts:
            started = cue.start
        texts.append(cue.text)
        last_end = cue.end
    if texts:
        blocks.append(" ".join(texts) + (f"\n%% {hms(started)}" if timestamps else ""))
    imported.warnings.append(
        f"no speaker names in the cues: {plural(len(cues), 'cue')} joined into "
        f"{plural(len(blocks), 'paragraph')} at pauses; use `segmentation: paragraphs` or "
        "add speaker labels")
    return blocks
