"""Streaming readers that turn post files into numbered raw rows.

CSV/TSV, JSON and JSON Lines are read here; LinkedIn's Shares.csv is CSV with its text
repaired (``linkedin``), Excel workbooks come from ``spreadsheet``, ZIP archives of .txt
files from ``textfiles``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from typing import BinaryIO

from . import fastjson, linkedin
from .base import ImportFileError, RawRow
from .content import check_content, describe_content, is_zip, zip_looks_like_workbook
from .spreadsheet import open_xlsx
from .textfiles import open_text_zip

HEAD_BYTES = 64 * 1024
# Columns of JSON files are the keys seen in this many leading objects.
COLUMN_SCAN_ROWS = 100
CSV_DELIMITERS = ",;\t|"
FORMATS = ("csv", "tsv", "json", "jsonl", "linkedin", "xlsx", "txt")
# A ZIP upload that cannot seek is copied to a temporary file; it stays in memory up to this.
SPOOL_MEMORY_BYTES = 32 * 1024 * 1024
# Long posts (and pasted threads) exceed the csv module's default 128 KB field limit.
CSV_FIELD_LIMIT = 10 * 1024 * 1024
# A delimiter that never occurs in text: a one-column file must not be split on commas.
_SINGLE_COLUMN_DELIMITER = "\x1f"

csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))

# errors="surrogateescape" turns each undecodable byte into one of these; valid text never
# contains them, so finding one pins a decoding problem to its row.
_UNDECODABLE = re.compile("[\udc80-\udcff]")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _Prepended(io.RawIOBase):
    """Replays the bytes already read for sniffing, then reads on from the file.

    Works for unseekable uploads too. Closing it leaves the caller's file open.
    """

    def __init__(self, head: bytes, fileobj: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._fileobj = fileobj

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = len(buffer)
        if self._head:
            n = min(size, len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._fileobj.read(size)
        n = len(data)
        buffer[:n] = data
        return n


def _read_head(fileobj: BinaryIO) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < HEAD_BYTES:
        chunk = fileobj.read(HEAD_BYTES - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _check_encoding(name: str) -> str:
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise ImportFileError(
            f"Unknown text encoding '{name}'. Common ones are utf-8, utf-16 and cp1252."
        ) from None
    # A declared UTF-8 file may still start with a BOM; it must not stick to the first column.
    return "utf-8-sig" if codec.name == "utf-8" else codec.name


def detect_encoding(head: bytes) -> str:
    """The encoding of a file from its first bytes: BOM, then (mostly) UTF-8, else cp1252."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if sample and sample.count(0) > len(sample) // 4:
        # UTF-16 without a BOM: ASCII characters leave a zero byte on one side.
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    text = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=False)
    invalid = len(_UNDECODABLE.findall(text))
    if not invalid:
        return "utf-8"
    # Text that is mostly valid UTF-8 keeps UTF-8: a few stray bytes become row errors
    # instead of turning every accented letter of the file into mojibake.
    valid_non_ascii = sum(1 for char in text if char > "\x7f") - invalid
    return "utf-8" if valid_non_ascii > invalid else "cp1252"


def _describe(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}.get(
        encoding, encoding
    )


