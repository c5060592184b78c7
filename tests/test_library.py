"""The library API, used the way a researcher's script would use it."""

from __future__ import annotations

import pytest

from qcode import Project, QcodeError
from qcode.errors import InvalidProject, NotCodable, ProjectNotFound, UnknownName


def test_open_and_read(project_dir):
    project = Project.open(project_dir.root)
    assert project.name == "Fixture study"
    assert [t.id for t in project.transcripts] == ["lier-teacher", "strinda-coordinator",
                                                   "voss-principal"]
    voss = project.transcript("voss-principal")
    assert voss.attributes == {"school": "Voss", "informant_group": "principal",
                               "pupils": "372", "model": "mature"}
    assert [p.speaker for p in voss.passages] == ["I", "Rektor", "I", "Rektor"]
    assert voss.passage(2).line == 8
    assert voss.body[voss.passage(4).start:voss.passage(4).end].endswith("«deres» prosjekt.")
    strinda = project.transcript("strinda-coordinator")
    assert "model" not in strinda.attributes  # an empty case cell is no value


def test_open_accepts_the_config_file_and_find_walks_up(project_dir):
    assert Project.open(project_dir.root / "qcode.yaml").root == project_dir.root.resolve()
    assert Project.find(project_dir.root / "transcripts").root == project_dir.root.resolve()
    with pytest.raises(ProjectNotFound):
        Project.open(project_dir.root / "transcripts")


def test_codebook_hierarchy_and_aliases(project_dir):
    codebook = Project.open(project_dir.root).codebook
    assert codebook.resolve("anchoring").id == "lead-strong"
    assert codebook.descendants("leadership") == ["leadership", "lead-strong", "lead-weak"]
    assert codebook.ancestors("lead-weak") == ["leadership"]
    assert codebook.path("personal") == "outcomes/personal"
    assert codebook.by_key("W").id == "lead-weak"
    with pytest.raises(UnknownName) as info:
        codebook.require("Strong anchoring!")
    assert info.value.suggestions == ["lead-strong"]
    with pytest.raises(NotCodable):
        codebook.require("leadership", codable=True)


def test_tag_untag_and_codings(project_dir):
    project = Project.open(project_dir.root)
    result = project.tag("voss-principal", 2, ["ownership", "anchoring"], coder="coder-a",
                         memo="m")
    assert result.added == ["ownership", "lead-strong"]
    again = project.tag("voss-principal", "2", ["lead-strong"], coder="coder-a")
    assert again.added == [] and again.unchanged == ["lead-strong"]
    codings = project.codings("coder-a")
    assert {c.code for c in codings} == {"ownership", "lead-strong"}
    assert all(c.memo == "m" and c.coder == "coder-a" for c in codings)
    frame = codings.to_frame()
    assert list(frame.columns[:4]) == ["id", "coder", "transcript", "start"]
    assert len(frame) == 2
    project.untag("voss-principal", 2, ["ownership"], coder="coder-a")
    assert [c.code for c in Project.open(project_dir.root).codings()] == ["lead-strong"]


def test_codings_under_an_alias_count_for_the_code(project_dir):
    project = Project.open(project_dir.root)
    project.tag("voss-principal", 2, ["lead-strong"], coder="a")
    project_dir.replace("codebooks/codes.yaml", "aliases: [anchoring]",
                        "aliases: [anchoring, lead-old]")
    project_dir.append_log("b", {"op": "add", "id": "x1", "transcript": "voss-principal",
                                 "start": 0, "end": 2, "code": "lead-old", "text": "I:",
                                 "at": "2026-01-01T00:00:00Z"})
    fresh = Project.open(project_dir.root)
    assert fresh.code_usage()["lead-strong"] == {"a": 1, "b": 1}
    assert fresh.check().ok


def test_check_report(project_dir):
    project_dir.replace("codebooks/codes.yaml", "key: p", "key: o")
    report = Project.open(project_dir.root).check()
    assert not report.ok
    assert [p.rule for p in report.errors] == ["code-key-duplicate"]
    assert report.to_dict()["problems"][0]["line"] == 28
    assert report.counts == {"codes": 6, "transcripts": 3, "coders": 0, "codings": 0}


def test_broken_codebook_raises_a_qcode_error_for_commands_that_need_it(project_dir):
    project_dir.write("codebooks/codes.yaml", "name: [broken\n")
    project = Project.open(project_dir.root)
    with pytest.raises(InvalidProject) as info:
        _ = project.codebook
    assert isinstance(info.value, QcodeError)
    assert info.value.problems[0].rule == "yaml-syntax"
    assert project.transcripts  # the rest still reads


def test_passage_lookup_by_offset(project_dir):
    voss = Project.open(project_dir.root).transcript("voss-principal")
    second = voss.passage(2)
    assert voss.passage_at(second.start + 3) == second
    assert voss.passage_at(second.end) is None  # the blank line after it
    assert voss.passages_overlapping(second.start - 5, second.start + 1) == [voss.passage(1),
                                                                             second]
