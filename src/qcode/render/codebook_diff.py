"""``qcode codebook diff`` as text, Markdown and JSON: one ``CodebookDiff``, three views."""

from __future__ import annotations

from qcode.format.codebook_diff import CodebookDiff


def _lines(diff: CodebookDiff, coded: dict[str, dict[str, int]]) -> list[tuple[str, list[str]]]:
    """The sections of the report, each with its lines (empty sections left out)."""

    def top(parent: str | None) -> str:
        return parent if parent is not None else "(top level)"

    def still(code: str) -> str:
        count = sum(coded.get(code, {}).values())
        return f" (still has {count} coding{'' if count == 1 else 's'})" if count else ""

    sections = [
        ("added", list(diff.added)),
        ("removed", [f"{code}{still(code)}" for code in diff.removed]),
        ("renamed", [f"{r['from']} -> {r['to']}" for r in diff.renamed]),
        ("merged", [f"{m['from']} -> into {m['into']}" for m in diff.merged]),
        ("moved", [f"{m['code']}: under {top(m['from'])} -> under {top(m['to'])}"
                   for m in diff.moved]),
        ("definition changed", [f"{d['code']}: {', '.join(d['fields'])}"  # type: ignore[arg-type]
                                for d in diff.definitions]),
        ("label changed", [f"{c['code']}: {c['from']!r} -> {c['to']!r}" for c in diff.labels]),
        ("key changed", [f"{c['code']}: {c['from'] or '(none)'} -> {c['to'] or '(none)'}"
                         for c in diff.keys]),
    ]
    return [(title, lines) for title, lines in sections if lines]


def _heading(diff: CodebookDiff) -> str:
    return (f"{diff.old} (version {diff.old_version}) -> {diff.new} "
            f"(version {diff.new_version})")


def diff_text(diff: CodebookDiff, coded: dict[str, dict[str, int]]) -> str:
    out = [_heading(diff)]
    sections = _lines(diff, coded)
    if not sections:
        out.append("no change to the codes")
    for title, lines in sections:
        out.append(f"{title} ({len(lines)}):")
        out.extend(f"  {line}" for line in lines)
    return "\n".join(out) + "\n"


def diff_markdown(diff: CodebookDiff, coded: dict[str, dict[str, int]]) -> str:
    out = [f"# Codebook changes: {_heading(diff)}", ""]
    sections = _lines(diff, coded)
    if not sections:
        out += ["No change to the codes.", ""]
    for title, lines in sections:
        out += [f"## {title.capitalize()} ({len(lines)})", ""]
        out += [f"- {line.replace('->', '→')}" for line in lines]
        out.append("")
    return "\n".join(out)


def diff_json(diff: CodebookDiff, coded: dict[str, dict[str, int]]) -> str:
    from qcode.render.tables import to_json

    return to_json({**diff.to_dict(), "removed_with_codings": coded})
