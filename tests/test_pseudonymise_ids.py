"""`qcode pseudonymise apply` on ids and settings: a transcript id that holds an original
is renamed with everything that names it, and qcode.yaml's declared values follow the
data, so the bundled study passes `check` (and `check --key`) right after apply."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import CODEBOOK, REPO, ProjectBuilder
from qcode.cli.app import app
from qcode.coding.pseudonymise_ids import slug_id, unique_id
from qcode.format.pseudonyms import PseudonymKey, rewrite_text
from qcode.format.transcripts import is_new_transcript_id
from qcode.project import Project
from qcode.store.events import propose_event
from qcode.store.suggestions import SuggestionLog

STUDY_KEY = """\
original,replacement,kind
Borgund,[Skole 1],school
Strinda,[Skole 2],school
Molde,[Sted 1],place
"""
STUDY_ORIGINALS = ["borgund", "strinda", "molde"]


def run(root: Path, *args: str):
    return CliRunner().invoke(app, ["--project", str(root), *args], catch_exceptions=False)


def json_of(root: Path, *args: str):
    result = run(root, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and ".qcode" not in path.relative_to(root).parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A copy of the bundled study, as a new user would make one, and a key beside it."""
    root = tmp_path / "study"
    root.mkdir()
    shutil.copy(REPO / "qcode.yaml", root)
    for folder in ("codebooks", "transcripts", "codings", "cases"):
        shutil.copytree(REPO / folder, root / folder)
    key = tmp_path / "key.csv"
    key.write_text(STUDY_KEY, encoding="utf-8")
    monkeypatch.delenv("QCODE_KEY", raising=False)
    return root, key


def test_the_bundled_study_is_clean_after_apply_with_every_count_and_coding_kept(study):
    root, key_file = study
    key = PseudonymKey.load(key_file)
    matcher = key.matcher(key.replacing())
    old_ids = [t.id for t in Project.open(root).transcripts]
    assert any(matcher.search(t) for t in old_ids)  # the study's ids name its schools
    matrix = json_of(root, "matrix", "--by", "school", "--format", "json")
    segments = json_of(root, "segments", "--all-coders", "--format", "json")
    codings = {c.id: (c.coder, c.code, c.transcript, c.text)  # read now: texts are lazy
               for c in Project.open(root).codings()}
    config_before = (root / "qcode.yaml").read_text("utf-8")

    applied = run(root, "pseudonymise", "apply", "--key", str(key_file))
    assert applied.exit_code == 0, applied.output
    for original in STUDY_ORIGINALS:  # the summary names new ids only
        assert original not in applied.output.lower()
    assert "ids are not renamed" not in applied.output

    check = run(root, "check")
    assert check.exit_code == 0, check.output
    residue = run(root, "check", "--key", str(key_file))
    assert residue.exit_code == 0, residue.output
    assert "identifier-residue" not in residue.output

    project = Project.open(root)
    ids = {old: new for old, new in zip(old_ids, _renamed(old_ids, matcher), strict=True)}
    assert sorted(t.id for t in project.transcripts) == sorted(ids.values())
    assert sum(old != new for old, new in ids.items()) == 9
    for transcript in project.transcripts:  # file name and front matter id agree
        assert Path(transcript.file).stem == transcript.id
        assert transcript.front_matter.get("id", transcript.id) == transcript.id

    def mapped(value: str) -> str:
        return rewrite_text(value, matcher).text

    after = json_of(root, "matrix", "--by", "school", "--format", "json")
    assert sorted(after, key=json.dumps) == sorted(
        ({**row, "school": mapped(row["school"])} for row in matrix), key=json.dumps)

    new_segments = json_of(root, "segments", "--all-coders", "--format", "json")
    expected = sorted((s["code"], ids[s["transcript"]], s["passage"], mapped(s["text"]))
                      for s in segments)
    assert sorted((s["code"], s["transcript"], s["passage"], s["text"])
                  for s in new_segments) == expected
    now = {c.id: c for c in project.codings()}
    assert now.keys() == codings.keys()
    for coding_id, (coder, code, transcript, text) in codings.items():  # on the same words
        new = now[coding_id]
        assert (new.coder, new.code, new.transcript) == (coder, code, ids[transcript])
        assert project.transcript(new.transcript).body[new.start:new.end] == new.text
        assert new.text == mapped(text)

    # qcode.yaml: the declared values follow, every other byte stays
    config = (root / "qcode.yaml").read_text("utf-8")
    assert config == config_before.replace("[Borgund,", "['[Skole 1]',").replace(
        " Strinda,", " '[Skole 2]',")

    pattern = re.compile("|".join(STUDY_ORIGINALS), re.IGNORECASE)
    for path in root.rglob("*"):  # file names, logs, cache, everything
        assert not pattern.search(path.name), path
        if path.is_file():
            assert not pattern.search(path.read_bytes().decode("utf-8", "replace")), path

    hashed = tree_hash(root)
    again = run(root, "pseudonymise", "apply", "--key", str(key_file))
    assert again.exit_code == 0 and "Nothing to replace" in again.stdout
    assert tree_hash(root) == hashed


