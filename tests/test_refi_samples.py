"""Every sample that real tools wrote (shared/reference/refi-qda/samples) imports, with the
numbers of codes, sources and codings each one holds, and `qcode check` passes on the
result. The expected numbers are the element counts in the reference's
validation-results.json, less what qcode cannot import (named in the report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_shared
from qcode import Project
from qcode.interchange.qdc import import_codebook
from qcode.project import import_qdpx as import_project


@pytest.fixture(scope="module")
def samples() -> Path:
    """The REFI-QDA reference samples (../shared beside the clone, or $QCODE_REFI_SAMPLES)."""
    return require_shared("refi-samples")


# sample: (codes, transcripts, codings, coders, skipped entries)
PROJECTS = {
    "atlasti/atlasti-23.2.3-win_blank-project.qdpx": (0, 0, 0, 0, 0),
    "atlasti/atlasti-23.2.3-win_target-project.qdpx": (3, 0, 0, 0, 0),
    # 6 text sources whose .txt files the archive lacks, 6 PDF/picture/audio/video sources,
    # 4 code sets, 1 link, 1 graph.
    "atlasti/atlasti-8.4.0-mac_standard-project.qdpx": (14, 0, 0, 0, 18),
    "refi-spec/refi-1.5-annexA2_atlasti-8.4.0_project.qde": (14, 0, 0, 0, 18),
    "maxqda/maxqda-24.7.0_icls-themes_scrambled-text.qdpx": (307, 10, 0, 0, 0),
    "nvivo/nvivo-12.6-win_oltas0517_scrambled-text.qdpx": (152, 2, 303, 1, 0),
    "nvivo/nvivo-15.0.0-mac_qc-roundtrip.qdpx": (262, 2, 0, 0, 0),
    "qc/qc-1.3.2_demo_scrambled-text.qdpx": (262, 2, 205, 1, 0),
    "qualcoder/qualcoder-3.8.2_scrambled-2-interviews.qdpx": (285, 2, 82, 1, 0),
}

# sample: (codes, of which isCodable="false" folders, skipped entries)
CODEBOOKS = {
    "atlasti/atlasti-23.4.0-win_codebook.qdc": (1, 0, 1),      # skipped: a code set
    "qualcoder/qualcoder-3.8.2_codebook.qdc": (285, 55, 0),    # 230 codes in 55 categories
    "refi-spec/refi-1.5-annexA1_codebook.qdc": (6, 2, 0),
    "taguette/taguette-1.4.1_codebook.qdc": (3, 0, 0),         # empty <Sets/> is tolerated
    "taguette/taguette-1.5.2_tests-expected-codebook.qdc": (3, 0, 0),
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, samples):
    """Import each project sample once for this module: (report, folder)."""
    cache: dict[str, tuple] = {}

    def get(sample: str):
        if sample not in cache:
            folder = tmp_path_factory.mktemp("sample") / "p"
            cache[sample] = (import_project(samples / sample, folder), folder)
        return cache[sample]

    return get


def test_every_sample_is_covered(samples):
    found = {p.relative_to(samples).as_posix() for p in samples.glob("*/*")
             if p.suffix in (".qdpx", ".qde", ".qdc")}
    assert found == set(PROJECTS) | set(CODEBOOKS)


@pytest.mark.parametrize("sample", sorted(PROJECTS))
def test_project_sample_imports(sample, imported):
    codes, transcripts, codings, coders, skipped = PROJECTS[sample]
    report, folder = imported(sample)
    counts = report.counts
    assert (counts["codes"], counts["transcripts"], counts["codings"], counts["coders"],
            len(report.skipped)) == (codes, transcripts, codings, coders, skipped)
    assert report.check["ok"], report.check["errors"][:3]
    project = Project.open(folder)
    assert len(project.codebook) == codes
    assert len(project.transcripts) == transcripts
    assert len(project.codings()) == codings


def test_nvivo_positions_are_utf16_with_crlf(imported):
    """FORMAT-NOTES: 274 of NVivo's 303 selections fall exactly on line boundaries when
    positions are UTF-16 units with CRLF counted as two (only 14 as code points)."""
    report, folder = imported("nvivo/nvivo-12.6-win_oltas0517_scrambled-text.qdpx")
    assert report.offsets["model"] == "utf16"
    project = Project.open(folder)
    on_lines = 0
    for coding in project.codings():
        body = project.transcript(coding.transcript).body
        starts_line = coding.start == 0 or body[coding.start - 1] == "\n"
        ends_line = coding.end == len(body) or body[coding.end] == "\n"
        on_lines += starts_line and ends_line
    assert on_lines == 274
    # Users: codings are made by "Gergo"; the sources' creator made none.
    assert project.coders == ["gergo"]


def test_qualcoder_selections_match_their_quoted_text(imported):
    report, folder = imported("qualcoder/qualcoder-3.8.2_scrambled-2-interviews.qdpx")
    assert report.offsets == {"model": "codepoints", "by": "origin",
                              "origin_model": "codepoints", "checked": 82, "matched": 82,
                              "mismatched": 0}
    project = Project.open(folder)
    assert sorted(t.id for t in project.transcripts) == ["interview_a", "interview_b"]
    assert project.coders == ["coder_a"]


def test_qc_line_selections_start_on_their_line(imported):
    report, folder = imported("qc/qc-1.3.2_demo_scrambled-text.qdpx")
    assert (report.offsets["checked"], report.offsets["matched"]) == (158, 158)
    project = Project.open(folder)
    assert all(c.text.endswith("\n") and c.text.count("\n") == 1 for c in project.codings())
    assert {t.id for t in project.transcripts} == {"board_2017", "admin-1"}
    assert any("no creation time" in n for n in report.notes)


def test_maxqda_document_sets_become_an_attribute(imported):
    _report, folder = imported("maxqda/maxqda-24.7.0_icls-themes_scrambled-text.qdpx")
    project = Project.open(folder)
    groups = sorted(t.attributes["sets"] for t in project.transcripts)
    assert groups == ["ICLS 2024"] * 5 + ["ICLS 2025"] * 5
    description = project.codebook.get("theme-affordances").description
    assert description == "This code is applied when a paper includes the idea of affordances."


def test_atlas_report_names_every_source_it_leaves_out(imported):
    report, folder = imported("atlasti/atlasti-8.4.0-mac_standard-project.qdpx")
    sources = {s.name: s.reason for s in report.skipped if s.kind == "source"}
    assert len(sources) == 12
    assert "missing from the archive (3 codings left out)" in sources["Mabel.txt"]
    assert sources["cornflakes-n-milk.jpg"].startswith("a picture")
    recipe = next(name for name in sources if name.startswith("Pay de Lim"))  # "ó" decomposed
    assert sources[recipe] == "a PDF: qcode imports plain-text sources only (6 codings left out)"
    memos = (folder / "memos" / "imported-notes.md").read_text("utf-8")
    assert "This is a great project by a dynamic team" in memos
    # ATLAS.ti 8 flattened its hierarchy into names: kept as labels.
    assert Project.open(folder).codebook.get("coke-diet-coke").label == "Coke::diet Coke"


@pytest.mark.parametrize("sample", sorted(CODEBOOKS))
def test_codebook_sample_imports(sample, tmp_path, samples):
    codes, folders, skipped = CODEBOOKS[sample]
    target = tmp_path / "codebook.yaml"
    report = import_codebook(samples / sample, target, merge=False, namespace_name=None)
    assert (report.counts["codes"], len(report.skipped)) == (codes, skipped)
    from qcode.format.codebook import load_codebook
    from qcode.problems import Problems

    problems = Problems()
    codebook = load_codebook(target, "codebook.yaml", problems)
    assert not problems.errors and len(codebook) == codes
    assert sum(not c.codable for c in codebook.codes) == folders
    assert (tmp_path / "codebook.guids.yaml").exists()
