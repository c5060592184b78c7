"""`qcode saturation`: new and cumulative distinct codes per transcript, in an order.

Hand counts on the `coded` fixture (tests/conftest.py). Coder a coded
  voss-principal       lead-strong, ownership (3 segments)
  lier-teacher         personal, lead-weak    (3 segments)
  strinda-coordinator  lead-weak, outcomes    (2 segments)
coder b: voss lead-strong (the span a coded too) and lead-weak; strinda lead-weak (a's
span); lier personal (a sentence, not a's passage). Codebook order: lead-strong,
lead-weak, ownership, outcomes, personal.
"""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, build_fixture_project
from qcode import Project
from qcode.errors import QcodeError, UnknownName, UsageError

CODABLE = ["lead-strong", "lead-weak", "ownership", "outcomes", "personal"]


def rows(frame) -> list[tuple]:
    return [(r["transcript"], r["codings"], r["new_codes"], r["cumulative"], r["share"])
            for r in frame.to_dict(orient="records")]


def csv_rows(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip().splitlines()]


def retimed(project_dir, source: str, coder: str, times: dict[str, list[str]]) -> None:
    """A copy of ``source``'s log as ``coder``'s, each transcript's codings at the
    given times in turn (a new file: no cache to fool)."""
    left = {tid: list(ats) for tid, ats in times.items()}
    events = []
    for event in project_dir.log_lines(source):
        event["at"] = left[event["transcript"]].pop(0)
        events.append(event)
    project_dir.append_log(coder, *events)


# -- the orders ----------------------------------------------------------------------------

def test_id_order_hand_counted(coded):
    frame = coded.saturation("id", "a")
    assert list(frame.columns) == ["position", "transcript", "codings", "new", "cumulative",
                                   "share", "new_codes"]
    assert rows(frame) == [
        ("lier-teacher", 3, ["lead-weak", "personal"], 2, 40.0),
        ("strinda-coordinator", 2, ["outcomes"], 3, 60.0),
        ("voss-principal", 3, ["lead-strong", "ownership"], 5, 100.0),
    ]
    assert frame["position"].tolist() == [1, 2, 3]
    assert frame.attrs["codes"] == 5
    assert (frame.attrs["last_new"], frame.attrs["last_new_position"]) == ("voss-principal", 3)


def test_another_coder_and_the_union(coded):
    assert rows(coded.saturation("id", "b")) == [
        ("lier-teacher", 1, ["personal"], 1, 33.3),
        ("strinda-coordinator", 1, ["lead-weak"], 2, 66.7),
        ("voss-principal", 2, ["lead-strong"], 3, 100.0),
    ]
    # identical spans of a and b count once: voss 3 + 2 - 1, lier 3 + 1, strinda 2 + 1 - 1
    assert rows(coded.saturation("id", all_coders=True)) == [
        ("lier-teacher", 4, ["lead-weak", "personal"], 2, 40.0),
        ("strinda-coordinator", 2, ["outcomes"], 3, 60.0),
        ("voss-principal", 4, ["lead-strong", "ownership"], 5, 100.0),
    ]


def test_coding_order_takes_each_transcripts_first_time(coded, project_dir):
    # strinda first (two codings: the earlier counts); voss at 07:00Z written with an
    # offset, lier at 08:00Z: as text "…08:00" < "…09:00+02:00" would swap them
    retimed(project_dir, "a", "c", {
        "strinda-coordinator": ["2026-01-01T12:00:00.000Z", "2026-01-01T10:00:00.000Z"],
        "voss-principal": ["2026-01-02T09:00:00+02:00"] * 3,
        "lier-teacher": ["2026-01-02T08:00:00.000Z"] * 3,
    })
    frame = Project.open(project_dir.root).saturation(coders="c")
    assert frame.attrs["order"] == "coding"
    assert frame["first_coded"].tolist() == ["2026-01-01T10:00:00.000Z",
                                             "2026-01-02T09:00:00+02:00",
                                             "2026-01-02T08:00:00.000Z"]
    assert rows(frame) == [
        ("strinda-coordinator", 2, ["lead-weak", "outcomes"], 2, 40.0),
        ("voss-principal", 3, ["lead-strong", "ownership"], 4, 80.0),
        ("lier-teacher", 3, ["personal"], 5, 100.0),
    ]
    assert frame.attrs["notes"] == []


