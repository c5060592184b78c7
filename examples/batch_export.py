"""Export qcode's code matrices and frequencies through the library, then analyse them.

    python examples/batch_export.py [-p PROJECT] [-o DIR] [-c CODER]... [--all-coders]
                                    [--strict] [--force] [--family CODE] [--group ATTR]
                                    [ATTR ...]

Writes the same files as ``batch_export.sh`` (the CLI version) into DIR (default:
PROJECT/exports/YYYY-MM-DD, today's date): for every attribute ATTR (default: school
informant_group) ``codes-by-ATTR-segments.csv/.xlsx``, ``codes-by-ATTR-documents.csv/.xlsx``
and ``frequencies-by-ATTR.json``, plus ``frequencies.json``; parents count their children's
segments (rollup), and the counts are the primary coder's unless ``-c``/``--all-coders``.
It checks the project first and stops, writing nothing, when it has errors.

Then it does what a researcher does next with pandas: the share of interviews in each
informant group (``--group``) that mention each code of a family (``--family``, default
``outcomes``), most mentioned first. It prints that table and writes it as
``share-of-interviews-FAMILY-by-GROUP.csv``.

Exit codes: 0 done; 1 the project has errors, a name is unknown or a file exists (add
--force); 2 usage error or no project found.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qcode import Project, QcodeError
from qcode.errors import UnknownName
from qcode.format.names import did_you_mean

MEASURES = ("segments", "documents")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Like the CLI: --project, else $QCODE_PROJECT, else upwards from here.
        project = Project.find(explicit=args.project)
        if not check(project, args.strict):
            return 1
        # Every name is checked before anything is written: no half-done export.
        family = project.codebook.require(args.family).id
        for attr in [*args.attributes, args.group]:
            require_attribute(project, attr)
        out = Path(args.out) if args.out else (
            project.root / "exports" / datetime.date.today().isoformat())
        files = planned_files(out, args.attributes, family, args.group)
        existing = [path for path in files if path.exists()]
        if existing and not args.force:
            raise QcodeError(f"{existing[0]} already exists",
                             "add --force to replace it, or -o another folder")
        scope = {"coders": args.coder, "all_coders": args.all_coders}
        export(project, args.attributes, out, scope)
        share = share_of_interviews(project, family, args.group, scope)
    except QcodeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    write(files[-1], share.to_csv)
    print(f"Share of interviews (%) with each code of {family!r}, by {args.group}")
    print(share.to_string(float_format=lambda value: f"{value:.1f}"))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export the code matrices and frequencies of a qcode project, then show "
                    "the share of interviews per group with each code of a family.")
    parser.add_argument("attributes", nargs="*", metavar="ATTR",
                        default=["school", "informant_group"],
                        help="attributes for the matrix columns (default: school "
                             "informant_group)")
    parser.add_argument("-p", "--project", help="project folder (default: $QCODE_PROJECT, "
                                                "else the nearest with a qcode.yaml)")
    parser.add_argument("-o", "--out", help="output folder (default: "
                                            "PROJECT/exports/YYYY-MM-DD)")
    parser.add_argument("-c", "--coder", action="append",
                        help="count this coder (repeatable; default: the primary coder)")
    parser.add_argument("--all-coders", action="store_true", help="count all coders")
    parser.add_argument("--strict", action="store_true", help="stop on warnings too")
    parser.add_argument("--force", action="store_true", help="replace existing files")
    parser.add_argument("--family", default="outcomes",
                        help="code whose descendants the analysis compares "
                             "(default: outcomes)")
    parser.add_argument("--group", default="informant_group",
                        help="attribute the analysis compares (default: informant_group)")
    return parser.parse_args(argv)


def check(project: Project, strict: bool) -> bool:
    """Like ``qcode check``: print every problem; False when the counts cannot be trusted."""
    report = project.check()
    for problem in report.problems:
        print(f"{problem.location()}: {problem.severity}[{problem.rule}]: {problem.message}",
              file=sys.stderr)
    if not report.ok or (strict and report.warnings):
        print("batch_export: the project has problems; nothing exported", file=sys.stderr)
        return False
    return True


def require_attribute(project: Project, name: str) -> None:
    known = project.attribute_names()
    if name not in known:
        raise UnknownName("attribute", name, did_you_mean(name, known),
                          hint=f"attributes: {', '.join(known)}")


def planned_files(out: Path, attributes: list[str], family: str, group: str) -> list[Path]:
    """Every file a run writes, in the order it writes them (the analysis last)."""
    files = []
    for attr in attributes:
        for measure in MEASURES:
            files += [out / f"codes-by-{attr}-{measure}.csv",
                      out / f"codes-by-{attr}-{measure}.xlsx"]
        files.append(out / f"frequencies-by-{attr}.json")
    files.append(out / "frequencies.json")
    files.append(out / f"share-of-interviews-{family}-by-{group}.csv")
    return files


def export(project: Project, attributes: list[str], out: Path, scope: dict) -> None:
    """The matrices as CSV and XLSX, and the frequencies as JSON, one set per attribute."""
    for attr in attributes:
        for measure in MEASURES:
            grid = with_sizes(project.matrix(by=attr, measure=measure, rollup=True, **scope))
            stem = f"codes-by-{attr}-{measure}"
            write(out / f"{stem}.csv", grid.to_csv)
            write(out / f"{stem}.xlsx", lambda path, grid=grid: to_xlsx(project, grid, path))
        frequencies = project.freq(by=attr, rollup=True, **scope)
        write(out / f"frequencies-by-{attr}.json", frequencies_writer(frequencies))
    write(out / "frequencies.json", frequencies_writer(project.freq(rollup=True, **scope)))


def share_of_interviews(project: Project, family: str, group: str,
                        scope: dict) -> pd.DataFrame:
    """Per codable code under ``family``, the percentage of interviews in each ``group``
    value with at least one segment of it, and an ``all`` column over every interview;
    rows sorted by ``all``, most mentioned first (codebook order among equals)."""
    codebook = project.codebook
    codes = [c for c in codebook.descendants(family) if codebook.get(c).codable]
    interviews = pd.DataFrame({
        "transcript": [t.id for t in project.transcripts],
        group: [t.attributes.get(group) or "(missing)" for t in project.transcripts],
    })
    # Segments come with the transcript's attributes; count each interview once per code.
    mentions = (project.segments([family], **scope)[["code", "transcript"]]
                .drop_duplicates()
                .merge(interviews, on="transcript"))
    # Columns as in qcode's matrices: declared values, the others found, then (missing).
    found = set(interviews[group])
    declared = project.require_config().attributes.get(group)
    order = [v for v in (declared.values or []) if v in found] if declared else []
    order += sorted(found - set(order) - {"(missing)"})
    order += ["(missing)"] if "(missing)" in found else []
    counts = (pd.crosstab(mentions["code"], mentions[group])
              .reindex(index=codes, columns=order, fill_value=0))
    interviews_per_value = interviews[group].value_counts().reindex(order)
    share = counts.div(interviews_per_value, axis="columns") * 100
    share["all"] = mentions["code"].value_counts().reindex(codes, fill_value=0) \
        / len(interviews) * 100
    share.index.name = "code"
    share.columns.name = None
    return share.sort_values("all", ascending=False, kind="stable").round(1)


def write(path: Path, writer: Callable[[Path], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path)
    print(f"wrote {path}", file=sys.stderr)


def with_sizes(grid: pd.DataFrame) -> pd.DataFrame:
    """The matrix with a last row ``n_transcripts``: each column's number of transcripts,
    as the CLI writes it (counts are read against their column's size)."""
    sized = grid.copy()
    sized.loc[grid.attrs["n_label"]] = grid.attrs["column_n"]
    return sized


def to_xlsx(project: Project, grid: pd.DataFrame, path: Path) -> None:
    """The matrix with each code's label next to its id, header and ids frozen."""
    table = grid.copy()
    codebook = project.codebook
    table.insert(0, "label", [codebook.get(code).label if codebook.get(code) else None
                              for code in table.index])  # the sizes row has no label
    table.to_excel(path, sheet_name="matrix", freeze_panes=(1, 2))


def frequencies_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_json(path, orient="records", force_ascii=False, indent=2)


if __name__ == "__main__":
    sys.exit(main())
