"""``qcode agree``: intercoder agreement per code, on a stated unit.

The numbers come from ``qcode.analysis.reliability`` (the units and the counting) and
``qcode.analysis.agreement`` (the statistics); this command chooses a format and talks
to the user. pandas and numpy are imported only inside the command function.
"""

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qcode.cli.options import CodesOpt, ForceOpt, OutputOpt, RawOpt, WhereOpt
from qcode.cli.output import deliver
from qcode.format.names import plural

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.analysis.families import FamilyReport
    from qcode.analysis.reliability import AgreementReport


# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "agree": [
        'qcode agree --coders coder-a,coder-b',
        'qcode agree --coders coder-a,coder-b --disagreements -f md -o discuss.md',
        'qcode agree --coders coder-a,coder-b --ci 95 --flag 0.8',
    ],
}


class AgreeFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class Unit(StrEnum):
    passage = "passage"
    character = "character"


CodersOpt = Annotated[str | None, typer.Option(
    "--coders", metavar="A,B[,C...]", help="The coders to compare, comma-separated.")]
CoderListOpt = Annotated[list[str] | None, typer.Option(
    "--coder", "-c", metavar="NAME", help="A coder to compare (repeatable; adds to --coders).")]
AgreeFormatOpt = Annotated[AgreeFormat | None, typer.Option(
    "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")]


def agree(
    ctx: typer.Context,
    coders: CodersOpt = None,
    coder: CoderListOpt = None,
    unit: Annotated[Unit, typer.Option(
        "--unit", "-u", help="passage: each passage is coded 1/0 per code; character: each "
                             "character (NVivo's unit).")] = Unit.passage,
    codes: CodesOpt = None,
    where: WhereOpt = None,
    family: Annotated[str | None, typer.Option(
        "--family", metavar="PARENT", help="Treat PARENT's children as mutually exclusive "
        "categories: one value per passage and coder; Krippendorff's alpha (nominal).")
                      ] = None,
    disagreements: Annotated[bool, typer.Option(
        "--disagreements", help="List the passages where the coders differ, with the text."
    )] = False,
    exclude_speaker: Annotated[list[str] | None, typer.Option(
        "--exclude-speaker", metavar="LABEL", help="Leave this speaker's turns out of the "
        "units (repeatable; * and ? wildcards, as a speaker: rule).")] = None,
    include_interviewer: Annotated[bool, typer.Option(
        "--include-interviewer", help="Count the turns of the interviewers qcode.yaml "
        "declares (`interviewer:`; left out by default).")] = False,
    ci: Annotated[float | None, typer.Option(
        "--ci", metavar="LEVEL", help="Bootstrap confidence intervals at LEVEL percent "
        "(e.g. 95), resampling transcripts.")] = None,
    resamples: Annotated[int, typer.Option(
        "--resamples", metavar="N", help="Bootstrap resamples for --ci.")] = 2000,
    seed: Annotated[int, typer.Option(
        "--seed", metavar="N", help="Random seed of the bootstrap (same seed, same "
        "intervals).")] = 2026,
    flag: Annotated[float | None, typer.Option(
        "--flag", metavar="ALPHA", help="Mark the codes whose Krippendorff's alpha is below "
        "ALPHA (e.g. 0.8) and name them in a closing line.")] = None,
    format: AgreeFormatOpt = None,
    output: OutputOpt = None,
    force: ForceOpt = False,
    raw: RawOpt = False,
) -> None:
    """Measure intercoder agreement per code: percent, kappa, alpha and counts.

    On a stated unit: percent agreement, Cohen's kappa (two coders) or Fleiss' kappa
    (more), Krippendorff's alpha, and the counts behind them.

    Only transcripts coded by every coder count; the others are named. See
    docs/agreement.md for the definitions and how they compare with other tools.
    """
    from qcode.analysis import families, reliability
    from qcode.cli.context import guard, open_project
    from qcode.errors import UsageError

    names = _coder_names(coders, coder)
    if family is not None and unit is not Unit.passage:
        raise UsageError("--family works on passages only", "drop --unit character")
    if family is not None and codes:
        raise UsageError("--family and --codes do not go together",
                         "--family PARENT already names the codes compared")
    if (family is not None or disagreements) and (ci is not None or flag is not None):
        raise UsageError("--ci and --flag go with the per-code report",
                         "drop --family / --disagreements, or --ci / --flag")
    if family is not None and (exclude_speaker or include_interviewer):
        raise UsageError("--exclude-speaker and --include-interviewer do not go with "
                         "--family", "drop them: a family compares every passage")
    project = open_project(ctx)
    guard(project, names)
    chosen = _format(format, output)
    where_list = where or ()
    if family is not None:
        if disagreements:
            frame = families.family_disagreements(project, names, family, where_list)
            _deliver_disagreements(frame, chosen, output, force, project.name, raw)
        else:
            family_report = families.family_agreement(project, names, family, where_list)
            _deliver_family(family_report, chosen, output, force, project.name, raw)
        return
    speakers = exclude_speaker or ()
    if disagreements:
        frame = reliability.disagreements(project, names, unit.value, codes, where_list,
                                          speakers, include_interviewer)
        _deliver_disagreements(frame, chosen, output, force, project.name, raw)
        return
    report = reliability.agreement_report(project, names, unit.value, codes, where_list,
                                          speakers, include_interviewer)
    if ci is not None:
        from qcode.analysis.bootstrap import add_intervals

        add_intervals(report, ci / 100, resamples, seed)
    report.flag = flag
    _deliver_report(report, chosen, output, force, project.name, raw)


