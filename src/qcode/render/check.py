"""Rendering library results as text for people and for CI; no data is computed here."""


from typing import TYPE_CHECKING

from qcode.format.names import plural

if TYPE_CHECKING:  # pragma: no cover
    from qcode.problems import CheckReport, Problem




def problem_lines(problem: "Problem") -> list[str]:
    """One problem as ``qcode check`` prints it: where, severity, rule, message; the hint."""
    lines = [f"{problem.location()}: {problem.severity}[{problem.rule}]: {problem.message}"]
    if problem.hint:
        lines.append(f"    hint: {problem.hint}")
    return lines


def render_check_text(report: "CheckReport", strict: bool = False) -> str:
    lines = []
    for p in report.problems:
        lines.extend(problem_lines(p))
    c = report.counts
    scope = (f"{plural(c.get('transcripts', 0), 'transcript')}, "
             f"{plural(c.get('codes', 0), 'code')}, {plural(c.get('coders', 0), 'coder')}, "
             f"{plural(c.get('codings', 0), 'coding')}") if c else "the project file"
    errors, warnings = len(report.errors), len(report.warnings)
    if not errors and not warnings:
        lines.append(f"ok: no problems in {scope}")
    else:
        verdict = "failed" if errors or strict else "ok"
        lines.append(f"{verdict}: {plural(errors, 'error')}, {plural(warnings, 'warning')} "
                     f"in {scope}")
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_check_github(report: "CheckReport") -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` line per problem."""
    out = []
    for p in report.problems:
        props = []
        if p.file:
            props.append(f"file={_gh_property(p.file)}")
        if p.line is not None:
            props.append(f"line={p.line}")
        props.append(f"title={_gh_property(p.rule)}")
        message = p.message + (f" (hint: {p.hint})" if p.hint else "")
        out.append(f"::{p.severity} {','.join(props)}::{_gh_data(message)}")
    return "".join(line + "\n" for line in out)
