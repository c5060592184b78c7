"""The transcript readers (``qcode.importers``): known answers on real-looking files built
here (no committed binaries), and one clear failure for each kind of bad file."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qcode.format.transcripts import parse_transcript, segment
from qcode.importers import ImportFailed, ImportOptions, load_speaker_map, read_bytes, read_file
from qcode.importers._common import as_label, clean_body

# -- builders -----------------------------------------------------------------------------


def make_docx(with_comment: bool = True, tracked: bool = True) -> bytes:
    """A transcriber's Word file: a header, turns as paragraphs, a `speaker | text` table
    (with a timestamp column in one row), a comment and a tracked change."""
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Konfidensielt – intervju 7"
    document.add_paragraph("I: Hvordan startet arbeidet med mobilitet?")
    answer = document.add_paragraph("Rektor: Vi hadde for mange lærere\tsom ville ut.")
    if with_comment:
        document.add_comment(answer.runs, text="Anonymiser navnet", author="Kari",
                             initials="KN")
    if tracked:
        w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
        answer._p.append(parse_xml(
            f'<w:ins {w} w:id="1" w:author="Kari" w:date="2024-01-01T00:00:00Z">'
            '<w:r><w:t xml:space="preserve"> Det gikk bra.</w:t></w:r></w:ins>'))
        answer._p.append(parse_xml(
            f'<w:del {w} w:id="2" w:author="Kari" w:date="2024-01-01T00:00:00Z">'
            '<w:r><w:delText> SLETTET</w:delText></w:r></w:del>'))
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text = "I"
    table.cell(0, 1).text = "Og eierskapet?"
    table.cell(1, 0).text = "Koordinator"
    table.cell(1, 1).text = "Lærerne eier det – «deres» prosjekt."
    table.cell(2, 0).text = "Merknad fra transkribent."
    table.cell(2, 1).text = "Uklart lydopptak."
    document.add_paragraph("")
    document.add_paragraph("I: Takk for praten.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCX_BODY = (
    "I: Hvordan startet arbeidet med mobilitet?\n\n"
    "Rektor: Vi hadde for mange lærere\tsom ville ut. Det gikk bra.\n\n"
    "I: Og eierskapet?\n\n"
    "Koordinator: Lærerne eier det – «deres» prosjekt.\n\n"
    "Merknad fra transkribent. | Uklart lydopptak.\n\n"
    "I: Takk for praten.\n"
)


def rezip(raw: bytes, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None
          ) -> bytes:
    """A copy of a zip with some members replaced (or dropped, for None) or added."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename in change:
                if change[item.filename] is not None:
                    target.writestr(item.filename, change[item.filename])
            else:
                target.writestr(item, source.read(item))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content
  xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3">
 <office:body><office:text>
  <text:h text:outline-level="1">Intervju Voss</text:h>
  <text:p>I: Hva <text:span>skjedde</text:span> da?<text:s text:c="3"/>Fortell.</text:p>
  <text:p>Rektor: Vi reiste.<office:annotation><dc:creator>Ola</dc:creator><text:p>Sjekk år</text:p></office:annotation> Alle<text:line-break/>sammen.<text:note><text:note-body><text:p>Fotnote</text:p></text:note-body></text:note></text:p>
  <text:list><text:list-item><text:p>Lærer: Først Madrid,</text:p></text:list-item></text:list>
  <table:table><table:table-row><table:table-cell><text:p>I</text:p></table:table-cell>
   <table:table-cell><text:p>Og så?</text:p></table:table-cell></table:table-row></table:table>
 </office:text></office:body></office:document-content>
"""
ODT_STYLES = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
 <office:master-styles><style:master-page style:name="Standard">
  <style:header><text:p>Fortrolig</text:p></style:header>
 </style:master-page></office:master-styles></office:document-styles>
"""