# -- the coder names ------------------------------------------------------------------------------

def _coder_names(coders: str | None, coder: list[str] | None) -> list[str]:
    from qcode.errors import UsageError

    names = [n.strip() for n in (coders or "").split(",") if n.strip()]
    for entry in coder or []:
        names += [n.strip() for n in entry.split(",") if n.strip()]
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        raise UsageError("name the coders to compare (two or more)",
                         "e.g. --coders coder-a,coder-b (or --coder A --coder B)")
    return names


def _format(chosen, output: Path | None) -> AgreeFormat:
    from qcode.cli.output import choose_format

    return choose_format(AgreeFormat, chosen, output)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _scope_lines(scope_dict: dict[str, Any], coders: list[str]) -> list[str]:
    """Who was compared on how many transcripts, and which transcripts were left out."""
    counted = scope_dict["counted"]
    lines = [f"coders: {', '.join(coders)}; transcripts counted: {len(counted)}"]
    groups: dict[str, list[str]] = {}
    for entry in scope_dict["left_out"]:
        groups.setdefault(", ".join(entry["not_coded_by"]), []).append(entry["transcript"])
    for missing, transcripts in groups.items():
        lines.append(f"left out, not coded by {missing} ({len(transcripts)}): "
                     f"{', '.join(transcripts)}")
    return lines


# -- qcode agree ------------------------------------------------------------------------------------



def _report_title(report: "AgreementReport", name: str) -> str:
    return (f"{name}: agreement of {', '.join(report.coders)} per code "
            f"(unit: {report.unit}; {report.units} {report.unit_plural} in "
            f"{plural(len(report.scope.transcripts), 'transcript')}; n = {report.unit_plural} "
            "per code)")


def _report_notes(report: "AgreementReport") -> list[str]:
    data = report.to_dict()
    lines = [f"unit: {report.unit}: {data['unit_definition']}"]
    lines += [f"{key}: {text}" for key, text in data["statistics"].items()]
    lines += _scope_lines(data["transcripts"], report.coders)
    lines.append(_units_line(report.units, report.unit, report.dropped,
                             report.scope.excluded_speakers))
    lines.append(_coverage_line(report.coverage))
    if report.scope.where:
        lines.append(f"where: {' and '.join(report.scope.where)}")
    if report.unused:
        lines.append(f"not used by any coder (no row): {', '.join(report.unused)}")
    if report.bootstrap:
        boot = report.bootstrap
        lines.append(
            f"ci: {100 * boot['level']:g}% percentile intervals from {boot['resamples']} "
            f"bootstrap resamples of the {boot['transcripts']} transcripts (seed "
            f"{boot['seed']}); a resample where a statistic is undefined is skipped "
            "(resamples_used counts the others, for alpha); no interval (—) when it is "
            "undefined in half of them or more")
    if report.flag is not None:
        flagged = report.flagged()
        lines.append(f"{plural(len(flagged), 'code')} below {report.flag:.2f} "
                     f"(Krippendorff's alpha){': ' + ', '.join(flagged) if flagged else ''}")
    return lines


def _units_line(units: int, unit: str, dropped: int, speakers: list[str]) -> str:
    line = f"units: {plural(units, unit)}"
    if speakers:
        line += (f"; left out: {plural(dropped, unit)} of the turns of "
                 f"{', '.join(speakers)} (--include-interviewer / --exclude-speaker)")
    return line


