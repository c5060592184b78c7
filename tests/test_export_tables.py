"""`qcode export tables`: five tidy tables that other tools read back to qcode's numbers.

The fixture's codings (conftest `coded`): coder a has 8 codings, coder b 4. voss-principal
has 4 passages (its second turn spans two lines), lier-teacher 3, strinda-coordinator 3.
"""

import csv
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qcode import Project
from qcode.errors import WriteFailed
from qcode.interchange.tables import SCHEMAS, TABLE_NAMES, Table, export_tables, table_csv

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### `qcode export tables`", 1)[1].split("\n### ", 1)[0]


def need(module: str):
    """The module, else skip (locally) or fail (CI=true, where the dev extras hold it)."""
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is in the dev extras; under CI=true this test may not "
                        "skip", pytrace=False)
        pytest.skip(f"{module} is not installed")


def read(folder: Path, table: str) -> pd.DataFrame:
    """A CSV table as its exact text: every cell a string, an empty cell ''."""
    return pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)


def documents_and_segments(folder: Path, coders: list[str]) -> tuple[dict, dict]:
    """What another tool computes from the tables: documents and distinct segments per code
    and school (README, "What counts"). A grouping folder (codable false) counts the spans
    of its whole subtree, each once: the tables give that through `codes.parent`."""
    codes = read(folder, "codes").set_index("id")
    credited = {}  # code -> itself (if codable) and every folder above it
    for code in codes.index:
        chain, parent = [code] if codes.loc[code, "codable"] == "true" else [], code
        while parent:
            if codes.loc[parent, "codable"] == "false":
                chain.append(parent)
            parent = codes.loc[parent, "parent"]
        credited[code] = chain
    codings, transcripts = read(folder, "codings"), read(folder, "transcripts")
    rows = codings[codings["coder"].isin(coders)].merge(
        transcripts[["id", "school"]], left_on="transcript", right_on="id")
    rows = rows.assign(code=rows["code"].map(credited)).explode("code").dropna(subset="code")
    rows = rows.drop_duplicates(["transcript", "start", "end", "code"])
    documents = rows.groupby(["code", "school"])["transcript"].nunique()
    segments = rows.groupby(["code", "school"]).size()
    return ({k: int(v) for k, v in documents.items()},
            {k: int(v) for k, v in segments.items()})


def matrix_cells(project: Project, measure: str, coders: list[str]) -> dict:
    grid = project.matrix("school", measure, coders=coders)
    return {(code, school): int(value) for (code, school), value in grid.stack().items()
            if value}