def make_odt(content: str = ODT_CONTENT, mimetype: str = "application/vnd.oasis.opendocument.text"
             ) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("styles.xml", ODT_STYLES, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


TEAMS_VTT = """WEBVTT

a1b2c3/12-0
00:00:01.200 --> 00:00:04.000
<v Kari Nordmann>Velkommen. Hvordan startet det?</v>

a1b2c3/13-0
00:00:04.500 --> 00:00:07.000
<v Ola Hansen>Det begynte i 2015 &amp; vi
hadde to lærere.</v>

a1b2c3/14-0
00:00:07.100 --> 00:00:09.500
<v Ola Hansen>Så ble det større.</v>

a1b2c3/15-0
00:12:31.000 --> 00:12:35.000
<v Kari Nordmann>Takk, Ola.</v>
"""

NUMBERED_SRT = """1
00:00:00,500 --> 00:00:03,000
Speaker 1: Hvordan var det å være i Málaga?

2
00:00:03,200 --> 00:00:06,000
Speaker 2: Det var skummelt først,
men så gikk det fint.

3
00:00:06,100 --> 00:00:08,000
Speaker 2: Jeg ble tryggere.

4
00:01:02,000 --> 00:01:04,000
Speaker 3: Og vertsfamilien?
"""

NORWEGIAN = ("I: Hvordan var det på utplassering?\r\n\r\n"
             "Elev: Ærlig talt var det skummelt først. Vi bodde hos Øystein og Åse, "
             "og økonomien var trang – men «vi klarte oss».\r\n")


# -- Word --------------------------------------------------------------------------------


def test_docx_paragraphs_table_comment_header_and_tracked_changes():
    result = read_bytes(make_docx(), ".docx")
    assert result.text == DOCX_BODY
    assert result.format == "docx"
    assert any("1 table flattened row by row (3 rows, 2 read as `Speaker: text` turns)" in n
               for n in result.notes)
    assert any("dropped header/footer text: 'Konfidensielt – intervju 7'" in n
               for n in result.notes)
    assert any("dropped 1 comment by Kari: 'Anonymiser navnet'" in w for w in result.warnings)
    assert any("tracked changes (1 insertions, 1 deletions)" in w for w in result.warnings)
    assert result.speakers() == {"I": 3, "Rektor": 1, "Koordinator": 1}
    # Reads back as a transcript body unchanged.
    assert parse_transcript(result.text, "x.md", "x").body == DOCX_BODY


def test_docx_without_comment_or_changes_reports_none():
    result = read_bytes(make_docx(with_comment=False, tracked=False), ".docx")
    assert "Det gikk bra" not in result.text
    assert not any("comment" in w or "tracked" in w for w in result.warnings)


def test_docx_comment_added_by_editing_the_zip_is_reported_too():
    """A comments part written by another program (not python-docx's API) is found."""
    raw = make_docx(with_comment=False, tracked=False)
    comments = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:comment w:id="0" w:author="Per" w:initials="P"><w:p><w:r><w:t>Hør på lydfila'
        '</w:t></w:r></w:p></w:comment></w:comments>').encode()
    source = zipfile.ZipFile(io.BytesIO(raw))
    types = source.read("[Content_Types].xml").replace(
        b"</Types>", b'<Override PartName="/word/comments.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>')
    rels = source.read("word/_rels/document.xml.rels").replace(
        b"</Relationships>", b'<Relationship Id="rIdC1" Type="http://schemas.openxmlformats'
        b'.org/officeDocument/2006/relationships/comments" Target="comments.xml"/>'
        b"</Relationships>")
    edited = rezip(raw, {"[Content_Types].xml": types, "word/_rels/document.xml.rels": rels},
                   {"word/comments.xml": comments})
    result = read_bytes(edited, ".docx")
    assert any("dropped 1 comment by Per: 'Hør på lydfila'" in w for w in result.warnings)
    assert "Hør på lydfila" not in result.text


@pytest.mark.parametrize(("raw", "expected"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "is encrypted (password-protected)"),
    (b"PK\x03\x04" + b"\x00" * 40, "is a damaged Word document"),
    (b"just some text", "it is not a zip container"),
    (b"", "it is not a zip container"),
])
def test_bad_docx_files_fail_with_one_line(raw, expected):
    with pytest.raises(ImportFailed) as info:
        read_bytes(raw, ".docx")
    assert expected in info.value.message
    assert "\n" not in info.value.message
    assert info.value.hint