def _coverage_line(coverage: dict[str, Any]) -> str:
    line = (f"double-coded: {coverage['transcripts']} of "
            f"{plural(coverage['of_transcripts'], 'transcript')}")
    if "attribute" in coverage:
        missing = coverage["not_covered"]
        line += (f", {coverage['values']} of "
                 f"{plural(coverage['of_values'], coverage['attribute'])}; not double-coded: "
                 f"{', '.join(missing) if missing else 'none'}")
    return line


_STATISTICS = ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
_ENDS = ("", "_ci_low", "_ci_high")


def _report_rows(table: "pd.DataFrame") -> tuple[list[str], list[list[Any]]]:
    """Header and rows, statistics as text with 3 decimals and percentages with 1 (the
    shared CSV writer would print every float with one decimal)."""
    from qcode.analysis.reliability import plain_value

    header = [str(c) for c in table.columns]
    rows = []
    for row in table.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(header, row, strict=True):
            value = plain_value(value)
            if value is None or isinstance(value, bool):
                pass
            elif column in [s + end for s in _STATISTICS for end in _ENDS]:
                value = f"{value:.3f}"
            elif column in ["agreement_pct" + end for end in _ENDS]:
                value = f"{value:.1f}"
            cells.append(value)
        rows.append(cells)
    return header, rows


def _deliver_report(report: "AgreementReport", chosen: AgreeFormat, output: Path | None,
                    force: bool, name: str, raw: bool) -> None:
    from qcode.cli.output import note
    from qcode.render import tables as reports

    if chosen is AgreeFormat.json:
        deliver(reports.to_json(report.to_dict()), output, force)
        return
    table = report.table
    if not table["reason"].notna().any():
        table = table.drop(columns=["reason"])
    header, rows = _report_rows(table)
    title = _report_title(report, name)
    if chosen is AgreeFormat.table and output is None:
        header, rows = _joined_intervals(header, rows)
        _print_report(header, rows, title, _report_notes(report), report.unit_plural)
        return
    if chosen is AgreeFormat.md:
        deliver(_markdown_title(title) + reports.markdown_table(header, rows, 2) + "\n"
                + _markdown_notes(_report_notes(report)), output, force)
        return
    deliver(reports.delimited(header, rows, raw=raw), output, force)
    notes = _report_notes(report)
    for line in notes:
        if line.startswith(("left out", "not used", "units:", "double-coded")):
            note(line)
    if report.flag is not None:
        note(notes[-1])  # the closing line naming the flagged codes


def _joined_intervals(header: list[str], rows: list[list[Any]]
                      ) -> tuple[list[str], list[list[Any]]]:
    """On the terminal each interval is one column, ``low–high`` (``—`` when none)."""
    picks = [(i, header.index(c.replace("_low", "_high")) if c.endswith("_ci_low") else None)
             for i, c in enumerate(header) if not c.endswith("_ci_high")]
    joined = [[row[i] if j is None else "—" if row[i] is None else f"{row[i]}–{row[j]}"
               for i, j in picks] for row in rows]
    return [header[i].removesuffix("_low") for i, _ in picks], joined


_DISPLAY = {"agreement_pct": "agree\n%", "cohen_kappa": "Cohen\nκ",
            "fleiss_kappa": "Fleiss\nκ", "krippendorff_alpha": "Kripp.\nα",
            "agreement_pct_ci": "% CI", "cohen_kappa_ci": "κ CI", "fleiss_kappa_ci": "κ CI",
            "krippendorff_alpha_ci": "α CI", "resamples_used": "used"}


def _print_report(header: list[str], rows: list[list[Any]], title: str,
                  notes: list[str], unit_column: str) -> None:
    from rich import box
    from rich.table import Table

    from qcode.cli.output import console, plain_text

    out = console()
    view = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    shown = [i for i, column in enumerate(header) if column != "label"]
    body = []
    for row in rows:
        cells = []
        for column, value in [(header[i], row[i]) for i in shown]:
            if column == "reason":
                cells.append(value or "")
            elif column == "flagged":
                cells.append("below" if value else "")
            else:
                cells.append(value if isinstance(value, str) else _number(value))
        body.append(cells)
    needed = 0
    for position, i in enumerate(shown):
        column = header[i]
        heading = ("n" if column == unit_column else
                   _DISPLAY.get(column, column.replace("_", "\n")))
        # Numbers never wrap; headers wrap at their line breaks; code ids and reasons fold.
        widest = max([len(cells[position]) for cells in body]
                     + [len(word) for word in heading.split("\n")])
        flexible = position == 0 or column == "reason"
        needed += 30 if column == "reason" else widest + 2
        view.add_column(heading, justify="left" if flexible else "right", overflow="fold",
                        min_width=None if flexible else widest)
    for cells in body:
        view.add_row(*[plain_text(c) for c in cells],
                     style="bold" if cells[0] == "ALL" else "")
    if not out.is_terminal:
        out.width = max(out.width, needed)  # a file or a pipe: nothing to fit into
    out.print(view)
    for line in notes:
        out.print(plain_text(line, style="dim"), soft_wrap=True)


