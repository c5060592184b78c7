"""The coding workflow: how codings are made, reviewed and repaired.

Owns the interactive session behind the full-screen coder and line mode (``session``),
the key bindings of every screen (``keymap``), adjudication of two coders into a
consensus (``adjudication``), reviewing suggestions (``review``), auto-coding by rules
(``autocode``), re-anchoring codings after a transcript edit and placing orphans
(``anchoring``, ``orphans``).

Every coding event is written through ``qcode.store.log.CodingLog``. May import
``qcode.format``, ``qcode.store``, ``qcode.analysis`` and the shared vocabulary; never
``qcode.project``, the CLI or the TUI.
"""
