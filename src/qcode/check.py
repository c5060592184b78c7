"""``qcode check``: every rule that spans files (codings against transcripts and codebook).

Rules inside one file live with that file's reader (``codebook``, ``transcripts``,
``cases``, ``store``); this module runs them all and adds the cross-file ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qcode.matching import did_you_mean
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
        codings = project.codings(coder)
        total += len(codings)
        _check_codings(project, coder, codings, transcripts, codebook, problems)
    counts["codings"] = total
    if codebook is not None:
        _check_keys(project, codebook, problems)
    return CheckReport(problems.sorted(), counts)


def _check_keys(project: Project, codebook, problems: Problems) -> None:
    """Remapped keys (qcode.yaml `keys:`) must name real bindings and shadow no code."""
    from qcode.config import CONFIG_NAME
    from qcode.keymap import BINDING_IDS, effective_keys, key_character

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


def _check_codings(project, coder, codings, transcripts, codebook, problems: Problems) -> None:
    rel = project.log(coder).rel
    for coding in codings:
        where = f"coding {coding.id} ({coding.code} on {coding.transcript} {coding.start}:{coding.end})"
        transcript = transcripts.get(coding.transcript)
        if transcript is None:
            guess = did_you_mean(coding.transcript, transcripts)
            problems.error("coding-unknown-transcript", rel, coding.line,
                           f"{where}: unknown transcript {coding.transcript!r}",
                           f"did you mean {guess[0]!r}?" if guess
                           else "restore the transcript or remove the coding")
        if codebook is not None:
            code = codebook.resolve(coding.code)
            if code is None:
                guess = did_you_mean(coding.code, codebook.ids)
                problems.error("coding-unknown-code", rel, coding.line,
                               f"{where}: unknown code {coding.code!r}",
                               f"did you mean {guess[0]!r}? (a renamed code keeps its old id "
                               "in `aliases`)" if guess
                               else "add the code, or its old id to a code's `aliases`")
            elif not code.codable:
                problems.error("coding-not-codable", rel, coding.line,
                               f"{where}: code {code.id!r} is a grouping folder (codable: false)",
                               "move the coding to one of its children")
        if transcript is None:
            continue
        if coding.end > len(transcript.body):
            problems.error("coding-span-outside", rel, coding.line,
                           f"{where}: span ends past the body of {transcript.file} "
                           f"({len(transcript.body)} characters)",
                           "the transcript got shorter since coding; restore it or re-code")
        elif transcript.body[coding.start:coding.end] != coding.text:
            problems.error("coding-text-mismatch", rel, coding.line,
                           f"{where}: the text at the span no longer matches what was coded; "
                           f"{transcript.file} changed since coding",
                           f"run `qcode reanchor {coding.transcript}` to move it onto its text")
