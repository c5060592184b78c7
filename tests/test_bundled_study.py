"""Structural facts of the bundled study, so the demo data cannot silently rot.

docs/study.md describes the study; the tests here hold the facts it states."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from conftest import require_shared
from qcode import Project
from qcode.coding.adjudication import Adjudication

REPO = Path(__file__).resolve().parents[1]
SCHOOLS = {"Borgund", "Charlottenlund", "Lier", "Romsdal", "Setesdal", "Strinda", "Verdal",
           "Voss"}
GROUPS = {"coordinator", "principal", "teacher", "department_manager"}
RUN = 8  # no run of this many words may be shared with the study report


def study() -> Project:
    return Project.open(REPO)


def participants(transcript) -> int:
    return int(transcript.attributes["participants"])


def test_thirty_three_interviews_at_eight_schools_with_every_group():
    transcripts = study().transcripts
    assert len(transcripts) == 33
    per_school = Counter(t.attributes["school"] for t in transcripts)
    assert set(per_school) == SCHOOLS
    assert all(4 <= n <= 5 for n in per_school.values()), per_school
    assert {t.attributes["informant_group"] for t in transcripts} == GROUPS
    assert all(t.attributes["synthetic"] is True for t in transcripts)
    assert all(500 <= t.words <= 1200 for t in transcripts)


def test_informant_groups_per_school_as_docs_study_states():
    """Per school: one coordinator and one principal interview, 2-3 teachers and 1-3
    department managers (people, counted through `participants`), 4-5 interviews; the
    study's one group interview of department managers is at a school rated strong."""
    project = study()
    by_school = defaultdict(list)
    for t in project.transcripts:
        by_school[t.attributes["school"]].append(t)
        assert participants(t) >= 1, t.id
        assert (t.attributes["format"] == "group") == (participants(t) > 1), t.id
    manager_groups = []
    for school, transcripts in by_school.items():
        assert 4 <= len(transcripts) <= 5, school
        interviews = Counter(t.attributes["informant_group"] for t in transcripts)
        people = Counter()
        for t in transcripts:
            people[t.attributes["informant_group"]] += participants(t)
        assert interviews["coordinator"] == 1 and interviews["principal"] == 1, school
        assert 2 <= people["teacher"] <= 3, (school, people)
        assert 1 <= people["department_manager"] <= 3, (school, people)
        manager_groups += [t for t in transcripts
                           if t.attributes["informant_group"] == "department_manager"
                           and participants(t) > 1]
    assert len(manager_groups) == 1, [t.id for t in manager_groups]
    assert manager_groups[0].attributes["leadership_anchoring"] == "strong"


def test_case_table_joins_every_school():
    for t in study().transcripts:
        assert "pupils" in t.attributes and "partner_countries" in t.attributes
        assert t.attributes["leadership_anchoring"] in {"strong", "moderate", "weak"}
        assert t.attributes["ownership"] in {"broad", "core-group", "enthusiast", "programme"}
    models = {t.attributes["school"]: t.attributes.get("model") for t in study().transcripts}
    assert models["Lier"] == models["Voss"] == "mature"
    assert models["Setesdal"] == "instrumental"


def test_codebook_size_and_definitions():
    codebook = study().codebook
    assert codebook.version == "2.0" and codebook.changelog[0].version == "2.0"
    assert 60 <= sum(c.codable for c in codebook) <= 80
    for code in codebook:
        assert code.description.strip(), code.id
        if code.codable:
            assert code.include and code.exclude and code.keywords, code.id
            assert len(code.examples) >= 2, code.id


