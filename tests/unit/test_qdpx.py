"""REFI-QDA reading and writing without a database: offsets, repairs, safety, schema validity."""

import io
import re
import zipfile
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path

import pytest
import xmlschema
from defusedxml import ElementTree as SafeET

from corpus.importers import ImportFileError, qdpx

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "refi-qda"
SCHEMAS = SHARED / "schemas"
NVIVO = SHARED / "samples" / "nvivo12_windows_oltas.qdpx"
SPEC_QDC = SHARED / "samples" / "refi_qda_1_5_spec_example.qdc"
Q = "{urn:QDA-XML:project:1.0}"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared REFI-QDA data not found")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
 <Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="&lol9;" isCodable="true"/>
</Codes></CodeBook>"""


@pytest.fixture(scope="module")
def project_schema():
    return xmlschema.XMLSchema(str(SCHEMAS / "Project-mrt2019.xsd"))


@pytest.fixture(scope="module")
def codebook_schema():
    return xmlschema.XMLSchema(str(SCHEMAS / "Codebook-mrt2019.xsd"))


def _archive(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _project_xml(sources: str = "", codes: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="Study">'
        f"{codes}<Sources>{sources}</Sources></Project>"
    ).encode()


# --- Offsets --------------------------------------------------------------------------------


@needs_shared
def test_offsets_detect_nvivo_sample_counts_utf16_units_without_bom_crlf_as_two():
    project = qdpx.qdpx_read(NVIVO.open("rb"))
    source = project.sources[0]
    assert source.text.startswith("\ufeff") and "\r\n" in source.text
    normalized = qdpx.text_normalize(source.text)
    choice = qdpx.offsets_detect(
        source.text, [(s.start, s.end) for s in source.selections], normalized=normalized
    )
    assert choice.scheme == qdpx.OffsetScheme("UTF-16 units", False, "as stored")
    assert choice.label == (
        "UTF-16 units, byte-order mark not counted, CRLF line ends counted as two"
    )
    assert (choice.hits, choice.of, choice.invalid) == (194, 194, 0)
    assert choice.runner_up_hits < 194
    text = normalized.text
    # Every selection is one whole comment line of the export (sometimes with its line end).
    for start, end in choice.spans:
        assert start == 0 or text[start - 1] == "\n"
        assert end == len(text) or text[end] == "\n" or text[end - 1] == "\n"
    first = text[choice.spans[0][0] : choice.spans[0][1]]
    assert first.startswith("Na mi van? Nem mertétek kötelezővé tenni?")
    assert first.endswith("nem haltok meg covidban.")


@needs_shared
def test_offsets_detect_nvivo_sample_code_points_would_cut_words():
    """The evidence: read as code points, selections after emoji start mid-word."""
    source = qdpx.qdpx_read(NVIVO.open("rb")).sources[0]
    normalized = qdpx.text_normalize(source.text)
    offsets = [(s.start, s.end) for s in source.selections]
    scheme = qdpx.OffsetScheme("code points", False, "as stored")
    cumulative = list(accumulate(qdpx._unit_lengths(source.text, scheme), initial=0))
    _spans, hits, _invalid = qdpx._convert(source.text, normalized, cumulative, offsets)
    assert hits < 150
    astral_before = [sum(c > "\uffff" for c in source.text[: s.start]) for s in source.selections]
    assert sum(1 for n in astral_before if n) > 50


def _synthetic_source():
    lines = [
        "Grüße an alle 👋 from the team",
        "Skills 🎉🎉 not degrees, said Zoë",
        "𝐁𝐨𝐥𝐝 claims about badges and access",
        "Micro-credentials widen access for adults",
    ]
    raw = "\ufeff" + "\r\n".join(lines) + "\r\n"
    words = [m.span() for m in re.finditer(r"\w+", raw)][1::2]  # every other word
    return raw, words


@pytest.mark.parametrize(
    "scheme",
    [
        qdpx.OffsetScheme(unit, bom, newlines)
        for unit in qdpx.UNITS
        for bom in (False, True)
        for newlines in ("as stored", "one per line end")
    ],
    ids=lambda s: s.describe(has_bom=True, crlf=True),
)
def test_offsets_detect_recovers_each_interpretation(scheme):
    raw, words = _synthetic_source()
    cumulative = list(accumulate(qdpx._unit_lengths(raw, scheme), initial=0))
    offsets = [(cumulative[a], cumulative[b]) for a, b in words]
    choice = qdpx.offsets_detect(raw, offsets)
    assert choice.scheme == scheme
    text = qdpx.text_normalize(raw).text
    assert [text[s:e] for s, e in choice.spans] == [raw[a:b] for a, b in words]


def test_offsets_detect_keeps_code_points_on_a_tie():
    choice = qdpx.offsets_detect("plain ascii words", [(0, 5), (6, 11)])
    assert choice.scheme == qdpx.STANDARD
    assert choice.spans == [(0, 5), (6, 11)]


def test_offsets_detect_trusted_uses_code_points_only():
    raw = "😀 ab cd"
    choice = qdpx.offsets_detect(raw, [(2, 4)], trusted=True)
    assert choice.scheme == qdpx.STANDARD and choice.runner_up == ""
    assert choice.spans == [(2, 4)]


def test_offsets_detect_marks_selections_out_of_range():
    choice = qdpx.offsets_detect("short text", [(0, 5), (3, 99), (6, 6)])
    assert choice.spans == [(0, 5), None, None]
    assert choice.invalid == 2


def test_text_normalize_maps_offsets_through_nfc_crlf_bom_and_strip():
    raw = "\ufeff  Cafe\u0301 au lait\r\nline two\x00 \u2028end  "
    normalized = qdpx.text_normalize(raw)
    assert normalized.text == "Café au lait\nline two \nend"
    # "Cafe\u0301" (raw 3..8) is "Café" (0..4); a span ending inside the cluster widens.
    assert normalized.span(3, 8) == (0, 4)
    assert normalized.span(3, 7) == (0, 4)
    # "line" after the CRLF: raw 18..22 → stored 13..17.
    assert raw[18:22] == "line" and normalized.text[13:17] == "line"
    assert normalized.span(18, 22) == (13, 17)
    # A span ending on the CR of a CRLF ends before the line end; between CR and LF, after.
    assert normalized.span(12, 16) == (8, 12) and normalized.text[8:12] == "lait"
    assert normalized.span(12, 17) == (8, 13)


def test_text_normalize_handles_starters_that_compose_backwards():
    raw = "\u1100\u1161\u11a8 x"  # Hangul jamo compose into one syllable
    normalized = qdpx.text_normalize(raw)
    assert normalized.text == "\uac01 x"
    assert normalized.span(0, 3) == (0, 1)
    assert normalized.span(4, 5) == (2, 3)


def test_text_align_maps_across_whitespace_differences():
    align = qdpx.text_align("one  two\nthree", "one two three")
    assert align.span(5, 8) == (4, 7)
    assert align.span(9, 14) == (8, 13)


# --- Codebooks, repairs -------------------------------------------------------------------


@needs_shared
def test_codebook_read_spec_example_repairs_empty_sets(codebook_schema):
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        codebook_schema.validate(str(SPEC_QDC))
    codebook = qdpx.codebook_read(SPEC_QDC.read_bytes())
    assert codebook.repairs == ["empty <Sets/> removed"]
    assert [c.name for c in codebook.codes] == [
        "Topics",
        "Economy",
        "Health care",
        "Values",
        "Conservatives",
        "Liberals",
    ]
    economy = codebook.codes[1]
    assert (economy.guid, economy.colour, economy.codable) == (
        "d7aa29da-519b-4946-9b90-253b6db8fd0a",
        "#ffff00",
        True,
    )
    assert economy.description == "Anything about jobs or taxes or business"
    assert codebook.codes[0].codable is False
    codebook_schema.validate(codebook.xml)  # the repaired document is valid


@pytest.mark.parametrize("namespace", ["urn:QDA-XML:codebook:0:4", "urn:QDA-XML:codebook:1:0", ""])
def test_codebook_read_repairs_old_namespaces(namespace, codebook_schema):
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    data = (
        f'<CodeBook{xmlns}><Codes><Code guid="{{0DCEF2F5-E55C-49DA-8C33-9B0803C7AEB4}}" '
        'name="Access" isCodable="true" color="#3c3"><Code guid="7c108712-b650-4892-ac0b-'
        'fc9a10190c3b" name="Cost" isCodable="true"/></Code></Codes><Sets/></CodeBook>'
    ).encode()
    codebook = qdpx.codebook_read(data)
    assert codebook.repairs[0].endswith("read as “urn:QDA-XML:codebook:1.0”")
    assert "empty <Sets/> removed" in codebook.repairs
    access = codebook.codes[0]
    assert (access.guid, access.colour) == ("0dcef2f5-e55c-49da-8c33-9b0803c7aeb4", "#33cc33")
    assert [c.name for c in access.children] == ["Cost"]
    codebook_schema.validate(codebook.xml)


def test_codebook_read_refuses_other_documents():
    with pytest.raises(ImportFileError, match="not a REFI-QDA codebook"):
        qdpx.codebook_read(b"<html><body/></html>")
    with pytest.raises(ImportFileError, match="not well-formed"):
        qdpx.codebook_read(b"<CodeBook><Codes>")


def test_description_compose_and_split_round_trip():
    text = qdpx.description_compose(
        "Talk about skills.", inclusion="Any skill named", example="“I learnt Python”"
    )
    assert (
        text == "Talk about skills.\n\nWhen to use: Any skill named\n\nExample: “I learnt Python”"
    )
    assert qdpx.description_split(text) == {
        "definition": "Talk about skills.",
        "inclusion": "Any skill named",
        "exclusion": "",
        "example": "“I learnt Python”",
    }
    plain = "Badges, certificates.\nExample given below: none"
    assert qdpx.description_split(plain)["definition"] == plain


# --- Safety -----------------------------------------------------------------------------------


def test_xml_parse_refuses_billion_laughs():
    with pytest.raises(ImportFileError, match="billion laughs"):
        qdpx.codebook_read(BILLION_LAUGHS)


def test_xml_parse_refuses_external_entities():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
    )
    with pytest.raises(ImportFileError, match="entities"):
        qdpx.project_read_xml(data)


def test_qdpx_read_refuses_billion_laughs_inside_the_archive():
    archive = _archive({"project.qde": BILLION_LAUGHS.replace(b"CodeBook", b"Project")})
    with pytest.raises(ImportFileError, match="billion laughs"):
        qdpx.qdpx_read(archive)


def test_qdpx_read_refuses_zip_bomb():
    archive = _archive({"project.qde": _project_xml(), "Sources/a.txt": b"\0" * (40 * 1024**2)})
    assert archive.getbuffer().nbytes < 200 * 1024
    with pytest.raises(ImportFileError, match="ZIP bomb"):
        qdpx.qdpx_read(archive)


def test_qdpx_read_refuses_archive_too_large_when_expanded():
    archive = _archive({"project.qde": _project_xml(), "Sources/a.txt": b"x" * 5000})
    with pytest.raises(ImportFileError, match="would expand to more than"):
        qdpx.qdpx_read(archive, max_total_bytes=4096)


@pytest.mark.parametrize(
    "member, reason",
    [
        ("../evil.txt", "climbs out"),
        ("Sources/../../evil.txt", "climbs out"),
        ("/etc/cron.d/evil", "absolute path"),
        ("..\\evil.txt", "climbs out"),
        ("C:/Windows/evil.txt", "names a drive"),
    ],
)
def test_qdpx_read_refuses_members_leaving_the_folder(member, reason):
    archive = _archive({"project.qde": _project_xml(), member: b"boo"})
    with pytest.raises(ImportFileError, match=reason) as error:
        qdpx.qdpx_read(archive)
    assert "outside the archive's folder" in str(error.value)


def test_qdpx_read_refuses_a_source_path_leaving_the_folder():
    source = (
        '<TextSource guid="56a79789-d535-4fb8-bedd-a915504c54ba" name="x" '
        'plainTextPath="internal://../../etc/passwd"/>'
    )
    archive = _archive({"project.qde": _project_xml(source)})
    with pytest.raises(ImportFileError, match="outside the archive's folder"):
        qdpx.qdpx_read(archive)


def test_qdpx_read_does_not_read_files_outside_the_archive():
    source = (
        '<TextSource guid="56a79789-d535-4fb8-bedd-a915504c54ba" name="x" '
        'plainTextPath="absolute:///etc/hostname"/>'
    )
    project = qdpx.qdpx_read(_archive({"project.qde": _project_xml(source)}))
    assert project.sources[0].text is None
    assert "outside the archive" in project.sources[0].skipped


def test_qdpx_read_accepts_project_xml_named_after_the_project():
    source = (
        '<TextSource guid="{56A79789-D535-4FB8-BEDD-A915504C54BA}" name="Interview" '
        'plainTextPath="internal://56a79789-d535-4fb8-bedd-a915504c54ba.txt"/>'
    )
    archive = _archive(
        {
            "Study.qde": _project_xml(source),
            "sources/56A79789-D535-4FB8-BEDD-A915504C54BA.txt": "Grüße".encode(),
        }
    )
    project = qdpx.qdpx_read(archive)
    assert project.repairs == [
        "the project XML is named “Study.qde” instead of project.qde; it was read anyway"
    ]
    assert project.sources[0].text == "Grüße"


def test_qdpx_read_refuses_archive_without_project():
    with pytest.raises(ImportFileError, match="no project.qde"):
        qdpx.qdpx_read(_archive({"notes.txt": b"hello"}))


# --- Writing ----------------------------------------------------------------------------------


def _sample_project() -> qdpx.RefiProject:
    when = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    user = qdpx.RefiUser(guid=qdpx.guid_new("u", 1), name="cora", id="cora")
    child = qdpx.RefiCode(guid=qdpx.guid_new("c", 2), name="Cost", colour="#aa0000")
    theme = qdpx.RefiCode(
        guid=qdpx.guid_new("c", 1),
        name="Access",
        colour="#1f77b4",
        description="Who can take part\x01.",
        note_guids=[qdpx.guid_new("n", 1)],
        children=[child],
    )
    note = qdpx.RefiNote(guid=qdpx.guid_new("n", 1), text="A memo", user_guid=user.guid)
    coding = qdpx.RefiCoding(
        guid=qdpx.guid_new("k", 1),
        code_guid=child.guid,
        user_guid=user.guid,
        created_at=when,
        note_guids=[note.guid],
    )
    selection = qdpx.RefiSelection(
        guid=qdpx.guid_new("s", 1),
        start=0,
        end=6,
        user_guid=user.guid,
        created_at=when,
        codings=[coding],
    )
    variable = qdpx.RefiVariable(guid=qdpx.guid_new("v", 1), name="Posted at", type="DateTime")
    source = qdpx.RefiSource(
        guid=qdpx.guid_new("p", 1),
        name="post-1",
        text="Badges 🎉 cost money",
        created_at=when,
        selections=[selection],
        note_guids=[note.guid],
        variables={"Posted at": "2026-05-01T09:30:00Z"},
    )
    return qdpx.RefiProject(
        name="Study",
        description="About badges",
        created_at=when,
        users={user.guid: user},
        codes=[theme],
        variables=[variable],
        sources=[source],
        notes={note.guid: note},
    )


def test_project_build_xml_validates_and_reads_back(project_schema):
    project = _sample_project()
    data = qdpx.project_build_xml(project)
    project_schema.validate(data)
    back = qdpx.project_read_xml(data)
    assert back.origin == "Grounded"
    assert [c.name for c in back.codes] == ["Access"]
    assert back.codes[0].children[0].colour == "#aa0000"
    assert back.codes[0].description == "Who can take part."  # control character dropped
    source = back.sources[0]
    assert source.text_path == f"internal://{project.sources[0].guid}.txt"
    assert source.variables == {"Posted at": "2026-05-01T09:30:00Z"}
    assert (source.selections[0].start, source.selections[0].end) == (0, 6)
    assert source.selections[0].codings[0].note_guids == [qdpx.guid_new("n", 1)]
    assert back.notes[qdpx.guid_new("n", 1)].text == "A memo"


def test_qdpx_write_archive_holds_project_and_sources(project_schema):
    project = _sample_project()
    data = qdpx.qdpx_bytes(project)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == [
            f"Sources/{project.sources[0].guid}.txt",
            "project.qde",
        ]
        project_schema.validate(io.BytesIO(archive.read("project.qde")))
    back = qdpx.qdpx_read(io.BytesIO(data))
    assert back.sources[0].text == "Badges 🎉 cost money"


def test_codebook_build_xml_validates(codebook_schema):
    data = qdpx.codebook_build_xml(_sample_project().codes)
    codebook_schema.validate(data)
    root = SafeET.fromstring(data)
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    with pytest.raises(ImportFileError, match="empty"):
        qdpx.codebook_build_xml([])


@needs_shared
def test_nvivo_sample_counts_match_the_xml():
    with zipfile.ZipFile(NVIVO) as archive:
        root = SafeET.fromstring(archive.read("project.qde"))
    project = qdpx.qdpx_read(NVIVO.open("rb"))
    assert len(list(qdpx.codes_walk(project.codes))) == len(list(root.iter(f"{Q}Code"))) == 60
    codings = sum(len(s.codings) for s in project.sources[0].selections)
    assert codings == len(list(root.iter(f"{Q}Coding"))) == 97
    assert {u.name for u in project.users.values()} == {"Gergo", "floriansipos"}