def _head_text(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _looks_like_jsonl(text: str) -> bool:
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            try:
                return isinstance(json.loads(line), dict)
            except ValueError:
                return False
    return False


def _first_csv_record(text: str) -> list[str]:
    line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _is_linkedin_head(head: bytes) -> bool:
    return linkedin.is_linkedin_header(_first_csv_record(_head_text(head, detect_encoding(head))))


def sniff_format(filename: str, head: bytes) -> str:
    """The format of a file from its name and first bytes (``HEAD_BYTES`` of them).

    One of "csv", "json", "jsonl", "linkedin", "xlsx" or "txt". The extension decides
    first (.xlsx → xlsx, .zip → txt, .csv/.tsv/.txt → csv, or linkedin when the header row
    is exactly LinkedIn's Shares.csv header), then the content (a ZIP archive with Excel
    parts → xlsx, another ZIP archive → txt, "[" → json, "{" → json or jsonl, else csv).
    Raises ``ImportFileError`` for an empty file and for content that contradicts the
    extension (``check_content``: a PNG or a ZIP named .csv, binary data named .json).
    """
    check_content(filename, head)
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix == ".zip":
        return "txt"
    if suffix in (".csv", ".tsv", ".txt"):
        return "linkedin" if _is_linkedin_head(head) else "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if is_zip(head):
        return "xlsx" if zip_looks_like_workbook(head) else "txt"
    text = _head_text(head, detect_encoding(head))
    if suffix == ".json":
        return "jsonl" if _looks_like_jsonl(text) else "json"
    start = text.lstrip("\ufeff \t\r\n")[:1]
    if start == "[":
        return "json"
    if start == "{":
        return "jsonl" if _looks_like_jsonl(text) else "json"
    return "linkedin" if _is_linkedin_head(head) else "csv"


def _tell(fileobj: BinaryIO) -> int | None:
    try:
        return fileobj.tell() if fileobj.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _rewound(fileobj: BinaryIO, head: bytes, start: int | None) -> BinaryIO:
    """The whole file, seekable, positioned at its start (``head`` was already read)."""
    if start is not None:
        fileobj.seek(start)
        if start == 0:
            return fileobj
        # zipfile seeks from the end, so a file embedded at an offset is copied out.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    if start is None:
        spool.write(head)
    shutil.copyfileobj(fileobj, spool)
    spool.seek(0)
    return spool


def _refuse_binary(head: bytes, fmt: str, declared: str | None) -> None:
    if declared and codecs.lookup(declared).name.startswith(("utf-16", "utf-32")):
        return
    kind = describe_content(head)
    if kind is None:
        return
    label = {"json": "a JSON", "jsonl": "a JSON Lines", "linkedin": "a LinkedIn Shares.csv"}
    hint = ""
    if kind == "a ZIP archive":
        hint = " Choose the xlsx format for an Excel workbook, or txt for a ZIP of .txt files."
    raise ImportFileError(
        f"The file does not look like {label.get(fmt, 'a CSV')} file: it starts like {kind}.{hint}"
    )


def open_rows(
    fileobj: BinaryIO, fmt: str, encoding: str | None = None, *, sheet: str | None = None
) -> tuple[list[str], Iterator[RawRow]]:
    """The column names of a file and a streaming iterator over its rows.

    ``fmt`` is "csv" (or "tsv"), "json", "jsonl", "linkedin", "xlsx", "txt" or "auto". A
    declared ``encoding`` wins over detection (text formats only); ``sheet`` names the
    sheet of a workbook (default: the first). Whole-file problems raise
    ``ImportFileError`` (here, or from the iterator if found later, e.g. a broken CSV
    quote); rows that cannot be read come out as ``RawRow`` with ``error`` set, which
    ``normalize_row`` raises as ``RowError``.

    - "linkedin": LinkedIn's Shares.csv. Rows have the file's columns plus ``share_urn``
      (the post's URN decoded from ShareLink, e.g. ``urn:li:share:7345…``), and
      ShareCommentary with LinkedIn's stray quotes around line breaks removed (see
      ``linkedin.repair_text``). ``detect_mapping`` maps it as ``LINKEDIN_MAPPING``.
    - "xlsx": see ``spreadsheet.open_xlsx``; "txt": a ZIP of .txt files, see
      ``textfiles.open_text_zip``. Both need the whole file: an unseekable upload is copied
      to a temporary file first. Both refuse ZIP bombs before decompressing anything.
    - "csv", "json", "jsonl", "linkedin" refuse binary content (a ZIP, an image, NUL-laden
      bytes without a UTF-16 BOM) with a message saying what the file looks like.
    """
    start = _tell(fileobj)
    head = _read_head(fileobj)
    fmt = (fmt or "auto").lower()
    declared = _check_encoding(encoding) if encoding else None
    if not head:
        raise ImportFileError("The file is empty.")
    if fmt == "auto":
        fmt = sniff_format("", head)
        if fmt in ("xlsx", "txt"):
            source = _rewound(fileobj, head, start)
            fmt = _zip_format(source)
            return _open_zip_format(source, fmt, sheet)
    if fmt in ("xlsx", "txt"):
        return _open_zip_format(_rewound(fileobj, head, start), fmt, sheet)
    if fmt not in FORMATS:
        raise ImportFileError(
            f"Unknown file format '{fmt}'. Choose {', '.join(FORMATS[:-1])} or {FORMATS[-1]}."
        )
    _refuse_binary(head, fmt, declared)
    chosen = declared or detect_encoding(head)
    if fmt in ("csv", "tsv"):
        return _open_csv(head, fileobj, chosen)
    if fmt == "linkedin":
        return _open_linkedin(head, fileobj, chosen)
    if fmt == "jsonl":
        return _open_jsonl(head, fileobj, chosen)
    return _open_json(head, fileobj, chosen)


def _zip_format(source: BinaryIO) -> str:
    try:
        with zipfile.ZipFile(source) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        names = set()
    source.seek(0)
    return "xlsx" if "xl/workbook.xml" in names else "txt"


def _open_zip_format(
    source: BinaryIO, fmt: str, sheet: str | None
) -> tuple[list[str], Iterator[RawRow]]:
    if fmt == "xlsx":
        return open_xlsx(source, sheet=sheet)
    return open_text_zip(source)


def _text_stream(head: bytes, fileobj: BinaryIO, encoding: str) -> io.TextIOWrapper:
    raw = io.BufferedReader(_Prepended(head, fileobj))
    return io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")


def _undecodable_message(encoding: str) -> str:
    return (
        f"the row contains bytes that are not valid {_describe(encoding)} text "
        "(save the file as UTF-8, or choose its encoding)"
    )


# --- CSV ---------------------------------------------------------------------------------


def _sniff_delimiter(sample: str, truncated: bool) -> str:
    lines = sample.lstrip("\ufeff").splitlines()
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in CSV_DELIMITERS}
    if not any(counts.values()):
        return _SINGLE_COLUMN_DELIMITER
    if len(lines) > 1 and truncated:
        # The sample ends mid-row; a half row misleads the sniffer.
        sample = "\n".join(lines[:-1])
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    # The header row must contain the delimiter; it rarely holds quoted text, so it is the
    # safest check on a sniffer fooled by commas in long posts.
    if sniffed and counts.get(sniffed):
        return sniffed
    return max(CSV_DELIMITERS, key=lambda d: counts[d])