def copy_study(root: Path) -> Project:
    root.mkdir()
    for name in ("qcode.yaml", "codebooks", "transcripts", "cases", "codings"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    return Project.open(root)


# -- the tables of the fixture, hand-checked ------------------------------------------------

def test_the_five_tables_hold_the_fixture(coded, cli, project_dir):
    result = cli("export", "tables", "out/tables")
    assert result.exit_code == 0, result.stderr
    folder = project_dir.root / "out" / "tables"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.csv" for t in TABLE_NAMES)
    assert ("codes.csv (6 rows), transcripts.csv (3 rows), passages.csv (10 rows), "
            "codings.csv (12 rows), events.csv (12 rows)") in result.stderr

    codes = read(folder, "codes").set_index("id")
    assert list(codes.columns) == [c for c, _ in SCHEMAS["codes"][1:]]
    assert list(codes.index) == ["leadership", "lead-strong", "lead-weak", "ownership",
                                 "outcomes", "personal"]
    assert dict(codes.loc["lead-strong"]) == {
        "label": "Strong anchoring", "parent": "leadership", "top": "leadership",
        "depth": "1", "position": "2", "key": "L", "codable": "true",
        "description": "Leaders carry the work.", "aliases": "anchoring", "color": ""}
    assert codes.loc["leadership", "codable"] == "false"
    assert codes.loc["leadership", "parent"] == "" and codes.loc["leadership", "depth"] == "0"

    transcripts = read(folder, "transcripts").set_index("id")
    # declared attributes first, then the case table's columns
    assert list(transcripts.columns) == ["file", "words", "passages", "school",
                                         "informant_group", "pupils", "model"]
    assert dict(transcripts.loc["strinda-coordinator"]) == {
        "file": "transcripts/strinda-coordinator.md", "words": "26", "passages": "3",
        "school": "Strinda", "informant_group": "coordinator", "pupils": "1052", "model": ""}

    passages = read(folder, "passages")
    assert len(passages) == 10
    second = passages[(passages.transcript == "voss-principal") & (passages.number == "2")]
    assert second.iloc[0]["speaker"] == "Rektor" and second.iloc[0]["line"] == "8"
    assert second.iloc[0]["text"] == ("Rektor: Vi hadde for mange lærere, og så så vi en "
                                      "mulighet.\n\nDet ble en del av planen vår etter hvert.")
    assert second.iloc[0]["words"] == "21"

    codings = read(folder, "codings")
    assert list(codings.columns) == [c for c, _ in SCHEMAS["codings"]]
    assert codings.groupby("coder").size().to_dict() == {"a": 8, "b": 4}
    sentence = codings[(codings.coder == "b") & (codings.transcript == "lier-teacher")]
    row = sentence.iloc[0]
    assert (row["passage"], row["passage_end"], row["code"], row["label"]) == (
        "2", "2", "personal", "Personal outcomes")
    assert row["text"] == "De ble tryggere på seg selv."
    assert coded.transcript("lier-teacher").body[int(row["start"]):int(row["end"])] == row["text"]

    events = read(folder, "events")
    assert list(events.columns) == [c for c, _ in SCHEMAS["events"]]
    assert (events["op"] == "add").all() and (events["valid"] == "true").all()
    assert events[events.coder == "a"]["line"].tolist() == [str(n) for n in range(1, 9)]
    # codings.line points at the add event it came from
    joined = codings.merge(events, on=["coder", "line"], suffixes=("", "_event"))
    assert len(joined) == 12 and (joined["id"] == joined["id_event"]).all()


def test_codings_are_the_replay_and_events_the_raw_log(coded, cli, project_dir):
    lines = project_dir.log_lines("a")
    withdrawn = lines[0]["id"]
    project_dir.append_log(
        "a",
        {"op": "remove", "id": withdrawn, "at": "2026-12-01T10:00:00.000Z"},
        {"op": "add", "id": "alias1", "transcript": "strinda-coordinator", "start": 0,
         "end": 11, "code": "anchoring", "text": "Koordinator", "memo": "old name",
         "at": "2026-12-01T10:01:00.000Z", "adjudication": {"from": ["a", "b"]}},
        {"op": "add", "id": "span2", "transcript": "voss-principal", "start": 0,
         "end": 30, "code": "ownership", "text": "I: Hvordan startet det?\nRektor",
         "at": "2026-12-01T10:02:00.000Z"},
        '{"op": "add", "id": "torn"',
    )
    result = cli("export", "tables", "t", "--coder", "a")
    assert result.exit_code == 0, result.stderr
    assert "codings/a.jsonl: line 12 left out of events" in result.stderr
    folder = project_dir.root / "t"
    codings = read(folder, "codings")
    assert set(codings.coder) == {"a"}
    assert withdrawn not in set(codings.id) and len(codings) == 8 - 1 + 2
    alias = codings[codings.id == "alias1"].iloc[0]
    assert (alias["code"], alias["code_as_logged"], alias["label"], alias["memo"]) == (
        "lead-strong", "anchoring", "Strong anchoring", "old name")
    assert (alias["passage"], alias["passage_end"], alias["line"]) == ("1", "1", "10")
    across = codings[codings.id == "span2"].iloc[0]
    assert (across["passage"], across["passage_end"]) == ("1", "2")
    assert across["created_at"] == "2026-12-01T10:02:00.000Z"

    events = read(folder, "events")
    assert events["line"].tolist() == [str(n) for n in range(1, 12)]  # line 12 is torn
    remove = events[events.line == "9"].iloc[0]
    assert (remove["op"], remove["id"], remove["transcript"], remove["start"]) == (
        "remove", withdrawn, "", "")
    added = events[events.id == "alias1"].iloc[0]
    assert added["code"] == "anchoring"
    assert json.loads(added["extra"]) == {"adjudication": {"from": ["a", "b"]}}


def test_csv_cells_are_the_exact_text_for_programs(coded, cli, project_dir):
    coded.tag("voss-principal", 1, ["ownership"], "a", memo="=HYPERLINK(\"x\")")
    assert cli("export", "tables", "t").exit_code == 0
    codings = read(project_dir.root / "t", "codings")
    assert '=HYPERLINK("x")' in set(codings.memo)


def test_an_event_of_the_wrong_shape_is_kept_and_marked(coded, cli, project_dir):
    project_dir.append_log("b", {"op": "add", "id": "bad", "transcript": "lier-teacher",
                                 "start": "0", "end": 5, "code": "personal", "text": "I: Hv",
                                 "at": "2026-12-01T10:00:00.000Z"})
    assert cli("export", "tables", "t").exit_code == 0
    events = read(project_dir.root / "t", "events")
    bad = events[events.id == "bad"].iloc[0]
    assert (bad["valid"], bad["start"], bad["end"]) == ("false", "", "5")
    assert json.loads(bad["extra"]) == {"start": "0"}


# -- the numbers come back: pandas, DuckDB, Parquet -----------------------------------------

@pytest.mark.parametrize("coders", [["a"], ["b"], ["a", "b"]])
def test_pandas_recomputes_the_matrix_from_the_tables(coded, tmp_path, coders):
    export_tables(coded, tmp_path / "t")
    documents, segments = documents_and_segments(tmp_path / "t", coders)
    assert documents == matrix_cells(coded, "documents", coders)
    assert segments == matrix_cells(coded, "segments", coders)
    if coders == ["a"]:  # hand-counted: a coded lead-weak at Lier and Strinda, personal twice
        assert segments[("personal", "Lier")] == 2 and documents[("personal", "Lier")] == 1


def test_the_study_tables_give_the_consensus_matrix(tmp_path):
    project = copy_study(tmp_path / "study")
    export = export_tables(project, tmp_path / "tables")
    assert export.warnings == []
    counts = dict((p.stem, n) for p, n in export.files)
    assert counts["transcripts"] == 33 and counts["codings"] == len(project.codings())
    documents, segments = documents_and_segments(tmp_path / "tables", ["consensus"])
    assert documents == matrix_cells(project, "documents", ["consensus"])
    assert segments == matrix_cells(project, "segments", ["consensus"])


def test_the_readme_duckdb_example_gives_the_matrix(tmp_path, monkeypatch):
    duckdb = need("duckdb")
    sql = re.search(r"```sql\n(.*?)```", SECTION, flags=re.DOTALL).group(1)
    assert len(sql.strip().splitlines()) == 3
    project = copy_study(tmp_path / "study")
    export_tables(project, tmp_path / "tables")
    monkeypatch.chdir(tmp_path)  # the example names tables/ relative to where it runs
    rows = duckdb.connect().execute(sql).fetchall()
    codable = {c.id for c in project.codebook if c.codable}  # folders add up their subtrees
    expected = matrix_cells(project, "documents", ["consensus"])
    assert {(code, school): n for code, school, n in rows} == {
        key: n for key, n in expected.items() if key[0] in codable}
    assert len(rows) > 100


def test_the_readme_r_example_names_files_and_columns_that_exist(tmp_path):
    code = re.search(r"```r\n(.*?)```", SECTION, flags=re.DOTALL).group(1)
    assert len(code.strip().splitlines()) == 3
    export_tables(copy_study(tmp_path / "study"), tmp_path / "tables")
    files = re.findall(r'read_csv\("([^"]+)"\)', code)
    assert files == ["tables/codings.csv", "tables/transcripts.csv"]
    columns = set()
    for file in files:
        assert (tmp_path / file).is_file()
        columns |= set(pd.read_csv(tmp_path / file, nrows=0).columns)
    # every name the example uses that is neither R nor a string it makes is a column
    words = set(re.findall(r"\b[a-z_]+\b", re.sub(r'"[^"]*"', "", code)))
    r_words = {"library", "dplyr", "readr", "d", "read_csv", "inner_join", "by", "c",
               "filter", "distinct", "count", "name"}
    assert words - r_words <= columns, words - r_words - columns
    assert re.search(r'c\(transcript = "id"\)', code) and "id" in columns


def test_parquet_holds_typed_columns_and_the_same_numbers(coded, cli, project_dir):
    need("pyarrow")
    assert cli("export", "tables", "p", "-f", "parquet").exit_code == 0
    folder = project_dir.root / "p"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{t}.parquet" for t in TABLE_NAMES)
    frames = {t: pd.read_parquet(folder / f"{t}.parquet") for t in TABLE_NAMES}
    assert str(frames["codings"]["start"].dtype) == "int64"
    assert frames["codes"]["codable"].tolist() == [False, True, True, True, True, True]
    transcripts = frames["transcripts"].set_index("id")
    assert transcripts.loc["voss-principal", "pupils"] == 372
    assert pd.isna(transcripts.loc["strinda-coordinator", "model"])
    assert cli("export", "tables", "c").exit_code == 0
    for table in TABLE_NAMES:  # the same rows as the CSV, cell for cell
        csv = read(project_dir.root / "c", table)
        as_text = frames[table].astype(object).where(frames[table].notna(), "")
        as_text = as_text.map(lambda v: str(v).lower() if isinstance(v, bool) else str(v))
        assert as_text.to_numpy().tolist() == csv.to_numpy().tolist(), table


def test_parquet_without_pyarrow_names_the_extra_and_writes_nothing(
        coded, cli, project_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = cli("export", "tables", "p", "--format", "parquet")
    assert result.exit_code == 1
    assert "pip install 'qcode[parquet]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project_dir.root / "p").exists()


# -- writing: never over a file without --force, never outside DIR ---------------------------

def test_existing_files_are_refused_without_force(coded, cli, project_dir):
    folder = project_dir.root / "t"
    folder.mkdir()
    (folder / "events.csv").write_text("mine\n")
    result = cli("export", "tables", "t")
    assert result.exit_code == 1 and "t/events.csv already exists" in result.stderr
    assert "--force" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["events.csv"]  # none written
    assert (folder / "events.csv").read_text() == "mine\n"
    assert cli("export", "tables", "t", "--force").exit_code == 0
    assert (folder / "events.csv").read_text().startswith("coder,line,op,")


def test_rows_are_streamed_and_a_failure_midway_leaves_no_file(coded, project_dir,
                                                                 monkeypatch):
    import qcode.interchange.tables as tables

    monkeypatch.setattr(tables, "PARQUET_ROW_GROUP", 2)  # (CSV goes out row by row)
    folder = project_dir.root / "t"
    export = export_tables(coded, folder)
    assert dict((p.name, n) for p, n in export.files)["codings.csv"] == 12
    assert len(read(folder, "codings")) == 12
    shutil.rmtree(folder)

    def broken_rows(corpus, coders):  # the last table fails after writing some rows
        table = Table("events", SCHEMAS["events"])

        def rows():
            yield ["a", 1, *[None] * 9, True, None]
            raise OSError(28, "No space left on device")

        table.rows = rows()
        return table

    monkeypatch.setattr(tables, "events_table", broken_rows)
    with pytest.raises(WriteFailed, match="no space left on the disk"):
        export_tables(coded, folder)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_link_in_dir_is_replaced_not_followed(coded, cli, project_dir, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("keep\n")
    folder = project_dir.root / "t"
    folder.mkdir()
    (folder / "codes.csv").symlink_to(outside)
    assert cli("export", "tables", "t").exit_code == 1
    assert cli("export", "tables", "t", "--force").exit_code == 0
    assert outside.read_text() == "keep\n"
    assert not (folder / "codes.csv").is_symlink()
    assert {p.name for p in folder.iterdir()} == {f"{t}.csv" for t in TABLE_NAMES}


def test_dir_must_be_a_folder_and_is_made_when_missing(coded, cli, project_dir):
    (project_dir.root / "file").write_text("x")
    result = cli("export", "tables", "file")
    assert result.exit_code == 2 and "file is not a folder" in result.stderr
    assert cli("export", "tables", "a/b/c").exit_code == 0
    assert (project_dir.root / "a" / "b" / "c" / "codes.csv").is_file()


def test_an_attribute_named_like_a_column_is_refused(coded, cli, project_dir):
    project_dir.replace("transcripts/lier-teacher.md", "school: Lier", "school: Lier\nwords: 9")
    result = cli("export", "tables", "t")
    assert result.exit_code == 1
    assert "attribute 'words' has the name of a column" in result.stderr
    assert not (project_dir.root / "t").exists()


def test_an_unknown_coder_is_refused_with_a_suggestion(coded, cli):
    result = cli("export", "tables", "t", "--coder", "aa")
    assert result.exit_code != 0 and "did you mean 'a'" in result.stderr


def test_a_broken_coding_is_exported_as_logged_and_said(coded, cli, project_dir):
    project_dir.append_log("a", {"op": "add", "id": "gone", "transcript": "lier-teacher",
                                 "start": 0, "end": 5, "code": "no-such-code",
                                 "text": "I: Hv", "at": "2026-12-01T10:00:00.000Z"})
    result = cli("export", "tables", "t")
    assert result.exit_code == 0
    assert ("warning: codings holds 1 coding that qcode's counts leave out (an unknown "
            "transcript or code") in result.stderr
    broken = read(project_dir.root / "t", "codings").set_index("id").loc["gone"]
    assert (broken["code"], broken["label"], broken["code_as_logged"]) == (
        "no-such-code", "", "no-such-code")


def test_a_project_without_codings_gives_empty_tables(project_dir, cli):
    assert cli("export", "tables", "t").exit_code == 0
    assert (project_dir.root / "t" / "codings.csv").read_text() == (
        ",".join(c for c, _ in SCHEMAS["codings"]) + "\n")
    if need("pyarrow"):
        assert cli("export", "tables", "p", "-f", "parquet").exit_code == 0
        events = pd.read_parquet(project_dir.root / "p" / "events.parquet")
        assert len(events) == 0 and list(events.columns) == [c for c, _ in SCHEMAS["events"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(st.characters(exclude_categories=["Cs"])),
                          st.integers(-2**63, 2**63 - 1)), max_size=5))
def test_every_text_comes_back_from_the_csv_exactly(rows):
    table = Table("t", [("text", "string"), ("n", "integer")], [list(r) for r in rows])
    back = list(csv.reader(io.StringIO(table_csv(table), newline="")))
    assert back == [["text", "n"], *([text, str(n)] for text, n in rows)]