def test_an_uncoded_transcript_goes_last_and_is_said(coded, project_dir, cli):
    project_dir.write("transcripts/lier-principal.md",
                      "---\nschool: Lier\ninformant_group: principal\n---\nRektor: Ja.\n")
    result = cli("saturation", "--coder", "a", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert [r[1] for r in csv_rows(result.stdout)[1:]][-1] == "lier-principal"
    assert ("warning: 1 transcript never coded by a, placed last in id order: "
            "lier-principal") in result.stderr
    result = cli("saturation", "--coder", "a", "--order", "id", "-f", "csv")
    assert csv_rows(result.stdout)[1] == ["1", "lier-principal", "0", "0", "0", "0", ""]
    assert "1 transcript with no codings by a add no codes: lier-principal" in result.stderr


def test_attribute_orders(coded, project_dir):
    project = Project.open(project_dir.root)
    # declared values in declared order: coordinator, principal, teacher
    assert project.saturation("informant_group", "a")["transcript"].tolist() == [
        "strinda-coordinator", "voss-principal", "lier-teacher"]
    # pupils (case table) is a number: 372 < 450 < 1052, not "1052" < "372"
    frame = project.saturation("pupils", "a")
    assert frame["transcript"].tolist() == ["voss-principal", "lier-teacher",
                                            "strinda-coordinator"]
    assert frame["pupils"].tolist() == ["372", "450", "1052"]
    # model: Voss and Lier tie (id order), Strinda has none: last, and said
    frame = project.saturation("model", "a")
    assert frame["transcript"].tolist() == ["lier-teacher", "voss-principal",
                                            "strinda-coordinator"]
    assert frame.attrs["notes"] == ["1 transcript without a model to sort by, placed last "
                                    "in id order: strinda-coordinator"]


def test_date_order_finds_the_date_attribute(coded, project_dir, cli):
    for name, date in [("voss-principal", "2019-01-10"), ("lier-teacher", "'2019-02-14'"),
                       ("strinda-coordinator", "2019-02-02")]:
        project_dir.replace(f"transcripts/{name}.md", "informant_group:",
                            f"interview_date: {date}\ninformant_group:")
    result = cli("saturation", "--order", "date", "--coder", "a", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert csv_rows(result.stdout) == [
        ["position", "transcript", "interview_date", "codings", "new", "cumulative", "share",
         "new_codes"],
        ["1", "voss-principal", "2019-01-10", "3", "2", "2", "40", "lead-strong ownership"],
        ["2", "strinda-coordinator", "2019-02-02", "2", "2", "4", "80", "lead-weak outcomes"],
        ["3", "lier-teacher", "2019-02-14", "3", "1", "5", "100", "personal"],
    ]


def test_date_without_a_date_attribute_is_refused(coded):
    with pytest.raises(UsageError, match="no attribute is a date"):
        coded.saturation("date", "a")


def test_unknown_order_gets_a_did_you_mean(coded, cli):
    with pytest.raises(UnknownName, match="did you mean 'school'"):
        coded.saturation("shcool", "a")
    result = cli("saturation", "--order", "informant-group", "--coder", "a")
    assert result.exit_code == 1
    assert "did you mean 'informant_group'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_undefined_answer_is_refused_as_check_says(coded, project_dir, cli):
    project_dir.replace("codebooks/codes.yaml", "  - id: ownership\n", "  - id: personal\n")
    result = cli("saturation", "-c", "a")
    assert result.exit_code == 1 and result.stdout == ""
    assert "code-id-duplicate" in result.stderr


# -- an order from a file ---------------------------------------------------------------------

def test_file_order(coded, project_dir, cli):
    project_dir.write("order.txt", "# as interviewed\nstrinda-coordinator\n\n"
                                   "  voss-principal  \nlier-teacher\n")
    result = cli("saturation", "--order", "order.txt", "--coder", "a", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert [r[:2] + r[-3:] for r in csv_rows(result.stdout)[1:]] == [
        ["1", "strinda-coordinator", "2", "40", "lead-weak outcomes"],
        ["2", "voss-principal", "4", "80", "lead-strong ownership"],
        ["3", "lier-teacher", "5", "100", "personal"],
    ]
    # ids that --where leaves out are passed over
    frame = coded.saturation(project_dir.root / "order.txt", "a", where=["school!=Voss"])
    assert frame["transcript"].tolist() == ["strinda-coordinator", "lier-teacher"]


def test_file_order_with_an_unknown_id(coded, project_dir, cli):
    project_dir.write("order.txt", "strinda-coordinator\nvoss-princpal\nlier-teacher\n")
    result = cli("saturation", "--order", "order.txt", "--coder", "a")
    assert result.exit_code == 1
    assert ("error: order.txt:2: unknown transcript 'voss-princpal'; did you mean "
            "'voss-principal'?") in result.stderr
    assert result.stdout == ""


def test_file_order_must_list_every_transcript_once(coded, project_dir):
    path = project_dir.write("order.txt", "lier-teacher\n")
    with pytest.raises(QcodeError, match=r"does not list 2 transcripts: "
                                         r"strinda-coordinator, voss-principal"):
        coded.saturation(path, "a")
    project_dir.write("order.txt", "lier-teacher\nvoss-principal\nstrinda-coordinator\n"
                                   "lier-teacher\n")
    with pytest.raises(QcodeError, match=r"order.txt:4: transcript 'lier-teacher' is listed "
                                         r"twice \(first on line 1\)"):
        coded.saturation(path, "a")


# -- formats, files, plots --------------------------------------------------------------------

def test_json_has_rows_and_a_summary(coded, cli):
    result = cli("saturation", "--coder", "b", "--order", "id", "-f", "json")
    data = json.loads(result.stdout)
    assert data["summary"] == {"order": "id", "coders": ["b"], "where": [], "transcripts": 3,
                               "codes": 3, "last_new_transcript": "voss-principal",
                               "last_new_position": 3}
    assert data["transcripts"][0] == {"position": 1, "transcript": "lier-teacher",
                                      "codings": 1, "new": 1, "cumulative": 1,
                                      "share": 33.3, "new_codes": ["personal"]}


def test_table_for_people(coded, cli):
    result = cli("saturation", "--coder", "a", "--order", "id", "-f", "table")
    assert result.exit_code == 0, result.stderr
    assert "lead-strong ownership" in result.stdout
    assert ("5 distinct codes; the last new code came at transcript 3 of 3 "
            "(voss-principal).") in result.stdout


def test_output_file_is_refused_without_force(coded, project_dir, cli):
    assert cli("saturation", "-c", "a", "-o", "sat.md").exit_code == 0
    assert (project_dir.root / "sat.md").read_text().startswith("**Fixture study: new codes")
    again = cli("saturation", "-c", "a", "-o", "sat.md")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert cli("saturation", "-c", "a", "-o", "sat.md", "--force").exit_code == 0


def test_plots_are_png_and_svg(coded, project_dir, cli):
    result = cli("saturation", "-c", "a", "-f", "csv", "--plot", "curve.png")
    assert result.exit_code == 0, result.stderr
    assert (project_dir.root / "curve.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    result = cli("saturation", "-c", "a", "-f", "csv", "--plot", "curve.svg")
    assert result.exit_code == 0, result.stderr
    root = ET.parse(project_dir.root / "curve.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_a_plot_of_another_kind_is_refused_and_nothing_written(coded, project_dir, cli):
    result = cli("saturation", "-c", "a", "-o", "sat.csv", "--plot", "curve.pdf")
    assert result.exit_code == 2
    assert "--plot curve.pdf must end in .png or .svg" in result.stderr
    assert not (project_dir.root / "sat.csv").exists()


# -- a law: the cumulative count climbs to the number of distinct codes used ---------------

TAGGINGS = st.lists(st.tuples(st.sampled_from(["voss-principal", "lier-teacher",
                                               "strinda-coordinator"]),
                              st.integers(1, 3), st.sampled_from(CODABLE)),
                    min_size=1, max_size=8)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(taggings=TAGGINGS, order=st.sampled_from(["coding", "id", "school", "pupils"]))
def test_cumulative_climbs_to_the_distinct_codes_used(taggings, order):
    with tempfile.TemporaryDirectory() as folder:
        project = Project.open(build_fixture_project(Path(folder) / "study").root)
        for transcript, passage, code in taggings:
            project.tag(transcript, passage, [code], "a")
        project = Project.open(project.root)
        frame = project.saturation(order, "a")
        cumulative = frame["cumulative"].tolist()
        used = {c.code for c in project.codings("a")}
        assert sorted(frame["transcript"]) == sorted(t.id for t in project.transcripts)
        assert cumulative == sorted(cumulative)
        assert (cumulative[-1] if cumulative else 0) == len(used) == frame.attrs["codes"]
        assert frame["new"].tolist() == [len(new) for new in frame["new_codes"]]
        new_codes = [code for new in frame["new_codes"] for code in new]
        assert sorted(new_codes) == sorted(used)  # each code new exactly once


# -- the bundled study ------------------------------------------------------------------------

@pytest.mark.parametrize("coder", ["consensus", "coder-a"])
def test_bundled_study_ends_at_the_codes_freq_counts(cli, coder):
    result = cli("saturation", "--order", "date", "--coder", coder, "-f", "json", cwd=REPO)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    rows_ = data["transcripts"]
    assert len(rows_) == data["summary"]["transcripts"] == 33
    dates = [row["interview_date"] for row in rows_]
    assert dates == sorted(dates)
    # an independent recount: the codable codes `qcode freq` gives at least one segment
    freq = json.loads(cli("freq", "--coder", coder, "-f", "json", cwd=REPO).stdout)
    codebook = Project.open(REPO).codebook
    used = {row["code"] for row in freq if row["segments"] and codebook.require(row["code"])
            .codable}
    assert rows_[-1]["cumulative"] == data["summary"]["codes"] == len(used)
    assert sorted(code for row in rows_ for code in row["new_codes"]) == sorted(used)


def test_bundled_study_saturates_before_its_last_interviews(cli):
    """The study's question: did the last interviews still add codes? By interview date,
    the consensus coding's last new code comes before the last school's interviews."""
    data = json.loads(cli("saturation", "--order", "interview_date", "-f", "json",
                          cwd=REPO).stdout)
    last = data["summary"]["last_new_position"]
    assert last < data["summary"]["transcripts"]
    assert all(row["new"] == 0 for row in data["transcripts"][last:])
