"""``qcode codes``, ``qcode transcripts`` and ``qcode show``: looking at a project."""


from typing import Annotated

import typer

from qcode.cli.options import OptionalCoderOpt, TableFormat, TextFormat, TreeFormat


def codes(
    ctx: typer.Context,
    format: Annotated[TreeFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TreeFormat.tree,
) -> None:
    """The codebook as a tree, with how often each code is used by each coder."""
    from qcode.cli.context import open_project, warn_if_problems
    from qcode.cli.output import cell, console, emit_csv, emit_json

    project = open_project(ctx)
    codebook = project.codebook
    usage = project.code_usage()
    coders = project.coders
    warn_if_problems(project)
    if format is TreeFormat.json:
        emit_json({
            "codebook": {"name": codebook.name, "version": codebook.version,
                         "file": codebook.file},
            "coders": coders,
            "codes": [
                {"id": c.id, "label": c.label, "parent": codebook.parent_of[c.id],
                 "depth": codebook.depth_of[c.id], "codable": c.codable, "key": c.key,
                 "color": c.color, "description": c.description, "include": c.include,
                 "exclude": c.exclude, "examples": list(c.examples),
                 "keywords": list(c.keywords), "aliases": list(c.aliases),
                 "counts": {coder: usage.get(c.id, {}).get(coder, 0) for coder in coders}}
                for c in codebook if c.id in codebook.parent_of
            ],
        })
        return
    if format is TreeFormat.csv:
        columns = ["id", "label", "parent", "depth", "codable", "key", "color",
                   *[f"codings_{coder}" for coder in coders]]
        emit_csv(columns, (
            [c.id, c.label, codebook.parent_of[c.id], codebook.depth_of[c.id],
             cell(c.codable), c.key, c.color,
             *[usage.get(c.id, {}).get(coder, 0) for coder in coders]]
            for c in codebook if c.id in codebook.parent_of))
        return
    from rich.text import Text
    from rich.tree import Tree

    title = f"{codebook.name} (version {codebook.version}, {len(codebook)} codes"
    title += f"; codings by {' / '.join(coders)})" if coders else ")"
    tree = Tree(Text(title, style="bold"))
    nodes: dict[str | None, Tree] = {None: tree}
    for code in codebook:
        if code.id not in codebook.parent_of:
            continue
        label = Text()
        label.append(code.id, style=f"bold {code.color}" if code.color else "bold")
        label.append(f"  {code.label}")
        if code.key:
            label.append(f"  [{code.key}]", style="cyan")
        if not code.codable:
            label.append("  (folder)", style="dim")
        counts = usage.get(code.id, {})
        if coders and code.codable:
            label.append("  " + " / ".join(str(counts.get(coder, 0)) for coder in coders),
                         style="dim")
        nodes[code.id] = nodes[codebook.parent_of[code.id]].add(label)
    console().print(tree)


def transcripts(
    ctx: typer.Context,
    format: Annotated[TableFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TableFormat.table,
) -> None:
    """Every transcript: id, file, attributes (after the case join), passages, words, codings."""
    from qcode.cli.context import open_project, warn_if_problems
    from qcode.cli.output import cell, console, emit_csv, emit_json

    project = open_project(ctx)
    items = project.transcripts
    usage = project.transcript_usage()
    coders = project.coders
    attributes = project.attribute_names()
    warn_if_problems(project)
    if format is TableFormat.json:
        emit_json([
            {"id": t.id, "file": t.file, "attributes": t.attributes,
             "passages": len(t.passages), "words": t.words,
             "codings": {coder: usage.get(t.id, {}).get(coder, 0) for coder in coders}}
            for t in items])
        return
    if format is TableFormat.csv:
        emit_csv(["id", "file", *attributes, "passages", "words",
                  *[f"codings_{coder}" for coder in coders]],
                 ([t.id, t.file, *[cell(t.attributes.get(a)) for a in attributes],
                   len(t.passages), t.words,
                   *[usage.get(t.id, {}).get(coder, 0) for coder in coders]] for t in items))
        return
    from rich.table import Table

    declared = project.require_config().attributes
    shown = [a for a in attributes if a in declared and declared[a].values][:3] or attributes[:2]
    table = Table(title=f"{project.name}: {len(items)} transcripts", title_justify="left")
    table.add_column("id", style="bold", no_wrap=True)
    for name in shown:
        table.add_column(name)
    table.add_column("passages", justify="right")
    table.add_column("words", justify="right")
    for coder in coders:
        table.add_column(coder, justify="right")
    for t in items:
        table.add_row(t.id, *[cell(t.attributes.get(a)) for a in shown], str(len(t.passages)),
                      str(t.words), *[str(usage.get(t.id, {}).get(c, 0)) for c in coders])
    console().print(table)


def show(
    ctx: typer.Context,
    transcript: Annotated[str, typer.Argument(help="Transcript id.")],
    coder: OptionalCoderOpt = None,
    format: Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TextFormat.text,
) -> None:
    """A transcript's passages with their numbers, speakers and the codes on each."""
    from qcode.cli.context import open_project, warn_if_problems
    from qcode.cli.output import cell, console, emit_json

    project = open_project(ctx)
    item = project.transcript(transcript)
    if coder is not None and coder not in project.coders:
        from qcode.cli.output import note
        from qcode.format.names import check_coder_name, did_you_mean

        check_coder_name(coder)
        guess = did_you_mean(coder, project.coders)
        note(f"note: coder {coder!r} has no codings yet"
             + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    by_passage = project.passage_codings(item, coder)
    several = coder is None and len(project.coders) > 1
    warn_if_problems(project)
    if format is TextFormat.json:
        emit_json({
            "transcript": item.id, "file": item.file, "attributes": item.attributes,
            "passages": [
                {"number": p.number, "start": p.start, "end": p.end, "speaker": p.speaker,
                 "line": p.line, "text": item.body[p.start:p.end],
                 "codes": [{"code": c.code, "coder": c.coder, "start": c.start, "end": c.end,
                            "id": c.id, "memo": c.memo} for c in by_passage[p.number]]}
                for p in item.passages]})
        return
    from rich.text import Text

    out = console()
    attrs = ", ".join(f"{k}: {cell(v)}" for k, v in item.attributes.items())
    out.print(Text(f"{item.id}  ({item.file}; {attrs})", style="bold"))
    codebook = project.codebook
    for p in item.passages:
        head = Text(f"\n[{p.number}]", style="bold")
        if p.speaker:
            head.append(f" {p.speaker}", style="bold cyan")
        codings = by_passage[p.number]
        if codings:
            head.append("  ")
            labels = []
            for c in codings:
                code = codebook.resolve(c.code)
                name = code.id if code else c.code
                partial = "" if (c.start, c.end) == (p.start, p.end) else "~"
                labels.append((f"{partial}{name}" + (f"@{c.coder}" if several else ""),
                               code.color if code and code.color else "magenta"))
            for i, (label, color) in enumerate(labels):
                head.append(("  " if i else "") + label, style=f"bold {color}")
        out.print(head)
        out.print(Text(item.body[p.start:p.end]), soft_wrap=True)
