"""`qcode pseudonymise scan`: candidates for the key, measured on a hand-listed fixture."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode import Project
from qcode.analysis.identifier_scan import ordinary_words, scan
from qcode.format.pseudonyms import PseudonymKey

# A transcript with the identifiers of the issue: names (one only ever sentence-initial),
# a valid national id and an invalid one, an e-mail address, a phone number, a key name
# inflected («Olas», «Ola-prosjektet»), a school and a county in front matter and text.
PERSONAL = """\
---
school: Voss vidaregåande
informant_group: teacher
interview_date: 2019-04-26
---
I: Kan du fortelle om prosjektet?

Lærer: Ja, det var Ola Nordmann som startet det i 2019. Olas idé var at elevene skulle
reise. Ola-prosjektet fikk penger fra Erasmus, og vi brukte Kahoot i timene.

I: Hvem andre var med?

Lærer: Kari Hansen fra Hordaland fylkeskommune hjalp oss. Du kan skrive til
kari.hansen@skole.no eller ringe 912 34 567. Trond var også med.

Lærer: Fødselsnummeret står i skjemaet: 15076510013. Det andre nummeret 15076510014 var feil.
"""

MEMO = """\
---
about: transcript:voss-teacher
author: me
---
Siri Olsen ringte og sa at Ola ville trekke seg. Vi venter med Ola.
"""

# What a careful reader lists as identifying (the hand-listed truth), by source.
EXPECTED_KEY = {"Ola"}
EXPECTED_PATTERNS = {"kari.hansen@skole.no", "912 34 567", "15076510013"}
EXPECTED_NAMES = {"Nordmann", "Kari Hansen", "Voss vidaregåande",
                  "Hordaland fylkeskommune", "Siri Olsen", "Trond"}


@pytest.fixture
def personal(project_dir, tmp_path):
    project_dir.write("transcripts/voss-teacher.md", PERSONAL)
    project_dir.write("memos/voss-teacher.md", MEMO)
    project = Project.open(project_dir.root)
    body = project.transcript("voss-teacher").body
    passage = project.transcript("voss-teacher").passage_at(body.index("Olas"))
    project.tag("voss-teacher", passage.number, ["ownership"], "me")  # a coded name
    key = tmp_path / "key.csv"
    key.write_text("original,replacement,kind\nOla,[Person A],person\n", encoding="utf-8")
    return project_dir, key


def found_texts(result):
    return {c.text for c in result.candidates}


def test_scan_finds_the_hand_listed_identifiers(personal):
    project_dir, key = personal
    result = scan(Project.open(project_dir.root), key=PseudonymKey.load(key))
    found = found_texts(result)
    expected = EXPECTED_KEY | EXPECTED_PATTERNS | EXPECTED_NAMES
    # the fixture project's own schools, found in front matter, are identifiers too
    expected |= {"Voss", "Lier", "Strinda"}
    hits = found & expected
    precision = len(hits) / len(found)
    recall = len(hits) / len(expected)
    exact = EXPECTED_KEY | EXPECTED_PATTERNS
    exact_recall = len(found & exact) / len(exact)
    print(f"\nscan on the fixture: {len(found)} proposed, {len(expected)} expected, "
          f"precision {precision:.2f}, recall {recall:.2f} (key and patterns "
          f"{exact_recall:.2f}); missed {sorted(expected - found)}, "
          f"not expected {sorted(found - expected)}")
    assert exact_recall == 1.0
    assert recall >= 0.85 and precision >= 0.85
    # never proposed: the invalid national id, speaker labels, ordinary words, code labels
    assert found.isdisjoint({"15076510014", "2019-04-26", "Lærer", "Erasmus", "Ja", "Du", "Det", "I"})
    kinds = {c.text: (c.kind, c.source) for c in result.candidates}
    assert kinds["15076510013"] == ("national-id", "pattern")
    assert kinds["kari.hansen@skole.no"] == ("email", "pattern")
    assert kinds["912 34 567"] == ("phone", "pattern")
    assert kinds["Ola"] == ("person", "key")
    assert kinds["Voss vidaregåande"] == ("school", "capitalised")
    assert kinds["Hordaland fylkeskommune"] == ("place", "capitalised")
    assert kinds["Kari Hansen"] == ("?", "capitalised")


def test_a_key_original_is_counted_in_every_inflection_and_place(personal):
    project_dir, key = personal
    result = scan(Project.open(project_dir.root), key=PseudonymKey.load(key), max_places=10)
    ola = result.by_text("Ola")
    contexts = [p.snippet for p in ola.places]
    # «Ola Nordmann», «Olas», «Ola-prosjektet» in the transcript, twice in the memo
    assert ola.count == 5
    assert any("**Olas**" in s for s in contexts)
    assert any("**Ola**-prosjektet" in s for s in contexts)
    memo_places = [p for p in ola.places if p.file == "memos/voss-teacher.md"]
    assert [p.line for p in memo_places] == [5, 5] and memo_places[0].transcript == ""
    assert ola.transcripts == ["voss-teacher"]
    lines = PERSONAL.splitlines()
    for place in ola.places:
        if place.transcript:
            assert "Ola" in lines[place.line - 1]


def test_a_word_the_corpus_also_writes_in_lowercase_is_ordinary(project_dir):
    project_dir.write("transcripts/extra.md", "---\nschool: Lier\ninformant_group: teacher\n"
                      "---\nLærer: Vi dro til Bakken i går, og bakken var glatt. Vi møtte "
                      "Synnøve der.\n")
    found = found_texts(scan(Project.open(project_dir.root)))
    assert "Synnøve" in found and "Bakken" not in found


def test_none_rows_are_remembered_and_the_key_spelling_is_kept(project_dir, tmp_path):
    key = PseudonymKey.parse("original,replacement,kind\nvoss,,none\nLIER,,?\n")
    result = scan(Project.open(project_dir.root), key=key)
    assert result.by_text("Voss") is None
    assert result.by_text("LIER").source == "key" and result.by_text("LIER").kind == "?"
    assert result.by_text("Strinda").source == "capitalised"


def test_ordinary_word_list_is_shipped_and_sized():
    words = ordinary_words()
    assert 300 <= len(words) <= 5000
    assert {"mandag", "january", "erasmus", "eu", "norsk"} <= words


def test_scan_cli_formats_and_kind_filter(personal, cli):
    _project_dir, key = personal
    result = cli("pseudonymise", "scan", "--key", str(key), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["memo_files"] == 1 and "voss-teacher" in data["transcripts"]
    assert {c["text"] for c in data["candidates"]} >= EXPECTED_PATTERNS
    result = cli("pseudonymise", "scan", "voss-teacher", "--key", str(key), "--kind", "phone",
                 "--kind", "email", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["text"]: r["kind"] for r in rows} == {"kari.hansen@skole.no": "email",
                                                   "912 34 567": "phone"}
    assert rows[0]["file"] == "transcripts/voss-teacher.md" and rows[0]["line"] == "14"
    table = cli("pseudonymise", "scan", "voss-teacher", "--key", str(key), "-f", "table")
    assert "transcripts/voss-teacher.md:14" in table.stdout
    assert "**kari.hansen@skole.no**" in table.stdout
    bad = cli("pseudonymise", "scan", "--kind", "people")
    assert bad.exit_code == 2 and "--kind 'people' is not a kind" in bad.output
    unknown = cli("pseudonymise", "scan", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.output


def test_add_to_key_appends_new_candidates_once(personal, cli, tmp_path):
    _project_dir, key = personal
    result = cli("pseudonymise", "scan", "--add-to-key", str(key), "-f", "csv")
    assert result.exit_code == 0, result.output
    saved = PseudonymKey.load(key)
    kinds = {e.original: e.kind for e in saved.entries}
    assert kinds["Ola"] == "person"  # kept as it was
    assert kinds["Kari Hansen"] == "?" and kinds["15076510013"] == "?"
    assert "15076510014" not in kinds
    assert key.stat().st_mode & 0o777 == 0o600
    before = key.read_bytes()
    again = cli("pseudonymise", "scan", "--add-to-key", str(key), "-f", "csv")
    assert "added 0 candidates" in again.output and key.read_bytes() == before
    fresh = tmp_path / "keys" / "new.csv"
    fresh.parent.mkdir()
    made = cli("pseudonymise", "scan", "lier-teacher", "--add-to-key", str(fresh), "-f", "csv")
    assert made.exit_code == 0
    assert fresh.read_text("utf-8") == "original,replacement,kind\nLier,,?\n"


def test_a_key_inside_the_project_is_refused_unless_gitignored(personal, cli):
    project_dir, _key = personal
    inside = project_dir.root / "key.csv"
    result = cli("pseudonymise", "scan", "--add-to-key", str(inside), "-f", "csv")
    assert result.exit_code == 2
    assert "inside the project and not ignored by git" in result.output
    assert not inside.exists()
    exports = cli("pseudonymise", "scan", "--add-to-key", "exports/key.csv", "-f", "csv")
    assert exports.exit_code == 2 and "inside exports/" in exports.output
    subprocess.run(["git", "init", "-q", str(project_dir.root)], check=True)
    (project_dir.root / ".gitignore").write_text("key.csv\n")
    ignored = cli("pseudonymise", "scan", "--add-to-key", str(inside), "-f", "csv")
    assert ignored.exit_code == 0, ignored.output
    assert "Kari Hansen,,?" in inside.read_text("utf-8")


def test_a_broken_key_is_one_line_with_file_and_line(personal, cli):
    _project_dir, key = personal
    key.write_text("original,replacement,kind\nOla,[Person A],persn\n", encoding="utf-8")
    result = cli("pseudonymise", "scan", "--key", str(key))
    assert result.exit_code == 1
    assert f"{key}:2: unknown kind 'persn'" in result.output
    assert "Traceback" not in result.output


@given(st.text(alphabet="ab Æ-.\n", max_size=40),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 8)), max_size=6))
def test_words_outside_taken_spans_are_found_in_one_sweep(text, spans):
    from qcode.analysis.identifier_scan import _WORD, _untaken_words

    taken = [(start, start + width) for start, width in spans]
    naive = [(m.start(), m.end()) for m in _WORD.finditer(text)
             if all(m.end() <= s or m.start() >= e for s, e in taken)]
    assert _untaken_words(text, taken) == naive