def test_truncated_docx_is_damaged():
    raw = make_docx()
    with pytest.raises(ImportFailed, match="damaged"):
        read_bytes(raw[: len(raw) // 2], ".docx")


def test_docx_with_a_dtd_is_refused():
    raw = make_docx()
    document = zipfile.ZipFile(io.BytesIO(raw)).read("word/document.xml")
    evil = document.replace(b"?>", b'?><!DOCTYPE d [<!ENTITY a "aaaa">]>', 1)
    with pytest.raises(ImportFailed, match="DTD"):
        read_bytes(rezip(raw, {"word/document.xml": evil}), ".docx")


def test_zip_member_with_path_traversal_or_bomb_is_refused():
    raw = make_docx()
    with pytest.raises(ImportFailed, match="unsafe path"):
        read_bytes(rezip(raw, {}, {"../../evil.xml": b"<x/>"}), ".docx")
    with pytest.raises(ImportFailed, match="zip bomb"):
        read_bytes(rezip(raw, {}, {"word/media/zeros.bin": b"\x00" * (8 * 1024 * 1024)}),
                   ".docx")


def test_zip_that_is_not_a_word_document():
    with pytest.raises(ImportFailed, match="OpenDocument file, not a Word document"):
        read_bytes(make_odt(), ".docx")


# -- OpenDocument ------------------------------------------------------------------------


def test_odt_reads_paragraphs_spaces_lists_tables_and_drops_annotations():
    result = read_bytes(make_odt(), ".odt")
    assert result.text == (
        "Intervju Voss\n\n"
        "I: Hva skjedde da?   Fortell.\n\n"
        "Rektor: Vi reiste. Alle\nsammen.\n\n"
        "Lærer: Først Madrid,\n\n"
        "I: Og så?\n")
    assert any("dropped 1 comment: 'Sjekk år'" in w for w in result.warnings)
    assert any("dropped 1 footnote" in w for w in result.warnings)
    assert any("dropped header/footer text: 'Fortrolig'" in n for n in result.notes)


def test_odt_of_another_kind_or_broken_xml_fails():
    with pytest.raises(ImportFailed, match="another kind"):
        read_bytes(make_odt(mimetype="application/vnd.oasis.opendocument.spreadsheet"), ".odt")
    with pytest.raises(ImportFailed, match="damaged OpenDocument"):
        read_bytes(make_odt(content="<office:document-content"), ".odt")
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
    with pytest.raises(ImportFailed, match="DTD"):
        read_bytes(make_odt(content=bomb), ".odt")
    # an encoding Python has no codec for is a damaged file, not a crash (found by fuzzing)
    unknown = ODT_CONTENT.replace('encoding="UTF-8"', 'encoding="TTF-8"')
    assert unknown != ODT_CONTENT
    with pytest.raises(ImportFailed, match=r"damaged OpenDocument.*TTF-8"):
        read_bytes(make_odt(content=unknown), ".odt")


# -- subtitles ---------------------------------------------------------------------------


def test_vtt_voice_tags_become_turns_with_start_times():
    result = read_bytes(TEAMS_VTT.encode(), ".vtt")
    assert result.text == (
        "Kari Nordmann: Velkommen. Hvordan startet det?\n%% 00:00:01\n\n"
        "Ola Hansen: Det begynte i 2015 & vi hadde to lærere. Så ble det større.\n"
        "%% 00:00:04\n\n"
        "Kari Nordmann: Takk, Ola.\n%% 00:12:31\n")
    assert any("4 cues joined into 3 turns" in n for n in result.notes)
    # The marker line stays inside the turn it times.
    passages = segment(result.text, "turns")
    assert [p.speaker for p in passages] == ["Kari Nordmann", "Ola Hansen", "Kari Nordmann"]
    assert result.text[passages[1].start:passages[1].end].endswith("%% 00:00:04")


def test_vtt_speaker_map_and_no_timestamps():
    options = ImportOptions(speaker_map={"Kari Nordmann": "I", "Ola Hansen": "Rektor"},
                            timestamps=False)
    result = read_bytes(TEAMS_VTT.encode(), ".vtt", options)
    assert result.text == ("I: Velkommen. Hvordan startet det?\n\n"
                           "Rektor: Det begynte i 2015 & vi hadde to lærere. Så ble det "
                           "større.\n\nI: Takk, Ola.\n")
    assert not result.warnings


def test_zoom_style_name_prefix_starts_turns():
    zoom = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nAnne Berg: Hei.\n\n"
            "2\n00:00:02.500 --> 00:00:05.000\nAnne Berg: Kan du fortelle?\n\n"
            "3\n00:00:05.500 --> 00:00:09.000\nPer: Ja, vi startet i fjor.\n\n"
            "4\n00:00:09.100 --> 00:00:10.000\nog det gikk fint.\n")
    result = read_bytes(zoom.encode(), ".vtt")
    assert result.text == ("Anne Berg: Hei. Kan du fortelle?\n%% 00:00:01\n\n"
                           "Per: Ja, vi startet i fjor. og det gikk fint.\n%% 00:00:05\n")


def test_srt_from_a_numbering_tool_with_speaker_map():
    options = ImportOptions(speaker_map={"Speaker 1": "I", "Speaker 2": "Elev"})
    raw = NUMBERED_SRT.replace("\n", "\r\n").encode("cp1252")
    result = read_bytes(raw, ".srt", options)
    assert result.text == (
        "I: Hvordan var det å være i Málaga?\n%% 00:00:00\n\n"
        "Elev: Det var skummelt først, men så gikk det fint. Jeg ble tryggere.\n%% 00:00:03\n\n"
        "Speaker 3: Og vertsfamilien?\n%% 00:01:02\n")
    assert result.encoding == "cp1252"
    assert any("speaker map: Speaker 1 (1 cue), Speaker 2 (2 cues)" in n for n in result.notes)
    assert any("not in the speaker map" in w and "Speaker 3" in w for w in result.warnings)


def test_whisper_vtt_without_speakers_becomes_paragraphs_at_pauses():
    whisper = ("WEBVTT\n\n00:00.000 --> 00:02.000\nSå vi startet med to lærere\n\n"
               "00:02.000 --> 00:04.000\nsom reiste til Spania.\n\n"
               "00:09.000 --> 00:11.000\nEtterpå kom elevene.\n")
    result = read_bytes(whisper.encode(), ".vtt")
    assert result.text == ("Så vi startet med to lærere som reiste til Spania.\n%% 00:00:00\n\n"
                           "Etterpå kom elevene.\n%% 00:00:09\n")
    assert any("no speaker names" in w for w in result.warnings)


@pytest.mark.parametrize(("raw", "suffix", "expected"), [
    (b"", ".vtt", "is empty"),
    (b"WEBVTT\n\n", ".vtt", "has no cues"),
    (b"this is no subtitle file", ".vtt", "is not a valid .vtt file"),
    (b"hello\nworld\n", ".srt", "is not a valid .srt file"),
    (b"WEBVTT\n\n00:00.000 --> 00:01.000\n<b></b>\n", ".vtt", "has no caption text"),
])
def test_bad_subtitle_files(raw, suffix, expected):
    with pytest.raises(ImportFailed, match=expected):
        read_bytes(raw, suffix)


# -- text --------------------------------------------------------------------------------


def test_windows_1252_text_with_norwegian_letters_is_detected_and_reported():
    result = read_bytes(NORWEGIAN.encode("cp1252"), ".txt")
    assert result.text == NORWEGIAN.replace("\r\n", "\n")
    assert result.encoding == "cp1252"
    assert result.confidence is not None and 0 < result.confidence <= 1
    assert any(n.startswith("not UTF-8: read as cp1252") and "confidence" in n
               for n in result.notes)


def test_encoding_option_overrides_and_is_checked():
    raw = NORWEGIAN.encode("cp1252")
    forced = read_bytes(raw, ".txt", ImportOptions(encoding="cp1252"))
    assert forced.text == NORWEGIAN.replace("\r\n", "\n")
    assert forced.confidence is None and "read as cp1252 (--encoding)" in forced.notes
    # latin-1 reads 0x96 (cp1252's en dash) as a C1 control character: dropped, and said.
    latin = read_bytes(raw, ".txt", ImportOptions(encoding="latin-1"))
    assert latin.text == NORWEGIAN.replace("\r\n", "\n").replace("–", "")
    assert "dropped 1 control character" in latin.notes
    with pytest.raises(ImportFailed, match="is not valid utf-8"):
        read_bytes(raw, ".txt", ImportOptions(encoding="utf-8"))
    with pytest.raises(ImportFailed, match="not an encoding Python knows"):
        read_bytes(raw, ".txt", ImportOptions(encoding="klingon"))
    with pytest.raises(ImportFailed, match="only to text formats"):
        read_bytes(make_docx(), ".docx", ImportOptions(encoding="cp1252"))


def test_utf8_utf8_bom_and_utf16_read_without_guessing():
    text = "I: Hei på deg\n\nElev: Æ, ø og å.\n"
    for raw in (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        result = read_bytes(raw, ".txt")
        assert result.text == text
        assert result.confidence is None


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "is empty"),
    (b" \n\t\n", "has no text"),
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "is an image"),
    (b"PK\x03\x04rest", "is a zip file"),
    (b"\x00\x01\x02binary\x00data" * 10, "contains NUL bytes"),
    (bytes(range(1, 32)) * 20, "does not look like text"),
    (b"{\\rtf1 hello}", "is an RTF file"),
])
def test_bad_text_files(raw, expected):
    with pytest.raises(ImportFailed, match=expected):
        read_bytes(raw, ".txt")


