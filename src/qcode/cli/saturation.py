"""``qcode saturation``: the codes each transcript adds, in coding (or another) order.

The numbers come from ``Project.saturation`` (``qcode.analysis.saturation``); this
command chooses a format, delivers it, and draws the curve. pandas and matplotlib are
imported only inside the command.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qcode.cli.analyse import FormatOpt
from qcode.cli.options import (
    AllCodersOpt,
    ForceOpt,
    OutputOpt,
    RawOpt,
    ReportFormat,
    ScopeCodersOpt,
    WhereOpt,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

EXAMPLES: dict[str, list[str]] = {
    "saturation": [
        "qcode saturation --order interview_date --plot saturation.png",
        "qcode saturation --order order.txt -f csv -o saturation.csv",
    ],
}

OrderOpt = Annotated[str, typer.Option(
    "--order", metavar="coding|id|date|ATTR|FILE",
    help="coding: when each transcript was first coded (the log's times); id: transcript "
         "ids; date: the date attribute; ATTR: any attribute's values (dates, numbers or "
         "text; ties in id order); FILE: one transcript id per line.")]
CurveOpt = Annotated[Path | None, typer.Option(
    "--plot", metavar="FILE.png|FILE.svg",
    help="Also draw the saturation curve (a step curve) to this file.")]


def saturation(
    ctx: typer.Context,
    order: OrderOpt = "coding",
    coder: ScopeCodersOpt = None,
    all_coders: AllCodersOpt = False,
    where: WhereOpt = None,
    format: FormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    plot: CurveOpt = None,
    raw: RawOpt = False,
) -> None:
    """Show the codes each transcript adds, in order, and the distinct codes so far.

    Per transcript: its codings, the codes first used there, the cumulative number of
    distinct codes and its share of the final total. A curve that flattens early says
    later interviews added few new codes."""
    from qcode.cli.analyse import _deliver_table, _format, _scope_text
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import Outputs, note
    from qcode.render.tables import check_plot_path, frame_records, to_json

    project = open_project(ctx)
    guard(project, coder, all_coders)
    frame = project.saturation(order, coder, all_coders, where or ())
    for line in frame.attrs["notes"]:
        note(f"warning: {line}")
    chosen = _format(format, output)
    title = (f"{project.name}: new codes per transcript in {frame.attrs['order']} order "
             f"({_scope_text(frame)})")
    outputs = Outputs(force)
    if plot is not None:  # drawn first: a plot that fails leaves no other output behind
        check_plot_path(plot, force)
        if plot.suffix.lower() == ".svg":  # drawn by qcode: no matplotlib to import
            from qcode.render.svg import curve_svg

            outputs.file(plot, curve_svg(frame, title).encode("utf-8"))
        else:
            from qcode.render.curves import saturation_curve_bytes

            outputs.file(plot, saturation_curve_bytes(frame, plot.suffix, title))
    if chosen is ReportFormat.json:
        outputs.text(to_json({"summary": summary(frame),
                              "transcripts": frame_records(frame)}), output)
    elif chosen is ReportFormat.table and output is None:
        _print_table(frame, title)
    else:
        header = [str(c) for c in frame.columns]
        rows = [[_cell(value) for value in row]
                for row in frame.itertuples(index=False, name=None)]
        _deliver_table(chosen, header, rows, output, outputs, title, label_columns=2,
                       numeric_from=len(header), raw=raw)
    outputs.commit()


def summary(frame: "pd.DataFrame") -> dict[str, Any]:
    """What the JSON says besides the rows (and the table beneath them)."""
    attrs = frame.attrs
    return {"order": attrs["order"], "coders": attrs["coders"], "where": attrs["where"],
            "transcripts": attrs["transcripts"], "codes": attrs["codes"],
            "last_new_transcript": attrs["last_new"],
            "last_new_position": attrs["last_new_position"]}


def _cell(value: Any) -> Any:
    """A list of new codes as one cell, ids separated by spaces; numbers as numbers."""
    from qcode.render.tables import number

    if isinstance(value, list):
        return " ".join(value)
    return None if value is None else number(value)


def _print_table(frame: "pd.DataFrame", title: str) -> None:
    from qcode.cli.output import console, plain_text
    from qcode.cli.tables import Column, print_table

    key = [frame.attrs["key_column"]] if frame.attrs["key_column"] else []
    columns = [Column("#", label=True), Column("transcript", label=True),
               *[Column(name) for name in key],
               *[Column(name, numeric=True) for name in ("codings", "new", "cumulative")],
               Column("share %", numeric=True), Column("new codes")]
    rows = [[str(row["position"]), row["transcript"],
             *["" if row[name] is None else str(row[name]) for name in key],
             str(row["codings"]), str(row["new"]), str(row["cumulative"]),
             f"{row['share']:.1f}", " ".join(row["new_codes"])]
            for row in frame.to_dict(orient="records")]
    out = console()
    print_table(title, columns, rows, console=out)
    attrs = frame.attrs
    if attrs["last_new"] is None:
        out.print(plain_text("No codes used."))
    else:
        out.print(plain_text(
            f"{attrs['codes']} distinct codes; the last new code came at transcript "
            f"{attrs['last_new_position']} of {attrs['transcripts']} "
            f"({attrs['last_new']})."))
