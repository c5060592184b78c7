"""The ``qcode`` command line: thin typer commands over the library (``qcode.project``)."""
