"""The ``qcode check`` rules that hold the logs against the other files: every coding and
every suggestion on a known transcript, with a known (and codable) code, and still on the
text it was made on.

Rules inside one file live with that file's reader (``qcode.format``, ``qcode.store.replay``);
the facade runs them all (``Project.check``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qcode.format.cache import MALFORMED_ENTRY
from qcode.format.names import did_you_mean, plural
from qcode.problems import Problem, Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache
    from qcode.format.codebook import Code, Codebook
    from qcode.format.transcripts import Transcript
    from qcode.store.codings import CodingTable
    from qcode.store.log import CodingStore
    from qcode.store.replay import Replay


@dataclass
class LogAudit:
    """What is wrong with a log's current codings, by row of its coding table: the rows
    whose transcript changed under them (the text at the span is no longer what was coded,
    or the span ends past the body), and the rows that cannot count at all (an unknown
    transcript or code, or a grouping folder)."""

    coder: str
    rel: str
    drifted: list[int] = field(default_factory=list)
    left_out: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)  # the same coding again

def check_codings(replay: Replay, rel: str, transcripts: dict[str, Transcript],
                  codebook: Codebook | None, cache: Cache, problems: Problems) -> LogAudit:
    """Every current coding of one log against its transcript and the codebook; the
    problems go to ``problems`` and the rows they concern come back as a ``LogAudit``.

    What it finds depends only on the log's lines, the transcripts' contents and how the
    codebook resolves the logged code ids, so it is kept in the cache
    (``check/<coder>.json``) under the log's lineage: when none of the three changed, the
    audit and its problems are read back without looking at a coding (at 10,000
    transcripts that is most of a counting command's time, and the columns it would read
    stay in the cache). Otherwise whether a coding's span still holds its text is kept per
    transcript content hash, so the next check compares only codings on changed
    transcripts and new lines.
    """
    table = replay.table
    name = f"check/{table.coder}.json"
    known = cache.load(name) or {}
    hashes = {t.id: t.sha256 for t in transcripts.values() if t.sha256}
    state = {"events": replay.events, "rows": len(table),
             "codebook": _resolution(table, codebook),
             # what the problems' wording names besides the codings themselves
             "names": _digest([*(f"{t.id}\0{t.file}" for t in transcripts.values()),
                               "\1", *(codebook.ids if codebook is not None else ())]),
             "every_transcript_hashed": len(hashes) == len(transcripts)}
    kept = _kept_audit(known, replay, state, hashes, table.coder, rel)
    if kept is not None:
        audit, kept_problems = kept
        problems.extend(kept_problems)
        return audit
    verified, upto, failed_before = known.get("transcripts"), known.get("upto_line"), \
        known.get("failing_lines")
    if (known.get("lineage") != replay.lineage or not isinstance(verified, dict)
            or type(upto) is not int or not isinstance(failed_before, list)):
        verified, upto, failed_before = {}, 0, []
    failed_before = {line for line in failed_before if type(line) is int}
    failing: list[int] = []
    audit = LogAudit(table.coder, rel)
    found = Problems()
    seen: dict[tuple[str, int, int, str], int] = {}
    resolved: dict[str, Code | None] = {}
    # Texts the replay already compared with these very bodies as it decoded the log.
    compared, differing = table.checked if table.checked is not None else ({}, set())
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
            key = (transcript_id, start, end, code.id)
            first = seen.setdefault(key, row)
            if first != row:
                _report_duplicate(rel, table, row, first, code.id, found)
                audit.duplicates.append(row)
            if line <= upto and line not in failed_before and transcript.sha256 is not None \
                    and verified.get(transcript_id) == transcript.sha256:
                continue
            if compared and row not in differing and transcript.loaded_body is not None \
                    and compared.get(transcript_id) is transcript.loaded_body:
                continue
            if end <= transcript.body_length and table.text_matches(
                    row, transcript.body[start:end]):
                continue
        else:
            audit.left_out.append(row)
        if _report_coding(rel, table, row, transcript, code, transcripts, codebook, found):
            failing.append(line)
            audit.drifted.append(row)
    problems.extend(found)
    entry = {
        "lineage": replay.lineage, "upto_line": max(table.lines, default=0),
        "transcripts": hashes, "failing_lines": failing,
        "audit": {**state, "drifted": audit.drifted, "left_out": audit.left_out,
                  "duplicates": audit.duplicates,
                  "problems": [problem.to_dict() for problem in found]},
    }
    if any(known.get(key) != value for key, value in entry.items()):
        cache.save(name, entry)  # unchanged: not written again by every warm command
    return audit


def _resolution(table: CodingTable, codebook: Codebook | None) -> list[list[object]]:
    """How the codebook resolves each code id the log uses: all of the codebook an audit
    depends on (renaming a code's label changes nothing; adding an alias does)."""
    known = table.categories.get("codes")
    used = known[0] if known is not None else list(dict.fromkeys(table.codes))
    resolution: list[list[object]] = []
    for code_id in sorted(used):
        code = codebook.resolve(code_id) if codebook is not None else None
        resolution.append([code_id, code.id if code else None, code.codable if code else None])
    return resolution


def _digest(parts: list[str]) -> str:
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


def _kept_audit(known: dict, replay: Replay, state: dict, hashes: dict[str, str],
                coder: str, rel: str) -> tuple[LogAudit, list[Problem]] | None:
    """The audit kept in the cache, when the log, the transcripts and the codebook's
    resolution are all as they were when it was made."""
    kept = known.get("audit")
    if (not isinstance(kept, dict) or known.get("lineage") != replay.lineage
            or not state["every_transcript_hashed"] or known.get("transcripts") != hashes
            or any(kept.get(field) != value for field, value in state.items())):
        return None
    try:
        audit = LogAudit(coder, rel, [int(row) for row in kept["drifted"]],
                         [int(row) for row in kept["left_out"]],
                         [int(row) for row in kept["duplicates"]])
        return audit, [Problem(**problem) for problem in kept["problems"]]
    except MALFORMED_ENTRY:
        return None


def _report_duplicate(rel: str, table: CodingTable, row: int, first: int, code_id: str,
                      problems: Problems) -> None:
    transcript_id, start, end = table.transcripts[row], table.starts[row], table.ends[row]
    problems.warning(
        "coding-duplicate", rel, table.lines[row],
        f"coding {table.ids[row]} ({code_id} on {transcript_id} {start}:{end}) repeats the "
        f"coding at line {table.lines[first]}; it counts once",
        f"`qcode untag {transcript_id} {start}:{end} {code_id} --coder {table.coder}` removes "
        "both; tag it again once")


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
    from qcode.store.suggestions import SuggestionLog  # only `check` reads them

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


# -- what a reading command must say before it answers --------------------------------------

# Problems that make an answer undefined, by what the answer depends on. A file rule
# (yaml-*, file-*) blocks when it is about a file the answer depends on.
_ALWAYS = {"config-schema", "config-unknown-key", "config-not-a-folder",
           "transcripts-missing", "transcript-id-duplicate"}
_BY_USE = {
    "codebook": {"codebook-schema", "codebook-unknown-key", "codebook-too-deep",
                 "code-id-duplicate", "code-alias-collision"},
    "attributes": {"case-table-missing", "case-table-syntax", "case-table-header",
                   "case-key-duplicate"},
}
_FILE_RULES = {"yaml-syntax", "yaml-unsafe-tag", "yaml-duplicate-key", "yaml-too-large",
               "yaml-too-deep",
               "file-missing", "file-unreadable", "file-encoding"}
_TRANSCRIPT_READ = {"transcript-encoding", "transcript-front-matter"}
_LOG_LINES = {"log-invalid-json", "log-invalid-event", "log-duplicate-id",
              "log-coder-name"}
_ATTRIBUTES = {"attribute-missing", "attribute-value", "attribute-type", "case-key-unknown"}


@dataclass
class Assessment:
    """What a reading command must know before it answers: the problems that make its
    answer undefined (``blocking``: it refuses with them), and one line per kind of
    problem that changes the answer without making it undefined (``notes``: said on
    stderr). ``changed`` maps each coded span whose text changed under it (transcript,
    start, end, code) to the text that was coded."""

    blocking: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: dict[tuple[str, int, int, str], str] = field(default_factory=dict)


def assess(problems: Problems, files: dict[str, str], uses: set[str], audits: list[LogAudit],
           tables: dict[str, CodingTable], canonical: Callable[[str], str]) -> Assessment:
    """Sort the problems found so far into what blocks the answer and what it must say.
    ``files`` names the kind of each configured file (``config``, ``codebook``,
    ``cases``) by its path."""
    result = Assessment()
    rest: list[Problem] = []
    unreadable: list[str] = []
    log_lines: list[Problem] = []
    attribute: set[str] = set()
    for problem in problems:
        kind = files.get(problem.file or "")
        if problem.severity == "error" and (
                problem.rule in _ALWAYS
                or any(problem.rule in _BY_USE.get(use, ()) for use in uses)
                or (problem.rule in _FILE_RULES and (kind == "config" or kind in uses
                                                     or (kind == "cases"
                                                         and "attributes" in uses)))):
            result.blocking.append(problem)
        elif problem.rule in _TRANSCRIPT_READ or (problem.rule in _FILE_RULES
                                                  and kind is None):
            unreadable.append(problem.file or "?")
        elif problem.rule in _LOG_LINES or (problem.rule == "log-remove-unknown"
                                            and problem.severity == "error"):
            log_lines.append(problem)
        elif problem.rule in _ATTRIBUTES:
            attribute.add(problem.file or "?")
        elif problem.rule.startswith("coding-"):
            continue  # said below, per log, from the audits
        else:
            rest.append(problem)
    if result.blocking:
        return result
    drifted: dict[str, int] = {}
    left_out = duplicates = 0
    for audit in audits:
        table = tables[audit.coder]
        for row in audit.drifted:
            transcript = table.transcripts[row]
            drifted[transcript] = drifted.get(transcript, 0) + 1
            key = (transcript, table.starts[row], table.ends[row], canonical(table.codes[row]))
            result.changed.setdefault(key, table.text(row))
        left_out += len(set(audit.left_out) - set(audit.drifted))
        duplicates += len(audit.duplicates)
    notes = result.notes
    if drifted:
        count = sum(drifted.values())
        where = ", ".join(sorted(drifted)[:3]) + (", …" if len(drifted) > 3 else "")
        notes.append(f"{plural(count, 'coding')} no longer match their text in "
                     f"{plural(len(drifted), 'transcript')} ({where}); their quotes are marked; "
                     "run `qcode reanchor`")
    if left_out:
        notes.append(f"{plural(left_out, 'coding')} left out: an unknown transcript or code, "
                     "or a grouping folder; run `qcode check` for the list")
    if duplicates:
        notes.append(f"{plural(duplicates, 'coding')} repeat another coding of the same coder "
                     "and count once; run `qcode check` for the list")
    if unreadable:
        shown = ", ".join(sorted(set(unreadable))[:3])
        notes.append(f"{plural(len(set(unreadable)), 'transcript file')} cannot be read and "
                     f"{'is' if len(set(unreadable)) == 1 else 'are'} left out ({shown}); "
                     "run `qcode check` to see why")
    if log_lines:
        first = log_lines[0]
        notes.append(f"{plural(len(log_lines), 'log line')} ignored ({first.location()}"
                     f"{', …' if len(log_lines) > 1 else ''}); run `qcode check` to see why")
    if attribute and "attributes" in uses:
        notes.append(f"{plural(len(attribute), 'transcript')} with a missing or undeclared "
                     "attribute value; run `qcode check` for the list")
    if rest:
        notes.append(f"{plural(len(rest), 'other problem')} in the files read; they do not "
                     "change this answer; run `qcode check` for the list")
    return result


def check_definition_changes(codebook: Codebook | None, store: CodingStore,
                             problems: Problems) -> None:
    """A warning per code with codings made before its definition changed (see
    ``qcode.store.versions``), at the codebook's changelog entry of the change."""
    from qcode.store.versions import predating_codings

    if codebook is None or not any(entry.definitions for entry in codebook.changelog):
        return  # the usual case: no coding need be read
    for item in predating_codings(codebook, store.codings()):
        coders = sorted(item.by_coder)
        who = ", ".join(f"{coder} {item.by_coder[coder]}" for coder in coders)
        problems.warning(
            "coding-predates-definition", codebook.file, item.line,
            f"{plural(item.count, 'coding')} of {item.code} ({who}) "
            f"{'predates' if item.count == 1 else 'predate'} version "
            f"{item.entry.version}, which changed its definition",
            f"review them: qcode code --coder {coders[0]} --review {item.code}"
            + (" (and likewise for the other coders)" if len(coders) > 1 else ""))