def test_markdown_front_matter_is_kept():
    raw = b"---\nschool: Voss\ninterview_date: 2019-03-12\n---\nI: Hei.\n"
    result = read_bytes(raw, ".md")
    assert result.text == "I: Hei.\n"
    assert result.front_matter == {"school": "Voss", "interview_date": "2019-03-12"}


def test_speaker_map_relabels_text_formats():
    raw = b"Speaker 1: Hei.\n\nSpeaker 2: Hallo.\n\nSpeaker 1: Ha det.\n"
    result = read_bytes(raw, ".txt", ImportOptions(speaker_map={"Speaker 1": "I"}))
    assert result.text == "I: Hei.\n\nSpeaker 2: Hallo.\n\nI: Ha det.\n"
    assert any("Speaker 2" in w for w in result.warnings)


# -- RTF ---------------------------------------------------------------------------------

RTF = (rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}{\header Konfidensielt\par}"
       b"\n"
       rb"I: Hvordan gikk det?\par" b"\n"
       rb"Rektor: Det gikk bra, s\'e5 bra at vi\line fortsatte."
       rb"{\*\annotation {\*\atnauthor Anne} Sjekk dette}\par" b"\n"
       rb"\par" b"\n"
       rb"\trowd\cellx2000\cellx6000 Elev\cell Ja, \u248?konomi\cell\row" b"\n}")


