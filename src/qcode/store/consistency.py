"""The ``qcode check`` rules that hold the logs against the other files: every coding and
every suggestion on a known transcript, with a known (and codable) code, and still on the
text it was made on.

Rules inside one file live with that file's reader (``qcode.format``, ``qcode.store.replay``);
the facade runs them all (``Project.check``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qcode.format.names import did_you_mean
from qcode.problems import Problems
from qcode.store.suggestions import SuggestionLog

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache
    from qcode.format.codebook import Code, Codebook
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import CodingTable
    from qcode.store.log import CodingStore
    from qcode.store.replay import Replay


def check_codings(replay: Replay, rel: str, transcripts: dict[str, Transcript],
                  codebook: Codebook | None, cache: Cache, problems: Problems) -> None:
    """Every current coding of one log against its transcript and the codebook.

    Reads the coding table's columns. Whether a coding's span still holds its text
    depends only on its log line and its transcript's content, so the answer is kept in
    the cache (``check/<coder>.json``) per transcript content hash, under the log's
    lineage: the next check compares only codings on changed transcripts and new lines.
    """
    table = replay.table
    name = f"check/{table.coder}.json"
    known = cache.load(name) or {}
    verified, upto, failed_before = known.get("transcripts"), known.get("upto_line"), \
        known.get("failing_lines")
    if (known.get("lineage") != replay.lineage or not isinstance(verified, dict)
            or type(upto) is not int or not isinstance(failed_before, list)):
        verified, upto, failed_before = {}, 0, []
    failed_before = {line for line in failed_before if type(line) is int}
    failing: list[int] = []
    resolved: dict[str, Code | None] = {}
    for row, (transcript_id, start, end, code_id, line) in enumerate(zip(
            table.transcripts, table.starts, table.ends, table.codes, table.lines,
            strict=True)):
        transcript = transcripts.get(transcript_id)
        if code_id in resolved:
            code = resolved[code_id]
        else:
            code = resolved[code_id] = codebook.resolve(code_id) if codebook else None
        # The common case first, kept short: this runs for every coding of every coder.
        if transcript is not None and code is not None and code.codable:
            if line <= upto and line not in failed_before and transcript.sha256 is not None \
                    and verified.get(transcript_id) == transcript.sha256:
                continue
            if end <= transcript.body_length and table.text_matches(
                    row, transcript.body[start:end]):
                continue
        if _report_coding(rel, table, row, transcript, code, transcripts, codebook, problems):
            failing.append(line)
    cache.save(name, {
        "lineage": replay.lineage, "upto_line": max(table.lines, default=0),
        "transcripts": {t.id: t.sha256 for t in transcripts.values() if t.sha256},
        "failing_lines": failing,
    })


def _report_coding(rel: str, table: CodingTable, row: int, transcript: Transcript | None,
                   code: Code | None, transcripts: dict[str, Transcript],
                   codebook: Codebook | None, problems: Problems) -> bool:
    """Report what is wrong with one coding; whether its span or text was wrong."""
    coding_id, transcript_id, code_id = table.ids[row], table.transcripts[row], table.codes[row]
    start, end, line = table.starts[row], table.ends[row], table.lines[row]
    where = f"coding {coding_id} ({code_id} on {transcript_id} {start}:{end})"
    if transcript is None:
        guess = did_you_mean(transcript_id, transcripts)
        problems.error("coding-unknown-transcript", rel, line,
                       f"{where}: unknown transcript {transcript_id!r}",
                       f"did you mean {guess[0]!r}?" if guess
                       else "restore the transcript or remove the coding")
    if codebook is not None:
        if code is None:
            guess = did_you_mean(code_id, codebook.ids)
            problems.error("coding-unknown-code", rel, line,
                           f"{where}: unknown code {code_id!r}",
                           f"did you mean {guess[0]!r}? (a renamed code keeps its old id "
                           "in `aliases`)" if guess
                           else "add the code, or its old id to a code's `aliases`")
        elif not code.codable:
            problems.error("coding-not-codable", rel, line,
                           f"{where}: code {code.id!r} is a grouping folder (codable: false)",
                           "move the coding to one of its children")
    if transcript is None:
        return False
    if end > transcript.body_length:
        problems.error("coding-span-outside", rel, line,
                       f"{where}: span ends past the body of {transcript.file} "
                       f"({transcript.body_length} characters)",
                       "the transcript got shorter since coding; restore it or re-code")
    elif not table.text_matches(row, transcript.body[start:end]):
        problems.error("coding-text-mismatch", rel, line,
                       f"{where}: the text at the span no longer matches what was coded; "
                       f"{transcript.file} changed since coding",
                       f"run `qcode reanchor {transcript_id}` to move it onto its text")
    else:
        return False
    return True


def check_suggestion_logs(store: CodingStore, transcripts: dict[str, Transcript],
                          codebook: Codebook | None, problems: Problems) -> None:
    """The `qcode check` rules for suggestions logs: readable events, known transcripts and
    codes, and pending suggestions still on their text."""
    for coder in store.suggestion_logs():
        log = SuggestionLog(store, coder)
        state = log.read()
        problems.extend(state.problems)
        for suggestion in state.suggestions.values():
            where = (f"suggestion {suggestion.id} ({suggestion.code} on {suggestion.transcript} "
                     f"{suggestion.start}:{suggestion.end})")
            transcript = transcripts.get(suggestion.transcript)
            if transcript is None:
                guess = did_you_mean(suggestion.transcript, transcripts)
                problems.error("suggestion-unknown-transcript", log.rel, suggestion.line,
                               f"{where}: unknown transcript {suggestion.transcript!r}",
                               f"did you mean {guess[0]!r}?" if guess
                               else "restore the transcript; `qcode autocode` withdraws "
                                    "suggestions only for transcripts it sees")
            if codebook is not None and codebook.resolve(suggestion.code) is None:
                guess = did_you_mean(suggestion.code, codebook.ids)
                problems.error("suggestion-unknown-code", log.rel, suggestion.line,
                               f"{where}: unknown code {suggestion.code!r}",
                               f"did you mean {guess[0]!r}? (a renamed code keeps its old id "
                               "in `aliases`)" if guess else "add the code, or its old id to "
                               "a code's `aliases`")
            if (transcript is not None and suggestion.status == "pending"
                    and transcript.body[suggestion.start:suggestion.end] != suggestion.text):
                problems.warning("suggestion-stale", log.rel, suggestion.line,
                                 f"{where}: the transcript changed since it was proposed",
                                 f"run `qcode autocode --coder {coder}` to withdraw it and "
                                 "propose again")