# -- qcode agree --family ---------------------------------------------------------------------------

def _deliver_family(report: "FamilyReport", chosen: AgreeFormat, output: Path | None,
                    force: bool, name: str, raw: bool) -> None:
    from qcode.analysis.reliability import plain_value
    from qcode.render import tables as reports

    data = report.to_dict()
    if chosen is AgreeFormat.json:
        deliver(reports.to_json(data), output, force)
        return
    title = (f"{name}: agreement of {', '.join(report.coders)} on the family "
             f"{report.parent} ({', '.join(report.categories)}), unit: passage")
    summary = [
        ("passages", data["passages"]),
        ("pairable_passages", data["pairable_passages"]),
        ("agreement_pct", data["agreement_pct"]),
        ("krippendorff_alpha", data["krippendorff_alpha"]),
    ]
    if report.kappa is not None:
        summary.append(("cohen_kappa", data["cohen_kappa"]))
    summary.append(("conflicts", len(report.conflicts)))
    if data["reason"]:
        summary.append(("reason", data["reason"]))
    frequencies = report.frequencies()
    freq_header = [str(c) for c in frequencies.columns]
    freq_rows = [[plain_value(v) for v in row]
                 for row in frequencies.itertuples(index=False, name=None)]
    notes = [f"unit: passage: {data['unit_definition']}",
             *[f"{k}: {v}" for k, v in data["statistics"].items()],
             *_scope_lines(data["transcripts"], report.coders)]
    notes += [f"conflict: {c['transcript']} passage {c['passage']} (line {c['line']}): "
              f"{c['coder']} applied {', '.join(c['codes'])}" for c in report.conflicts]
    summary = [(k, f"{v:.3f}" if isinstance(v, float) and k != "agreement_pct" else
                f"{v:.1f}" if isinstance(v, float) else v) for k, v in summary]
    if chosen is AgreeFormat.csv:
        header = ["family", "coders", *[k for k, _ in summary]]
        row = [report.parent, ",".join(report.coders), *[v for _, v in summary]]
        deliver(reports.delimited(header, [row], raw=raw), output, force)
        return
    if chosen is AgreeFormat.md:
        text = (_markdown_title(title) + reports.markdown_table(
            ["measure", "value"], [[k, v] for k, v in summary], 1) + "\n"
            + reports.markdown_table(freq_header, freq_rows, 1) + "\n"
            + _markdown_notes(notes))
        deliver(text, output, force)
        return
    from rich import box
    from rich.table import Table

    from qcode.cli.output import console, plain_text

    out = console()
    if not out.is_terminal:
        widths = [max(len(c) for c in report.coders), *map(len, report.categories), 6, 10, 2]
        out.width = max(out.width, sum(w + 4 for w in widths))
    out.print(plain_text(title, style="bold"))
    for key, value in summary:
        out.print(plain_text(f"  {key}: {'—' if value is None else value}"))
    view = Table(title="categories chosen (passages)", title_justify="left",
                 box=box.SIMPLE_HEAD)
    for i, column in enumerate(freq_header):
        view.add_column(column, justify="left" if i == 0 else "right")
    for row in freq_rows:
        view.add_row(*[plain_text(v) for v in row])
    out.print(view)
    for line in notes:
        out.print(plain_text(line, style="dim"), soft_wrap=True)


# -- qcode agree --disagreements -------------------------------------------------------------------

