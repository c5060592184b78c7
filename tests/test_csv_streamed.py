"""CSV on stdout is written a batch of rows at a time; the bytes are those of the whole
table written at once, whatever the batch size."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode.cli import output
from qcode.render.tables import delimited

cells = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(0, 100),
                  st.text(alphabet="ab=+-@\t\r\n,\"' ", max_size=6))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=3, max_size=3), max_size=12),
       batch=st.integers(1, 5), raw=st.booleans())
def test_batched_csv_equals_the_whole_table(rows, batch, raw):
    written: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "CSV_BATCH_ROWS", batch)
        patch.setattr(output, "write", written.append)
        output.emit_csv(["a", "=b", "c"], iter(rows), raw=raw)
    assert "".join(written) == delimited(["a", "=b", "c"], rows, ",", raw)
    assert len(written) == max(1, -(-len(rows) // batch))  # never more than a batch at once


def test_a_listing_is_the_same_in_small_batches(coded, cli, monkeypatch):
    whole = cli("segments", "--all-coders", "-f", "csv", "personal")
    assert whole.exit_code == 0, whole.output
    assert whole.stdout.count("\n") > 3
    monkeypatch.setattr(output, "CSV_BATCH_ROWS", 1)
    batched = cli("segments", "--all-coders", "-f", "csv", "personal")
    assert batched.stdout == whole.stdout
