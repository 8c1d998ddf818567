"""Unit tests of the LinkedIn Shares.csv, Excel, ZIP-of-text and folder readers, and of the
content checks (format mismatch, empty files, ZIP bombs). No database."""

import codecs
import io
import os
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from corpus.importers import (
    LINKEDIN_MAPPING,
    ImportFileError,
    RowError,
    check_content,
    detect_mapping,
    normalize_row,
    open_rows,
    open_text_folder,
    open_text_zip,
    open_xlsx,
    parse_datetime,
    repair_text,
    share_urn,
    sniff_format,
)
from corpus.importers import content as content_module

SHARES_CSV = (
    Path(__file__).resolve().parents[3] / "shared/data/corpora/linkedin_member_export_Shares.csv"
)
LINKEDIN_HEADER = "Date,ShareLink,ShareCommentary,SharedUrl,MediaUrl,Visibility"
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4


def records(columns, rows, mapping=None):
    mapping = mapping or detect_mapping(columns)
    out, errors = [], []
    for raw in rows:
        try:
            out.append(normalize_row(raw, mapping))
        except RowError as exc:
            errors.append((raw.number, str(exc)))
    return out, errors


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def workbook_bytes(rows: list[list], title: str = "Posts", extra_sheet: str | None = None):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet(extra_sheet).append(["text"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def linkedin_csv(*rows: tuple[str, str, str]) -> bytes:
    lines = [LINKEDIN_HEADER]
    for when, link, text in rows:
        cell = '"' + text.replace('"', '""') + '"'
        lines.append(f'{when},{link},{cell},"","",MEMBER_NETWORK')
    return ("\n".join(lines) + "\n").encode()


def need_shares_csv():
    if not SHARES_CSV.exists():
        pytest.skip(f"LinkedIn Shares.csv export not available at {SHARES_CSV}")


# --- LinkedIn Shares.csv: repair and URN -------------------------------------------------


def test_repair_text_removes_quote_pairs_around_every_line_break():
    cell = 'I\'m off."\n""\n"𝗪𝗛𝗔𝗧? A program."\n"Bye'
    assert repair_text(cell) == "I'm off.\n\n𝗪𝗛𝗔𝗧? A program.\nBye"


def test_repair_text_keeps_quotes_written_by_author_at_line_edges():
    # LinkedIn doubled: the author's lines were '"Be honest."', '', '"Don't lie."'.
    cell = '"Be honest.""\n""\n""Don\'t lie." he said'
    assert repair_text(cell) == '"Be honest."\n\n"Don\'t lie." he said'


def test_repair_text_leaves_one_line_text_with_quotes_unchanged():
    cell = '"Inferencing" is the new "Compiling!"'
    assert repair_text(cell) == cell


def test_repair_text_leaves_cell_unchanged_when_pattern_is_not_consistent():
    cell = 'He said "hi"\n"Bye" she said\nand left'
    assert repair_text(cell) == cell


def test_repair_text_handles_crlf_line_breaks():
    assert repair_text('one"\r\n""\r\n"two') == "one\r\n\r\ntwo"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7345821826846990338",
            "urn:li:share:7345821826846990338",
        ),
        (
            "https://www.linkedin.com/feed/update/urn%3Ali%3AugcPost%3A7301234567890123456",
            "urn:li:ugcPost:7301234567890123456",
        ),
        (
            "https://www.linkedin.com/feed/update/urn%3Ali%3AgroupPost%3A9186332-69855034449",
            "urn:li:groupPost:9186332-69855034449",
        ),
        ("https://example.com/no-urn", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_share_urn_decodes_urn_from_share_link(link, expected):
    assert share_urn(link) == expected


def test_open_rows_linkedin_adds_share_urn_column_and_repairs_text():
    data = linkedin_csv(
        (
            "2025-07-01 14:33:22",
            "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A111",
            'First line."\n""\n"Second line with "quotes".',
        ),
        (
            "2025-06-30 08:00:00",
            "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A222",
            'A one-line post saying "hello" to all.',
        ),
    )
    columns, rows = open_rows(io.BytesIO(data), "linkedin")
    assert columns == [*LINKEDIN_HEADER.split(","), "share_urn"]
    assert detect_mapping(columns) == LINKEDIN_MAPPING
    posts, errors = records(columns, rows)
    assert errors == []
    assert posts[0].text == 'First line.\n\nSecond line with "quotes".'
    assert posts[0].external_id == "urn:li:share:111"
    assert posts[0].posted_at == datetime(2025, 7, 1, 14, 33, 22, tzinfo=UTC)
    assert posts[0].metadata == {"SharedUrl": "", "MediaUrl": "", "Visibility": "MEMBER_NETWORK"}
    assert posts[1].text == 'A one-line post saying "hello" to all.'


def test_open_rows_linkedin_refuses_file_without_linkedin_columns():
    with pytest.raises(ImportFileError, match="does not look like LinkedIn's Shares.csv"):
        open_rows(io.BytesIO(b"text,author\nhi,me\n"), "linkedin")


def test_sniff_format_detects_linkedin_header_by_extension_and_by_content():
    head = linkedin_csv(("2025-07-01 14:33:22", "https://x/urn%3Ali%3Ashare%3A1", "hi"))
    assert sniff_format("Shares.csv", head) == "linkedin"
    assert sniff_format("export.txt", head) == "linkedin"
    assert sniff_format("upload", head) == "linkedin"
    assert sniff_format("Shares.csv", head.replace(b"Visibility", b"Audience")) == "csv"


def test_open_rows_auto_reads_linkedin_export():
    data = linkedin_csv(("2025-07-01 14:33:22", "https://x/urn%3Ali%3Ashare%3A1", 'a"\n"b'))
    columns, rows = open_rows(io.BytesIO(data), "auto")
    row = next(rows)
    assert "share_urn" in columns
    assert row.fields["ShareCommentary"] == "a\nb" and row.fields["share_urn"] == "urn:li:share:1"


# --- the real Shares.csv -----------------------------------------------------------------


def test_real_shares_csv_is_sniffed_as_linkedin():
    need_shares_csv()
    with SHARES_CSV.open("rb") as fileobj:
        assert sniff_format(SHARES_CSV.name, fileobj.read(64 * 1024)) == "linkedin"
        assert sniff_format("Shares.csv", SHARES_CSV.read_bytes()[:65536]) == "linkedin"


def test_real_shares_csv_imports_repaired_posts_with_urns():
    need_shares_csv()
    with SHARES_CSV.open("rb") as fileobj:
        columns, rows = open_rows(fileobj, "auto")
        raw_rows = list(rows)
    assert len(raw_rows) == 202
    mapping = detect_mapping(columns)
    assert mapping == LINKEDIN_MAPPING
    posts, errors = records(columns, raw_rows, mapping)
    # Reposts without commentary have empty text; every other row imports.
    assert len(posts) + len(errors) == 202
    assert all(message == "text is empty" for _, message in errors)
    assert len(posts) > 180
    assert posts[0].text.startswith(
        "I'm off for a 10-day Vipassana meditation program.\n\n"
        "𝗪𝗛𝗔𝗧? A 10-day residential meditation."
    )
    for post in posts:
        # No stray LinkedIn quote pair around a line break is left ('"\n"').
        assert '"\n"' not in post.text and not post.text.startswith('"\n')
        assert re.fullmatch(r"urn:li:[A-Za-z]+:[\w-]+", post.external_id), post.external_id
        assert post.url.startswith("https://www.linkedin.com/feed/update/urn%3Ali%3A")
        assert post.posted_at is not None
    # LinkedIn repeats a share once per media thumbnail: same URN, same text and date.
    by_urn: dict[str, set] = {}
    for post in posts:
        by_urn.setdefault(post.external_id, set()).add((post.text, post.posted_at))
    assert all(len(versions) == 1 for versions in by_urn.values())
    assert len(by_urn) > 180


def test_real_shares_csv_keeps_genuine_quotes():
    need_shares_csv()
    with SHARES_CSV.open("rb") as fileobj:
        posts, _ = records(*open_rows(fileobj, "linkedin"))
    by_start = {post.text[:40]: post.text for post in posts}
    second = next(text for text in by_start.values() if text.startswith("If someone asked me"))
    assert second.startswith(
        "If someone asked me, \"What's changed this year in LLMs\", here's my list:\n\n"
        "Prompt engineering is out."
    )
    quoted = next(text for text in by_start.values() if text.startswith('"Inferencing"'))
    assert quoted.startswith('"Inferencing" is the new "Compiling!"\n\nI spent')


# --- XLSX ---------------------------------------------------------------------------------


def test_open_xlsx_uses_first_non_empty_row_as_header_and_excel_row_numbers():
    data = workbook_bytes(
        [
            [],
            [None, "   "],
            ["id", "text", "date", "author"],
            [12, "First post", datetime(2024, 3, 1, 10, 30), "Ann"],
            [],
            [13.0, "Second post", date(2024, 3, 2), None],
        ]
    )
    columns, rows = open_rows(io.BytesIO(data), "xlsx")
    rows = list(rows)
    assert columns == ["id", "text", "date", "author"]
    assert [row.number for row in rows] == [4, 6]
    posts, errors = records(columns, rows)
    assert errors == []
    assert [post.row for post in posts] == [4, 6]
    assert [post.external_id for post in posts] == ["12", "13"]
    assert posts[0].posted_at == datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    assert posts[1].posted_at == datetime(2024, 3, 2, tzinfo=UTC)
    assert posts[0].author == "Ann" and posts[1].author == ""


def test_open_xlsx_keeps_dates_in_metadata_as_iso_text():
    data = workbook_bytes([["text", "edited"], ["hello", datetime(2024, 5, 6, 7, 8, 9)]])
    posts, _ = records(*open_rows(io.BytesIO(data), "xlsx"))
    assert posts[0].metadata == {"edited": "2024-05-06T07:08:09"}


def test_open_xlsx_reports_value_in_column_without_header_as_row_error():
    data = workbook_bytes([["text", "id"], ["ok", 1], ["bad", 2, None, "stray"]])
    _, rows = open_rows(io.BytesIO(data), "xlsx")
    rows = list(rows)
    assert rows[0].error is None
    assert rows[1].number == 3 and "column D" in rows[1].error


def test_open_xlsx_reads_named_sheet():
    data = workbook_bytes([["body"], ["first sheet"]], extra_sheet="Second")
    columns, rows = open_xlsx(io.BytesIO(data), sheet="Second")
    assert columns == ["text"] and list(rows) == []
    with pytest.raises(ImportFileError, match="no sheet “Missing”. Its sheets are: Posts, Second"):
        open_rows(io.BytesIO(data), "xlsx", sheet="Missing")


def test_open_xlsx_refuses_empty_sheet():
    with pytest.raises(ImportFileError, match="is empty"):
        open_rows(io.BytesIO(workbook_bytes([])), "xlsx")


def test_open_xlsx_refuses_file_that_is_not_a_zip():
    with pytest.raises(ImportFileError, match="not a valid Excel"):
        open_rows(io.BytesIO(b"text\nhello\n"), "xlsx")


def test_open_xlsx_refuses_zip_that_is_not_a_workbook():
    with pytest.raises(ImportFileError, match="not an Excel"):
        open_rows(io.BytesIO(zip_bytes({"a.txt": b"hi"})), "xlsx")


def test_open_rows_auto_recognises_workbook_and_unseekable_upload():
    data = workbook_bytes([["text"], ["from a stream"]])

    class Unseekable(io.RawIOBase):
        def __init__(self, payload: bytes) -> None:
            self._inner = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert sniff_format("upload", data[:65536]) == "xlsx"
    assert sniff_format("posts.xlsx", data[:65536]) == "xlsx"
    columns, rows = open_rows(Unseekable(data), "auto")
    assert columns == ["text"] and next(rows).fields == {"text": "from a stream"}


def test_parse_datetime_accepts_spreadsheet_datetime_and_date_objects():
    assert parse_datetime(datetime(2024, 1, 2, 3, 4)) == datetime(2024, 1, 2, 3, 4, tzinfo=UTC)
    assert parse_datetime(date(2024, 1, 2)) == datetime(2024, 1, 2, tzinfo=UTC)


# --- ZIP bombs ---------------------------------------------------------------------------


def bomb_bytes(
    name: str, size_mb: int, base: dict[str, bytes] | None = None, fill: bytes = b"\x00"
) -> bytes:
    """A ZIP archive whose member ``name`` holds ``size_mb`` MB of ``fill``, written in
    chunks (never the whole member in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member, data in (base or {}).items():
            archive.writestr(member, data)
        with archive.open(name, "w", force_zip64=True) as member_file:
            chunk = fill * (1 << 20)
            for _ in range(size_mb):
                member_file.write(chunk)
    return buffer.getvalue()


def test_open_rows_refuses_xlsx_zip_bomb_before_parsing(monkeypatch):
    workbook = zipfile.ZipFile(io.BytesIO(workbook_bytes([["text"], ["hi"]])))
    parts = {name: workbook.read(name) for name in workbook.namelist()}
    data = bomb_bytes("xl/media/zeros.bin", 300, base=parts)
    assert len(data) < 2_000_000  # 300 MB of zeros squeezed ~1000-fold

    def fail(*args, **kwargs):
        raise AssertionError("openpyxl must not be reached")

    monkeypatch.setattr(openpyxl, "load_workbook", fail)
    with pytest.raises(ImportFileError, match=r"xl/media/zeros.bin expands \d+ times"):
        open_rows(io.BytesIO(data), "xlsx")


def test_check_zip_refuses_total_size_over_limit(monkeypatch):
    data = zip_bytes({f"post{i}.txt": os.urandom(200_000) for i in range(3)})
    monkeypatch.setattr(content_module, "MAX_UNCOMPRESSED_BYTES", 500_000)
    with pytest.raises(ImportFileError, match="possible ZIP bomb"):
        open_rows(io.BytesIO(data), "txt")
    with pytest.raises(ImportFileError, match="possible ZIP bomb"):
        open_text_zip(io.BytesIO(data), max_total_bytes=100_000)


def test_check_zip_ratio_limit_is_configurable():
    data = bomb_bytes("big.txt", 4, fill=b" ")
    with pytest.raises(ImportFileError, match="big.txt expands"):
        open_text_zip(io.BytesIO(data))
    columns, rows = open_text_zip(io.BytesIO(data), max_ratio=10_000)
    assert next(rows).fields["external_id"] == "big.txt"


def test_check_zip_allows_small_highly_compressible_members():
    data = zip_bytes({"spaces.txt": b"hello" + b" " * 100_000})
    _, rows = open_text_zip(io.BytesIO(data))
    assert next(rows).fields["text"].startswith("hello")


# --- ZIP of .txt files and folders --------------------------------------------------------


def text_members() -> dict[str, bytes]:
    return {
        "posts/b_cp1252.txt": "Café “quoted” naïve".encode("cp1252"),
        "posts/a_utf8.txt": "First post 🙂\nsecond line".encode(),
        "posts/c_utf16.txt": "UTF-16 post: Zoë".encode("utf-16"),
        "posts/d_bom.txt": codecs.BOM_UTF8 + b"BOM post",
        "posts/e_broken.txt": "café naïve déjà vu ".encode() + b"\xff",
        "posts/notes.csv": b"not,a,post\n",
        "__MACOSX/posts/._a_utf8.txt": b"\x00\x05\x16\x07 mac resource fork",
        "posts/.hidden.txt": b"hidden",
        ".DS_Store": b"\x00\x00\x00\x01Bud1",
        "posts/": b"",
    }


def test_open_rows_txt_reads_zip_of_text_files_sorted_with_encodings():
    data = zip_bytes(text_members())
    assert sniff_format("posts.zip", data[:65536]) == "txt"
    assert sniff_format("upload", data[:65536]) == "txt"
    columns, rows = open_rows(io.BytesIO(data), "txt")
    rows = list(rows)
    assert columns == ["external_id", "text"]
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]
    assert [row.fields.get("text") for row in rows[:4]] == [
        "First post 🙂\nsecond line",
        "Café “quoted” naïve",
        "UTF-16 post: Zoë",
        "BOM post",
    ]
    assert [row.fields.get("external_id") for row in rows[:4]] == [
        "posts/a_utf8.txt",
        "posts/b_cp1252.txt",
        "posts/c_utf16.txt",
        "posts/d_bom.txt",
    ]
    assert rows[4].error.startswith("posts/e_broken.txt is not valid UTF-8 text")
    posts, errors = records(columns, rows)
    assert posts[0].external_id == "posts/a_utf8.txt" and posts[0].text.endswith("second line")
    assert errors == [(5, rows[4].error)]


def test_open_rows_auto_reads_zip_of_text_files():
    columns, rows = open_rows(io.BytesIO(zip_bytes({"one.txt": b"hello"})), "auto")
    assert columns == ["external_id", "text"]
    assert next(rows).fields == {"external_id": "one.txt", "text": "hello"}


def test_open_text_zip_refuses_archive_without_text_files():
    with pytest.raises(ImportFileError, match=r"holds no \.txt files \(it holds data.csv\)"):
        open_rows(io.BytesIO(zip_bytes({"data.csv": b"text\nhi\n"})), "txt")


def test_open_text_zip_refuses_file_that_is_not_a_zip():
    with pytest.raises(ImportFileError, match="not a valid ZIP archive"):
        open_rows(io.BytesIO(b"just text"), "txt")


def test_open_text_folder_reads_text_files_recursively_sorted(tmp_path):
    for name, data in text_members().items():
        if name.endswith("/"):
            continue
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (tmp_path / "top.txt").write_text("Top-level post", encoding="utf-8")
    columns, rows = open_text_folder(tmp_path)
    rows = list(rows)
    assert columns == ["external_id", "text"]
    assert [row.fields.get("external_id") for row in rows if not row.error] == [
        "posts/a_utf8.txt",
        "posts/b_cp1252.txt",
        "posts/c_utf16.txt",
        "posts/d_bom.txt",
        "top.txt",
    ]
    assert rows[1].fields["text"] == "Café “quoted” naïve"
    assert [row.number for row in rows] == [1, 2, 3, 4, 5, 6]
    assert "posts/e_broken.txt" in rows[4].error


def test_open_text_folder_refuses_missing_or_empty_folder(tmp_path):
    with pytest.raises(ImportFileError, match="is not a folder"):
        open_text_folder(tmp_path / "missing")
    with pytest.raises(ImportFileError, match="holds no .txt files"):
        open_text_folder(tmp_path)


# --- content checks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "head", "message"),
    [
        ("posts.csv", PNG_HEAD, "posts.csv does not look like a CSV file: it starts like a PNG"),
        (
            "posts.csv",
            zip_bytes({"a.txt": b"x"}),
            "posts.csv does not look like a CSV file: it starts like a ZIP archive",
        ),
        (
            "posts.json",
            zip_bytes({"a.txt": b"x"}),
            "posts.json does not look like a JSON file: it starts like a ZIP archive",
        ),
        (
            "posts.json",
            bytes(range(256)) * 8,
            "posts.json does not look like a JSON file: it starts like binary data",
        ),
        (
            "posts.jsonl",
            b"%PDF-1.7\n...",
            "does not look like a JSON Lines file: it starts like a PDF",
        ),
        ("posts.xlsx", b"text,author\nhi,me\n", "posts.xlsx does not look like an Excel"),
        ("posts.zip", PNG_HEAD, "posts.zip does not look like a ZIP archive"),
        ("posts.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "save it as .xlsx"),
        ("upload.bin", PNG_HEAD, "upload.bin cannot be imported: it starts like a PNG image"),
    ],
)
def test_sniff_format_refuses_content_contradicting_extension(filename, head, message):
    with pytest.raises(ImportFileError, match=re.escape(message)):
        sniff_format(filename, head)


@pytest.mark.parametrize("filename", ["posts.csv", "posts.json", "posts.xlsx", "upload", ""])
def test_sniff_format_refuses_empty_file(filename):
    with pytest.raises(ImportFileError, match=r"^The file is empty\.$"):
        sniff_format(filename, b"")


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "linkedin", "xlsx", "txt", "auto"])
def test_open_rows_refuses_empty_file_in_every_format(fmt):
    with pytest.raises(ImportFileError, match=r"^The file is empty\.$"):
        open_rows(io.BytesIO(b""), fmt)


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_open_rows_refuses_binary_content_for_text_formats(fmt):
    with pytest.raises(ImportFileError, match="it starts like a PNG image"):
        open_rows(io.BytesIO(PNG_HEAD), fmt)
    with pytest.raises(ImportFileError, match="it starts like a ZIP archive"):
        open_rows(io.BytesIO(zip_bytes({"a.txt": b"x"})), fmt)
    with pytest.raises(ImportFileError, match="it starts like binary data"):
        open_rows(io.BytesIO(b"text\n" + bytes(range(256)) * 4), fmt)


def test_open_rows_accepts_utf16_with_bom_and_a_stray_nul_in_text():
    columns, rows = open_rows(io.BytesIO("text\nhello\n".encode("utf-16")), "csv")
    assert next(rows).fields == {"text": "hello"}
    long_text = "text\n" + "A long post with words. " * 200 + "\x00\n"
    _, rows = open_rows(io.BytesIO(long_text.encode()), "csv")
    assert "\x00" in next(rows).fields["text"]  # normalize_row removes it


def test_check_content_accepts_matching_content():
    check_content("posts.csv", b"text\nhello\n")
    check_content("posts.xlsx", workbook_bytes([["text"]])[:65536])
    check_content("posts.zip", zip_bytes({"a.txt": b"x"}))
    check_content("posts.json", '[{"text": "é"}]'.encode("utf-16"))