def _renamed(old_ids: list[str], matcher) -> list[str]:
    """The ids the study's transcripts get: the key applied, then slugged (independent of
    the code under test only in how the slug is spelt out here)."""
    out = []
    for old in old_ids:
        if not matcher.search(old):
            out.append(old)
            continue
        text = rewrite_text(old, matcher).text.lower()
        out.append(re.sub(r"[^a-z0-9]+", "-", text).strip("-"))
    return out


# -- a small project: memos, suggestions, the GUID sidecar, ids without `id:` ---------------

CONFIG = """\
# A comment stays.
name: Ids study
codebook: codebooks/codes.yaml
cases:
  - file: cases/schools.csv
    key: school
attributes:
  school:
    required: true
    values:          # block list, comment kept
      - Voss
      - "Lier"
  informant_group: {required: true, values: [coordinator, principal, teacher]}
interviewer: [Kari]
"""
KEY = """\
original,replacement,kind
Voss,[Skole 1],school
Lier,Skole B,school
Kari,Intervjuer K,person
Hansen,,?
"""


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ProjectBuilder, Path]:
    builder = ProjectBuilder(tmp_path / "p")
    builder.write("qcode.yaml", CONFIG)
    builder.write("codebooks/codes.yaml", CODEBOOK)
    builder.write("codebooks/codes.guids.yaml",
                  "transcripts:\n  voss-rektor: 0B5E9E0C-6A51-4C0C-9D4B-2B8E3C4D5E6F\n"
                  "cases:\n  school=Voss: 1B5E9E0C-6A51-4C0C-9D4B-2B8E3C4D5E6F\n")
    builder.write("cases/schools.csv", "school,pupils\nVoss,372\nLier,450\n")
    builder.write("transcripts/voss-rektor.md",  # no `id:`: the file name is the id
                  "---\nschool: Voss\ninformant_group: principal\n---\n"
                  "Kari: Hvem startet?\n\nRektor: Det var vi på Voss.\n")
    builder.write("transcripts/t2.md",  # `id:` and a file name that differ
                  "---\nid: Lier-Lærer\nschool: Lier\ninformant_group: teacher\n---\n"
                  "Lærer: Vi reiste fra Lier.\n")
    builder.write("transcripts/skole-1-rektor.md",  # the id Voss's rektor would get
                  "---\nschool: Lier\ninformant_group: principal\n---\nRektor: Ja.\n")
    builder.write("memos/transcript-voss-rektor.md",
                  "---\nabout: transcript:voss-rektor\n---\n\nHansen nevnte Voss.\n")
    project = Project.open(builder.root)
    project.tag("voss-rektor", 2, ["ownership"], "a", memo="Voss-saken")
    project.tag("Lier-Lærer", 1, ["personal"], "a")
    body = project.transcript("voss-rektor").body
    SuggestionLog(project, "a").append([propose_event(
        "voss-rektor", 0, len(body.split("\n")[0]), "personal", body.split("\n")[0],
        "2026-01-01T00:00:00.000Z", 'match "Kari"', 1, [(0, 4)])])
    key = tmp_path / "key.csv"
    key.write_text(KEY, encoding="utf-8")
    monkeypatch.delenv("QCODE_KEY", raising=False)
    return builder, key