def _column_names(header: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(header, start=1):
        name = raw.replace("\ufeff", "").strip() or f"column_{position}"
        unique, copy = name, 2
        while unique in seen:
            unique, copy = f"{name}_{copy}", copy + 1
        seen.add(unique)
        names.append(unique)
    return names


def _open_csv(head: bytes, fileobj: BinaryIO, encoding: str) -> tuple[list[str], Iterator[RawRow]]:
    delimiter = _sniff_delimiter(_head_text(head, encoding), truncated=len(head) >= HEAD_BYTES)
    stream = _text_stream(head, fileobj, encoding)
    # strict: an unclosed quote fails loudly instead of swallowing the rest of the file
    # into one cell; other strict errors only cost their own row (the reader recovers).
    reader = csv.reader(stream, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFileError(f"The file's header row could not be read as CSV: {exc}.") from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError(
            "The first row of the CSV file is empty; it must hold the column names."
        )
    if _UNDECODABLE.search("".join(header)):
        raise ImportFileError(
            f"The header row contains bytes that are not valid {_describe(encoding)} text. "
            "Save the file as UTF-8, or choose its encoding."
        )
    columns = _column_names(header)
    return columns, _csv_rows(reader, columns, encoding)


def _csv_rows(reader, columns: list[str], encoding: str) -> Iterator[RawRow]:
    # Rows are numbered by record, as a spreadsheet shows them: a cell spanning several
    # lines is still one row. The header is row 1.
    number = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            if "unexpected end of data" in str(exc):
                raise ImportFileError(
                    f"Row {number} opens a quoted cell that is never closed, so the rest of "
                    "the file would be read as one cell. Check the quotes in that row."
                ) from None
            yield RawRow(number, {}, error=f"the row could not be read as CSV ({exc})")
            continue
        number += 1
        if not values:
            continue
        if any(_UNDECODABLE.search(value) for value in values):
            yield RawRow(number, {}, error=_undecodable_message(encoding))
            continue
        extra = values[len(columns) :]
        if any(value.strip() for value in extra):
            yield RawRow(
                number,
                {},
                error=(
                    f"the row has {len(values)} values but the header has {len(columns)} "
                    "columns (a quote or a delimiter may be misplaced)"
                ),
            )
            continue
        fields: dict[str, object] = dict.fromkeys(columns)
        fields.update(zip(columns, values, strict=False))
        yield RawRow(number, fields)


# --- LinkedIn Shares.csv ----------------------------------------------------------------


def _open_linkedin(
    head: bytes, fileobj: BinaryIO, encoding: str
) -> tuple[list[str], Iterator[RawRow]]:
    columns, rows = _open_csv(head, fileobj, encoding)
    missing = [name for name in linkedin.REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(
            "This does not look like LinkedIn's Shares.csv: it has no "
            f"{', '.join(missing)} column. Its columns are: {', '.join(columns)}. "
            "Choose the csv format for other files."
        )
    text_column = "ShareCommentary"

    def repaired() -> Iterator[RawRow]:
        for row in rows:
            if not row.error:
                row.fields[text_column] = linkedin.repair_text(row.fields.get(text_column))
                row.fields[linkedin.SHARE_URN_COLUMN] = linkedin.share_urn(
                    row.fields.get("ShareLink")
                )
            yield row

    extra = [] if linkedin.SHARE_URN_COLUMN in columns else [linkedin.SHARE_URN_COLUMN]
    return columns + extra, repaired()


# --- JSON Lines and JSON -----------------------------------------------------------------


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _union_keys(items: list[object]) -> list[str]:
    keys: dict[str, None] = {}
    for item in items[:COLUMN_SCAN_ROWS]:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))
    return list(keys)


def _parse_line(line: str, number: int, encoding: str) -> RawRow:
    if _UNDECODABLE.search(line):
        return RawRow(number, {}, error=f"line {number}: " + _undecodable_message(encoding))
    try:
        value = fastjson.loads(line)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return RawRow(number, {}, error=f"line {number} is not valid JSON ({reason})")
    if not isinstance(value, dict):
        return RawRow(number, {}, error=f"line {number} is {_json_type(value)}, not a JSON object")
    return RawRow(number, value)


def _open_jsonl(
    head: bytes, fileobj: BinaryIO, encoding: str
) -> tuple[list[str], Iterator[RawRow]]:
    lines = enumerate(_text_stream(head, fileobj, encoding), start=1)
    leading: list[RawRow] = []
    for number, line in lines:
        if not line.strip():
            continue
        row = _parse_line(line.strip().lstrip("\ufeff"), number, encoding)
        if not leading and row.error:
            # A bad first line means this is probably not a JSON Lines file at all.
            raise ImportFileError(
                f"This does not look like a JSON Lines file (one JSON object per line): "
                f"{row.error}."
            )
        leading.append(row)
        if len(leading) >= COLUMN_SCAN_ROWS:
            break
    if not leading:
        raise ImportFileError("The file has no rows.")
    columns = _union_keys([row.fields for row in leading if not row.error])

    def rows() -> Iterator[RawRow]:
        yield from leading
        for number, line in lines:
            if line.strip():
                yield _parse_line(line.strip(), number, encoding)

    return columns, rows()


def _open_json(head: bytes, fileobj: BinaryIO, encoding: str) -> tuple[list[str], Iterator[RawRow]]:
    # The whole array is loaded: acceptable for upload-sized files. Very large corpora
    # should come as JSON Lines, which streams.
    raw = io.BufferedReader(_Prepended(head, fileobj))
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict").read()
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not valid {_describe(encoding)} text ({exc.reason}). "
            "Save it as UTF-8, or choose its encoding."
        ) from None
    try:
        data = fastjson.loads(text)
    except json.JSONDecodeError as exc:
        hint = (
            " It looks like JSON Lines (one object per line): choose the jsonl format."
            if exc.msg == "Extra data"
            else ""
        )
        raise ImportFileError(
            f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.{hint}"
        ) from None
    items = _items(data)
    columns = _union_keys(items)

    def rows() -> Iterator[RawRow]:
        for number, item in enumerate(items, start=1):
            if isinstance(item, dict):
                yield RawRow(number, item)
            else:
                yield RawRow(
                    number, {}, error=f"item {number} is {_json_type(item)}, not a JSON object"
                )

    return columns, rows()


def _items(data: object) -> list[object]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        # Many APIs wrap the list: {"data": [...]} or {"meta": {...}, "posts": [...]}.
        lists = [
            value
            for value in data.values()
            if isinstance(value, list) and value and isinstance(value[0], dict)
        ]
        if len(lists) == 1:
            return lists[0]
    raise ImportFileError(
        'The JSON file must hold a list of posts, like [{"text": "..."}, ...]. '
        "For one post per line, use the JSON Lines (jsonl) format."
    )
