"""``qcode codes``, ``qcode transcripts`` and ``qcode show``: looking at a project."""


from typing import Annotated

import typer

from qcode.cli.options import OptionalCoderOpt, RawOpt, TableFormat, TextFormat, TreeFormat

# One example per command, shown under its --help (see app._register).
EXAMPLES: dict[str, list[str]] = {
    "codes": ['qcode codes', 'qcode codes -f csv > codebook.csv'],
    "transcripts": ['qcode transcripts', 'qcode transcripts -f json > transcripts.json'],
    "show": ['qcode show voss-principal --coder consensus'],
}


def codes(
    ctx: typer.Context,
    format: Annotated[TreeFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: tree on a terminal, csv otherwise).")
                      ] = None,
    raw: RawOpt = False,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="VERSION", help="Only the codes the changelog says were added or "
        "changed after VERSION, with how many codings predate their definition.")] = None,
) -> None:
    """Show the codebook as a tree, with how often each coder used each code.

    Example: qcode codes -f csv > codebook.csv

    Editing commands: rename, merge, move, add (`qcode codes rename --help`).
    """
    if ctx.invoked_subcommand is not None:
        return
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import cell, choose_format, console, emit_csv, emit_json

    project = open_project(ctx)
    guard(project, all_coders=True, uses=("codebook",))
    format = choose_format(TreeFormat, format)
    codebook = project.codebook
    usage = project.code_usage()
    coders = project.coders_with_codings()
    if since is not None:
        _codes_since(project, since, format, raw)
        return
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
            for c in codebook if c.id in codebook.parent_of), raw=raw)
        return
    from rich.text import Text
    from rich.tree import Tree

    from qcode.format.text import printable

    title = f"{codebook.name} (version {codebook.version}, {len(codebook)} codes"
    title += f"; codings by {' / '.join(coders)})" if coders else ")"
    tree = Tree(Text(printable(title), style="bold"))
    nodes: dict[str | None, Tree] = {None: tree}
    for code in codebook:
        if code.id not in codebook.parent_of:
            continue
        label = Text()
        label.append(printable(code.id), style=f"bold {code.color}" if code.color else "bold")
        label.append(f"  {printable(code.label)}")
        if code.key:
            label.append(f"  [{printable(code.key)}]", style="cyan")
        if not code.codable:
            label.append("  (folder)", style="dim")
        counts = usage.get(code.id, {})
        if coders and code.codable:
            label.append("  " + " / ".join(str(counts.get(coder, 0)) for coder in coders),
                         style="dim")
        nodes[code.id] = nodes[codebook.parent_of[code.id]].add(label)
    console().print(tree)


def _codes_since(project, since: str, format: TreeFormat, raw: bool) -> None:
    """``qcode codes --since VERSION``: the codes changed after VERSION, with when, and
    how many codings predate their newest definition (``qcode check`` warns of those)."""
    from qcode.cli.output import emit_csv, emit_json, write
    from qcode.errors import UsageError
    from qcode.store.versions import changed_since, predating_codings, version_key

    codebook = project.codebook
    if version_key(since) > version_key(codebook.version):
        raise UsageError(f"--since {since}: the codebook is at version {codebook.version}",
                         "name an earlier version (`qcode codes -f json` shows the version)")
    changed = changed_since(codebook, since)
    predating = {p.code: p.count for p in predating_codings(codebook, project.codings())}
    rows = [[code, codebook.get(code).label, " ".join(versions),
             predating.get(code, 0)] for code, versions in changed.items()]
    if format is TreeFormat.json:
        emit_json({"since": since, "version": codebook.version,
                   "codes": [{"id": r[0], "label": r[1], "changed_in": r[2].split(),
                              "predating": r[3]} for r in rows]})
    elif format is TreeFormat.csv:
        emit_csv(["id", "label", "changed_in", "predating"], rows, raw=raw)
    else:
        lines = [f"{codebook.name}: codes changed after version {since} "
                 f"(now {codebook.version})"]
        lines += [f"  {r[0]}  {r[1]}  (version {r[2]}; {r[3]} predating codings)"
                  for r in rows] or ["  none"]
        write("\n".join(lines) + "\n", for_people=True)


