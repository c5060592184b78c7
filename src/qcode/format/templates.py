"""What ``qcode init`` writes: a small, valid project to start from."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from qcode.errors import QcodeError
from qcode.format.config import CONFIG_NAME
from qcode.format.files import atomic_write_text

CONFIG = """\
# qcode project file: see docs/format.md
name: {name}
codebook: codebooks/codebook.yaml
transcripts: transcripts          # searched recursively for *.md and *.txt
codings: codings                  # one append-only <coder>.jsonl per coder
segmentation: turns               # turns | paragraphs | lines
# cases:                          # tables of case attributes, joined by key
#   - file: cases/cases.csv
#     key: site
attributes: {{}}
#   site: {{required: true}}
#   informant_group: {{required: true, values: [manager, employee]}}
# primary_coder: coder-a
"""

CODEBOOK = """\
name: {name}
version: "0.1"
codes:
  - id: motivation
    label: Motivation
    key: a
    color: "#1f77b4"
    description: >-
      Why the informant or the organisation took up the activity.
    include: >-
      Reasons, motives and expectations stated by the informant.
    exclude: >-
      What actually came out of it: use outcomes.
    examples:
      - "We started because our pupils asked for it."
    keywords: [why, reason, motive]
  - id: outcomes
    label: Outcomes
    codable: false
    color: "#2ca02c"
    description: >-
      Grouping folder for what came out of the activity.
    children:
      - id: outcomes-personal
        label: Personal outcomes
        key: p
        color: "#98df8a"
        description: >-
          Changes in confidence, independence or maturity.
        examples:
          - "She came back much more sure of herself."
        keywords: [confidence, independent]
"""

GITIGNORE = """\
.qcode/
exports/
"""


def create_project(directory: Path, name: str | None = None) -> list[Path]:
    """Lay out a new project in ``directory``; refuses if any file it would write exists."""
    directory = Path(directory)
    name = name or directory.resolve().name or "qcode project"
    files = {
        directory / CONFIG_NAME: CONFIG.format(name=_yaml_text(name)),
        directory / "codebooks" / "codebook.yaml": CODEBOOK.format(
            name=_yaml_text(name)),
        directory / "transcripts" / ".gitkeep": "",
        directory / "codings" / ".gitkeep": "",
        directory / ".gitignore": GITIGNORE,
    }
    if (directory / CONFIG_NAME).exists():
        raise QcodeError(f"{directory / CONFIG_NAME} already exists: this is a project already",
                         "choose an empty folder for `qcode init`")
    clashes = [p for p in files if p.exists() and p.name != ".gitignore"]
    if clashes:
        raise QcodeError(f"{clashes[0]} already exists; nothing was created",
                         "choose an empty folder for `qcode init`")
    missing = {folder for path in files for folder in (path.parent, *path.parent.parents)
               if not folder.exists()}
    made = sorted(missing, key=lambda folder: len(folder.parts), reverse=True)
    created: list[Path] = []
    try:
        for path, text in files.items():
            if path.name == ".gitignore" and path.exists():
                continue  # the user's own .gitignore stays as it is
            atomic_write_text(path, text)
            created.append(path)
    except QcodeError:
        # A full disk or a read-only folder part way: take back what was made, so the
        # folder is as it was (no half a project that `qcode init` then refuses).
        for path in created:
            path.unlink(missing_ok=True)
        for folder in made:  # deepest first, only the ones made here
            with contextlib.suppress(OSError):  # not empty: not ours to remove
                folder.rmdir()
        raise
    return created


def _yaml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar
