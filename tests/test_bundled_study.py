"""Structural facts of the bundled study, so the demo data cannot silently rot."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from qcode import Project

REPO = Path(__file__).resolve().parents[1]
SCHOOLS = {"Borgund", "Charlottenlund", "Lier", "Romsdal", "Setesdal", "Strinda", "Verdal",
           "Voss"}
GROUPS = {"coordinator", "principal", "teacher", "department_manager"}


def study() -> Project:
    return Project.open(REPO)


def test_thirty_three_interviews_at_eight_schools_with_every_group():
    transcripts = study().transcripts
    assert len(transcripts) == 33
    per_school = Counter(t.attributes["school"] for t in transcripts)
    assert set(per_school) == SCHOOLS
    assert all(4 <= n <= 5 for n in per_school.values()), per_school
    assert {t.attributes["informant_group"] for t in transcripts} == GROUPS
    assert all(t.attributes["synthetic"] is True for t in transcripts)
    assert all(500 <= t.words <= 1200 for t in transcripts)


def test_case_table_joins_every_school():
    for t in study().transcripts:
        assert "pupils" in t.attributes and "partner_countries" in t.attributes
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


def test_two_coders_coded_the_study():
    project = study()
    assert {"coder-a", "coder-b"} <= set(project.coders)
    coded_a = {c.transcript for c in project.codings("coder-a")}
    assert coded_a == {t.id for t in project.transcripts}
    coded_b = {c.transcript for c in project.codings("coder-b")}
    schools_b = {project.transcript(t).attributes["school"] for t in coded_b}
    assert len(coded_b) >= 10 and len(schools_b) >= 5


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
