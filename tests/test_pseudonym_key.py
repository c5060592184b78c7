"""The pseudonymisation key file and the one matcher every pseudonymise command uses."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.errors import InvalidKey
from qcode.format.identifiers import find_identifiers, valid_national_id
from qcode.format.pseudonyms import (
    PseudonymKey,
    key_location_problem,
    key_path,
    rewrite_text,
)

KEY = """original,replacement,kind
Ola,[Person A],person
Ola Nordmann,[Person B],person
Lars,[Person C],person
Voss,[Skole 1],school
Berg,,?
Erasmus,,none
"""


@pytest.fixture
def key() -> PseudonymKey:
    return PseudonymKey.parse(KEY)


def found(key: PseudonymKey, text: str) -> list[str]:
    return [text[m.start:m.end] for m in key.matcher().finditer(text)]


def test_inflected_forms_are_found_and_only_the_name_is_replaced(key):
    text = ("Olas plan, Ola-prosjektet og OLA selv. Ola Nordmann kom. Olav og Olaug ikke. "
            "Voss-skolen, Lars' bok, Ola’s idé, prosjekt-Ola.")
    assert found(key, text) == ["Ola", "Ola", "OLA", "Ola Nordmann", "Voss", "Lars",
                                "Ola", "Ola"]
    new = rewrite_text(text, key.matcher()).text
    assert new.startswith("[Person A]s plan, [Person A]-prosjektet og [Person A] selv. "
                          "[Person B] kom. Olav og Olaug ikke. [Skole 1]-skolen, "
                          "[Person C]' bok, [Person A]’s idé, prosjekt-[Person A].")


def test_unreviewed_and_not_identifying_rows_are_found_but_never_replaced(key):
    matcher = key.matcher()
    assert [m.entry.original for m in matcher.finditer("Berg og Erasmus")] == ["Berg"]
    assert rewrite_text("Berg og Erasmus", matcher).text == "Berg og Erasmus"


def test_a_name_split_over_a_line_break_is_still_the_name(key):
    assert found(key, "sa Ola\nNordmann") == ["Ola\nNordmann"]


@pytest.mark.parametrize("text, message", [
    ("name,replacement,kind\n", ":1: a key file starts with the header"),
    ("original,replacement,kind\nOla,[P],person,x\n", ":2: expected 3 columns"),
    ("original,replacement,kind\n,[P],person\n", ":2: the original is empty"),
    ("original,replacement,kind\nOla,[P],friend\n", ":2: unknown kind 'friend'"),
    ("original,replacement,kind\nOla,,person\n", ":2: 'Ola' has no replacement"),
    ("original,replacement,kind\nOla,[P],person\n\nola,[Q],person\n",
     ":4: 'ola' is already in the key at line 2"),
    ("original,replacement,kind\nOla,[Ola A],person\n", ":2: the replacement '[Ola A]' "
                                                         "contains 'Ola'"),
    ('original,replacement,kind\n"Ola\nNordmann",[P],person\nKari,[Kari],person\n',
     ":4: the replacement '[Kari]' contains 'Kari'"),
])
def test_a_bad_key_is_refused_with_its_file_and_line(tmp_path, text, message):
    path = tmp_path / "key.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidKey) as caught:
        PseudonymKey.load(path)
    assert caught.value.message.startswith(str(path))
    assert message in caught.value.message
    assert caught.value.hint


def test_a_missing_or_non_utf8_key_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidKey, match="no such key file"):
        PseudonymKey.load(tmp_path / "absent.csv")
    (tmp_path / "latin.csv").write_bytes(b"original,replacement,kind\n\xd8ystein,[P],person\n")
    with pytest.raises(InvalidKey, match=r"latin.csv:2: the key file is not UTF-8"):
        PseudonymKey.load(tmp_path / "latin.csv")


def test_placeholders_are_the_next_free_ones_in_the_projects_language(key):
    assert key.placeholder("person") == "[Person D]"
    assert key.placeholder("school", "nb") == "[Skole 2]"
    assert key.placeholder("school") == "[School 1]"
    assert key.add("Kari", "person").replacement == "[Person D]"
    assert key.add("Kari", "none").replacement == ""
    assert sum(e.original == "Kari" for e in key.entries) == 1


def test_saving_round_trips_and_keeps_the_key_private(tmp_path, key):
    key.add('Smith, "Jr"', "person")
    path = key.save(tmp_path / "key.csv")
    assert os.stat(path).st_mode & 0o777 == 0o600
    again = PseudonymKey.load(path)
    assert [(e.original, e.replacement, e.kind) for e in again.entries] == [
        (e.original, e.replacement, e.kind) for e in key.entries]
    assert again.entries[-1].line == len(again.entries) + 1


def test_the_key_comes_from_the_option_or_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QCODE_KEY", str(tmp_path / "env.csv"))
    assert key_path(None) == tmp_path / "env.csv"
    assert key_path(str(tmp_path / "opt.csv")) == tmp_path / "opt.csv"
    monkeypatch.delenv("QCODE_KEY")
    assert key_path(None) is None


def test_a_key_inside_the_project_must_be_ignored_by_git(tmp_path):
    project = tmp_path / "study"
    project.mkdir()
    assert key_location_problem(project, tmp_path / "key.csv") is None
    problem = key_location_problem(project, project / "exports" / "key.csv")
    assert problem is not None and "inside exports/" in problem
    problem = key_location_problem(project, project / "key.csv")
    assert problem is not None and "not ignored by git" in problem
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is needed for this test under CI")
        pytest.skip("git is not installed: cannot show a gitignored key is accepted")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / ".gitignore").write_text("private/\n")
    assert key_location_problem(project, project / "private" / "key.csv") is None
    assert key_location_problem(project, project / "key.csv") is not None


@pytest.mark.parametrize("text, kinds", [
    ("ring 22 33 44 55 i dag", ["phone"]),
    ("mobil 92233444, +47 922 33 444 eller 0047 92233444", ["phone", "phone", "phone"]),
    ("call +44 20 7946 0958", ["phone"]),
    ("skriv til ola.nordmann@voss.kommune.no.", ["email"]),
    ("se https://skole.no/erasmus?a=1, eller www.voss.no.", ["url", "url"]),
    ("fnr 15076510013 og 150765 10013", ["national-id", "national-id"]),
    ("ugyldig 15076510014", []),
    ("kl. 00:12:34, år 2019-2020, 12.05.2021, side 123, 1234 5678 9", []),
    ("ikke telefon: 12345678", []),
])
def test_pattern_identifiers(text, kinds):
    assert [i.kind for i in find_identifiers(text)] == kinds


def test_national_id_checksums():
    assert valid_national_id("15076510013")
    assert not valid_national_id("15076510014")
    assert not valid_national_id("1507651001")
    assert not valid_national_id("99999999999")


NAMES = st.sampled_from(["Ola", "Ola Nordmann", "Lars", "Voss", "Berg"])
FILLER = st.text(alphabet="abc æø-.,\n'", max_size=6)


@given(st.lists(st.tuples(FILLER, NAMES), max_size=8), FILLER)
def test_offsets_carry_across_a_rewrite(pieces, tail):
    """A span that does not start or end inside a name maps to the rewritten span (the
    filler has no letters of a name, so cutting never makes or breaks a match)."""
    key = PseudonymKey.parse(KEY)
    text = "".join(f" {filler} {name} " for filler, name in pieces) + tail
    rewrite = rewrite_text(text, key.matcher())
    inside = {i for e in rewrite.edits for i in range(e.start + 1, e.end)}
    for start in range(0, len(text) + 1, 3):
        for end in range(start, len(text) + 1, 5):
            if start in inside or end in inside:
                continue
            new = rewrite.text[rewrite.offset(start, "start"):rewrite.offset(end, "end")]
            assert new == rewrite_text(text[start:end], key.matcher()).text
    assert rewrite_text(rewrite.text, key.matcher()).text == rewrite.text  # idempotent
