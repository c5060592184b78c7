"""How ``qcode segments`` and ``query`` show quotes at a terminal, and ``--reveal``."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qcode.render.segment_memos import SegmentMemos


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def revealed(frame: "pd.DataFrame", root: Path, key: str | None, output: Path | None
             ) -> "pd.DataFrame":
    """The quotes with the key's placeholders mapped back to the originals."""
    from qcode.errors import UsageError
    from qcode.format.pseudonym_files import Revealer
    from qcode.format.pseudonyms import PseudonymKey, key_path

    path = key_path(key)
    if path is None:
        raise UsageError("--reveal needs the key", "name it with --key PATH or QCODE_KEY")
    if output is not None and Path(output).resolve().is_relative_to(root):
        raise UsageError(f"--reveal writes originals: {output} is inside the project",
                         "write it outside the project, or leave out --reveal")
    reveal = Revealer(PseudonymKey.load(path).entries)
    from pandas.api.types import is_object_dtype, is_string_dtype

    kept = {"transcript", "code"}
    return frame.assign(**{column: frame[column].map(reveal) for column in frame.columns
                           if column not in kept and (is_string_dtype(frame[column])
                                                      or is_object_dtype(frame[column]))})


def print_quotes(records: list[dict[str, Any]], title: str, query: bool,
                 by: str | None = None, memos: "SegmentMemos | None" = None) -> None:
    from rich.text import Text

    from qcode.analysis.scope import MISSING
    from qcode.cli.output import console, plain_text
    from qcode.render.segment_memos import memos_terminal
    from qcode.render.tables import CHANGED_MARK

    out = console()
    out.print(plain_text(f"{title} ({len(records)} {'passages' if query else 'segments'})",
                   style="bold"))
    current = group = None
    for row in records:
        if not query and row["code"] != current:
            current, group = row["code"], None
            out.print(plain_text(f"\n{row['label']} ({current})", style="bold underline"))
            for line in memos_terminal(memos.for_code(current)) if memos else []:
                out.print(plain_text(line, style="magenta"), soft_wrap=True)
        if by and by in row:  # a heading per value, as the md and html groups have
            value = MISSING if is_missing(row[by]) else row[by]
            if value != group:
                group = value
                out.print(plain_text(f"\n{by}: {value}", style="bold"))
                for line in memos_terminal(memos.for_value(row[by])) if memos else []:
                    out.print(plain_text(line, style="magenta"), soft_wrap=True)
        where = f"{row['transcript']} [{row['passage']}]"
        if row.get("speaker"):
            where += f" {row['speaker']}"
        if row.get("coders"):
            where += f" · {row['coders']}"
        out.print(plain_text(f"\n{where}", style="cyan"))
        if row.get("text_changed"):
            out.print(Text(CHANGED_MARK, style="bold yellow"))
        out.print(plain_text(row["text"]), soft_wrap=True)
        if row.get("memo"):  # later lines of a memo indented under its first
            memo = str(row["memo"]).replace("\n", "\n      ")
            out.print(plain_text(f"memo: {memo}", style="italic"), soft_wrap=True)