def test_everything_naming_a_renamed_id_follows_it(small) -> None:
    builder, key = small
    root = builder.root
    dry = json_of(root, "pseudonymise", "apply", "--key", str(key), "--dry-run",
                  "--format", "json")
    assert dry["renamed_transcripts"] == ["skole-1-rektor-2", "skole-b-laerer"]
    assert not (root / "transcripts/skole-1-rektor-2.md").exists()  # dry: nothing moved

    shown = run(root, "pseudonymise", "apply", "--key", str(key), "--show-originals",
                "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["renamed_transcripts"] == [
        {"old": "Lier-Lærer", "new": "skole-b-laerer"},
        {"old": "voss-rektor", "new": "skole-1-rektor-2"}]

    # a taken id gets -2; no `id:` means the file name alone carries the new id
    assert not (root / "transcripts/voss-rektor.md").exists()
    renamed = builder.read("transcripts/skole-1-rektor-2.md")
    assert renamed.startswith("---\nschool: '[Skole 1]'\n") and "id:" not in renamed
    # an `id:` is rewritten; a file name that held no original keeps it
    assert builder.read("transcripts/t2.md").startswith("---\nid: skole-b-laerer\n")

    project = Project.open(root)
    assert {c.transcript for c in project.codings()} == {"skole-1-rektor-2", "skole-b-laerer"}
    suggestion = json.loads(builder.read("codings/a.suggestions.jsonl").splitlines()[0])
    assert suggestion["transcript"] == "skole-1-rektor-2"
    assert suggestion["rule"] == 'match "Intervjuer K"'
    memo = builder.read("memos/transcript-skole-1-rektor-2.md")
    assert "about: transcript:skole-1-rektor-2" in memo and "[Skole 1]" in memo
    assert not (root / "memos/transcript-voss-rektor.md").exists()
    assert builder.read("codebooks/codes.guids.yaml") == (
        "transcripts:\n  skole-1-rektor-2: 0B5E9E0C-6A51-4C0C-9D4B-2B8E3C4D5E6F\n"
        "cases:\n  'school=[Skole 1]': 1B5E9E0C-6A51-4C0C-9D4B-2B8E3C4D5E6F\n")
    # qcode.yaml: values and interviewer labels, comments and quoting style kept
    assert builder.read("qcode.yaml") == CONFIG.replace(
        "      - Voss\n", "      - '[Skole 1]'\n").replace(
        '      - "Lier"\n', '      - "Skole B"\n').replace(
        "interviewer: [Kari]", "interviewer: [Intervjuer K]")
    assert project.transcript("skole-1-rektor-2").passages[0].speaker == "Intervjuer K"

    assert run(root, "check").exit_code == 0
    memos = run(root, "memos", "--about", "transcript:skole-1-rektor-2")
    assert memos.exit_code == 0 and "Hansen nevnte" in memos.stdout


def test_the_summary_lists_new_ids_and_old_ones_only_when_asked(small) -> None:
    builder, key = small
    text = run(builder.root, "pseudonymise", "apply", "--key", str(key), "--dry-run")
    assert text.exit_code == 0, text.output
    assert "Transcripts renamed: 2" in text.stdout and "  skole-1-rektor-2\n" in text.stdout
    assert "voss" not in text.output.lower() and "lier" not in text.output.lower()
    shown = run(builder.root, "pseudonymise", "apply", "--key", str(key), "--dry-run",
                "--show-originals")
    assert "  voss-rektor -> skole-1-rektor-2" in shown.stdout


def test_an_unreviewed_finding_points_at_review_not_apply(small) -> None:
    builder, key = small
    assert run(builder.root, "pseudonymise", "apply", "--key", str(key)).exit_code == 0
    result = run(builder.root, "check", "--key", str(key))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    found = [i for i, line in enumerate(lines) if "identifier-residue" in line]
    assert found and all("(?)" in lines[i] for i in found)  # Hansen, kind ?, only
    for i in found:
        assert "qcode pseudonymise review" in lines[i + 1]
        assert "apply --key" not in lines[i + 1]


# -- ids ----------------------------------------------------------------------------------

@given(st.text(max_size=150))
def test_a_slug_is_always_an_id_qcode_may_write(text: str) -> None:
    slug = slug_id(text)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and is_new_transcript_id(slug)
    assert len(slug) <= 100
    assert slug_id(slug) == slug  # a slug is its own slug


def test_slugs_of_placeholders() -> None:
    assert slug_id("[Skole 1]-principal") == "skole-1-principal"
    assert slug_id("Ærlig_Østby--[Person A]") == "aerlig-ostby-person-a"
    assert slug_id("[]") == "transcript"


@given(st.lists(st.from_regex(r"[a-z]{1,3}(-[0-9])?", fullmatch=True), max_size=20),
       st.from_regex(r"[a-z]{1,3}", fullmatch=True))
def test_a_unique_id_is_new_and_kept(taken: list[str], base: str) -> None:
    pool = set(taken)
    first = unique_id(base, pool)
    second = unique_id(base, pool)
    assert first.casefold() not in {t.casefold() for t in taken}
    assert first != second and {first, second} <= pool
    assert first == base or re.fullmatch(re.escape(base) + r"-[0-9]+", first)


def test_a_unique_id_ignores_case_and_stays_short() -> None:
    assert unique_id("a", {"A"}) == "a-2"
    long = "x" * 100
    assert unique_id(long, {long}) == "x" * 98 + "-2"

