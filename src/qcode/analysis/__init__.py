"""Analysis: what the codings say, counted and retrieved. Read-only.

Owns the scope of a count (coders, ``--where`` filters, codes: ``scope``), the counting
behind every matrix, frequency and co-occurrence table (``counting``, ``cooccur``), the
coded segments as a table (``segments``), retrieval (``retrieval``) and the code query
language (``query``), intercoder agreement statistics (``agreement``) and reliability
over passages and characters (``reliability``).

Functions here take the data they count (a ``Corpus``: codebook, transcripts, coding
tables), never the ``Project``. May import ``qcode.format``, ``qcode.store``, the shared
vocabulary, numpy and pandas (pandas only in the modules that return DataFrames, which
are imported on first use: this package's ``__init__`` imports nothing heavy).
"""
