"""`qcode codes rename|merge|move|add` (issue #20 item 1): the codebook edited in place,
every other byte kept, counts kept, each edit stamped into the version and changelog."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from qcode import Project
from qcode.errors import QcodeError
from qcode.format.codebook_changes import bump_minor, merge_codes, move_code, rename_code
from qcode.store.locks import SessionLock

REPO = Path(__file__).resolve().parents[1]
CODEBOOK = "codebooks/codes.yaml"
TODAY = "2026-12-08"


def test_minor_versions_count_up_as_numbers():
    assert [bump_minor(v) for v in ["2.0", "2", "1.9", "1.10", "3.1.4"]] == [
        "2.1", "2.1", "1.10", "1.11", "3.2"]


def test_rename_keeps_the_old_id_as_an_alias_and_logs_the_change(cli, project_dir):
    before = project_dir.read(CODEBOOK)
    result = cli("codes", "rename", "lead-strong", "lead-involved", "--note", "clearer")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        f"{CODEBOOK} changed: version 1 -> 1.1", "  renamed lead-strong to lead-involved",
        "  note: clearer"]
    after = project_dir.read(CODEBOOK)
    date = Project.open(project_dir.root).codebook.changelog[0].date
    # Only the version, the new changelog (before `codes:`), the id and the aliases change.
    expected = (before.replace('version: "1"', 'version: "1.1"')
                .replace("codes:\n", 'changelog:\n  - version: "1.1"\n'
                         f'    date: "{date}"\n    changes:\n'
                         "      - renamed lead-strong to lead-involved\n"
                         "    note: clearer\ncodes:\n", 1)
                .replace("- id: lead-strong", "- id: lead-involved")
                .replace("aliases: [anchoring]", "aliases: [anchoring, lead-strong]"))
    assert after == expected
    codebook = Project.open(project_dir.root).codebook
    assert codebook.resolve("lead-strong").id == "lead-involved"
    assert codebook.parent_of["lead-involved"] == "leadership"
    assert cli("check").exit_code == 0


def test_codings_under_the_old_id_count_for_the_new_one(coded, cli):
    before = coded.matrix("school", "segments", all_coders=True)
    assert cli("codes", "rename", "lead-strong", "lead-involved").exit_code == 0
    after = Project.open(coded.root).matrix("school", "segments", all_coders=True)
    assert after.loc["lead-involved"].tolist() == before.loc["lead-strong"].tolist()
    assert after.drop(index="lead-involved").equals(before.drop(index="lead-strong"))


def test_merge_dry_run_names_the_codings_that_will_count_for_the_target(coded, cli):
    path = coded.root / CODEBOOK
    before = path.read_bytes()
    result = cli("codes", "merge", "lead-weak", "lead-strong", "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert path.read_bytes() == before and data["written"] is False
    assert data["changes"] == ["merged lead-weak into lead-strong (its shortcut key 'W' "
                               "dropped)"]
    assert data["definitions"] == ["lead-strong"]
    # Hand-counted from the `coded` fixture: a has lead-strong once and lead-weak twice,
    # b lead-strong once and lead-weak twice (once on the same Voss turn).
    assert data["codings"] == {
        "a": {"count": 3, "transcripts": {"lier-teacher": 1, "strinda-coordinator": 1,
                                          "voss-principal": 1}},
        "b": {"count": 3, "transcripts": {"strinda-coordinator": 1, "voss-principal": 2}}}
    text = cli("codes", "merge", "lead-weak", "lead-strong", "--dry-run").stdout
    assert "a: 3 codings will count for lead-strong: lier-teacher (1), strinda-coordinator " \
           "(1), voss-principal (1)" in text
    assert "(dry run: nothing was written)" in text


def test_merge_appends_the_definitions_under_a_heading_and_drops_the_code(cli, project_dir):
    result = cli("codes", "merge", "lead-weak", "lead-strong")
    assert result.exit_code == 0, result.stderr
    assert "its shortcut key 'W' dropped" in result.stderr
    codebook = Project.open(project_dir.root).codebook
    strong = codebook.get("lead-strong")
    assert codebook.get("lead-weak") is None
    assert strong.aliases == ["anchoring", "lead-weak"]
    assert strong.description == ("Leaders carry the work.\n\nMerged from lead-weak "
                                  "(version 1.1): Leaders leave it to others.")
    assert strong.key == "L"
    assert codebook.changelog[0].definitions == ["lead-strong"]
    assert cli("check").exit_code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["rename", "lead-strng", "x"], "did you mean 'lead-strong'"),
    (["rename", "lead-strong", "lead-weak"], "already the id of code 'lead-weak'"),
    (["rename", "lead-strong", "anchoring"], "already a former id (alias) of code"),
    (["rename", "lead-strong", "Not An Id"], "cannot be a code id"),
    (["move", "leadership", "--under", "lead-strong"], "'lead-strong' is below 'leadership'"),
    (["move", "leadership", "--under", "leadership"], "cannot be its own parent"),
    (["move", "lead-weak", "--under", "leadership"], "already under 'leadership'"),
    (["merge", "leadership", "ownership"], "has children"),
    (["merge", "ownership", "leadership"], "grouping folder"),
    (["merge", "ownership", "ownrship"], "did you mean 'ownership'"),
    (["add", "ownership", "--label", "Again"], "already the id"),
])
def test_refusals_leave_the_file_untouched(cli, project_dir, args, message):
    before = (project_dir.root / CODEBOOK).read_bytes()
    result = cli("codes", *args)
    assert result.exit_code in (1, 2) and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert (project_dir.root / CODEBOOK).read_bytes() == before


def test_an_open_coding_session_blocks_every_edit(cli, project_dir, coded):
    before = (project_dir.root / CODEBOOK).read_bytes()
    lock = SessionLock(project_dir.root, "b")
    lock.acquire()
    try:
        result = cli("codes", "move", "personal", "--top")
        assert result.exit_code == 1
        assert "coder 'b' already has a `qcode code` session open (process " in result.stderr
        assert "close that session first" in result.stderr
        assert (project_dir.root / CODEBOOK).read_bytes() == before
        # A dry run writes nothing, so it does not wait for the session.
        assert cli("codes", "move", "personal", "--top", "--dry-run").exit_code == 0
    finally:
        lock.release()
    assert cli("codes", "move", "personal", "--top").exit_code == 0


def test_move_carries_the_children_and_add_logs_like_every_edit(cli, project_dir):
    assert cli("codes", "move", "outcomes", "--under", "leadership").exit_code == 0
    assert cli("codes", "add", "team", "--label", "Team", "--under", "personal").exit_code == 0
    codebook = Project.open(project_dir.root).codebook
    assert codebook.path("team") == "leadership/outcomes/personal/team"
    assert codebook.version == "1.2"
    assert [e.changes for e in codebook.changelog] == [
        ["added team under personal"], ["moved outcomes under leadership"]]
    assert cli("check").exit_code == 0


# -- the bundled study ----------------------------------------------------------------------------

@pytest.fixture
def study(tmp_path) -> Path:
    root = tmp_path / "study"
    for folder in ("codebooks", "transcripts", "cases", "codings"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "qcode.yaml", root / "qcode.yaml")
    return root


def kept_lines(text: str) -> list[str]:
    """The lines the researcher wrote around the codes: comments and blank lines."""
    return [line for line in text.splitlines() if not line.strip() or line.lstrip()
            .startswith("#")]


def test_study_merge_sums_the_rows_and_keeps_every_other_cell(study):
    """Segments measure: INTO's cell after the merge is its own and the sources' segments
    summed, less the segments that carried two of them (one coding each before, one
    segment after: a union, as the documents measure is); every other cell is kept."""
    path = study / "codebooks" / "vet-mobility.yaml"
    text = path.read_text("utf-8")
    project = Project.open(study)
    before = project.matrix("school", "segments", coders="consensus")
    sources = ["origin-enthusiast", "origin-invitation"]
    merged = {"origin-leadership", *sources}
    by_segment = Counter((c.transcript, c.start, c.end) for c in project.codings("consensus")
                         if project.codebook.canonical(c.code) in merged)
    school = {t.id: t.attributes["school"] for t in project.transcripts}
    union = Counter(school[t] for t, _s, _e in by_segment)
    doubled = Counter({key: 0 for key in union})
    for (transcript, _s, _e), n in by_segment.items():
        doubled[school[transcript]] += n - 1
    assert sum(doubled.values()) == 2  # the study has two such turns (Borgund, Verdal)
    change = merge_codes(path, sources, "origin-leadership", rel="codebooks/vet-mobility.yaml",
                         today=TODAY)
    assert change.version == "2.1" and change.definitions == ["origin-leadership"]
    after = Project.open(study).matrix("school", "segments", coders="consensus")
    summed = before.loc[["origin-leadership", *sources]].sum()
    for column in after.columns:
        assert after.loc["origin-leadership", column] == union[column]
        assert summed[column] - doubled[column] == union[column]
    assert after.drop(index="origin-leadership").to_dict() == before.drop(
        index=["origin-leadership", *sources]).to_dict()
    new = path.read_text("utf-8")
    # Every comment line is kept, in order; the blank lines too, plus the ones the merged
    # text adds between paragraphs (two sources × description, include, exclude).
    comments = [line for line in kept_lines(text) if line.strip()]
    assert [line for line in kept_lines(new) if line.strip()] == comments
    assert len(kept_lines(new)) == len(kept_lines(text)) + 2 * 3
    assert Project.open(study).check().errors == []


def test_study_rename_and_move_keep_every_cell(study):
    path = study / "codebooks" / "vet-mobility.yaml"
    rel = "codebooks/vet-mobility.yaml"
    text = path.read_text("utf-8")
    before = Project.open(study).matrix("school", "segments", all_coders=True)
    rename_code(path, "origin-history", "origin-story", rel=rel, today=TODAY)
    move_code(path, "origin-story", None, rel=rel, today=TODAY)
    with pytest.raises(QcodeError, match="below"):
        move_code(path, "origins", "origin-leadership", rel=rel, today=TODAY)
    after = Project.open(study).matrix("school", "segments", all_coders=True)
    assert after.loc["origin-story"].tolist() == before.loc["origin-history"].tolist()
    # The folder it left (`origins`) counts its children's segments: no longer this one's.
    assert (after.loc["origins"] <= before.loc["origins"]).all()
    assert after.loc["origins"].sum() < before.loc["origins"].sum()
    assert after.drop(index=["origin-story", "origins"]).to_dict() == before.drop(
        index=["origin-history", "origins"]).to_dict()
    assert kept_lines(path.read_text("utf-8")) == kept_lines(text)
    codebook = Project.open(study).codebook
    assert codebook.version == "2.2" and codebook.parent_of["origin-story"] is None
    assert Project.open(study).check().errors == []