def test_check_strict_is_clean_through_the_cli():
    result = subprocess.run([sys.executable, "-m", "qcode", "--project", str(REPO), "check",
                             "--strict"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_real_text_meets_the_segmentation_rules():
    """Label-like lines inside answers must not start turns in the bundled interviews."""
    project = study()
    speakers = Counter(p.speaker for t in project.transcripts for p in t.passages)
    allowed = {"I", "Rektor", "Koordinator", "Koordinator 1", "Koordinator 2", "Prosjektleder",
               "Lærer", "Lærer 1", "Lærer 2", "Lærer 3", "Avdelingsleder",
               "Avdelingsleder 1", "Avdelingsleder 2", "Avdelingsleder 3"}
    assert set(speakers) <= allowed, set(speakers) - allowed
    bodies = "\n".join(t.body for t in project.transcripts)
    assert "Kl. 0" in bodies and "«" in bodies and "æ" in bodies and "–" in bodies


# -- no text copied from the study report --------------------------------------------------

def words(text: str) -> list[str]:
    """The words of a text, normalised for the copy check: NFC, lower case, a word
    hyphenated across a line end joined again, punctuation and whitespace dropped."""
    text = unicodedata.normalize("NFC", text).lower()
    text = re.sub(r"(\w)-[^\S\n]*\n\s*(\w)", r"\1\2", text)
    return re.findall(r"\w+", text)


def runs(ws: list[str], n: int = RUN) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def shared_runs(text: str, seed: set[tuple[str, ...]], n: int = RUN) -> list[str]:
    ws = words(text)
    return [" ".join(ws[i:i + n]) for i in range(len(ws) - n + 1)
            if tuple(ws[i:i + n]) in seed]


def test_the_copy_check_normalises_case_hyphenation_and_whitespace():
    seed = runs(words("Skolen har lenge drevet med interna-\nsjonalisering i mange ulike fag."))
    assert shared_runs("skolen  HAR lenge drevet\n med internasjonalisering i mange ulike", seed)
    assert not shared_runs("Skolen har lenge drevet med internasjonalisering i mange", set())
    assert not shared_runs("Skolen har lenge drevet med noe helt annet i mange ulike", seed)


def test_no_run_of_eight_words_is_shared_with_the_study_report():
    seed_files = sorted(require_shared("seeds").glob("*.txt"))
    assert seed_files, "the study report's folder holds no *.txt"
    seed: set[tuple[str, ...]] = set()
    for path in seed_files:
        seed |= runs(words(path.read_text(encoding="utf-8")))
    project = study()
    files = sorted((REPO / "transcripts").rglob("*.md")) + sorted(
        (REPO / "transcripts").rglob("*.txt"))
    files += [REPO / "codebooks" / "vet-mobility.yaml", REPO / "cases" / "schools.csv"]
    assert len(files) >= len(project.transcripts) + 2
    found = [f"{path.relative_to(REPO)}: {run}" for path in files
             for run in shared_runs(path.read_text(encoding="utf-8"), seed)]
    assert not found, f"{len(found)} runs of {RUN} words shared with the report:\n" + \
        "\n".join(found[:20])


# -- the coders ---------------------------------------------------------------------------

def test_coder_a_coded_every_transcript():
    project = study()
    assert {"coder-a", "coder-b", "consensus"} <= set(project.coders)
    coded_a = {c.transcript for c in project.codings("coder-a")}
    assert coded_a == {t.id for t in project.transcripts}


def test_coder_b_covers_every_school_and_every_informant_group():
    project = study()
    coded_b = {c.transcript for c in project.codings("coder-b")}
    assert len(coded_b) >= 14, sorted(coded_b)
    attributes = [project.transcript(t).attributes for t in coded_b]
    assert {a["school"] for a in attributes} == SCHOOLS
    assert {a["informant_group"] for a in attributes} == GROUPS


def test_consensus_decides_every_double_coded_transcript_with_reasons():
    project = study()
    coded_b = {c.transcript for c in project.codings("coder-b")}
    coded_consensus = {c.transcript for c in project.codings("consensus")}
    assert coded_b <= coded_consensus, sorted(coded_b - coded_consensus)
    assert Adjudication(project, "coder-a", "coder-b", "consensus").pending() == []
    records = []
    with (REPO / "codings" / "consensus.jsonl").open(encoding="utf-8") as log:
        for line in log:
            event = json.loads(line)
            record = event.get("adjudication")
            if event.get("op") == "add" and isinstance(record, dict):
                records.append((event, record))
    decisions = [(e, r) for e, r in records if r.get("decision") != "agreed"]
    assert decisions, "the consensus log holds no adjudication decision"
    unreasoned = [f"{e['transcript']} {r.get('passage')} {e['code']}" for e, r in decisions
                  if not str(r.get("reason") or "").strip()]
    assert not unreasoned, unreasoned


def test_consensus_covers_the_whole_study_and_is_the_primary_coder():
    project = study()
    assert {c.transcript for c in project.codings("consensus")} == {
        t.id for t in project.transcripts}
    assert project.config.primary_coder == "consensus"


def test_docs_study_reports_the_agreement_qcode_computes():
    """The per-code tables in docs/study.md and the README are the ones `qcode agree` gives
    on today's logs (interviewer turns counted, as the tables say)."""
    result = subprocess.run([sys.executable, "-m", "qcode", "--project", str(REPO), "agree",
                             "--coders", "coder-a,coder-b", "--include-interviewer",
                             "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    computed = json.loads(result.stdout)
    doc = (REPO / "docs" / "study.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for row in [*computed["codes"], computed["overall"]]:
        cells = (row["code"], row["both"], row["only_coder-a"], row["only_coder-b"],
                 row["neither"], f"{row['cohen_kappa']:.3f}")
        pattern = (rf"^\| {re.escape(cells[0])} \|[^|\n]*\|[^|\n]*\| {cells[1]} \| {cells[2]} "
                   rf"\| {cells[3]} \| {cells[4]} \|[^|\n]*\| {re.escape(cells[5])} \|")
        assert re.search(pattern, doc, flags=re.MULTILINE), f"docs/study.md: {cells}"
        # the README's compact table: code, both, only a, only b, kappa, alpha
        short = (rf"^\| {re.escape(cells[0])} \| {cells[1]} \| {cells[2]} \| {cells[3]} "
                 rf"\| (\*\*)?{re.escape(cells[5])}(\*\*)? \| "
                 rf"{row['krippendorff_alpha']:.3f} \|")
        assert re.search(short, readme, flags=re.MULTILINE), f"README.md: {cells}"
