"""``qcode.yaml``: the project file, and finding it from the current directory upwards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from qcode.errors import ProjectNotFound
from qcode.format.names import CODER_PATTERN
from qcode.format.validation import StrictModel

CONFIG_NAME = "qcode.yaml"


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
    segmentation: Literal["turns", "paragraphs", "lines"] = "turns"
    cases: list[CaseTableSpec] = []
    attributes: dict[str, AttributeSpec] = {}
    primary_coder: Annotated[str, Field(pattern=CODER_PATTERN)] | None = None
    keys: dict[str, str] = {}  # interactive coder: binding id -> keys (see qcode.keymap)


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
