"""``qcode check``: every rule that spans files (codings against transcripts and codebook).

Rules inside one file live with that file's reader (``codebook``, ``transcripts``,
``cases``, ``store``); this module runs them all and adds the cross-file ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qcode.format.names import did_you_mean
from qcode.problems import Problems

if TYPE_CHECKING:  # pragma: no cover
    from qcode.project import CheckReport, Project


def run_checks(project: Project) -> CheckReport:
    from qcode.project import CheckReport

    problems = project.problems
    counts: dict[str, int] = {}
    if project.config is None:
        return CheckReport(problems.sorted(), counts)
    codebook = project._codebook
    transcripts = {t.id: t for t in project.transcripts}
    counts["codes"] = len(codebook) if codebook else 0
    counts["transcripts"] = len(transcripts)
    counts["coders"] = len(project.coders)
    total = 0
    for coder in project.coders:
        replay = project.replay(coder)
        total += len(replay.table)
        _check_codings(project, replay, transcripts, codebook, problems)
    counts["codings"] = total
    if codebook is not None:
        _check_keys(project, codebook, problems)
    return CheckReport(problems.sorted(), counts)


def _check_keys(project: Project, codebook, problems: Problems) -> None:
    """Remapped keys (qcode.yaml `keys:`) must name real bindings and shadow no code."""
    from qcode.coding.keymap import BINDING_IDS, effective_keys, key_character
    from qcode.format.config import CONFIG_NAME

    overrides = project.require_config().keys
    doc = getattr(project, "_config_doc", None)
    code_keys = {c.key: c.id for c in codebook if c.key}
    used: dict[str, str] = {}
    for binding_id, keys in effective_keys(overrides).items():
        line = doc.line_for(("keys", binding_id)) if doc is not None else None
        if binding_id not in BINDING_IDS:
            guess = did_you_mean(binding_id, BINDING_IDS)
            problems.error("keys-unknown-binding", CONFIG_NAME, line,
                           f"keys: {binding_id!r} is not a binding of the interactive coder",
                           f"did you mean {guess[0]!r}?" if guess
                           else f"bindings: {', '.join(BINDING_IDS)}")
            continue
        for key in (k.strip() for k in keys.split(",") if k.strip()):
            if key in used and used[key] != binding_id:
                problems.error("keys-conflict", CONFIG_NAME, line,
                               f"key {key!r} is bound to both {used[key]!r} and {binding_id!r}",
                               "give each binding its own keys")
            used[key] = binding_id
            character = key_character(key)
            if binding_id in overrides and character in code_keys:
                problems.error("keys-conflict", CONFIG_NAME, line,
                               f"key {key!r} of {binding_id!r} is the shortcut of code "
                               f"{code_keys[character]!r}", "choose another key or change "
                               "the code's `key:` in the codebook")


def _check_codings(project, replay, transcripts, codebook, problems: Problems) -> None:
    """Every current coding against its transcript and the codebook.

    Reads the coding table's columns. Whether a coding's span still holds its text
    depends only on its log line and its transcript's content, so the answer is kept in
    the cache (``check/<coder>.json``) per transcript content hash, under the log's
    lineage: the next check compares only codings on changed transcripts and new lines.
    """
    table = replay.table
    rel = project.log(table.coder).rel
    name = f"check/{table.coder}.json"
    known = project.cache.load(name) or {}
    verified, upto, failed_before = known.get("transcripts"), known.get("upto_line"), \
        known.get("failing_lines")
    if (known.get("lineage") != replay.lineage or not isinstance(verified, dict)
            or type(upto) is not int or not isinstance(failed_before, list)):
        verified, upto, failed_before = {}, 0, []
    failed_before = {line for line in failed_before if type(line) is int}
    failing: list[int] = []
    resolved: dict[str, object] = {}
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
    project.cache.save(name, {
        "lineage": replay.lineage, "upto_line": max(table.lines, default=0),
        "transcripts": {t.id: t.sha256 for t in transcripts.values() if t.sha256},
        "failing_lines": failing,
    })


def _report_coding(rel, table, row, transcript, code, transcripts, codebook,
                   problems: Problems) -> bool:
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
