"""REFI-QDA interchange: the codebook (``.qdc``) and project (``.qdpx``) exchange formats;
and ``tables``, the project as tidy CSV or Parquet tables for R, DuckDB and pandas.

``qdc`` and ``qdpx`` export and import; ``safety`` reads other tools' files without
trusting them (hardened XML, checked zip archives); ``offsets`` converts the positions
different tools count into qcode's offsets; ``guids`` keeps GUIDs stable. Nothing here is
imported by ``qcode --help``: the CLI imports it inside the commands.
"""
