"""The ``qcode`` command line: thin typer commands over the library (``qcode.project``).

The modules here do not use ``from __future__ import annotations``: typer reads every
command's signature on every start, and string annotations would be compiled anew each
time (a sixth of ``qcode --help``). Names imported only for type checking are quoted.
"""