def test_rtf_paragraphs_line_breaks_tables_and_dropped_parts():
    result = read_bytes(RTF, ".rtf")
    assert result.text == ("I: Hvordan gikk det?\n\nRektor: Det gikk bra, så bra at vi\n"
                           "fortsatte.\n\nElev: Ja, økonomi\n")
    assert any("dropped 1 comment" in w for w in result.warnings)
    assert any("dropped 1 header/footer" in n for n in result.notes)
    with pytest.raises(ImportFailed, match="not an RTF file"):
        read_bytes(b"plain text", ".rtf")


# -- the registry and shared helpers -----------------------------------------------------


def test_unknown_extension_and_missing_file(tmp_path: Path):
    with pytest.raises(ImportFailed, match=r"cannot import \(\.pdf\)"):
        read_bytes(b"%PDF-1.4", ".pdf")
    with pytest.raises(ImportFailed, match="does not exist"):
        read_file(tmp_path / "missing.docx")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(ImportFailed, match="is a folder"):
        read_file(tmp_path / "folder.txt")
    path = tmp_path / "Intervju.DOCX"
    path.write_bytes(make_docx())
    assert read_file(path).text == DOCX_BODY


def test_load_speaker_map(tmp_path: Path):
    path = tmp_path / "map.csv"
    path.write_text("speaker,label\nSpeaker 1,I\n\"Dr. Berg, PhD\",Rektor\n", "utf-8")
    assert load_speaker_map(path) == {"Speaker 1": "I", "Dr. Berg, PhD": "Rektor"}
    path.write_text("Speaker 1,I\nSpeaker 2,2nd speaker\n", "utf-8")
    with pytest.raises(ImportFailed, match="line 2: '2nd speaker' cannot be a speaker label"):
        load_speaker_map(path)
    path.write_text("Speaker 1,I,extra\n", "utf-8")
    with pytest.raises(ImportFailed, match="line 1 has 3 columns"):
        load_speaker_map(path)
    path.write_text("speaker,label\n", "utf-8")
    with pytest.raises(ImportFailed, match="no `raw speaker,label` rows"):
        load_speaker_map(path)


@pytest.mark.parametrize(("name", "label"), [
    ("Kari Nordmann", "Kari Nordmann"),
    ("SPEAKER_00", "SPEAKER_00"),
    ("Dr. Berg, PhD", "Dr. Berg PhD"),
    ("2nd interviewer", "nd interviewer"),
    ("«»", None),
    ("x" * 60, "x" * 40),
])
def test_as_label_makes_names_that_start_turns(name, label):
    assert as_label(name) == label
    if label:
        assert segment(f"{label}: hei\n", "turns")[0].speaker == label


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_clean_body_is_idempotent_and_normalised(text):
    cleaned = clean_body(text)
    assert clean_body(cleaned) == cleaned
    assert "\r" not in cleaned and "\n\n\n" not in cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == "" or (cleaned.endswith("\n") and not cleaned.endswith("\n\n"))
