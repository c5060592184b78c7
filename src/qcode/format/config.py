"""``qcode.yaml``: the project file, and finding it from the current directory upwards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator

from qcode.errors import ProjectNotFound, file_in_the_way
from qcode.format.names import CODER_PATTERN
from qcode.format.validation import StrictModel, validate
from qcode.format.yamlio import YamlDocument, load_yaml_file

if TYPE_CHECKING:  # pragma: no cover
    from qcode.format.cache import Cache
    from qcode.problems import Problems

CONFIG_NAME = "qcode.yaml"
NAME_MAX = 255  # bytes in one file or folder name, on every file system qcode runs on


class CaseTableSpec(StrictModel):
    file: str
    key: str


AttributeType = Literal["text", "integer", "number", "boolean", "date"]


class AttributeSpec(StrictModel):
    required: bool = False
    values: list[str] | None = None
    type: AttributeType | None = None  # None: inferred from the values (see attributes.py)
    description: str | None = None


class ProjectConfig(StrictModel):
    name: str
    codebook: str
    transcripts: str = "transcripts"
    codings: str = "codings"
    memos: str = "memos"  # folder of memo files (qcode.format.memos)
    segmentation: Literal["turns", "paragraphs", "lines"] = "turns"
    cases: list[CaseTableSpec] = []
    attributes: dict[str, AttributeSpec] = {}
    # The attribute(s) naming a transcript's case, the unit of analysis (``--measure
    # cases``, ``cooccur --unit case``); None: the key of the first case table.
    case: (Annotated[str, Field(pattern=r"\S")]
           | list[Annotated[str, Field(pattern=r"\S")]] | None) = None
    primary_coder: Annotated[str, Field(pattern=CODER_PATTERN)] | None = None
    keys: dict[str, str] = {}  # interactive coder: binding id -> keys (see qcode.keymap)
    # How the full-screen coder names codes in the passages (ctrl+l switches for a session).
    code_names: Literal["ids", "labels"] = "ids"
    # Speaker labels (wildcards as in a `speaker:` rule) of the interviewers, whose turns
    # the coder's walk and next-uncoded pass over (see qcode.coding.session).
    interviewer: list[Annotated[str, Field(pattern=r"\S")]] = []

    @field_validator("interviewer", mode="before")
    @classmethod
    def _one_label_is_a_list(cls, value: Any) -> Any:
        """``interviewer: I`` is one label; ``interviewer:`` with nothing, none."""
        return [value] if isinstance(value, str) else [] if value is None else value


def find_project_root(start: Path | None = None, explicit: str | Path | None = None) -> Path:
    """The project folder: ``explicit`` (``--project``), else ``$QCODE_PROJECT``, else the
    nearest folder with a ``qcode.yaml`` from ``start`` (the current directory) upwards."""
    given = explicit if explicit not in (None, "") else os.environ.get("QCODE_PROJECT") or None
    if given is not None:
        path = Path(given).expanduser()
        if path.is_file() and path.name == CONFIG_NAME:
            return path.parent.resolve()
        if (path / CONFIG_NAME).is_file():
            return path.resolve()
        source = "--project" if explicit not in (None, "") else "QCODE_PROJECT"
        raise ProjectNotFound(f"no {CONFIG_NAME} in {path} (from {source})",
                              "point --project at a folder that has a qcode.yaml")
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ProjectNotFound(f"no {CONFIG_NAME} in {here} or any folder above it",
                          "run inside a qcode project, pass --project DIR, or create one "
                          "with `qcode init`")


def load_config(root: Path, problems: Problems, cache: Cache | None = None
                ) -> tuple[YamlDocument | None, ProjectConfig | None]:
    """Read and check ``qcode.yaml``: its document (for lines) and the config, or None
    with the problems recorded. A config whose paths lead outside the project is None."""
    doc = load_yaml_file(root / CONFIG_NAME, CONFIG_NAME, problems, cache)
    if doc is None:
        return None, None
    if not isinstance(doc.data, dict):
        problems.error("config-schema", CONFIG_NAME, 1,
                       "qcode.yaml must be a mapping (`name:`, `codebook:`, ...)")
        return doc, None
    config = validate(ProjectConfig, doc, CONFIG_NAME, problems, "config")
    if config is None:
        return doc, None
    _check_folders(root, config, doc, problems)
    return doc, config if _paths_inside(root, config, doc, problems) else None


def _paths_inside(root: Path, config: ProjectConfig, doc: YamlDocument,
                  problems: Problems) -> bool:
    """Every path qcode.yaml names stays inside the project, links followed: a cloned
    repository must not make qcode read or write elsewhere (``codings: ../../x``, or a
    committed ``codings`` link to a folder outside)."""
    root = root.resolve()
    named = [(("codebook",), config.codebook), (("transcripts",), config.transcripts),
             (("codings",), config.codings), (("memos",), config.memos),
             *[(("cases", i, "file"), spec.file) for i, spec in enumerate(config.cases)]]
    inside = True
    for loc, configured in named:
        if not (root / configured).resolve().is_relative_to(root):
            inside = False
            problems.error(
                "config-path-outside", CONFIG_NAME, doc.line_for(loc),
                f"{'.'.join(str(k) for k in loc)}: {configured!r} leads outside the "
                "project folder (links followed)",
                "keep the project's files inside its folder (copy a shared codebook "
                "in); qcode reads and writes nothing outside it")
    return inside


def _check_folders(root: Path, config: ProjectConfig, doc: YamlDocument,
                   problems: Problems) -> None:
    """``transcripts:`` and ``codings:`` name folders: a file there (``codings:
    qcode.yaml``) would make every command see no codings, or write beside it."""
    for key, configured in (("transcripts", config.transcripts),
                            ("codings", config.codings), ("memos", config.memos)):
        if any(len(os.fsencode(part)) > NAME_MAX for part in Path(configured).parts):
            problems.error(
                "config-not-a-folder", CONFIG_NAME, doc.positions.get((key,)),
                f"`{key}:` names a folder whose name is longer than the {NAME_MAX} bytes a "
                "file system allows", f"name the folder of the {key} (default: {key})")
            continue
        path = (root / configured).resolve()
        blocker = file_in_the_way(path)
        if blocker is not None:
            if blocker == str(path):
                what = "is a file"
            else:
                try:
                    shown = Path(blocker).resolve().relative_to(root.resolve()).as_posix()
                except ValueError:
                    shown = blocker
                what = f"cannot be made: {shown} is a file"
            problems.error(
                "config-not-a-folder", CONFIG_NAME, doc.positions.get((key,)),
                f"`{key}: {configured}` {what}, not a folder",
                f"name the folder of the {key} (default: {key})")


def interviewer_matcher(labels: Iterable[str]) -> Callable[[str | None], bool] | None:
    """Whether a passage's speaker label is an interviewer's (``interviewer:`` in
    qcode.yaml, matched as auto-coding matches a ``speaker:`` rule: whole label, any case,
    ``*`` and ``?`` wildcards); None when no interviewer is declared."""
    from qcode.format.rules import speaker_matcher

    return speaker_matcher(labels)


def check_interviewer_labels(config: ProjectConfig, doc: YamlDocument | None,
                             speakers: set[str], problems: Problems) -> None:
    """An ``interviewer:`` label that is no passage's speaker skips nothing: probably a
    typo (``Intervjuar``) or a label the transcripts spell otherwise. ``speakers``: the
    labels of every passage of the project (call it only when there are transcripts)."""
    for index, label in enumerate(config.interviewer):
        matches = interviewer_matcher([label])
        if matches is not None and not any(matches(s) for s in speakers):
            shown = ", ".join(sorted(speakers)[:8]) or "none"
            problems.warning(
                "config-interviewer-unused", CONFIG_NAME,
                doc.line_for(("interviewer", index)) if doc is not None else None,
                f"interviewer: {label!r} is the speaker label of no passage in any "
                "transcript, so no turn is skipped for it",
                f"write the label as the transcripts do (speaker labels: {shown}), or "
                "remove it")
