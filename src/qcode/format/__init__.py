"""The public format: reading and writing the files a project is made of.

Owns ``qcode.yaml`` (``config``), the codebook, transcripts (front matter, segmentation),
case tables, YAML read safely with line numbers (``yamlio``), pydantic validation turned
into file:line problems (``validation``), the text rules every offset depends on
(``text``), safe file writing (``files``), the derived-data cache under ``.qcode/cache/``
(``cache``) and the names people type (``names``: did-you-mean, coder names, plurals).

May import: the standard library, pydantic, ruamel.yaml, rapidfuzz, charset-normalizer,
and ``qcode.errors``, ``qcode.problems``, ``qcode._bulk``. Nothing else of qcode.
"""
