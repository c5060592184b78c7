"""The version of qcode: one place, read by the package, the CLI and every file it writes."""

import sys

__version__ = "0.1.0"


def version_line() -> str:
    """What ``qcode --version`` prints."""
    python = ".".join(str(p) for p in sys.version_info[:3])
    return f"qcode {__version__} (Python {python}, {sys.executable})"
