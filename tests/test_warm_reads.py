"""What a warm command reads of a cached transcript: its body, cut where a full read cuts
it, without parsing the front matter again (``split_front_matter(parse=False)``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.format.text import normalize
from qcode.format.transcripts import FrontMatterError, split_front_matter

STUDY = Path(__file__).resolve().parents[1]

front_lines = st.lists(st.sampled_from(["school: Voss", "id: x", "note: 'a: b'", "n: 3",
                                        "  ", "# comment", "tags: [a, b]"]), max_size=4)
closers = st.sampled_from(["---", "...", "--- ", "...\t"])
bodies = st.text(alphabet=st.sampled_from("ab -:\n.#"), max_size=60)


@given(front=front_lines, closer=closers, body=bodies, with_front=st.booleans())
def test_the_body_alone_is_the_body_of_a_full_read(front, closer, body, with_front):
    text = "\n".join(["---", *front, closer, body]) if with_front else body
    try:
        full = split_front_matter(text)
    except FrontMatterError:  # refused by a full read: never cached
        return
    assert split_front_matter(text, parse=False)[1] == full[1]


def test_every_bundled_transcript_has_the_same_body_either_way():
    files = sorted((STUDY / "transcripts").glob("*.md"))
    assert files
    for path in files:
        text = normalize(path.read_text("utf-8"))
        assert split_front_matter(text, parse=False)[1] == split_front_matter(text)[1]


def test_the_passage_at_an_offset_is_found_from_the_columns_alone():
    """A transcript from the cache finds the passage at an offset without building an
    object per passage, and finds the same one as its full list of passages."""
    from qcode import Project

    project = Project.open(Path(__file__).resolve().parents[1])
    for cached in project.transcripts:
        fresh = Project.open(project.root).transcript(cached.id)
        length = cached.body_length
        for offset in (-1, 0, 1, length // 3, length // 2, length - 1, length, length + 5):
            found = fresh.passage_at(offset)
            assert fresh._passages is None  # nothing built for it
            assert found == cached.passage_at(offset) == next(
                (p for p in cached.passages if p.start <= offset < p.end), None)


@given(data=st.data(), length=st.integers(-3, 3_000))
def test_the_passage_range_is_that_of_the_overlapping_passages(data, length):
    """What `export tables` writes as a coding's first and last passage; spans that start
    or end on a passage's edge included."""
    from qcode import Project

    transcript = Project.open(Path(__file__).resolve().parents[1]).transcript(
        "voss-principal")
    starts, ends = transcript.passage_columns()[:2]
    edges = sorted({e + shift for e in (*starts, *ends) for shift in (-1, 0, 1)})
    start = data.draw(st.one_of(st.sampled_from(edges), st.integers(-5, 40_000)))
    end = data.draw(st.one_of(st.sampled_from(edges), st.just(start + length)))
    overlapping = transcript.passages_overlapping(start, end)
    expected = (overlapping[0].number, overlapping[-1].number) if overlapping else None
    assert transcript.passage_range(start, end) == expected


def _warm(root: Path) -> None:
    """Cache the project, its files old enough for the cache to trust their stamps."""
    import os
    import time

    from qcode import Project

    old = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    Project.open(root).check()


def test_counting_words_lets_a_cached_body_go_and_keeps_a_loaded_one(coded):
    from qcode import Project
    from qcode.format.text import count_words

    _warm(coded.root)
    project = Project.open(coded.root)
    for transcript in project.transcripts:
        assert transcript.loaded_body is None
        words = transcript.words
        assert transcript.loaded_body is None  # read for the count, then let go
        assert words == count_words(transcript.body) > 0
    kept = Project.open(coded.root).transcripts[0]
    body = kept.body
    assert kept.words == count_words(body) and kept.loaded_body is body


def test_a_table_lets_go_of_its_cached_columns_and_reads_them_again(coded, monkeypatch):
    """`export tables` lets each coder's ids, times and lines go once written: read again
    they are what they were, and a table replayed here (no cache to read them from)
    keeps them."""
    from qcode import Project

    _warm(coded.root)
    for table in Project.open(coded.root).coding_tables():
        assert table._rest is not None
        before = [list(table.ids), list(table.ats), list(table.lines), list(table.offsets),
                  list(table.lengths), list(table.digests)]
        texts = [table.read_text(row) for row in range(len(table))]
        table.release_rest()
        assert table._rest is not None and table._ids == []
        assert [table.ids, table.ats, table.lines, table.offsets, table.lengths,
                table.digests] == before
        assert [table.read_text(row) for row in range(len(table))] == texts
    monkeypatch.setenv("QCODE_NO_CACHE", "1")
    for table in Project.open(coded.root).coding_tables():
        ids = table.ids
        table.release_rest()
        assert table.ids is ids and len(ids) == len(table) > 0


def test_a_parsed_transcript_lets_its_body_go_after_the_audit_and_reads_it_again(
        coded, project_dir):
    """A first (cold) counting command lets go of the bodies its replays compared coded
    texts with; text shown later is read again from the file, which must not have
    changed since it was parsed."""
    import shutil

    from qcode import Project
    from qcode.errors import QcodeError

    shutil.rmtree(coded.root / ".qcode", ignore_errors=True)
    project = Project.open(coded.root)
    project.assess(all_coders=True)
    transcripts = project.corpus.transcripts
    assert all(t.loaded_body is None for t in transcripts)
    fresh = {t.id: t.body for t in Project.open(coded.root).corpus.transcripts}
    assert {t.id: t.body for t in transcripts} == fresh  # read again, the same text
    voss = project.corpus.transcript("voss-principal")
    voss.release_body()
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eide")
    with pytest.raises(QcodeError, match="changed while qcode was reading it"):
        _ = voss.body


def test_word_counts_are_kept_per_content_and_read_no_body_again(coded, project_dir,
                                                                 monkeypatch):
    from qcode import Project
    from qcode.format.text import count_words
    from qcode.format.transcripts import BodyLoader

    _warm(coded.root)
    first = Project.open(coded.root).corpus.word_counts()  # counted, then kept
    assert first == {t.id: count_words(t.body)
                     for t in Project.open(coded.root).corpus.transcripts}
    reads = []
    real = BodyLoader.body
    monkeypatch.setattr(BodyLoader, "body", lambda self, t: reads.append(t.id) or real(self, t))
    assert Project.open(coded.root).corpus.word_counts() == first
    assert reads == []  # every count came from the cache
    project_dir.replace("transcripts/voss-principal.md", "Lærerne eier", "Lærerne eier ikke")
    changed = Project.open(coded.root).corpus.word_counts()
    assert changed["voss-principal"] == first["voss-principal"] + 1
    assert {k: v for k, v in changed.items() if k != "voss-principal"} == {
        k: v for k, v in first.items() if k != "voss-principal"}
