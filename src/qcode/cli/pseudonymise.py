"""``qcode pseudonymise scan`` and ``review``: finding what identifies people, and
deciding about each candidate in the key (kept outside the project).

The library finds (``qcode.analysis.identifier_scan``) and keeps the decisions
(``qcode.coding.key_review``); this module parses, renders and chooses the interface.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # pragma: no cover
    from qcode.analysis.identifier_scan import Candidate, ScanResult

EXAMPLES: dict[str, list[str]] = {
    "scan": ["qcode pseudonymise scan --key ~/keys/study.csv",
             "qcode pseudonymise scan --add-to-key ~/keys/study.csv --format csv"],
    "review": ["qcode pseudonymise review --key ~/keys/study.csv",
               "qcode pseudonymise review --key ~/keys/study.csv --plain --language no"],
}

KeyOpt = Annotated[str | None, typer.Option(
    "--key", metavar="PATH", envvar="QCODE_KEY", show_envvar=True,
    help="The key file (CSV original,replacement,kind), kept outside the project.")]


class ScanFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def scan(
    ctx: typer.Context,
    transcripts: Annotated[list[str] | None, typer.Argument(
        metavar="TRANSCRIPT", help="Transcripts to scan (default: all, and the memo "
                                        "files).")] = None,
    key: KeyOpt = None,
    add_to_key: Annotated[Path | None, typer.Option(
        "--add-to-key", metavar="PATH",
        help="Append the new candidates to this key as kind ? for review (the file is "
             "made if missing; refused inside the project unless gitignored).")] = None,
    kind: Annotated[list[str] | None, typer.Option(
        "--kind", metavar="KIND",
        help="Only candidates of this kind (repeatable): person, school, place, "
             "organisation, other, ?, email, phone, national-id, url.")] = None,
    format: Annotated[ScanFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv "
                               "otherwise).")] = None,
) -> None:
    """Propose names and other identifiers for the key, each with where it occurs.

    Finds the key's originals in every inflection (Olas, Ola-prosjektet), e-mail
    addresses, phone numbers, national identity numbers (checksum validated), URLs, and
    capitalised words that are neither a sentence's first word, a speaker label, an
    ordinary word (a shipped list, the codebook's labels, words the corpus also writes in
    lowercase) nor in the key already (`none` rows included). Prints the originals: that
    is what it is for.
    """
    from qcode.analysis.identifier_scan import scan as find
    from qcode.cli.context import open_project
    from qcode.cli.output import choose_format, note
    from qcode.coding.key_review import writable_key
    from qcode.errors import UsageError
    from qcode.format.identifiers import PATTERN_KINDS
    from qcode.format.pseudonyms import KINDS, UNREVIEWED, PseudonymKey, key_path

    known = (*KINDS, UNREVIEWED, *PATTERN_KINDS)
    for wanted in kind or []:
        if wanted not in known:
            raise UsageError(f"--kind {wanted!r} is not a kind", f"use one of {', '.join(known)}")
    chosen = choose_format(ScanFormat, format)
    project = open_project(ctx)
    target = writable_key(project.root, add_to_key) if add_to_key is not None else None
    path = key_path(key)
    if target is not None and (path is None or _same_file(path, add_to_key)):
        the_key = target  # the key being started or extended (QCODE_KEY may name it)
    elif path is not None:
        the_key = PseudonymKey.load(path)
    else:
        the_key = PseudonymKey()
    result = find(project, transcripts or None, the_key)
    candidates = [c for c in result.candidates if not kind or c.kind in kind]
    _deliver(result, candidates, chosen)
    note(_summary(result, candidates))
    if target is None or add_to_key is None:
        return
    added = [c for c in result.new() if c in candidates and target.get(c.text) is None]
    for candidate in added:
        target.add(candidate.text, UNREVIEWED)
    if added or not add_to_key.exists():
        target.save(add_to_key)
    note(f"added {len(added)} candidates to {add_to_key} as kind ?; review them with "
         f"`qcode pseudonymise review --key {add_to_key}`")


def _same_file(a: Path, b: Path | None) -> bool:
    return b is not None and a.expanduser().resolve() == b.expanduser().resolve()


def review(
    ctx: typer.Context,
    key: KeyOpt = None,
    plain: Annotated[bool, typer.Option(
        "--plain", help="Line mode: one candidate at a time on stdin/stdout (screen "
                        "readers, scripts).")] = False,
    language: Annotated[str, typer.Option(
        "--language", metavar="LANG",
        help="Language of the default placeholders: en ([School 1]) or no ([Skole 1]).")
                        ] = "en",
) -> None:
    """Decide about each candidate (kind ?) in the key, one at a time.

    Accept it with a kind and a replacement, mark it not identifying, or skip it. Shows each candidate with the places it occurs; every decision is saved to the key at
    once. A candidate marked not identifying gets kind `none` and is never proposed again.
    """
    from qcode.cli.context import open_project
    from qcode.cli.output import stdin_is_tty, stdout_is_tty
    from qcode.coding.key_review import KeyReview
    from qcode.errors import UsageError
    from qcode.format.pseudonyms import key_path

    path = key_path(key)
    if path is None:
        raise UsageError("review needs the key: --key PATH (or QCODE_KEY)",
                         "start one with `qcode pseudonymise scan --add-to-key PATH`")
    if language.lower() not in ("en", "no", "nb", "nn"):
        raise UsageError(f"--language {language!r} is not one qcode has placeholders in",
                         "use en or no")
    project = open_project(ctx)
    reviewing = KeyReview(project, path, language)
    if plain or not (stdin_is_tty() and stdout_is_tty()):
        from qcode.cli.plain.key_review import run_key_review_plain

        run_key_review_plain(reviewing, sys.stdin, sys.stdout)
        return
    from qcode.tui import run_app

    run_app("key-review", key_review=reviewing)


def _deliver(result: "ScanResult", candidates: "list[Candidate]", chosen: ScanFormat) -> None:
    from qcode.cli.output import emit_csv, emit_json, write

    if chosen is ScanFormat.json:
        emit_json({"transcripts": result.transcripts, "memo_files": result.memo_files,
                   "candidates": [c.to_dict() for c in candidates]})
    elif chosen is ScanFormat.csv:
        emit_csv(["text", "kind", "source", "count", "transcripts", "file", "line",
                  "context"],
                 [[c.text, c.kind, c.source, c.count, ";".join(c.transcripts),
                   c.places[0].file, c.places[0].line, c.places[0].snippet]
                  for c in candidates])
    else:
        lines = []
        for c in candidates:
            where = ", ".join(c.transcripts) or "memos"
            lines.append(f"{c.text}  [{c.kind}, {c.source}]  {c.count}× in {where}")
            lines += [f"    {p.file}:{p.line}  {p.snippet}" for p in c.places]
        write("\n".join(lines) + ("\n" if lines else ""), for_people=True)


def _summary(result: "ScanResult", candidates: "list[Candidate]") -> str:
    from qcode.format.names import plural

    new = sum(1 for c in candidates if not c.in_key)
    scanned = plural(len(result.transcripts), "transcript")
    if result.memo_files:
        scanned += f" and {plural(result.memo_files, 'memo file')}"
    return (f"{plural(len(candidates), 'candidate')} ({new} not in the key) in "
            f"{scanned}")
