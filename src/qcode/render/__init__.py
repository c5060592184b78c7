"""Rendering results as documents: CSV, TSV, JSON, Markdown, HTML, XLSX, heat maps, and
``qcode check``'s report as text or GitHub annotations.

Takes what ``qcode.analysis`` returns and writes it in a format; computes nothing.
openpyxl and matplotlib are imported only when an XLSX or a plot is written. May import
``qcode.format``, ``qcode.store``, ``qcode.analysis`` and the shared vocabulary.
"""
