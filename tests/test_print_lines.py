"""Text for people written to a pipe or a file without rich is the text rich writes there."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.cli.output import print_lines, print_lines_with_rich

RICH_ENVIRONMENT = ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")
styles = st.sampled_from(["", "bold", "italic", "bold cyan", "bold #aa3311", "bold magenta"])
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
lines = st.lists(st.tuples(st.lists(st.tuples(texts, styles), max_size=4), st.booleans()),
                 max_size=6)


@contextmanager
def _plain_environment():
    saved = {name: os.environ.pop(name) for name in RICH_ENVIRONMENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _written(write, given_lines) -> str:
    real, sys.stdout = sys.stdout, io.StringIO()
    try:
        write(given_lines)
        return sys.stdout.getvalue()
    finally:
        sys.stdout = real


@settings(max_examples=300, deadline=None)
@given(given_lines=lines)
def test_a_pipe_gets_the_bytes_rich_would_write(given_lines):
    with _plain_environment():
        assert _written(print_lines, given_lines) == _written(print_lines_with_rich,
                                                               given_lines)


def _run(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    code = ("import sys\nfrom qcode.cli.output import print_lines\n"
            "print_lines([([('plain words', 'bold')], False)])\n"
            "print('rich' in sys.modules, file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if k not in RICH_ENVIRONMENT}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, **env_extra}, check=True)


def test_a_pipe_needs_no_rich_and_forced_colour_goes_through_it():
    piped = _run({})
    assert (piped.stdout, piped.stderr.strip()) == ("plain words\n", "False")
    coloured = _run({"FORCE_COLOR": "1"})
    assert coloured.stdout.startswith("\x1b[1m") and coloured.stderr.strip() == "True"
