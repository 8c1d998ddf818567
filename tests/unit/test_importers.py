"""Unit tests of the post-file readers, column mapping and row normalisation (no database)."""

import io
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from corpus.importers import (
    FIELDS,
    ImportFileError,
    RawRow,
    RowError,
    content_hash,
    detect_mapping,
    normalize_row,
    open_rows,
    parse_datetime,
    sniff_format,
)

REAL_CSV = Path(__file__).resolve().parents[3] / "shared/data/corpora/linkedin_influencers_1600.csv"


def read(data: bytes, fmt: str = "csv", encoding: str | None = None):
    columns, rows = open_rows(io.BytesIO(data), fmt, encoding=encoding)
    return columns, list(rows)


class CountingReader(io.RawIOBase):
    """A binary file that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.bytes_read += len(chunk)
        return len(chunk)


# --- sniff_format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("posts.csv", b"text\nhello\n", "csv"),
        ("posts.TSV", b"text\tauthor\n", "csv"),
        ("posts.txt", b"text\nhello\n", "csv"),
        ("posts.jsonl", b'{"text": "a"}\n', "jsonl"),
        ("posts.ndjson", b'{"text": "a"}\n', "jsonl"),
        ("posts.json", b'[{"text": "a"}]', "json"),
        ("posts.json", b'{"text": "a"}\n{"text": "b"}\n', "jsonl"),
        ("posts.json", b'{\n  "data": [{"text": "a"}]\n}', "json"),
    ],
)
def test_sniff_format_uses_extension_first(filename, head, expected):
    assert sniff_format(filename, head) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'  [{"text": "a"}]', "json"),
        (b'{"text": "a"}\n{"text": "b"}', "jsonl"),
        (b"\xef\xbb\xbftext,author\nhi,me\n", "csv"),
        ('[{"text": "é"}]'.encode("utf-16"), "json"),
    ],
)
def test_sniff_format_reads_content_when_extension_unknown(head, expected):
    assert sniff_format("upload.bin", head) == expected


# --- CSV ---------------------------------------------------------------------------------


def test_open_rows_strips_utf8_bom_from_first_column():
    columns, rows = read("\ufefftext,author\nhéllo,Ann\n".encode())
    assert columns == ["text", "author"]
    assert rows[0].fields == {"text": "héllo", "author": "Ann"}


def test_open_rows_reads_utf16_with_bom():
    columns, rows = read("text;author\ncafé ☕;Zoë\n".encode("utf-16"))
    assert columns == ["text", "author"]
    assert rows[0].fields == {"text": "café ☕", "author": "Zoë"}


def test_open_rows_falls_back_to_cp1252_when_not_utf8():
    columns, rows = read("text,author\ncafé “quoted”,René\n".encode("cp1252"))
    assert rows[0].fields == {"text": "café “quoted”", "author": "René"}


def test_open_rows_keeps_utf8_when_mostly_utf8_with_stray_byte():
    data = "text\ncafé\nnaïve\ncaf\udce9\n".encode("utf-8", "surrogateescape")
    _, rows = read(data)
    assert [row.fields.get("text") for row in rows] == ["café", "naïve", None]
    assert "not valid UTF-8" in rows[2].error


def test_open_rows_uses_declared_encoding_over_detection():
    _, rows = read("text\ncafé\n".encode(), encoding="cp1252")
    assert rows[0].fields["text"] == "cafÃ©"


def test_open_rows_rejects_unknown_declared_encoding():
    with pytest.raises(ImportFileError, match="Unknown text encoding 'klingon'"):
        read(b"text\nhi\n", encoding="klingon")


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_open_rows_sniffs_delimiter(delimiter):
    d = delimiter
    data = f'text{d}author{d}date\n"Hello, world"{d}Ann{d}2024-01-01\nBye{d}Bo{d}\n'
    columns, rows = read(data.encode())
    assert columns == ["text", "author", "date"]
    assert [row.fields["text"] for row in rows] == ["Hello, world", "Bye"]
    assert rows[1].fields == {"text": "Bye", "author": "Bo", "date": ""}


def test_open_rows_keeps_one_column_file_whole_despite_commas():
    columns, rows = read(b"text\nHello, world, again\nSecond, post\n")
    assert columns == ["text"]
    assert [row.fields["text"] for row in rows] == ["Hello, world, again", "Second, post"]


def test_open_rows_keeps_embedded_newlines_in_quoted_cell():
    _, rows = read(b'text,id\n"line one\r\nline two\n\nline four",7\n')
    assert rows[0].fields["text"] == "line one\r\nline two\n\nline four"
    assert rows[0].fields["id"] == "7"


def test_open_rows_numbers_rows_like_a_spreadsheet_after_multiline_cell():
    data = b'text,id\nfirst,1\n"multi\nline\ncell",2\nthird,3\n\nfifth,5\n'
    _, rows = read(data)
    assert [(row.number, row.fields["id"]) for row in rows] == [
        (2, "1"),
        (3, "2"),
        (4, "3"),
        (6, "5"),
    ]


def test_open_rows_names_blank_and_duplicate_headers():
    columns, _ = read(b"text,,text, id \na,b,c,d\n")
    assert columns == ["text", "column_2", "text_2", "id"]


def test_open_rows_fills_missing_trailing_values_with_none():
    _, rows = read(b"text,author,url\nhello\n")
    assert rows[0].fields == {"text": "hello", "author": None, "url": None}


def test_open_rows_reports_row_error_for_extra_values():
    _, rows = read(b"text,author\nhello,Ann,surprise\nok,Bo,\n")
    assert "3 values but the header has 2 columns" in rows[0].error
    assert rows[1].error is None and rows[1].fields == {"text": "ok", "author": "Bo"}


def test_open_rows_reports_row_error_for_undecodable_bytes_after_head():
    filler = b"".join(b"post number %d,%d\n" % (i, i) for i in range(5000))
    assert len(filler) > 64 * 1024
    data = b"text,id\n" + filler + b"caf\xe9 au lait,x\nlast,y\n"
    _, rows = read(data)
    bad, last = rows[-2], rows[-1]
    assert bad.number == 5002 and "not valid UTF-8" in bad.error
    with pytest.raises(RowError, match="not valid UTF-8"):
        normalize_row(bad, {"text": "text"})
    assert last.fields == {"text": "last", "id": "y"}


def test_open_rows_reports_row_error_for_text_after_closing_quote():
    _, rows = read(b'text,id\n"quoted"stray,1\nok,2\n')
    assert rows[0].number == 2 and "could not be read as CSV" in rows[0].error
    assert (rows[1].number, rows[1].fields) == (3, {"text": "ok", "id": "2"})


def test_open_rows_rejects_unclosed_quote_naming_row():
    columns, rows = open_rows(io.BytesIO(b'text,id\nfine,1\n"never closed,2\nmore,3\n'), "csv")
    assert next(rows).fields == {"text": "fine", "id": "1"}
    with pytest.raises(ImportFileError, match="Row 3 opens a quoted cell that is never closed"):
        next(rows)


def test_open_rows_rejects_empty_file():
    with pytest.raises(ImportFileError, match="empty"):
        read(b"")


def test_open_rows_reads_long_cells_beyond_default_csv_limit():
    long_text = "word " * 100_000  # 500 KB, above the csv module's 128 KB default
    _, rows = read(f'text\n"{long_text}"\n'.encode())
    assert rows[0].fields["text"] == long_text


def test_open_rows_streams_csv_without_reading_whole_file():
    row = b'"A post with, commas and a\nline break",author,2024-01-01\n'
    data = b"text,author,date\n" + row * 200_000
    assert len(data) > 10_000_000
    source = CountingReader(data)
    columns, rows = open_rows(source, "csv")
    first = next(rows)
    assert columns == ["text", "author", "date"]
    assert first.number == 2
    assert source.bytes_read < 256 * 1024


def test_open_rows_streams_jsonl_without_reading_whole_file():
    line = json.dumps({"text": "A post " * 20, "id": 1}).encode() + b"\n"
    source = CountingReader(line * 100_000)
    _, rows = open_rows(source, "jsonl")
    assert next(rows).number == 1
    assert source.bytes_read < 256 * 1024


def test_open_rows_leaves_callers_file_open():
    source = io.BytesIO(b"text\nhello\n")
    _, rows = open_rows(source, "csv")
    list(rows)
    assert not source.closed


def test_open_rows_sniffs_format_when_auto():
    columns, rows = open_rows(io.BytesIO(b'{"body": "hi"}\n'), "auto")
    assert columns == ["body"] and next(rows).fields == {"body": "hi"}


def test_open_rows_rejects_unknown_format():
    with pytest.raises(ImportFileError, match="Unknown file format 'pdf'"):
        read(b"text\nhi\n", fmt="pdf")


# --- JSON Lines ---------------------------------------------------------------------------


def test_open_rows_jsonl_columns_are_union_of_keys_in_order():
    data = b'{"text": "a", "id": 1}\n{"author": "Ann", "text": "b"}\n'
    columns, rows = read(data, "jsonl")
    assert columns == ["text", "id", "author"]
    assert [row.number for row in rows] == [1, 2]


def test_open_rows_jsonl_bad_line_becomes_row_error_naming_line():
    data = b'{"text": "a"}\n\n{"text": oops}\n{"text": "d"}\n'
    _, rows = read(data, "jsonl")
    assert [row.number for row in rows] == [1, 3, 4]
    assert rows[1].error.startswith("line 3 is not valid JSON")
    with pytest.raises(RowError, match="line 3"):
        normalize_row(rows[1], {"text": "text"})
    assert rows[2].fields == {"text": "d"}


def test_open_rows_jsonl_non_object_line_becomes_row_error():
    _, rows = read(b'{"text": "a"}\n["not", "an", "object"]\n', "jsonl")
    assert rows[1].error == "line 2 is a list, not a JSON object"


def test_open_rows_jsonl_undecodable_line_becomes_row_error():
    data = '{"text": "café"}\n{"text": "caf\udce9"}\n{"text": "naïve"}\n'.encode(
        "utf-8", "surrogateescape"
    )
    _, rows = read(data, "jsonl")
    assert rows[1].number == 2 and rows[1].error.startswith("line 2: ")
    assert "not valid UTF-8" in rows[1].error
    assert [rows[0].fields, rows[2].fields] == [{"text": "café"}, {"text": "naïve"}]


def test_open_rows_jsonl_bad_first_line_is_file_error():
    with pytest.raises(ImportFileError, match="does not look like a JSON Lines file"):
        read(b'[\n  {"text": "a"}\n]\n', "jsonl")


# --- JSON --------------------------------------------------------------------------------


def test_open_rows_json_array_non_object_item_becomes_row_error():
    columns, rows = read(b'[{"text": "a"}, "stray", {"text": "c", "id": 3}]', "json")
    assert columns == ["text", "id"]
    assert [row.number for row in rows] == [1, 2, 3]
    assert rows[1].error == "item 2 is a string, not a JSON object"
    assert rows[2].fields == {"text": "c", "id": 3}


def test_open_rows_json_unwraps_single_list_of_objects():
    columns, rows = read(b'{"meta": {"n": 1}, "data": [{"text": "a"}]}', "json")
    assert columns == ["text"] and rows[0].fields == {"text": "a"}


def test_open_rows_json_invalid_is_file_error_with_position():
    with pytest.raises(ImportFileError, match="not valid JSON: .* line 2, column"):
        read(b'[{"text": "a"},\n {"text": }]', "json")


def test_open_rows_json_hints_jsonl_when_lines_of_objects():
    with pytest.raises(ImportFileError, match="JSON Lines"):
        read(b'{"text": "a"}\n{"text": "b"}\n', "json")


def test_open_rows_json_scalar_document_is_file_error():
    with pytest.raises(ImportFileError, match="must hold a list of posts"):
        read(b'"just a string"', "json")


# --- detect_mapping ----------------------------------------------------------------------


def test_detect_mapping_matches_synonyms_ignoring_case_spaces_and_separators():
    columns = ["Post Text", "Author-Name", "Job Title", "Created_At", "PERMALINK", "Tweet ID"]
    assert detect_mapping(columns) == {
        "text": "Post Text",
        "author": "Author-Name",
        "author_headline": "Job Title",
        "posted_at": "Created_At",
        "url": "PERMALINK",
        "external_id": "Tweet ID",
    }


def test_detect_mapping_prefers_earlier_synonym():
    assert detect_mapping(["message", "content", "text"])["text"] == "text"


def test_detect_mapping_reads_linkedin_export_columns():
    columns = ["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"]
    assert detect_mapping(columns) == {
        "text": "ShareCommentary",
        "posted_at": "Date",
        "url": "ShareLink",
    }


def test_detect_mapping_no_text_column_lists_found_columns():
    with pytest.raises(ImportFileError) as caught:
        detect_mapping(["index", "followers", "foo"])
    message = str(caught.value)
    assert message.startswith(
        "No text column found. The file has columns: index, followers, foo. "
        "Expected one of: text, content, body, post"
    )
    assert "--map text=COLUMN" in message and "column mapping" in message


def test_detect_mapping_explicit_entries_win():
    mapping = detect_mapping(["text", "notes", "id"], {"text": "notes"})
    assert mapping == {"text": "notes", "external_id": "id"}


def test_detect_mapping_explicit_empty_entry_disables_guessing():
    assert detect_mapping(["text", "id"], {"external_id": ""}) == {"text": "text"}


def test_detect_mapping_explicit_unknown_column_is_file_error():
    with pytest.raises(ImportFileError, match="'missing' for text.*columns: body, id"):
        detect_mapping(["body", "id"], {"text": "missing"})


def test_detect_mapping_explicit_unknown_field_is_file_error():
    with pytest.raises(ImportFileError, match="Unknown field 'likes'"):
        detect_mapping(["text", "likes"], {"likes": "likes"})


def test_detect_mapping_uses_each_column_once():
    mapping = detect_mapping(["text", "id"], {"text": "text", "external_id": "text"})
    assert mapping == {"text": "text", "external_id": "text"}
    assert detect_mapping(["name", "text"]) == {"text": "text", "author": "name"}


def test_fields_are_the_post_fields():
    assert FIELDS == ("text", "author", "author_headline", "posted_at", "url", "external_id")


# --- normalize_row -----------------------------------------------------------------------

MAPPING = {
    "text": "body",
    "author": "who",
    "author_headline": "headline",
    "posted_at": "when",
    "url": "link",
    "external_id": "id",
}


def row(**fields) -> RawRow:
    return RawRow(number=5, fields=fields)


def test_normalize_row_builds_full_record():
    record = normalize_row(
        row(
            body="  Hello world, this is a post.  ",
            who=" Ann ",
            headline="Teacher",
            when="2024-03-01T10:00:00Z",
            link="https://x.com/p/1",
            id=12.0,
            likes=3,
        ),
        MAPPING,
    )
    assert record.row == 5
    assert record.text == "Hello world, this is a post."
    assert (record.author, record.author_headline) == ("Ann", "Teacher")
    assert record.posted_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert (record.url, record.external_id) == ("https://x.com/p/1", "12")
    assert record.metadata == {"likes": 3}
    assert record.word_count == 6
    assert record.content_hash == content_hash("Hello world, this is a post.")
    assert record.warnings == []


def test_normalize_row_applies_nfc_to_decomposed_text():
    decomposed = "cafe\u0301"
    record = normalize_row(row(body=decomposed, who="Rene\u0301"), MAPPING)
    assert record.text == "café" and unicodedata.is_normalized("NFC", record.text)
    assert record.author == "René"


def test_normalize_row_normalises_line_breaks():
    record = normalize_row(row(body="\r\none\r\ntwo\rthree\u2028four\n\n"), MAPPING)
    assert record.text == "one\ntwo\nthree\nfour"


@pytest.mark.parametrize("value", ["", "   \n\t ", None, float("nan"), "NaN"])
def test_normalize_row_rejects_empty_text(value):
    with pytest.raises(RowError, match="^text is empty$"):
        normalize_row(row(body=value), MAPPING)


def test_normalize_row_raises_raw_row_error():
    with pytest.raises(RowError, match="^line 4 is not valid JSON"):
        normalize_row(RawRow(4, {}, error="line 4 is not valid JSON (Expecting value)"), MAPPING)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://www.linkedin.com/feed/update/urn:li:activity:1/", None),
        ("HTTP://example.org/a b", "HTTP://example.org/a b"),
        ("  https://lnkd.in/abc  ", "https://lnkd.in/abc"),
        ("www.example.org/post/7", "https://www.example.org/post/7"),
    ],
)
def test_normalize_row_keeps_web_addresses_as_urls(given, stored):
    record = normalize_row(row(body="text", link=given), MAPPING)
    assert record.url == (stored or given)
    assert record.warnings == [] and "url (not a web address)" not in record.metadata


@pytest.mark.parametrize(
    "given",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/x",
        "see post",
    ],
)
def test_normalize_row_keeps_other_urls_as_an_attribute_with_a_warning(given):
    record = normalize_row(row(body="text", link=given), MAPPING)
    assert record.url == ""
    assert record.metadata["url (not a web address)"] == given.strip()
    assert record.warnings == [
        f"url: '{given.strip()}' is not an http(s) address; kept as an attribute"
    ]


@pytest.mark.parametrize("value", [None, float("nan"), "nan", "None", "null", "  "])
def test_normalize_row_turns_missing_values_into_empty_strings(value):
    record = normalize_row(row(body="text", who=value, link=value, id=value), MAPPING)
    assert (record.author, record.url, record.external_id) == ("", "", "")


@pytest.mark.parametrize(
    ("value", "expected"), [(12.0, "12"), (7, "7"), ("12.0", "12"), (" abc ", "abc"), (1.5, "1.5")]
)
def test_normalize_row_turns_external_id_into_string(value, expected):
    assert normalize_row(row(body="text", id=value), MAPPING).external_id == expected


def test_normalize_row_warns_about_unreadable_date():
    record = normalize_row(row(body="text", when="xyz"), MAPPING)
    assert record.posted_at is None
    assert record.warnings == ["posted_at: could not read date 'xyz'"]


def test_normalize_row_does_not_warn_about_missing_date():
    record = normalize_row(row(body="text", when=""), MAPPING)
    assert record.posted_at is None and record.warnings == []


def test_normalize_row_keeps_only_json_scalars_in_metadata():
    record = normalize_row(
        row(body="text", tags=["a", "b"], user={"n": 1}, score=float("nan"), ok=True, none=None),
        {"text": "body"},
    )
    assert record.metadata == {
        "tags": '["a", "b"]',
        "user": '{"n": 1}',
        "score": None,
        "ok": True,
        "none": None,
    }
    json.dumps(record.metadata, allow_nan=False)


def test_normalize_row_removes_nul_characters():
    record = normalize_row(row(body="hel\x00lo", note="a\x00b"), {"text": "body"})
    assert record.text == "hello" and record.metadata == {"note": "ab"}


def test_normalize_row_counts_words_with_shared_definition():
    record = normalize_row(row(body="𝗪𝗛𝗔𝗧? 10 tips https://lnkd.in/x @sam #growth"), MAPPING)
    assert record.word_count == 4


# --- parse_datetime ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T10:00:00.250+02:00", datetime(2024, 3, 1, 8, 0, 0, 250000, tzinfo=UTC)),
        ("2024-03-01 10:00:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        ("01/03/2024", datetime(2024, 3, 1, tzinfo=UTC)),
        ("12/25/2024", datetime(2024, 12, 25, tzinfo=UTC)),
        ("March 1, 2024", datetime(2024, 3, 1, tzinfo=UTC)),
        ("Mar 1, 2024", datetime(2024, 3, 1, tzinfo=UTC)),
        ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        (1709287200, datetime(2024, 3, 1, 10, tzinfo=UTC)),
        (1709287200.5, datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("1709287200", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        (1709287200000, datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_common_formats(value, expected):
    parsed = parse_datetime(value)
    assert parsed == expected and parsed.tzinfo is not None


def test_parse_datetime_treats_naive_as_utc():
    assert parse_datetime(datetime(2024, 1, 1, 9)) == datetime(2024, 1, 1, 9, tzinfo=UTC)


def test_parse_datetime_keeps_instant_of_aware_value():
    value = datetime(2024, 1, 1, 9, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_datetime(value) == datetime(2024, 1, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["xyz", "2 months ago", "2024", "31/31/2024", True, None, "", float("nan")]
)
def test_parse_datetime_returns_none_when_unreadable(value):
    assert parse_datetime(value) is None


# --- content_hash ------------------------------------------------------------------------


def test_content_hash_ignores_whitespace_differences():
    assert content_hash("Hello   world\n\nagain ") == content_hash(" Hello world again")


def test_content_hash_preserves_case():
    assert content_hash("Hello") != content_hash("hello")


def test_content_hash_treats_decomposed_and_composed_text_alike():
    assert content_hash("cafe\u0301") == content_hash("café")


def test_content_hash_is_sha256_hex():
    digest = content_hash("x")
    assert len(digest) == 64 and int(digest, 16) >= 0


# --- the real LinkedIn influencers corpus ------------------------------------------------


def test_real_linkedin_influencers_file_imports_all_rows():
    if not REAL_CSV.exists():
        pytest.skip(f"shared corpus not available at {REAL_CSV}")
    with REAL_CSV.open("rb") as fileobj:
        fmt = sniff_format(REAL_CSV.name, fileobj.read(64 * 1024))
        fileobj.seek(0)
        columns, rows = open_rows(fileobj, fmt)
        mapping = detect_mapping(columns)
        assert fmt == "csv"
        assert mapping["text"] == "content" and mapping["external_id"] == "index"
        count = imported = 0
        for raw in rows:
            count += 1
            try:
                record = normalize_row(raw, mapping)
            except RowError as exc:
                assert str(exc) == "text is empty"
                continue
            assert record.text and record.external_id and record.word_count >= 0
            imported += 1
    assert count == 1600
    assert imported > 1500
