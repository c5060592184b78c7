"""qcode: qualitative coding of interview transcripts, kept as plain text next to the data.

The public library API. Names are loaded on first use so that ``import qcode`` (and
``qcode --help``) stays cheap: nothing here imports pandas, pydantic or ruamel eagerly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qcode._version import __version__

__all__ = [
    "Code",
    "Codebook",
    "Coding",
    "Passage",
    "Problem",
    "Project",
    "QcodeError",
    "Transcript",
    "__version__",
]

_LAZY = {
    "Project": "qcode.project",
    "Codebook": "qcode.format.codebook",
    "Code": "qcode.format.codebook",
    "Transcript": "qcode.format.transcripts",
    "Passage": "qcode.format.transcripts",
    "Coding": "qcode.store.codings",
    "Problem": "qcode.problems",
    "QcodeError": "qcode.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from qcode.errors import QcodeError
    from qcode.format.codebook import Code, Codebook
    from qcode.format.transcripts import Passage, Transcript
    from qcode.problems import Problem
    from qcode.project import Project
    from qcode.store.codings import Coding


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'qcode' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