def _deliver_disagreements(frame: "pd.DataFrame", chosen: AgreeFormat, output: Path | None,
                           force: bool, name: str, raw: bool) -> None:
    from qcode.analysis.reliability import plain_value
    from qcode.cli.output import note
    from qcode.render import tables as reports

    attrs = frame.attrs
    coders = attrs["coders"]
    records = [{k: plain_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
    what = f"family {attrs['family']}" if attrs.get("family") else f"unit: {attrs['unit']}"
    title = (f"{name}: where {', '.join(coders)} differ ({what}; {len(records)} "
             f"disagreement(s))")
    counted = _counted_lines(attrs)
    if chosen is AgreeFormat.json:
        data = {"unit": attrs["unit"], "coders": coders, "transcripts": attrs["transcripts"],
                "where": attrs["where"], "disagreements": records}
        if attrs.get("family"):
            data["family"] = attrs["family"]
        if "counts" in attrs:
            from qcode.analysis.units import DISAGREEMENT_KINDS

            data.update(counts=attrs["counts"], kinds=DISAGREEMENT_KINDS,
                        excluded_speakers=attrs["excluded_speakers"])
        deliver(reports.to_json(data), output, force)
        return
    if chosen is AgreeFormat.csv:
        header = [str(c) for c in frame.columns]
        deliver(reports.delimited(header, [[r[h] for h in header] for r in records], raw=raw),
                output, force)
        for line in counted:
            note(line)
        return
    if chosen is AgreeFormat.md:
        deliver(_disagreements_markdown(records, coders, title) + "\n"
                + _markdown_notes(counted), output, force)
        return
    from qcode.cli.output import console, plain_text

    out = console()
    out.print(plain_text(title, style="bold"))
    for group in _by_passage(records):
        first = group[0]
        where = f"{first['transcript']} [{first['passage']}]"
        if first.get("speaker"):
            where += f" {first['speaker']}"
        out.print(plain_text(f"\n{where} (line {first['line']})", style="cyan"))
        for record in group:
            lead = f"{record['code']} ({record['kind']}): " if "code" in record else ""
            out.print(plain_text(lead + "   ".join(f"{c}: {record[c] or '—'}" for c in coders),
                                 style="bold"), soft_wrap=True)
        out.print(plain_text(first["text"]), soft_wrap=True)
    for line in [*_scope_lines(attrs["transcripts"], coders), *counted]:
        out.print(plain_text(line, style="dim"), soft_wrap=True)


def _counted_lines(attrs: dict[str, Any]) -> list[str]:
    """Every disagreement counted by kind, as `qcode adjudicate` counts them, with the
    definitions: the listing on passages shows the presence ones only."""
    from qcode.analysis.units import DISAGREEMENT_KINDS

    counts = attrs.get("counts")
    if counts is None:
        return []
    total = counts["presence"] + counts["extent"] + counts["excluded"]
    line = (f"disagreements (a passage and code the coders covered differently; "
            f"`qcode adjudicate` asks about each): {total} = {counts['presence']} presence "
            f"+ {counts['extent']} extent")
    if counts["excluded"]:
        line += f" + {counts['excluded']} on the left-out turns (not listed)"
    if attrs["unit"] == "passage" and counts["extent"]:
        line += "; extent ones are listed with --unit character"
    lines = [line, *[f"{kind}: {text}" for kind, text in DISAGREEMENT_KINDS.items()]]
    if attrs["excluded_speakers"]:
        lines.append(f"left out: the turns of {', '.join(attrs['excluded_speakers'])} "
                     "(--include-interviewer / --exclude-speaker)")
    return lines


def _by_passage(records: list[dict]) -> list[list[dict]]:
    """Consecutive records of the same passage, grouped (they come in passage order)."""
    groups: list[list[dict]] = []
    for record in records:
        if groups and (groups[-1][0]["transcript"], groups[-1][0]["passage"]) == (
                record["transcript"], record["passage"]):
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


def _markdown_title(title: str) -> str:
    from qcode.render.tables import markdown_text

    return f"**{markdown_text(title, one_line=True)}**\n\n"


def _markdown_notes(lines: list[str]) -> str:
    from qcode.render.tables import markdown_text

    return "".join(f"- {markdown_text(line, one_line=True)}\n" for line in lines)


def _disagreements_markdown(records: list[dict], coders: list[str], title: str) -> str:
    from qcode.render.tables import markdown_code, markdown_quote, markdown_text

    parts = [_markdown_title(title).rstrip("\n") + "\n"]
    for group in _by_passage(records):
        first = group[0]
        head = f"{first['transcript']}, passage {first['passage']}"
        if first.get("speaker"):
            head += f" ({first['speaker']})"
        parts.append(f"### {markdown_text(head, one_line=True)}\n")
        lines = []
        for record in group:
            lead = (f"{markdown_code(record['code'])} "
                    f"({markdown_text(record['label'], one_line=True)}), {record['kind']}: "
                    if "code" in record else "")
            lines.append("- " + lead + markdown_text(
                "; ".join(f"{c}: {record[c] or '—'}" for c in coders), one_line=True))
        parts.append("\n".join(lines) + "\n")
        parts.append(markdown_quote(str(first["text"])))
    return "\n".join(parts)