def transcripts(
    ctx: typer.Context,
    format: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="Output format (default: table on a terminal, csv otherwise).")
                      ] = None,
    raw: RawOpt = False,
) -> None:
    """List the transcripts with their attributes, size and codings per coder.

    Attributes are shown after the case tables are joined in.

    The table shows the declared attributes; csv and json give every attribute.
    Example: qcode transcripts -f csv > transcripts.csv
    """
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import cell, choose_format, emit_csv, emit_json

    project = open_project(ctx)
    guard(project, all_coders=True, uses=("attributes",))
    format = choose_format(TableFormat, format)
    items = project.transcripts
    words = project.corpus.word_counts()
    usage = project.transcript_usage()
    coders = project.coders_with_codings()
    attributes = project.attribute_names()
    if format is TableFormat.json:
        emit_json([
            {"id": t.id, "file": t.file, "attributes": t.attributes,
             "passages": t.passage_count, "words": words[t.id],
             "codings": {coder: usage.get(t.id, {}).get(coder, 0) for coder in coders}}
            for t in items])
        return
    if format is TableFormat.csv:
        emit_csv(["id", "file", *attributes, "passages", "words",
                  *[f"codings_{coder}" for coder in coders]],
                 ([t.id, t.file, *[cell(t.attributes.get(a)) for a in attributes],
                   t.passage_count, words[t.id],
                   *[usage.get(t.id, {}).get(coder, 0) for coder in coders]] for t in items),
                 raw=raw)
        return
    from qcode.cli.tables import Column, print_table

    declared = list(project.require_config().attributes)
    shown = declared or attributes[:2]
    columns = [Column("id", label=True), *[Column(name) for name in shown],
               Column("passages", numeric=True), Column("words", numeric=True),
               *[Column(coder, numeric=True) for coder in coders]]
    rows = [[t.id, *[cell(t.attributes.get(a)) for a in shown], str(t.passage_count),
             str(words[t.id]), *[str(usage.get(t.id, {}).get(c, 0)) for c in coders]]
            for t in items]
    print_table(f"{project.name}: {len(items)} transcripts (codings per coder)", columns, rows)


def show(
    ctx: typer.Context,
    transcript: Annotated[str, typer.Argument(help="Transcript id.")],
    coder: OptionalCoderOpt = None,
    format: Annotated[TextFormat, typer.Option("--format", "-f", help="Output format.")
                      ] = TextFormat.text,
) -> None:
    """Show a transcript's numbered passages, speakers and the codes on each."""
    from qcode.cli.context import guard, open_project
    from qcode.cli.output import cell, emit_json

    project = open_project(ctx)
    item = project.transcript(transcript)
    if coder is not None and coder not in project.coders:
        from qcode.cli.output import note
        from qcode.format.names import check_coder_name, did_you_mean

        check_coder_name(coder)
        guess = did_you_mean(coder, project.coders)
        note(f"note: coder {coder!r} has no codings yet"
             + (f" (did you mean {guess[0]!r}?)" if guess else ""))
    guard(project, None if coder is None else [c for c in [coder] if c in project.coders],
          all_coders=coder is None, uses=("codebook",))
    by_passage = project.passage_codings(item, coder)
    several = coder is None and len(project.coders) > 1
    memos = project.memos(f"transcript:{item.id}")
    if format is TextFormat.json:
        emit_json({
            "transcript": item.id, "file": item.file, "attributes": item.attributes,
            "memos": [m.to_dict() for m in memos],
            "passages": [
                {"number": p.number, "start": p.start, "end": p.end, "speaker": p.speaker,
                 "line": p.line, "text": item.body[p.start:p.end],
                 "codes": [{"code": c.code, "coder": c.coder, "start": c.start, "end": c.end,
                            "id": c.id, "memo": c.memo} for c in by_passage[p.number]]}
                for p in item.passages]})
        return
    from qcode.cli.output import Line, print_lines

    attrs = ", ".join(f"{k}: {cell(v)}" for k, v in item.attributes.items())
    out: list[Line] = [([(f"{item.id}  ({item.file}; {attrs})", "bold")], False)]
    for m in memos:  # the transcript's memos (memos/), before its passages
        when = m.updated or m.created
        out.append(([(f"\nmemo by {m.author or 'no author'}" + (f", {when}" if when else "")
                      + f" ({m.file}):", "italic")], False))
        out.append(([(m.text, "")], True))
    codebook = project.codebook
    for p in item.passages:
        head = [(f"\n[{p.number}]", "bold")]
        if p.speaker:
            head.append((f" {p.speaker}", "bold cyan"))
        codings = by_passage[p.number]
        labels = []
        for c in codings:
            code = codebook.resolve(c.code)
            name = code.id if code else c.code
            partial = "" if (c.start, c.end) == (p.start, p.end) else "~"
            labels.append((f"{partial}{name}" + (f"@{c.coder}" if several else ""),
                           code.color if code and code.color else "magenta"))
        if codings:
            head.append(("  ", ""))
            for i, (label, color) in enumerate(labels):
                head.append((("  " if i else "") + label, f"bold {color}"))
        out.append((head, False))
        out.append(([(item.body[p.start:p.end], "")], True))
        for c, (label, _color) in zip(codings, labels, strict=True):
            if c.memo:  # under the passage, every line of it, indented
                first, *rest = c.memo.split("\n")
                lines = [f"  memo on {label}: {first}", *(f"    {line}" for line in rest)]
                out.append(([("\n".join(lines), "italic")], True))
    print_lines(out)
