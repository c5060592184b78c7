"""``qcode pseudonymise verify``: prove that export files hold no original of the key and
no e-mail address, phone number or national identity number."""


from pathlib import Path
from typing import Annotated

import typer

from qcode.cli.options import TextFormat

EXAMPLES: dict[str, list[str]] = {
    "verify": ["qcode pseudonymise verify --key ../study-key.csv shared/study.qdpx"],
}


def verify(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="DIR|FILE",
        help="Export files (.qdpx, .html, .docx, .xlsx, .csv, ...) or folders to search "
        "(default: the project's exports/).",
        show_default=False)] = None,
    key: Annotated[Path | None, typer.Option(
        "--key", metavar="PATH", help="The pseudonymisation key (default: $QCODE_KEY).")] = None,
    format: Annotated[TextFormat, typer.Option(
        "--format", "-f", help="text for people, json for scripts.")] = TextFormat.text,
    show_originals: Annotated[bool, typer.Option(
        "--show-originals", help="Also print what was found (the originals the key "
        "hides); off by default so the report itself can be shared.")] = False,
) -> None:
    """Search export files for what the key hides and for e-mails, phones and ids.

    Reads CSV, JSON, Markdown, text and HTML (text and attributes) files and the XML and
    text members of .qdpx, .docx, .xlsx and .odt archives (checked, never extracted);
    lists what it cannot read (images, PDF). Exit 0 when nothing is found, 1 when
    something is (or an archive is refused as unsafe), 2 for a usage error.
    """
    from qcode.cli.output import emit_json, write
    from qcode.errors import UsageError
    from qcode.format.pseudonyms import PseudonymKey, key_path
    from qcode.interchange.residue import scan_paths

    chosen = key_path(key)
    if chosen is None:
        raise UsageError("verify needs the pseudonymisation key",
                         "give it with --key PATH or QCODE_KEY")
    matcher = PseudonymKey.load(chosen).matcher()
    if paths:
        targets = [(path, str(path)) for path in paths]
    else:
        from qcode.cli.context import state
        from qcode.project import Project
        from qcode.project.residue import EXPORTS

        project = Project.find(explicit=state(ctx).project)
        folder = project.root / EXPORTS
        if not folder.is_dir():
            raise UsageError(f"the project has no {EXPORTS}/ folder to verify",
                             "name the export files or folders to search")
        targets = [(folder, EXPORTS)]
    report = scan_paths(matcher, targets)
    if format is TextFormat.json:
        emit_json(report.to_dict(show_originals))
    else:
        write(render_verify_text(report, show_originals), for_people=True)
    raise typer.Exit(0 if report.clean else 1)


def render_verify_text(report, show_originals: bool = False) -> str:
    """One line per finding (``file[:member]:line: what``), then what was and was not
    searched, then the verdict."""
    from qcode.format.names import plural

    lines = [f"{f.where()}: {f.describe(show_originals)}" for f in report.findings]
    lines += [f"{where}: refused: {why}" for where, why in report.refused]
    lines += [f"{where}: not searched ({why})" for where, why in report.not_searched]
    members, files = len(report.members), len(report.searched)
    searched = f"searched {plural(files, 'file')}"
    if members:
        searched += f" and {plural(members, 'archive member')}"
    if report.not_searched:
        searched += f"; {len(report.not_searched)} not searched"
    if report.clean:
        lines.append(f"ok: no identifiers found ({searched})")
    else:
        lines.append(f"failed: {plural(len(report.findings), 'identifier')} found"
                     + (f", {plural(len(report.refused), 'file')} refused"
                        if report.refused else "") + f" ({searched})")
    return "\n".join(lines) + "\n"
